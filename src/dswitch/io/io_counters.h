// IoCounters: what the devices did, as plain 64-bit counters: frames and datagrams moved, and
// every frame a device dropped, by reason.
//
// A device never discards a frame without counting it here. Not thread-safe: one IoCounters
// per thread that drives devices; the caller sums them for metrics.
//
//   IoCounters counters;
//   tap.ReadBatch(batch, port, counters);
//   for (const auto& [name, value] : counters.Dump()) Print(name, value);
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace dove::dswitch::io {

struct IoCounters {
  // TAP reads.
  uint64_t read_frames = 0;      // reads that gave a frame (a GSO super-frame counts once)
  uint64_t read_errors = 0;      // failed reads, and reads shorter than the virtio header
  uint64_t csum_completed = 0;   // frames whose partial checksum (NEEDS_CSUM) was completed
  uint64_t csum_refused = 0;     // dropped: NEEDS_CSUM offsets outside the frame
  uint64_t gso_frames = 0;       // TCP GSO super-frames segmented
  uint64_t gso_segments = 0;     // segments they became
  uint64_t gso_refused = 0;      // dropped: a TCP GSO frame that could not be segmented
  uint64_t gso_unsupported = 0;  // dropped: UDP GSO or an unknown GSO type
  // TAP writes.
  uint64_t write_frames = 0;   // frames written
  uint64_t write_errors = 0;   // dropped: the write failed or was short
  uint64_t tx_queue_full = 0;  // dropped: the device's queue was full (EAGAIN)
  // The underlay socket.
  uint64_t underlay_rx = 0;             // datagrams received and handed on
  uint64_t underlay_rx_errors = 0;      // failed receive calls
  uint64_t underlay_rx_truncated = 0;   // dropped: larger than the receive buffer
  uint64_t underlay_tx = 0;             // packets sent
  uint64_t underlay_tx_errors = 0;      // dropped: the send failed
  uint64_t underlay_tx_queue_full = 0;  // dropped: the socket's buffer was full (EAGAIN)
  uint64_t underlay_tx_malformed = 0;   // dropped: shorter than outer Ethernet + IPv4

  // Every non-zero counter as "io.<name>" (the field's name). Sorted by name.
  std::map<std::string, uint64_t> Dump() const;
};

}  // namespace dove::dswitch::io
