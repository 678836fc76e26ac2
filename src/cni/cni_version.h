// The CNI specification versions dove-cni speaks, and its answer to VERSION.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace dove::cni {

inline constexpr std::string_view kNewestVersion = "1.0.0";
inline constexpr std::array<std::string_view, 2> kSupportedVersions = {"0.4.0", "1.0.0"};

bool IsSupportedVersion(std::string_view version);

// {"cniVersion": NEWEST, "supportedVersions": [...]} and a newline.
std::string VersionJson();

}  // namespace dove::cni
