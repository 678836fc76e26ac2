#include "dswitch/pipeline/from_tunnel.h"

#include <vector>

#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/udp.h"
#include "net/vxlan.h"

namespace dove::dswitch::pipeline {

std::optional<DropReason> FromTunnel::Deliver(Frame& frame, Batch& to_ports) {
  const auto outer = net::ParseEthernet(frame.span());
  if (!outer) return DropReason::kOuterMalformed;
  if (outer->ether_type != net::ether_type::kIpv4) return DropReason::kOuterNotVxlan;
  const auto ip = net::ParseIpv4(outer->payload);
  if (!ip) return DropReason::kOuterMalformed;
  if (ip->protocol() != net::ip_proto::kUdp || ip->IsFragment()) {
    return DropReason::kOuterNotVxlan;
  }
  const auto udp = net::ParseUdp(ip->payload, ip->source(), ip->destination());
  if (!udp) return DropReason::kOuterMalformed;
  if (udp->destination_port() != net::kVxlanPort) return DropReason::kOuterNotVxlan;
  if (ip->destination() != local_ip_) return DropReason::kOuterNotForUs;
  const auto vxlan = net::ParseVxlan(udp->payload);
  if (!vxlan) return DropReason::kVxlanMalformed;
  const NetworkTables* network = tables_.Network(vxlan->vni);
  if (network == nullptr) return DropReason::kVxlanUnknownVni;
  frame.vni = vxlan->vni;
  frame.tunnel = ip->source();
  if (!network->IsFloodPeer(ip->source())) return DropReason::kVtepNotAllowed;
  const auto inner = net::ParseEthernet(vxlan->inner_frame);
  if (!inner) return DropReason::kInnerMalformed;
  if (inner->source.IsMulticast() || network->ports_by_mac.contains(inner->source)) {
    return DropReason::kInnerSourceInvalid;
  }

  const auto send = [&](PortId port) {
    to_ports.Push(
        Frame{.bytes = std::vector<uint8_t>(vxlan->inner_frame.begin(), vxlan->inner_frame.end()),
              .port = port,
              .vni = vxlan->vni,
              .tunnel = ip->source()});
    counters_.Sent(port);
  };
  if (inner->destination.IsMulticast()) {
    for (PortId port : network->ports) send(port);
  } else {
    const auto it = network->ports_by_mac.find(inner->destination);
    if (it == network->ports_by_mac.end()) return DropReason::kInnerDestinationUnknown;
    send(it->second);
  }
  counters_.FromTunnel(vxlan->vni);
  return std::nullopt;
}

void FromTunnel::Process(Batch& in, Batch& to_ports) {
  for (Frame& frame : in) {
    if (const auto refused = Deliver(frame, to_ports)) counters_.Drop(*refused, frame);
  }
  in.clear();
}

}  // namespace dove::dswitch::pipeline
