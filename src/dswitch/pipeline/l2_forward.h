// L2Forward: where each frame from a local port goes, within its network.
//
// Input: frames that passed FromPort and LocalResponder (Frame::port, Frame::vni set).
//   - unicast to a local port of the VNI: to `to_ports` with Frame::port = that port; to the
//     port it came from: dropped (hairpin);
//   - unicast to a remote endpoint (RemoteLookup::FindMac): to `to_tunnels` with
//     Frame::tunnel = its VTEP, for VxlanEncap;
//   - unicast to the VNI's router MAC: dropped (router_not_implemented) until the distributed
//     router stage exists;
//   - unicast to an unknown MAC: parked in `parking` for the switch to resolve and retry;
//     dropped (park_overflow) when the VNI's lot is full;
//   - broadcast and multicast: head-end replication, one copy per VTEP of the VNI's flood list
//     to `to_tunnels` and one per other local port of the VNI to `to_ports`; ARP and Neighbor
//     Discovery never take this path (arp_nd_not_flooded): LocalResponder answers them.
// A VNI without tables is unknown_network. `in` is left empty.
//
// Reads `tables` and `remotes`, writes `parking` and `counters`; all outlive the stage.
// Never throws.
#pragma once

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "net/ethernet.h"

namespace dove::dswitch::pipeline {

class L2Forward final {
 public:
  L2Forward(const Tables& tables, const RemoteLookup& remotes, ParkingLot& parking,
            Counters& counters)
      : tables_(tables), remotes_(remotes), parking_(parking), counters_(counters) {}

  void Process(Batch& in, Batch& to_ports, Batch& to_tunnels);

 private:
  void Forward(Frame& frame, Batch& to_ports, Batch& to_tunnels);
  void Flood(const NetworkTables& network, const Frame& frame, Batch& to_ports, Batch& to_tunnels);

  const Tables& tables_;
  const RemoteLookup& remotes_;
  ParkingLot& parking_;
  Counters& counters_;
};

}  // namespace dove::dswitch::pipeline
