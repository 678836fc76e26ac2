// Cutting a TCP super-frame (OffloadInfo gso kTcp4 / kTcp6: one Ethernet + IP + TCP header and
// up to 64 KiB of payload) into the wire segments it stands for, the work a NIC does for TSO.
//
// Each segment: a copy of the Ethernet, IP and TCP headers (options and IPv6 extension headers
// included), gso_size bytes of payload (the last one the rest), the IPv4 total length, id
// (+i) and header checksum or the IPv6 payload length set, the sequence number advanced, FIN
// and PSH only on the last segment, CWR only on the first, and the TCP checksum computed in
// full. The super-frame's headers are parsed, never trusted from hdr_len.
//
// Two forms:
//   - SegmentTcp: each segment a packet of its own (the fallback where the egress takes no
//     super-frames: a TAP without TSO, a failed UDP GSO send);
//   - LayoutUdpGso: the segments laid out back to back in one buffer, each behind the same
//     `prefix` (the VXLAN header), for ONE sendmsg with UDP_SEGMENT = segment_size: every
//     datagram but the last is exactly segment_size bytes.
// Pure: no OS calls; fuzzable.
#pragma once

#include <cstddef>

#include "base/expected.h"
#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"
#include "net/byte_order.h"

namespace dove::dswitch::offload {

// Appends the segments of `super` to `out`, each a fresh packet with `super`'s metadata and no
// offload. Returns how many. Errors (nothing appended, nothing allocated kept): `super` is not
// a GSO packet, its headers do not parse or are not TCP over the IP version its type names,
// or the pool ran out.
Expected<size_t, const char*> SegmentTcp(const packet::Packet& super, packet::PacketPool& pool,
                                         packet::PacketBatch& out);

// The number of wire segments `super` stands for (0 when it is not a GSO packet or its headers
// do not parse).
size_t TcpSegmentCount(const packet::Packet& super);

struct UdpGsoLayout {
  size_t segment_size = 0;  // bytes of every datagram but the last: prefix + headers + gso_size
  size_t segments = 0;      // datagrams laid out
  size_t bytes = 0;         // bytes written to `out`
  size_t next_segment = 0;  // the first segment not laid out (== total when all are)
};

// Lays out segments `first_segment`, `first_segment` + 1, ... of `super` into `out`, each as
// prefix | Ethernet | IP | TCP | payload, as many as fit in `out.size()` bytes (and at most
// `max_segments`). Call again from next_segment until it equals TcpSegmentCount(super).
// Errors as SegmentTcp's, or not even one segment fits.
Expected<UdpGsoLayout, const char*> LayoutUdpGso(const packet::Packet& super, net::ByteSpan prefix,
                                                 size_t first_segment, size_t max_segments,
                                                 net::MutableByteSpan out);

}  // namespace dove::dswitch::offload
