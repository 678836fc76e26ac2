// ICMP for IPv4 (RFC 792): the message carried as an IPv4 payload with protocol 1.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          rest of header (meaning depends on the type)         |
//   |  echo:        Identifier      |        Sequence Number        |
//   |  frag needed: unused (0)      |        Next-Hop MTU (RFC 1191)|
//   |  others:      unused (0)                                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  body: echo data, or for errors the offending IP header and   |
//   |  the first 8 bytes of its payload ...                         |
//
// The checksum covers the whole ICMP message (no pseudo-header). ParseIcmpv4 takes the IPv4
// payload (the caller has already cut it to the IPv4 total length) and accepts every type and
// code: which ones to answer is the caller's decision, not a wire-format error.
//
//   auto icmp = ParseIcmpv4(ip_payload);
//   if (icmp && icmp->type() == icmpv4::kEchoRequest) Reply(icmp->identifier(), ...);
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/frame_builder.h"

namespace dove::net {

namespace icmpv4 {
// Types.
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestinationUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;

// Codes of kDestinationUnreachable.
inline constexpr uint8_t kNetUnreachable = 0;
inline constexpr uint8_t kHostUnreachable = 1;
inline constexpr uint8_t kProtocolUnreachable = 2;
inline constexpr uint8_t kPortUnreachable = 3;
inline constexpr uint8_t kFragmentationNeeded = 4;  // rest of header carries the next-hop MTU
inline constexpr uint8_t kAdminProhibited = 13;     // RFC 1812 section 5.2.7.1

// Codes of kTimeExceeded.
inline constexpr uint8_t kTtlExceeded = 0;
inline constexpr uint8_t kReassemblyTimeExceeded = 1;

// What an error message quotes of the offending packet beyond its IP header (RFC 792).
inline constexpr size_t kErrorQuotePayloadBytes = 8;
}  // namespace icmpv4

struct Icmpv4Header {
  uint8_t type = 0;
  uint8_t code = 0;
  Be16 checksum;
  Be32 rest;  // see the diagram: identifier/sequence, next-hop MTU, or unused
};
static_assert(sizeof(Icmpv4Header) == 8);

// A parsed message. `body` points into the parsed buffer.
struct Icmpv4Message {
  Icmpv4Header header;
  ByteSpan body;  // everything after the 8-byte header

  constexpr uint8_t type() const { return header.type; }
  constexpr uint8_t code() const { return header.code; }
  // Meaningful for echo request and reply only.
  constexpr uint16_t identifier() const { return static_cast<uint16_t>(header.rest.value() >> 16); }
  constexpr uint16_t sequence() const { return static_cast<uint16_t>(header.rest.value()); }
  // Meaningful for destination unreachable / fragmentation needed only; 0 from a pre-RFC 1191
  // router that does not report it.
  constexpr uint16_t next_hop_mtu() const { return static_cast<uint16_t>(header.rest.value()); }
};

// Parses an ICMP message. kTruncated when shorter than 8 bytes; kBadChecksum when
// `verify_checksum` and the checksum over the whole message does not verify. Nothing else is
// checked: unknown types and codes parse.
Result<Icmpv4Message> ParseIcmpv4(ByteSpan message, bool verify_checksum = true);

// A header with a zero checksum, to be filled by FinishIcmpv4 once the body is in place.
constexpr Icmpv4Header MakeIcmpv4Header(uint8_t type, uint8_t code, uint32_t rest = 0) {
  return Icmpv4Header{type, code, Be16(), Be32::Of(rest)};
}
// The header of an echo request or reply.
constexpr Icmpv4Header MakeIcmpv4EchoHeader(uint8_t type, uint16_t identifier, uint16_t sequence) {
  return MakeIcmpv4Header(type, 0, static_cast<uint32_t>(identifier) << 16 | sequence);
}

// Computes the checksum over the whole `message` (header and body) and stores it in the
// header. A span shorter than the header is a caller bug and is left untouched.
void FinishIcmpv4(MutableByteSpan message);

// How many bytes of `offending_ip_packet` (an IPv4 packet starting at its header) an error
// message quotes: the IP header (IHL * 4) and the first 8 bytes of its payload, limited to the
// bytes there are. 0 for an empty buffer. The packet is assumed already parsed; the IHL is
// used as it is.
size_t Icmpv4ErrorQuoteLength(ByteSpan offending_ip_packet);

// Appends a complete error message (destination unreachable or time exceeded): the header
// built from `type`, `code` and `rest`, the quote of `offending_ip_packet` given by
// Icmpv4ErrorQuoteLength, and the checksum. Returns the offset where the message starts.
size_t AppendIcmpv4Error(FrameBuilder& builder, uint8_t type, uint8_t code, uint32_t rest,
                         ByteSpan offending_ip_packet);

}  // namespace dove::net
