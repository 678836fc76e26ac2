// VXLAN (RFC 7348): the 8-byte header between the outer UDP header and the inner Ethernet
// frame, the UDP source port that gives the underlay's ECMP its entropy, and the inner-flow
// hash that port is made from.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |R|R|R|R|I|R|R|R|            Reserved                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                VXLAN Network Identifier (VNI) |   Reserved    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Sending: MakeVxlanHeader produces exactly `08 00 00 00 | VNI << 8`, the only form the Linux
// kernel's VXLAN device accepts, so a kernel VTEP can always be our peer.
//
// Receiving: RFC 7348 says reserved bits are ignored on receipt, but the Linux kernel drops a
// frame with any flag other than I set, or a non-zero last byte. A network mixing kernel VTEPs
// and ours must drop the same frames on every host, or a sender that sets a reserved bit (a
// GBP or GPE extension, a buggy peer) reaches the VMs on some hosts and not on others. So
// ParseVxlan is strict by default (VxlanReceivePolicy::kStrict): flags exactly 0x08 and every
// reserved byte zero. VxlanReceivePolicy::kLenient is RFC 7348 to the letter: only the I flag
// is required and the reserved bits are ignored.
//
// ParseVxlan's errors, in the order they are checked:
//   kTruncated  fewer than 8 bytes;
//   kBadField   the I flag is clear (the VNI is not valid), or, when strict, flags other than
//               0x08 or a non-zero reserved byte;
//   kTruncated  the inner frame is shorter than an Ethernet header (14 bytes), empty included.
// The returned inner_frame points into the caller's buffer. Nothing here allocates.
//
//   auto packet = ParseVxlan(udp_payload);
//   if (!packet) return Drop(packet.error());
//   Deliver(packet->vni, packet->inner_frame);
#pragma once

#include <array>
#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"

namespace dove::net {

inline constexpr uint16_t kVxlanPort = 4789;  // IANA; Linux defaults to 8472 unless told
inline constexpr uint8_t kVxlanFlagI = 0x08;  // the VNI field is valid
inline constexpr uint32_t kMaxVni = 0xFFFFFF;
// Outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8; with IPv6 (40) instead of IPv4, 70. VTEPs do
// not fragment, so the overlay MTU is the underlay MTU minus this.
inline constexpr size_t kVxlanOverheadIpv4 = 50;
inline constexpr size_t kVxlanOverheadIpv6 = 70;
// The range the UDP source port is drawn from (RFC 7348 section 5: the dynamic ports).
inline constexpr uint16_t kVxlanSourcePortMin = 49152;
inline constexpr uint16_t kVxlanSourcePortMax = 65535;

struct VxlanHeader {
  uint8_t flags;
  std::array<uint8_t, 3> reserved1;
  Be24 vni;
  uint8_t reserved2;
};
static_assert(sizeof(VxlanHeader) == 8);

// What ParseVxlan does with the reserved bits and flags other than I (see the file comment).
enum class VxlanReceivePolicy : uint8_t {
  kStrict,   // as the Linux kernel: flags exactly 0x08, reserved bytes zero, else kBadField
  kLenient,  // as RFC 7348: ignore them
};

// A parsed VXLAN packet. `inner_frame` points into the parsed buffer and holds at least an
// Ethernet header.
struct VxlanPacket {
  uint32_t vni = 0;
  uint8_t flags = 0;  // as received: always has kVxlanFlagI; only that one when strict
  ByteSpan inner_frame;
};

// The header for `vni`: `08 00 00 00 | vni << 8`. kOutOfRange when vni exceeds 24 bits.
Result<VxlanHeader> MakeVxlanHeader(uint32_t vni);

// Parses a UDP payload received on the VXLAN port. Errors as listed in the file comment.
Result<VxlanPacket> ParseVxlan(ByteSpan udp_payload,
                               VxlanReceivePolicy policy = VxlanReceivePolicy::kStrict);

// A hash of the inner frame's flow, for VxlanSourcePort. It covers the destination and source
// MACs and the EtherType (the inner one after an 802.1Q tag); for IPv4 and IPv6 the protocol
// (next header) and both addresses; and for TCP and UDP both ports. Ports are left out of IPv4
// fragments (only the first one carries them, and all fragments of a packet must take one
// path) and of IPv6 packets with extension headers (not walked, to stay small and fast). Every
// read is bounds-checked: a short or malformed frame hashes whatever fields it does hold.
// Deterministic across processes and hosts: the same flow always gets the same value.
// MurmurHash3's 32-bit mixing steps over those fields.
uint32_t InnerFlowHash(ByteSpan inner_frame);

// Maps a flow hash into kVxlanSourcePortMin..kVxlanSourcePortMax. Like Linux's
// udp_flow_src_port, it folds the low half of the hash into the high half before scaling, so
// hashes that differ only in their low bits still land on different ports.
constexpr uint16_t VxlanSourcePort(uint32_t flow_hash) {
  constexpr uint64_t kRange = kVxlanSourcePortMax - kVxlanSourcePortMin + 1;
  const uint32_t folded = flow_hash ^ (flow_hash << 16);
  return static_cast<uint16_t>(kVxlanSourcePortMin + ((folded * kRange) >> 32));
}

}  // namespace dove::net
