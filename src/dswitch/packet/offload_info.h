// OffloadInfo: what a packet's bytes still owe the wire, so the work is done once, by the
// device that can do it cheapest (the kernel behind a TAP or a UDP socket), or not at all.
//
// A TAP port with IFF_VNET_HDR hands over TCP super-frames (up to 64 KiB, one TCP header,
// gso_size bytes of payload per wire segment) and frames whose checksum is partial; the same
// can be written back to a TAP. The pipeline forwards such a packet as ONE unit; the egress
// device either passes the metadata on (TAP: virtio header; underlay: UDP GSO) or finishes the
// work in software (offload/: SegmentTcp, FinishChecksum).
//
// Conventions are Linux's (skb CHECKSUM_PARTIAL, virtio-net): offsets count from the first byte
// of the (inner) Ethernet header; with csum_partial the 16-bit field at csum_start + csum_offset
// holds the folded, uncomplemented pseudo-header sum, and the checksum is the complement of the
// ones'-complement sum of everything from csum_start to the end of the frame.
#pragma once

#include <cstdint>

#include "base/expected.h"
#include "dswitch/packet/virtio_net_header.h"

namespace dove::dswitch::packet {

enum class GsoType : uint8_t {
  kNone,
  kTcp4,  // TCP over IPv4 super-frame
  kTcp6,  // TCP over IPv6 super-frame
};

struct OffloadInfo {
  GsoType gso = GsoType::kNone;
  bool gso_ecn = false;   // segments carry ECN (VIRTIO_NET_HDR_GSO_ECN)
  uint16_t gso_size = 0;  // TCP payload bytes per wire segment (the MSS)
  bool csum_partial = false;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  bool csum_valid = false;  // the sender vouches for every checksum (DATA_VALID)

  bool is_gso() const { return gso != GsoType::kNone; }
};

// The offload state a virtio-net header describes, or why it cannot be carried: UDP GSO and
// unknown GSO types, a gso_size below VirtioNetHeader::kMinGsoSize, a GSO frame without
// NEEDS_CSUM, or checksum offsets that do not fit `frame_size` (one sentence).
Expected<OffloadInfo, const char*> FromVirtio(const VirtioNetHeader& header, size_t frame_size);

// The virtio-net header that hands `offload` on to a TAP (hdr_len: `header_length`, the bytes
// of Ethernet + IP + TCP headers, which Linux wants for GSO frames).
VirtioNetHeader ToVirtio(const OffloadInfo& offload, uint16_t header_length);

}  // namespace dove::dswitch::packet
