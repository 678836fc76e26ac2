// LocalResponder: answers ARP requests and IPv6 Neighbor Solicitations on behalf of the
// endpoints of the same network, so neither ever crosses the underlay (DESIGN.md: BUM).
//
// Input: frames that passed FromPort (Frame::port and Frame::vni set). For each one:
//   - an ARP request, or an NS, for an address a port of the VNI has, or a remote endpoint of
//     the VNI has (RemoteLookup::FindIp), is answered: the reply (replies.h: BuildArpReply,
//     BuildNeighborAdvertisement with Router clear) goes to `replies` for the ingress port;
//   - the same for an address nobody is known to have is a miss: moved to `misses` when the
//     caller gives one (the switch parks it, resolves the address through the controller and
//     runs it again), else dropped and counted (arp_target_unknown, nd_target_unknown);
//   - a request for the requester's own address (an RFC 5227 probe, duplicate address
//     detection) is not answered (arp_for_own_address, nd_for_own_address): answering would
//     tell the VM its address is taken;
//   - ARP replies and announcements, Neighbor Advertisements, and requests the reply builders
//     refuse, are absorbed (arp_not_answered, nd_not_answered);
//   - anything else stays in the batch, untouched.
//
// Reads `tables` and `remotes`, writes `counters`; all outlive the stage. Builds replies on
// the heap (replies are the slow path); never throws.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "net/ethernet.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

class LocalResponder final {
 public:
  LocalResponder(const Tables& tables, const RemoteLookup& remotes, Counters& counters)
      : tables_(tables), remotes_(remotes), counters_(counters) {}

  // Takes ARP and NS/NA frames out of `batch`; appends the replies to `replies`.
  void Process(Batch& batch, Batch& replies, Batch* misses = nullptr);

 private:
  // What happened to one frame: kept (not ARP/ND), answered, or dropped for a reason.
  struct Outcome {
    bool consumed = false;
    std::optional<DropReason> drop;
    bool miss = false;  // the drop is a target nobody is known to have
  };
  Outcome Handle(const Frame& frame, Batch& replies);
  Outcome HandleArp(const Frame& frame, const net::EthernetFrame& ethernet, Batch& replies);
  Outcome HandleIpv6(const Frame& frame, const net::EthernetFrame& ethernet, Batch& replies);

  // Who has `ip` in network `vni`: the MAC and the local port (kNoPort for a remote one).
  struct Owner {
    net::MacAddress mac;
    PortId port = kNoPort;
  };
  std::optional<Owner> FindOwner(uint32_t vni, const net::IpAddress& ip) const;

  const Tables& tables_;
  const RemoteLookup& remotes_;
  Counters& counters_;
};

}  // namespace dove::dswitch::pipeline
