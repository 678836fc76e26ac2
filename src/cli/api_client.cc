#include "cli/api_client.h"

#include <httplib.h>

namespace dove::cli {
namespace {

std::string Describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed (is it running, and listening there?)";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting";
    case httplib::Error::Read:
      return "no answer in time, or the connection broke while reading";
    case httplib::Error::Write:
      return "the connection broke while sending";
    default:
      return httplib::to_string(error);
  }
}

Expected<Response, ApiError> Decode(const httplib::Result& result, const ControllerUrl& url) {
  if (!result) {
    return Unexpected(ApiError{
        ApiError::Kind::kUnreachable, 0, "unreachable",
        "cannot reach the controller at " + url.ToString() + ": " + Describe(result.error())});
  }
  const int status = result->status;
  if (status < 200 || status >= 300) return Unexpected(ErrorFromStatus(status, result->body));
  Response response{status, nlohmann::json()};
  if (result->body.empty()) return response;
  response.body = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (response.body.is_discarded()) {
    return Unexpected(ApiError{
        ApiError::Kind::kBadResponse, status, "bad_response",
        "the controller answered " + std::to_string(status) + " with a body that is not JSON"});
  }
  return response;
}

}  // namespace

ExitCode ExitCodeFor(const ApiError& error) {
  switch (error.kind) {
    case ApiError::Kind::kStatus:
      return ExitCodeForStatus(error.status);
    case ApiError::Kind::kUnreachable:
    case ApiError::Kind::kBadResponse:
      break;
  }
  return ExitCode::kUnavailable;
}

ApiError ErrorFromStatus(int status, std::string_view body) {
  ApiError error{ApiError::Kind::kStatus, status, "http_" + std::to_string(status), ""};
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& detail = json["error"];
    if (detail.contains("code") && detail["code"].is_string()) {
      error.code = detail["code"].get<std::string>();
    }
    if (detail.contains("message") && detail["message"].is_string()) {
      error.message = detail["message"].get<std::string>();
    }
  }
  if (error.message.empty()) {
    error.message = "the controller answered HTTP " + std::to_string(status);
  }
  return error;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xF];
    }
  }
  return encoded;
}

std::string PathSegment(std::string_view segment) { return "/" + PercentEncode(segment); }

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string query;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    query += query.empty() ? "?" : "&";
    query += PercentEncode(key) + "=" + PercentEncode(value);
  }
  return query;
}

ApiClient::ApiClient(Options options)
    : options_(std::move(options)),
      http_(std::make_unique<httplib::Client>(options_.url.ToString())) {
  http_->set_connection_timeout(options_.timeout);
  http_->set_read_timeout(options_.timeout);
  http_->set_write_timeout(options_.timeout);
  if (!options_.token.empty()) http_->set_bearer_token_auth(options_.token);
}

ApiClient::~ApiClient() = default;

Expected<Response, ApiError> ApiClient::Get(const std::string& path) {
  return Decode(http_->Get(path), options_.url);
}

Expected<Response, ApiError> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  return Decode(http_->Post(path, body.dump(), "application/json"), options_.url);
}

Expected<Response, ApiError> ApiClient::Put(const std::string& path, const nlohmann::json& body) {
  return Decode(http_->Put(path, body.dump(), "application/json"), options_.url);
}

Expected<Response, ApiError> ApiClient::Delete(const std::string& path) {
  return Decode(http_->Delete(path), options_.url);
}

}  // namespace dove::cli
