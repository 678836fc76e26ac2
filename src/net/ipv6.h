// IPv6 (RFC 8200) packets: parse one through its extension headers, make a header, finish a
// built packet.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Traffic Class |           Flow Label                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                                                               +
//   |                         Source Address                        |
//   +                                                               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                                                               +
//   |                      Destination Address                      |
//   +                                                               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension headers (section 4) that ParseIpv6 walks. Hop-by-Hop (0), Routing (43) and
// Destination Options (60) share one shape, Hdr Ext Len counting 8 bytes past the first 8:
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Next Header  |  Hdr Ext Len  |  (Hdr Ext Len + 1) * 8 bytes  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// The Authentication Header (51, RFC 4302) has the same first two bytes but counts 4-byte
// units less 2: it is (Payload Len + 2) * 4 bytes. Fragment (44) is always 8 bytes:
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Identification                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// ParseIpv6 takes the bytes that follow an Ethernet header; bytes past Payload Length
// (Ethernet padding) are excluded from the payload. It skips extension headers, without
// interpreting their options, until it reaches a header that is not one; that number is
// `upper_protocol` and `payload` starts there. The walk also stops at ESP (50: what follows is
// encrypted), at No Next Header (59), and after the Fragment header of a non-first fragment:
// what follows it is the middle of the original payload, not a header, and `upper_protocol` is
// the Fragment header's Next Header. Check IsFragment() before parsing UDP or TCP. Mobility
// (135), HIP (139) and Shim6 (140) headers are not walked; they come back as upper_protocol.
//
// Views (`payload`) point into the caller's buffer and live as long as it does. Nothing here
// allocates.
//
//   auto ip = ParseIpv6(frame->payload);
//   if (!ip) return Drop(ip.error());
//   if (ip->upper_protocol == ip_proto::kTcp && !ip->IsFragment()) HandleTcp(*ip);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ip_proto.h"
#include "net/ipv6_address.h"

namespace dove::net {

struct Ipv6Header {
  Be32 version_class_flow;  // version (4 bits), traffic class (8), flow label (20)
  Be16 payload_length;      // bytes after this 40-byte header, extension headers included
  uint8_t next_header;
  uint8_t hop_limit;
  Ipv6Address source;
  Ipv6Address destination;

  constexpr uint8_t version() const {
    return static_cast<uint8_t>(version_class_flow.bytes[0] >> 4);
  }
  constexpr uint8_t traffic_class() const {
    return static_cast<uint8_t>(version_class_flow.value() >> 20);
  }
  constexpr uint32_t flow_label() const { return version_class_flow.value() & 0xfffff; }
};
static_assert(sizeof(Ipv6Header) == 40);

struct Ipv6FragmentHeader {
  uint8_t next_header;
  uint8_t reserved;
  Be16 offset_flags;  // offset (13 bits, in 8-byte units), reserved (2), M (1)
  Be32 identification;

  // Where this fragment's data sits in the original payload, in bytes.
  constexpr uint16_t fragment_offset() const { return offset_flags.value() & 0xfff8; }
  constexpr bool more_fragments() const { return (offset_flags.value() & 0x0001) != 0; }
};
static_assert(sizeof(Ipv6FragmentHeader) == 8);

// A parsed packet. `payload` points into the parsed buffer.
struct Ipv6Packet {
  // Longer chains are refused: real traffic carries two or three, and a bound keeps a hostile
  // chain of empty headers from costing the parser more than a few steps.
  static constexpr int kMaxExtensionHeaders = 8;

  Ipv6Header header;
  uint8_t upper_protocol = 0;  // the Next Header that ended the walk (see above)
  size_t header_size = 0;      // 40 plus every extension header walked
  ByteSpan payload;            // from header_size to the end of Payload Length
  // Present when the chain holds a Fragment header.
  std::optional<Ipv6FragmentHeader> fragment;

  constexpr const Ipv6Address& source() const { return header.source; }
  constexpr const Ipv6Address& destination() const { return header.destination; }
  constexpr uint8_t hop_limit() const { return header.hop_limit; }
  // True for every piece of a fragmented packet, the first one included. An atomic fragment
  // (a Fragment header with offset 0 and M clear, RFC 6946) is a whole packet: false.
  constexpr bool IsFragment() const {
    return fragment && (fragment->more_fragments() || fragment->fragment_offset() != 0);
  }
};

// Errors, in the order they are checked:
//   kTruncated    fewer than 40 bytes;
//   kBadVersion   Version is not 6;
//   kTruncated    fewer bytes than 40 + Payload Length;
//   kUnsupported  a jumbogram (Payload Length 0 and a Hop-by-Hop header holding the Jumbo
//                 Payload option, RFC 2675): DOVE's links never carry them;
// then, header by header along the chain:
//   kBadField     a Hop-by-Hop header anywhere but first, or a second Fragment header;
//   kUnsupported  more than kMaxExtensionHeaders extension headers;
//   kBadLength    the extension header runs past the end of Payload Length (the buffer is
//                 long enough; the packet's own fields disagree).
Result<Ipv6Packet> ParseIpv6(ByteSpan packet);

// A 40-byte header for `payload_length` bytes after it (extension headers included).
// kOutOfRange when payload_length exceeds 65535 or flow_label 20 bits.
Result<Ipv6Header> MakeIpv6Header(const Ipv6Address& source, const Ipv6Address& destination,
                                  uint8_t next_header, uint8_t hop_limit, size_t payload_length,
                                  uint8_t traffic_class = 0, uint32_t flow_label = 0);

// Finishes the packet that fills `packet` exactly: writes Payload Length = packet.size() - 40.
// kTruncated when shorter than 40 bytes; kBadVersion when Version is not 6; kOutOfRange when
// the payload is longer than 65535 bytes. Nothing is written on error.
Result<void> FinishIpv6(MutableByteSpan packet);

}  // namespace dove::net
