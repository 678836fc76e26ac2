#include "dswitch/pipeline/l2_forward.h"

#include <string>

#include "dswitch/pipeline/classify.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"

namespace dove::dswitch::pipeline {

namespace {

// ARP, or an IPv6 Neighbor Solicitation or Advertisement.
bool IsArpOrNd(const Packet& packet) {
  const packet::PacketMeta& meta = packet.meta;
  if (meta.ether_type == net::ether_type::kArp) return true;
  if (meta.ether_type != net::ether_type::kIpv6 || meta.ip_proto != net::ip_proto::kIcmpv6 ||
      meta.ip_fragment) {
    return false;
  }
  const net::ByteSpan message = L4Bytes(packet);
  if (message.empty()) return false;
  return message[0] == net::icmpv6::kNeighborSolicitation ||
         message[0] == net::icmpv6::kNeighborAdvertisement;
}

}  // namespace

void L2Forward::Flood(const NetworkTables& network, Packet* packet, PacketBatch& to_ports,
                      PacketBatch& to_tunnels) {
  const PortId in_port = packet->meta.in_port;
  size_t destinations = network.flood_tunnel_ips.size();
  for (PortId port : network.ports) destinations += port != in_port ? 1 : 0;
  if (destinations == 0) {
    return DropPacket(DropReason::kFloodNoDestination, packet, counters_, pool_);
  }
  // The packet itself goes to the last destination; every earlier one gets a clone.
  size_t left = destinations;
  const auto copy = [&]() -> Packet* {
    if (--left == 0) return packet;
    Packet* clone = packet::Clone(*packet, pool_);
    if (clone == nullptr) counters_.Drop(DropReason::kPoolExhausted, *packet);
    return clone;
  };
  for (const net::Ipv4Address& vtep : network.flood_tunnel_ips) {
    Packet* out = copy();
    if (out == nullptr) continue;
    out->meta.tunnel = vtep;
    to_tunnels.Push(out);
  }
  for (PortId port : network.ports) {
    if (port == in_port) continue;
    Packet* out = copy();
    if (out == nullptr) continue;
    out->meta.out_port = port;
    to_ports.Push(out);
    counters_.Sent(port, out->size());
  }
}

void L2Forward::Forward(Packet* packet, PacketBatch& to_ports, PacketBatch& to_tunnels) {
  const NetworkTables* network = tables_.Network(packet->meta.vni);
  if (network == nullptr) {
    return DropPacket(DropReason::kUnknownNetwork, packet, counters_, pool_);
  }
  if (!packet->meta.parsed && !Classify(*packet)) {
    return DropPacket(DropReason::kEthernetMalformed, packet, counters_, pool_);
  }
  const net::MacAddress destination = DestinationMac(*packet);

  const bool traced = packet->meta.trace != 0;
  if (destination.IsMulticast()) {
    if (IsArpOrNd(*packet)) {
      return DropPacket(DropReason::kArpNdNotFlooded, packet, counters_, pool_);
    }
    if (traced) [[unlikely]] {
      counters_.Trace(*packet, {.stage = "l2_lookup",
                                .verdict = "flood",
                                .detail = "to " + destination.ToString() + ": a copy to " +
                                          std::to_string(network->flood_tunnel_ips.size()) +
                                          " switch(es) of the flood list and every other "
                                          "local port of VNI " +
                                          std::to_string(network->vni)});
    }
    return Flood(*network, packet, to_ports, to_tunnels);
  }
  if (const auto local = network->ports_by_mac.find(destination);
      local != network->ports_by_mac.end()) {
    if (local->second == packet->meta.in_port) {
      return DropPacket(DropReason::kHairpin, packet, counters_, pool_);
    }
    if (traced) [[unlikely]] {
      counters_.Trace(*packet, {.stage = "l2_lookup",
                                .verdict = "pass",
                                .detail = destination.ToString() + " is a local port of VNI " +
                                          std::to_string(network->vni)});
    }
    packet->meta.out_port = local->second;
    counters_.Sent(local->second, packet->size());
    return to_ports.Push(packet);
  }
  if (destination == network->router_mac) {
    return DropPacket(DropReason::kRouterNotIp, packet, counters_, pool_);
  }
  if (const auto vtep = remotes_.FindMac(packet->meta.vni, destination)) {
    if (traced) [[unlikely]] {
      counters_.Trace(*packet, {.stage = "l2_lookup",
                                .verdict = "pass",
                                .detail = destination.ToString() + " is behind tunnel IP " +
                                          vtep->ToString() + " (the switch's cache)"});
    }
    packet->meta.tunnel = *vtep;
    return to_tunnels.Push(packet);
  }
  if (traced) [[unlikely]] {
    counters_.Trace(*packet, {.stage = "l2_lookup",
                              .verdict = "miss",
                              .detail = destination.ToString() +
                                        " is not in the switch's cache: parked, the switch "
                                        "asks the controller"});
  }
  if (!parking_.Park(packet)) DropPacket(DropReason::kParkOverflow, packet, counters_, pool_);
}

void L2Forward::Process(PacketBatch& in, PacketBatch& to_ports, PacketBatch& to_tunnels) {
  for (Packet* packet : in) Forward(packet, to_ports, to_tunnels);
  in.clear();
}

}  // namespace dove::dswitch::pipeline
