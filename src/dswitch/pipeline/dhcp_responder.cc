#include "dswitch/pipeline/dhcp_responder.h"

#include <algorithm>
#include <utility>

#include "dswitch/pipeline/classify.h"
#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/replies.h"
#include "net/udp.h"

namespace dove::dswitch::pipeline {

namespace {

uint32_t Mask(int length) { return length <= 0 ? 0 : ~uint32_t{0} << (32 - std::min(length, 32)); }

// The server identifier of a subnet without gateway (see the header); nullopt for a /32.
std::optional<net::Ipv4Address> GatewaylessServerId(const net::IpPrefix& prefix,
                                                    const net::Ipv4Address& client) {
  const int length = prefix.length();
  const uint32_t network = prefix.address().v4().ToUint32();
  const uint32_t own = client.ToUint32();
  if (length >= 32) return std::nullopt;
  if (length == 31) return net::Ipv4Address::FromUint32(own ^ 1U);
  const uint32_t last_host = (network | ~Mask(length)) - 1;
  return net::Ipv4Address::FromUint32(last_host == own ? last_host - 1 : last_host);
}

}  // namespace

std::map<std::string, uint64_t> DhcpCounters::Dump() const {
  return {{"dhcp.discover", discover},
          {"dhcp.request", request},
          {"dhcp.inform", inform},
          {"dhcp.release", release},
          {"dhcp.decline", decline},
          {"dhcp.offer", offer},
          {"dhcp.ack", ack},
          {"dhcp.nak", nak},
          {"dhcp.replies_built", replies_built}};
}

std::optional<DhcpLease> LeaseFor(const LocalPort& port, const NetworkTables& network) {
  for (const net::IpAddress& ip : port.ips) {
    if (!ip.is_v4()) continue;
    for (const SubnetSettings& subnet : network.subnets) {
      if (subnet.prefix.family() != net::IpFamily::kV4 || !subnet.prefix.Contains(ip)) continue;
      DhcpLease lease{.address = ip.v4(), .subnet = &subnet, .server_id = {}};
      if (subnet.gateway && subnet.gateway->is_v4() && subnet.gateway->v4() != ip.v4()) {
        lease.server_id = subnet.gateway->v4();
      } else if (auto id = GatewaylessServerId(subnet.prefix, ip.v4())) {
        lease.server_id = *id;
      } else {
        return std::nullopt;
      }
      return lease;
    }
  }
  return std::nullopt;
}

bool IsToDhcpServer(const Packet& packet) {
  if (packet.meta.ether_type != net::ether_type::kIpv4 ||
      packet.meta.ip_proto != net::ip_proto::kUdp || packet.meta.ip_fragment) {
    return false;
  }
  const auto udp = net::LoadHeader<net::UdpHeader>(L4Bytes(packet));
  return udp && udp->destination_port.value() == net::dhcp::kServerPort;
}

std::optional<DropReason> DhcpResponder::Handle(const Packet& packet) {
  const net::ByteSpan l4 = L4Bytes(packet);
  if (l4.size() < sizeof(net::UdpHeader)) return DropReason::kDhcpMalformed;
  const auto request = net::ParseDhcp(l4.subspan(sizeof(net::UdpHeader)));
  if (!request || request->op() != net::dhcp::kBootRequest) return DropReason::kDhcpMalformed;

  using Type = net::DhcpMessageType;
  net::DhcpReplyParams params;
  switch (request->type) {
    case Type::kDiscover:
      dhcp_counters_.discover++;
      params.type = Type::kOffer;
      break;
    case Type::kRequest:
      dhcp_counters_.request++;
      params.type = Type::kAck;
      break;
    case Type::kInform:
      dhcp_counters_.inform++;
      params.type = Type::kAck;
      break;
    case Type::kRelease:
      dhcp_counters_.release++;
      return DropReason::kDhcpNotAnswered;
    case Type::kDecline:
      dhcp_counters_.decline++;
      if (options_.log_decline) {
        options_.log_decline(packet.meta.in_port,
                             net::RequestedIp(*request).value_or(net::Ipv4Address()));
      }
      return DropReason::kDhcpNotAnswered;
    default:  // a server's message from a VM
      return DropReason::kDhcpMalformed;
  }

  const LocalPort* port = tables_.Port(packet.meta.in_port);
  const NetworkTables* network = port == nullptr ? nullptr : tables_.Network(port->vni);
  if (network == nullptr) return DropReason::kDhcpNoAddress;
  const auto lease = LeaseFor(*port, *network);
  if (!lease) return DropReason::kDhcpNoAddress;

  if (request->type == Type::kRequest) {
    if (const auto server = net::ServerId(*request); server && *server != lease->server_id) {
      return DropReason::kDhcpNotAnswered;  // the client chose another server
    }
    // SELECTING and INIT-REBOOT name it in option 50; RENEWING and REBINDING in ciaddr.
    const net::Ipv4Address asked = net::RequestedIp(*request).value_or(request->ciaddr());
    if (asked.IsUnspecified() || asked != lease->address) params.type = Type::kNak;
  }

  const SubnetSettings& subnet = *lease->subnet;
  params.your_ip = lease->address;
  params.server_id = lease->server_id;
  params.lease_seconds = options_.lease_seconds;
  const int length = subnet.prefix.length();
  params.subnet_mask = net::Ipv4Address::FromUint32(Mask(length));
  if (length <= 30) {
    params.broadcast_address =
        net::Ipv4Address::FromUint32(subnet.prefix.address().v4().ToUint32() | ~Mask(length));
  }
  if (subnet.gateway && subnet.gateway->is_v4()) params.routers.push_back(subnet.gateway->v4());
  for (const net::IpAddress& dns : subnet.dns_servers) {
    if (dns.is_v4() && params.dns_servers.size() < 63) params.dns_servers.push_back(dns.v4());
  }
  const uint32_t mtu = subnet.mtu != 0 ? subnet.mtu : options_.overlay_mtu;
  params.mtu = static_cast<uint16_t>(std::clamp<uint32_t>(mtu, 68, 65535));

  dhcp_counters_.replies_built++;
  auto frame =
      net::BuildDhcpReplyFrame(EthernetView(packet), *request, params, network->router_mac);
  if (!frame) return DropReason::kDhcpNotAnswered;
  reply_ = std::move(*frame);
  switch (params.type) {
    case Type::kOffer:
      dhcp_counters_.offer++;
      break;
    case Type::kNak:
      dhcp_counters_.nak++;
      break;
    default:
      dhcp_counters_.ack++;
      break;
  }
  return std::nullopt;
}

void DhcpResponder::Process(PacketBatch& batch, PacketBatch& replies) {
  batch.Retain([&](Packet* packet) {
    if (!IsToDhcpServer(*packet)) return true;
    if (const auto refused = Handle(*packet)) {
      DropPacket(*refused, packet, counters_, pool_);
      return false;
    }
    Packet* reply = pool_.Alloc(reply_.size());
    if (reply == nullptr || !reply->Assign(reply_)) {
      if (reply != nullptr) pool_.Free(reply);
      DropPacket(DropReason::kPoolExhausted, packet, counters_, pool_);
      return false;
    }
    Classify(*reply);
    reply->meta.out_port = packet->meta.in_port;
    reply->meta.vni = packet->meta.vni;
    reply->meta.trace = packet->meta.trace;
    replies.Push(reply);
    counters_.Sent(reply->meta.out_port, reply->size());
    pool_.Free(packet);
    return false;
  });
}

}  // namespace dove::dswitch::pipeline
