// RestApi: the controller's HTTP API (docs/rest-api.md, api/openapi.json), served by
// http::HttpServer (http/http_server.h).
//
// Serve() answers one complete request:
//   - 401 unauthorized when a token is set and the request lacks "Authorization: Bearer
//     <token>" (everything but GET /healthz),
//   - 405 method_not_allowed with an Allow header for a known path and a wrong method,
//   - 404 no_route for an unknown path,
//   - 415 unsupported_media_type, 400 invalid_json for an empty POST/PUT body, 400
//     invalid_value for an unknown, repeated (even with the same value) or empty query
//     parameter, a bad percent-escape in the query, or a bad force value,
//   - every Registry error with HttpStatusOf(code).
// GET /v1/events is a stream (event_hub.h): 200 text/event-stream, open until the client or
// the controller ends it; 503 overloaded when the hub has its maximum of subscribers.
// GET /v1/switch-stats: the counters each connected switch last reported.
// GET /ui/ and /ui/{file}: the topology page (docs/topology-page.md), files embedded in the
// binary (ui_assets.h); like GET /healthz they need no token (they hold no data: the page asks
// for the token and sends it with every API call it makes).
// Refused() gives the shape to what the server refuses itself: 400 malformed_request (HTTP
// framing), 408 request_timeout, 411 length_required (chunked), 413/414/431 too_large, 503
// overloaded (connection cap), 505 unsupported_version; 401 instead of 411/413 when the
// token is wrong. Every error body is {"error":{"code":"...","message":"..."}}; every /v1
// response carries X-Dove-Revision. 5xx answers other than 503 are logged as warnings (one
// record each, base/log.h); every other answer at debug only (--log-level debug).
//
// Ownership: borrows the registry, which must outlive the RestApi and every request the
// server still runs. Threading: Serve and Refused run on the server's threads, several at
// once; the registry and HttpMetrics are thread-safe and RestApi holds no other mutable state.
//
//   RestApi api(registry.get(), token);
//   auto server = http::HttpServer::Bind(host, port, options,
//       [&](const auto& q, auto& r) { api.Serve(q, r); },
//       [&](const auto& q, auto m, auto& r) { api.Refused(q, m, r); });
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/bearer_token.h"
#include "controller/event_hub.h"
#include "controller/http/http_message.h"
#include "controller/http/query_string.h"
#include "controller/http_metrics.h"
#include "controller/live_traces.h"
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

  // Answers a complete request (the server's Handler).
  void Serve(const http::HttpRequest& request, http::HttpResponse& response);
  // Answers a request the server refused with response.status (the server's ErrorHandler).
  void Refused(const http::HttpRequest& request, std::string_view message,
               http::HttpResponse& response);

  HttpMetrics& metrics() { return metrics_; }
  // Adds the other parts' families to /metrics (HTTP server, events, southbound); set before
  // serving, cleared (nullptr) after the server stopped.
  void SetExtraMetrics(std::function<void(base::MetricsPage&)> extra) {
    extra_metrics_ = std::move(extra);
  }
  // Where live traces go (POST /v1/trace with live); set before serving; null: none (the
  // answer says so).
  void SetLiveTraces(LiveTraces* live) { live_traces_ = live; }
  // The hub GET /v1/events subscribes to (borrowed; nullptr: 503). Set before serving.
  void SetEvents(EventHub* events) { events_ = events; }
  // What GET /v1/switch-stats answers (nullptr: no switches report); set before serving,
  // cleared (nullptr) after the server stopped.
  void SetSwitchStats(std::function<SwitchCounters()> stats) { switch_stats_ = std::move(stats); }

 private:
  void Dispatch(const ApiRoute& route, ApiCall& call);
  bool Authorized(const http::HttpRequest& request) const;
  // GET /v1/events: a channel of the hub as the response's stream (HEAD: the head only).
  void Subscribe(ApiCall& call);
  void SetRevisionHeader(std::string_view path, http::HttpResponse& response) const;

  Registry* registry_;
  std::string token_;
  HttpMetrics metrics_;
  std::function<void(base::MetricsPage&)> extra_metrics_;
  LiveTraces* live_traces_ = nullptr;
  EventHub* events_ = nullptr;
  std::function<SwitchCounters()> switch_stats_;
};

}  // namespace dove::controller
