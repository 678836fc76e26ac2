#include "dswitch/kernel/memory_link_ops.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

namespace dove::dswitch::kernel {
namespace {

Unexpected<netlink::Error> Fail(int code, const std::string& what) {
  return Unexpected(netlink::Error{code, what});
}

}  // namespace

int MemoryLinkOps::Add(netlink::LinkInfo info) {
  info.ifindex = next_ifindex_++;
  if (info.mtu == 0) info.mtu = 1500;
  if (info.mac.IsZero()) {
    info.mac = net::MacAddress({0x02, 0x00, 0x00, 0x00, static_cast<uint8_t>(info.ifindex >> 8),
                                static_cast<uint8_t>(info.ifindex)});
  }
  const int ifindex = info.ifindex;
  links_[ifindex].info = std::move(info);
  return ifindex;
}

MemoryLinkOps::Link* MemoryLinkOps::At(int ifindex) {
  auto found = links_.find(ifindex);
  return found == links_.end() ? nullptr : &found->second;
}

int MemoryLinkOps::AddInterface(const std::string& name, const std::string& kind) {
  netlink::LinkInfo info;
  info.name = name;
  info.kind = kind;
  return Add(std::move(info));
}

int MemoryLinkOps::AddVxlan(const netlink::VxlanSpec& spec) {
  netlink::LinkInfo info;
  info.name = spec.name;
  info.kind = "vxlan";
  info.mtu = spec.mtu;
  const int ifindex = Add(std::move(info));
  links_[ifindex].vxlan = spec;
  return ifindex;
}

std::optional<netlink::LinkInfo> MemoryLinkOps::Find(const std::string& name) const {
  for (const auto& [ifindex, link] : links_) {
    if (link.info.name == name) return link.info;
  }
  return std::nullopt;
}

std::vector<netlink::FdbEntry> MemoryLinkOps::Fdb(const std::string& vxlan_name) const {
  auto link = Find(vxlan_name);
  return link ? links_.at(link->ifindex).fdb : std::vector<netlink::FdbEntry>{};
}

std::vector<netlink::NeighEntry> MemoryLinkOps::Neigh(const std::string& vxlan_name) const {
  auto link = Find(vxlan_name);
  return link ? links_.at(link->ifindex).neigh : std::vector<netlink::NeighEntry>{};
}

netlink::Result<int> MemoryLinkOps::CreateBridge(const netlink::BridgeSpec& spec) {
  if (Find(spec.name)) return Fail(EEXIST, "create bridge " + spec.name + ": File exists");
  ++writes_;
  netlink::LinkInfo info;
  info.name = spec.name;
  info.kind = "bridge";
  info.mac = spec.mac.value_or(net::MacAddress());
  info.mtu = spec.mtu;
  return Add(std::move(info));
}

netlink::Result<int> MemoryLinkOps::CreateVxlan(const netlink::VxlanSpec& spec) {
  if (Find(spec.name)) return Fail(EEXIST, "create vxlan " + spec.name + ": File exists");
  ++writes_;
  return AddVxlan(spec);
}

netlink::Result<netlink::LinkInfo> MemoryLinkOps::GetLink(const std::string& name) {
  auto link = Find(name);
  if (!link) return Fail(ENODEV, "get link " + name + ": No such device");
  return *link;
}

netlink::Result<std::vector<netlink::LinkInfo>> MemoryLinkOps::ListLinks() {
  std::vector<netlink::LinkInfo> links;
  for (const auto& [ifindex, link] : links_) links.push_back(link.info);
  return links;
}

netlink::Result<netlink::VxlanSpec> MemoryLinkOps::GetVxlan(int ifindex) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "get vxlan: No such device");
  if (!link->vxlan) return Fail(EINVAL, "get vxlan " + link->info.name + ": not a vxlan");
  netlink::VxlanSpec spec = *link->vxlan;
  spec.mtu = link->info.mtu;
  return spec;
}

netlink::Result<netlink::Ok> MemoryLinkOps::DeleteLink(int ifindex) {
  if (At(ifindex) == nullptr) return Fail(ENODEV, "delete link: No such device");
  links_.erase(ifindex);
  for (auto& [other, link] : links_) {
    if (link.info.master == ifindex) link.info.master = 0;
  }
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::SetMaster(int ifindex, int master_ifindex) {
  Link* link = At(ifindex);
  if (link == nullptr || (master_ifindex != 0 && At(master_ifindex) == nullptr)) {
    return Fail(ENODEV, "set master: No such device");
  }
  link->info.master = master_ifindex;
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::SetUp(int ifindex, bool up) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "set up: No such device");
  link->info.up = up;
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::SetMtu(int ifindex, uint32_t mtu) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "set mtu: No such device");
  link->info.mtu = mtu;
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::SetMac(int ifindex, const net::MacAddress& mac) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "set mac: No such device");
  link->info.mac = mac;
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::ReplaceFdb(const netlink::FdbEntry& entry) {
  Link* link = At(entry.ifindex);
  if (link == nullptr || !link->vxlan) return Fail(ENODEV, "replace fdb: No such device");
  ++writes_;
  for (auto& existing : link->fdb) {
    if (existing.mac == entry.mac) {
      existing = entry;
      return netlink::Ok{};
    }
  }
  link->fdb.push_back(entry);
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::AppendFdb(const netlink::FdbEntry& entry) {
  Link* link = At(entry.ifindex);
  if (link == nullptr || !link->vxlan) return Fail(ENODEV, "append fdb: No such device");
  for (const auto& existing : link->fdb) {
    if (existing.mac == entry.mac && existing.remote == entry.remote) {
      return Fail(EEXIST, "append fdb: File exists");
    }
  }
  ++writes_;
  link->fdb.push_back(entry);
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::DeleteFdb(const netlink::FdbEntry& entry) {
  Link* link = At(entry.ifindex);
  if (link == nullptr) return Fail(ENODEV, "delete fdb: No such device");
  auto found = std::find_if(link->fdb.begin(), link->fdb.end(), [&](const auto& existing) {
    return existing.mac == entry.mac && existing.remote == entry.remote;
  });
  if (found == link->fdb.end()) return Fail(ENOENT, "delete fdb: No such file or directory");
  link->fdb.erase(found);
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<std::vector<netlink::FdbEntry>> MemoryLinkOps::ListFdb(int ifindex) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "list fdb: No such device");
  return link->fdb;
}

netlink::Result<netlink::Ok> MemoryLinkOps::ReplaceNeigh(const netlink::NeighEntry& entry) {
  Link* link = At(entry.ifindex);
  if (link == nullptr) return Fail(ENODEV, "replace neigh: No such device");
  ++writes_;
  for (auto& existing : link->neigh) {
    if (existing.ip == entry.ip) {
      existing = entry;
      return netlink::Ok{};
    }
  }
  link->neigh.push_back(entry);
  return netlink::Ok{};
}

netlink::Result<netlink::Ok> MemoryLinkOps::DeleteNeigh(const netlink::NeighEntry& entry) {
  Link* link = At(entry.ifindex);
  if (link == nullptr) return Fail(ENODEV, "delete neigh: No such device");
  auto found = std::find_if(link->neigh.begin(), link->neigh.end(),
                            [&](const auto& existing) { return existing.ip == entry.ip; });
  if (found == link->neigh.end()) return Fail(ENOENT, "delete neigh: No such file or directory");
  link->neigh.erase(found);
  ++writes_;
  return netlink::Ok{};
}

netlink::Result<std::vector<netlink::NeighEntry>> MemoryLinkOps::ListNeigh(int ifindex) {
  Link* link = At(ifindex);
  if (link == nullptr) return Fail(ENODEV, "list neigh: No such device");
  return link->neigh;
}

MemoryMissSource::MemoryMissSource() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void MemoryMissSource::Signal() {
  const uint64_t one = 1;
  if (::write(event_fd_.get(), &one, sizeof(one)) < 0) {
    // The counter is already non-zero: readable as it is.
  }
}

void MemoryMissSource::Push(const netlink::NeighEvent& event) {
  events_.push_back(event);
  Signal();
}

void MemoryMissSource::Overflow() {
  overflow_ = true;
  Signal();
}

netlink::Result<size_t> MemoryMissSource::Read(
    const std::function<void(const netlink::NeighEvent&)>& on_event) {
  uint64_t count = 0;
  if (::read(event_fd_.get(), &count, sizeof(count)) < 0) {
    // Nothing signalled: nothing queued either.
  }
  size_t delivered = 0;
  while (!events_.empty()) {
    const netlink::NeighEvent event = events_.front();
    events_.pop_front();
    on_event(event);
    ++delivered;
  }
  if (overflow_) {
    overflow_ = false;
    return Fail(ENOBUFS, "read neighbour events: No buffer space available");
  }
  return delivered;
}

}  // namespace dove::dswitch::kernel
