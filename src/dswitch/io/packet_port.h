// PacketPort: a VM port on an interface the switch does not own, as a Device: a TAP a
// hypervisor holds (QEMU through libvirt's <interface type='ethernet'>: a second TUNSETIFF on
// it fails with EBUSY), or the host end of a veth pair whose other end is in a container.
//
// The switch reads and writes the interface through an AF_PACKET socket bound to it:
//   - PACKET_VNET_HDR: every frame crosses with a virtio-net header, as through a TAP opened
//     with IFF_VNET_HDR, so TCP super-frames and partial checksums survive both ways (caps():
//     tso, csum_partial). What the header cannot carry is dropped and counted as for a TAP.
//   - Receive reads a TPACKET_V2 ring the kernel fills (mmap, kRingBlocks blocks of kBlockSize
//     bytes, frames of kFrameSize: one super-frame each), with no system call while frames
//     are waiting; each frame is copied into a pool packet (a small slot when it fits one) and
//     its ring frame handed back at once. V2, not V3: V3 wakes the reader only when a block is
//     full or its timer (at least 1 ms) fires, a latency floor a VM port must not have.
//     Dropped and counted: a frame the ring held only in part (read_truncated: larger than a
//     ring frame), a frame whose VLAN tag the device had taken out into metadata
//     (read_vlan_refused: the pipeline takes untagged frames only), frames the kernel could
//     not queue because the ring was full (ring_full: PACKET_STATISTICS, read by the Receive
//     that finds the ring full or a frame marked TP_STATUS_LOSING). When the pool is empty the
//     frame stays in the ring for the next call.
//   - Send writes each frame with its virtio header (writev on the bound socket, as for a TAP),
//     through the interface's qdisc: that path cuts a super-frame into segments when the
//     interface cannot take it whole (a TAP whose holder has not enabled offloads, which it
//     may do at any time), where PACKET_QDISC_BYPASS would drop it. The socket ignores what is
//     sent on the interface (PACKET_IGNORE_OUTGOING): neither the switch's own frames nor the
//     host's.
//   - caps().max_frame is the interface's MTU plus an Ethernet header with one VLAN tag: the
//     kernel refuses a larger frame that is not a super-frame (EMSGSIZE).
// The interface is set up when it is down; nothing else about it changes here (its MTU is its
// owner's). That the host's own stack does not also take the frames arriving on it is the
// factory's part (the port guard, netlink::Rtnl::AddIngressGuard).
//
// When the owner deletes the interface, the socket stays bound to nothing: Healthy() turns
// false, and the datapath closes the port and opens it again once the interface is back.
//
// Threading: one thread drives a port; the socket is non-blocking (poll fd()). The destructor
// unmaps the ring and closes the socket; the interface stays.
//
//   auto port = PacketPort::Open("vnet3", /*id=*/7);
//   if (!port) return Fail(port.error());
//   (*port)->Receive(pool, batch, counters);  // when fd() is readable
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/expected.h"
#include "dswitch/io/device.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/packet_meta.h"

namespace dove::dswitch::io {

class PacketPort final : public Device {
 public:
  // Ethernet with one VLAN tag + the largest IP packet: the largest frame, super-frames too.
  static constexpr size_t kMaxFrame = 65535 + 18;
  // The ring: a frame holds the TPACKET_V2 header, the address, the virtio header and
  // kMaxFrame bytes; 15 fit in a 1 MiB block; 4 blocks: 60 frames, 4 MiB per port.
  static constexpr size_t kFrameSize = 65536 + 256;
  static constexpr size_t kBlockSize = size_t{1} << 20;
  static constexpr size_t kRingBlocks = 4;

  // Binds to the interface called `name` (it must exist; it is not created). Received packets
  // carry meta.in_port = `id`. Needs CAP_NET_RAW (and CAP_NET_ADMIN when the interface is
  // down). Errors (one sentence, naming the interface): a bad name; "no interface NAME"; a
  // failing system call (named).
  static Expected<std::unique_ptr<PacketPort>, std::string> Open(const std::string& name,
                                                                 packet::PortId id);

  PacketPort(const PacketPort&) = delete;
  PacketPort& operator=(const PacketPort&) = delete;
  ~PacketPort() override;

  size_t Receive(packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) override;
  size_t Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) override;
  int fd() const override { return fd_.get(); }
  DeviceCaps caps() const override {
    return {.tso = true, .csum_partial = true, .max_frame = max_frame_};
  }
  const std::string& name() const override { return name_; }
  // Whether the interface the socket is bound to is still the one called name() (its owner
  // may delete it, and make another of the same name: a VM stopped and started again).
  bool Healthy() const override;

  int ifindex() const { return ifindex_; }

 private:
  PacketPort(FileDescriptor fd, std::string name, int ifindex, packet::PortId id, uint8_t* ring,
             size_t max_frame);
  // Ring frame `index` (0 .. frames - 1), and the status word of a frame.
  uint8_t* Frame(size_t index) const;
  static uint32_t Status(const uint8_t* frame);
  // Adds the kernel's count of frames it could not queue since the last read to `counters`.
  void CountRingDrops(IoCounters& counters);

  FileDescriptor fd_;
  std::string name_;
  int ifindex_ = 0;
  packet::PortId id_;
  uint8_t* ring_ = nullptr;  // kRingBlocks * kBlockSize bytes, mapped
  size_t max_frame_ = 0;
  size_t next_ = 0;  // the ring frame to look at next
};

}  // namespace dove::dswitch::io
