// ParseRequest: one HTTP/1.1 request (RFC 9112) from the front of a byte buffer, strictly.
//
// A pure function over bytes: no state, no I/O, thread-safe. The server calls it with what a
// connection has received so far; the answer is one of
//   - kIncomplete: more bytes may make a request (head_complete tells whether the header
//     section is in; then `needed` is the total the request takes and `request` holds the
//     head, so the server need not call again before that many bytes are in),
//   - kComplete: `request` is the first request, `consumed` its length in bytes (head and
//     body); what follows belongs to the next request,
//   - kError: the bytes are not a request this server accepts; `error_status` and `error`
//     say why and `request` holds what was parsed before the fault (method and path when the
//     request line was good, the headers when the head was). The connection must be closed
//     after the answer: its framing can no longer be trusted.
// A target in absolute-form ("http://host:port/path?query", RFC 9112 3.2.2) is served as its
// origin-form ("/path?query"); its authority, like Host, is not used.
// Refused (400 unless said): a request line other than `METHOD SP target SP HTTP/1.x`
// (extra spaces, a method RFC 9110 does not define, a target that is neither origin-form nor
// absolute-form (an empty authority included) or has
// characters RFC 3986 does not allow or a bad percent-escape; a version other than HTTP/1.0
// or HTTP/1.1 is 505), a target longer than max_target (414), a bare CR or bare LF anywhere
// in the head, obs-fold, a field name that is not a token or is followed by whitespace, a
// field value with control characters, a head over max_head_bytes or max_headers (431), no
// Host or more than one in HTTP/1.1, Content-Length repeated (even with the same value),
// empty, not all digits or overflowing 64 bits, Content-Length together with
// Transfer-Encoding, Transfer-Encoding in HTTP/1.0, repeated, or whose last coding is not
// chunked; a Content-Length over max_body (413). A valid chunked body is refused unread with
// 411 (send a Content-Length): chunk sizes are never parsed, so none can be misread. Up to
// kMaxLeadingEmptyLines CRLFs before the request line are skipped (RFC 9112 2.2).
//
//   ParseResult result = ParseRequest(buffer, ParseLimits{});
//   if (result.status == ParseStatus::kComplete) { Handle(result.request);
//                                                 buffer.erase(0, result.consumed); }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "controller/http/http_message.h"

namespace dove::controller::http {

inline constexpr size_t kMaxLeadingEmptyLines = 4;

struct ParseLimits {
  size_t max_target = 8192;                   // request-target bytes; more is 414
  size_t max_head_bytes = size_t{64} * 1024;  // request line and header section; more is 431
  size_t max_headers = 100;                   // header field lines; more is 431
  size_t max_body = size_t{1} << 20;          // Content-Length; more is 413
};

enum class ParseStatus { kIncomplete, kComplete, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  size_t consumed = 0;  // kComplete: bytes of this request
  HttpRequest request;
  int error_status = 0;  // kError: 400, 411, 413, 414, 431, 505
  std::string error;     // kError: one sentence for the client
  bool head_complete = false;
  size_t needed = 0;             // head_complete: bytes the whole request takes
  bool expect_continue = false;  // head_complete: "Expect: 100-continue" was sent
};

ParseResult ParseRequest(std::string_view bytes, const ParseLimits& limits);

}  // namespace dove::controller::http
