// PortFactory: how the datapath gets and deletes the devices of its VM ports, by name and kind,
// without knowing what they are: on Linux (LinuxPortFactory) TAP devices the switch owns and
// packet sockets on interfaces it does not; MemoryDevices in tests (MemoryPortFactory, which the
// test reaches into by port name to inject and drain frames).
//
// A port outlives its Device: OpenPort makes a TAP persistent, so a switch that restarts finds
// its ports again and the VMs' links never drop; RemovePort deletes it for good once the
// datapath has destroyed the Device. An interface of kind kPacket is never created or deleted:
// RemovePort only undoes what OpenPort did to it.
//
// Threading: one thread (the datapath's). The factory must outlive the devices it opened.
//
//   LinuxPortFactory ports;
//   auto device = ports.OpenPort("dove-p1", PortKind::kTap, /*id=*/1);
//   if (!device) return Fail(device.error());
//   ...
//   device->reset();
//   ports.RemovePort("dove-p1", PortKind::kTap);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/expected.h"
#include "dswitch/io/device.h"
#include "dswitch/io/memory_device.h"
#include "dswitch/packet/packet_meta.h"

namespace dove::netlink {
class Rtnl;
}  // namespace dove::netlink

namespace dove::dswitch::io {

// What a port's name names (v1::PortKind).
enum class PortKind {
  kTap,     // a TAP the switch opens, creating it when missing, and deletes on RemovePort
  kPacket,  // an interface someone else holds: a packet socket on it (PacketPort)
};

class PortFactory {
 public:
  virtual ~PortFactory() = default;

  // The port called `name` as a Device whose received packets carry meta.in_port = `id`: a
  // TAP is created when missing and made persistent; a kPacket interface must exist. Errors: a
  // one-sentence reason (bad name, no permission, no such interface, the device is not a port
  // of this kind...).
  virtual Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name,
                                                                  PortKind kind,
                                                                  packet::PortId id) = 0;
  // The endpoint has left: deletes a TAP for good; gives a kPacket interface back as it was.
  // Its Device must already be destroyed. Errors: there is no such TAP, or deleting it failed.
  virtual Expected<void, std::string> RemovePort(const std::string& name, PortKind kind) = 0;
};

// The Linux ports, which need CAP_NET_ADMIN (and CAP_NET_RAW for kPacket):
//   - kTap: TapPort. A TAP it creates gets `mtu` (the overlay MTU; 0: the kernel's default);
//     one that exists already (dove-lab's, one made with `ip tuntap`) keeps its own: its owner
//     chose it. One a process holds already fails with EBUSY, and the error says to use kPacket.
//   - kPacket: PacketPort, plus the port guard (netlink::Rtnl::AddIngressGuard) so that the
//     host's own stack does not take what the VM sends: no ARP answers, DHCP or routing from
//     the host on that interface. The guard stays when the switch stops (the port stays
//     isolated while nobody serves it) and goes on RemovePort. The interface's MTU is its
//     owner's.
class LinuxPortFactory final : public PortFactory {
 public:
  explicit LinuxPortFactory(uint32_t mtu = 0);
  LinuxPortFactory(const LinuxPortFactory&) = delete;
  LinuxPortFactory& operator=(const LinuxPortFactory&) = delete;
  ~LinuxPortFactory() override;
  Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name, PortKind kind,
                                                          packet::PortId id) override;
  Expected<void, std::string> RemovePort(const std::string& name, PortKind kind) override;

 private:
  Expected<std::unique_ptr<Device>, std::string> OpenTap(const std::string& name,
                                                         packet::PortId id);
  Expected<std::unique_ptr<Device>, std::string> OpenPacket(const std::string& name,
                                                            packet::PortId id);
  // The rtnetlink socket of the guards, opened on first use.
  Expected<netlink::Rtnl*, std::string> Rtnl();

  uint32_t mtu_;
  std::unique_ptr<netlink::Rtnl> rtnl_;
};

// MemoryDevices (kPort) with the caps given at construction. A port exists from its first
// OpenPort to its RemovePort, whether a Device of it is open or not, like a persistent TAP.
class MemoryPortFactory final : public PortFactory {
 public:
  // `record`: whether the ports keep what they are sent for Drain (MemoryDevice::Options).
  explicit MemoryPortFactory(DeviceCaps caps = MemoryDevice::kTapCaps, bool record = true)
      : caps_(caps), record_(record) {}
  MemoryPortFactory(const MemoryPortFactory&) = delete;
  MemoryPortFactory& operator=(const MemoryPortFactory&) = delete;
  ~MemoryPortFactory() override;

  // Errors: the name is told to fail (FailOpen), or a Device of it is open already (a TAP
  // without multi-queue cannot be attached twice either). Both kinds are MemoryDevices.
  Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name, PortKind kind,
                                                          packet::PortId id) override;
  // Errors: no such port; its Device is still open.
  Expected<void, std::string> RemovePort(const std::string& name, PortKind kind) override;

  // The open Device of port `name`, to inject into and drain; nullptr when none is open.
  MemoryDevice* Find(const std::string& name) const;
  // Whether the port exists (opened once, not removed since).
  bool Exists(const std::string& name) const { return existing_.contains(name); }
  // The kind the port was last opened as (kTap when never).
  PortKind KindOf(const std::string& name) const;
  // Makes OpenPort(name) fail with `reason` (until called again with an empty reason).
  void FailOpen(const std::string& name, std::string reason);

 private:
  DeviceCaps caps_;
  bool record_ = true;
  std::set<std::string> existing_;
  std::map<std::string, PortKind> kinds_;
  std::map<std::string, MemoryDevice*> open_;
  std::map<std::string, std::string> failures_;
};

}  // namespace dove::dswitch::io
