#include "dswitch/pipeline/vxlan_encap.h"

#include <cstring>
#include <vector>

#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/udp.h"
#include "net/vxlan.h"

namespace dove::dswitch::pipeline {

namespace {

constexpr size_t kIpAt = sizeof(net::EthernetHeader);
constexpr size_t kUdpAt = kIpAt + sizeof(net::Ipv4Header);
constexpr size_t kVxlanAt = kUdpAt + sizeof(net::UdpHeader);
constexpr size_t kInnerAt = kVxlanAt + sizeof(net::VxlanHeader);
static_assert(kInnerAt == net::kVxlanOverheadIpv4);

}  // namespace

bool VxlanEncap::Encapsulate(Frame& frame) const {
  const size_t inner_size = frame.bytes.size();
  const auto vxlan = net::MakeVxlanHeader(frame.vni);
  const auto udp = net::MakeUdpHeader(net::VxlanSourcePort(net::InnerFlowHash(frame.span())),
                                      net::kVxlanPort, sizeof(net::VxlanHeader) + inner_size);
  const auto ip = net::MakeIpv4Header(underlay_.local_ip, frame.tunnel, net::ip_proto::kUdp,
                                      underlay_.ttl, kInnerAt - kUdpAt + inner_size);
  if (!vxlan || !udp || !ip) return false;
  std::vector<uint8_t> outer(kInnerAt + inner_size);
  net::MutableByteSpan out(outer);
  net::StoreHeader(out, net::MakeEthernetHeader(underlay_.next_hop_mac, underlay_.local_mac,
                                                net::ether_type::kIpv4));
  net::StoreHeader(out.subspan(kIpAt), *ip);
  net::StoreHeader(out.subspan(kUdpAt), *udp);
  net::StoreHeader(out.subspan(kVxlanAt), *vxlan);
  if (inner_size != 0) std::memcpy(outer.data() + kInnerAt, frame.bytes.data(), inner_size);
  frame.bytes = std::move(outer);
  return true;
}

void VxlanEncap::Process(Batch& batch) {
  batch.Retain([this](Frame& frame) {
    if (!Encapsulate(frame)) {
      counters_.Drop(DropReason::kEncapFailed, frame);
      return false;
    }
    counters_.ToTunnel(frame.vni);
    return true;
  });
}

}  // namespace dove::dswitch::pipeline
