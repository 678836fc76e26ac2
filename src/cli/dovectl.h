// Run: the whole of dovectl, from its arguments to its exit code (main.cc only forwards).
//
// Parses `args` (without the program name) with CLI11, runs the selected command against the
// controller, writes its output to `out` and its errors to `err`, and returns the exit code
// (exit_code.h). --help anywhere prints that command's help on `out` and returns 0; a command
// line CLI11 refuses returns 2. Global flags may come before or after the subcommand.
//
//   int code = Run({"domain", "list", "-o", "json"}, {.controller = "ctl:8740"}, out, err);
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cli/context.h"

namespace dove::cli {

// Makes `app` dovectl: its global options, every command bound to its action on `ctx`, the
// help's footers. Run uses it; tests and the completion generator walk the tree it builds.
// `ctx` must outlive `app`'s use.
void BuildApp(CLI::App& app, Context& ctx);

int Run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err);

}  // namespace dove::cli
