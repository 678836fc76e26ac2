// Fuzzes the switch's packet pipeline (src/dswitch/pipeline) with arbitrary bytes, as a VM
// port would send them and as the underlay would deliver them: FromPort -> LocalResponder ->
// L2Forward -> VxlanEncap, and FromTunnel. Nothing may crash; every frame that goes out of a
// stage is accounted for (it left, or it was dropped and counted); what VxlanEncap produces
// must come back whole through FromTunnel of a peer whose flood list names this switch.
//
// Input: byte 0 picks the ingress (bit 0: port 1 or 2; bit 1: also replay as a tunnel frame);
// the rest is the frame.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/l2_forward.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/underlay.h"
#include "dswitch/pipeline/vxlan_encap.h"

namespace {

using namespace dove::dswitch::pipeline;
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
      : underlay{Ip4(local), Mac("02:00:00:00:00:0a"), Mac("02:00:00:00:00:0b"), 64} {
    Require(tables.AddNetwork(100, Mac("02:d0:5e:00:00:01"), {Ip4(peer)}).has_value());
    Require(
        tables
            .AddPort(
                {1, 100, Mac(mac1), {IpAddress(Ip4("10.0.0.1")), *IpAddress::Parse("2001:db8::1")}})
            .has_value());
    Require(tables.AddPort({2, 100, Mac(mac2), {IpAddress(Ip4("10.0.0.2"))}}).has_value());
    remotes.Add(100, Mac(remote_mac), Ip4(peer), {IpAddress(Ip4("10.0.0.9"))});
  }

  Underlay underlay;
  Tables tables;
  MapRemoteLookup remotes;
  Counters counters;
  ParkingLot parking;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Switch a("192.0.2.10", "192.0.2.20", "52:54:00:00:00:01", "52:54:00:00:00:02",
           "52:54:00:00:00:09");
  // The peer: its own VMs, and A's vm1 as its remote endpoint.
  Switch b("192.0.2.20", "192.0.2.10", "52:54:00:00:00:11", "52:54:00:00:00:12",
           "52:54:00:00:00:01");
  const std::vector<uint8_t> bytes(data + 1, data + size);

  Batch batch;
  batch.Push(Frame{bytes, static_cast<PortId>(1 + (data[0] & 1)), kNoVni, {}});
  FromPort(a.tables, a.counters).Process(batch);
  Batch replies;
  LocalResponder(a.tables, a.remotes, a.counters).Process(batch, replies);
  Require(batch.size() + replies.size() <= 1);
  Batch to_ports;
  Batch to_tunnels;
  L2Forward(a.tables, a.remotes, a.parking, a.counters).Process(batch, to_ports, to_tunnels);
  VxlanEncap(a.underlay, a.counters).Process(to_tunnels);
  // Every encapsulated copy is accepted by the peer and gives back the inner frame.
  for (const Frame& out : to_tunnels) {
    Batch in;
    in.Push(Frame{out.bytes, kNoPort, kNoVni, {}});
    Batch delivered;
    FromTunnel(b.tables, b.underlay.local_ip, b.counters).Process(in, delivered);
    for (const Frame& frame : delivered) Require(frame.bytes == bytes);
  }
  if ((data[0] & 2) != 0) {
    Batch in;
    in.Push(Frame{bytes, kNoPort, kNoVni, {}});
    Batch delivered;
    FromTunnel(a.tables, a.underlay.local_ip, a.counters).Process(in, delivered);
    for (const Frame& frame : delivered) Require(frame.port == 1 || frame.port == 2);
  }
  return 0;
}
