// LinkOps and MissSource: what the kernel backend needs of rtnetlink, as interfaces, so its
// logic is unit-tested against in-memory twins (memory_link_ops.h) without root, and runs over
// netlink::Rtnl and netlink::NeighListener on a host (rtnl_link_ops.h).
//
// The methods, their arguments and their errors are those of netlink::Rtnl
// (netlink/rtnetlink.h): an error is an Error{errno, words}, never an exception; a request the
// kernel refuses changes nothing. Not thread-safe: the backend's loop thread is the only user.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netlink/neigh_events.h"
#include "netlink/rtnetlink.h"

namespace dove::dswitch::kernel {

class LinkOps {
 public:
  virtual ~LinkOps() = default;

  virtual netlink::Result<int> CreateBridge(const netlink::BridgeSpec& spec) = 0;
  virtual netlink::Result<int> CreateVxlan(const netlink::VxlanSpec& spec) = 0;
  // ENODEV when there is no link of that name.
  virtual netlink::Result<netlink::LinkInfo> GetLink(const std::string& name) = 0;
  virtual netlink::Result<std::vector<netlink::LinkInfo>> ListLinks() = 0;
  virtual netlink::Result<netlink::VxlanSpec> GetVxlan(int ifindex) = 0;
  virtual netlink::Result<netlink::Ok> DeleteLink(int ifindex) = 0;
  virtual netlink::Result<netlink::Ok> SetMaster(int ifindex, int master_ifindex) = 0;
  virtual netlink::Result<netlink::Ok> SetUp(int ifindex, bool up) = 0;
  virtual netlink::Result<netlink::Ok> SetMtu(int ifindex, uint32_t mtu) = 0;
  virtual netlink::Result<netlink::Ok> SetMac(int ifindex, const net::MacAddress& mac) = 0;

  virtual netlink::Result<netlink::Ok> ReplaceFdb(const netlink::FdbEntry& entry) = 0;
  virtual netlink::Result<netlink::Ok> AppendFdb(const netlink::FdbEntry& entry) = 0;
  // ENOENT when absent.
  virtual netlink::Result<netlink::Ok> DeleteFdb(const netlink::FdbEntry& entry) = 0;
  virtual netlink::Result<std::vector<netlink::FdbEntry>> ListFdb(int ifindex) = 0;

  virtual netlink::Result<netlink::Ok> ReplaceNeigh(const netlink::NeighEntry& entry) = 0;
  // ENOENT when absent.
  virtual netlink::Result<netlink::Ok> DeleteNeigh(const netlink::NeighEntry& entry) = 0;
  virtual netlink::Result<std::vector<netlink::NeighEntry>> ListNeigh(int ifindex) = 0;
};

// The kernel's neighbour notifications: fd() is readable when some are queued; Read() drains
// them without blocking, calling `on_event` for each, and returns an error with code ENOBUFS
// when the kernel dropped some (the caller resynchronises; the source stays usable).
class MissSource {
 public:
  virtual ~MissSource() = default;
  virtual int fd() const = 0;
  virtual netlink::Result<size_t> Read(
      const std::function<void(const netlink::NeighEvent&)>& on_event) = 0;
};

}  // namespace dove::dswitch::kernel
