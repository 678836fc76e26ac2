#include "controller/http/query_string.h"

namespace dove::controller::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Expected<std::string, std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int high = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Unexpected<std::string>("'%' must be followed by two hex digits");
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Expected<QueryParams, std::string> ParseQuery(std::string_view query) {
  QueryParams params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view segment = query.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;
    const size_t equals = segment.find('=');
    auto name = PercentDecode(segment.substr(0, equals), true);
    auto value = PercentDecode(
        equals == std::string_view::npos ? std::string_view() : segment.substr(equals + 1), true);
    if (!name || !value) {
      return Unexpected<std::string>("query parameter \"" + std::string(segment.substr(0, equals)) +
                                     "\": " + (!name ? name.error() : value.error()));
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

}  // namespace dove::controller::http
