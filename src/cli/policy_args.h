// Parsing of the policy flags --action, --proto and --port, and of FIRST-LAST address ranges.
//
// --action: "allow", "deny" or "reject" (ACTION_ALLOW, ACTION_DENY, ACTION_REJECT: a reject
//           denies and has the switch answer ICMP administratively prohibited).
// --proto: "tcp" (6), "udp" (17), "icmp" (1), "any" (0), or an IP protocol number 0..255.
// --port:  "P" (the range P-P) or "P-Q", 1 <= P <= Q <= 65535.
// --dhcp-range: "FIRST-LAST" (two addresses; IPv6 addresses have no '-', so one split works).
// Each refusal is a message fit for "dovectl: <message>"; the server validates again, these
// exist so that a typo is a command-line error (exit 2), not a round trip.
//
//   ParseAction("reject");    // "ACTION_REJECT"
//   ParseProtocol("tcp");     // 6
//   ParsePortRange("80-90");  // {80, 90}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::cli {

struct PortRange {
  uint32_t first = 0;
  uint32_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct AddressRange {
  std::string first;
  std::string last;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

// The enum name the REST API takes ("ACTION_REJECT").
Expected<std::string, std::string> ParseAction(std::string_view text);
Expected<uint32_t, std::string> ParseProtocol(std::string_view text);
Expected<PortRange, std::string> ParsePortRange(std::string_view text);
Expected<AddressRange, std::string> ParseAddressRange(std::string_view text);

// "tcp", "udp", "icmp", "any", or the number: how tables show a protocol.
std::string ProtocolName(uint32_t protocol);

}  // namespace dove::cli
