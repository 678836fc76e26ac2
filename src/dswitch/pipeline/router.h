// Router: the distributed router's sending side. Every switch routes what its own VMs send to
// the domain's router MAC (DESIGN.md: no central router), so a packet between two networks of
// a tenant crosses the underlay at most once, encapsulated with the DESTINATION network's VNI.
//
// Input: unicast frames to the VNI's router MAC from local ports, after FromPort and
// LocalResponder (classified; meta.in_port and meta.vni set: the sender's network). For each:
//   1. not a well-formed IPv4/IPv6 packet: router_not_ip;
//   2. to a gateway address of the domain (a Route's gateway), or to the router's IPv6
//      link-local address (fe80:: + EUI-64 of the router MAC): an ICMP/ICMPv6 echo request is
//      answered (net::BuildIcmpv4EchoReply / BuildIcmpv6EchoReply, router.echo_replies) to
//      `replies`; anything else is router_to_gateway;
//   3. the destination in none of the network's routes (the domain's subnets): ICMP
//      destination unreachable (net unreachable; IPv6 no route) from the gateway of the
//      sender's subnet, route_none; an IPv6 packet from a link-local source is never routed
//      (RFC 4291 section 2.5.6): ICMPv6 destination unreachable, beyond scope, route_none;
//   4. TTL / hop limit <= 1: ICMP time exceeded from that gateway, ttl_expired;
//   5. policy (PolicyGate with the sender network's rules; source VNI = meta.vni, destination
//      VNI = the route's): denied is policy_denied / policy_default_deny, a reject rule also
//      answers ICMP administratively prohibited (IPv4 3/13, IPv6 1/1);
//   6. the destination endpoint: a local port of the destination network (Tables ports_by_ip)
//      or a remote one (RemoteLookup::FindIp(destination VNI, ip)). Unknown: moved to
//      `misses` when the caller gives one (the switch parks it under the SENDER's VNI, asks
//      Resolver::ResolveIp(sender VNI, ip) and runs it again), else answered and dropped as
//      by Unreachable;
//   7. forwarded: TTL decremented with the IPv4 header checksum updated incrementally
//      (RFC 1624) / hop limit decremented, source MAC := router MAC, destination MAC := the
//      endpoint's, meta.vni := the destination VNI; to `to_ports` (meta.out_port) or
//      `to_tunnels` (meta.tunnel, for VxlanEncap with the destination VNI). router.routed.
//      A TCP super-frame stays one packet; only the TTL/hop limit and the MACs change, none of
//      which a partial L4 checksum covers, so the offload state stays right as it is.
// ICMP errors and echo replies go back to the sender's port (meta.out_port = in_port,
// meta.vni = the sender's), from the router MAC; a packet about which ICMP forbids an error
// (itself an ICMP error, a non-first fragment, from a non-host address...) is only dropped.
// Errors and echo replies are the slow path: they are built with allocation (router.icmp_errors
// counts the errors); a reply the pool cannot hold is pool_exhausted. They are rate limited, as
// a host's ICMP is (Linux: icmp_ratelimit), so a flood of expired TTLs or pings to a gateway
// cannot turn into an allocation per packet: a token bucket of kIcmpBurst answers refilled at
// kIcmpPerSecond, on the PolicyGate's clock; an answer over the limit is not sent
// (router.icmp_rate_limited) and the packet is dropped for its reason all the same. The
// forwarding path allocates nothing.
//
// Reads `tables` and `remotes`, writes `counters`, uses `gate`, takes reply packets from and
// frees dropped ones to `pool`; all outlive the stage. Never throws. `in` is left empty.
#pragma once

#include <optional>
#include <vector>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/policy_gate.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "net/ip_address.h"

namespace dove::dswitch::pipeline {

struct RouterOutputs {
  PacketBatch& to_ports;
  PacketBatch& to_tunnels;
  PacketBatch& replies;
  PacketBatch* misses = nullptr;
};

class Router final {
 public:
  static constexpr double kIcmpPerSecond = 1000;
  static constexpr double kIcmpBurst = 100;

  Router(const Tables& tables, const RemoteLookup& remotes, PolicyGate& gate, Counters& counters,
         PacketPool& pool)
      : tables_(tables), remotes_(remotes), gate_(gate), counters_(counters), pool_(pool) {}

  void Process(PacketBatch& in, const RouterOutputs& out);
  // A packet Process handed back as a miss whose destination is still unknown: ICMP destination
  // unreachable (host unreachable; IPv6 address unreachable) to its sender when ICMP allows
  // one, and the packet dropped as route_host_unknown.
  void Unreachable(Packet* packet, PacketBatch& replies);
  // The destination IP of a routed packet (what the switch resolves for a miss).
  static std::optional<net::IpAddress> DestinationIp(const Packet& packet);

 private:
  enum class Error : uint8_t { kNoRoute, kHostUnknown, kTimeExceeded, kProhibited, kBeyondScope };
  void Route(Packet* packet, const RouterOutputs& out);
  // Answers a packet to a gateway address; false when it is not answered.
  bool AnswerGateway(const Packet& packet, const NetworkTables& network, PacketBatch& replies);
  // Sends the ICMP error about `packet` back to its sender (when ICMP allows one).
  void SendError(const Packet& packet, Error error, PacketBatch& replies);
  bool EmitReply(const Packet& request, const std::vector<uint8_t>& bytes, PacketBatch& replies);
  // Takes one answer's token; false (counted) when there is none.
  bool TakeIcmpToken();

  const Tables& tables_;
  const RemoteLookup& remotes_;
  PolicyGate& gate_;
  Counters& counters_;
  PacketPool& pool_;
  double icmp_tokens_ = kIcmpBurst;
  std::optional<ReturnFlows::Clock::time_point> icmp_refilled_;
};

// Whether `ip` is an address of the router in `network`'s domain: a gateway of one of its
// routes, or the router's IPv6 link-local address.
bool IsRouterAddress(const NetworkTables& network, const net::IpAddress& ip);

// The address the router answers `sender` from in `network`: the gateway of the network's
// subnet that holds `sender`, else the first gateway of `sender`'s family in the network's
// subnets; for IPv6 the router's link-local address when there is none, or when `sender` is a
// link-local address. nullopt: none.
std::optional<net::IpAddress> GatewayFor(const NetworkTables& network,
                                         const net::IpAddress& sender);

}  // namespace dove::dswitch::pipeline
