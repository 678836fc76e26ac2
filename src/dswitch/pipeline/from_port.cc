#include "dswitch/pipeline/from_port.h"

#include "net/arp.h"
#include "net/dhcpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/udp.h"

namespace dove::dswitch::pipeline {

namespace {

std::optional<DropReason> CheckArp(const LocalPort& port, net::ByteSpan payload) {
  const auto arp = net::ParseArp(payload);
  if (!arp) return DropReason::kArpMalformed;
  if (arp->sender_mac != port.mac) return DropReason::kArpSenderSpoofed;
  if (!arp->sender_ip.IsUnspecified() && !port.HasIp(arp->sender_ip)) {
    return DropReason::kArpSenderSpoofed;
  }
  return std::nullopt;
}

bool IsDhcpRequest(const net::Ipv4Packet& ip) {
  if (ip.protocol() != net::ip_proto::kUdp || ip.IsFragment()) return false;
  const auto udp = net::ParseUdp(ip.payload);
  return udp && udp->destination_port() == net::dhcp::kServerPort;
}

std::optional<DropReason> CheckIpv4(const LocalPort& port, net::ByteSpan payload) {
  const auto ip = net::ParseIpv4(payload);
  if (!ip) return DropReason::kIpv4Malformed;
  if (port.HasIp(ip->source())) return std::nullopt;
  if (ip->source().IsUnspecified() && IsDhcpRequest(*ip)) return std::nullopt;
  return DropReason::kSourceIpSpoofed;
}

// An address the port may send from or advertise.
bool MayUse(const LocalPort& port, const net::Ipv6Address& address) {
  return port.HasIp(address) || address == net::Ipv6Address::LinkLocalFromMac(port.mac);
}

std::optional<DropReason> CheckNeighborDiscovery(const LocalPort& port, const net::Ipv6Packet& ip) {
  if (ip.upper_protocol != net::ip_proto::kIcmpv6 || ip.IsFragment()) return std::nullopt;
  if (ip.payload.empty()) return DropReason::kNdMalformed;
  const uint8_t type = ip.payload[0];
  if (type != net::icmpv6::kNeighborSolicitation && type != net::icmpv6::kNeighborAdvertisement) {
    return std::nullopt;
  }
  const auto icmp = net::ParseIcmpv6(ip.payload, ip.source(), ip.destination());
  if (!icmp) return DropReason::kNdMalformed;
  if (type == net::icmpv6::kNeighborSolicitation) {
    const auto ns = net::ParseNeighborSolicitation(*icmp);
    if (!ns) return DropReason::kNdMalformed;
    if (ns->source_mac && *ns->source_mac != port.mac) return DropReason::kNdSpoofed;
    return std::nullopt;
  }
  const auto na = net::ParseNeighborAdvertisement(*icmp);
  if (!na) return DropReason::kNdMalformed;
  if (!MayUse(port, na->target)) return DropReason::kNdSpoofed;
  if (na->target_mac && *na->target_mac != port.mac) return DropReason::kNdSpoofed;
  return std::nullopt;
}

std::optional<DropReason> CheckIpv6(const LocalPort& port, net::ByteSpan payload) {
  const auto ip = net::ParseIpv6(payload);
  if (!ip) return DropReason::kIpv6Malformed;
  const bool unspecified_icmp =
      ip->source().IsUnspecified() && ip->upper_protocol == net::ip_proto::kIcmpv6;
  if (!MayUse(port, ip->source()) && !unspecified_icmp) return DropReason::kSourceIpSpoofed;
  return CheckNeighborDiscovery(port, *ip);
}

}  // namespace

std::optional<DropReason> FromPort::Check(const LocalPort& port, const net::EthernetFrame& frame) {
  if (frame.vlan) return DropReason::kVlanTagged;
  if (frame.source != port.mac) return DropReason::kSourceMacSpoofed;
  switch (frame.ether_type) {
    case net::ether_type::kArp:
      return CheckArp(port, frame.payload);
    case net::ether_type::kIpv4:
      return CheckIpv4(port, frame.payload);
    case net::ether_type::kIpv6:
      return CheckIpv6(port, frame.payload);
    default:
      return DropReason::kEtherTypeNotAllowed;
  }
}

void FromPort::Process(Batch& batch) {
  batch.Retain([this](Frame& frame) {
    const LocalPort* port = tables_.Port(frame.port);
    if (port == nullptr) {
      counters_.Drop(DropReason::kUnknownPort, frame);
      return false;
    }
    frame.vni = port->vni;
    const auto ethernet = net::ParseEthernet(frame.span());
    const std::optional<DropReason> refused =
        ethernet ? Check(*port, *ethernet) : DropReason::kEthernetMalformed;
    if (refused) {
      counters_.Drop(*refused, frame);
      return false;
    }
    counters_.Received(frame.port);
    return true;
  });
}

}  // namespace dove::dswitch::pipeline
