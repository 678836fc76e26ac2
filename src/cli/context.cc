#include "cli/context.h"

#include <CLI/CLI.hpp>

#include "cli/controller_url.h"
#include "cli/json_fields.h"
#include "cli/token.h"

namespace dove::cli {

Expected<ApiClient*, int> Context::Client() {
  if (client_) return client_.get();
  const std::string address =
      options_.controller.value_or(env_.controller.value_or(std::string(kDefaultController)));
  auto url = ParseControllerUrl(address);
  if (!url) return Unexpected(FailUsage(url.error()));
  auto token = ResolveToken(options_.token, options_.token_file, env_.token);
  if (!token) return Unexpected(FailUsage(token.error()));
  ApiClient::Options client_options;
  client_options.url = *url;
  client_options.token = *token;
  client_options.ca_file = options_.cacert.value_or(env_.cacert.value_or(""));
  client_options.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_seconds * 1000));
  client_ = std::make_unique<ApiClient>(std::move(client_options));
  resolver_ = std::make_unique<Resolver>(client_.get());
  return client_.get();
}

Expected<std::string, int> Context::NetworkId(const std::string& ref) {
  if (ref.empty()) return std::string();
  auto found = resolver_->Network(ref);
  if (!found) return Unexpected(Fail(found.error()));
  return StringField(*found, "id");
}

int Context::Fail(const ApiError& error) {
  return FailWith(ExitCodeFor(error), error.message, error.code);
}

int Context::FailUsage(const std::string& message) {
  return FailWith(ExitCode::kUsage, message, "usage");
}

int Context::FailWith(ExitCode code, const std::string& message, const std::string& error_code) {
  err_ << "dovectl: " << message << " (" << error_code << ")\n";
  return static_cast<int>(code);
}

void Context::PrintJson(const nlohmann::json& value) { out_ << value.dump(2) << "\n"; }

void Context::Bind(CLI::App* leaf, std::function<int()> action) {
  leaf->callback([this, action = std::move(action)] { selected_ = action; });
}

}  // namespace dove::cli
