// Frames and a small network for the pipeline tests, built with src/net's builders, and the
// packets that carry them.
//
// The scenario: this switch (VTEP 192.0.2.10) carries network 100 with ports 1 (vm1) and 2
// (vm2), and network 200 with port 3 (vm3); network 100 also has vm9 on the VTEP 192.0.2.20,
// and its flood list is {192.0.2.20, 192.0.2.30}.
//
// Every test owns a small PacketPool and checks at its end that every packet went back to it
// (PoolTest): a stage that loses a packet fails the test that made it do so.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/remote_table.h"
#include "dswitch/pipeline/tables.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/tcp.h"
#include "net/udp.h"

namespace dove::dswitch::pipeline::testing {

inline net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }
inline net::Ipv4Address Ip4(const char* text) { return *net::Ipv4Address::Parse(text); }
inline net::Ipv6Address Ip6(const char* text) { return *net::Ipv6Address::Parse(text); }

inline const net::MacAddress kVm1Mac = Mac("52:54:00:00:00:01");
inline const net::MacAddress kVm2Mac = Mac("52:54:00:00:00:02");
inline const net::MacAddress kVm3Mac = Mac("52:54:00:00:00:03");
inline const net::MacAddress kVm9Mac = Mac("52:54:00:00:00:09");
inline const net::MacAddress kUnknownMac = Mac("52:54:00:00:00:77");
inline const net::MacAddress kRouterMac = Mac("02:d0:5e:00:00:01");
inline const net::Ipv4Address kVm1Ip = Ip4("10.0.0.1");
inline const net::Ipv4Address kVm2Ip = Ip4("10.0.0.2");
inline const net::Ipv4Address kVm3Ip = Ip4("10.0.0.1");  // the same IP, another network
inline const net::Ipv4Address kVm9Ip = Ip4("10.0.0.9");
inline const net::Ipv4Address kUnknownIp = Ip4("10.0.0.77");
inline const net::Ipv6Address kVm1Ip6 = Ip6("2001:db8::1");
inline const net::Ipv6Address kVm2Ip6 = Ip6("2001:db8::2");
inline const net::Ipv6Address kVm9Ip6 = Ip6("2001:db8::9");
inline const net::Ipv6Address kUnknownIp6 = Ip6("2001:db8::77");
inline const net::Ipv4Address kLocalVtep = Ip4("192.0.2.10");
inline const net::Ipv4Address kPeerVtep = Ip4("192.0.2.20");
inline const net::Ipv4Address kOtherPeerVtep = Ip4("192.0.2.30");
inline const net::Ipv4Address kStrangerVtep = Ip4("192.0.2.99");
inline constexpr uint32_t kVni = 100;
inline constexpr uint32_t kOtherVni = 200;

// The tables of the scenario.
inline Tables ScenarioTables() {
  Tables t;
  EXPECT_TRUE(t.UpsertNetwork(kVni, kRouterMac, {kPeerVtep, kOtherPeerVtep}));
  EXPECT_TRUE(t.UpsertNetwork(kOtherVni, kRouterMac, {}));
  EXPECT_TRUE(t.UpsertPort({.id = 1, .vni = kVni, .mac = kVm1Mac, .ips = {kVm1Ip, kVm1Ip6}}));
  EXPECT_TRUE(t.UpsertPort({.id = 2, .vni = kVni, .mac = kVm2Mac, .ips = {kVm2Ip, kVm2Ip6}}));
  EXPECT_TRUE(t.UpsertPort({.id = 3, .vni = kOtherVni, .mac = kVm3Mac, .ips = {kVm3Ip}}));
  return t;
}

inline RemoteTable ScenarioRemotes() {
  RemoteTable remotes;
  remotes.Upsert("vm9", kVni, kVm9Mac, kPeerVtep, {kVm9Ip, kVm9Ip6});
  return remotes;
}

inline std::vector<uint8_t> ArpFrame(uint16_t operation, const net::MacAddress& frame_source,
                                     const net::MacAddress& sender_mac,
                                     const net::Ipv4Address& sender_ip,
                                     const net::Ipv4Address& target_ip) {
  net::FrameBuilder b;
  b.Append(
      net::MakeEthernetHeader(net::MacAddress::Broadcast(), frame_source, net::ether_type::kArp));
  b.Append(net::MakeArp(operation, sender_mac, sender_ip, net::MacAddress(), target_ip));
  return std::move(b).Take();
}

inline std::vector<uint8_t> ArpRequest(const net::MacAddress& mac, const net::Ipv4Address& ip,
                                       const net::Ipv4Address& target) {
  return ArpFrame(net::arp::kRequest, mac, mac, ip, target);
}

// An IPv4/UDP frame with `payload_size` bytes of data, checksums filled.
inline std::vector<uint8_t> Udp4Frame(const net::MacAddress& destination_mac,
                                      const net::MacAddress& source_mac,
                                      const net::Ipv4Address& source,
                                      const net::Ipv4Address& destination,
                                      uint16_t source_port = 1000, uint16_t destination_port = 2000,
                                      size_t payload_size = 16) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv4));
  const size_t ip_at = b.Append(
      *net::MakeIpv4Header(source, destination, net::ip_proto::kUdp, 64, 8 + payload_size));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(source_port, destination_port, payload_size));
  b.AppendZeros(payload_size);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), source, destination));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// An IPv6/UDP frame, checksum filled.
inline std::vector<uint8_t> Udp6Frame(const net::MacAddress& destination_mac,
                                      const net::MacAddress& source_mac,
                                      const net::Ipv6Address& source,
                                      const net::Ipv6Address& destination) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, destination, net::ip_proto::kUdp, 64, 0));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(1000, 2000, 16));
  b.AppendZeros(16);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), source, destination));
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// A Neighbor Solicitation for `target` from (`mac`, `source`), to the target's solicited-node
// group, with a source link-layer address option holding `option_mac` when given.
inline std::vector<uint8_t> NsFrame(const net::MacAddress& mac, const net::Ipv6Address& source,
                                    const net::Ipv6Address& target,
                                    std::optional<net::MacAddress> option_mac) {
  const net::Ipv6Address group = target.SolicitedNodeMulticast();
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(net::MacAddress::ForIpv6Multicast(group.bytes()), mac,
                                   net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, group, net::ip_proto::kIcmpv6, net::nd::kHopLimit, 0));
  net::AppendNeighborSolicitation(b, source, group, {target, option_mac});
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// An unsolicited Neighbor Advertisement of `target` at `option_mac`, to all nodes.
inline std::vector<uint8_t> NaFrame(const net::MacAddress& mac, const net::Ipv6Address& source,
                                    const net::Ipv6Address& target,
                                    std::optional<net::MacAddress> option_mac) {
  const net::Ipv6Address all = net::Ipv6Address::AllNodes();
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(net::MacAddress::ForIpv6Multicast(all.bytes()), mac,
                                   net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, all, net::ip_proto::kIcmpv6, net::nd::kHopLimit, 0));
  net::NeighborAdvertisement na;
  na.target = target;
  na.override_flag = true;
  na.target_mac = option_mac;
  net::AppendNeighborAdvertisement(b, source, all, na);
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// A frame of `ether_type` with 46 zero bytes of payload.
inline std::vector<uint8_t> RawFrame(const net::MacAddress& destination,
                                     const net::MacAddress& source, uint16_t ether_type) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination, source, ether_type));
  b.AppendZeros(46);
  return std::move(b).Take();
}

// `frame` cut to `size` bytes.
inline std::vector<uint8_t> Truncated(std::vector<uint8_t> frame, size_t size) {
  frame.resize(size);
  return frame;
}

// `frame` with the byte at `at` replaced.
inline std::vector<uint8_t> WithByte(std::vector<uint8_t> frame, size_t at, uint8_t value) {
  frame.at(at) = value;
  return frame;
}

// An IPv4/TCP frame of `payload_size` bytes of data, as a TAP with TSO hands over a super-frame
// (Total Length as given; the TCP checksum left as the pseudo-header sum a partial checksum
// has), and the offload state that goes with it.
inline std::vector<uint8_t> Tcp4SuperFrame(const net::MacAddress& destination_mac,
                                           const net::MacAddress& source_mac,
                                           const net::Ipv4Address& source,
                                           const net::Ipv4Address& destination, size_t payload_size,
                                           bool zero_total_length = false) {
  net::FrameBuilder b(14 + 40 + payload_size);
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv4));
  const size_t ip_at = b.Append(*net::MakeIpv4Header(source, destination, net::ip_proto::kTcp, 64,
                                                     std::min<size_t>(20 + payload_size, 65515)));
  b.Append(*net::MakeTcpHeader(40000, 5201, 1, 1, 0x10, 512));
  b.AppendZeros(payload_size);
  if (zero_total_length) {
    net::MutableByteSpan ip = b.From(ip_at);
    ip[2] = 0;
    ip[3] = 0;
    ip[10] = 0;
    ip[11] = 0;
    const uint16_t checksum = net::InternetChecksum(ip.first(20));
    ip[10] = static_cast<uint8_t>(checksum >> 8);
    ip[11] = static_cast<uint8_t>(checksum);
  }
  return std::move(b).Take();
}

// An IPv6/TCP super-frame, as Tcp4SuperFrame.
inline std::vector<uint8_t> Tcp6SuperFrame(const net::MacAddress& destination_mac,
                                           const net::MacAddress& source_mac,
                                           const net::Ipv6Address& source,
                                           const net::Ipv6Address& destination,
                                           size_t payload_size) {
  net::FrameBuilder b(14 + 60 + payload_size);
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv6));
  b.Append(*net::MakeIpv6Header(source, destination, net::ip_proto::kTcp, 64, 20 + payload_size));
  b.Append(*net::MakeTcpHeader(40000, 5201, 1, 1, 0x10, 512));
  b.AppendZeros(payload_size);
  return std::move(b).Take();
}

// The offload state of a TSO super-frame whose TCP header starts at `l4_offset`.
inline packet::OffloadInfo TsoOffload(bool v6, uint16_t l4_offset) {
  packet::OffloadInfo offload;
  offload.gso = v6 ? packet::GsoType::kTcp6 : packet::GsoType::kTcp4;
  offload.gso_size = 1448;
  offload.csum_partial = true;
  offload.csum_start = l4_offset;
  offload.csum_offset = 16;
  return offload;
}

// A small pool, and the check that a test gave back every packet it took.
inline packet::PoolOptions TestPool() { return {.small_slots = 256, .large_slots = 4}; }

class PoolTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(pool_.in_use(), 0U) << "packets leaked"; }

  PacketPool pool_{TestPool()};
};

// A packet from `pool` holding `bytes`, from `in_port`, in `vni`.
inline Packet* MakePacket(PacketPool& pool, const std::vector<uint8_t>& bytes,
                          PortId in_port = kNoPort, uint32_t vni = kNoVni) {
  Packet* packet = pool.Alloc(bytes.size());
  EXPECT_NE(packet, nullptr);
  if (packet == nullptr) return nullptr;
  EXPECT_TRUE(packet->Assign(bytes));
  packet->meta.in_port = in_port;
  packet->meta.vni = vni;
  return packet;
}

inline PacketBatch OneFrame(PacketPool& pool, const std::vector<uint8_t>& bytes, PortId in_port,
                            uint32_t vni = kNoVni) {
  PacketBatch batch;
  batch.Push(MakePacket(pool, bytes, in_port, vni));
  return batch;
}

// The bytes a packet holds.
inline std::vector<uint8_t> Bytes(const Packet& packet) {
  return {packet.data(), packet.data() + packet.size()};
}

// Frees what every given batch holds.
template <typename... Batches>
void FreeAll(PacketPool& pool, Batches&... batches) {
  (pool.Free(batches), ...);
}

// ---------------------------------------------------------------------------------------------
// The routed scenario (the distributed router): one domain, router MAC kRouterMac, three
// networks with their own subnets:
//   - 100 (kVni here too): 10.1.0.0/24 gateway 10.1.0.1, 2001:db8:1::/64 gateway 2001:db8:1::1;
//     port 11 (vmA, 10.1.0.5, 2001:db8:1::5) on this switch;
//   - 200: 10.2.0.0/24 gateway 10.2.0.1, 2001:db8:2::/64 gateway 2001:db8:2::1; port 12 (vmB,
//     10.2.0.7, 2001:db8:2::7) on this switch;
//   - 300: 10.3.0.0/24 gateway 10.3.0.1, not carried here; vmC (10.3.0.9) on VTEP 192.0.2.20;
//     10.3.0.77 is nobody's.
// Policies: 100 -> 200 allowed; 100 -> 300 TCP port 22 allowed ("ssh"), UDP rejected ("no-udp",
// priority 5); 200 -> 300 denied ("deny-200-300"). The domain's VTEPs: 192.0.2.20.
inline constexpr uint32_t kNetA = 100;
inline constexpr uint32_t kNetB = 200;
inline constexpr uint32_t kNetC = 300;
inline const net::MacAddress kVmAMac = Mac("52:54:00:00:00:0a");
inline const net::MacAddress kVmBMac = Mac("52:54:00:00:00:0b");
inline const net::MacAddress kVmCMac = Mac("52:54:00:00:00:0c");
inline const net::Ipv4Address kVmAIp = Ip4("10.1.0.5");
inline const net::Ipv4Address kVmBIp = Ip4("10.2.0.7");
inline const net::Ipv4Address kVmCIp = Ip4("10.3.0.9");
inline const net::Ipv4Address kNobodyInCIp = Ip4("10.3.0.77");
inline const net::Ipv4Address kGatewayA = Ip4("10.1.0.1");
inline const net::Ipv4Address kGatewayB = Ip4("10.2.0.1");
inline const net::Ipv6Address kVmAIp6 = Ip6("2001:db8:1::5");
inline const net::Ipv6Address kVmBIp6 = Ip6("2001:db8:2::7");
inline const net::Ipv6Address kGatewayA6 = Ip6("2001:db8:1::1");
inline const net::Ipv4Address kOutsideIp = Ip4("198.51.100.1");  // in no subnet of the domain

inline std::vector<Route> RoutedRoutes() {
  const auto prefix = [](const char* text) { return *net::IpPrefix::Parse(text); };
  const auto ip = [](const char* text) { return std::optional(*net::IpAddress::Parse(text)); };
  return {{prefix("10.1.0.0/24"), ip("10.1.0.1"), kNetA},
          {prefix("2001:db8:1::/64"), ip("2001:db8:1::1"), kNetA},
          {prefix("10.2.0.0/24"), ip("10.2.0.1"), kNetB},
          {prefix("2001:db8:2::/64"), ip("2001:db8:2::1"), kNetB},
          {prefix("10.3.0.0/24"), ip("10.3.0.1"), kNetC}};
}

inline std::vector<PolicyRule> RoutedPolicies() {
  using Action = PolicyRule::Action;
  return {{.id = "a-to-b",
           .source_vni = kNetA,
           .destination_vni = kNetB,
           .action = Action::kAllow,
           .priority = 1},
          {.id = "ssh",
           .source_vni = kNetA,
           .destination_vni = kNetC,
           .action = Action::kAllow,
           .protocol = net::ip_proto::kTcp,
           .first_port = 22,
           .last_port = 22,
           .priority = 1},
          {.id = "no-udp",
           .source_vni = kNetA,
           .destination_vni = kNetC,
           .action = Action::kReject,
           .protocol = net::ip_proto::kUdp,
           .priority = 5},
          {.id = "deny-200-300",
           .source_vni = kNetB,
           .destination_vni = kNetC,
           .action = Action::kDeny,
           .priority = 1}};
}

// The settings of network `vni` (kNetA or kNetB) in the routed scenario; `policies` as given
// (the rules naming it are the scenario's; tests change them).
inline NetworkSettings RoutedNetwork(uint32_t vni,
                                     std::vector<PolicyRule> policies = RoutedPolicies()) {
  const auto prefix = [](const char* text) { return *net::IpPrefix::Parse(text); };
  const auto ip = [](const char* text) { return std::optional(*net::IpAddress::Parse(text)); };
  NetworkSettings settings{.vni = vni,
                           .router_mac = kRouterMac,
                           .flood_tunnel_ips = {},
                           .domain_tunnel_ips = {kPeerVtep},
                           .subnets = {},
                           .routes = RoutedRoutes(),
                           .policies = {}};
  if (vni == kNetA) {
    settings.subnets = {{prefix("10.1.0.0/24"), ip("10.1.0.1"), {}, 0},
                        {prefix("2001:db8:1::/64"), ip("2001:db8:1::1"), {}, 0}};
  } else {
    settings.subnets = {{prefix("10.2.0.0/24"), ip("10.2.0.1"), {}, 0},
                        {prefix("2001:db8:2::/64"), ip("2001:db8:2::1"), {}, 0}};
  }
  for (PolicyRule& rule : policies) {
    if (rule.source_vni == vni || rule.destination_vni == vni) {
      settings.policies.push_back(std::move(rule));
    }
  }
  return settings;
}

inline Tables RoutedTables(std::vector<PolicyRule> policies = RoutedPolicies()) {
  Tables t;
  EXPECT_TRUE(t.UpsertNetwork(RoutedNetwork(kNetA, policies)));
  EXPECT_TRUE(t.UpsertNetwork(RoutedNetwork(kNetB, policies)));
  EXPECT_TRUE(t.UpsertPort({.id = 11, .vni = kNetA, .mac = kVmAMac, .ips = {kVmAIp, kVmAIp6}}));
  EXPECT_TRUE(t.UpsertPort({.id = 12, .vni = kNetB, .mac = kVmBMac, .ips = {kVmBIp, kVmBIp6}}));
  return t;
}

inline RemoteTable RoutedRemotes() {
  RemoteTable remotes;
  remotes.Upsert("vmC", kNetC, kVmCMac, kPeerVtep, {kVmCIp});
  return remotes;
}

// An ICMP echo request (or reply) with 8 bytes of data, checksums filled.
inline std::vector<uint8_t> Icmp4EchoFrame(const net::MacAddress& destination_mac,
                                           const net::MacAddress& source_mac,
                                           const net::Ipv4Address& source,
                                           const net::Ipv4Address& destination,
                                           uint16_t identifier = 0x4242,
                                           uint8_t type = net::icmpv4::kEchoRequest) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv4));
  const size_t ip_at =
      b.Append(*net::MakeIpv4Header(source, destination, net::ip_proto::kIcmp, 64, 16));
  const size_t icmp_at = b.Append(net::MakeIcmpv4EchoHeader(type, identifier, 1));
  b.Append(std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
  net::FinishIcmpv4(b.From(icmp_at));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// An ICMPv6 echo request (or reply) with 8 bytes of data.
inline std::vector<uint8_t> Icmp6EchoFrame(const net::MacAddress& destination_mac,
                                           const net::MacAddress& source_mac,
                                           const net::Ipv6Address& source,
                                           const net::Ipv6Address& destination,
                                           uint16_t identifier = 0x4242,
                                           uint8_t type = net::icmpv6::kEchoRequest) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, destination, net::ip_proto::kIcmpv6, 64, 0));
  const size_t icmp_at = b.Append(net::MakeIcmpv6Header(type, 0));
  b.Append(std::vector<uint8_t>{static_cast<uint8_t>(identifier >> 8),
                                static_cast<uint8_t>(identifier), 0, 1, 1, 2, 3, 4, 5, 6, 7, 8});
  net::FinishIcmpv6(b.From(icmp_at), source, destination);
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// An IPv4/TCP frame (a SYN by default) with 8 bytes of data, checksums filled.
inline std::vector<uint8_t> Tcp4Frame(const net::MacAddress& destination_mac,
                                      const net::MacAddress& source_mac,
                                      const net::Ipv4Address& source,
                                      const net::Ipv4Address& destination, uint16_t source_port,
                                      uint16_t destination_port, uint8_t flags = 0x02) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(destination_mac, source_mac, net::ether_type::kIpv4));
  const size_t ip_at =
      b.Append(*net::MakeIpv4Header(source, destination, net::ip_proto::kTcp, 64, 28));
  const size_t tcp_at =
      b.Append(*net::MakeTcpHeader(source_port, destination_port, 1, 0, flags, 512));
  b.AppendZeros(8);
  EXPECT_TRUE(net::FinishTcp(b.From(tcp_at), source, destination));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// `frame` (IPv4 or IPv6 behind an untagged Ethernet header) with its TTL / hop limit set, the
// IPv4 header checksum recomputed.
inline std::vector<uint8_t> WithTtl(std::vector<uint8_t> frame, uint8_t ttl) {
  if (frame.at(12) == 0x86 && frame.at(13) == 0xdd) {
    frame.at(14 + 7) = ttl;
    return frame;
  }
  frame.at(14 + 8) = ttl;
  frame.at(14 + 10) = 0;
  frame.at(14 + 11) = 0;
  const uint16_t checksum = net::InternetChecksum(net::ByteSpan(frame).subspan(14, 20));
  frame.at(14 + 10) = static_cast<uint8_t>(checksum >> 8);
  frame.at(14 + 11) = static_cast<uint8_t>(checksum);
  return frame;
}

// The destination and source MACs of a frame's bytes.
inline net::MacAddress DestinationMacOf(const std::vector<uint8_t>& frame) {
  return net::MacAddress(
      {frame.at(0), frame.at(1), frame.at(2), frame.at(3), frame.at(4), frame.at(5)});
}
inline net::MacAddress SourceMacOf(const std::vector<uint8_t>& frame) {
  return net::MacAddress(
      {frame.at(6), frame.at(7), frame.at(8), frame.at(9), frame.at(10), frame.at(11)});
}

// A VXLAN datagram from a peer: the 8-byte header (I flag, `vni`), then `inner`.
inline std::vector<uint8_t> Vxlan(uint32_t vni, const std::vector<uint8_t>& inner) {
  std::vector<uint8_t> bytes(8 + inner.size());
  bytes[0] = 0x08;
  bytes[4] = static_cast<uint8_t>(vni >> 16);
  bytes[5] = static_cast<uint8_t>(vni >> 8);
  bytes[6] = static_cast<uint8_t>(vni);
  std::copy(inner.begin(), inner.end(), bytes.begin() + 8);
  return bytes;
}

}  // namespace dove::dswitch::pipeline::testing
