#include "dswitch/pipeline/neighbor_frames.h"

#include <linux/if_ether.h>

#include <array>
#include <span>

namespace dove::dswitch::pipeline {
namespace {

void Put(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void Put16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value & 0xff));
}

}  // namespace

std::vector<uint8_t> BuildArpReply(const net::MacAddress& sender_mac,
                                   const net::IpAddress& sender_ip,
                                   const net::MacAddress& target_mac,
                                   const net::IpAddress& target_ip) {
  std::vector<uint8_t> frame;
  frame.reserve(42);
  Put(frame, target_mac.bytes());
  Put(frame, sender_mac.bytes());
  Put16(frame, ETH_P_ARP);
  Put16(frame, 1);  // hardware: Ethernet
  Put16(frame, ETH_P_IP);
  frame.push_back(6);
  frame.push_back(4);
  Put16(frame, 2);  // reply
  Put(frame, sender_mac.bytes());
  Put(frame, sender_ip.bytes());
  Put(frame, target_mac.bytes());
  Put(frame, target_ip.bytes());
  return frame;
}

std::vector<uint8_t> BuildNeighAdvert(const net::MacAddress& sender_mac,
                                      const net::IpAddress& sender_ip,
                                      const net::MacAddress& target_mac) {
  static constexpr std::array<uint8_t, 16> kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                        0,    0,    0, 0, 0, 0, 0, 1};
  std::vector<uint8_t> icmp;
  icmp.push_back(136);  // neighbour advertisement
  icmp.push_back(0);
  Put16(icmp, 0);        // checksum, below
  icmp.push_back(0x20);  // override
  icmp.insert(icmp.end(), 3, 0);
  Put(icmp, sender_ip.bytes());
  icmp.push_back(2);  // target link-layer address option, 8 bytes
  icmp.push_back(1);
  Put(icmp, sender_mac.bytes());
  // Checksum over the pseudo-header (source, destination, length, next header 58) and body.
  uint32_t sum = 0;
  const auto add = [&sum](std::span<const uint8_t> bytes) {
    for (size_t i = 0; i < bytes.size(); i += 2) {
      sum += static_cast<uint32_t>(bytes[i]) << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
    }
  };
  add(sender_ip.bytes());
  add(kAllNodes);
  sum += static_cast<uint32_t>(icmp.size()) + 58;
  add(icmp);
  while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
  const auto checksum = static_cast<uint16_t>(~sum & 0xffff);
  icmp[2] = static_cast<uint8_t>(checksum >> 8);
  icmp[3] = static_cast<uint8_t>(checksum & 0xff);

  std::vector<uint8_t> frame;
  frame.reserve(14 + 40 + icmp.size());
  Put(frame, target_mac.bytes());
  Put(frame, sender_mac.bytes());
  Put16(frame, ETH_P_IPV6);
  frame.push_back(0x60);
  frame.insert(frame.end(), 3, 0);
  Put16(frame, static_cast<uint16_t>(icmp.size()));
  frame.push_back(58);   // ICMPv6
  frame.push_back(255);  // hop limit: ND requires it
  Put(frame, sender_ip.bytes());
  Put(frame, kAllNodes);
  Put(frame, icmp);
  return frame;
}

}  // namespace dove::dswitch::pipeline
