#include "cli/api_client.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

ApiError Unreachable(const std::string& message) {
  return ApiError{ApiError::Kind::kUnreachable, 0, "unreachable", message};
}

// Why the TLS handshake failed, from what OpenSSL left on this thread's error queue (httplib's
// cleanup adds "shutdown while in init" after the real reason: the first one tells).
std::string HandshakeFailure(const ControllerUrl& url) {
  bool plain = false;
  std::string why;
  while (const unsigned long code = ERR_get_error()) {
    const int reason = ERR_GET_REASON(code);
    plain =
        plain || (ERR_GET_LIB(code) == ERR_LIB_SSL &&
                  (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
                   reason == SSL_R_UNEXPECTED_EOF_WHILE_READING));
    if (const char* text = ERR_reason_error_string(code); why.empty() && text != nullptr) {
      why = text;
    }
  }
  if (plain) {
    ControllerUrl http = url;
    http.tls = false;
    return "the controller at " + url.ToString() +
           " did not answer in TLS: does it serve plain HTTP? (then use " + http.ToString() + ")";
  }
  return "the TLS handshake with the controller at " + url.ToString() +
         " failed: " + (why.empty() ? "the connection closed" : why);
}

}  // namespace

Expected<Response, ApiError> ApiClient::Decode(const httplib::Result& result) const {
  const ControllerUrl& url = options_.url;
  if (!result) {
    switch (result.error()) {
      case httplib::Error::SSLServerVerification: {
        const long verified = http_->get_openssl_verify_result();
        if (verified == X509_V_OK) {
          return Unexpected(Unreachable("the controller's certificate does not name \"" + url.host +
                                        "\" (hostname verification of " + url.ToString() +
                                        " failed)"));
        }
        return Unexpected(
            Unreachable("the controller's certificate at " + url.ToString() +
                        " is not trusted: " + X509_verify_cert_error_string(verified) +
                        (options_.ca_file.empty() ? " (give its CA with --cacert or DOVE_CACERT)"
                                                  : " (by --cacert " + options_.ca_file + ")")));
      }
      case httplib::Error::SSLLoadingCerts:
        return Unexpected(
            Unreachable("cannot load the CA certificates " +
                        (options_.ca_file.empty() ? std::string("of the system")
                                                  : "of --cacert " + options_.ca_file)));
      case httplib::Error::SSLConnection:
        return Unexpected(Unreachable(HandshakeFailure(url)));
      default:
        return Unexpected(Unreachable("cannot reach the controller at " + url.ToString() + ": " +
                                      Describe(result.error())));
    }
  }
  const int status = result->status;
  if (status == 426 && !url.tls) {  // the controller's answer to plain HTTP on its https port
    ControllerUrl secure = url;
    secure.tls = true;
    return Unexpected(ApiError{
        ApiError::Kind::kUnreachable, status, "unreachable",
        "the controller at " + url.ToString() + " serves https only: use " + secure.ToString()});
  }
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
  if (options_.url.tls) {
    http_->enable_server_certificate_verification(true);
    if (!options_.ca_file.empty()) http_->set_ca_cert_path(options_.ca_file);
  }
}

ApiClient::~ApiClient() = default;

Expected<Response, ApiError> ApiClient::Get(const std::string& path) {
  return Decode(http_->Get(path));
}

Expected<Response, ApiError> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  return Decode(http_->Post(path, body.dump(), "application/json"));
}

Expected<Response, ApiError> ApiClient::Put(const std::string& path, const nlohmann::json& body) {
  return Decode(http_->Put(path, body.dump(), "application/json"));
}

Expected<Response, ApiError> ApiClient::Delete(const std::string& path) {
  return Decode(http_->Delete(path));
}

}  // namespace dove::cli
