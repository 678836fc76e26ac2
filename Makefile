# DOVE's front door. `make test` is what CI runs (see .ci/run); `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
# Which tests $(BUILD) holds (CMakeLists.txt, DOVE_TESTS): all by default; `make test` builds
# only the system tests there, the unit, fuzz-replay and API tests being compiled and run once,
# in the sanitizer tree.
TESTS ?= all
# The release tree: -O2 with line tables only (-g1: symbolized backtraces, file and line in gdb
# and perf; no variables). Full -g made the compiles ~40 % slower (gcc's variable tracking);
# CMAKE_FLAGS='-DCMAKE_BUILD_TYPE=Debug' or a -DCMAKE_CXX_FLAGS_RELWITHDEBINFO of your own
# for a debugging session.
RELEASE_FLAGS = -DDOVE_WERROR=ON -DDOVE_TESTS=$(TESTS) \
  '-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG' '-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG'
# ccache (when installed): paths relative to this tree and no working directory in the hash, so
# a fresh clone elsewhere (CI) reuses what an earlier build on this machine compiled.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: help deps build deb demo test unit e2e asan asan-build asan-tests-checked lint format \
  format-check tidy fuzz clean

help:
	@echo "make demo       install packages, build, run dove-lab demo (root: 3 hosts, 2 tenants)"
	@echo "make deb        Debian packages dove-controller, dove-switch, dovectl of the release"
	@echo "                build, with systemd units, configs, man pages (into $(BUILD)/deb/;"
	@echo "                docs/packages.md)"
	@echo "make test       install packages, format-check, build (gcc, warnings are errors) and run"
	@echo "                the end-to-end, etcd and tools tests (ctest, in the background: its"
	@echo "                output is printed at the end), tidy, then build and run the unit,"
	@echo "                fuzz-replay and API tests under ASan+UBSan (clang); each test is"
	@echo "                compiled and run once; ends with a table of the time each phase took"
	@echo "                and both ctest summaries"
	@echo "make build      configure and build into $(BUILD)/ (TESTS=all|unit|system: which tests)"
	@echo "make unit       run the unit, fuzz-replay and API tests of $(BUILD)/ (no root needed)"
	@echo "make e2e        run the end-to-end tests (root: network namespaces)"
	@echo "make asan       build what the unit, fuzz-replay and API tests need into $(ASAN_BUILD)/"
	@echo "                with clang, ASan+UBSan (-O0 -g1) and run them"
	@echo "make lint       format-check and tidy"
	@echo "make format-check  clang-format --dry-run over every source (fails on a difference)"
	@echo "make tidy       clang-tidy over src/ (warnings are errors); TUs found clean before"
	@echo "                with the same preprocessed source, flags, config and clang-tidy are"
	@echo "                not checked again (scripts/tidy-cached; TIDY_CACHE=off for a full pass)"
	@echo "make format     rewrite sources with clang-format"
	@echo "make fuzz       build the libFuzzer targets with clang and run each FUZZ_SECONDS (default 60)"
	@echo "make deps       install the Debian packages the project needs (root)"

# `make test` installs packages once, as its first phase; the phases it runs after pass
# DOVE_DEPS_DONE=1 so that their own `deps` prerequisite does not check again.
deps:
	@$(if $(DOVE_DEPS_DONE),:,scripts/install-deps)

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(RELEASE_FLAGS) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Debian packages of the release tree (packaging/make-debs, docs/packages.md).
deb: build
	@packaging/make-debs $(BUILD) $(BUILD)/deb

# README's main command: the multi-host demo in network namespaces (root).
demo: build
	@build/src/lab/dove-lab demo

e2e: build
	@ctest --test-dir $(BUILD) --output-on-failure -L e2e

# Cheap checks first; each phase is timed (scripts/timed). Each test is compiled once: the
# release tree ($(BUILD), gcc -O2) holds the system tests (end-to-end, etcd, tools) and the
# benchmarks, the sanitizer tree ($(ASAN_BUILD), clang, ASan+UBSan) the unit, fuzz-replay and
# API tests; compiling those twice put a cold CI (empty ccache and tidy cache) at 60 minutes.
# The ctest run of $(BUILD) mostly waits (the end-to-end tests: ~100 s of wall time for ~12 s
# of CPU), so it runs in the background, its output kept, while clang-tidy and the sanitizer
# tree compile under nice; at the end its output is printed, then the table of phase times,
# then both ctest summaries again, so that they close the output.
PHASES = $(BUILD)/phase-times
TIMED = scripts/timed $(PHASES)
UNIT_LABELS = unit|fuzz-replay|api
test:
	@scripts/timed --reset $(PHASES)
	@$(TIMED) deps scripts/install-deps
	@$(TIMED) format-check $(MAKE) --no-print-directory DOVE_DEPS_DONE=1 format-check
	@$(TIMED) build $(MAKE) --no-print-directory DOVE_DEPS_DONE=1 TESTS=system build
	@scripts/timed --background $(PHASES) ctest $(BUILD)/ctest.log \
	  ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(TIMED) tidy nice -n 10 $(TIDY)
	@$(TIMED) asan-build nice -n 10 $(MAKE) --no-print-directory DOVE_DEPS_DONE=1 asan-build
	@$(TIMED) asan-tests $(MAKE) --no-print-directory asan-tests-checked
	@scripts/timed --finish $(PHASES) $(BUILD)/ctest.log $(ASAN_BUILD)/ctest.log

unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L '$(UNIT_LABELS)'

# The sanitizer tree: clang (at -O0 with the sanitizers it compiled the same objects in ~30 %
# less CPU time than gcc, and its warnings add to gcc's in $(BUILD)), ASan+UBSan, only the unit, fuzz-replay and API tests
# (DOVE_TESTS=unit) and only the targets they need (CMake target unit-api-tests), at -O0 with
# line tables only (-g1: enough for the sanitizers' symbolized reports; full -g costs about a
# sixth more compile time, -O1 nearly doubles it).
ASAN_FLAGS = -DDOVE_WERROR=ON -DDOVE_SANITIZE=ON -DDOVE_TESTS=unit -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
asan: asan-build asan-tests-checked

# A tree configured by an older Makefile with another compiler is started afresh (CMake cannot
# switch a tree's compiler in place).
asan-build: deps
	@if [[ -f $(ASAN_BUILD)/CMakeCache.txt ]] && \
	   ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' $(ASAN_BUILD)/CMakeCache.txt; then \
	  rm -rf $(ASAN_BUILD); fi
	@cmake -S . -B $(ASAN_BUILD) -G Ninja $(ASAN_FLAGS) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit-api-tests

# Runs every test of the sanitizer tree (it holds only the unit, fuzz-replay and API tests), its
# output also to $(ASAN_BUILD)/ctest.log for `make test`'s closing summary. First: every test
# binary was built (gtest_discover_tests registers a placeholder X_NOT_BUILT for a binary
# missing from the CMake target unit-api-tests: dove_test_needs).
asan-tests-checked:
	@missing=$$(ctest --test-dir $(ASAN_BUILD) -N | grep -o '[A-Za-z0-9_.]*_NOT_BUILT' || true); \
	 [[ -z "$$missing" ]] || { echo "asan: test binaries not built in $(ASAN_BUILD): $$missing" \
	   "(missing from the CMake target unit-api-tests: dove_test_needs)"; exit 1; }
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) 2>&1 | tee $(ASAN_BUILD)/ctest.log

SOURCES = $(shell git ls-files --cached --others --exclude-standard -- 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h')

lint: format-check tidy
	@echo "lint: clang-format and clang-tidy clean"

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

# clang-tidy over src/ with a result cache that is always correct (scripts/tidy-cached says how):
# a cold cache is a full pass. TIDY_CACHE=off forces one; TIDY_CACHE_DIR moves the cache.
TIDY_CACHE ?= on
TIDY_CACHE_DIR ?= $(if $(DOVE_TIDY_CACHE_DIR),$(DOVE_TIDY_CACHE_DIR),$(HOME)/.cache/dove-clang-tidy)
TIDY = scripts/tidy-cached -p $(BUILD) -j $(JOBS) --root $(CURDIR) --cache-dir $(TIDY_CACHE_DIR) \
  $(if $(filter off,$(TIDY_CACHE)),--no-cache) src/
tidy: build
	@$(TIDY)

format:
	@clang-format -i $(SOURCES)

fuzz: deps
	@CXX=clang++ CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DDOVE_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@failed=0; for target in $(FUZZ_BUILD)/tests/fuzz/*_fuzz; do \
	  name=$$(basename $$target); corpus=$(FUZZ_BUILD)/corpus/$$name; mkdir -p $$corpus; \
	  [[ -d tests/fuzz/corpus/$$name ]] && cp -n tests/fuzz/corpus/$$name/* $$corpus/ 2>/dev/null || true; \
	  if $$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/$$name- \
	       $$corpus >$(FUZZ_BUILD)/$$name.log 2>&1; then \
	    echo "$$name: $$(grep -E '^stat::number_of_executed_units' $(FUZZ_BUILD)/$$name.log | awk '{print $$2}') executions in $(FUZZ_SECONDS) s, no crash"; \
	  else \
	    failed=1; echo "$$name: FAILED; input saved as $(FUZZ_BUILD)/$$name-crash-*, log $(FUZZ_BUILD)/$$name.log"; \
	    grep -E 'ERROR|SUMMARY' $(FUZZ_BUILD)/$$name.log | head -5; \
	  fi; \
	done; exit $$failed

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
