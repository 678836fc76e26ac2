// RoutePlan: what the kernel backend's distributed router, policy and port security need on
// one host, derived from the networks the switch carries and its ports. Pure: no devices.
//
// The kernel mechanisms it is built for (docs/architecture.md, "Kernel backend: routing,
// policy, anti-spoofing"):
//   - every network of a domain that is routable on this host gets a bridge `dvb<VNI>` (the
//     kernel backend's L2 part creates it, with the domain's router MAC); the networks of a
//     domain named only by its routes (no local port) are `extra_vnis`: the L2 part creates
//     their bridge and vxlan device too, so the host can route into them (asymmetric routing);
//   - per domain one routing table and one firewall mark, both `kDomainKeyBase + the domain's
//     smallest VNI` (VNIs are unique, so keys never collide; `ip rule` reads "fwmark 100000042
//     lookup 100000042" for the domain of VNI 42), and one conntrack zone (16 bits, unique on
//     the host, so two domains' flows with the same addresses never meet);
//   - the domain's subnets, with their gateway addresses, on its bridges;
//   - the domain's policies (deduplicated), and each port's MAC and IPs.
//
// A domain is recognised by its router MAC (one per domain, DESIGN.md); the domain's networks
// are the union of the carried networks with that router MAC and of the VNIs in their routes.
//
//   RoutePlan plan = PlanRoutes(networks, ports);
//   for (uint32_t vni : plan.extra_vnis) l2.EnsureRouteOnlyNetwork(vni);
//   routing.Apply(plan);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/kernel/device_names.h"  // BridgeName
#include "dswitch/kernel/underlay_guard.h"
#include "dswitch/pipeline/network_settings.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "net/mac_address.h"

namespace dove::dswitch::kernel {

// Routing tables and firewall marks of domains are kDomainKeyBase + a VNI: 100000000 to
// 116777215, clear of the kernel's reserved tables (253-255) and readable in decimal.
inline constexpr uint32_t kDomainKeyBase = 100000000;

// One subnet of a routed network: its prefix and, when it has one, the gateway address the
// bridge carries and answers.
struct RouteSubnet {
  net::IpPrefix prefix;
  std::optional<net::IpAddress> gateway;

  friend bool operator==(const RouteSubnet&, const RouteSubnet&) = default;
};

// A network of a domain that this host routes into or out of.
struct RoutedNetwork {
  uint32_t vni = 0;
  std::string bridge;                // BridgeName(vni)
  bool local = false;                // the switch carries it (it has a port or a config here)
  std::vector<RouteSubnet> subnets;  // in the order of their text
  // An ALLOW policy of the domain starts or ends in this network: flows routed on one host
  // arrive bridged into it on another and their replies must find them in conntrack, so its
  // bridge passes frames to the IP hooks (br_netfilter; host_routing.h, nft_ruleset.h).
  bool tracked_arrivals = false;

  friend bool operator==(const RoutedNetwork&, const RoutedNetwork&) = default;
};

struct DomainPlan {
  uint32_t key = 0;   // kDomainKeyBase + the smallest VNI of the domain: its table and mark
  uint16_t zone = 0;  // its conntrack zone, 1..65535, unique among the plan's domains
  net::MacAddress router_mac;
  std::vector<RoutedNetwork> networks;  // by VNI
  // The domain's policies, each once, in the compiled order of pipeline::PolicyTable: by
  // (source, destination), then priority highest first, deny/reject before allow on a tie.
  std::vector<pipeline::PolicyRule> policies;

  friend bool operator==(const DomainPlan&, const DomainPlan&) = default;
};

// A VM port: an interface enslaved to its network's bridge.
struct PortPlan {
  std::string interface;  // the port's interface name on this host
  uint32_t vni = 0;
  net::MacAddress mac;
  std::vector<net::IpAddress> ips;

  friend bool operator==(const PortPlan&, const PortPlan&) = default;
};

struct RoutePlan {
  std::vector<DomainPlan> domains;  // by key
  std::vector<PortPlan> ports;      // by interface
  // VNIs of networks routed on this host that the switch carries no config for: the L2 part
  // must give each its bridge (with the domain's router MAC) and vxlan device.
  std::vector<uint32_t> extra_vnis;
  // Which VXLAN datagrams the host takes (underlay_guard.h): every carried network's, from its
  // flood list and, routed, its domain's VTEPs. PlanRoutes leaves tunnel_ip and port for the
  // caller.
  UnderlayPlan underlay;
  // Some domain has an ALLOW between two of its networks (some network's tracked_arrivals):
  // only then does the host keep connection state (the replies of allowed flows pass by their
  // conntrack mark). Without one, every routed decision is stateless and the ruleset has no
  // conntrack expression at all, so conntrack's hooks are not registered in the host's
  // namespace and no packet pays for them (nft_ruleset.h).
  bool connection_state = false;

  friend bool operator==(const RoutePlan&, const RoutePlan&) = default;
};

// The plan for `networks` (every network the switch carries) and `ports`. Deterministic: the
// same inputs in any order give the same plan.
RoutePlan PlanRoutes(const std::vector<pipeline::NetworkSettings>& networks,
                     const std::vector<PortPlan>& ports);

}  // namespace dove::dswitch::kernel
