#include "cni/cni_error.h"

#include <nlohmann/json.hpp>

#include "cni/cni_version.h"

namespace dove::cni {

std::string ErrorJson(const CniError& error, std::string_view cni_version) {
  nlohmann::json out = {
      {"cniVersion", cni_version.empty() ? std::string(kNewestVersion) : std::string(cni_version)},
      {"code", error.code},
      {"msg", error.msg}};
  if (!error.details.empty()) out["details"] = error.details;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace dove::cni
