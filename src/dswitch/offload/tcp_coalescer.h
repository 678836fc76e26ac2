// TcpCoalescer: user-space TCP GRO. Merges runs of consecutive TCP segments of one flow, going
// to the same port, into one super-frame, so a burst that crossed the underlay as ~45
// datagrams reaches the VM's TAP in ONE write with a virtio GSO header (wireguard-go does the
// same before its TUN).
//
// Segments merge when, in batch order, they: are unfragmented TCP over IPv4 (no IP options) or
// IPv6 (no extension headers) in untagged Ethernet; share out_port, VNI, Ethernet header, IP
// addresses, ports, TTL/hop limit, TOS/traffic class and DF, and the same TCP options; carry
// payload; follow each other in sequence (seq == previous seq + previous payload length); all
// but the last have the same payload size (the first's, which becomes gso_size), the last no
// more; only ACK (and, on the last, PSH) set, the same ACK number and window; their TCP
// checksums verify (the underlay may have carried them with no outer UDP checksum: a segment
// with a bad checksum is passed on unmerged, so the receiving stack drops it as it would).
// The result holds the first segment's headers with lengths set, IPv4 header checksum redone,
// PSH from the last, OffloadInfo {gso kTcp4/kTcp6, gso_size, csum_partial at the TCP checksum
// with the pseudo-header sum of the merged length in the field}, as Linux's tcp_gro_complete
// leaves it. A merge never exceeds 64 KiB of IP packet.
//
// Everything else passes unchanged and in order; merged inputs are freed to the pool; merged
// outputs take large slots (when none is free, the segments pass unmerged, counted).
//
// Not thread-safe; allocation-free in steady state.
#pragma once

#include <cstdint>

#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::offload {

struct CoalescerCounters {
  uint64_t merged_frames = 0;    // super-frames made
  uint64_t merged_segments = 0;  // segments that went into them
  uint64_t bad_checksum = 0;     // TCP segments passed unmerged: checksum did not verify
  uint64_t no_slot = 0;          // merges given up: no large slot free
};

class TcpCoalescer {
 public:
  explicit TcpCoalescer(packet::PacketPool& pool) : pool_(pool) {}

  // Replaces mergeable runs of `batch` by their super-frames, in place.
  void Process(packet::PacketBatch& batch);

  const CoalescerCounters& counters() const { return counters_; }

 private:
  packet::PacketPool& pool_;
  CoalescerCounters counters_;
  packet::PacketBatch scratch_;
};

}  // namespace dove::dswitch::offload
