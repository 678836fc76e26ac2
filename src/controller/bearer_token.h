// The API token: where it comes from and how a request's Authorization header is checked.
//
// A token is any non-empty string without surrounding whitespace. It is read from a file
// (--token-file; trailing whitespace and newline stripped, so `echo secret > f` works) or taken
// from the DOVE_TOKEN environment variable. The check compares in time independent of where
// the first difference lies, so response timing does not leak the token byte by byte.
// Thread-safe (no state).
//
//   auto token = ReadTokenFile("/etc/dove/token");   // error: one sentence naming the path
//   if (!BearerMatches(request.get_header_value("Authorization"), *token)) Reply401();
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::controller {

inline constexpr const char* kTokenEnvVar = "DOVE_TOKEN";

Expected<std::string, std::string> ReadTokenFile(const std::string& path);

// `a == b` in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `authorization` is "Bearer <token>" (scheme case-insensitive, as RFC 7235 says).
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace dove::controller
