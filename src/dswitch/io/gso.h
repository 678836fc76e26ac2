// The virtio-net header a TAP device puts before each frame it gives (IFF_VNET_HDR), and what
// the reader must do with it: complete a partial checksum, or cut a TCP super-frame into
// MSS-sized segments. Pure: no device, testable and fuzzable.
//
//    0        1        2                 4                 6                 8                10
//   +--------+--------+-----------------+-----------------+-----------------+-----------------+
//   | flags  |gso_type|     hdr_len     |    gso_size     |   csum_start    |   csum_offset   |
//   +--------+--------+-----------------+-----------------+-----------------+-----------------+
//   The 16-bit fields are in the host's byte order (a legacy virtio header: TUNSETVNETLE/BE
//   are not used), unlike every wire header in src/net.
//
// Why a TAP gives such frames: the switch sets TUNSETOFFLOAD(CSUM | TSO4 | TSO6), so the stack
// on the other side of the TAP (a VM's or a namespace's) hands over TCP segments up to 64 KiB
// and leaves checksums for the "device" to finish, as it would for a NIC. That saves the sender
// most of its per-packet work; the switch pays for it here, once, before the pipeline (which
// only forwards frames that are valid on the wire).
//
// ApplyVirtioHeader returns the frames that go on the wire:
//   - no flag, no GSO (or only DATA_VALID): the frame unchanged;
//   - NEEDS_CSUM, no GSO: the frame with its checksum completed. Linux convention, as
//     skb_checksum_help does it: the 16-bit field at csum_start + csum_offset already holds
//     the folded, uncomplemented pseudo-header sum; the checksum is the complement of the
//     ones'-complement sum of everything from csum_start to the end of the frame (field
//     included), and a result of 0 is written as 0xffff;
//   - GSO TCPV4 or TCPV6 (with or without the ECN bit): one frame per gso_size bytes of TCP
//     payload, each with a copy of the Ethernet, IP and TCP headers (options and IPv6
//     extension headers included), the IPv4 total length, id (+i) and header checksum or the
//     IPv6 payload length set, the sequence number advanced, FIN and PSH only on the last
//     segment, CWR only on the first, and the TCP checksum computed in full. NEEDS_CSUM, when
//     set, must point at the TCP checksum; hdr_len is a hint and is not trusted.
// It refuses (a one-sentence error) UDP GSO and unknown GSO types, a gso_size below 48, checksum
// offsets outside the frame, and GSO frames whose headers do not parse or are not TCP over
// the IP version the GSO type names.
//
//   VirtioNetHeader header;
//   std::memcpy(&header, buffer, sizeof(header));
//   auto frames = ApplyVirtioHeader(header, net::ByteSpan(buffer).subspan(sizeof(header)));
//   if (!frames) return Drop(frames.error());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/expected.h"
#include "net/byte_order.h"

namespace dove::dswitch::io {

// struct virtio_net_hdr of <linux/virtio_net.h>, host byte order. That header is not included:
// it does not compile as C++ (a member is named `class`), so the values are copied here.
struct VirtioNetHeader {
  static constexpr uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID

  static constexpr uint8_t kGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
  static constexpr uint8_t kGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
  static constexpr uint8_t kGsoUdp = 3;     // VIRTIO_NET_HDR_GSO_UDP (UFO)
  static constexpr uint8_t kGsoTcpV6 = 4;   // VIRTIO_NET_HDR_GSO_TCPV6
  static constexpr uint8_t kGsoUdpL4 = 5;   // VIRTIO_NET_HDR_GSO_UDP_L4 (USO)
  static constexpr uint8_t kGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN, or'ed with a type

  // The smallest gso_size accepted: Linux never sends a smaller MSS (net.ipv4.tcp_min_snd_mss),
  // and the bound keeps a 64 KiB super-frame from costing more than ~1400 segments.
  static constexpr uint16_t kMinGsoSize = 48;

  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;      // Ethernet + IP + TCP headers (a hint)
  uint16_t gso_size = 0;     // MSS: TCP payload bytes per segment
  uint16_t csum_start = 0;   // where the checksummed bytes begin, from the frame's start
  uint16_t csum_offset = 0;  // where the checksum field is, from csum_start

  // The GSO type without the ECN bit.
  constexpr uint8_t gso_kind() const { return gso_type & static_cast<uint8_t>(~kGsoEcn); }
};
static_assert(sizeof(VirtioNetHeader) == 10);

// The frames `frame` stands for once `header` is applied (see above); a one-sentence error when
// it is refused. Allocates the output frames; never throws on a hostile input.
Expected<std::vector<std::vector<uint8_t>>, std::string> ApplyVirtioHeader(
    const VirtioNetHeader& header, net::ByteSpan frame);

}  // namespace dove::dswitch::io
