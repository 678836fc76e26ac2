// Fuzzes the switch's packet pipeline (src/dswitch/pipeline) with arbitrary bytes, as a VM
// port would send them and as the underlay would deliver them: FromPort -> LocalResponder ->
// DhcpResponder -> RouterAdvertiser -> L2Forward -> MtuGuard -> VxlanEncap, and FromTunnel.
// Every reply goes back to the port the frame came from. Nothing may crash; what VxlanEncap
// produces (the VXLAN header and the inner frame, the UDP payload the underlay carries) must come
// back whole through FromTunnel of a peer whose flood list names this switch; and every packet
// taken from the pool must be back in it at the end (it left through an output and the harness
// freed it, or a stage dropped it, counted, and freed it).
//
// Input: byte 0 picks the ingress (bit 0: port 1 or 2; bit 1: also replay the bytes as a
// datagram from the underlay; bit 2: mark the frame a TCP super-frame, as a TAP with TSO
// would); the rest is the frame.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dswitch/packet/packet_pool.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/dhcp_responder.h"
#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/l2_forward.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/mtu_guard.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/remote_table.h"
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
using dove::dswitch::pipeline::PortId;
using dove::dswitch::pipeline::RemoteTable;
using dove::dswitch::pipeline::RouterAdvertiser;
using dove::dswitch::pipeline::Tables;
using dove::dswitch::pipeline::VxlanEncap;
using dove::net::IpAddress;
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
      : local_ip(Ip4(local)) {
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

  Ipv4Address local_ip;
  Tables tables;
  RemoteTable remotes;
  Counters counters;
  ParkingLot parking;
};

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
  const std::vector<uint8_t> bytes(data + 1, data + size);
  if (bytes.size() > PacketPool::kLargeRoom) return 0;

  Packet* packet = pool.Alloc(bytes.size());
  Require(packet != nullptr && packet->Assign(bytes));
  const auto packet_port = static_cast<PortId>(1 + (data[0] & 1));
  packet->meta.in_port = packet_port;
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
  L2Forward(a.tables, a.remotes, a.parking, a.counters, pool).Process(batch, to_ports, to_tunnels);
  Require(batch.empty());
  MtuGuard(a.tables, a.counters, pool, 1450).Process(to_tunnels, replies);
  for (const Packet* reply : replies) Require(reply->meta.out_port == packet_port);
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
    FromTunnel(a.tables, a.counters, pool).Process(in, from_underlay);
    for (const Packet* frame : from_underlay) {
      Require(frame->meta.out_port == 1 || frame->meta.out_port == 2);
      Require(frame->size() + sizeof(dove::net::VxlanHeader) == bytes.size());
    }
    pool.Free(from_underlay);
  }
  Require(pool.in_use() == 0);
  return 0;
}
