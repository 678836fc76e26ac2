// ParseQuery: the query component of a request target as a list of decoded name/value pairs.
//
// "a=1&b=x%20y&c" -> {("a","1"), ("b","x y"), ("c","")}; '+' decodes to a space (the form
// convention clients use), empty segments ("a=1&&b=2", a trailing '&') are skipped. A '%' not
// followed by two hex digits is an error naming the offending parameter; nothing is returned
// then. Order and repeats are kept: the caller decides whether a repeat is allowed.
// PercentDecode is the same decoding without the '+' rule, for paths. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/expected.h"

namespace dove::controller::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

Expected<QueryParams, std::string> ParseQuery(std::string_view query);

// Decodes %XX escapes; plus_is_space also maps '+' to ' '. Unexpected on a bad escape.
Expected<std::string, std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace dove::controller::http
