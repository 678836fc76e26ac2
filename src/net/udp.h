// UDP (RFC 768) datagrams over IPv4 and IPv6: parse one (optionally verifying its checksum),
// make a header, finish a built datagram with its length and checksum.
//
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |     Source      |   Destination   |
//   |      Port       |      Port       |
//   +--------+--------+--------+--------+
//   |                 |                 |
//   |     Length      |    Checksum     |
//   +--------+--------+--------+--------+
//   |
//   |          data octets ...
//   +---------------- ...
//   Length counts the header and the data.
//
// The checksum covers a pseudo-header (addresses, protocol 17, Length), the header and the
// data. A computed checksum of 0 is sent as 0xffff (the same number in one's complement),
// because 0 on the wire means "none". Over IPv4 "none" is allowed, and VXLAN uses it (RFC 7348
// section 5). Over IPv6 it is not (RFC 8200 section 8.1): the verifying ParseUdp refuses a
// zero checksum there. RFC 6935 lets tunnel endpoints accept zero over IPv6; a caller that
// wants that checks header.checksum before choosing the verifying overload.
//
// The datagram handed to these functions is the IP payload (ParseIpv4/ParseIpv6's `payload`).
// Views (`payload`) point into the caller's buffer and live as long as it does. Nothing here
// allocates.
//
//   auto udp = ParseUdp(ip->payload, ip->source(), ip->destination());
//   if (!udp) return Drop(udp.error());
//   if (udp->destination_port() == 4789) HandleVxlan(udp->payload);
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"

namespace dove::net {

struct UdpHeader {
  Be16 source_port;
  Be16 destination_port;
  Be16 length;
  Be16 checksum;
};
static_assert(sizeof(UdpHeader) == 8);

// A parsed datagram. `payload` points into the parsed buffer.
struct UdpDatagram {
  UdpHeader header;
  ByteSpan payload;  // Length - 8 bytes

  constexpr uint16_t source_port() const { return header.source_port.value(); }
  constexpr uint16_t destination_port() const { return header.destination_port.value(); }
};

// Parses without looking at the checksum. Errors, in the order they are checked:
//   kTruncated  fewer than 8 bytes;
//   kBadLength  Length below 8;
//   kTruncated  fewer bytes than Length.
// Bytes past Length are excluded from the payload.
Result<UdpDatagram> ParseUdp(ByteSpan datagram);

// As above, then verifies the checksum against the IPv4 pseudo-header: kBadChecksum when it
// is not zero ("none") and does not match.
Result<UdpDatagram> ParseUdp(ByteSpan datagram, const Ipv4Address& source,
                             const Ipv4Address& destination);

// As above with the IPv6 pseudo-header: kBadChecksum when it is zero or does not match.
Result<UdpDatagram> ParseUdp(ByteSpan datagram, const Ipv6Address& source,
                             const Ipv6Address& destination);

// The value to store in the Checksum field of `datagram` (header and data, exactly Length
// bytes, at most 65535), never 0. The field's current content is ignored, so the result can
// also be compared with a received checksum.
uint16_t UdpChecksum(const Ipv4Address& source, const Ipv4Address& destination, ByteSpan datagram);
uint16_t UdpChecksum(const Ipv6Address& source, const Ipv6Address& destination, ByteSpan datagram);

// A header for `payload_length` bytes of data, with checksum 0: final as it is for IPv4
// without a checksum (VXLAN's outer header); call FinishUdp for a checksum. kOutOfRange when
// 8 + payload_length exceeds 65535.
Result<UdpHeader> MakeUdpHeader(uint16_t source_port, uint16_t destination_port,
                                size_t payload_length);

// Finishes the datagram that fills `datagram` exactly: writes Length = datagram.size() and
// then the checksum. kTruncated when shorter than 8 bytes; kOutOfRange when longer than 65535.
// Nothing is written on error.
Result<void> FinishUdp(MutableByteSpan datagram, const Ipv4Address& source,
                       const Ipv4Address& destination);
Result<void> FinishUdp(MutableByteSpan datagram, const Ipv6Address& source,
                       const Ipv6Address& destination);

}  // namespace dove::net
