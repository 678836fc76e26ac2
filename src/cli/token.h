// ResolveToken: which bearer token dovectl sends, from --token, --token-file and DOVE_TOKEN.
//
// Precedence: the --token flag, else the --token-file file, else the DOVE_TOKEN environment
// variable, else none (an empty token: no Authorization header). A flag wins over the
// environment so that one command can override a shell's default. Surrounding whitespace
// (the newline editors add to files) is trimmed. A token file that cannot be read, or holds
// only whitespace, is an error rather than a silent "no token": the operator asked for it.
//
//   auto token = ResolveToken(std::nullopt, "/etc/dove/token", std::getenv("DOVE_TOKEN"));
#pragma once

#include <optional>
#include <string>

#include "base/expected.h"

namespace dove::cli {

Expected<std::string, std::string> ResolveToken(const std::optional<std::string>& flag,
                                                const std::optional<std::string>& file,
                                                const std::optional<std::string>& env);

}  // namespace dove::cli
