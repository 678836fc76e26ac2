#include "dswitch/pipeline/from_port.h"

#include "dswitch/pipeline/classify.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/udp.h"

namespace dove::dswitch::pipeline {

namespace {

std::optional<DropReason> CheckArp(const LocalPort& port, const Packet& packet) {
  const auto arp = net::ParseArp(L3Bytes(packet));
  if (!arp) return DropReason::kArpMalformed;
  if (arp->sender_mac != port.mac) return DropReason::kArpSenderSpoofed;
  if (!arp->sender_ip.IsUnspecified() && !port.HasIp(arp->sender_ip)) {
    return DropReason::kArpSenderSpoofed;
  }
  return std::nullopt;
}

bool IsDhcpRequest(const Packet& packet) {
  if (packet.meta.ip_proto != net::ip_proto::kUdp || packet.meta.ip_fragment) return false;
  const auto udp = net::ParseUdp(L4Bytes(packet));
  return udp && udp->destination_port() == net::dhcp::kServerPort;
}

std::optional<DropReason> CheckIpv4(const LocalPort& port, const Packet& packet) {
  const net::ByteSpan l3 = L3Bytes(packet);
  if (l3.empty()) return DropReason::kIpv4Malformed;
  // Classify checked that the header is whole.
  const auto header = net::LoadHeader<net::Ipv4Header>(l3);
  if (net::InternetChecksum(l3.first(header->header_size())) != 0) {
    return DropReason::kIpv4Malformed;
  }
  if (port.HasIp(header->source)) return std::nullopt;
  if (header->source.IsUnspecified() && IsDhcpRequest(packet)) return std::nullopt;
  return DropReason::kSourceIpSpoofed;
}

// An address the port may send from or advertise.
bool MayUse(const LocalPort& port, const net::Ipv6Address& address) {
  return port.HasIp(address) || address == net::Ipv6Address::LinkLocalFromMac(port.mac);
}

std::optional<DropReason> CheckNeighborDiscovery(const LocalPort& port, const Packet& packet,
                                                 const net::Ipv6Header& ip) {
  if (packet.meta.ip_proto != net::ip_proto::kIcmpv6 || packet.meta.ip_fragment) {
    return std::nullopt;
  }
  const net::ByteSpan message = L4Bytes(packet);
  if (message.empty()) return DropReason::kNdMalformed;
  const uint8_t type = message[0];
  if (type != net::icmpv6::kNeighborSolicitation && type != net::icmpv6::kNeighborAdvertisement) {
    return std::nullopt;
  }
  const auto icmp = net::ParseIcmpv6(message, ip.source, ip.destination);
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

std::optional<DropReason> CheckIpv6(const LocalPort& port, const Packet& packet) {
  const auto ip = net::LoadHeader<net::Ipv6Header>(L3Bytes(packet));
  if (!ip) return DropReason::kIpv6Malformed;
  const bool unspecified_icmp =
      ip->source.IsUnspecified() && packet.meta.ip_proto == net::ip_proto::kIcmpv6;
  if (!MayUse(port, ip->source) && !unspecified_icmp) return DropReason::kSourceIpSpoofed;
  return CheckNeighborDiscovery(port, packet, *ip);
}

}  // namespace

std::optional<DropReason> FromPort::Check(const LocalPort& port, const Packet& packet) {
  if (packet.meta.vlan_tagged) return DropReason::kVlanTagged;
  if (SourceMac(packet) != port.mac) return DropReason::kSourceMacSpoofed;
  switch (packet.meta.ether_type) {
    case net::ether_type::kArp:
      return CheckArp(port, packet);
    case net::ether_type::kIpv4:
      return CheckIpv4(port, packet);
    case net::ether_type::kIpv6:
      return CheckIpv6(port, packet);
    default:
      return DropReason::kEtherTypeNotAllowed;
  }
}

void FromPort::Process(PacketBatch& batch) {
  batch.Retain([this](Packet* packet) {
    const LocalPort* port = tables_.Port(packet->meta.in_port);
    if (port == nullptr) {
      DropPacket(DropReason::kUnknownPort, packet, counters_, pool_);
      return false;
    }
    packet->meta.vni = port->vni;
    const std::optional<DropReason> refused =
        Classify(*packet) ? Check(*port, *packet) : DropReason::kEthernetMalformed;
    if (refused) {
      DropPacket(*refused, packet, counters_, pool_);
      return false;
    }
    counters_.Received(packet->meta.in_port, packet->size());
    return true;
  });
}

}  // namespace dove::dswitch::pipeline
