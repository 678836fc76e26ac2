// NeighAnnouncer: tells the VMs of a network at once what the controller just answered for an
// address one of them asked about. The kernel's vxlan proxy drops an ARP request (or neighbour
// solicitation) that misses (l3miss); the backend installs the neighbour entry, but the VM
// would retry only after about a second. An ARP reply (or an unsolicited neighbour
// advertisement with the override flag) from the target's MAC, written to each local port's
// host-side interface, completes the VM's INCOMPLETE entry and its queued packets go at once.
// (A VM without an entry for the address ignores it: ARP replies and NAs only update entries
// that exist.)
//
// BuildArpReply / BuildNeighAdvert (pipeline/neighbor_frames.h) are pure (whole frames);
// PacketFrameWriter writes a frame out of an interface through one AF_PACKET socket.
// Threading: not thread-safe; the backend's loop thread is the only user.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dswitch/pipeline/neighbor_frames.h"
#include "net/ip_address.h"
#include "net/mac_address.h"
#include "netlink/rtnetlink.h"

namespace dove::dswitch::kernel {

// The frames themselves are built by pipeline/neighbor_frames.h (the userspace datapath
// announces a VM that came up with them too).
using pipeline::BuildArpReply;
using pipeline::BuildNeighAdvert;

// Writes whole Ethernet frames out of an interface. The backend borrows one (KernelOptions).
class FrameWriter {
 public:
  virtual ~FrameWriter() = default;
  // Errors: the kernel's (ENXIO/ENETDOWN for an interface that is gone or down).
  virtual netlink::Result<netlink::Ok> Send(int ifindex, std::span<const uint8_t> frame) = 0;
};

// AF_PACKET, SOCK_RAW, protocol 0 (it receives nothing). Needs CAP_NET_RAW.
class PacketFrameWriter final : public FrameWriter {
 public:
  static netlink::Result<std::unique_ptr<PacketFrameWriter>> Open();
  ~PacketFrameWriter() override;
  PacketFrameWriter(const PacketFrameWriter&) = delete;
  PacketFrameWriter& operator=(const PacketFrameWriter&) = delete;
  netlink::Result<netlink::Ok> Send(int ifindex, std::span<const uint8_t> frame) override;

 private:
  explicit PacketFrameWriter(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dove::dswitch::kernel
