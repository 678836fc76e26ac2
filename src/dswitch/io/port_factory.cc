#include "dswitch/io/port_factory.h"

#include <net/if.h>

#include <utility>

#include "dswitch/io/interface_mtu.h"
#include "dswitch/io/tap_port.h"

namespace dove::dswitch::io {

Expected<std::unique_ptr<Device>, std::string> TapPortFactory::OpenPort(const std::string& name,
                                                                        packet::PortId id) {
  const bool existed = ::if_nametoindex(name.c_str()) != 0;
  auto tap = TapPort::Open(name, /*create=*/true, id);
  if (!tap) return Unexpected(tap.error());
  if (!existed && mtu_ != 0) {
    if (auto set = SetInterfaceMtu(name, mtu_); !set) return Unexpected(set.error());
  }
  if (auto persistent = (*tap)->SetPersistent(true); !persistent) {
    return Unexpected(persistent.error());
  }
  return std::unique_ptr<Device>(std::move(*tap));
}

Expected<void, std::string> TapPortFactory::RemovePort(const std::string& name) {
  auto tap = TapPort::Open(name, /*create=*/false, packet::kNoPort);
  if (!tap) return Unexpected(tap.error());
  return (*tap)->Remove();
}

MemoryPortFactory::~MemoryPortFactory() {
  // Devices still open must not call back into a destroyed factory.
  for (const auto& [name, device] : open_) device->ForgetDestroyHook();
}

Expected<std::unique_ptr<Device>, std::string> MemoryPortFactory::OpenPort(const std::string& name,
                                                                           packet::PortId id) {
  if (auto failure = failures_.find(name); failure != failures_.end()) {
    return Unexpected(failure->second);
  }
  if (open_.contains(name)) return Unexpected("port " + name + " is open already");
  auto device = std::make_unique<MemoryDevice>(MemoryDevice::Options{
      .name = name,
      .kind = MemoryDevice::Kind::kPort,
      .port = id,
      .caps = caps_,
      .on_destroy = [this, name](MemoryDevice*) { open_.erase(name); },
      .record = record_,
  });
  existing_.insert(name);
  open_[name] = device.get();
  return std::unique_ptr<Device>(std::move(device));
}

Expected<void, std::string> MemoryPortFactory::RemovePort(const std::string& name) {
  if (!existing_.contains(name)) return Unexpected("no port " + name);
  if (open_.contains(name)) return Unexpected("port " + name + " is still open");
  existing_.erase(name);
  return {};
}

MemoryDevice* MemoryPortFactory::Find(const std::string& name) const {
  const auto it = open_.find(name);
  return it == open_.end() ? nullptr : it->second;
}

void MemoryPortFactory::FailOpen(const std::string& name, std::string reason) {
  if (reason.empty()) {
    failures_.erase(name);
  } else {
    failures_[name] = std::move(reason);
  }
}

}  // namespace dove::dswitch::io
