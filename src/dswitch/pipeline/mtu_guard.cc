#include "dswitch/pipeline/mtu_guard.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "dswitch/pipeline/classify.h"
#include "net/ethernet.h"
#include "net/ip_address.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/replies.h"
#include "net/tcp.h"

namespace dove::dswitch::pipeline {

namespace {

// The size of the IP packet `packet` puts on the wire: for a super-frame, one segment's.
size_t WireIpSize(const Packet& packet) {
  const size_t l3 = packet.meta.l3_offset;
  if (l3 == 0 || l3 > packet.size()) return packet.size() - std::min<size_t>(packet.size(), 14);
  if (!packet.offload.is_gso() || packet.meta.l4_offset == 0) return packet.size() - l3;
  const auto tcp = net::LoadHeader<net::TcpHeader>(
      packet.span().subspan(std::min<size_t>(packet.meta.l4_offset, packet.size())));
  const size_t tcp_header = tcp ? tcp->header_size() : sizeof(net::TcpHeader);
  return packet.meta.l4_offset - l3 + tcp_header + packet.offload.gso_size;
}

// The gateway of the subnet `source` is in, in `network`.
std::optional<net::IpAddress> GatewayFor(const NetworkTables& network,
                                         const net::IpAddress& source) {
  for (const SubnetSettings& subnet : network.subnets) {
    if (subnet.gateway && subnet.gateway->family() == source.family() &&
        subnet.prefix.Contains(source)) {
      return subnet.gateway;
    }
  }
  return std::nullopt;
}

}  // namespace

std::map<std::string, uint64_t> MtuCounters::Dump() const {
  return {{"mtu.outer_fragmented", outer_fragmented},
          {"mtu.frag_needed", frag_needed},
          {"mtu.packet_too_big", packet_too_big},
          {"mtu.replies_built", replies_built}};
}

void MtuGuard::SetPathMtu(const net::Ipv4Address& vtep, uint32_t underlay_path_mtu) {
  if (underlay_path_mtu == 0) {
    path_mtus_.erase(vtep);
  } else {
    path_mtus_[vtep] = underlay_path_mtu;
  }
}

uint32_t MtuGuard::MtuTo(const net::Ipv4Address& vtep) const {
  if (path_mtus_.empty()) return overlay_mtu_;
  const auto it = path_mtus_.find(vtep);
  if (it == path_mtus_.end() || it->second <= kVxlanOverhead) return overlay_mtu_;
  return std::min(overlay_mtu_, it->second - kVxlanOverhead);
}

bool MtuGuard::Check(const Packet& packet, DropReason& drop) {
  const uint32_t mtu = MtuTo(packet.meta.tunnel);
  if (WireIpSize(packet) <= mtu) return true;
  drop = DropReason::kMtuNotAnswered;
  const LocalPort* port = tables_.Port(packet.meta.in_port);
  const NetworkTables* network = port == nullptr ? nullptr : tables_.Network(port->vni);
  if (network == nullptr) return false;
  const net::EthernetFrame frame = EthernetView(packet);
  const net::ByteSpan l3 = L3Bytes(packet);
  if (packet.meta.ether_type == net::ether_type::kIpv4 && !l3.empty()) {
    const auto header = net::LoadHeader<net::Ipv4Header>(l3);
    if (!header) return false;
    if (!header->dont_fragment()) {
      mtu_counters_.outer_fragmented++;
      return true;
    }
    const auto ip = net::ParseIpv4(l3, /*verify_checksum=*/false);
    if (!ip) return false;
    const auto gateway = GatewayFor(*network, net::IpAddress(ip->source()));
    const net::Icmpv4Sender sender = gateway
                                         ? net::Icmpv4Sender{network->router_mac, gateway->v4()}
                                         : net::Icmpv4Sender{frame.destination, ip->destination()};
    mtu_counters_.replies_built++;
    auto reply = net::BuildFragmentationNeeded(frame, *ip, static_cast<uint16_t>(mtu), sender);
    if (!reply) return false;
    reply_ = std::move(*reply);
    drop = DropReason::kMtuFragNeeded;
    mtu_counters_.frag_needed++;
  } else if (packet.meta.ether_type == net::ether_type::kIpv6 && !l3.empty()) {
    const auto ip = net::ParseIpv6(l3);
    if (!ip) return false;
    const auto gateway = GatewayFor(*network, net::IpAddress(ip->source()));
    const net::Icmpv6Sender sender = gateway
                                         ? net::Icmpv6Sender{network->router_mac, gateway->v6()}
                                         : net::Icmpv6Sender{frame.destination, ip->destination()};
    mtu_counters_.replies_built++;
    auto reply = net::BuildPacketTooBig(frame, *ip, mtu, sender);
    if (!reply) return false;
    reply_ = std::move(*reply);
    drop = DropReason::kMtuPacketTooBig;
    mtu_counters_.packet_too_big++;
  } else {
    return false;
  }
  // To the sender's own MAC (a routed packet's source MAC is already the router's).
  std::copy(port->mac.bytes().begin(), port->mac.bytes().end(), reply_.begin());
  return false;
}

void MtuGuard::Process(PacketBatch& to_tunnels, PacketBatch& replies) {
  to_tunnels.Retain([&](Packet* packet) {
    DropReason drop = DropReason::kMtuNotAnswered;
    if (Check(*packet, drop)) return true;
    if (drop != DropReason::kMtuNotAnswered) {
      Packet* reply = pool_.Alloc(reply_.size());
      if (reply != nullptr && reply->Assign(reply_)) {
        Classify(*reply);
        reply->meta.out_port = packet->meta.in_port;
        reply->meta.vni = tables_.Port(packet->meta.in_port)->vni;
        reply->meta.trace = packet->meta.trace;
        replies.Push(reply);
        counters_.Sent(reply->meta.out_port, reply->size());
      } else {
        if (reply != nullptr) pool_.Free(reply);
        drop = DropReason::kPoolExhausted;
      }
    }
    DropPacket(drop, packet, counters_, pool_);
    return false;
  });
}

}  // namespace dove::dswitch::pipeline
