#include "dswitch/pipeline/router_advertiser.h"

#include <algorithm>
#include <utility>

#include "dswitch/pipeline/classify.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"
#include "net/replies.h"

namespace dove::dswitch::pipeline {

std::map<std::string, uint64_t> RaCounters::Dump() const {
  return {{"ra.solicitations", solicitations},
          {"ra.advertisements", advertisements},
          {"ra.unsolicited", unsolicited},
          {"ra.replies_built", replies_built}};
}

std::optional<net::RouterAdvertisement> AdvertisementFor(const LocalPort& port,
                                                         const NetworkTables& network,
                                                         uint32_t overlay_mtu) {
  net::RouterAdvertisement advertisement;
  advertisement.hop_limit = 64;
  uint32_t mtu = 0;
  for (const SubnetSettings& subnet : network.subnets) {
    if (subnet.prefix.family() != net::IpFamily::kV6) continue;
    const net::Ipv6Address prefix = subnet.prefix.address().v6();
    const int length = subnet.prefix.length();
    bool autonomous = false;
    if (length == 64) {
      const net::Ipv6Address slaac = net::SlaacAddress(prefix, port.mac);
      autonomous = port.HasIp(net::IpAddress(slaac));
    }
    advertisement.prefixes.push_back({.prefix = prefix,
                                      .length = static_cast<uint8_t>(length),
                                      .on_link = true,
                                      .autonomous = autonomous,
                                      .valid_lifetime = RouterAdvertiser::kValidLifetime,
                                      .preferred_lifetime = RouterAdvertiser::kPreferredLifetime});
    if (subnet.gateway && subnet.gateway->is_v6()) {
      advertisement.router_lifetime = RouterAdvertiser::kRouterLifetime;
    }
    if (subnet.mtu != 0) mtu = mtu == 0 ? subnet.mtu : std::min(mtu, subnet.mtu);
  }
  if (advertisement.prefixes.empty()) return std::nullopt;
  advertisement.mtu = mtu != 0 ? mtu : overlay_mtu;
  return advertisement;
}

bool RouterAdvertiser::Takes(const Packet& packet) {
  if (packet.meta.ether_type != net::ether_type::kIpv6 ||
      packet.meta.ip_proto != net::ip_proto::kIcmpv6 || packet.meta.ip_fragment) {
    return false;
  }
  const net::ByteSpan message = L4Bytes(packet);
  return !message.empty() && (message[0] == net::icmpv6::kRouterSolicitation ||
                              message[0] == net::icmpv6::kRouterAdvertisement);
}

std::optional<DropReason> RouterAdvertiser::Handle(const Packet& packet) {
  const net::ByteSpan message = L4Bytes(packet);
  if (message[0] == net::icmpv6::kRouterAdvertisement) return DropReason::kRaFromPort;
  ra_counters_.solicitations++;
  const auto ip = net::ParseIpv6(L3Bytes(packet));
  if (!ip) return DropReason::kRsNotAnswered;
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  if (!icmp || !net::ParseRouterSolicitation(*icmp)) return DropReason::kRsNotAnswered;
  const LocalPort* port = tables_.Port(packet.meta.in_port);
  const NetworkTables* network = port == nullptr ? nullptr : tables_.Network(port->vni);
  if (network == nullptr) return DropReason::kRsNotAnswered;
  const auto advertisement = AdvertisementFor(*port, *network, overlay_mtu_);
  if (!advertisement) return DropReason::kRsNotAnswered;
  ra_counters_.replies_built++;
  auto frame =
      net::BuildRouterAdvertisement(EthernetView(packet), *ip, *advertisement, network->router_mac);
  if (!frame) return DropReason::kRsNotAnswered;
  reply_ = std::move(*frame);
  return std::nullopt;
}

bool RouterAdvertiser::Announce(PortId port_id, PacketBatch& replies) {
  const LocalPort* port = tables_.Port(port_id);
  const NetworkTables* network = port == nullptr ? nullptr : tables_.Network(port->vni);
  if (network == nullptr) return false;
  const auto advertisement = AdvertisementFor(*port, *network, overlay_mtu_);
  if (!advertisement) return false;
  ra_counters_.replies_built++;
  auto frame = net::BuildUnsolicitedRouterAdvertisement(*advertisement, network->router_mac);
  if (!frame) return false;
  Packet* reply = pool_.Alloc(frame->size());
  if (reply == nullptr || !reply->Assign(*frame)) {
    if (reply != nullptr) pool_.Free(reply);
    counters_.Drops(DropReason::kPoolExhausted, 1, port_id, port->vni);
    return false;
  }
  Classify(*reply);
  reply->meta.out_port = port_id;
  reply->meta.vni = port->vni;
  replies.Push(reply);
  counters_.Sent(port_id, reply->size());
  ra_counters_.advertisements++;
  ra_counters_.unsolicited++;
  return true;
}

void RouterAdvertiser::Process(PacketBatch& batch, PacketBatch& replies) {
  batch.Retain([&](Packet* packet) {
    if (!Takes(*packet)) return true;
    std::optional<DropReason> refused = Handle(*packet);
    if (!refused) {
      Packet* reply = pool_.Alloc(reply_.size());
      if (reply != nullptr && reply->Assign(reply_)) {
        Classify(*reply);
        reply->meta.out_port = packet->meta.in_port;
        reply->meta.vni = packet->meta.vni;
        replies.Push(reply);
        counters_.Sent(reply->meta.out_port, reply->size());
        ra_counters_.advertisements++;
        pool_.Free(packet);
        return false;
      }
      if (reply != nullptr) pool_.Free(reply);
      refused = DropReason::kPoolExhausted;
    }
    DropPacket(*refused, packet, counters_, pool_);
    return false;
  });
}

}  // namespace dove::dswitch::pipeline
