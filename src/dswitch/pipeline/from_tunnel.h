// FromTunnel: the first stage for frames from the underlay. Validates the outer headers and
// the sending VTEP, then hands the inner frame to the local ports that should have it.
//
// A frame is accepted when, in this order (the first failure is its drop reason):
//   - the outer frame is Ethernet/IPv4 (header checksum verified) / UDP (checksum verified
//     unless 0) to port 4789, not a fragment      (outer_malformed, outer_not_vxlan);
//   - the outer destination is this switch's tunnel IP                 (outer_not_for_us);
//   - the VXLAN header is valid as ParseVxlan's strict policy says (I flag, reserved bits zero,
//     as the Linux kernel does, so every VTEP of a network drops the same frames)
//                                                                       (vxlan_malformed);
//   - the VNI is one this switch carries                               (vxlan_unknown_vni);
//   - the outer source is in that VNI's flood list (DESIGN.md: VXLAN only from the VTEPs the
//     controller listed)                                                (vtep_not_allowed);
//   - the inner frame parses                                           (inner_malformed);
//   - its source is unicast and not the MAC of a local port of the VNI: a remote VTEP may not
//     speak for the VMs of this switch                             (inner_source_invalid);
//   - unicast: a local port of the VNI has the destination MAC (inner_destination_unknown);
//     broadcast and multicast go to every local port of the VNI.
// Output frames hold a copy of the inner frame, with Frame::port (the egress port),
// Frame::vni and Frame::tunnel (the sending VTEP) set.
//
// Reads `tables`, writes `counters`; both outlive the stage. Never throws.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/tables.h"
#include "net/ipv4_address.h"

namespace dove::dswitch::pipeline {

class FromTunnel final {
 public:
  FromTunnel(const Tables& tables, const net::Ipv4Address& local_ip, Counters& counters)
      : tables_(tables), local_ip_(local_ip), counters_(counters) {}

  // Consumes `in` (left empty); appends the inner frames to `to_ports`.
  void Process(Batch& in, Batch& to_ports);

 private:
  // Delivers one frame, or returns why it may not be.
  std::optional<DropReason> Deliver(Frame& frame, Batch& to_ports);

  const Tables& tables_;
  net::Ipv4Address local_ip_;
  Counters& counters_;
};

}  // namespace dove::dswitch::pipeline
