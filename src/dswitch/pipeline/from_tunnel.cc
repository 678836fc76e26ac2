#include "dswitch/pipeline/from_tunnel.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "dswitch/pipeline/classify.h"
#include "net/vxlan.h"

namespace dove::dswitch::pipeline {

const NetworkTables* FromTunnel::Accept(Packet& packet, DropReason& refused) const {
  const auto vxlan = net::ParseVxlan(packet.span());
  if (!vxlan) {
    refused = DropReason::kVxlanMalformed;
    return nullptr;
  }
  const NetworkTables* network = tables_.Network(vxlan->vni);
  if (network == nullptr) {
    refused = DropReason::kVxlanUnknownVni;
    return nullptr;
  }
  packet.meta.vni = vxlan->vni;
  // A routed frame: its inner source is the router MAC (bytes 6..11 of the inner header).
  constexpr size_t kInnerSource = sizeof(net::VxlanHeader) + 6;
  const net::ByteSpan bytes = packet.span();
  const bool routed = bytes.size() >= kInnerSource + 6 &&
                      std::equal(network->router_mac.bytes().begin(),
                                 network->router_mac.bytes().end(), bytes.begin() + kInnerSource);
  if (!network->IsFloodPeer(packet.meta.tunnel)) {
    if (!routed) {
      refused = DropReason::kVtepNotAllowed;
      return nullptr;
    }
    if (!network->IsDomainPeer(packet.meta.tunnel)) {
      refused = DropReason::kRoutedVtepNotAllowed;
      return nullptr;
    }
  }
  packet.Strip(sizeof(net::VxlanHeader));
  if (!Classify(packet)) {
    refused = DropReason::kInnerMalformed;
    return nullptr;
  }
  const net::MacAddress source = SourceMac(packet);
  if (source.IsMulticast() || network->ports_by_mac.contains(source)) {
    refused = DropReason::kInnerSourceInvalid;
    return nullptr;
  }
  if (routed && !CheckRouted(*network, packet, refused)) return nullptr;
  return network;
}

bool FromTunnel::CheckRouted(const NetworkTables& network, const Packet& packet,
                             DropReason& refused) const {
  const auto ip = ReadIpFields(packet);
  if (!ip || DestinationMac(packet).IsMulticast()) {
    refused = DropReason::kRouterNotIp;
    return false;
  }
  const Route* source = nullptr;
  for (const Route& route : network.routes) {
    if (route.prefix.Contains(ip->source)) {
      source = &route;
      break;
    }
  }
  if (source == nullptr) {
    refused = DropReason::kRoutedSourceUnknown;
    return false;
  }
  if (gate_ == nullptr) return true;
  const PolicyGate::Decision decision = gate_->Check(network.policy, source->vni, network.vni, *ip);
  if (packet.meta.trace != 0) [[unlikely]] {
    counters_.Trace(packet, PolicyGate::Note(decision, source->vni, network.vni));
  }
  if (!decision.pass) refused = decision.drop;
  return decision.pass;
}

void FromTunnel::Deliver(const NetworkTables& network, Packet* packet, PacketBatch& to_ports) {
  const auto send = [&](Packet* out, PortId port) {
    out->meta.out_port = port;
    to_ports.Push(out);
    counters_.Sent(port, out->size());
  };
  const net::MacAddress destination = DestinationMac(*packet);
  if (!destination.IsMulticast()) {
    const auto it = network.ports_by_mac.find(destination);
    if (it == network.ports_by_mac.end()) {
      return DropPacket(DropReason::kInnerDestinationUnknown, packet, counters_, pool_);
    }
    counters_.FromTunnel(packet->meta.vni, packet->size());
    return send(packet, it->second);
  }
  counters_.FromTunnel(packet->meta.vni, packet->size());
  if (network.ports.empty()) {
    return DropPacket(DropReason::kFloodNoDestination, packet, counters_, pool_);
  }
  // The packet itself goes to the last port; every earlier one gets a clone.
  for (size_t i = 0; i + 1 < network.ports.size(); ++i) {
    Packet* clone = packet::Clone(*packet, pool_);
    if (clone == nullptr) {
      counters_.Drop(DropReason::kPoolExhausted, *packet);
      continue;
    }
    send(clone, network.ports[i]);
  }
  send(packet, network.ports.back());
}

const Redirect* FromTunnel::RedirectOf(const Packet& packet, uint32_t& vni) const {
  const auto vxlan = net::ParseVxlan(packet.span());
  if (!vxlan || vxlan->inner_frame.size() < 6) return nullptr;
  std::array<uint8_t, 6> bytes{};
  std::copy_n(vxlan->inner_frame.begin(), bytes.size(), bytes.begin());
  const net::MacAddress destination(bytes);
  if (destination.IsMulticast()) return nullptr;
  vni = vxlan->vni;
  return redirects_->Find(vni, destination);
}

void FromTunnel::SendOn(const Redirect& redirect, uint32_t vni, Packet* packet,
                        PacketBatch& redirected) {
  packet->meta.vni = vni;
  const auto& peers = redirect.peers;
  if (std::find(peers.begin(), peers.end(), packet->meta.tunnel) == peers.end()) {
    return DropPacket(DropReason::kVtepNotAllowed, packet, counters_, pool_);
  }
  if (packet->meta.tunnel == redirect.tunnel_ip) {
    return DropPacket(DropReason::kInnerDestinationUnknown, packet, counters_, pool_);
  }
  packet->Strip(sizeof(net::VxlanHeader));
  if (!Classify(*packet)) return DropPacket(DropReason::kInnerMalformed, packet, counters_, pool_);
  if (SourceMac(*packet).IsMulticast()) {
    return DropPacket(DropReason::kInnerSourceInvalid, packet, counters_, pool_);
  }
  packet->meta.out_port = kNoPort;
  packet->meta.tunnel = redirect.tunnel_ip;
  counters_.Redirected(vni);
  redirected.Push(packet);
}

void FromTunnel::Process(PacketBatch& in, PacketBatch& to_ports, PacketBatch* redirected) {
  if (gate_ != nullptr) gate_->Sync();
  const bool redirecting = redirected != nullptr && redirects_ != nullptr && !redirects_->empty();
  for (Packet* packet : in) {
    if (redirecting) {
      uint32_t vni = kNoVni;
      if (const Redirect* redirect = RedirectOf(*packet, vni)) {
        SendOn(*redirect, vni, packet, *redirected);
        continue;
      }
    }
    DropReason refused = DropReason::kCount;
    const NetworkTables* network = Accept(*packet, refused);
    if (network == nullptr) {
      DropPacket(refused, packet, counters_, pool_);
      continue;
    }
    Deliver(*network, packet, to_ports);
  }
  in.clear();
}

}  // namespace dove::dswitch::pipeline
