// RouterAdvertiser: answers the Router Solicitations a port sends with a Router Advertisement
// from the distributed router, and keeps VMs from advertising themselves as routers. Runs on
// packets from ports after LocalResponder (which answers NS), before forwarding: neither a
// solicitation nor an advertisement from a VM ever leaves its port.
//
// The advertisement (net::BuildRouterAdvertisement) comes from the router's link-local address
// (fe80:: + the modified EUI-64 of the network's router MAC; router14's LocalResponder answers
// NS for it) with a source link-layer address option = the router MAC, and carries:
//   - the MTU option: the smallest MTU the network's IPv6 subnets set, else the overlay MTU;
//   - one Prefix Information option per IPv6 subnet of the network: on-link, valid for 30 days
//     and preferred for 7 (RFC 4861's defaults); autonomous ONLY when the subnet is a /64 and
//     the port's own address in it is the SLAAC address of its MAC (net::SlaacAddress). Port
//     security lets a VM send only from the addresses the controller gave it (and its
//     link-local one): a VM told to form a SLAAC address the controller did not give would
//     configure an address whose every packet is dropped as source_ip_spoofed;
//   - router lifetime 1800 s when one of those subnets has a gateway (the VM then routes
//     through the router), 0 otherwise (prefixes only, not a default router);
//   - Cur Hop Limit 64; M and O clear (no DHCPv6), reachable time and retrans timer unspecified.
// It goes to the soliciting port only (meta.out_port = meta.in_port): to the solicitor's address
// and MAC, or to ff02::1 when it solicits from ::. Announce() sends the same unsolicited.
//
// Drops: rs_not_answered (an RS that does not parse, whose hop limit is not 255, or from a port
// whose network has no IPv6 subnet); ra_from_port (every Router Advertisement a VM sends);
// pool_exhausted. Advertisements are built on the slow path (allocating), counted in
// replies_built. Reads `tables`, writes `counters`, takes reply packets from and frees consumed
// ones to `pool`; all outlive the stage. Never throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/tables.h"
#include "net/neighbor_discovery.h"

namespace dove::dswitch::pipeline {

struct RaCounters {
  uint64_t solicitations = 0;   // Router Solicitations taken from ports
  uint64_t advertisements = 0;  // Router Advertisements sent
  uint64_t unsolicited = 0;     // sent unprompted, when a port came up (included above)
  uint64_t replies_built = 0;   // slow-path (allocating) builds

  // "ra.<name>" for each counter, zero ones too.
  std::map<std::string, uint64_t> Dump() const;
};

// What the router advertises to `port` in `network` (see above); nullopt when the network has
// no IPv6 subnet.
std::optional<net::RouterAdvertisement> AdvertisementFor(const LocalPort& port,
                                                         const NetworkTables& network,
                                                         uint32_t overlay_mtu);

class RouterAdvertiser final {
 public:
  static constexpr uint16_t kRouterLifetime = 1800;
  static constexpr uint32_t kValidLifetime = 2592000;     // 30 days
  static constexpr uint32_t kPreferredLifetime = 604800;  // 7 days

  RouterAdvertiser(const Tables& tables, Counters& counters, PacketPool& pool, uint32_t overlay_mtu)
      : tables_(tables), counters_(counters), pool_(pool), overlay_mtu_(overlay_mtu) {}

  // Takes RS and RA packets out of `batch` (classified, from ports); appends the
  // advertisements to `replies`.
  void Process(PacketBatch& batch, PacketBatch& replies);
  // An unsolicited advertisement to port `port` (RFC 4861 6.2.4: the switch sends one when a
  // port comes up, so a VM that solicited before its port was open learns its prefixes without
  // waiting to solicit again), to all nodes; appended to `replies`. False, nothing appended,
  // when the port's network has no IPv6 subnet (or no packet is free: pool_exhausted counted).
  bool Announce(PortId port, PacketBatch& replies);

  void set_overlay_mtu(uint32_t mtu) { overlay_mtu_ = mtu; }
  const RaCounters& counters() const { return ra_counters_; }

 private:
  // Whether `packet` is one this stage takes: an RS or an RA, not a fragment.
  static bool Takes(const Packet& packet);
  // nullopt: answered (the reply is in reply_); else why not.
  std::optional<DropReason> Handle(const Packet& packet);

  const Tables& tables_;
  Counters& counters_;
  PacketPool& pool_;
  uint32_t overlay_mtu_;
  RaCounters ra_counters_;
  std::vector<uint8_t> reply_;
};

}  // namespace dove::dswitch::pipeline
