// Did you mean: the command or option closest to what was typed, for dovectl's usage errors.
//
// Suggest walks `args` (as typed, first to last) down `root`'s subcommands. At the first word
// that is neither a subcommand where one is required, nor an option of the command reached (or
// of the commands above it, whose options fall through), it names the word and, when one is
// close (edit distance at most 2, or a prefix of at least 3 letters), the nearest name:
//   "unknown command \"netwrk\"; did you mean \"network\"?"
//   "unknown option --prt of \"endpoint create\"; did you mean --port?"
// Empty when the arguments name no unknown command or option (the error is another one).
// Pure; thread-safe.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dove::cli {

std::string Suggest(const CLI::App& root, const std::vector<std::string>& args);

// The edit distance (Levenshtein: insertions, deletions, substitutions) between two words.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace dove::cli
