// Device: every packet source and sink of the userspace data plane behind one batch interface
// (Open vSwitch's netdev-provider, BESS's ports): a TAP port (TapPort), the underlay's UDP
// sockets (UdpTunnel), and MemoryDevice, the in-memory twin that tests push frames into and
// read frames out of. The datapath talks only to Device, so it runs without root in tests.
//
// Contracts every implementation keeps:
//   - Receive never blocks: it reads what is ready now (at most kMaxBurst packets, except
//     that one UDP GRO buffer of the underlay is always handed on whole: up to 64 datagrams
//     each), appends the packets to `out` and returns how many. Nothing ready (EAGAIN) is 0,
//     not an error.
//     Packets come from `pool`; when the pool is empty the device stops reading (what stays
//     in the kernel's queue is read next time) and the pool counts the shortage. A frame the
//     device refuses (a malformed virtio header, a truncated datagram) is dropped and counted
//     in `counters`, never passed on.
//   - What Receive gives: from a TAP, one inner Ethernet frame per packet, meta.in_port set,
//     a TCP super-frame as ONE packet with its OffloadInfo; from the underlay, one packet per
//     datagram whose data starts at the VXLAN header, meta.tunnel = the sender's address,
//     except that a run of datagrams of one UDP GRO buffer that TcpCoalescer would merge may
//     come merged already: ONE packet, the VXLAN header + the super-frame, its OffloadInfo
//     describing the frame after the VXLAN header (offload::SplitGroTrain).
//   - Send takes every packet of `batch`, sends what it can without waiting, frees them all to
//     `pool` (sent or not: the packets must be that pool's), clears the batch, and returns how
//     many went (a super-frame counts once, however many datagrams it became). A packet that did
//     not go is counted in `counters` under its reason; the caller counts its own drop reason
//     for the difference. Offload state the device cannot take (caps) is finished in software
//     first (offload/: SegmentTcp, FinishChecksum): what reaches the wire is always valid.
//   - fd() is what to poll for readability (-1: never readable on its own; MemoryDevice has an
//     eventfd). caps() does not change while the device is open.
// Threading: one thread drives a device.
#pragma once

#include <cstddef>
#include <string>

#include "dswitch/io/io_counters.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::io {

struct DeviceCaps {
  bool tso = false;           // takes TCP super-frames (GSO) whole
  bool csum_partial = false;  // takes frames whose checksum is still partial
  size_t max_frame = 0;       // the largest non-GSO frame it sends
};

class Device {
 public:
  virtual ~Device() = default;

  virtual size_t Receive(packet::PacketPool& pool, packet::PacketBatch& out,
                         IoCounters& counters) = 0;
  // `pool` is where the packets go back to, and where a device that must segment a
  // super-frame in software takes the segments from.
  virtual size_t Send(packet::PacketPool& pool, packet::PacketBatch& batch,
                      IoCounters& counters) = 0;
  virtual int fd() const = 0;
  virtual DeviceCaps caps() const = 0;
  virtual const std::string& name() const = 0;
  // False once the device can never work again and must be opened afresh (PacketPort: its
  // interface was deleted, or replaced by another of the same name). Cheap enough to ask every
  // few seconds (one system call at most). Default: true.
  virtual bool Healthy() const { return true; }
};

}  // namespace dove::dswitch::io
