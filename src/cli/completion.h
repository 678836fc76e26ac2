// Bash completion for dovectl, generated from its own CLI11 command tree, so that it cannot
// drift from the commands and options dovectl accepts.
//
// BashCompletion(root) returns a script for bash-completion (installed as
// /usr/share/bash-completion/completions/dovectl; `source <(dovectl completion bash)` in a
// shell) that completes, at every point of a command line:
//   a command word: the subcommands of the command reached so far (`dovectl netw` -> network);
//   a word starting with '-': the options of that command and of the commands above it, whose
//     options fall through (`dovectl endpoint create --po` -> --port --port-kind);
//   the value of an option that takes one: bash's default (file names).
// Hidden subcommands (CLI11 group "", like `completion` itself) are left out. Option values
// typed as separate words are skipped when finding the command reached.
//
//   std::cout << BashCompletion(app);
// Pure; thread-safe.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/context.h"

namespace dove::cli {

std::string BashCompletion(const CLI::App& root);

// dovectl completion bash: prints BashCompletion of `root` (a hidden command).
void AddCompletionCommand(CLI::App& root, Context& ctx);

}  // namespace dove::cli
