// TcpCoalescer: user-space TCP GRO. Merges runs of consecutive TCP segments of one flow, going
// to the same port, into one super-frame, so a burst that crossed the underlay as ~45
// datagrams reaches the VM's TAP in ONE write with a virtio GSO header (wireguard-go does the
// same before its TUN).
//
// Segments merge when, in batch order, they: carry no offload state (no GSO, no partial
// checksum); are unfragmented TCP over IPv4 (no IP options) or IPv6 (no extension headers) in
// untagged Ethernet; share out_port, VNI, tunnel, the Ethernet header, IP addresses, ports,
// TTL/hop limit, TOS/traffic class (and IPv6 flow label) and DF, the data offset, window and
// TCP options; carry payload; follow each other in sequence (seq == previous seq + previous
// payload length); all but the last have the same payload size (the first's, at least 48
// bytes, which becomes gso_size), the last no more; have ACK set and no SYN, FIN, RST or URG,
// the same ECE, the same ACK number; CWR only on the first, PSH only on the last (as Linux's
// tcp_gro_receive decides). Their checksums verify (the IPv4 header's and the TCP one; the
// underlay may have carried them with no outer UDP checksum): a segment that fails is passed
// on unmerged and counted, so the receiving stack drops it as it would. OffloadInfo::csum_valid
// on an input stands for a verified checksum.
// The result holds the first segment's headers (IPv4 id included) with lengths set, IPv4
// header checksum redone, PSH from the last, OffloadInfo {gso kTcp4/kTcp6, gso_ecn when the
// first has CWR, gso_size, csum_partial at the TCP checksum with the folded, uncomplemented
// pseudo-header sum of the merged length in the field}, as Linux's tcp_gro_complete leaves
// it, and the first segment's metadata. A merge never exceeds 65535 bytes of IP packet.
//
// Everything else passes unchanged and in order; merged inputs are freed to the pool; merged
// outputs take large slots (when none is free, the segments pass unmerged, counted).
//
// Not thread-safe; allocation-free in steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "dswitch/offload/tcp_frame.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::offload {

struct CoalescerCounters {
  uint64_t merged_frames = 0;    // super-frames made
  uint64_t merged_segments = 0;  // segments that went into them
  uint64_t bad_checksum = 0;     // segments passed unmerged: a TCP or IPv4 checksum failed
  uint64_t no_slot = 0;          // merges given up: no large slot free
};

class TcpCoalescer {
 public:
  explicit TcpCoalescer(packet::PacketPool& pool) : pool_(pool) {}

  // Replaces mergeable runs of `batch` by their super-frames, in place.
  void Process(packet::PacketBatch& batch);

  const CoalescerCounters& counters() const { return counters_; }

 private:
  // The parsed frame of a packet that may take part in a merge (counts a bad checksum).
  std::optional<TcpFrame> Eligible(const packet::Packet& packet);
  // Pushes batch[begin, end) to scratch_: merged into one super-frame when more than one.
  void Emit(const packet::PacketBatch& batch, size_t begin, size_t end, const TcpFrame& first);

  packet::PacketPool& pool_;
  CoalescerCounters counters_;
  packet::PacketBatch scratch_;
};

// The same merge where it is cheapest: on one UDP GRO buffer of the underlay, before it is
// split. `train` (from `pool`, taken over) holds datagrams `segment` bytes apart (the last may
// be shorter), each `prefix` bytes (the VXLAN header) followed by an Ethernet frame. Appends
// to `out`, in datagram order: each run of datagrams with the same prefix whose frames
// TcpCoalescer would merge (same rules, checksums verified) as ONE packet, prefix + the
// super-frame with its OffloadInfo as Process makes it (offsets from the frame, after the
// prefix); every other datagram as a packet of its own in a small slot. Every packet gets
// train's metadata. The first run is merged in place (train becomes it: one memmove, no
// allocation); a later one is copied into a large slot. Returns how many datagrams found no
// slot (dropped; counted by the caller); a run that found none is counted in no_slot too.
// With a `segment` no longer than `prefix`, everything is dropped.
size_t SplitGroTrain(packet::Packet* train, size_t segment, size_t prefix, packet::PacketPool& pool,
                     packet::PacketBatch& out, CoalescerCounters& counters);

}  // namespace dove::dswitch::offload
