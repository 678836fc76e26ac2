#include "dswitch/pipeline/router.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "dswitch/pipeline/classify.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/replies.h"

namespace dove::dswitch::pipeline {
namespace {

constexpr size_t kIpv4TtlOffset = 8;
constexpr size_t kIpv4ChecksumOffset = 10;
constexpr size_t kIpv6HopLimitOffset = 7;

const Route* FindRoute(const NetworkTables& network, const net::IpAddress& ip) {
  for (const Route& route : network.routes) {
    if (route.prefix.Contains(ip)) return &route;
  }
  return nullptr;
}

bool IsEchoRequest(const Packet& packet) {
  const net::ByteSpan l4 = L4Bytes(packet);
  if (l4.empty() || packet.meta.ip_fragment) return false;
  return packet.meta.ip_proto == net::ip_proto::kIcmp     ? l4[0] == net::icmpv4::kEchoRequest
         : packet.meta.ip_proto == net::ip_proto::kIcmpv6 ? l4[0] == net::icmpv6::kEchoRequest
                                                          : false;
}

// Decrements the TTL / hop limit (> 1: checked) in place.
void DecrementTtl(Packet& packet, const IpFields& ip) {
  uint8_t* l3 = packet.data() + packet.meta.l3_offset;
  if (ip.v6) {
    l3[kIpv6HopLimitOffset] = static_cast<uint8_t>(ip.ttl - 1);
    return;
  }
  const uint8_t protocol = l3[kIpv4TtlOffset + 1];
  const auto old_word = static_cast<uint16_t>(ip.ttl << 8 | protocol);
  const auto new_word = static_cast<uint16_t>((ip.ttl - 1) << 8 | protocol);
  const auto checksum =
      static_cast<uint16_t>(l3[kIpv4ChecksumOffset] << 8 | l3[kIpv4ChecksumOffset + 1]);
  const uint16_t updated = net::ChecksumUpdate(checksum, old_word, new_word);
  l3[kIpv4TtlOffset] = static_cast<uint8_t>(ip.ttl - 1);
  l3[kIpv4ChecksumOffset] = static_cast<uint8_t>(updated >> 8);
  l3[kIpv4ChecksumOffset + 1] = static_cast<uint8_t>(updated);
}

void SetMacs(Packet& packet, const net::MacAddress& destination, const net::MacAddress& source) {
  std::memcpy(packet.data(), destination.bytes().data(), 6);
  std::memcpy(packet.data() + 6, source.bytes().data(), 6);
}

}  // namespace

bool IsRouterAddress(const NetworkTables& network, const net::IpAddress& ip) {
  for (const Route& route : network.routes) {
    if (route.gateway && *route.gateway == ip) return true;
  }
  for (const SubnetSettings& subnet : network.subnets) {
    if (subnet.gateway && *subnet.gateway == ip) return true;
  }
  return ip.is_v6() && ip == net::IpAddress(net::Ipv6Address::LinkLocalFromMac(network.router_mac));
}

std::optional<net::IpAddress> GatewayFor(const NetworkTables& network,
                                         const net::IpAddress& sender) {
  if (sender.is_v6() && sender.v6().IsLinkLocal()) {
    return net::Ipv6Address::LinkLocalFromMac(network.router_mac);
  }
  std::optional<net::IpAddress> any;
  for (const SubnetSettings& subnet : network.subnets) {
    if (!subnet.gateway || subnet.gateway->family() != sender.family()) continue;
    if (subnet.prefix.Contains(sender)) return subnet.gateway;
    if (!any) any = subnet.gateway;
  }
  if (!any) {
    // Subnets without settings: the domain's routes of this network hold the gateways too.
    for (const Route& route : network.routes) {
      if (route.vni != network.vni || !route.gateway ||
          route.gateway->family() != sender.family()) {
        continue;
      }
      if (route.prefix.Contains(sender)) return route.gateway;
      if (!any) any = route.gateway;
    }
  }
  if (!any && sender.is_v6()) any = net::Ipv6Address::LinkLocalFromMac(network.router_mac);
  return any;
}

std::optional<net::IpAddress> Router::DestinationIp(const Packet& packet) {
  const auto ip = ReadIpFields(packet);
  if (!ip) return std::nullopt;
  return ip->destination;
}

bool Router::TakeIcmpToken() {
  const auto now = gate_.now();
  if (icmp_refilled_ && now > *icmp_refilled_) {
    const std::chrono::duration<double> elapsed = now - *icmp_refilled_;
    icmp_tokens_ = std::min(kIcmpBurst, icmp_tokens_ + elapsed.count() * kIcmpPerSecond);
  }
  icmp_refilled_ = now;
  if (icmp_tokens_ < 1) {
    counters_.router().icmp_rate_limited++;
    return false;
  }
  icmp_tokens_ -= 1;
  return true;
}

bool Router::EmitReply(const Packet& request, const std::vector<uint8_t>& bytes,
                       PacketBatch& replies) {
  Packet* reply = pool_.Alloc(bytes.size());
  if (reply == nullptr) {
    counters_.Drop(DropReason::kPoolExhausted, request);
    return false;
  }
  if (!reply->Assign(bytes)) {
    pool_.Free(reply);
    counters_.Drop(DropReason::kPoolExhausted, request);
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

bool Router::AnswerGateway(const Packet& packet, const NetworkTables& network,
                           PacketBatch& replies) {
  if (!IsEchoRequest(packet)) return false;
  if (!TakeIcmpToken()) return false;
  const auto frame = net::ParseEthernet(packet.span());
  if (!frame) return false;
  if (packet.meta.ether_type == net::ether_type::kIpv4) {
    const auto ip = net::ParseIpv4(frame->payload, /*verify_checksum=*/false);
    if (!ip) return false;
    const auto reply = net::BuildIcmpv4EchoReply(*frame, *ip, network.router_mac);
    if (!reply) return false;
    if (EmitReply(packet, *reply, replies)) counters_.router().echo_replies++;
    return true;
  }
  const auto ip = net::ParseIpv6(frame->payload);
  if (!ip) return false;
  const auto reply = net::BuildIcmpv6EchoReply(*frame, *ip, network.router_mac);
  if (!reply) return false;
  if (EmitReply(packet, *reply, replies)) counters_.router().echo_replies++;
  return true;
}

void Router::SendError(const Packet& packet, Error error, PacketBatch& replies) {
  const NetworkTables* network = tables_.Network(packet.meta.vni);
  if (network == nullptr || !TakeIcmpToken()) return;
  const auto frame = net::ParseEthernet(packet.span());
  if (!frame) return;
  net::Result<std::vector<uint8_t>> built = Unexpected(net::Error::kUnsupported);
  if (packet.meta.ether_type == net::ether_type::kIpv4) {
    const auto ip = net::ParseIpv4(frame->payload, /*verify_checksum=*/false);
    if (!ip) return;
    const auto gateway = GatewayFor(*network, ip->source());
    if (!gateway) return;
    const net::Icmpv4Sender sender{network->router_mac, gateway->v4()};
    switch (error) {
      case Error::kNoRoute:
        built = net::BuildIcmpv4Error(*frame, *ip, net::icmpv4::kDestinationUnreachable,
                                      net::icmpv4::kNetUnreachable, 0, sender);
        break;
      case Error::kHostUnknown:
        built = net::BuildIcmpv4Error(*frame, *ip, net::icmpv4::kDestinationUnreachable,
                                      net::icmpv4::kHostUnreachable, 0, sender);
        break;
      case Error::kTimeExceeded:
        built = net::BuildIcmpv4TimeExceeded(*frame, *ip, sender);
        break;
      case Error::kProhibited:
        built = net::BuildIcmpv4Error(*frame, *ip, net::icmpv4::kDestinationUnreachable,
                                      net::icmpv4::kAdminProhibited, 0, sender);
        break;
      case Error::kBeyondScope:  // IPv6 only
        break;
    }
  } else {
    const auto ip = net::ParseIpv6(frame->payload);
    if (!ip) return;
    const auto gateway = GatewayFor(*network, ip->source());
    if (!gateway) return;
    const net::Icmpv6Sender sender{network->router_mac, gateway->v6()};
    switch (error) {
      case Error::kNoRoute:
        built = net::BuildIcmpv6Error(*frame, *ip, net::icmpv6::kDestinationUnreachable,
                                      net::icmpv6::kNoRoute, 0, sender);
        break;
      case Error::kHostUnknown:
        built = net::BuildIcmpv6Error(*frame, *ip, net::icmpv6::kDestinationUnreachable,
                                      net::icmpv6::kAddressUnreachable, 0, sender);
        break;
      case Error::kTimeExceeded:
        built = net::BuildIcmpv6TimeExceeded(*frame, *ip, sender);
        break;
      case Error::kProhibited:
        built = net::BuildIcmpv6Error(*frame, *ip, net::icmpv6::kDestinationUnreachable,
                                      net::icmpv6::kAdminProhibited, 0, sender);
        break;
      case Error::kBeyondScope:
        built = net::BuildIcmpv6Error(*frame, *ip, net::icmpv6::kDestinationUnreachable,
                                      net::icmpv6::kBeyondScope, 0, sender);
        break;
    }
  }
  if (built && EmitReply(packet, *built, replies)) counters_.router().icmp_errors++;
}

void Router::Unreachable(Packet* packet, PacketBatch& replies) {
  SendError(*packet, Error::kHostUnknown, replies);
  DropPacket(DropReason::kRouteHostUnknown, packet, counters_, pool_);
}

void Router::Route(Packet* packet, const RouterOutputs& out) {
  const NetworkTables* network = tables_.Network(packet->meta.vni);
  if (network == nullptr) {
    return DropPacket(DropReason::kUnknownNetwork, packet, counters_, pool_);
  }
  if (!packet->meta.parsed && !Classify(*packet)) {
    return DropPacket(DropReason::kEthernetMalformed, packet, counters_, pool_);
  }
  const auto ip = ReadIpFields(*packet);
  if (!ip || DestinationMac(*packet).IsMulticast()) {
    return DropPacket(DropReason::kRouterNotIp, packet, counters_, pool_);
  }
  const bool traced = packet->meta.trace != 0;
  if (IsRouterAddress(*network, ip->destination)) {
    if (AnswerGateway(*packet, *network, out.replies)) {
      if (traced) [[unlikely]] {
        counters_.Trace(*packet, {.stage = "router",
                                  .verdict = "answer",
                                  .detail = "an echo request to " + ip->destination.ToString() +
                                            ", a gateway address: the router answers it"});
      }
      pool_.Free(packet);
      return;
    }
    return DropPacket(DropReason::kRouterToGateway, packet, counters_, pool_);
  }
  if (ip->v6 && ip->source.v6().IsLinkLocal()) {
    SendError(*packet, Error::kBeyondScope, out.replies);
    return DropPacket(DropReason::kRouteNone, packet, counters_, pool_);
  }
  const pipeline::Route* route = FindRoute(*network, ip->destination);
  if (route == nullptr) {
    SendError(*packet, Error::kNoRoute, out.replies);
    return DropPacket(DropReason::kRouteNone, packet, counters_, pool_);
  }
  if (ip->ttl <= 1) {
    SendError(*packet, Error::kTimeExceeded, out.replies);
    return DropPacket(DropReason::kTtlExpired, packet, counters_, pool_);
  }
  const PolicyGate::Decision decision =
      gate_.Check(network->policy, packet->meta.vni, route->vni, *ip);
  if (traced) [[unlikely]] {
    counters_.Trace(*packet, {.stage = "router",
                              .verdict = "pass",
                              .detail = "routed from VNI " + std::to_string(packet->meta.vni) +
                                        " to VNI " + std::to_string(route->vni) + " (route " +
                                        route->prefix.ToString() + ")"});
    counters_.Trace(*packet, PolicyGate::Note(decision, packet->meta.vni, route->vni));
  }
  if (!decision.pass) {
    if (decision.reject) SendError(*packet, Error::kProhibited, out.replies);
    return DropPacket(decision.drop, packet, counters_, pool_);
  }

  net::MacAddress destination_mac;
  PortId out_port = kNoPort;
  std::optional<net::Ipv4Address> vtep;
  if (const NetworkTables* destination = tables_.Network(route->vni)) {
    if (const auto it = destination->ports_by_ip.find(ip->destination);
        it != destination->ports_by_ip.end()) {
      if (const LocalPort* port = tables_.Port(it->second)) {
        destination_mac = port->mac;
        out_port = port->id;
      }
    }
  }
  if (out_port == kNoPort) {
    const auto remote = remotes_.FindIp(route->vni, ip->destination);
    if (!remote) {
      if (traced) [[unlikely]] {
        counters_.Trace(*packet,
                        {.stage = "l2_lookup",
                         .verdict = "miss",
                         .detail = ip->destination.ToString() + " in VNI " +
                                   std::to_string(route->vni) + " is not in the switch's cache"});
      }
      if (out.misses != nullptr) return out.misses->Push(packet);
      return Unreachable(packet, out.replies);
    }
    destination_mac = remote->mac;
    vtep = remote->tunnel_ip;
  }

  DecrementTtl(*packet, *ip);
  SetMacs(*packet, destination_mac, network->router_mac);
  packet->meta.vni = route->vni;
  counters_.router().routed++;
  if (vtep) {
    packet->meta.tunnel = *vtep;
    return out.to_tunnels.Push(packet);
  }
  packet->meta.out_port = out_port;
  counters_.Sent(out_port, packet->size());
  out.to_ports.Push(packet);
}

void Router::Process(PacketBatch& in, const RouterOutputs& out) {
  gate_.Sync();
  for (Packet* packet : in) Route(packet, out);
  in.clear();
}

}  // namespace dove::dswitch::pipeline
