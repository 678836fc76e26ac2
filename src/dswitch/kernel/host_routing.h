// HostRouting: makes one host's kernel route between a tenant's networks, under its policy,
// with port security, as the RoutePlan says (route_plan.h): the kernel backend's counterpart of
// the userspace backend's router, policy gate and FromPort. Why these mechanisms:
// docs/architecture.md, "Kernel backend: routing, policy, anti-spoofing".
//
// What Apply puts in place, and Remove takes away again (and nothing else):
//   - nftables: `table inet dove`, `table netdev dove` and `table bridge dove`
//     (nft_ruleset.h), loaded FIRST in one transaction, so no route exists before its policy
//     does;
//   - per domain the routing table `key`: each subnet of its networks via the network's
//     bridge, each gateway address as a local route on it; and the rules "fwmark key lookup
//     key" (IPv4 and IPv6) at priority kDomainRulePriority;
//   - the local table's rule moved from priority 0 to kLocalRulePriority (after the domains'
//     rules, as VRF setups do), so a tenant's packet is looked up in its domain's table before
//     the host's own addresses: overlapping tenants and the host never meet;
//   - on each bridge of the plan: its subnets' gateway addresses (the kernel's prefix routes
//     for them in the main table deleted again: only the domain's table routes tenants), with
//     an IPv6 subnet also the router's link-local address (fe80:: + EUI-64 of the domain's
//     router MAC, the same on every host: the kernel solicits neighbours only from a
//     link-local source, and a bridge made with addr_gen_mode=1 has none of its own), and
//     the sysctls arp_ignore=1, arp_announce=2 (a gateway address of one domain is never
//     answered into another), src_valid_mark=1 (reverse-path checks see the domain's mark),
//     accept_dad=0 (a gateway is anycast: every host carries it), neigh app_solicit=1;
//   - on each bridge its own br_netfilter switch (nf_call_iptables/ip6tables) on when an ALLOW
//     starts or ends in its network (RoutedNetwork::tracked_arrivals: frames bridged in from
//     the tunnel then get conntrack entries, so replies of flows routed on another host pass
//     the policy here), off elsewhere (frames only bridged skip the IP hooks; routed arrivals
//     there are decided statelessly, nft_ruleset.h). The namespace-wide
//     net.bridge.bridge-nf-call-iptables is the host's: left as it is; where it is 1 (the
//     default once br_netfilter is loaded) every bridge passes the hooks, ours included;
//   - host-wide: IPv4 and IPv6 forwarding and fwmark_reflect (the kernel's own answers to a
//     tenant, pings of a gateway and ICMP errors, carry the tenant's mark and so find its
//     table). Their earlier values are saved at the first Apply and put back by Remove.
//
// What the kernel backend (its L2 part) must do around it (KernelBackend calls Apply and
// Remove; docs/architecture.md says how):
//   - create every bridge of the plan (`dvb<VNI>`, with the domain's router MAC) and its vxlan
//     device (`dvx<VNI>`) BEFORE Apply, including plan.extra_vnis (networks routed into that
//     have no local port), and enslave each port to its bridge; Apply reports a missing bridge
//     and leaves that network out;
//   - call Apply again after every change of networks, ports or policies (it reconciles: what
//     the plan no longer holds is removed), and Remove on stop;
//   - answer neighbour requests of our bridges: with app_solicit the kernel sends
//     RTM_GETNEIGH (netlink::NeighEvent::kAppSolicit) for a routed destination it has no entry
//     for; resolve the IP through the controller (ResolveIp) and install a PERMANENT neighbour
//     entry on the bridge (and the FDB entry of the MAC on the vxlan device), or for a local
//     port install it directly.
//
// Errors: Apply carries on past a failed step and returns every failure, one sentence each
// (kernel's words included); what succeeded stays. Remove likewise.
// Threading: not thread-safe; the event loop of the backend calls it. Borrows `rtnl`, `rules`
// and `nft`, which outlive it; works in their network namespace. Sysctls are files under
// `sysctl_root` (/proc/sys; a test may point elsewhere).
//
//   HostRouting routing(*rtnl, *rules, *nft);
//   if (auto problems = routing.Apply(PlanRoutes(networks, ports)); !problems.empty()) Log(...);
//   routing.Remove();
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dswitch/kernel/nft_session.h"
#include "dswitch/kernel/route_plan.h"
#include "dswitch/kernel/route_rules.h"
#include "netlink/rtnetlink.h"

namespace dove::dswitch::kernel {

inline constexpr uint32_t kDomainRulePriority = 1000;
inline constexpr uint32_t kLocalRulePriority = 32765;
inline constexpr uint32_t kLocalTable = 255;

class HostRouting {
 public:
  HostRouting(netlink::Rtnl& rtnl, RouteRules& rules, NftSession& nft,
              std::string sysctl_root = "/proc/sys");

  // Makes the host what `plan` says (see above). Returns the problems; empty: all applied.
  // A plan with no domain and no port is Remove(): a switch with nothing to route changes
  // nothing on the host (no forwarding, no moved local rule).
  std::vector<std::string> Apply(const RoutePlan& plan);
  // Takes away everything Apply put in place, including what an earlier process left (our
  // rules, tables and nftables tables are recognised by priority, number range and name).
  std::vector<std::string> Remove();
  // The named counters of our nftables tables, totals since this HostRouting's session opened
  // (NftSession::Counters). Errors: nft's message.
  Expected<std::vector<NftCounter>, std::string> Counters() { return nft_.Counters(); }

 private:
  void SaveAndSet(const std::string& key, const std::string& value,
                  std::vector<std::string>& problems);
  void ApplyBridge(const RoutedNetwork& network, const net::MacAddress& router_mac,
                   std::vector<std::string>& problems);
  void ApplyTable(const DomainPlan& domain, std::vector<std::string>& problems);
  void ApplyRules(const RoutePlan& plan, std::vector<std::string>& problems);
  // Empties table `table` of both families.
  void FlushTable(uint32_t table, std::vector<std::string>& problems);

  netlink::Rtnl& rtnl_;
  RouteRules& rules_;
  NftSession& nft_;
  std::string sysctl_root_;
  std::map<std::string, std::string> saved_sysctls_;  // key -> value before our first write
  std::map<bool, bool> moved_local_rule_;             // by ipv6: we moved it from priority 0
  std::map<std::string, std::vector<netlink::AddressEntry>> gateways_;  // by bridge: ours
};

}  // namespace dove::dswitch::kernel
