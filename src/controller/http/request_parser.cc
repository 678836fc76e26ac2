#include "controller/http/request_parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "controller/http/query_string.h"

namespace dove::controller::http {
namespace {

// tchar of RFC 9110 5.6.2.
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c) != 0) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

// The characters RFC 3986 allows in path and query: unreserved, sub-delims, ':', '@', '/',
// '?', and '%' (escapes are checked when decoding).
bool IsTargetChar(unsigned char c) {
  if (std::isalnum(c) != 0) return true;
  constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?%";
  return kAllowed.find(static_cast<char>(c)) != std::string_view::npos;
}

// field-vchar, SP or HTAB (RFC 9110 5.5); obs-text allowed.
bool IsFieldValueChar(unsigned char c) { return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f); }

bool IsOws(char c) { return c == ' ' || c == '\t'; }

bool IsKnownMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

enum class LineStatus { kLine, kIncomplete, kBadEnding };

// The line starting at `start`, without its CRLF; `next` is where the following one starts.
// A CR not followed by LF, or an LF not preceded by CR, is kBadEnding. kIncomplete when no LF
// is in yet (a lone CR at the very end may still be followed by its LF).
LineStatus NextLine(std::string_view bytes, size_t start, std::string_view* line, size_t* next) {
  const size_t lf = bytes.find('\n', start);
  const size_t end = lf == std::string_view::npos ? bytes.size() : lf;
  const size_t cr = bytes.find('\r', start);
  if (cr != std::string_view::npos && cr < end) {
    if (cr + 1 < bytes.size() && bytes[cr + 1] != '\n') return LineStatus::kBadEnding;
    if (cr + 1 == bytes.size()) return LineStatus::kIncomplete;
  }
  if (lf == std::string_view::npos) return LineStatus::kIncomplete;
  if (lf == start || bytes[lf - 1] != '\r') return LineStatus::kBadEnding;
  *line = bytes.substr(start, lf - 1 - start);
  *next = lf + 1;
  return LineStatus::kLine;
}

ParseResult Fail(ParseResult result, int status, std::string message) {
  result.status = ParseStatus::kError;
  result.error_status = status;
  result.error = std::move(message);
  return result;
}

// An absolute-form target ("http://" or "https://", any case) split into its authority and its
// origin-form (the path, "/" when there is none, and the query). nullopt for any other target.
struct AbsoluteForm {
  std::string_view authority;
  std::string origin;
};
std::optional<AbsoluteForm> SplitAbsoluteForm(std::string_view target) {
  size_t scheme_end = 0;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), target.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      scheme_end = scheme.size();
    }
  }
  if (scheme_end == 0) return std::nullopt;
  const std::string_view rest = target.substr(scheme_end);
  const size_t path_at = std::min(rest.find_first_of("/?"), rest.size());
  AbsoluteForm form{.authority = rest.substr(0, path_at), .origin = {}};
  if (path_at == rest.size() || rest[path_at] == '?') form.origin = "/";
  form.origin += rest.substr(path_at);
  return form;
}

// Parses "METHOD SP target SP HTTP/1.x" into result->request; "" when good, else the error
// (with *status set).
std::string ParseRequestLine(std::string_view line, const ParseLimits& limits, HttpRequest* request,
                             int* status) {
  *status = 400;
  const size_t first = line.find(' ');
  if (first == std::string_view::npos) return "the request line is not METHOD TARGET VERSION";
  const std::string_view method = line.substr(0, first);
  const size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return "the request line is not METHOD TARGET VERSION";
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  if (!IsToken(method)) return "the request method is not a token";
  if (!IsKnownMethod(method)) return "the request method is not one HTTP defines";
  request->method = std::string(method);
  if (target.size() > limits.max_target) {
    *status = 414;
    return "the request target is longer than " + std::to_string(limits.max_target) + " bytes";
  }
  // absolute-form ("http://host:port/path?query"), which RFC 9112 3.2.2 says a server must
  // accept: served as its origin-form (the authority, like Host, is not used for routing).
  const auto absolute = SplitAbsoluteForm(target);
  std::string_view served = target;
  if (absolute) served = absolute->origin;
  auto target_chars = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return IsTargetChar(static_cast<unsigned char>(c)); });
  };
  if (absolute) {
    if (absolute->authority.empty()) return "the absolute-form request target has no authority";
    // An IP literal's brackets are allowed in the authority only.
    const bool authority_ok =
        std::all_of(absolute->authority.begin(), absolute->authority.end(), [](char c) {
          return c == '[' || c == ']' || (IsTargetChar(static_cast<unsigned char>(c)) && c != '/');
        });
    if (!authority_ok) return "the request target has a character that must be percent-encoded";
  }
  if (!target_chars(served)) {
    return "the request target has a character that must be percent-encoded";
  }
  if (served.empty() || served.front() != '/') {
    return "the request target must be a path starting with '/' (origin-form) or an "
           "absolute http URI";
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      std::isdigit(static_cast<unsigned char>(version[5])) == 0 || version[6] != '.' ||
      std::isdigit(static_cast<unsigned char>(version[7])) == 0) {
    return "the request line's version is not HTTP/1.1";
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    *status = 505;
    return "only HTTP/1.1 (and 1.0) is served";
  }
  request->version_minor = version[7] - '0';
  request->target = std::string(served);
  const size_t question = served.find('?');
  auto path = PercentDecode(served.substr(0, question), false);
  if (!path) return "the request path has a bad escape: " + path.error();
  request->path = std::move(*path);
  if (question != std::string_view::npos) request->query = std::string(served.substr(question + 1));
  return "";
}

// Checks the framing headers of a complete head and sets keep_alive; "" when good.
std::string CheckHead(const ParseLimits& limits, HttpRequest* request, int* status,
                      uint64_t* content_length, bool* expect_continue) {
  *status = 400;
  size_t hosts = 0;
  size_t lengths = 0;
  size_t encodings = 0;
  std::string_view length_text;
  std::string_view encoding_text;
  bool close = false;
  bool keep_alive = false;
  for (const auto& [name, value] : request->headers) {
    if (name == "host") {
      ++hosts;
    } else if (name == "content-length") {
      ++lengths;
      length_text = value;
    } else if (name == "transfer-encoding") {
      ++encodings;
      encoding_text = value;
    } else if (name == "connection") {
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view option = TrimOws(rest.substr(0, comma));
        if (EqualsIgnoreCase(option, "close")) close = true;
        if (EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (name == "expect") {
      if (EqualsIgnoreCase(value, "100-continue")) *expect_continue = true;
    }
  }
  if (request->version_minor == 1 && hosts != 1) {
    return hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "Host is given more than once";
  }
  if (hosts > 1) return "Host is given more than once";
  request->keep_alive = request->version_minor == 1 ? !close : (keep_alive && !close);
  if (lengths > 1) return "Content-Length is given more than once";
  if (encodings > 0 && lengths > 0) {
    return "Content-Length and Transfer-Encoding together are ambiguous framing";
  }
  if (encodings > 0) {
    if (request->version_minor == 0) return "Transfer-Encoding is not allowed in HTTP/1.0";
    if (encodings > 1) return "Transfer-Encoding is given more than once";
    const size_t comma = encoding_text.rfind(',');
    const std::string_view last =
        TrimOws(comma == std::string_view::npos ? encoding_text : encoding_text.substr(comma + 1));
    if (!EqualsIgnoreCase(last, "chunked")) {
      return "Transfer-Encoding must end in chunked to frame a request";
    }
    *status = 411;
    return "send the body with a Content-Length header; chunked bodies are not accepted";
  }
  *content_length = 0;
  if (lengths == 1) {
    if (length_text.empty() || !std::all_of(length_text.begin(), length_text.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return "Content-Length must be a non-negative decimal number";
    }
    const auto [end, error] = std::from_chars(
        length_text.data(), length_text.data() + length_text.size(), *content_length);
    if (error != std::errc() || end != length_text.data() + length_text.size()) {
      return "Content-Length is too large to be a length";
    }
    if (*content_length > limits.max_body) {
      *status = 413;
      return "the request body is larger than " + std::to_string(limits.max_body) + " bytes";
    }
  }
  return "";
}

}  // namespace

ParseResult ParseRequest(std::string_view bytes, const ParseLimits& limits) {
  ParseResult result;
  size_t pos = 0;
  for (size_t skipped = 0; skipped < kMaxLeadingEmptyLines; ++skipped) {
    if (bytes.substr(pos, 2) == "\r\n") {
      pos += 2;
    } else {
      break;
    }
  }
  if (bytes.size() - pos == 1 && bytes[pos] == '\r') return result;
  const size_t head_start = pos;
  std::string_view line;
  size_t next = 0;
  switch (NextLine(bytes, pos, &line, &next)) {
    case LineStatus::kBadEnding:
      return Fail(std::move(result), 400, "the request line must end in CRLF (bare CR or LF)");
    case LineStatus::kIncomplete: {
      // A method is a token: anything else before the first space (a TLS hello, binary
      // junk) is refused without waiting for a line end that may never come.
      const std::string_view partial = bytes.substr(pos, bytes.find(' ', pos) - pos);
      if (!std::all_of(partial.begin(), partial.end(),
                       [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); })) {
        return Fail(std::move(result), 400, "the request method is not a token");
      }
      if (bytes.size() - pos > limits.max_target + 32) {
        return Fail(
            std::move(result), 414,
            "the request target is longer than " + std::to_string(limits.max_target) + " bytes");
      }
      return result;
    }
    case LineStatus::kLine:
      break;
  }
  int status = 400;
  if (std::string error = ParseRequestLine(line, limits, &result.request, &status);
      !error.empty()) {
    return Fail(std::move(result), status, std::move(error));
  }
  pos = next;
  // The header section, up to the empty line.
  // The limit counts the whole head with its final CRLF, complete or still arriving, so that a
  // head is refused the same whichever way its bytes are cut.
  while (true) {
    const LineStatus found = NextLine(bytes, pos, &line, &next);
    if (found == LineStatus::kBadEnding) {
      return Fail(std::move(result), 400, "a header line must end in CRLF (bare CR or LF)");
    }
    if (found == LineStatus::kIncomplete) {
      if (bytes.size() - head_start > limits.max_head_bytes) {
        return Fail(
            std::move(result), 431,
            "the request head is larger than " + std::to_string(limits.max_head_bytes) + " bytes");
      }
      // A fold can be refused before its line ends.
      if (pos < bytes.size() && IsOws(bytes[pos])) {
        return Fail(std::move(result), 400, "obs-fold (a header line starting with whitespace)");
      }
      return result;
    }
    if (next - head_start > limits.max_head_bytes) {
      return Fail(
          std::move(result), 431,
          "the request head is larger than " + std::to_string(limits.max_head_bytes) + " bytes");
    }
    pos = next;
    if (line.empty()) break;
    if (IsOws(line.front())) {
      return Fail(std::move(result), 400, "obs-fold (a header line starting with whitespace)");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(std::move(result), 400, "a header has no ':'");
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) {
      return Fail(std::move(result), 400,
                  "a header name is not a token (no whitespace before the ':')");
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(),
                     [](char c) { return IsFieldValueChar(static_cast<unsigned char>(c)); })) {
      return Fail(std::move(result), 400, "a header value has a control character");
    }
    if (result.request.headers.size() >= limits.max_headers) {
      return Fail(std::move(result), 431,
                  "the request has more than " + std::to_string(limits.max_headers) + " headers");
    }
    result.request.headers.emplace_back(ToLower(name), std::string(value));
  }
  uint64_t content_length = 0;
  if (std::string error =
          CheckHead(limits, &result.request, &status, &content_length, &result.expect_continue);
      !error.empty()) {
    return Fail(std::move(result), status, std::move(error));
  }
  result.head_complete = true;
  result.needed = pos + content_length;
  if (bytes.size() < result.needed) return result;
  result.request.body = std::string(bytes.substr(pos, content_length));
  result.consumed = result.needed;
  result.status = ParseStatus::kComplete;
  return result;
}

}  // namespace dove::controller::http
