// DHCPv4 client frames for the pipeline and datapath tests: what a VM's DHCP client sends.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/udp.h"

namespace dove::dswitch::pipeline::testing {

struct DhcpClientMessage {
  net::DhcpMessageType type = net::DhcpMessageType::kDiscover;
  net::MacAddress mac{};
  net::Ipv4Address ciaddr{};                       // renewing, rebinding, INFORM
  std::optional<net::Ipv4Address> requested_ip{};  // option 50
  std::optional<net::Ipv4Address> server_id{};     // option 54
  bool broadcast = false;
  uint32_t xid = 0x1234abcd;
  uint8_t op = net::dhcp::kBootRequest;
};

// The UDP payload of `message`.
inline std::vector<uint8_t> DhcpPayload(const DhcpClientMessage& message) {
  std::vector<uint8_t> bytes(236, 0);
  bytes[0] = message.op;
  bytes[1] = net::dhcp::kHtypeEthernet;
  bytes[2] = 6;
  for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<uint8_t>(message.xid >> (24 - 8 * i));
  if (message.broadcast) bytes[10] = 0x80;
  for (int i = 0; i < 4; ++i) bytes[12 + i] = message.ciaddr.bytes()[i];
  for (int i = 0; i < 6; ++i) bytes[28 + i] = message.mac.bytes()[i];
  bytes.insert(bytes.end(), {99, 130, 83, 99});
  bytes.insert(bytes.end(), {53, 1, static_cast<uint8_t>(message.type)});
  if (message.requested_ip) {
    bytes.insert(bytes.end(), {50, 4});
    bytes.insert(bytes.end(), message.requested_ip->bytes().begin(),
                 message.requested_ip->bytes().end());
  }
  if (message.server_id) {
    bytes.insert(bytes.end(), {54, 4});
    bytes.insert(bytes.end(), message.server_id->bytes().begin(), message.server_id->bytes().end());
  }
  bytes.insert(bytes.end(), {55, 5, 1, 3, 6, 26, 51});
  bytes.push_back(255);
  return bytes;
}

// The frame a client sends: from ciaddr (or 0.0.0.0) to 255.255.255.255 (or `to`), 68 -> 67.
inline std::vector<uint8_t> DhcpFrame(const DhcpClientMessage& message,
                                      std::optional<net::Ipv4Address> to = std::nullopt,
                                      std::optional<net::MacAddress> to_mac = std::nullopt) {
  const std::vector<uint8_t> payload = DhcpPayload(message);
  const net::Ipv4Address source = message.ciaddr;
  const net::Ipv4Address destination = to.value_or(net::Ipv4Address::Broadcast());
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(to_mac.value_or(net::MacAddress::Broadcast()), message.mac,
                                   net::ether_type::kIpv4));
  const size_t ip_at = b.Append(
      *net::MakeIpv4Header(source, destination, net::ip_proto::kUdp, 64, 8 + payload.size()));
  const size_t udp_at =
      b.Append(*net::MakeUdpHeader(net::dhcp::kClientPort, net::dhcp::kServerPort, payload.size()));
  b.Append(payload);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), source, destination));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

}  // namespace dove::dswitch::pipeline::testing
