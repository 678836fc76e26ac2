// Datapath: live traces (datapath.h, "Live traces"; dovectl trace --live).
#include <string>
#include <utility>

#include "dswitch/pipeline/classify.h"
#include "dswitch/userspace/datapath.h"
#include "net/vxlan.h"

namespace dove::dswitch::userspace {

namespace {

using packet::Packet;
using packet::PacketBatch;
using packet::PortId;

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

std::optional<TraceKind> KindOf(v1::TraceOrder::Kind kind) {
  switch (kind) {
    case v1::TraceOrder::KIND_ICMP:
      return TraceKind::kIcmp;
    case v1::TraceOrder::KIND_TCP:
      return TraceKind::kTcp;
    case v1::TraceOrder::KIND_UDP:
      return TraceKind::kUdp;
    case v1::TraceOrder::KIND_ARP:
      return TraceKind::kArp;
    default:
      return std::nullopt;
  }
}

}  // namespace

void Datapath::Trace(v1::TraceOrder order, TraceRecorder::Report report) {
  Post([this, order = std::move(order), report = std::move(report)] { StartTrace(order, report); });
}

void Datapath::StartTrace(const v1::TraceOrder& order, const TraceRecorder::Report& report) {
  const auto fail = [&](const std::string& why) {
    v1::TraceReport refused;
    refused.set_trace_id(order.trace_id());
    refused.set_source(order.inject());
    refused.set_error(why);
    report(std::move(refused));
  };
  const uint16_t slot = traces_.Open(order, report, std::chrono::steady_clock::now());
  if (slot == 0) {
    return fail("the switch runs " + std::to_string(TraceRecorder::kMaxSessions) +
                " traces already");
  }
  if (!order.inject()) {
    // Watching from now on: the controller tells the source to inject once every watcher said so.
    v1::TraceReport armed;
    armed.set_trace_id(order.trace_id());
    armed.set_armed(true);
    report(std::move(armed));
    return;
  }

  const auto kind = KindOf(order.kind());
  const auto port_it = ports_.find(order.endpoint_id());
  const pipeline::LocalPort* port =
      port_it == ports_.end() ? nullptr : tables_.Port(port_it->second.id);
  if (!kind) return traces_.Close(slot, "the order names no packet kind");
  if (port == nullptr || !port_it->second.device) {
    return traces_.Close(
        slot, "endpoint " + Quoted(order.endpoint_id()) + " has no open port on this switch");
  }
  const pipeline::NetworkTables* network = tables_.Network(port->vni);
  Injection injection;
  injection.port = port->id;
  injection.kind = *kind;
  injection.port_number = static_cast<uint16_t>(order.port());
  std::optional<net::MacAddress> to_mac;
  if (!order.mac().empty()) {
    const auto mac = net::MacAddress::Parse(order.mac());
    if (!mac) return traces_.Close(slot, "the order's MAC does not parse");
    to_mac = *mac;
  }
  std::optional<net::IpAddress> destination;
  if (!order.ip().empty()) {
    const auto ip = net::IpAddress::Parse(order.ip());
    if (!ip) return traces_.Close(slot, "the order's IP does not parse");
    destination = *ip;
  }
  // The source address: the port's first of the destination's family (IPv4 for a MAC).
  const bool v6 = destination && destination->is_v6();
  std::optional<net::IpAddress> source;
  for (const net::IpAddress& ip : port->ips) {
    if (ip.is_v6() == v6) {
      source = ip;
      break;
    }
  }
  traces_.Add(
      slot, {.stage = "source",
             .verdict = "pass",
             .detail = "endpoint " + Quoted(order.endpoint_id()) + " (" + port->mac.ToString() +
                       ") on port " + port_it->second.name + ", VNI " + std::to_string(port->vni)});
  if (!source) {
    return traces_.Close(slot, std::string("the endpoint has no ") + (v6 ? "IPv6" : "IPv4") +
                                   " address to send from");
  }
  injection.source = *source;
  if (to_mac) {
    // A datagram straight to a MAC: no resolution, to the limited broadcast address.
    injection.destination = v6 ? *net::IpAddress::Parse("ff02::1")
                               : net::IpAddress(net::Ipv4Address::FromUint32(0xFFFFFFFFU));
    injections_[slot] = injection;
    return InjectPacket(slot, *to_mac);
  }
  if (!destination) return traces_.Close(slot, "the order names no destination");
  injection.destination = *destination;
  if (port->HasIp(*destination) && *kind != TraceKind::kArp) {
    traces_.Add(slot, {.stage = "source",
                       .verdict = "answer",
                       .detail = "to the endpoint's own address: its own stack takes it"});
    return traces_.Close(slot);
  }
  // The next hop, as the VM's stack picks it: the destination on its own subnet, else the
  // subnet's gateway.
  injection.next_hop = *destination;
  if (*kind != TraceKind::kArp) {
    // The source's subnet: from the network's subnet settings, else from the domain's routes
    // of this network (a subnet without settings).
    std::optional<net::IpPrefix> own;
    std::optional<net::IpAddress> gateway;
    if (network != nullptr) {
      for (const auto& subnet : network->subnets) {
        if (subnet.prefix.Contains(*source)) {
          own = subnet.prefix;
          gateway = subnet.gateway;
          break;
        }
      }
      for (const auto& route : network->routes) {
        if (own) break;
        if (route.vni == port->vni && route.prefix.Contains(*source)) {
          own = route.prefix;
          gateway = route.gateway;
        }
      }
    }
    const bool on_link =
        own && own->Contains(*destination) && !(gateway && *gateway == *destination);
    if (!on_link) {
      if (!own || !gateway) {
        traces_.Add(slot, {.stage = "router",
                           .verdict = "drop",
                           .detail = destination->ToString() +
                                     " is outside the endpoint's subnet, which has no gateway: "
                                     "the VM has no route to it",
                           .drop = pipeline::DropReason::kRouteNone});
        return traces_.Close(slot);
      }
      injection.next_hop = *gateway;
    }
  }
  injection.resolving = true;
  injections_[slot] = injection;
  Inject(slot, injection, BuildSolicit(port->mac, *source, injection.next_hop));
}

void Datapath::Inject(uint16_t slot, const Injection& injection,
                      const std::vector<uint8_t>& frame) {
  Packet* packet = pool_.Alloc(frame.size());
  if (packet == nullptr || !packet->Assign(frame)) {
    if (packet != nullptr) pool_.Free(packet);
    return traces_.Close(slot, "the switch's packet pool is exhausted");
  }
  packet->meta.in_port = injection.port;
  packet->meta.trace = slot;
  rx_.clear();
  rx_.Push(packet);
  ProcessFromPort();
}

void Datapath::InjectPacket(uint16_t slot, const net::MacAddress& mac) {
  const auto it = injections_.find(slot);
  const v1::TraceOrder* order = traces_.OrderOf(slot);
  if (it == injections_.end() || order == nullptr) return;
  Injection& injection = it->second;
  injection.resolving = false;
  const pipeline::LocalPort* port = tables_.Port(injection.port);
  if (port == nullptr) return traces_.Close(slot, "the endpoint's port went away");
  const auto marker = std::as_bytes(std::span(order->marker()));
  const net::ByteSpan marker_bytes(reinterpret_cast<const uint8_t*>(marker.data()), marker.size());
  Inject(slot, injection,
         BuildTracePacket(injection.kind, port->mac, injection.source, mac, injection.destination,
                          injection.port_number, static_cast<uint16_t>(order->trace_id()),
                          marker_bytes));
}

void Datapath::InterceptTraced(PacketBatch& batch) {
  batch.Retain([this](Packet* packet) {
    const uint16_t slot = packet->meta.trace;
    if (slot == 0) return true;
    const v1::TraceOrder* order = traces_.OrderOf(slot);
    const auto injection = injections_.find(slot);
    const PortId out = packet->meta.out_port;
    const Port* port = out < ports_by_id_.size() ? ports_by_id_[out] : nullptr;
    if (injection != injections_.end() && out == injection->second.port) {
      // What the endpoint itself gets back: the answer to its solicitation, or a reply.
      if (injection->second.resolving) {
        if (const auto mac = AnsweredMac(packet->span(), injection->second.next_hop)) {
          injection->second.resolving = false;
          traces_.Add(slot, {.stage = "responder",
                             .verdict = "answer",
                             .detail = "the VM resolves " + injection->second.next_hop.ToString() +
                                       ": the switch answers " + mac->ToString()});
          if (injection->second.kind != TraceKind::kArp) {
            const net::MacAddress answered = *mac;
            Post([this, slot, answered] { InjectPacket(slot, answered); });
          }
          pool_.Free(packet);
          return false;
        }
      }
      traces_.Note(*packet, {.stage = "source",
                             .verdict = "answer",
                             .detail = "the endpoint gets a reply (" +
                                       std::to_string(packet->size()) + " bytes)"});
      pool_.Free(packet);
      return false;
    }
    const std::string endpoint =
        port != nullptr ? port->desired.location.endpoint_id() : std::string();
    const bool deliver = order != nullptr && order->deliver() && port != nullptr;
    traces_.Note(*packet,
                 {.stage = "delivery",
                  .verdict = "deliver",
                  .detail = "to port " + (port != nullptr ? port->name : std::to_string(out)) +
                            " of endpoint " + Quoted(endpoint) +
                            (deliver ? ": handed to it" : ": not handed to it (a trace)"),
                  .endpoint_id = endpoint});
    if (deliver) {
      packet->meta.trace = 0;
      return true;
    }
    pool_.Free(packet);
    return false;
  });
}

void Datapath::NoteEncapsulated(const PacketBatch& batch) {
  for (const Packet* packet : batch) {
    if (packet->meta.trace == 0) continue;
    traces_.Note(*packet, {.stage = "encapsulation",
                           .verdict = "pass",
                           .detail = "VXLAN VNI " + std::to_string(packet->meta.vni) +
                                     " to tunnel IP " + packet->meta.tunnel.ToString(),
                           .tunnel_ip = packet->meta.tunnel.ToString()});
  }
}

void Datapath::MarkTracedFromTunnel() {
  for (Packet* packet : rx_) {
    const uint16_t slot = traces_.Match(packet->span());
    if (slot == 0) continue;
    packet->meta.trace = slot;
    const auto vxlan = net::ParseVxlan(packet->span());
    traces_.Note(*packet,
                 {.stage = "receiving_switch",
                  .verdict = "pass",
                  .detail = "arrived from tunnel IP " + packet->meta.tunnel.ToString() +
                            (vxlan ? ", VXLAN VNI " + std::to_string(vxlan->vni) : std::string())});
  }
}

void Datapath::NotePassed(const char* stage, const char* detail) {
  for (const Packet* packet : rx_) {
    if (packet->meta.trace != 0) {
      traces_.Note(*packet, {.stage = stage, .verdict = "pass", .detail = detail});
    }
  }
}

}  // namespace dove::dswitch::userspace
