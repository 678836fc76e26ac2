#include "dswitch/pipeline/l2_forward.h"

#include <utility>

#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"

namespace dove::dswitch::pipeline {

namespace {

// ARP, or an IPv6 Neighbor Solicitation or Advertisement.
bool IsArpOrNd(const net::EthernetFrame& ethernet) {
  if (ethernet.ether_type == net::ether_type::kArp) return true;
  if (ethernet.ether_type != net::ether_type::kIpv6) return false;
  const auto ip = net::ParseIpv6(ethernet.payload);
  if (!ip || ip->upper_protocol != net::ip_proto::kIcmpv6 || ip->payload.empty()) return false;
  const uint8_t type = ip->payload[0];
  return type == net::icmpv6::kNeighborSolicitation || type == net::icmpv6::kNeighborAdvertisement;
}

}  // namespace

void L2Forward::Flood(const NetworkTables& network, const Frame& frame, Batch& to_ports,
                      Batch& to_tunnels) {
  for (const net::Ipv4Address& vtep : network.flood_tunnel_ips) {
    to_tunnels.Push(
        Frame{.bytes = frame.bytes, .port = frame.port, .vni = frame.vni, .tunnel = vtep});
  }
  for (PortId port : network.ports) {
    if (port == frame.port) continue;
    to_ports.Push(Frame{.bytes = frame.bytes, .port = port, .vni = frame.vni, .tunnel = {}});
    counters_.Sent(port);
  }
}

void L2Forward::Forward(Frame& frame, Batch& to_ports, Batch& to_tunnels) {
  const NetworkTables* network = tables_.Network(frame.vni);
  if (network == nullptr) return counters_.Drop(DropReason::kUnknownNetwork, frame);
  const auto ethernet = net::ParseEthernet(frame.span());
  if (!ethernet) return counters_.Drop(DropReason::kEthernetMalformed, frame);
  const net::MacAddress& destination = ethernet->destination;

  if (destination.IsMulticast()) {
    if (IsArpOrNd(*ethernet)) return counters_.Drop(DropReason::kArpNdNotFlooded, frame);
    return Flood(*network, frame, to_ports, to_tunnels);
  }
  if (const auto local = network->ports_by_mac.find(destination);
      local != network->ports_by_mac.end()) {
    if (local->second == frame.port) return counters_.Drop(DropReason::kHairpin, frame);
    frame.port = local->second;
    counters_.Sent(frame.port);
    return to_ports.Push(std::move(frame));
  }
  if (destination == network->router_mac) {
    return counters_.Drop(DropReason::kRouterNotImplemented, frame);
  }
  if (const auto vtep = remotes_.FindMac(frame.vni, destination)) {
    frame.tunnel = *vtep;
    return to_tunnels.Push(std::move(frame));
  }
  if (!parking_.Park(frame)) counters_.Drop(DropReason::kParkOverflow, frame);
}

void L2Forward::Process(Batch& in, Batch& to_ports, Batch& to_tunnels) {
  for (Frame& frame : in) Forward(frame, to_ports, to_tunnels);
  in.clear();
}

}  // namespace dove::dswitch::pipeline
