#include "dswitch/kernel/route_plan.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "dswitch/pipeline/policy_table.h"

namespace dove::dswitch::kernel {
namespace {

// What one domain collects from the networks carried on this host.
struct DomainParts {
  std::set<uint32_t> local_vnis;
  // By VNI, then by the subnet's text ("10.0.0.0/24"): a stable order without comparing
  // addresses (their <=> is only for equality here).
  std::map<uint32_t, std::map<std::string, RouteSubnet>> subnets;
  std::vector<pipeline::PolicyRule> policies;
};

// Zones by the domains' keys, in key order: 1 + key mod 65535, the next free one on a clash.
void AssignZones(std::vector<DomainPlan>& domains) {
  std::set<uint16_t> taken;
  for (auto& domain : domains) {
    auto zone = static_cast<uint16_t>(1 + (domain.key - kDomainKeyBase) % 65535);
    while (taken.contains(zone)) zone = zone == 65535 ? 1 : static_cast<uint16_t>(zone + 1);
    taken.insert(zone);
    domain.zone = zone;
  }
}

}  // namespace

RoutePlan PlanRoutes(const std::vector<pipeline::NetworkSettings>& networks,
                     const std::vector<PortPlan>& ports) {
  std::map<std::array<uint8_t, 6>, DomainParts> parts;  // by router MAC
  for (const auto& network : networks) {
    auto& domain = parts[network.router_mac.bytes()];
    domain.local_vnis.insert(network.vni);
    domain.subnets[network.vni];  // a carried network without subnets still has its bridge
    for (const auto& route : network.routes) {
      domain.subnets[route.vni].emplace(route.prefix.ToString(),
                                        RouteSubnet{route.prefix, route.gateway});
    }
    for (const auto& rule : network.policies) {
      if (rule.source_vni == rule.destination_vni) continue;  // inside a network: bridged
      if (std::find(domain.policies.begin(), domain.policies.end(), rule) ==
          domain.policies.end()) {
        domain.policies.push_back(rule);
      }
    }
  }

  RoutePlan plan;
  for (auto& [router_mac, domain_parts] : parts) {
    DomainPlan domain;
    domain.router_mac = net::MacAddress(router_mac);
    domain.key = kDomainKeyBase + domain_parts.subnets.begin()->first;
    for (const auto& [vni, subnets] : domain_parts.subnets) {
      RoutedNetwork network{.vni = vni,
                            .bridge = BridgeName(vni),
                            .local = domain_parts.local_vnis.contains(vni),
                            .subnets = {}};
      for (const auto& [text, subnet] : subnets) network.subnets.push_back(subnet);
      if (!network.local) plan.extra_vnis.push_back(vni);
      domain.networks.push_back(std::move(network));
    }
    // Equal rules are one policy seen through two networks; the sort breaks remaining ties by
    // id so the order does not depend on the order of `networks`.
    std::sort(
        domain_parts.policies.begin(), domain_parts.policies.end(),
        [](const pipeline::PolicyRule& a, const pipeline::PolicyRule& b) { return a.id < b.id; });
    domain.policies = pipeline::PolicyTable(std::move(domain_parts.policies)).rules();
    for (auto& network : domain.networks) {
      network.tracked_arrivals = std::any_of(
          domain.policies.begin(), domain.policies.end(), [&](const pipeline::PolicyRule& rule) {
            return rule.action == pipeline::PolicyRule::Action::kAllow &&
                   (rule.source_vni == network.vni || rule.destination_vni == network.vni);
          });
      plan.connection_state = plan.connection_state || network.tracked_arrivals;
    }
    plan.domains.push_back(std::move(domain));
  }
  std::sort(plan.domains.begin(), plan.domains.end(),
            [](const DomainPlan& a, const DomainPlan& b) { return a.key < b.key; });
  AssignZones(plan.domains);
  std::sort(plan.extra_vnis.begin(), plan.extra_vnis.end());
  plan.underlay = PlanUnderlay(networks);
  plan.ports = ports;
  std::sort(plan.ports.begin(), plan.ports.end(),
            [](const PortPlan& a, const PortPlan& b) { return a.interface < b.interface; });
  return plan;
}

}  // namespace dove::dswitch::kernel
