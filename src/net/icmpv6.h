// ICMPv6 (RFC 4443): the message carried as an IPv6 payload with next header 58.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  first word of the body (meaning depends on the type)         |
//   |  echo:          Identifier    |        Sequence Number        |
//   |  packet too big: MTU                                          |
//   |  param problem: Pointer                                       |
//   |  other errors, RS, NS: unused / reserved; NA: R S O flags     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  rest of the body: echo data, the invoking packet of an       |
//   |  error, or the Neighbor Discovery fixed part and options ...  |
//
// Icmpv6Header is RFC 4443's general 4-byte header; everything after it is the body. Every
// message type has at least a 4-byte first word, so (like Linux) ParseIcmpv6 refuses
// messages shorter than 8 bytes. The checksum covers the IPv6 pseudo-header (source,
// destination, upper-layer length, next header 58) and the whole message, so the parser and
// the builders take the addresses of the enclosing IPv6 packet. Every type and code parses;
// the Neighbor Discovery messages are read further by neighbor_discovery.h.
//
//   auto icmp = ParseIcmpv6(ip->payload, ip->source, ip->destination);
//   if (icmp && icmp->type() == icmpv6::kEchoRequest) Reply(icmp->identifier(), ...);
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/frame_builder.h"
#include "net/ipv6_address.h"

namespace dove::net {

namespace icmpv6 {
// Error types (below 128).
inline constexpr uint8_t kDestinationUnreachable = 1;
inline constexpr uint8_t kPacketTooBig = 2;
inline constexpr uint8_t kTimeExceeded = 3;
inline constexpr uint8_t kParameterProblem = 4;
// Informational types.
inline constexpr uint8_t kEchoRequest = 128;
inline constexpr uint8_t kEchoReply = 129;
inline constexpr uint8_t kRouterSolicitation = 133;
inline constexpr uint8_t kRouterAdvertisement = 134;
inline constexpr uint8_t kNeighborSolicitation = 135;
inline constexpr uint8_t kNeighborAdvertisement = 136;
inline constexpr uint8_t kRedirect = 137;

// Codes of kDestinationUnreachable.
inline constexpr uint8_t kNoRoute = 0;
inline constexpr uint8_t kAdminProhibited = 1;
inline constexpr uint8_t kBeyondScope = 2;
inline constexpr uint8_t kAddressUnreachable = 3;
inline constexpr uint8_t kPortUnreachable = 4;

// Codes of kTimeExceeded.
inline constexpr uint8_t kHopLimitExceeded = 0;
inline constexpr uint8_t kReassemblyTimeExceeded = 1;

// Codes of kParameterProblem.
inline constexpr uint8_t kErroneousHeaderField = 0;
inline constexpr uint8_t kUnrecognizedNextHeader = 1;
inline constexpr uint8_t kUnrecognizedOption = 2;

// The shortest message ParseIcmpv6 accepts: the header and the body's first word.
inline constexpr size_t kMinimumMessageSize = 8;
// An error message must fit the IPv6 minimum MTU (RFC 4443 section 2.4 (c)): 1280 less the
// 40-byte IPv6 header and the 8 bytes before the quote.
inline constexpr size_t kMaxErrorQuote = 1280 - 40 - 8;
}  // namespace icmpv6

struct Icmpv6Header {
  uint8_t type = 0;
  uint8_t code = 0;
  Be16 checksum;
};
static_assert(sizeof(Icmpv6Header) == 4);

// A parsed message. `body` points into the parsed buffer; `source` and `destination` are the
// addresses it was parsed with, kept because Neighbor Discovery validation depends on them.
struct Icmpv6Message {
  Icmpv6Header header;
  ByteSpan body;  // everything after the 4-byte header: at least 4 bytes when parsed
  Ipv6Address source;
  Ipv6Address destination;

  constexpr uint8_t type() const { return header.type; }
  constexpr uint8_t code() const { return header.code; }
  // The body's first 32-bit word; 0 when the body is shorter (only a hand-made message).
  constexpr uint32_t first_word() const {
    if (body.size() < 4) return 0;
    return static_cast<uint32_t>(body[0]) << 24 | static_cast<uint32_t>(body[1]) << 16 |
           static_cast<uint32_t>(body[2]) << 8 | body[3];
  }
  // Meaningful for echo request and reply only.
  constexpr uint16_t identifier() const { return static_cast<uint16_t>(first_word() >> 16); }
  constexpr uint16_t sequence() const { return static_cast<uint16_t>(first_word()); }
  // Meaningful for packet too big only.
  constexpr uint32_t mtu() const { return first_word(); }
  // Meaningful for parameter problem only: offset of the error in the invoking packet.
  constexpr uint32_t pointer() const { return first_word(); }
  // The body after its first word: echo data, or the invoking packet of an error message.
  constexpr ByteSpan data() const { return body.size() < 4 ? ByteSpan() : body.subspan(4); }
};

// Parses an ICMPv6 message sent from `source` to `destination`. kTruncated when shorter than
// 8 bytes; kBadChecksum when `verify_checksum` and the checksum over the pseudo-header and the
// message does not verify. Nothing else is checked: unknown types and codes parse.
Result<Icmpv6Message> ParseIcmpv6(ByteSpan message, const Ipv6Address& source,
                                  const Ipv6Address& destination, bool verify_checksum = true);

// The checksum of `message` (whose checksum field holds zero) sent from `source` to
// `destination`.
uint16_t Icmpv6Checksum(const Ipv6Address& source, const Ipv6Address& destination,
                        ByteSpan message_with_zero_checksum);

// Computes the checksum of the whole `message` and stores it in its header. A span shorter
// than the header is a caller bug and is left untouched.
void FinishIcmpv6(MutableByteSpan message, const Ipv6Address& source,
                  const Ipv6Address& destination);

// A header with a zero checksum, to be filled by FinishIcmpv6 once the body is in place.
constexpr Icmpv6Header MakeIcmpv6Header(uint8_t type, uint8_t code) {
  return Icmpv6Header{type, code, Be16()};
}

// How many bytes of `offending_packet` (an IPv6 packet starting at its header) an error
// message quotes: as much as fits the minimum MTU, kMaxErrorQuote.
size_t Icmpv6ErrorQuoteLength(ByteSpan offending_packet);

// Appends a complete error message (destination unreachable, packet too big, time exceeded,
// parameter problem) sent from `source` to `destination`: the header, `first_word` (unused,
// MTU or pointer), the quote given by Icmpv6ErrorQuoteLength, and the checksum. Returns the
// offset where the message starts.
size_t AppendIcmpv6Error(FrameBuilder& builder, const Ipv6Address& source,
                         const Ipv6Address& destination, uint8_t type, uint8_t code,
                         uint32_t first_word, ByteSpan offending_packet);

}  // namespace dove::net
