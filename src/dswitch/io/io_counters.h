// IoCounters: what the devices did, as plain 64-bit counters: frames and datagrams moved, the
// offload work done or passed on, and every packet a device dropped, by reason.
//
// A device never discards a packet without counting it here. Not thread-safe: one IoCounters
// per thread that drives devices; the caller sums them for metrics.
//
//   IoCounters counters;
//   tap.Receive(pool, batch, counters);
//   for (const auto& [name, value] : counters.Dump()) Print(name, value);
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace dove::dswitch::io {

struct IoCounters {
  // Port reads (TapPort, PacketPort, a port's MemoryDevice).
  uint64_t read_frames = 0;        // frames handed on (a TCP super-frame counts once)
  uint64_t read_super_frames = 0;  // of which TCP super-frames, kept whole
  uint64_t read_errors = 0;        // failed reads, and reads shorter than the virtio header
  uint64_t csum_refused = 0;       // dropped: NEEDS_CSUM offsets outside the frame
  uint64_t gso_refused = 0;        // dropped: a TCP GSO header that cannot be carried
  uint64_t gso_unsupported = 0;    // dropped: UDP GSO or an unknown GSO type
  // Packet-socket ports (PacketPort) only.
  uint64_t read_truncated = 0;     // dropped: larger than a ring frame, held only in part
  uint64_t read_vlan_refused = 0;  // dropped: the VLAN tag was in metadata, not in the frame
  uint64_t ring_full = 0;          // dropped by the kernel: the receive ring was full
  // Port writes.
  uint64_t write_frames = 0;        // frames written (a super-frame counts once)
  uint64_t write_super_frames = 0;  // of which TCP super-frames, written whole
  uint64_t write_errors = 0;        // dropped: the write failed or was short
  uint64_t tx_queue_full = 0;       // dropped: the device's queue was full (EAGAIN, ENOBUFS)
  // Offload work a device finished in software because the next hop could not take it.
  uint64_t sw_segmented = 0;      // super-frames cut into segments (offload::SegmentTcp)
  uint64_t sw_segments = 0;       // segments they became
  uint64_t sw_csum_finished = 0;  // partial checksums completed (offload::FinishChecksum)
  // Dropped: could not be segmented or checksummed (malformed headers, or no pool slot).
  uint64_t sw_offload_failed = 0;
  // The underlay (UdpTunnel, a tunnel's MemoryDevice).
  uint64_t underlay_rx = 0;            // datagrams received and handed on
  uint64_t underlay_rx_errors = 0;     // failed receive calls
  uint64_t underlay_rx_truncated = 0;  // dropped: receive buffers the kernel truncated
  uint64_t underlay_rx_no_slot = 0;    // dropped: datagrams of a UDP GRO buffer that found no
                                       // free pool slot
  uint64_t gro_receives = 0;           // receive buffers that held more than one datagram
  uint64_t gro_datagrams = 0;          // datagrams those buffers held
  // Super-frames made of runs of TCP segments in those buffers (offload::SplitGroTrain), the
  // datagrams that went into them, and datagrams passed unmerged because a checksum failed.
  uint64_t underlay_rx_merged = 0;
  uint64_t underlay_rx_merged_datagrams = 0;
  uint64_t underlay_rx_bad_checksum = 0;
  uint64_t underlay_tx = 0;             // datagrams sent (each segment of a UDP GSO send counts)
  uint64_t underlay_tx_errors = 0;      // dropped: the send failed
  uint64_t underlay_tx_queue_full = 0;  // dropped: the socket's buffer was full (EAGAIN, ENOBUFS)
  uint64_t underlay_tx_malformed = 0;   // dropped: shorter than a VXLAN header
  uint64_t gso_sends = 0;  // UDP GSO sendmsg calls (UDP_SEGMENT: several datagrams each)
  // Super-frames sent as separate datagrams because the kernel refused UDP GSO for them.
  uint64_t gso_fallback = 0;

  // Every non-zero counter as "io.<name>" (the field's name). Sorted by name.
  std::map<std::string, uint64_t> Dump() const;
};

}  // namespace dove::dswitch::io
