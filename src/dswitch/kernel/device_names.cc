#include "dswitch/kernel/device_names.h"

namespace dove::dswitch::kernel {

std::string BridgeName(uint32_t vni) { return "dvb" + std::to_string(vni); }
std::string VxlanName(uint32_t vni) { return "dvx" + std::to_string(vni); }

std::optional<OwnedName> ParseOwnedName(std::string_view name) {
  OwnedName owned;
  if (name.starts_with("dvx")) {
    owned.vxlan = true;
  } else if (!name.starts_with("dvb")) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(3);
  if (digits.empty() || digits.size() > 8 || digits.front() == '0') return std::nullopt;
  uint64_t vni = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    vni = vni * 10 + static_cast<uint64_t>(c - '0');
  }
  if (vni > 0xffffff) return std::nullopt;
  owned.vni = static_cast<uint32_t>(vni);
  return owned;
}

}  // namespace dove::dswitch::kernel
