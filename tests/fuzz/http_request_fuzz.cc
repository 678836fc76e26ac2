// Fuzzes ParseRequest (src/controller/http/request_parser.h), the REST server's only reader
// of client bytes, with the default limits and with small ones. Beyond "no crash":
//   - an accepted request has consistent framing: its body is exactly its Content-Length
//     (none: empty), no Transfer-Encoding, one Host in HTTP/1.1, a known method, a path from
//     '/', lower-case token header names; consumed covers head and body and no more;
//   - no smuggling: a request's boundary does not depend on what follows it (its bytes alone
//     parse to the same request), every shorter prefix of it is incomplete (never another
//     request, never an error), and the requests of the input, written out canonically and
//     concatenated, parse back to the same requests, one by one;
//   - a refusal has a status of the documented set and a message; an incomplete head that
//     knows its length asks for more than is there.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "controller/http/query_string.h"
#include "controller/http/request_parser.h"

namespace {

using dove::controller::http::HttpRequest;
using dove::controller::http::ParseLimits;
using dove::controller::http::ParseRequest;
using dove::controller::http::ParseResult;
using dove::controller::http::ParseStatus;

void Check(bool condition) {
  if (!condition) std::abort();
}

bool Same(const HttpRequest& a, const HttpRequest& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.version_minor == b.version_minor && a.headers == b.headers && a.body == b.body &&
         a.keep_alive == b.keep_alive;
}

std::string Canonical(const HttpRequest& request) {
  std::string out = request.method + " " + request.target + " HTTP/1." +
                    std::to_string(request.version_minor) + "\r\n";
  for (const auto& [name, value] : request.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  out += request.body;
  return out;
}

void CheckAccepted(std::string_view bytes, const ParseResult& result, const ParseLimits& limits) {
  const HttpRequest& request = result.request;
  Check(result.consumed > 0 && result.consumed <= bytes.size());
  Check(result.head_complete && result.needed == result.consumed);
  Check(!request.path.empty() && request.path.front() == '/' && request.target.front() == '/');
  Check(request.method == "GET" || request.method == "HEAD" || request.method == "POST" ||
        request.method == "PUT" || request.method == "DELETE" || request.method == "PATCH" ||
        request.method == "OPTIONS" || request.method == "TRACE" || request.method == "CONNECT");
  int hosts = 0;
  int lengths = 0;
  std::string length;
  for (const auto& [name, value] : request.headers) {
    Check(!name.empty());
    for (const char c : name) Check(!(c >= 'A' && c <= 'Z') && c > ' ' && c != ':');
    for (const char c : value) Check(c != '\r' && c != '\n' && c != '\0');
    Check(name != "transfer-encoding");
    if (name == "host") ++hosts;
    if (name == "content-length") {
      ++lengths;
      length = value;
    }
  }
  Check(lengths <= 1);
  Check(request.version_minor == 0 ? hosts <= 1 : hosts == 1);
  Check(request.body.size() == (lengths == 0 ? 0 : std::stoull(length)));
  Check(request.body.size() <= limits.max_body);
  Check(bytes.substr(result.consumed - request.body.size(), request.body.size()) == request.body);
  // The boundary does not depend on the bytes after it.
  const std::string_view own = bytes.substr(0, result.consumed);
  const ParseResult alone = ParseRequest(own, limits);
  Check(alone.status == ParseStatus::kComplete && alone.consumed == result.consumed &&
        Same(alone.request, request));
  // A shorter prefix is never a request, and never refused: only incomplete. (Checked at a few
  // cuts; every cut would make the target quadratic.)
  for (const size_t cut : {size_t{0}, own.size() / 3, own.size() / 2, own.size() - 1}) {
    const ParseResult prefix = ParseRequest(own.substr(0, cut), limits);
    Check(prefix.status == ParseStatus::kIncomplete);
  }
  // The query decodes or is refused with a reason; it never crashes.
  auto query = dove::controller::http::ParseQuery(request.query);
  Check(query || !query.error().empty());
}

void Run(std::string_view bytes, const ParseLimits& limits) {
  std::vector<HttpRequest> requests;
  std::string rest(bytes);
  while (requests.size() < 8) {
    const ParseResult result = ParseRequest(rest, limits);
    if (result.status == ParseStatus::kError) {
      Check(result.error_status == 400 || result.error_status == 411 ||
            result.error_status == 413 || result.error_status == 414 ||
            result.error_status == 431 || result.error_status == 505);
      Check(!result.error.empty());
      break;
    }
    if (result.status == ParseStatus::kIncomplete) {
      if (result.head_complete) Check(result.needed > rest.size());
      break;
    }
    CheckAccepted(rest, result, limits);
    requests.push_back(result.request);
    rest.erase(0, result.consumed);
  }
  // Written out canonically and concatenated, the requests parse back one by one.
  std::string canonical;
  for (const HttpRequest& request : requests) canonical += Canonical(request);
  std::string_view left = canonical;
  // The canonical head may be longer by the space after each colon.
  ParseLimits roomier = limits;
  roomier.max_head_bytes += limits.max_headers + 2;
  for (const HttpRequest& request : requests) {
    const ParseResult again = ParseRequest(left, roomier);
    Check(again.status == ParseStatus::kComplete && Same(again.request, request));
    left.remove_prefix(again.consumed);
  }
  Check(left.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Run(bytes, ParseLimits{});
  ParseLimits small;
  small.max_target = 64;
  small.max_head_bytes = 256;
  small.max_headers = 6;
  small.max_body = 32;
  Run(bytes, small);
  return 0;
}
