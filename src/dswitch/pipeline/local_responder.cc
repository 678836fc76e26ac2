#include "dswitch/pipeline/local_responder.h"

#include <utility>
#include <vector>

#include "net/arp.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/replies.h"

namespace dove::dswitch::pipeline {

std::optional<LocalResponder::Owner> LocalResponder::FindOwner(uint32_t vni,
                                                               const net::IpAddress& ip) const {
  if (const NetworkTables* network = tables_.Network(vni)) {
    const auto it = network->ports_by_ip.find(ip);
    if (it != network->ports_by_ip.end()) {
      const LocalPort* port = tables_.Port(it->second);
      if (port != nullptr) return Owner{port->mac, port->id};
    }
  }
  if (const auto remote = remotes_.FindIp(vni, ip)) return Owner{remote->mac, kNoPort};
  return std::nullopt;
}

LocalResponder::Outcome LocalResponder::HandleArp(const Frame& frame,
                                                  const net::EthernetFrame& ethernet,
                                                  Batch& replies) {
  const auto arp = net::ParseArp(ethernet.payload);
  if (!arp) return {true, DropReason::kArpMalformed};
  if (arp->operation.value() != net::arp::kRequest || arp->sender_ip == arp->target_ip) {
    return {true, DropReason::kArpNotAnswered};
  }
  const auto owner = FindOwner(frame.vni, arp->target_ip);
  if (!owner) return {true, DropReason::kArpTargetUnknown, /*miss=*/true};
  if (owner->port == frame.port) return {true, DropReason::kArpForOwnAddress};
  auto reply = net::BuildArpReply(ethernet, *arp, owner->mac);
  if (!reply) return {true, DropReason::kArpNotAnswered};
  replies.Push(
      Frame{.bytes = std::move(*reply), .port = frame.port, .vni = frame.vni, .tunnel = {}});
  counters_.Sent(frame.port);
  return {true, std::nullopt};
}

LocalResponder::Outcome LocalResponder::HandleIpv6(const Frame& frame,
                                                   const net::EthernetFrame& ethernet,
                                                   Batch& replies) {
  const auto ip = net::ParseIpv6(ethernet.payload);
  if (!ip) return {true, DropReason::kIpv6Malformed};
  if (ip->upper_protocol != net::ip_proto::kIcmpv6 || ip->IsFragment() || ip->payload.empty()) {
    return {};
  }
  const uint8_t type = ip->payload[0];
  if (type == net::icmpv6::kNeighborAdvertisement) return {true, DropReason::kNdNotAnswered};
  if (type != net::icmpv6::kNeighborSolicitation) return {};
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  if (!icmp) return {true, DropReason::kNdMalformed};
  const auto ns = net::ParseNeighborSolicitation(*icmp);
  if (!ns) return {true, DropReason::kNdMalformed};
  const auto owner = FindOwner(frame.vni, ns->target);
  if (!owner) return {true, DropReason::kNdTargetUnknown, /*miss=*/true};
  if (owner->port == frame.port) return {true, DropReason::kNdForOwnAddress};
  auto reply = net::BuildNeighborAdvertisement(ethernet, *ip, *ns, owner->mac, /*router=*/false);
  if (!reply) return {true, DropReason::kNdNotAnswered};
  replies.Push(
      Frame{.bytes = std::move(*reply), .port = frame.port, .vni = frame.vni, .tunnel = {}});
  counters_.Sent(frame.port);
  return {true, std::nullopt};
}

LocalResponder::Outcome LocalResponder::Handle(const Frame& frame, Batch& replies) {
  const auto ethernet = net::ParseEthernet(frame.span());
  if (!ethernet) return {true, DropReason::kEthernetMalformed};
  switch (ethernet->ether_type) {
    case net::ether_type::kArp:
      return HandleArp(frame, *ethernet, replies);
    case net::ether_type::kIpv6:
      return HandleIpv6(frame, *ethernet, replies);
    default:
      return {};
  }
}

void LocalResponder::Process(Batch& batch, Batch& replies, Batch* misses) {
  batch.Retain([&](Frame& frame) {
    const Outcome outcome = Handle(frame, replies);
    if (outcome.miss && misses != nullptr) {
      misses->Push(std::move(frame));
      return false;
    }
    if (outcome.drop) counters_.Drop(*outcome.drop, frame);
    return !outcome.consumed;
  });
}

}  // namespace dove::dswitch::pipeline
