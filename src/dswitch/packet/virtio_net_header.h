// The virtio-net header a TAP device opened with IFF_VNET_HDR puts before each frame it gives,
// and wants before each frame it is given.
//
//    0        1        2                 4                 6                 8                10
//   +--------+--------+-----------------+-----------------+-----------------+-----------------+
//   | flags  |gso_type|     hdr_len     |    gso_size     |   csum_start    |   csum_offset   |
//   +--------+--------+-----------------+-----------------+-----------------+-----------------+
//   The 16-bit fields are in the host's byte order (a legacy virtio header: TUNSETVNETLE/BE
//   are not used), unlike every wire header in src/net.
#pragma once

#include <cstdint>

namespace dove::dswitch::packet {

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

}  // namespace dove::dswitch::packet
