#include "dswitch/kernel/rtnl_link_ops.h"

#include <utility>

namespace dove::dswitch::kernel {

netlink::Result<std::unique_ptr<RtnlLinkOps>> RtnlLinkOps::Open() {
  auto rtnl = netlink::Rtnl::Open();
  if (!rtnl) return Unexpected(rtnl.error());
  return std::unique_ptr<RtnlLinkOps>(new RtnlLinkOps(std::move(*rtnl)));
}

netlink::Result<int> RtnlLinkOps::CreateBridge(const netlink::BridgeSpec& spec) {
  return rtnl_->CreateBridge(spec);
}
netlink::Result<int> RtnlLinkOps::CreateVxlan(const netlink::VxlanSpec& spec) {
  return rtnl_->CreateVxlan(spec);
}
netlink::Result<netlink::LinkInfo> RtnlLinkOps::GetLink(const std::string& name) {
  return rtnl_->GetLink(name);
}
netlink::Result<std::vector<netlink::LinkInfo>> RtnlLinkOps::ListLinks() {
  return rtnl_->ListLinks();
}
netlink::Result<netlink::VxlanSpec> RtnlLinkOps::GetVxlan(int ifindex) {
  return rtnl_->GetVxlan(ifindex);
}
netlink::Result<netlink::Ok> RtnlLinkOps::DeleteLink(int ifindex) {
  return rtnl_->DeleteLink(ifindex);
}
netlink::Result<netlink::Ok> RtnlLinkOps::SetMaster(int ifindex, int master_ifindex) {
  return rtnl_->SetMaster(ifindex, master_ifindex);
}
netlink::Result<netlink::Ok> RtnlLinkOps::SetUp(int ifindex, bool up) {
  return rtnl_->SetUp(ifindex, up);
}
netlink::Result<netlink::Ok> RtnlLinkOps::SetMtu(int ifindex, uint32_t mtu) {
  return rtnl_->SetMtu(ifindex, mtu);
}
netlink::Result<netlink::Ok> RtnlLinkOps::SetMac(int ifindex, const net::MacAddress& mac) {
  return rtnl_->SetMac(ifindex, mac);
}
netlink::Result<netlink::Ok> RtnlLinkOps::ReplaceFdb(const netlink::FdbEntry& entry) {
  return rtnl_->ReplaceFdb(entry);
}
netlink::Result<netlink::Ok> RtnlLinkOps::AppendFdb(const netlink::FdbEntry& entry) {
  return rtnl_->AppendFdb(entry);
}
netlink::Result<netlink::Ok> RtnlLinkOps::DeleteFdb(const netlink::FdbEntry& entry) {
  return rtnl_->DeleteFdb(entry);
}
netlink::Result<std::vector<netlink::FdbEntry>> RtnlLinkOps::ListFdb(int ifindex) {
  return rtnl_->ListFdb(ifindex);
}
netlink::Result<netlink::Ok> RtnlLinkOps::ReplaceNeigh(const netlink::NeighEntry& entry) {
  return rtnl_->ReplaceNeigh(entry);
}
netlink::Result<netlink::Ok> RtnlLinkOps::DeleteNeigh(const netlink::NeighEntry& entry) {
  return rtnl_->DeleteNeigh(entry);
}
netlink::Result<std::vector<netlink::NeighEntry>> RtnlLinkOps::ListNeigh(int ifindex) {
  return rtnl_->ListNeigh(ifindex);
}

netlink::Result<std::unique_ptr<ListenerMissSource>> ListenerMissSource::Open(int receive_buffer) {
  auto listener = netlink::NeighListener::Open(receive_buffer);
  if (!listener) return Unexpected(listener.error());
  return std::unique_ptr<ListenerMissSource>(new ListenerMissSource(std::move(*listener)));
}

}  // namespace dove::dswitch::kernel
