// FromTunnel: the first stage for packets from the underlay. Checks the VXLAN header and the
// sending VTEP, strips the header in place, and hands the inner frame to the local ports that
// should have it.
//
// Input packets come from the underlay device: their data starts at the VXLAN header (the
// kernel's UDP socket has checked and removed the outer IP/UDP headers) and meta.tunnel is the
// sending VTEP. A packet is accepted when, in this order (the first failure is its drop
// reason):
//   - the VXLAN header is valid as ParseVxlan's strict policy says (I flag, reserved bits zero,
//     as the Linux kernel does, so every VTEP of a network drops the same packets), with at
//     least an Ethernet header behind it                                (vxlan_malformed);
//   - the VNI is one this switch carries                               (vxlan_unknown_vni);
//   - the sender is in that VNI's flood list (DESIGN.md: VXLAN only from the VTEPs the
//     controller listed)                                                (vtep_not_allowed);
//     except a ROUTED frame (inner source MAC = the VNI's router MAC: another switch's
//     distributed router sent it), which may come from any VTEP of the domain
//     (NetworkTables::IsDomainPeer)                                (routed_vtep_not_allowed);
//   - the inner frame classifies (Classify, after Strip(8))            (inner_malformed);
//   - its source is unicast and not the MAC of a local port of the VNI: a remote VTEP may not
//     speak for the VMs of this switch                             (inner_source_invalid);
//   - a routed frame is checked again against the policy, as the sending switch did (the
//     receiving switch does not trust it to): its inner IPv4/IPv6 header parses and its
//     destination is unicast (router_not_ip), its source IP is in one of the network's routes,
//     which gives the source network (routed_source_unknown), and the PolicyGate with this
//     network's rules lets it in (policy_denied, policy_default_deny; a reject rule only drops
//     here: the sending switch answers for it). Allowed routed flows are remembered, so the
//     local VM's replies pass this switch's router;
//   - unicast: a local port of the VNI has the destination MAC (inner_destination_unknown);
//     broadcast and multicast go to every local port of the VNI: the packet to the last, a
//     packet::Clone to each other one (a clone the pool cannot give: pool_exhausted; no local
//     port at all: flood_no_destination).
// Accepted packets count in their network's from_tunnel. Output packets are the input packets
// (and clones), stripped in place to the inner frame and classified, with meta.out_port (the
// egress port), meta.vni and meta.tunnel (the sending VTEP) set.
//
// Without a `gate` (tests of the L2 path) routed frames are not policy-checked; the datapath
// always gives one.
//
// Redirects (redirect_table.h): with `redirects` and a `redirected` batch given to Process, a
// unicast frame to a (VNI, MAC) that has a redirect (an endpoint that just moved away) is not
// delivered but sent on to the endpoint's new VTEP, whether or not this switch still carries
// the VNI: it is checked as above except that the sender must be one of the redirect's peers
// (vtep_not_allowed) and may not be the new VTEP itself (inner_destination_unknown: no
// ping-pong), then stripped to the inner frame and classified, meta.tunnel set to the new VTEP,
// meta.vni set, and appended to `redirected` for MtuGuard and VxlanEncap (counted in its
// network's `redirected`).
//
// Reads `tables`, writes `counters`, takes clones from and frees dropped packets to `pool`; all
// outlive the stage. Never throws.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/policy_gate.h"
#include "dswitch/pipeline/redirect_table.h"
#include "dswitch/pipeline/tables.h"

namespace dove::dswitch::pipeline {

class FromTunnel final {
 public:
  FromTunnel(const Tables& tables, Counters& counters, PacketPool& pool, PolicyGate* gate = nullptr,
             const RedirectTable* redirects = nullptr)
      : tables_(tables), counters_(counters), pool_(pool), gate_(gate), redirects_(redirects) {}

  // Consumes `in` (left empty); appends the inner frames to `to_ports`, and the frames sent on
  // to a moved endpoint's new VTEP to `redirected` when given (see above).
  void Process(PacketBatch& in, PacketBatch& to_ports, PacketBatch* redirected = nullptr);

 private:
  // Decapsulates and checks `packet`: its network, or why it may not pass.
  const NetworkTables* Accept(Packet& packet, DropReason& refused) const;
  // The policy check of a routed frame; false, with the reason, when it may not pass.
  bool CheckRouted(const NetworkTables& network, const Packet& packet, DropReason& refused) const;
  void Deliver(const NetworkTables& network, Packet* packet, PacketBatch& to_ports);
  // The redirect `packet` is for, or null (then it takes the usual path).
  const Redirect* RedirectOf(const Packet& packet, uint32_t& vni) const;
  // Sends `packet` on as `redirect` says, or drops it with its reason.
  void SendOn(const Redirect& redirect, uint32_t vni, Packet* packet, PacketBatch& redirected);

  const Tables& tables_;
  Counters& counters_;
  PacketPool& pool_;
  PolicyGate* gate_;
  const RedirectTable* redirects_;
};

}  // namespace dove::dswitch::pipeline
