#include "dswitch/io/port_factory.h"

#include <net/if.h>

#include <cerrno>
#include <utility>

#include "dswitch/io/interface_mtu.h"
#include "dswitch/io/packet_port.h"
#include "dswitch/io/tap_port.h"
#include "netlink/rtnetlink.h"

namespace dove::dswitch::io {

LinuxPortFactory::LinuxPortFactory(uint32_t mtu) : mtu_(mtu) {}

LinuxPortFactory::~LinuxPortFactory() = default;

Expected<std::unique_ptr<Device>, std::string> LinuxPortFactory::OpenPort(const std::string& name,
                                                                          PortKind kind,
                                                                          packet::PortId id) {
  return kind == PortKind::kPacket ? OpenPacket(name, id) : OpenTap(name, id);
}

Expected<netlink::Rtnl*, std::string> LinuxPortFactory::Rtnl() {
  if (!rtnl_) {
    auto opened = netlink::Rtnl::Open();
    if (!opened) return Unexpected("rtnetlink: " + opened.error().message);
    rtnl_ = std::move(*opened);
  }
  return rtnl_.get();
}

Expected<std::unique_ptr<Device>, std::string> LinuxPortFactory::OpenPacket(const std::string& name,
                                                                            packet::PortId id) {
  auto port = PacketPort::Open(name, id);
  if (!port) return Unexpected(port.error());
  auto rtnl = Rtnl();
  if (!rtnl) return Unexpected(rtnl.error());
  if (auto guarded = (*rtnl)->AddIngressGuard((*port)->ifindex()); !guarded) {
    return Unexpected("cannot keep the host's stack off " + name + ": " + guarded.error().message);
  }
  return std::unique_ptr<Device>(std::move(*port));
}

Expected<std::unique_ptr<Device>, std::string> LinuxPortFactory::OpenTap(const std::string& name,
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

Expected<void, std::string> LinuxPortFactory::RemovePort(const std::string& name, PortKind kind) {
  if (kind == PortKind::kPacket) {
    const unsigned ifindex = ::if_nametoindex(name.c_str());
    if (ifindex == 0) return {};  // gone with its owner: nothing to give back
    auto rtnl = Rtnl();
    if (!rtnl) return Unexpected(rtnl.error());
    auto deleted = (*rtnl)->DeleteIngressGuard(static_cast<int>(ifindex));
    if (!deleted && deleted.error().code != ENOENT && deleted.error().code != EINVAL) {
      return Unexpected(deleted.error().message);
    }
    return {};
  }
  auto tap = TapPort::Open(name, /*create=*/false, packet::kNoPort);
  if (!tap) return Unexpected(tap.error());
  return (*tap)->Remove();
}

MemoryPortFactory::~MemoryPortFactory() {
  // Devices still open must not call back into a destroyed factory.
  for (const auto& [name, device] : open_) device->ForgetDestroyHook();
}

Expected<std::unique_ptr<Device>, std::string> MemoryPortFactory::OpenPort(const std::string& name,
                                                                           PortKind kind,
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
  kinds_[name] = kind;
  open_[name] = device.get();
  return std::unique_ptr<Device>(std::move(device));
}

Expected<void, std::string> MemoryPortFactory::RemovePort(const std::string& name,
                                                          PortKind /*kind*/) {
  if (!existing_.contains(name)) return Unexpected("no port " + name);
  if (open_.contains(name)) return Unexpected("port " + name + " is still open");
  existing_.erase(name);
  return {};
}

PortKind MemoryPortFactory::KindOf(const std::string& name) const {
  const auto it = kinds_.find(name);
  return it == kinds_.end() ? PortKind::kTap : it->second;
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
