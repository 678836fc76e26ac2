# DOVE's front door. `make test` is what CI runs (see .ci/run); `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
# ccache (when installed): paths relative to this tree and no working directory in the hash, so
# a fresh clone elsewhere (CI) reuses what an earlier build on this machine compiled.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: help deps build demo test unit e2e asan lint format format-check tidy fuzz clean

help:
	@echo "make demo       install packages, build, run dove-lab demo (root: 3 hosts, 2 tenants)"
	@echo "make test       install packages, build (warnings are errors), lint, the unit tests"
	@echo "                under ASan+UBSan, then every test (ctest)"
	@echo "make build      configure and build into $(BUILD)/"
	@echo "make unit       run the unit, fuzz-replay and API tests (no root needed)"
	@echo "make e2e        run the end-to-end tests (root: network namespaces)"
	@echo "make asan       build into $(ASAN_BUILD)/ with ASan+UBSan and run unit, fuzz-replay and API tests"
	@echo "make lint       format-check and tidy"
	@echo "make format-check  clang-format --dry-run over every source (fails on a difference)"
	@echo "make tidy       clang-tidy over src/ (warnings are errors)"
	@echo "make format     rewrite sources with clang-format"
	@echo "make fuzz       build the libFuzzer targets with clang and run each FUZZ_SECONDS (default 60)"
	@echo "make deps       install the Debian packages the project needs (root)"

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DDOVE_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# README's main command: the multi-host demo in network namespaces (root).
demo: build
	@build/src/lab/dove-lab demo

e2e: build
	@ctest --test-dir $(BUILD) --output-on-failure -L e2e

# Lint and the sanitizer pass first, the full ctest run last: its summary closes the output.
test: build
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory asan
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L 'unit|fuzz-replay|api'

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DDOVE_WERROR=ON -DDOVE_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|fuzz-replay|api'

SOURCES = $(shell git ls-files --cached --others --exclude-standard -- 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h')

lint: format-check tidy
	@echo "lint: clang-format and clang-tidy clean"

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

tidy: build
	@run-clang-tidy -quiet -p $(BUILD) -j $(JOBS) '$(CURDIR)/src/' >$(BUILD)/clang-tidy.log 2>&1 \
	  || { grep -E 'error:|warning:' $(BUILD)/clang-tidy.log | sort -u; echo "clang-tidy failed; full log: $(BUILD)/clang-tidy.log"; exit 1; }

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
