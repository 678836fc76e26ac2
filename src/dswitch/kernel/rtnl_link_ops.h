// RtnlLinkOps and ListenerMissSource: LinkOps and MissSource on the kernel, over
// netlink::Rtnl and netlink::NeighListener, in the caller's network namespace at Open().
// Each forwards every call unchanged; contracts as in link_ops.h and netlink/rtnetlink.h.
// Not thread-safe: the backend's loop thread is the only user.
#pragma once

#include <memory>

#include "dswitch/kernel/link_ops.h"
#include "netlink/neigh_events.h"
#include "netlink/rtnetlink.h"

namespace dove::dswitch::kernel {

class RtnlLinkOps final : public LinkOps {
 public:
  static netlink::Result<std::unique_ptr<RtnlLinkOps>> Open();

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
  explicit RtnlLinkOps(std::unique_ptr<netlink::Rtnl> rtnl) : rtnl_(std::move(rtnl)) {}
  std::unique_ptr<netlink::Rtnl> rtnl_;
};

class ListenerMissSource final : public MissSource {
 public:
  static netlink::Result<std::unique_ptr<ListenerMissSource>> Open(int receive_buffer = 8 << 20);

  int fd() const override { return listener_->fd(); }
  netlink::Result<size_t> Read(
      const std::function<void(const netlink::NeighEvent&)>& on_event) override {
    return listener_->Read(on_event);
  }
  uint64_t malformed() const { return listener_->malformed(); }

 private:
  explicit ListenerMissSource(std::unique_ptr<netlink::NeighListener> listener)
      : listener_(std::move(listener)) {}
  std::unique_ptr<netlink::NeighListener> listener_;
};

}  // namespace dove::dswitch::kernel
