// TcpFrame: where the headers of an Ethernet / IPv4 or IPv6 / TCP frame lie, what the
// segmenter and the coalescer both need before they touch a byte. ParseTcpFrame parses the
// frame (never trusting hdr_len or PacketMeta offsets) and bounds every later access: all
// offsets it returns lie inside the frame, so `frame.subspan(x.payload_at)` and the fixed
// header fields at ip_at / tcp_at are safe to read and write.
//
// Internal to dove_offload (not part of its contract); not thread-safe only in the sense that
// the frame must not change while a TcpFrame describes it.
//
//   const auto tcp = ParseTcpFrame(packet.span());
//   if (!tcp) return Unexpected(tcp.error());
//   net::ByteSpan payload = packet.span().subspan(tcp->payload_at, tcp->payload_size());
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/expected.h"
#include "net/byte_order.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"

namespace dove::dswitch::offload {

struct TcpFrame {
  // Offsets of the fixed header fields the offloads rewrite.
  static constexpr size_t kIpv4TotalLengthAt = 2;
  static constexpr size_t kIpv4IdAt = 4;
  static constexpr size_t kIpv4ChecksumAt = 10;
  static constexpr size_t kIpv6PayloadLengthAt = 4;
  static constexpr size_t kTcpSequenceAt = 4;
  static constexpr size_t kTcpFlagsAt = 13;
  static constexpr size_t kTcpChecksumAt = 16;  // offsetof(TcpHeader, checksum)

  bool ipv6 = false;
  bool vlan_tagged = false;
  bool ip_options = false;  // IPv4 IHL > 5, or IPv6 extension headers before TCP
  size_t ip_at = 0;         // after Ethernet (and its VLAN tag)
  size_t tcp_at = 0;        // after IP (options or extension headers included)
  size_t payload_at = 0;    // after TCP (options included): the bytes of headers
  size_t payload_end = 0;   // where the IP packet ends (Ethernet padding excluded)
  net::Ipv4Address source4, destination4;
  net::Ipv6Address source6, destination6;

  size_t header_size() const { return payload_at; }
  size_t payload_size() const { return payload_end - payload_at; }
  size_t tcp_size() const { return payload_end - tcp_at; }
  // The TCP checksum of `tcp_bytes` (the segment from tcp_at) under this frame's addresses.
  uint16_t TcpChecksum(net::ByteSpan tcp_bytes) const;
  // The pseudo-header sum of a TCP segment of `tcp_length` bytes under this frame's addresses.
  uint64_t PseudoHeaderSum(size_t tcp_length) const;
  // Whether the IPv4 header checksum (IPv6 has none) and the TCP checksum of `frame` (the
  // frame this TcpFrame was parsed from) verify.
  bool ChecksumsVerify(net::ByteSpan frame) const;
};

// Parses an Ethernet / IP / TCP frame, refusing (one sentence) what is not one: a short or
// malformed header at any layer, an EtherType other than IPv4 and IPv6, another upper protocol,
// or a fragment (an IPv6 atomic fragment included: Linux's GSO and GRO take none either).
// Checksums are not looked at (see TcpFrame::ChecksumsVerify).
Expected<TcpFrame, const char*> ParseTcpFrame(net::ByteSpan frame);

// Big-endian 16-bit store at `at` of `bytes` (the caller has bounded it by a TcpFrame).
inline void Store16(net::MutableByteSpan bytes, size_t at, uint16_t value) {
  bytes[at] = static_cast<uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<uint8_t>(value);
}
inline uint16_t Load16(net::ByteSpan bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

}  // namespace dove::dswitch::offload
