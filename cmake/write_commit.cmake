# Run at every build (cmake -P, by the dove_build_commit target of src/base/CMakeLists.txt):
# writes OUT, a C++ file defining dove::base::kBuildCommit, the git commit SOURCE_DIR is checked
# out at ("+dirty" when tracked files differ from it; "unknown" outside a git checkout or
# without git). OUT is rewritten only when its text changes, so an unchanged tree recompiles
# nothing and a new commit recompiles one file.
execute_process(
  COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE commit
  RESULT_VARIABLE status
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT status EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(
    COMMAND git -C "${SOURCE_DIR}" diff --quiet HEAD --
    RESULT_VARIABLE dirty
    ERROR_QUIET)
  if(dirty EQUAL 1)
    string(APPEND commit "+dirty")
  endif()
endif()
string(CONCAT text
  "// Written by cmake/write_commit.cmake at build time; not in git.\n"
  "#include \"base/version.h\"\n\n"
  "namespace dove::base {\n\n"
  "const char* const kBuildCommit = \"${commit}\";\n\n"
  "}  // namespace dove::base\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
