// RestApi: the controller's HTTP API (docs/rest-api.md, api/openapi.json) on an httplib::Server.
//
// Install() registers every route of ApiRoutes() on the server, for every method httplib
// dispatches, and answers itself:
//   - 401 unauthorized when a token is set and the request lacks "Authorization: Bearer
//     <token>" (everything but GET /healthz),
//   - 405 method_not_allowed with an Allow header for a known path and a wrong method,
//   - 404 no_route for an unknown path, 413 too_large for a body over model::kMaxJsonBytes
//     (httplib refuses those itself; the error handler gives them our body),
//   - 415 unsupported_media_type, 400 invalid_json for an empty POST/PUT body, 400
//     invalid_value for an unknown or repeated query parameter or a bad force value,
//   - every Registry error with HttpStatusOf(code).
// Every error body is {"error":{"code":"...","message":"..."}}; every /v1 response carries
// X-Dove-Revision. 5xx answers are logged to stderr (one line each); nothing else is.
//
// Ownership: borrows the registry and the server; both must outlive the RestApi and every
// request the server still runs. Threading: handlers run on httplib's worker threads at once;
// the registry and HttpMetrics are thread-safe and RestApi holds no other mutable state.
//
//   RestApi api(registry.get(), token);
//   httplib::Server server;
//   api.Install(&server);
//   server.listen("127.0.0.1", 8740);
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/bearer_token.h"
#include "controller/http_metrics.h"
#include "controller/registry.h"

namespace dove::controller {

// One route the server knows: its pattern as metric label and in OpenAPI ("{ref}" for the
// path parameter) and the methods it answers (HEAD is answered wherever GET is).
struct ApiRoute {
  std::string pattern;
  std::vector<std::string> methods;
};

// The route table, in a stable order. The OpenAPI test checks the document against it.
const std::vector<ApiRoute>& ApiRoutes();

// The pattern of the route `path` falls in ("/v1/subnets/{ref}"), or "unmatched".
std::string RouteOf(std::string_view path);

// One request being answered (rest_api.cc).
struct ApiCall;

class RestApi {
 public:
  // `token` empty: no authentication.
  RestApi(Registry* registry, std::string token);

  void Install(httplib::Server* server);

  HttpMetrics& metrics() { return metrics_; }
  // Text appended to /metrics (the southbound's gauges); set before serving, cleared (nullptr)
  // after the server stopped.
  void SetExtraMetrics(std::function<std::string()> extra) { extra_metrics_ = std::move(extra); }

 private:
  void Handle(const ApiRoute& route, const httplib::Request& request, httplib::Response& response);
  void Dispatch(const ApiRoute& route, ApiCall& call);
  httplib::Server::HandlerResponse HandleRefused(const httplib::Request& request,
                                                 httplib::Response& response);
  // Runs before httplib reads a body: refuses a chunked one (411 length_required) without
  // reading it, because httplib 0.11 applies its size limit only to Content-Length bodies and
  // would hold a chunked one of any size in memory. A Content-Length over the limit is
  // httplib's to refuse: it skips the body, so the connection stays usable (413, our shape
  // via HandleRefused).
  httplib::Server::HandlerResponse HandleBeforeBody(const httplib::Request& request,
                                                    httplib::Response& response);
  bool Authorized(const httplib::Request& request) const;
  void SetRevisionHeader(std::string_view path, httplib::Response& response) const;

  Registry* registry_;
  std::string token_;
  HttpMetrics metrics_;
  std::function<std::string()> extra_metrics_;
};

}  // namespace dove::controller
