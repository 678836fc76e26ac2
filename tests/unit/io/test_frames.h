// Frames for the io tests: Ethernet/IPv4 TCP and UDP frames as a sender with offloads leaves
// them (super-frames, partial checksums) or as they cross the wire, VXLAN datagrams, and
// checks of what came out.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_pool.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "net/vxlan.h"

namespace dove::dswitch::io::testing {

inline const net::MacAddress kVmMac = *net::MacAddress::Parse("52:54:00:00:00:01");
inline const net::MacAddress kPeerMac = *net::MacAddress::Parse("52:54:00:00:00:02");
inline const net::Ipv4Address kVmIp = *net::Ipv4Address::Parse("10.0.0.1");
inline const net::Ipv4Address kPeerIp = *net::Ipv4Address::Parse("10.0.0.2");
inline constexpr size_t kTcpAt = 14 + 20;

inline std::vector<uint8_t> Pattern(size_t size, size_t from = 0) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    const size_t at = from + i;
    bytes[i] = static_cast<uint8_t>(at * 7 + at / 251);
  }
  return bytes;
}

inline uint16_t PartialSum(const net::Ipv4Address& source, const net::Ipv4Address& destination,
                           uint8_t protocol, size_t length) {
  return static_cast<uint16_t>(~net::ChecksumFold(
      net::PseudoHeaderSum(source, destination, protocol, static_cast<uint16_t>(length))));
}

struct TcpSpec {
  net::MacAddress source_mac = kVmMac;
  net::MacAddress destination_mac = kPeerMac;
  net::Ipv4Address source = kVmIp;
  net::Ipv4Address destination = kPeerIp;
  uint16_t source_port = 40000;
  uint16_t destination_port = 80;
  uint32_t sequence = 1000;
  uint32_t ack = 1;
  uint8_t flags = net::tcp_flag::kAck;
  std::vector<uint8_t> options = {};  // a multiple of 4 bytes
  // The checksum field: the pseudo-header sum a checksum-offload sender leaves, or complete.
  bool partial_checksum = false;
};

// An Ethernet | IPv4 | TCP frame carrying `payload`.
inline std::vector<uint8_t> TcpFrame(const TcpSpec& spec, const std::vector<uint8_t>& payload) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(spec.destination_mac, spec.source_mac, net::ether_type::kIpv4));
  const size_t tcp_size = 20 + spec.options.size() + payload.size();
  b.Append(*net::MakeIpv4Header(spec.source, spec.destination, net::ip_proto::kTcp, 64, tcp_size));
  const size_t tcp_at =
      b.Append(*net::MakeTcpHeader(spec.source_port, spec.destination_port, spec.sequence, spec.ack,
                                   spec.flags, 65535, spec.options.size()));
  b.Append(net::ByteSpan(spec.options));
  b.Append(net::ByteSpan(payload));
  EXPECT_TRUE(net::FinishTcp(b.From(tcp_at), spec.source, spec.destination));
  std::vector<uint8_t> bytes = std::move(b).Take();
  if (spec.partial_checksum) {
    const uint16_t sum = PartialSum(spec.source, spec.destination, net::ip_proto::kTcp, tcp_size);
    bytes[kTcpAt + 16] = static_cast<uint8_t>(sum >> 8);
    bytes[kTcpAt + 17] = static_cast<uint8_t>(sum);
  }
  return bytes;
}

// The offload state of a TcpFrame super-frame (partial_checksum set) of `mss`-byte segments.
inline packet::OffloadInfo SuperOffload(uint16_t mss) {
  return {.gso = packet::GsoType::kTcp4,
          .gso_size = mss,
          .csum_partial = true,
          .csum_start = kTcpAt,
          .csum_offset = 16};
}

// An Ethernet | IPv4 | UDP frame; its checksum partial (the pseudo-header sum) when asked.
inline std::vector<uint8_t> UdpFrame(const std::vector<uint8_t>& payload, bool partial = false,
                                     uint16_t source_port = 1000) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac, net::ether_type::kIpv4));
  const size_t ip_at =
      b.Append(*net::MakeIpv4Header(kVmIp, kPeerIp, net::ip_proto::kUdp, 64, 8 + payload.size()));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(source_port, 2000, payload.size()));
  b.Append(net::ByteSpan(payload));
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), kVmIp, kPeerIp));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  std::vector<uint8_t> bytes = std::move(b).Take();
  if (partial) {
    const uint16_t sum = PartialSum(kVmIp, kPeerIp, net::ip_proto::kUdp, 8 + payload.size());
    bytes[kTcpAt + 6] = static_cast<uint8_t>(sum >> 8);
    bytes[kTcpAt + 7] = static_cast<uint8_t>(sum);
  }
  return bytes;
}

inline packet::OffloadInfo UdpPartialOffload() {
  return {.csum_partial = true, .csum_start = kTcpAt, .csum_offset = 6};
}

// `inner` behind a VXLAN header of `vni`.
inline std::vector<uint8_t> WithVxlan(const std::vector<uint8_t>& inner, uint32_t vni = 100) {
  net::FrameBuilder b;
  b.Append(*net::MakeVxlanHeader(vni));
  b.Append(net::ByteSpan(inner));
  return std::move(b).Take();
}

// A packet of `pool` holding `bytes`.
inline packet::Packet* MakePacket(packet::PacketPool& pool, const std::vector<uint8_t>& bytes,
                                  const packet::OffloadInfo& offload = {}) {
  packet::Packet* p = pool.Alloc(bytes.size());
  EXPECT_NE(p, nullptr);
  if (p == nullptr) return nullptr;
  EXPECT_TRUE(p->Assign(bytes));
  p->offload = offload;
  return p;
}

inline std::vector<uint8_t> Bytes(const packet::Packet& p) {
  return {p.data(), p.data() + p.size()};
}

// The TCP segment of an Ethernet | IPv4 | TCP frame, its checksums verified; nullopt (and a
// test failure) otherwise.
inline std::optional<net::TcpSegment> ValidTcp(net::ByteSpan frame) {
  const auto ethernet = net::ParseEthernet(frame);
  EXPECT_TRUE(ethernet);
  if (!ethernet) return std::nullopt;
  const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/true);
  EXPECT_TRUE(ip) << (ip ? "" : net::ErrorName(ip.error()));
  if (!ip) return std::nullopt;
  auto tcp = net::ParseTcp(ip->payload, ip->source(), ip->destination());
  EXPECT_TRUE(tcp) << (tcp ? "" : net::ErrorName(tcp.error()));
  if (!tcp) return std::nullopt;
  return *tcp;
}

}  // namespace dove::dswitch::io::testing
