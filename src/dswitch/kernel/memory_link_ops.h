// MemoryLinkOps and MemoryMissSource: in-memory twins of the kernel's links, FDB and neighbour
// tables and of its miss notifications, for the backend's unit tests (no root).
//
// MemoryLinkOps keeps links by ifindex with the semantics the backend relies on: names are
// unique (EEXIST), unknown ifindexes and names give ENODEV, deleting a link releases its
// slaves and drops its FDB and neighbour entries, ReplaceFdb changes the remote of a MAC's
// entry (or adds it), AppendFdb adds a (MAC, remote) pair (EEXIST when present), deletes of
// absent entries give ENOENT. writes() counts every request that changed something, so a test
// can say that an update touched exactly N entries. Not thread-safe (neither is the kernel's
// Rtnl object).
//
// MemoryMissSource queues events and an overflow; fd() is an eventfd that is readable while
// something is queued.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/kernel/link_ops.h"

namespace dove::dswitch::kernel {

class MemoryLinkOps final : public LinkOps {
 public:
  // A link that is not ours (a veth end, a TAP): returns its ifindex.
  int AddInterface(const std::string& name, const std::string& kind = "veth");
  // A vxlan link with these options, as a crashed earlier run (or someone else) left it.
  int AddVxlan(const netlink::VxlanSpec& spec);
  std::optional<netlink::LinkInfo> Find(const std::string& name) const;
  std::vector<netlink::FdbEntry> Fdb(const std::string& vxlan_name) const;
  std::vector<netlink::NeighEntry> Neigh(const std::string& vxlan_name) const;
  uint64_t writes() const { return writes_; }

  netlink::Result<int> CreateBridge(const netlink::BridgeSpec& spec) override;
  netlink::Result<int> CreateVxlan(const netlink::VxlanSpec& spec) override;
  netlink::Result<netlink::LinkInfo> GetLink(const std::string& name) override;
  netlink::Result<std::vector<netlink::LinkInfo>> ListLinks() override;
  netlink::Result<netlink::VxlanSpec> GetVxlan(int ifindex) override;
  netlink::Result<netlink::Ok> DeleteLink(int ifindex) override;
  netlink::Result<netlink::Ok> SetMaster(int ifindex, int master_ifindex) override;
  netlink::Result<netlink::Ok> SetUp(int ifindex, bool up) override;
  netlink::Result<netlink::Ok> SetMtu(int ifindex, uint32_t mtu) override;
  netlink::Result<netlink::Ok> SetMac(int ifindex, const net::MacAddress& mac) override;
  netlink::Result<netlink::Ok> ReplaceFdb(const netlink::FdbEntry& entry) override;
  netlink::Result<netlink::Ok> AppendFdb(const netlink::FdbEntry& entry) override;
  netlink::Result<netlink::Ok> DeleteFdb(const netlink::FdbEntry& entry) override;
  netlink::Result<std::vector<netlink::FdbEntry>> ListFdb(int ifindex) override;
  netlink::Result<netlink::Ok> ReplaceNeigh(const netlink::NeighEntry& entry) override;
  netlink::Result<netlink::Ok> DeleteNeigh(const netlink::NeighEntry& entry) override;
  netlink::Result<std::vector<netlink::NeighEntry>> ListNeigh(int ifindex) override;

 private:
  struct Link {
    netlink::LinkInfo info;
    std::optional<netlink::VxlanSpec> vxlan;
    std::vector<netlink::FdbEntry> fdb;
    std::vector<netlink::NeighEntry> neigh;
  };
  Link* At(int ifindex);
  int Add(netlink::LinkInfo info);

  std::map<int, Link> links_;
  int next_ifindex_ = 2;
  uint64_t writes_ = 0;
};

class MemoryMissSource final : public MissSource {
 public:
  MemoryMissSource();
  void Push(const netlink::NeighEvent& event);
  // The next Read() fails with ENOBUFS (after delivering what was queued before).
  void Overflow();

  int fd() const override { return event_fd_.get(); }
  netlink::Result<size_t> Read(
      const std::function<void(const netlink::NeighEvent&)>& on_event) override;

 private:
  void Signal();
  io::FileDescriptor event_fd_;
  std::deque<netlink::NeighEvent> events_;
  bool overflow_ = false;
};

}  // namespace dove::dswitch::kernel
