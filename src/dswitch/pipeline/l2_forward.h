// L2Forward: where each packet from a local port goes, within its network.
//
// Input: packets that passed FromPort and LocalResponder (classified; meta.in_port and
// meta.vni set; an unclassified packet is classified here).
//   - unicast to a local port of the VNI: to `to_ports` with meta.out_port = that port; to the
//     port it came from: dropped (hairpin);
//   - unicast to a remote endpoint (RemoteLookup::FindMac): to `to_tunnels` with
//     meta.tunnel = its VTEP, for VxlanEncap;
//   - unicast to the VNI's router MAC: the Router's (router.h), which the switch hands those
//     frames to before this stage; one that reaches L2Forward anyway is dropped
//     (router_not_ip);
//   - unicast to an unknown MAC: parked in `parking` for the switch to resolve and retry;
//     dropped (park_overflow) when the VNI's lot is full;
//   - broadcast and multicast: head-end replication, one copy per VTEP of the VNI's flood list
//     to `to_tunnels` and one per other local port of the VNI to `to_ports`. The packet itself
//     goes to the last destination and every other one gets a packet::Clone (counted by the
//     pool as pool.clones); a clone the pool cannot give is dropped as pool_exhausted (the
//     other destinations still get theirs), and a flood with no destination at all as
//     flood_no_destination. ARP and Neighbor Discovery never take this path
//     (arp_nd_not_flooded): LocalResponder answers them.
// A VNI without tables is unknown_network. `in` is left empty.
//
// Reads `tables` and `remotes`, writes `parking` and `counters`, takes clones from and frees
// dropped packets to `pool`; all outlive the stage. Never throws; allocates nothing in steady
// state (an output batch grows once past kMaxBurst for a wide flood and keeps the capacity).
#pragma once

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"

namespace dove::dswitch::pipeline {

class L2Forward final {
 public:
  L2Forward(const Tables& tables, const RemoteLookup& remotes, ParkingLot& parking,
            Counters& counters, PacketPool& pool)
      : tables_(tables), remotes_(remotes), parking_(parking), counters_(counters), pool_(pool) {}

  void Process(PacketBatch& in, PacketBatch& to_ports, PacketBatch& to_tunnels);

 private:
  void Forward(Packet* packet, PacketBatch& to_ports, PacketBatch& to_tunnels);
  void Flood(const NetworkTables& network, Packet* packet, PacketBatch& to_ports,
             PacketBatch& to_tunnels);

  const Tables& tables_;
  const RemoteLookup& remotes_;
  ParkingLot& parking_;
  Counters& counters_;
  PacketPool& pool_;
};

}  // namespace dove::dswitch::pipeline
