// LocalResponder: answers ARP requests and IPv6 Neighbor Solicitations on behalf of the
// endpoints of the same network, so neither ever crosses the underlay (DESIGN.md: BUM).
//
// Input: packets that passed FromPort (classified; meta.in_port and meta.vni set). For each:
//   - an ARP request, or an NS, for a gateway address of one of the VNI's subnets, or the
//     router's IPv6 link-local address (fe80:: + EUI-64 of the router MAC), is answered with
//     the VNI's router MAC (an NA with the Router flag): the distributed router (router.h);
//   - an ARP request, or an NS, for an address a port of the VNI has, or a remote endpoint of
//     the VNI has (RemoteLookup::FindIp), is answered: the reply (net/replies.h:
//     BuildArpReplyInto, BuildNeighborAdvertisementInto with Router clear) goes to `replies` in
//     a new packet from the pool, with meta.out_port = the asker's in_port and meta.vni set;
//     the request is freed. No packet for the reply: pool_exhausted (the request is dropped);
//   - the same for an address nobody is known to have is a miss: moved to `misses` when the
//     caller gives one (the switch parks it, resolves the address through the controller and
//     runs it again), else dropped and counted (arp_target_unknown, nd_target_unknown);
//   - a request for the requester's own address (an RFC 5227 probe, duplicate address
//     detection) is not answered (arp_for_own_address, nd_for_own_address): answering would
//     tell the VM its address is taken;
//   - ARP replies and announcements, Neighbor Advertisements, and requests the reply builders
//     refuse, are absorbed (arp_not_answered, nd_not_answered);
//   - anything else stays in the batch, untouched.
// The ARP body and the ICMPv6 message are parsed here, from Classify's offsets; the Ethernet
// and IP headers are not parsed again.
//
// Reads `tables` and `remotes`, writes `counters`, takes reply packets from and frees dropped
// ones to `pool`; all outlive the stage. Replies are built in one reused buffer and copied
// into their packet: no heap allocation in steady state. Never throws.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "net/frame_builder.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

class LocalResponder final {
 public:
  LocalResponder(const Tables& tables, const RemoteLookup& remotes, Counters& counters,
                 PacketPool& pool)
      : tables_(tables), remotes_(remotes), counters_(counters), pool_(pool) {}

  // Takes ARP and NS/NA packets out of `batch`; appends the replies to `replies` and, when
  // `misses` is given, the unanswerable requests to `misses`.
  void Process(PacketBatch& batch, PacketBatch& replies, PacketBatch* misses = nullptr);

 private:
  // What happened to one packet: kept (not ARP/ND), answered (the reply is in reply_), or
  // dropped for a reason.
  struct Outcome {
    bool consumed = false;
    std::optional<DropReason> drop;
    bool miss = false;  // the drop is a target nobody is known to have
  };
  Outcome Handle(const Packet& packet);
  Outcome HandleArp(const Packet& packet);
  Outcome HandleIpv6(const Packet& packet);
  // Copies reply_ into a new packet for the asker; false when the pool has none.
  bool EmitReply(const Packet& request, PacketBatch& replies);

  // Who has `ip` in network `vni`: the MAC and the local port (kNoPort for a remote one).
  struct Owner {
    net::MacAddress mac;
    PortId port = kNoPort;
    bool router = false;  // the distributed router (a gateway address)
  };
  std::optional<Owner> FindOwner(uint32_t vni, const net::IpAddress& ip) const;

  const Tables& tables_;
  const RemoteLookup& remotes_;
  Counters& counters_;
  PacketPool& pool_;
  net::FrameBuilder reply_;
};

}  // namespace dove::dswitch::pipeline
