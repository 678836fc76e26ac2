// Frames and a small network for the pipeline tests, built with src/net's builders.
//
// The scenario: this switch (VTEP 192.0.2.10) carries network 100 with ports 1 (vm1) and 2
// (vm2), and network 200 with port 3 (vm3); network 100 also has vm9 on the VTEP 192.0.2.20,
// and its flood list is {192.0.2.20, 192.0.2.30}.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
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
  EXPECT_TRUE(t.AddNetwork(kVni, kRouterMac, {kPeerVtep, kOtherPeerVtep}));
  EXPECT_TRUE(t.AddNetwork(kOtherVni, kRouterMac, {}));
  EXPECT_TRUE(t.AddPort({.id = 1, .vni = kVni, .mac = kVm1Mac, .ips = {kVm1Ip, kVm1Ip6}}));
  EXPECT_TRUE(t.AddPort({.id = 2, .vni = kVni, .mac = kVm2Mac, .ips = {kVm2Ip, kVm2Ip6}}));
  EXPECT_TRUE(t.AddPort({.id = 3, .vni = kOtherVni, .mac = kVm3Mac, .ips = {kVm3Ip}}));
  return t;
}

inline MapRemoteLookup ScenarioRemotes() {
  MapRemoteLookup remotes;
  remotes.Add(kVni, kVm9Mac, kPeerVtep, {kVm9Ip, kVm9Ip6});
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

inline Frame PortFrame(std::vector<uint8_t> bytes, PortId port, uint32_t vni = kNoVni) {
  return Frame{.bytes = std::move(bytes), .port = port, .vni = vni, .tunnel = {}};
}

inline Batch OneFrame(std::vector<uint8_t> bytes, PortId port, uint32_t vni = kNoVni) {
  Batch batch;
  batch.Push(Frame{.bytes = std::move(bytes), .port = port, .vni = vni, .tunnel = {}});
  return batch;
}

}  // namespace dove::dswitch::pipeline::testing
