// TapPort: one TAP interface, the switch's end of a VM port, as a Device.
//
// The device is opened with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM | TSO4 | TSO6 | TSO_ECN): the
// stack on the other side (a VM's, a namespace's) may then hand over TCP super-frames of up to
// 64 KiB with their checksums left partial, in one read each, as it would to a NIC with
// offloads. That is what makes a TAP port fast, and the switch keeps the benefit:
//   - Receive reads each frame straight into a pool packet (readv: the 10-byte virtio header
//     into a local, the frame into a large slot at the default headroom). A super-frame stays
//     ONE packet whose OffloadInfo comes from the header (packet::FromVirtio); what the header
//     cannot carry (bad checksum offsets, UDP GSO, a tiny gso_size) is dropped and counted
//     (csum_refused, gso_refused, gso_unsupported). A frame that fits a small slot is copied
//     into one, so large slots are held only by super-frames.
//   - Send writes each packet with its own virtio header (packet::ToVirtio) in one writev, so
//     super-frames and partial checksums reach the kernel whole: TAP to TAP on one host costs
//     no segmentation and no checksum at all. caps() says so (tso, csum_partial).
//
// Lifetime: a TAP the switch creates disappears when its last descriptor closes, unless made
// persistent. The switch makes its TAPs persistent (LinuxPortFactory), so that after a crash or
// a restart Open(name, /*create=*/false) finds them again and the VMs' links never drop;
// Remove() deletes one for good. A TAP made with `ip tuntap add dev NAME mode tap vnet_hdr` is
// persistent already and is attached to the same way.
//
// Threading: one thread drives a port. The descriptor is non-blocking: nothing waits; the
// caller polls fd(). The destructor closes the descriptor (the device stays if persistent).
//
//   auto tap = TapPort::Open("dove-p1", /*create=*/true, /*id=*/1);
//   if (!tap) return Fail(tap.error());
//   (*tap)->SetPersistent(true);
//   (*tap)->Receive(pool, batch, counters);  // when fd() is readable
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/expected.h"
#include "dswitch/io/device.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/packet_meta.h"

namespace dove::dswitch::io {

class TapPort final : public Device {
 public:
  // Ethernet with one VLAN tag + the largest IP packet; a super-frame is no larger.
  static constexpr size_t kMaxFrame = 65535 + 18;

  // Attaches to the TAP called `name`, creating it first when `create` is true and it does not
  // exist; configures the virtio header and offloads, makes the descriptor non-blocking and
  // sets the link up. Received packets carry meta.in_port = `id`. Needs CAP_NET_ADMIN. Errors:
  // a name that is empty or longer than 15 bytes; "no TAP device NAME" when `create` is false
  // and there is none; a device of that name that is not a TAP; any failing system call (the
  // message names it).
  static Expected<std::unique_ptr<TapPort>, std::string> Open(const std::string& name, bool create,
                                                              packet::PortId id);

  TapPort(const TapPort&) = delete;
  TapPort& operator=(const TapPort&) = delete;
  ~TapPort() override = default;

  // Makes the device outlive its descriptor (true) or not (false).
  Expected<void, std::string> SetPersistent(bool persistent);
  // Deletes the device: SetPersistent(false), then closes the descriptor, which removes it
  // (unless another process holds a descriptor of it). The port is unusable afterwards.
  Expected<void, std::string> Remove();

  size_t Receive(packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) override;
  size_t Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) override;
  int fd() const override { return fd_.get(); }
  DeviceCaps caps() const override {
    return {.tso = true, .csum_partial = true, .max_frame = kMaxFrame};
  }
  const std::string& name() const override { return name_; }

  int ifindex() const { return ifindex_; }
  packet::PortId id() const { return id_; }

 private:
  TapPort(FileDescriptor fd, std::string name, int ifindex, packet::PortId id);

  FileDescriptor fd_;
  std::string name_;
  int ifindex_ = 0;
  packet::PortId id_;
};

}  // namespace dove::dswitch::io
