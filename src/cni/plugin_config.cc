#include "cni/plugin_config.h"

#include <array>
#include <nlohmann/json.hpp>

#include "cni/cni_version.h"
#include "model/validation.h"

namespace dove::cni {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 17> kKnownKeys = {
    "cniVersion",  "name",       "type",          "controller",   "token",       "tokenFile",
    "caFile",      "network",    "switch",        "switchSocket", "mtu",         "dataDir",
    "portTimeout", "prevResult", "runtimeConfig", "args",         "capabilities"};

CniError Invalid(const std::string& msg) { return CniError{kInvalidConfig, msg, ""}; }

// The string at `key`: nullopt when absent, an error when present but not a string.
Expected<std::optional<std::string>, CniError> OptionalString(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Unexpected(Invalid(std::string("\"") + key + "\" must be a string."));
  }
  return std::optional<std::string>(it->get<std::string>());
}

Expected<std::string, CniError> RequiredString(const json& doc, const char* key) {
  auto value = OptionalString(doc, key);
  if (!value) return Unexpected(value.error());
  if (!*value || (*value)->empty()) {
    return Unexpected(Invalid(std::string("\"") + key + "\" is missing or empty."));
  }
  return **value;
}

// An integer at `key` within [low, high]; `fallback` when absent.
Expected<int64_t, CniError> OptionalInteger(const json& doc, const char* key, int64_t low,
                                            int64_t high, int64_t fallback) {
  auto it = doc.find(key);
  if (it == doc.end()) return fallback;
  if (!it->is_number_integer()) {
    return Unexpected(Invalid(std::string("\"") + key + "\" must be an integer."));
  }
  const auto value = it->get<int64_t>();
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(high)) {
    return Unexpected(Invalid(std::string("\"") + key + "\" must be " + std::to_string(low) + ".." +
                              std::to_string(high) + "."));
  }
  if (value < low || value > high) {
    return Unexpected(Invalid(std::string("\"") + key + "\" must be " + std::to_string(low) + ".." +
                              std::to_string(high) + "."));
  }
  return value;
}

}  // namespace

std::string ConfigVersion(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return "";
  auto it = doc.find("cniVersion");
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

Expected<PluginConfig, CniError> ParseConfig(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Unexpected(
        CniError{kDecodingFailure, "The network configuration on stdin is not a JSON object.", ""});
  }
  for (const auto& [key, value] : doc.items()) {
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end()) {
      return Unexpected(Invalid("Unknown key \"" + key + "\" in the network configuration."));
    }
  }
  PluginConfig config;
  auto version = RequiredString(doc, "cniVersion");
  if (!version) return Unexpected(version.error());
  if (!IsSupportedVersion(*version)) {
    return Unexpected(CniError{
        kIncompatibleVersion,
        "cniVersion \"" + *version + "\" is not supported (dove-cni speaks 0.4.0 and 1.0.0).", ""});
  }
  config.cni_version = *version;
  for (auto [key, field] : {std::pair{"name", &config.name}, std::pair{"type", &config.type},
                            std::pair{"network", &config.network}}) {
    auto value = RequiredString(doc, key);
    if (!value) return Unexpected(value.error());
    *field = *value;
  }
  auto controller = RequiredString(doc, "controller");
  if (!controller) return Unexpected(controller.error());
  auto url = cli::ParseControllerUrl(*controller);
  if (!url) return Unexpected(Invalid("\"controller\": " + url.error()));
  config.controller = *url;

  auto token = OptionalString(doc, "token");
  auto token_file = OptionalString(doc, "tokenFile");
  if (!token) return Unexpected(token.error());
  if (!token_file) return Unexpected(token_file.error());
  if (*token && *token_file) {
    return Unexpected(Invalid("Give \"token\" or \"tokenFile\", not both."));
  }
  if (*token && (*token)->empty()) return Unexpected(Invalid("\"token\" is empty."));
  if (*token_file && (*token_file)->empty()) return Unexpected(Invalid("\"tokenFile\" is empty."));
  config.token = token->value_or("");
  config.token_file = token_file->value_or("");
  auto ca_file = OptionalString(doc, "caFile");
  if (!ca_file) return Unexpected(ca_file.error());
  if (*ca_file && (*ca_file)->empty()) return Unexpected(Invalid("\"caFile\" is empty."));
  if (*ca_file && !config.controller.tls) {
    return Unexpected(Invalid("\"caFile\" is given but \"controller\" is not an https:// URL."));
  }
  config.ca_file = ca_file->value_or("");

  auto switch_name = OptionalString(doc, "switch");
  if (!switch_name) return Unexpected(switch_name.error());
  if (*switch_name) {
    if (auto ok = model::ValidateName("switch", **switch_name); !ok) {
      return Unexpected(Invalid("\"switch\": " + ok.error().message));
    }
    config.switch_name = **switch_name;
  }
  auto socket = OptionalString(doc, "switchSocket");
  if (!socket) return Unexpected(socket.error());
  if (*socket) {
    if ((*socket)->empty() || (**socket)[0] != '/') {
      return Unexpected(Invalid("\"switchSocket\" must be an absolute path."));
    }
    config.switch_socket = **socket;
  }
  auto data_dir = OptionalString(doc, "dataDir");
  if (!data_dir) return Unexpected(data_dir.error());
  if (*data_dir) {
    if ((*data_dir)->empty() || (**data_dir)[0] != '/') {
      return Unexpected(Invalid("\"dataDir\" must be an absolute path."));
    }
    config.data_dir = **data_dir;
  }
  auto mtu = OptionalInteger(doc, "mtu", 68, 65535, 0);
  if (!mtu) return Unexpected(mtu.error());
  config.mtu = static_cast<uint32_t>(*mtu);
  auto timeout = OptionalInteger(doc, "portTimeout", 0, 300, kDefaultPortTimeout.count());
  if (!timeout) return Unexpected(timeout.error());
  config.port_timeout = std::chrono::seconds(*timeout);
  return config;
}

}  // namespace dove::cni
