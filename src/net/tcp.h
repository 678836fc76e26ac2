// TCP (RFC 9293) segments over IPv4 and IPv6: parse one (optionally verifying its checksum),
// make a header, finish a built segment, and find or rewrite the MSS option.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Sequence Number                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Acknowledgment Number                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//   |       |       |R|E|G|K|H|T|N|N|                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Checksum            |         Urgent Pointer        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      Options (Data Offset > 5)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   Data Offset counts 32-bit words (5..15). Reserved bits are not checked (AccECN uses one).
//
// Options are kind-length-value, except End of Option List (0) and No-Operation (1), which are
// one byte. ParseTcp does not walk them, so a segment with odd options still forwards; the MSS
// functions do, and refuse malformed lists with kBadField.
//
// MSS clamping: a VM whose MTU does not leave room for the VXLAN encapsulation would send
// segments the underlay must fragment or drop. Lowering the MSS a SYN advertises makes both
// ends send segments that fit. RewriteMss and ClampMss patch the checksum incrementally
// (RFC 1624), so the segment's checksum must be a complete one, not the partial sum a
// checksum-offload sender leaves in the field: for those, only the option bytes change and the
// device computes the checksum later.
//
// The checksum covers the pseudo-header (addresses, protocol 6, segment length), the header
// and the data. Views (`options`, `payload`) point into the caller's buffer and live as long as
// it does. Nothing here allocates.
//
//   auto tcp = ParseTcp(segment);
//   if (!tcp) return Drop(tcp.error());
//   if (tcp->HasFlags(tcp_flag::kSyn)) {
//     auto changed = ClampMss(segment, kOverlayMss);
//     if (!changed) return Drop(changed.error());
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"

namespace dove::net {

namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcp_flag

namespace tcp_option {
inline constexpr uint8_t kEnd = 0;
inline constexpr uint8_t kNop = 1;
inline constexpr uint8_t kMss = 2;
inline constexpr uint8_t kWindowScale = 3;
inline constexpr uint8_t kSackPermitted = 4;
inline constexpr uint8_t kSack = 5;
inline constexpr uint8_t kTimestamp = 8;
}  // namespace tcp_option

struct TcpHeader {
  Be16 source_port;
  Be16 destination_port;
  Be32 sequence;
  Be32 acknowledgment;
  uint8_t data_offset_reserved;  // data offset (4 bits), reserved (4)
  uint8_t flags;                 // tcp_flag bits
  Be16 window;
  Be16 checksum;
  Be16 urgent_pointer;

  // Header length in 32-bit words.
  constexpr uint8_t data_offset() const { return data_offset_reserved >> 4; }
  constexpr size_t header_size() const { return size_t{data_offset()} * 4; }
};
static_assert(sizeof(TcpHeader) == 20);

// A parsed segment. `options` and `payload` point into the parsed buffer.
struct TcpSegment {
  TcpHeader header;
  size_t header_size = 0;  // Data Offset * 4: 20 to 60
  ByteSpan options;        // header_size - 20 bytes, not walked
  ByteSpan payload;        // everything after the header

  constexpr uint16_t source_port() const { return header.source_port.value(); }
  constexpr uint16_t destination_port() const { return header.destination_port.value(); }
  constexpr uint8_t flags() const { return header.flags; }
  // True when every flag in `mask` (tcp_flag bits) is set.
  constexpr bool HasFlags(uint8_t mask) const { return (header.flags & mask) == mask; }
};

// Parses without looking at the checksum or the options. The segment is the whole IP payload:
// TCP has no length field of its own. Errors, in the order they are checked:
//   kTruncated  fewer than 20 bytes;
//   kBadLength  Data Offset below 5;
//   kTruncated  fewer bytes than Data Offset * 4.
Result<TcpSegment> ParseTcp(ByteSpan segment);

// As above, then verifies the checksum against the IPv4 or IPv6 pseudo-header: kBadChecksum
// when it does not match. Zero has no special meaning in TCP.
Result<TcpSegment> ParseTcp(ByteSpan segment, const Ipv4Address& source,
                            const Ipv4Address& destination);
Result<TcpSegment> ParseTcp(ByteSpan segment, const Ipv6Address& source,
                            const Ipv6Address& destination);

// The value to store in the Checksum field of `segment` (header and data, at most 65535
// bytes). The field's current content is ignored, so the result can also be compared with a
// received checksum.
uint16_t TcpChecksum(const Ipv4Address& source, const Ipv4Address& destination, ByteSpan segment);
uint16_t TcpChecksum(const Ipv6Address& source, const Ipv6Address& destination, ByteSpan segment);

// A header with the given fields and room for `options_size` bytes of options after it, with
// checksum 0 (call FinishTcp once the rest is in place). kOutOfRange unless options_size is a
// multiple of 4 no larger than 40.
Result<TcpHeader> MakeTcpHeader(uint16_t source_port, uint16_t destination_port, uint32_t sequence,
                                uint32_t acknowledgment, uint8_t flags, uint16_t window,
                                size_t options_size = 0);

// Writes the checksum of the segment that fills `segment` exactly. kTruncated when shorter than
// 20 bytes; kOutOfRange when longer than 65535. Nothing is written on error.
Result<void> FinishTcp(MutableByteSpan segment, const Ipv4Address& source,
                       const Ipv4Address& destination);
Result<void> FinishTcp(MutableByteSpan segment, const Ipv6Address& source,
                       const Ipv6Address& destination);

// The value of the first MSS option in `options` (a TcpSegment's `options`), or nullopt when
// there is none before End of Option List or the end. kBadField when the list is malformed
// before that point: a length below 2, an option running past the end, or an MSS option whose
// length is not 4.
Result<std::optional<uint16_t>> FindMss(ByteSpan options);

// Sets the MSS option of `segment` (a whole segment, as ParseTcp takes) to `mss` and patches
// the checksum. True when the segment changed; false when it has no MSS option or already
// holds `mss`. Errors as ParseTcp, then as FindMss; nothing is written on error.
Result<bool> RewriteMss(MutableByteSpan segment, uint16_t mss);

// Lowers the MSS option of `segment` to `max_mss` when it is larger (what clamping wants: a
// smaller MSS a host chose stays). True when the segment changed. Errors as RewriteMss.
Result<bool> ClampMss(MutableByteSpan segment, uint16_t max_mss);

}  // namespace dove::net
