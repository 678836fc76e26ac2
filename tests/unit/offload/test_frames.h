// Frames for the offload tests: TCP super-frames as a sender with TSO leaves them (IPv4
// header complete, TCP checksum field holding the pseudo-header sum), TCP segments as they
// cross the wire (every checksum complete), and packets of a pool holding them.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_pool.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::offload::testing {

inline const net::MacAddress kVmMac = *net::MacAddress::Parse("52:54:00:00:00:01");
inline const net::MacAddress kPeerMac = *net::MacAddress::Parse("52:54:00:00:00:02");
inline const net::Ipv4Address kSource4 = *net::Ipv4Address::Parse("10.0.0.1");
inline const net::Ipv4Address kDestination4 = *net::Ipv4Address::Parse("10.0.0.2");
inline const net::Ipv6Address kSource6 = *net::Ipv6Address::Parse("2001:db8::1");
inline const net::Ipv6Address kDestination6 = *net::Ipv6Address::Parse("2001:db8::2");

inline constexpr uint32_t kSequence = 0xfffff000;  // wraps during the segments
inline constexpr uint32_t kAck = 77;
inline constexpr uint16_t kIpId = 0x1234;
inline constexpr size_t kMss = 1000;
// NOP, NOP, timestamp: options every segment must carry.
inline const std::vector<uint8_t> kTcpOptions = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

inline std::vector<uint8_t> Pattern(size_t size, size_t from = 0) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    const size_t at = from + i;
    bytes[i] = static_cast<uint8_t>(at * 7 + at / 251);
  }
  return bytes;
}

inline void Put16(std::vector<uint8_t>& bytes, size_t at, uint16_t value) {
  bytes[at] = static_cast<uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<uint8_t>(value);
}
inline uint16_t Get16(net::ByteSpan bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

// What a TCP frame looks like; defaults: IPv4, timestamps, ACK.
struct TcpSpec {
  bool ipv6 = false;
  std::vector<uint8_t> options = kTcpOptions;
  uint8_t flags = net::tcp_flag::kAck;
  uint32_t sequence = kSequence;
  uint32_t ack = kAck;
  uint16_t id = kIpId;
  uint16_t source_port = 40000;
  uint16_t window = 512;
  uint8_t ttl = 64;
  // How the TCP checksum field is filled: complete (a wire segment) or partial (the folded,
  // uncomplemented pseudo-header sum a checksum-offload sender leaves).
  bool partial_checksum = false;
};

inline size_t TcpAt(bool ipv6) { return ipv6 ? 14 + 40 : 14 + 20; }

inline std::vector<uint8_t> TcpFrame(const TcpSpec& spec, const std::vector<uint8_t>& payload) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac,
                                   spec.ipv6 ? net::ether_type::kIpv6 : net::ether_type::kIpv4));
  const size_t tcp_size = 20 + spec.options.size() + payload.size();
  if (spec.ipv6) {
    b.Append(
        *net::MakeIpv6Header(kSource6, kDestination6, net::ip_proto::kTcp, spec.ttl, tcp_size));
  } else {
    b.Append(*net::MakeIpv4Header(kSource4, kDestination4, net::ip_proto::kTcp, spec.ttl, tcp_size,
                                  spec.id));
  }
  b.Append(*net::MakeTcpHeader(spec.source_port, 80, spec.sequence, spec.ack, spec.flags,
                               spec.window, spec.options.size()));
  b.Append(net::ByteSpan(spec.options));
  b.Append(net::ByteSpan(payload));
  auto bytes = std::move(b).Take();
  const size_t tcp_at = TcpAt(spec.ipv6);
  const net::MutableByteSpan segment = net::MutableByteSpan(bytes).subspan(tcp_at);
  uint64_t pseudo = 0;
  if (spec.ipv6) {
    pseudo = net::PseudoHeaderSum(kSource6, kDestination6, net::ip_proto::kTcp,
                                  static_cast<uint32_t>(tcp_size));
    EXPECT_TRUE(net::FinishTcp(segment, kSource6, kDestination6));
  } else {
    pseudo = net::PseudoHeaderSum(kSource4, kDestination4, net::ip_proto::kTcp,
                                  static_cast<uint16_t>(tcp_size));
    EXPECT_TRUE(net::FinishTcp(segment, kSource4, kDestination4));
  }
  if (spec.partial_checksum) {
    Put16(bytes, tcp_at + 16, static_cast<uint16_t>(~net::ChecksumFold(pseudo)));
  }
  return bytes;
}

// The offload state of a super-frame made by TcpFrame(spec with partial_checksum).
inline packet::OffloadInfo SuperOffload(const TcpSpec& spec, uint16_t mss = kMss) {
  return packet::OffloadInfo{
      .gso = spec.ipv6 ? packet::GsoType::kTcp6 : packet::GsoType::kTcp4,
      .gso_ecn = (spec.flags & net::tcp_flag::kCwr) != 0,
      .gso_size = mss,
      .csum_partial = true,
      .csum_start = static_cast<uint16_t>(TcpAt(spec.ipv6)),
      .csum_offset = 16,
  };
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

}  // namespace dove::dswitch::offload::testing
