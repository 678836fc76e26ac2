#include "controller/rest_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "base/log.h"
#include "base/process_metrics.h"
#include "base/version.h"
#include "controller/trace_api.h"
#include "controller/ui_assets.h"
#include "model/json.h"

namespace dove::controller {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

constexpr const char* kJsonType = "application/json";

// The kinds, by collection name, with the query parameters their List takes.
struct KindSpec {
  std::string_view collection;
  std::vector<std::string_view> filters;
};

const std::vector<KindSpec>& Kinds() {
  static const auto* const kinds = new std::vector<KindSpec>{
      {"domains", {"name"}},
      {"networks", {"domain", "name"}},
      {"subnets", {"domain", "network"}},
      {"endpoints", {"domain", "network", "switch", "name", "label"}},
      {"switches", {"name"}},
      {"policies", {"domain"}},
  };
  return *kinds;
}

const KindSpec* FindKind(std::string_view collection) {
  for (const KindSpec& kind : Kinds()) {
    if (kind.collection == collection) return &kind;
  }
  return nullptr;
}

// Calls f(std::type_identity<T>{}) with the message type of `collection`.
template <typename F>
void ForKind(std::string_view collection, F&& f) {
  if (collection == "domains") {
    f(std::type_identity<v1::Domain>{});
  } else if (collection == "networks") {
    f(std::type_identity<v1::Network>{});
  } else if (collection == "subnets") {
    f(std::type_identity<v1::Subnet>{});
  } else if (collection == "endpoints") {
    f(std::type_identity<v1::Endpoint>{});
  } else if (collection == "switches") {
    f(std::type_identity<v1::Switch>{});
  } else if (collection == "policies") {
    f(std::type_identity<v1::Policy>{});
  }
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  const json body = {{"error", {{"code", code}, {"message", message}}}};
  // A message may quote client bytes that are not UTF-8; replace them rather than throw.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SetError(HttpResponse& response, int status, std::string_view code, std::string_view message) {
  response.status = status;
  response.SetContent(ErrorBody(code, message), kJsonType);
}

void SetModelError(HttpResponse& response, const ModelError& error) {
  SetError(response, HttpStatusOf(error.code), error.code, error.message);
}

bool IsGet(std::string_view method) { return method == "GET" || method == "HEAD"; }

// Routes answered without the token: they hold no data.
bool IsPublic(std::string_view pattern, std::string_view method) {
  return IsGet(method) && (pattern == "/healthz" || pattern == "/ui/" || pattern == "/ui/{file}");
}

std::string Quoted(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

struct ApiCall {
  const HttpRequest& request;
  HttpResponse& response;
  std::string ref;
  http::QueryParams params;
};

namespace {

// Refuses query parameters `allowed` does not list, and any given twice.
bool CheckQuery(ApiCall& call, const std::vector<std::string_view>& allowed) {
  for (const auto& [name, value] : call.params) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string known;
      for (const auto& each : allowed) known += (known.empty() ? "" : ", ") + std::string(each);
      SetError(call.response, 400, "invalid_value",
               "unknown query parameter " + Quoted(name) +
                   (known.empty() ? std::string("; this operation takes none")
                                  : "; this operation takes: " + known));
      return false;
    }
    if (value.empty()) {
      SetError(call.response, 400, "invalid_value",
               "query parameter " + Quoted(name) +
                   " is empty; leave it out to mean \"any\", or give a value");
      return false;
    }
    const std::string& key = name;
    if (std::count_if(call.params.begin(), call.params.end(),
                      [&key](const auto& param) { return param.first == key; }) > 1) {
      SetError(call.response, 400, "invalid_value",
               "query parameter " + Quoted(name) + " is given more than once");
      return false;
    }
  }
  return true;
}

// A body must be JSON (a missing Content-Type is taken as JSON) and not empty.
bool CheckBody(ApiCall& call) {
  const std::string type = call.request.Header("Content-Type");
  if (!type.empty()) {
    std::string media = type.substr(0, type.find(';'));
    while (!media.empty() && std::isspace(static_cast<unsigned char>(media.back())) != 0) {
      media.pop_back();
    }
    size_t start = 0;
    while (start < media.size() && std::isspace(static_cast<unsigned char>(media[start])) != 0) {
      ++start;
    }
    media.erase(0, start);
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (media != kJsonType) {
      SetError(call.response, 415, "unsupported_media_type",
               "the request body must be application/json, not " + Quoted(type));
      return false;
    }
  }
  if (call.request.body.empty()) {
    SetError(call.response, 400, "invalid_json",
             "the request body is empty; send the object as JSON");
    return false;
  }
  return true;
}

template <typename T>
void ReplyObject(ApiCall& call, int status, const T& object) {
  auto text = model::ToJson(object);
  if (!text) {
    SetModelError(call.response, text.error());
    return;
  }
  call.response.status = status;
  call.response.SetContent(*text, kJsonType);
}

template <typename T>
void ListObjects(Registry& registry, const KindSpec& kind, ApiCall& call) {
  if (!CheckQuery(call, kind.filters)) return;
  ListFilter filter;
  for (const auto& [name, value] : call.params) {
    if (name == "domain") {
      filter.domain = value;
    } else if (name == "network") {
      filter.network = value;
    } else if (name == "switch") {
      filter.switch_name = value;
    } else if (name == "name") {
      filter.name = value;
    } else if (name == "label") {
      filter.label = value;
    }
  }
  auto items = registry.List<T>(filter);
  if (!items) {
    SetModelError(call.response, items.error());
    return;
  }
  std::string body = "{\"items\":[";
  bool first = true;
  for (const T& item : *items) {
    auto text = model::ToJson(item);
    if (!text) {
      SetModelError(call.response, text.error());
      return;
    }
    if (!first) body += ',';
    first = false;
    body += *text;
  }
  body += "],\"revision\":" + std::to_string(registry.Revision()) + "}";
  call.response.status = 200;
  call.response.SetContent(body, kJsonType);
}

template <typename T>
void CreateObject(Registry& registry, const KindSpec& kind, ApiCall& call) {
  // The body first: a form body would otherwise read as query parameters.
  if (!CheckBody(call) || !CheckQuery(call, {})) return;
  auto object = model::FromJson<T>(call.request.body);
  if (!object) {
    SetModelError(call.response, object.error());
    return;
  }
  auto created = registry.Create<T>(std::move(*object));
  if (!created) {
    SetModelError(call.response, created.error());
    return;
  }
  call.response.SetHeader("Location", "/v1/" + std::string(kind.collection) + "/" + created->id());
  ReplyObject(call, 201, *created);
}

// POST /v1/trace: a v1::TraceRequest in, the v1::TraceResult out (trace_api.h).
void Trace(const Registry& registry, LiveTraces* live, ApiCall& call) {
  if (!CheckBody(call) || !CheckQuery(call, {})) return;
  auto request = model::FromJson<v1::TraceRequest>(call.request.body);
  if (!request) {
    SetModelError(call.response, request.error());
    return;
  }
  auto result = RunTrace(registry, *request, live);
  if (!result) {
    SetModelError(call.response, result.error());
    return;
  }
  ReplyObject(call, 200, *result);
}

template <typename T>
void GetObject(Registry& registry, ApiCall& call) {
  if (!CheckQuery(call, {})) return;
  auto object = registry.Get<T>(call.ref);
  if (!object) {
    SetModelError(call.response, object.error());
    return;
  }
  ReplyObject(call, 200, *object);
}

template <typename T>
void ReplaceObject(Registry& registry, ApiCall& call) {
  // The body first: a form body would otherwise read as query parameters.
  if (!CheckBody(call) || !CheckQuery(call, {})) return;
  auto object = model::FromJson<T>(call.request.body);
  if (!object) {
    SetModelError(call.response, object.error());
    return;
  }
  auto replaced = registry.Replace<T>(call.ref, std::move(*object));
  if (!replaced) {
    SetModelError(call.response, replaced.error());
    return;
  }
  ReplyObject(call, 200, *replaced);
}

template <typename T>
void DeleteObject(Registry& registry, ApiCall& call) {
  if (!CheckQuery(call, {"force"})) return;
  bool force = false;
  const auto given = std::find_if(call.params.begin(), call.params.end(),
                                  [](const auto& param) { return param.first == "force"; });
  if (given != call.params.end()) {
    const std::string& value = given->second;
    if (value == "true") {
      force = true;
    } else if (value != "false") {
      SetError(call.response, 400, "invalid_value",
               "query parameter force must be true or false, not " + Quoted(value));
      return;
    }
  }
  auto deleted = registry.Delete<T>(call.ref, force);
  if (!deleted) {
    SetModelError(call.response, deleted.error());
    return;
  }
  const json body = {{"deleted", deleted->objects_deleted}, {"revision", deleted->revision}};
  call.response.status = 200;
  call.response.SetContent(body.dump(), kJsonType);
}

std::string AllowHeader(const ApiRoute& route) {
  std::string allow;
  for (const auto& method : route.methods) {
    allow += (allow.empty() ? "" : ", ") + method;
    if (method == "GET") allow += ", HEAD";
  }
  return allow;
}

bool Allows(const ApiRoute& route, std::string_view method) {
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  return std::find(route.methods.begin(), route.methods.end(), wanted) != route.methods.end();
}

const ApiRoute* FindRoute(std::string_view pattern) {
  for (const ApiRoute& route : ApiRoutes()) {
    if (route.pattern == pattern) return &route;
  }
  return nullptr;
}

void SetUnauthorized(HttpResponse& response) {
  SetError(response, 401, "unauthorized",
           "this request needs the header \"Authorization: Bearer <token>\" with the "
           "controller's token");
  response.SetHeader("WWW-Authenticate", "Bearer realm=\"dove\"");
}

// GET /ui/ and /ui/{file}: a file of the page, with headers that keep it to itself.
void ServeUiFile(ApiCall& call) {
  if (!CheckQuery(call, {})) return;
  const std::string name = call.ref.empty() ? "index.html" : call.ref;
  const UiFile* file = FindUiFile(name);
  if (file == nullptr) {
    SetError(call.response, 404, "no_route",
             "the topology page has no file " + Quoted(name) + "; it starts at /ui/");
    return;
  }
  call.response.status = 200;
  call.response.SetContent(std::string(file->body), file->content_type);
  call.response.SetHeader("Cache-Control", "no-cache");
  call.response.SetHeader("X-Content-Type-Options", "nosniff");
  call.response.SetHeader("Referrer-Policy", "no-referrer");
  call.response.SetHeader("Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'none'");
}

// GET /v1/switch-stats: {"items":[{"switch_name","counters"}]}, by switch name.
void ServeSwitchStats(const std::function<SwitchCounters()>& source, ApiCall& call) {
  if (!CheckQuery(call, {})) return;
  json items = json::array();
  if (source) {
    for (const auto& [name, counters] : source()) {
      items.push_back({{"switch_name", name}, {"counters", counters}});
    }
  }
  call.response.status = 200;
  call.response.SetContent(
      json{{"items", items}}.dump(-1, ' ', false, json::error_handler_t::replace), kJsonType);
}

// Every answer at debug (an access log for --log-level debug); a server error at warning, with
// its body.
void LogAnswer(const HttpRequest& request, const HttpResponse& response, bool server_error) {
  DOVE_LOG_AT(server_error ? base::LogLevel::kWarning : base::LogLevel::kDebug)
          .With("STATUS", response.status)
          .With("METHOD", request.method)
          .With("PATH", request.path)
      << response.status << " " << request.method << " " << request.path
      << (server_error ? ": " + response.body : "");
}

}  // namespace

const std::vector<ApiRoute>& ApiRoutes() {
  static const auto* const routes = [] {
    auto* table = new std::vector<ApiRoute>{{"/healthz", {"GET"}},         {"/metrics", {"GET"}},
                                            {"/v1/trace", {"POST"}},       {"/v1/events", {"GET"}},
                                            {"/v1/switch-stats", {"GET"}}, {"/ui/", {"GET"}},
                                            {"/ui/{file}", {"GET"}}};
    for (const KindSpec& kind : Kinds()) {
      const std::string base = "/v1/" + std::string(kind.collection);
      table->push_back({base, {"GET", "POST"}});
      table->push_back({base + "/{ref}", {"GET", "PUT", "DELETE"}});
    }
    return table;
  }();
  return *routes;
}

std::string RouteOf(std::string_view path) {
  if (path == "/healthz" || path == "/metrics" || path == "/v1/trace" || path == "/v1/events" ||
      path == "/v1/switch-stats" || path == "/ui/") {
    return std::string(path);
  }
  constexpr std::string_view kUi = "/ui/";
  if (path.substr(0, kUi.size()) == kUi) {
    return path.find('/', kUi.size()) == std::string_view::npos ? "/ui/{file}" : "unmatched";
  }
  constexpr std::string_view kPrefix = "/v1/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return "unmatched";
  const std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  const KindSpec* kind = FindKind(rest.substr(0, slash));
  if (kind == nullptr) return "unmatched";
  std::string base = "/v1/" + std::string(kind->collection);
  if (slash == std::string_view::npos) return base;
  const std::string_view ref = rest.substr(slash + 1);
  if (ref.empty() || ref.find('/') != std::string_view::npos) return "unmatched";
  return base + "/{ref}";
}

RestApi::RestApi(Registry* registry, std::string token)
    : registry_(registry), token_(std::move(token)) {}

bool RestApi::Authorized(const HttpRequest& request) const {
  return token_.empty() || BearerMatches(request.Header("Authorization"), token_);
}

void RestApi::SetRevisionHeader(std::string_view path, HttpResponse& response) const {
  if (path.substr(0, 4) == "/v1/" || path == "/v1") {
    response.SetHeader("X-Dove-Revision", std::to_string(registry_->Revision()));
  }
}

void RestApi::Serve(const HttpRequest& request, HttpResponse& response) {
  const auto start = std::chrono::steady_clock::now();
  const std::string pattern = RouteOf(request.path);
  const ApiRoute* route = FindRoute(pattern);
  ApiCall call{request, response, "", {}};
  if (!IsPublic(pattern, request.method) && !Authorized(request)) {
    SetUnauthorized(response);
  } else if (route == nullptr) {
    SetError(response, 404, "no_route",
             "no route for " + request.method + " " + Quoted(request.path));
  } else if (!Allows(*route, request.method)) {
    SetError(response, 405, "method_not_allowed",
             request.method + " is not allowed on " + route->pattern +
                 "; allowed: " + AllowHeader(*route));
    response.SetHeader("Allow", AllowHeader(*route));
  } else if (auto params = http::ParseQuery(request.query); !params) {
    SetError(response, 400, "invalid_value", params.error());
  } else {
    call.params = std::move(*params);
    if (route->pattern.find("{ref}") != std::string::npos ||
        route->pattern.find("{file}") != std::string::npos) {
      call.ref = request.path.substr(request.path.rfind('/') + 1);
    }
    Dispatch(*route, call);
  }
  SetRevisionHeader(request.path, response);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (route == nullptr) {
    metrics_.Count(pattern, request.method, response.status);
  } else {
    metrics_.Observe(route->pattern, request.method, response.status, elapsed.count());
  }
  LogAnswer(request, response, response.status >= 500);
}

void RestApi::Dispatch(const ApiRoute& route, ApiCall& call) {
  const std::string& method = call.request.method;
  if (route.pattern == "/healthz") {
    if (!CheckQuery(call, {})) return;
    const json body = {{"status", "ok"}, {"revision", registry_->Revision()}};
    call.response.status = 200;
    call.response.SetContent(body.dump(), kJsonType);
    return;
  }
  if (route.pattern == "/metrics") {
    if (!CheckQuery(call, {})) return;
    call.response.status = 200;
    base::MetricsPage page;
    base::AddBuildInfo(page);
    base::AddProcessMetrics(page);
    metrics_.AddTo(page, registry_->Counts(), registry_->Revision(), registry_->Stats());
    if (extra_metrics_) extra_metrics_(page);
    call.response.SetContent(page.Text(), "text/plain; version=0.0.4; charset=utf-8");
    return;
  }
  if (route.pattern == "/v1/trace") {
    Trace(*registry_, live_traces_, call);
    return;
  }
  if (route.pattern == "/ui/" || route.pattern == "/ui/{file}") {
    ServeUiFile(call);
    return;
  }
  if (route.pattern == "/v1/switch-stats") {
    ServeSwitchStats(switch_stats_, call);
    return;
  }
  if (route.pattern == "/v1/events") {
    Subscribe(call);
    return;
  }
  // "/v1/<collection>" or "/v1/<collection>/{ref}"
  const std::string_view pattern = route.pattern;
  const std::string_view rest = pattern.substr(4);
  const size_t slash = rest.find('/');
  const bool item = slash != std::string_view::npos;
  const KindSpec* kind = FindKind(rest.substr(0, slash));
  if (kind == nullptr) {
    SetError(call.response, 404, "no_route", "no route for " + route.pattern);
    return;
  }
  ForKind(kind->collection, [&]<typename T>(std::type_identity<T>) {
    if (item && IsGet(method)) {
      GetObject<T>(*registry_, call);
    } else if (item && method == "PUT") {
      ReplaceObject<T>(*registry_, call);
    } else if (item && method == "DELETE") {
      DeleteObject<T>(*registry_, call);
    } else if (!item && IsGet(method)) {
      ListObjects<T>(*registry_, *kind, call);
    } else if (!item && method == "POST") {
      CreateObject<T>(*registry_, *kind, call);
    }
  });
}

void RestApi::Subscribe(ApiCall& call) {
  if (!CheckQuery(call, {})) return;
  HttpResponse& response = call.response;
  if (call.request.method == "GET") {
    if (events_ == nullptr) {
      SetError(response, 503, "overloaded", "this controller serves no event stream");
      return;
    }
    response.stream = events_->Subscribe();
    if (response.stream == nullptr) {
      SetError(response, 503, "overloaded",
               "too many event streams are open on this controller; try again later");
      response.SetHeader("Retry-After", "5");
      return;
    }
  }
  response.status = 200;
  response.SetHeader("Content-Type", "text/event-stream; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("X-Accel-Buffering", "no");
}

void RestApi::Refused(const HttpRequest& request, std::string_view message,
                      HttpResponse& response) {
  const int status = response.status;
  const std::string route = request.path.empty() ? "unmatched" : RouteOf(request.path);
  const bool head_read = !request.headers.empty();
  if (status == 414 || status == 431 || status == 400 || status == 505 || status == 408) {
    // Refused before the head was (wholly) read or trusted: the token is not looked at, and
    // the answer reveals nothing but the reason.
    const char* code = status == 400   ? "malformed_request"
                       : status == 408 ? "request_timeout"
                       : status == 505 ? "unsupported_version"
                                       : "too_large";
    SetError(response, status, code, message);
  } else if (status == 426) {  // plain HTTP on the https port
    SetError(response, 426, "https_required", message);
  } else if (status == 503) {
    SetError(response, 503, "overloaded", message);
    response.SetHeader("Retry-After", "1");
  } else if (head_read && !IsPublic(route, request.method) && !Authorized(request)) {
    SetUnauthorized(response);
  } else if (status == 411) {
    SetError(response, 411, "length_required", message);
  } else if (status == 413) {
    SetError(response, 413, "too_large", message);
  } else {
    SetError(response, status, "internal", message);
  }
  SetRevisionHeader(request.path, response);
  metrics_.Count(route, request.method.empty() ? "unknown" : request.method, response.status);
  LogAnswer(request, response, response.status >= 500 && response.status != 503);
}

}  // namespace dove::controller
