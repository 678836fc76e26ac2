// Ethernet II frames with an optional IEEE 802.1Q VLAN tag.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  Destination MAC address                      |
//   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                               |                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//   |                     Source MAC address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  EtherType (0x8100 if tagged) | [TCI: PCP(3) DEI(1) VID(12)]  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | [inner EtherType]             |  payload ...
//
// ParseEthernet accepts untagged and single-tagged frames. 802.3 length frames (EtherType
// below 0x0600, e.g. LLC/STP) and stacked tags (0x88a8, or 0x8100 twice) are kUnsupported:
// no VM traffic DOVE forwards uses them. The frame check sequence is never present (the
// kernel strips it) and the minimum frame size is not enforced (TAP devices send short ones).
#pragma once

#include <cstdint>
#include <optional>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/mac_address.h"

namespace dove::net {

namespace ether_type {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kVlan = 0x8100;
inline constexpr uint16_t kQinQ = 0x88a8;
inline constexpr uint16_t kIpv6 = 0x86dd;
// Values below this are 802.3 lengths, not EtherTypes.
inline constexpr uint16_t kMinimum = 0x0600;
}  // namespace ether_type

struct EthernetHeader {
  MacAddress destination;
  MacAddress source;
  Be16 ether_type;
};
static_assert(sizeof(EthernetHeader) == 14);

// The four bytes that follow the source MAC of a tagged frame (the 0x8100 EtherType before
// them belongs to EthernetHeader).
struct VlanTag {
  Be16 tci;  // priority (3 bits), drop eligible (1), VLAN id (12)
  Be16 ether_type;

  constexpr uint16_t vlan_id() const { return tci.value() & 0x0fff; }
  constexpr uint8_t priority() const { return static_cast<uint8_t>(tci.value() >> 13); }
};
static_assert(sizeof(VlanTag) == 4);

// A parsed frame. `payload` points into the parsed buffer.
struct EthernetFrame {
  MacAddress destination;
  MacAddress source;
  std::optional<VlanTag> vlan;
  uint16_t ether_type = 0;  // of the payload: the inner EtherType when tagged
  size_t header_size = 0;   // 14, or 18 when tagged
  ByteSpan payload;
};

// kTruncated when shorter than its header(s); kUnsupported for 802.3 length frames and
// stacked VLAN tags.
Result<EthernetFrame> ParseEthernet(ByteSpan frame);

// The header of an untagged frame.
constexpr EthernetHeader MakeEthernetHeader(const MacAddress& destination, const MacAddress& source,
                                            uint16_t type) {
  return EthernetHeader{destination, source, Be16::Of(type)};
}

}  // namespace dove::net
