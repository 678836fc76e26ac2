// ARP (RFC 826) for IPv4 over Ethernet, the only kind DOVE answers.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    Hardware type (1)          |    Protocol type (0x0800)     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  HLEN (6)     |  PLEN (4)     |    Operation (1 req, 2 reply) |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Sender hardware address (6) | Sender protocol address (4)    |
//   |  Target hardware address (6) | Target protocol address (4)    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::net {

namespace arp {
inline constexpr uint16_t kHardwareEthernet = 1;
inline constexpr uint16_t kRequest = 1;
inline constexpr uint16_t kReply = 2;
}  // namespace arp

struct ArpPacket {
  Be16 hardware_type;
  Be16 protocol_type;
  uint8_t hardware_length;
  uint8_t protocol_length;
  Be16 operation;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;
};
static_assert(sizeof(ArpPacket) == 28);

// Parses the ARP packet at the start of an Ethernet payload (trailing padding is allowed).
// kTruncated when shorter than 28 bytes; kUnsupported unless Ethernet/IPv4 with lengths 6/4;
// kBadField for an operation other than request or reply.
Result<ArpPacket> ParseArp(ByteSpan payload);

// An Ethernet/IPv4 ARP packet with the given operation and addresses.
ArpPacket MakeArp(uint16_t operation, const MacAddress& sender_mac, const Ipv4Address& sender_ip,
                  const MacAddress& target_mac, const Ipv4Address& target_ip);

}  // namespace dove::net
