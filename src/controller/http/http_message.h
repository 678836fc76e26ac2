// HttpRequest and HttpResponse: one HTTP/1.1 exchange as the controller's server sees it.
//
// An HttpRequest is what RequestParser (request_parser.h) accepted: the method, the target as
// sent and split into its percent-decoded path and its raw query, the header fields (names
// lower-cased, values without surrounding whitespace, in the order sent), the body (exactly
// Content-Length bytes) and whether the connection may carry another request. An HttpResponse
// is what a handler fills; SerializeResponse() turns it into bytes on the wire with the
// Content-Length and Connection headers the server decides. Plain values, no threads.
//
//   HttpResponse response;
//   response.status = 404;
//   response.SetContent(R"({"error":...})", "application/json");
//   std::string wire = SerializeResponse(response, /*head_only=*/false, /*close=*/true);
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dove::controller::http {

class StreamChannel;  // stream_channel.h

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;     // "GET", ...; one RFC 9110 defines
  std::string target;     // origin-form as sent: "/v1/domains?name=a%20b"
  std::string path;       // target before '?', percent-decoded: "/v1/domains"
  std::string query;      // target after '?', raw (ParseQuery decodes it); "" when none
  int version_minor = 1;  // HTTP/1.<minor>: 0 or 1
  HeaderList headers;     // names lower-case
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with keep-alive

  // The value of the first header field named `name` (any case), "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // as set; never Content-Length or Connection (the server adds those)
  std::string body;
  // Set: a streaming response. The server sends the head (SerializeStreamHead; `body` is
  // ignored), then what is pushed into the channel, until it closes or the client goes.
  std::shared_ptr<StreamChannel> stream{};

  // Replaces the header `name` (any case) or adds it.
  void SetHeader(std::string_view name, std::string value);
  std::string Header(std::string_view name) const;
  void SetContent(std::string content, std::string_view content_type);
};

// The status line's reason phrase for `status` ("Not Found"), "Unknown" for codes not listed.
std::string_view ReasonPhrase(int status);

// Status line, the response's headers, Content-Length, "Connection: close" when `close`,
// and the body unless `head_only` (a HEAD request: the length is still the body's).
std::string SerializeResponse(const HttpResponse& response, bool head_only, bool close);

// The head of a streaming response: status line, the response's headers, then
// "Transfer-Encoding: chunked" when `chunked` (HTTP/1.1; the server frames each write as a chunk),
// else "Connection: close" (HTTP/1.0: the body ends when the connection does).
std::string SerializeStreamHead(const HttpResponse& response, bool chunked);

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace dove::controller::http
