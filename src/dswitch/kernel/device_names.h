// The names of the devices the kernel backend owns: dvb<VNI> (the network's bridge) and
// dvx<VNI> (its vxlan device), at most 11 bytes for a 24-bit VNI (the kernel allows 15).
// Only a name that is one of these prefixes followed by decimal digits (no leading zero) is
// ours: "dvb42" is, "dvb042", "dvb-x" and "dvbr0" are not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dove::dswitch::kernel {

std::string BridgeName(uint32_t vni);
std::string VxlanName(uint32_t vni);

struct OwnedName {
  bool vxlan = false;  // dvx<VNI>; else dvb<VNI>
  uint32_t vni = 0;
};
// What an owned name says; nothing for any other name.
std::optional<OwnedName> ParseOwnedName(std::string_view name);

}  // namespace dove::dswitch::kernel
