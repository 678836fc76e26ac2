#include "net/arp.h"

#include "net/ethernet.h"

namespace dove::net {

Result<ArpPacket> ParseArp(ByteSpan payload) {
  const auto packet = LoadHeader<ArpPacket>(payload);
  if (!packet) return Unexpected(Error::kTruncated);
  if (packet->hardware_type.value() != arp::kHardwareEthernet ||
      packet->protocol_type.value() != ether_type::kIpv4 || packet->hardware_length != 6 ||
      packet->protocol_length != 4) {
    return Unexpected(Error::kUnsupported);
  }
  const uint16_t operation = packet->operation.value();
  if (operation != arp::kRequest && operation != arp::kReply) return Unexpected(Error::kBadField);
  return *packet;
}

ArpPacket MakeArp(uint16_t operation, const MacAddress& sender_mac, const Ipv4Address& sender_ip,
                  const MacAddress& target_mac, const Ipv4Address& target_ip) {
  return ArpPacket{Be16::Of(arp::kHardwareEthernet),
                   Be16::Of(ether_type::kIpv4),
                   6,
                   4,
                   Be16::Of(operation),
                   sender_mac,
                   sender_ip,
                   target_mac,
                   target_ip};
}

}  // namespace dove::net
