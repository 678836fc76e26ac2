#include "cni/cni_version.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dove::cni {

bool IsSupportedVersion(std::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

std::string VersionJson() {
  nlohmann::json versions = nlohmann::json::array();
  for (auto v : kSupportedVersions) versions.push_back(std::string(v));
  return nlohmann::json{{"cniVersion", std::string(kNewestVersion)},
                        {"supportedVersions", versions}}
             .dump() +
         "\n";
}

}  // namespace dove::cni
