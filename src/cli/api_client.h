// ApiClient: dovectl's only way to the controller: one HTTP request per call to its REST API.
//
// An https:// URL is verified like a browser would: the server's certificate must chain to
// ca_file (PEM; empty: the system's trusted roots) and name the URL's host (DNS or IP subject
// alternative name); a failed verification is kUnreachable with a message saying which check
// failed.
// Each call sends the bearer token (when one is set), waits at most `timeout` to connect and
// as long for each read/write, and returns the decoded JSON body of a 2xx answer, or an
// ApiError saying why not:
//   kUnreachable  no connection, or it broke or timed out, or TLS failed: an untrusted or
//                 misnamed certificate, https to a plain-HTTP controller or http to an
//                 https-only one (status 0, or 426 for the last)
//   kStatus       the controller answered non-2xx; code/message come from its
//                 {"error":{"code","message"}} body (code "http_<status>" when it has none)
//   kBadResponse  a 2xx whose body is not JSON
// Paths are given already built; PathSegment() and Query() percent-encode what goes in them,
// so an id or name with odd characters cannot change the URL's shape.
// Not thread-safe (one httplib::Client per ApiClient); dovectl makes calls one at a time.
//
//   ApiClient client({.url = *ParseControllerUrl("ctl:8740"), .token = "s3cret"});
//   auto domains = client.Get("/v1/domains" + Query({{"name", "acme"}}));
//   if (!domains) return ExitCodeFor(domains.error());
//   for (const auto& d : domains->body["items"]) ...
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "cli/controller_url.h"
#include "cli/exit_code.h"

namespace httplib {
class Client;
class Result;
}  // namespace httplib

namespace dove::cli {

struct Response {
  int status = 0;
  nlohmann::json body;
};

struct ApiError {
  enum class Kind { kUnreachable, kStatus, kBadResponse };
  Kind kind = Kind::kUnreachable;
  int status = 0;
  std::string code;     // the API's error code, or "unreachable" / "bad_response"
  std::string message;  // for people
};

// The exit code dovectl ends with after `error` (see exit_code.h).
ExitCode ExitCodeFor(const ApiError& error);

// Builds an ApiError from a non-2xx status and its body text (exposed for tests).
ApiError ErrorFromStatus(int status, std::string_view body);

// Percent-encodes one path segment or query value (RFC 3986 unreserved characters stay).
std::string PercentEncode(std::string_view text);
// "/" + PercentEncode(segment).
std::string PathSegment(std::string_view segment);
// "?k=v&k2=v2" of the pairs whose value is not empty; "" when none are.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params);

class ApiClient {
 public:
  struct Options {
    ControllerUrl url;
    std::string token;  // empty: no Authorization header
    std::chrono::milliseconds timeout{10000};
    std::string ca_file{};  // https: PEM CA certificate(s) to trust; empty: the system's
  };

  explicit ApiClient(Options options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const ControllerUrl& url() const { return options_.url; }

  Expected<Response, ApiError> Get(const std::string& path);
  Expected<Response, ApiError> Post(const std::string& path, const nlohmann::json& body);
  Expected<Response, ApiError> Put(const std::string& path, const nlohmann::json& body);
  Expected<Response, ApiError> Delete(const std::string& path);

 private:
  Expected<Response, ApiError> Decode(const httplib::Result& result) const;

  Options options_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace dove::cli
