// Fuzzes the switch's packet pipeline (src/dswitch/pipeline) with arbitrary bytes, as a VM
// port would send them and as the underlay would deliver them: FromPort -> LocalResponder ->
// DhcpResponder -> RouterAdvertiser -> Router (frames to the router MAC) or L2Forward ->
// MtuGuard -> VxlanEncap, and FromTunnel (with the
// policy gate). Network 100 routes to network 200 (a local port 3 and a remote endpoint); the
// policies between them are picked by the input. What the Router forwards carries the router
// MAC as its source and the VNI of the network it is delivered in, and encapsulates with that
// VNI; what it answers comes from the router MAC to the sender's port. Nothing may crash; what
// VxlanEncap produces (the VXLAN header and the inner frame, the UDP payload the underlay carries)
// must come back whole through FromTunnel of a peer whose flood list names this switch; and every
// packet taken from the pool must be back in it at the end (it left through an output and the
// harness freed it, or a stage dropped it, counted, and freed it).
//
// Input: byte 0 picks the ingress (bit 0: port 1 or 2; bit 1: also replay the bytes as a
// datagram from the underlay; bit 2: mark the frame a TCP super-frame, as a TAP with TSO
// would; bit 3: write the router MAC over the frame's destination, so most inputs are routed;
// bits 4-5: the policies from 100 to 200: none (default deny), allow, deny, reject; bit 6: the
// same for 200 -> 100, allow); the rest is the frame.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "dswitch/packet/packet_pool.h"
#include "dswitch/pipeline/classify.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/dhcp_responder.h"
#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/l2_forward.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/mtu_guard.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/policy_gate.h"
#include "dswitch/pipeline/remote_table.h"
#include "dswitch/pipeline/return_flows.h"
#include "dswitch/pipeline/router.h"
#include "dswitch/pipeline/router_advertiser.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/vxlan.h"

namespace {

using dove::dswitch::packet::GsoType;
using dove::dswitch::pipeline::Counters;
using dove::dswitch::pipeline::DhcpResponder;
using dove::dswitch::pipeline::FromPort;
using dove::dswitch::pipeline::FromTunnel;
using dove::dswitch::pipeline::L2Forward;
using dove::dswitch::pipeline::LocalResponder;
using dove::dswitch::pipeline::MtuGuard;
using dove::dswitch::pipeline::NetworkSettings;
using dove::dswitch::pipeline::Packet;
using dove::dswitch::pipeline::PacketBatch;
using dove::dswitch::pipeline::PacketPool;
using dove::dswitch::pipeline::ParkingLot;
using dove::dswitch::pipeline::PolicyGate;
using dove::dswitch::pipeline::PolicyRule;
using dove::dswitch::pipeline::PortId;
using dove::dswitch::pipeline::RemoteTable;
using dove::dswitch::pipeline::ReturnFlows;
using dove::dswitch::pipeline::Router;
using dove::dswitch::pipeline::RouterAdvertiser;
using dove::dswitch::pipeline::Tables;
using dove::dswitch::pipeline::VxlanEncap;
using dove::net::IpAddress;
using dove::net::IpPrefix;
using dove::net::Ipv4Address;
using dove::net::MacAddress;

void Require(bool condition) {
  if (!condition) std::abort();
}

MacAddress Mac(const char* text) { return *MacAddress::Parse(text); }
Ipv4Address Ip4(const char* text) { return *Ipv4Address::Parse(text); }

// One switch: VTEP `local`, network 100 with ports 1 (mac1) and 2 (mac2), and the remote
// endpoint `remote_mac` on `peer`.
struct Switch {
  Switch(const char* local, const char* peer, const char* mac1, const char* mac2,
         const char* remote_mac)
      : local_ip(Ip4(local)), peer_ip(Ip4(peer)) {
    // Subnets with gateways, so DHCP, router advertisements and the MTU's ICMP errors answer.
    NetworkSettings settings;
    settings.vni = 100;
    settings.router_mac = Mac("02:d0:5e:00:00:01");
    settings.flood_tunnel_ips = {Ip4(peer)};
    settings.subnets = {{*dove::net::IpPrefix::Parse("10.0.0.0/24"),
                         IpAddress(Ip4("10.0.0.254")),
                         {IpAddress(Ip4("10.0.0.53"))},
                         0},
                        {*dove::net::IpPrefix::Parse("2001:db8::/64"),
                         *IpAddress::Parse("2001:db8::fe"),
                         {},
                         1400}};
    Require(tables.UpsertNetwork(settings).has_value());
    Require(
        tables
            .UpsertPort(
                {1, 100, Mac(mac1), {IpAddress(Ip4("10.0.0.1")), *IpAddress::Parse("2001:db8::1")}})
            .has_value());
    Require(tables.UpsertPort({2, 100, Mac(mac2), {IpAddress(Ip4("10.0.0.2"))}}).has_value());
    remotes.Upsert("remote", 100, Mac(remote_mac), Ip4(peer), {IpAddress(Ip4("10.0.0.9"))});
  }

  // Makes network 100 routed: its subnet 10.0.0.0/24 (gateway .254) and 2001:db8::/64, network
  // 200 (10.5.0.0/24, port 3 here, 10.5.0.9 behind the peer), `policies` between them.
  void Route(const std::vector<PolicyRule>& policies) {
    const auto prefix = [](const char* text) { return *IpPrefix::Parse(text); };
    const auto ip = [](const char* text) { return std::optional(*IpAddress::Parse(text)); };
    const std::vector<dove::dswitch::pipeline::Route> routes = {
        {prefix("10.0.0.0/24"), ip("10.0.0.254"), 100},
        {prefix("2001:db8::/64"), ip("2001:db8::fe"), 100},
        {prefix("10.5.0.0/24"), ip("10.5.0.254"), 200}};
    for (uint32_t vni : {100U, 200U}) {
      NetworkSettings settings{
          .vni = vni,
          .router_mac = kRouterMac,
          .flood_tunnel_ips = vni == 100 ? std::vector{peer_ip} : std::vector<Ipv4Address>{},
          .domain_tunnel_ips = {peer_ip},
          .subnets = {{vni == 100 ? prefix("10.0.0.0/24") : prefix("10.5.0.0/24"),
                       vni == 100 ? ip("10.0.0.254") : ip("10.5.0.254"),
                       {},
                       0}},
          .routes = routes,
          .policies = policies};
      Require(tables.UpsertNetwork(std::move(settings)).has_value());
    }
    Require(tables.UpsertPort({3, 200, Mac("52:54:00:00:00:03"), {IpAddress(Ip4("10.5.0.3"))}})
                .has_value());
    remotes.Upsert("remote200", 200, Mac("52:54:00:00:00:29"), peer_ip,
                   {IpAddress(Ip4("10.5.0.9"))});
  }

  static inline const MacAddress kRouterMac = Mac("02:d0:5e:00:00:01");
  Ipv4Address local_ip;
  Ipv4Address peer_ip;
  Tables tables;
  RemoteTable remotes;
  Counters counters;
  ParkingLot parking;
  ReturnFlows flows{64};
  PolicyGate gate{tables, flows, counters};
};

// The policies from 100 to 200 (and back) the input's byte 0 picks.
std::vector<PolicyRule> Policies(uint8_t selector) {
  std::vector<PolicyRule> rules;
  const auto rule = [](const char* id, uint32_t from, uint32_t to, PolicyRule::Action action) {
    return PolicyRule{.id = id,
                      .source_vni = from,
                      .destination_vni = to,
                      .action = action,
                      .protocol = 0,
                      .first_port = 0,
                      .last_port = 0,
                      .priority = 1};
  };
  switch ((selector >> 4) & 3) {
    case 1:
      rules.push_back(rule("allow", 100, 200, PolicyRule::Action::kAllow));
      break;
    case 2:
      rules.push_back(rule("deny", 100, 200, PolicyRule::Action::kDeny));
      break;
    case 3:
      rules.push_back(rule("reject", 100, 200, PolicyRule::Action::kReject));
      break;
    default:
      break;
  }
  if ((selector & 0x40) != 0) rules.push_back(rule("back", 200, 100, PolicyRule::Action::kAllow));
  return rules;
}

PacketPool& Pool() {
  static PacketPool pool({.small_slots = 64, .large_slots = 8});
  return pool;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  PacketPool& pool = Pool();
  Switch a("192.0.2.10", "192.0.2.20", "52:54:00:00:00:01", "52:54:00:00:00:02",
           "52:54:00:00:00:09");
  // The peer: vm9 (A's remote endpoint) on its port 1, another VM, and A's vm1 as its remote
  // endpoint.
  Switch b("192.0.2.20", "192.0.2.10", "52:54:00:00:00:09", "52:54:00:00:00:12",
           "52:54:00:00:00:01");
  a.Route(Policies(data[0]));
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (bytes.size() > PacketPool::kLargeRoom) return 0;
  if ((data[0] & 8) != 0 && bytes.size() >= 6) {
    std::copy(Switch::kRouterMac.bytes().begin(), Switch::kRouterMac.bytes().end(), bytes.begin());
  }

  Packet* packet = pool.Alloc(bytes.size());
  Require(packet != nullptr && packet->Assign(bytes));
  const auto in_port = static_cast<PortId>(1 + (data[0] & 1));
  packet->meta.in_port = in_port;
  if ((data[0] & 4) != 0) {
    packet->offload.gso = GsoType::kTcp4;
    packet->offload.gso_size = 1448;
  }
  PacketBatch batch;
  batch.Push(packet);
  FromPort(a.tables, a.counters, pool).Process(batch);
  PacketBatch replies;
  PacketBatch misses;
  LocalResponder(a.tables, a.remotes, a.counters, pool).Process(batch, replies, &misses);
  DhcpResponder(a.tables, a.counters, pool).Process(batch, replies);
  RouterAdvertiser(a.tables, a.counters, pool, 1450).Process(batch, replies);
  Require(batch.size() + replies.size() + misses.size() <= 1);
  PacketBatch to_ports;
  PacketBatch to_tunnels;
  // Frames to the router MAC go to the Router, as the datapath does.
  PacketBatch routed;
  batch.Retain([&](Packet* p) {
    if (dove::dswitch::pipeline::DestinationMac(*p) != Switch::kRouterMac) return true;
    routed.Push(p);
    return false;
  });
  PacketBatch routed_ports;
  PacketBatch routed_tunnels;
  PacketBatch router_replies;
  PacketBatch router_misses;
  Router router(a.tables, a.remotes, a.gate, a.counters, pool);
  router.Process(routed, {routed_ports, routed_tunnels, router_replies, &router_misses});
  Require(routed.empty());
  for (Packet* miss : router_misses) router.Unreachable(miss, router_replies);
  // Routed into network 200 (port 3), or back into 100 (ports 1 and 2: a VM may send to the
  // router what is on its own link).
  for (const Packet* out : routed_ports) {
    Require(out->meta.vni == (out->meta.out_port == 3 ? 200U : 100U));
    Require(dove::dswitch::pipeline::SourceMac(*out) == Switch::kRouterMac);
  }
  for (const Packet* reply : router_replies) {
    Require(reply->meta.out_port == in_port);
    Require(dove::dswitch::pipeline::SourceMac(*reply) == Switch::kRouterMac);
  }
  VxlanEncap(a.counters, pool).Process(routed_tunnels);
  for (const Packet* out : routed_tunnels) {
    const auto vxlan = dove::net::ParseVxlan(out->span());
    Require(vxlan.has_value() && (vxlan->vni == 200 || vxlan->vni == 100) &&
            out->meta.tunnel == a.peer_ip);
  }
  pool.Free(routed_ports);
  pool.Free(routed_tunnels);
  pool.Free(router_replies);
  L2Forward(a.tables, a.remotes, a.parking, a.counters, pool).Process(batch, to_ports, to_tunnels);
  Require(batch.empty());
  MtuGuard(a.tables, a.counters, pool, 1450).Process(to_tunnels, replies);
  for (const Packet* reply : replies) Require(reply->meta.out_port == in_port);
  VxlanEncap(a.counters, pool).Process(to_tunnels);
  // Every encapsulated copy is the VXLAN header and the frame, accepted by the peer, which
  // gives back the frame.
  PacketBatch delivered;
  for (Packet* out : to_tunnels) {
    Require(out->size() == bytes.size() + sizeof(dove::net::VxlanHeader));
    const auto vxlan = dove::net::ParseVxlan(out->span());
    Require(vxlan.has_value() && vxlan->vni == 100);
    out->meta = {};
    out->meta.tunnel = a.local_ip;
  }
  FromTunnel(b.tables, b.counters, pool).Process(to_tunnels, delivered);
  for (const Packet* frame : delivered) {
    Require(frame->size() == bytes.size() && std::equal(bytes.begin(), bytes.end(), frame->data()));
    Require(frame->meta.out_port == 1 || frame->meta.out_port == 2);
  }
  pool.Free(replies);
  pool.Free(misses);
  pool.Free(to_ports);
  pool.Free(delivered);
  PacketBatch parked;
  a.parking.TakeAll(parked);
  pool.Free(parked);

  if ((data[0] & 2) != 0) {
    Packet* datagram = pool.Alloc(bytes.size());
    Require(datagram != nullptr && datagram->Assign(bytes));
    datagram->meta.tunnel = b.local_ip;
    PacketBatch in;
    in.Push(datagram);
    PacketBatch from_underlay;
    FromTunnel(a.tables, a.counters, pool, &a.gate).Process(in, from_underlay);
    for (const Packet* frame : from_underlay) {
      Require(frame->meta.out_port >= 1 && frame->meta.out_port <= 3);
      Require(frame->size() + sizeof(dove::net::VxlanHeader) == bytes.size());
    }
    pool.Free(from_underlay);
  }
  Require(pool.in_use() == 0);
  return 0;
}
