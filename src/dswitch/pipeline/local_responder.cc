#include "dswitch/pipeline/local_responder.h"

#include "dswitch/pipeline/classify.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/replies.h"

namespace dove::dswitch::pipeline {

namespace {

// A gateway address of one of the network's subnets, or the router's IPv6 link-local address.
bool IsGatewayOf(const NetworkTables& network, const net::IpAddress& ip) {
  for (const SubnetSettings& subnet : network.subnets) {
    if (subnet.gateway && *subnet.gateway == ip) return true;
  }
  for (const Route& route : network.routes) {
    if (route.vni == network.vni && route.gateway && *route.gateway == ip) return true;
  }
  return ip.is_v6() && ip == net::IpAddress(net::Ipv6Address::LinkLocalFromMac(network.router_mac));
}

}  // namespace

std::optional<LocalResponder::Owner> LocalResponder::FindOwner(uint32_t vni,
                                                               const net::IpAddress& ip) const {
  if (const NetworkTables* network = tables_.Network(vni)) {
    if (!network->router_mac.IsZero() && IsGatewayOf(*network, ip)) {
      return Owner{network->router_mac, kNoPort, /*router=*/true};
    }
    const auto it = network->ports_by_ip.find(ip);
    if (it != network->ports_by_ip.end()) {
      const LocalPort* port = tables_.Port(it->second);
      if (port != nullptr) return Owner{port->mac, port->id};
    }
  }
  if (const auto remote = remotes_.FindIp(vni, ip)) return Owner{remote->mac, kNoPort};
  return std::nullopt;
}

LocalResponder::Outcome LocalResponder::HandleArp(const Packet& packet) {
  const auto arp = net::ParseArp(L3Bytes(packet));
  if (!arp) return {true, DropReason::kArpMalformed};
  if (arp->operation.value() != net::arp::kRequest || arp->sender_ip == arp->target_ip) {
    return {true, DropReason::kArpNotAnswered};
  }
  const auto owner = FindOwner(packet.meta.vni, arp->target_ip);
  if (!owner) return {true, DropReason::kArpTargetUnknown, /*miss=*/true};
  if (owner->port == packet.meta.in_port) return {true, DropReason::kArpForOwnAddress};
  if (!net::BuildArpReplyInto(reply_, EthernetView(packet), *arp, owner->mac)) {
    return {true, DropReason::kArpNotAnswered};
  }
  return {true, std::nullopt};
}

LocalResponder::Outcome LocalResponder::HandleIpv6(const Packet& packet) {
  const net::ByteSpan l3 = L3Bytes(packet);
  const auto header = net::LoadHeader<net::Ipv6Header>(l3);
  if (!header) return {true, DropReason::kIpv6Malformed};
  const net::ByteSpan message = L4Bytes(packet);
  if (packet.meta.ip_proto != net::ip_proto::kIcmpv6 || packet.meta.ip_fragment ||
      message.empty()) {
    return {};
  }
  const uint8_t type = message[0];
  if (type == net::icmpv6::kNeighborAdvertisement) return {true, DropReason::kNdNotAnswered};
  if (type != net::icmpv6::kNeighborSolicitation) return {};
  const auto icmp = net::ParseIcmpv6(message, header->source, header->destination);
  if (!icmp) return {true, DropReason::kNdMalformed};
  const auto ns = net::ParseNeighborSolicitation(*icmp);
  if (!ns) return {true, DropReason::kNdMalformed};
  const auto owner = FindOwner(packet.meta.vni, ns->target);
  if (!owner) return {true, DropReason::kNdTargetUnknown, /*miss=*/true};
  if (owner->port == packet.meta.in_port) return {true, DropReason::kNdForOwnAddress};
  // The parsed IPv6 packet as the reply builder takes it, from Classify's offsets.
  net::Ipv6Packet ip;
  ip.header = *header;
  ip.upper_protocol = packet.meta.ip_proto;
  ip.header_size = static_cast<size_t>(packet.meta.l4_offset - packet.meta.l3_offset);
  ip.payload = message;
  if (!net::BuildNeighborAdvertisementInto(reply_, EthernetView(packet), ip, *ns, owner->mac,
                                           owner->router)) {
    return {true, DropReason::kNdNotAnswered};
  }
  return {true, std::nullopt};
}

LocalResponder::Outcome LocalResponder::Handle(const Packet& packet) {
  switch (packet.meta.ether_type) {
    case net::ether_type::kArp:
      return HandleArp(packet);
    case net::ether_type::kIpv6:
      return HandleIpv6(packet);
    default:
      return {};
  }
}

bool LocalResponder::EmitReply(const Packet& request, PacketBatch& replies) {
  Packet* reply = pool_.Alloc(reply_.size());
  if (reply == nullptr) return false;
  if (!reply->Assign(reply_.bytes())) {
    pool_.Free(reply);
    return false;
  }
  Classify(*reply);
  reply->meta.out_port = request.meta.in_port;
  reply->meta.vni = request.meta.vni;
  reply->meta.trace = request.meta.trace;
  replies.Push(reply);
  counters_.Sent(reply->meta.out_port, reply->size());
  return true;
}

void LocalResponder::Process(PacketBatch& batch, PacketBatch& replies, PacketBatch* misses) {
  batch.Retain([&](Packet* packet) {
    if (!packet->meta.parsed && !Classify(*packet)) {
      DropPacket(DropReason::kEthernetMalformed, packet, counters_, pool_);
      return false;
    }
    const Outcome outcome = Handle(*packet);
    if (!outcome.consumed) return true;
    if (outcome.miss && misses != nullptr) {
      misses->Push(packet);
      return false;
    }
    if (outcome.drop) {
      DropPacket(*outcome.drop, packet, counters_, pool_);
    } else if (!EmitReply(*packet, replies)) {
      DropPacket(DropReason::kPoolExhausted, packet, counters_, pool_);
    } else {
      pool_.Free(packet);  // answered: the request goes no further
    }
    return false;
  });
}

}  // namespace dove::dswitch::pipeline
