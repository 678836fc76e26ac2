// PortFactory: how the datapath gets and deletes the devices of its VM ports, by name, without
// knowing what they are: TAP devices on Linux (TapPortFactory), MemoryDevices in tests
// (MemoryPortFactory, which the test reaches into by port name to inject and drain frames).
//
// A port outlives its Device: OpenPort makes it persistent, so a switch that restarts finds its
// ports again and the VMs' links never drop; RemovePort deletes it for good once the datapath
// has destroyed the Device.
//
// Threading: one thread (the datapath's). The factory must outlive the devices it opened.
//
//   TapPortFactory taps;
//   auto device = taps.OpenPort("dove-p1", /*id=*/1);
//   if (!device) return Fail(device.error());
//   ...
//   device->reset();
//   taps.RemovePort("dove-p1");
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

namespace dove::dswitch::io {

class PortFactory {
 public:
  virtual ~PortFactory() = default;

  // The port called `name`, created when missing and made persistent, as a Device whose
  // received packets carry meta.in_port = `id`. Errors: a one-sentence reason (bad name, no
  // permission, the device is not a port of this kind...).
  virtual Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name,
                                                                  packet::PortId id) = 0;
  // Deletes the port for good. Its Device must already be destroyed. Errors: there is no such
  // port, or deleting it failed.
  virtual Expected<void, std::string> RemovePort(const std::string& name) = 0;
};

// TAP devices (TapPort) that need CAP_NET_ADMIN. A TAP it creates gets `mtu` (the overlay
// MTU; 0: the kernel's default); one that exists already (a hypervisor's, dove-lab's) keeps its
// own: its owner chose it.
class TapPortFactory final : public PortFactory {
 public:
  explicit TapPortFactory(uint32_t mtu = 0) : mtu_(mtu) {}
  Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name,
                                                          packet::PortId id) override;
  Expected<void, std::string> RemovePort(const std::string& name) override;

 private:
  uint32_t mtu_;
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
  // without multi-queue cannot be attached twice either).
  Expected<std::unique_ptr<Device>, std::string> OpenPort(const std::string& name,
                                                          packet::PortId id) override;
  // Errors: no such port; its Device is still open.
  Expected<void, std::string> RemovePort(const std::string& name) override;

  // The open Device of port `name`, to inject into and drain; nullptr when none is open.
  MemoryDevice* Find(const std::string& name) const;
  // Whether the port exists (opened once, not removed since).
  bool Exists(const std::string& name) const { return existing_.contains(name); }
  // Makes OpenPort(name) fail with `reason` (until called again with an empty reason).
  void FailOpen(const std::string& name, std::string reason);

 private:
  DeviceCaps caps_;
  bool record_ = true;
  std::set<std::string> existing_;
  std::map<std::string, MemoryDevice*> open_;
  std::map<std::string, std::string> failures_;
};

}  // namespace dove::dswitch::io
