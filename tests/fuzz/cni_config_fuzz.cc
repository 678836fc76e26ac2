// Fuzzes dove-cni's network configuration parser (src/cni/plugin_config.h) with arbitrary
// text. Nothing may crash; a refusal carries a spec error code and a message; an accepted
// config holds every required key and values within their ranges; the error JSON of any input
// is valid JSON.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cni/cni_version.h"
#include "cni/plugin_config.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = dove::cni::ParseConfig(text);
  if (!config) {
    const int code = config.error().code;
    Check(code == dove::cni::kIncompatibleVersion || code == dove::cni::kDecodingFailure ||
          code == dove::cni::kInvalidConfig);
    Check(!config.error().msg.empty());
    const auto reply = nlohmann::json::parse(
        dove::cni::ErrorJson(config.error(), dove::cni::ConfigVersion(text)), nullptr, false);
    Check(reply.is_object() && reply["code"] == code);
    return 0;
  }
  Check(dove::cni::IsSupportedVersion(config->cni_version));
  Check(!config->name.empty() && !config->type.empty() && !config->network.empty());
  Check(!config->controller.host.empty());
  Check(config->mtu == 0 || (config->mtu >= 68 && config->mtu <= 65535));
  Check(config->port_timeout.count() >= 0 && config->port_timeout.count() <= 300);
  Check(config->token.empty() || config->token_file.empty());
  Check(!config->data_dir.empty() && config->data_dir[0] == '/');
  return 0;
}
