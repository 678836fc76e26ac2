// IPv4 (RFC 791) packets: parse one, make a header, finish a built packet.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |R|D|M|     Fragment Offset     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options (when IHL > 5)     |    Padding    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   IHL counts 32-bit words (5..15). R is reserved, D is Don't Fragment, M is More Fragments;
//   Fragment Offset counts 8-byte units.
//
// ParseIpv4 takes the bytes that follow an Ethernet header. They may run past Total Length
// (Ethernet pads short frames to 60 bytes): the payload stops at Total Length. Options are
// handed back as bytes, not interpreted. The reserved flag is not checked: receivers ignore it
// and a switch should not drop what the hosts would accept. A fragment parses like any packet,
// but the payload of a non-first fragment is not an upper-layer header: check IsFragment()
// before parsing UDP or TCP from it.
//
// Views (`options`, `payload`) point into the caller's buffer and live as long as it does.
// Nothing here allocates.
//
//   auto ip = ParseIpv4(frame->payload);
//   if (!ip) return Drop(ip.error());
//   if (ip->protocol() == ip_proto::kUdp && !ip->IsFragment()) HandleUdp(*ip);
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ip_proto.h"
#include "net/ipv4_address.h"

namespace dove::net {

struct Ipv4Header {
  static constexpr uint16_t kDontFragment = 0x4000;
  static constexpr uint16_t kMoreFragments = 0x2000;
  static constexpr uint16_t kOffsetMask = 0x1fff;

  uint8_t version_ihl;
  uint8_t dscp_ecn;  // the old Type of Service byte
  Be16 total_length;
  Be16 identification;
  Be16 flags_fragment_offset;
  uint8_t ttl;
  uint8_t protocol;
  Be16 checksum;
  Ipv4Address source;
  Ipv4Address destination;

  constexpr uint8_t version() const { return version_ihl >> 4; }
  // Header length in 32-bit words.
  constexpr uint8_t ihl() const { return version_ihl & 0x0f; }
  constexpr size_t header_size() const { return size_t{ihl()} * 4; }
  constexpr uint8_t dscp() const { return dscp_ecn >> 2; }
  constexpr uint8_t ecn() const { return dscp_ecn & 0x03; }
  constexpr bool dont_fragment() const {
    return (flags_fragment_offset.value() & kDontFragment) != 0;
  }
  constexpr bool more_fragments() const {
    return (flags_fragment_offset.value() & kMoreFragments) != 0;
  }
  // Where this fragment's data sits in the original payload, in bytes (the field times 8).
  constexpr uint16_t fragment_offset() const {
    return static_cast<uint16_t>((flags_fragment_offset.value() & kOffsetMask) * 8);
  }
  // True for every piece of a fragmented packet, the first one included.
  constexpr bool IsFragment() const { return more_fragments() || fragment_offset() != 0; }
};
static_assert(sizeof(Ipv4Header) == 20);

// A parsed packet. `options` and `payload` point into the parsed buffer.
struct Ipv4Packet {
  Ipv4Header header;
  size_t header_size = 0;  // IHL * 4: 20 to 60
  ByteSpan options;        // header_size - 20 bytes, uninterpreted
  ByteSpan payload;        // Total Length - header_size bytes; any padding after it excluded

  constexpr const Ipv4Address& source() const { return header.source; }
  constexpr const Ipv4Address& destination() const { return header.destination; }
  constexpr uint8_t protocol() const { return header.protocol; }
  constexpr uint8_t ttl() const { return header.ttl; }
  constexpr uint16_t total_length() const { return header.total_length.value(); }
  constexpr bool IsFragment() const { return header.IsFragment(); }
};

// Errors, in the order they are checked:
//   kTruncated    fewer than 20 bytes;
//   kBadVersion   Version is not 4;
//   kBadLength    IHL below 5, or Total Length below IHL * 4;
//   kTruncated    fewer bytes than Total Length;
//   kBadChecksum  `verify_checksum` and the header (options included) does not sum to zero.
// Pass verify_checksum = false for packets whose checksum a NIC or the kernel already checked.
Result<Ipv4Packet> ParseIpv4(ByteSpan packet, bool verify_checksum = true);

// A 20-byte header (no options) for a payload of `payload_length` bytes, its checksum filled
// in. Identification 0 suits packets sent with Don't Fragment (RFC 6864 section 4.1); a sender
// that lets its packets be fragmented must pass a fresh one per packet. kOutOfRange when
// 20 + payload_length exceeds 65535.
Result<Ipv4Header> MakeIpv4Header(const Ipv4Address& source, const Ipv4Address& destination,
                                  uint8_t protocol, uint8_t ttl, size_t payload_length,
                                  uint16_t identification = 0, bool dont_fragment = true,
                                  uint8_t dscp_ecn = 0);

// Finishes the packet that fills `packet` exactly (header, options, payload): writes Total
// Length = packet.size() and then the header checksum. For packets assembled before their size
// was known (FrameBuilder). kTruncated when shorter than 20 bytes or than IHL * 4; kBadVersion
// when Version is not 4; kBadLength when IHL is below 5; kOutOfRange when longer than 65535
// bytes. Nothing is written on error.
Result<void> FinishIpv4(MutableByteSpan packet);

}  // namespace dove::net
