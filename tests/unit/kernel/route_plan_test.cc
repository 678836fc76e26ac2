#include "dswitch/kernel/route_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

namespace dove::dswitch::kernel {
namespace {

using pipeline::NetworkSettings;
using pipeline::PolicyRule;
using pipeline::Route;

net::IpPrefix Prefix(const char* text) { return *net::IpPrefix::Parse(text); }
net::IpAddress Ip(const char* text) { return *net::IpAddress::Parse(text); }
net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

// A carried network: its VNI, its domain's router MAC, the domain's routes and policies.
NetworkSettings Network(uint32_t vni, const net::MacAddress& router_mac,
                        std::vector<pipeline::Route> routes = {},
                        std::vector<PolicyRule> policies = {}) {
  NetworkSettings network;
  network.vni = vni;
  network.router_mac = router_mac;
  network.routes = std::move(routes);
  network.policies = std::move(policies);
  return network;
}

// A domain with networks 42 (10.0.0.0/24) and 43 (10.0.1.0/24, 2001:db8:1::/64), routed.
std::vector<Route> DomainRoutes(uint32_t first_vni) {
  return {{Prefix("10.0.0.0/24"), Ip("10.0.0.1"), first_vni},
          {Prefix("10.0.1.0/24"), Ip("10.0.1.1"), first_vni + 1},
          {Prefix("2001:db8:1::/64"), Ip("2001:db8:1::1"), first_vni + 1}};
}

PolicyRule Allow8080(uint32_t from, uint32_t to) {
  return {.id = "p8080",
          .source_vni = from,
          .destination_vni = to,
          .action = PolicyRule::Action::kAllow,
          .protocol = 6,
          .first_port = 8080,
          .last_port = 8080,
          .priority = 10};
}

TEST(PlanRoutesTest, ANetworkNamedOnlyByRoutesIsRoutedAndListedForTheL2Part) {
  const NetworkSettings web =
      Network(42, Mac("02:00:00:00:00:aa"), DomainRoutes(42), {Allow8080(42, 43)});
  const RoutePlan plan = PlanRoutes({web}, {});
  ASSERT_EQ(plan.domains.size(), 1u);
  const DomainPlan& domain = plan.domains[0];
  EXPECT_EQ(domain.key, kDomainKeyBase + 42);
  EXPECT_EQ(domain.router_mac, Mac("02:00:00:00:00:aa"));
  ASSERT_EQ(domain.networks.size(), 2u);
  EXPECT_EQ(domain.networks[0].bridge, "dvb42");
  EXPECT_TRUE(domain.networks[0].local);
  EXPECT_EQ(domain.networks[1].bridge, "dvb43");
  EXPECT_FALSE(domain.networks[1].local);
  EXPECT_EQ(domain.networks[1].subnets.size(), 2u);
  EXPECT_EQ(plan.extra_vnis, std::vector<uint32_t>{43});
  ASSERT_EQ(domain.policies.size(), 1u);
  EXPECT_EQ(domain.policies[0].id, "p8080");
}

TEST(PlanRoutesTest, DomainsAreToldApartByRouterMacEvenWithTheSameSubnets) {
  const auto mac_a = Mac("02:00:00:00:00:aa");
  const auto mac_b = Mac("02:00:00:00:00:bb");
  std::vector<NetworkSettings> networks;
  networks.push_back(Network(43, mac_a, DomainRoutes(42)));
  networks.push_back(Network(52, mac_b, DomainRoutes(52)));
  networks.push_back(Network(42, mac_a, DomainRoutes(42)));
  const RoutePlan plan = PlanRoutes(networks, {});
  ASSERT_EQ(plan.domains.size(), 2u);
  EXPECT_EQ(plan.domains[0].key, kDomainKeyBase + 42);
  EXPECT_EQ(plan.domains[1].key, kDomainKeyBase + 52);
  EXPECT_NE(plan.domains[0].zone, plan.domains[1].zone);
  EXPECT_EQ(plan.domains[1].networks[0].bridge, "dvb52");
  EXPECT_TRUE(plan.extra_vnis == std::vector<uint32_t>{53});

  std::reverse(networks.begin(), networks.end());
  EXPECT_EQ(PlanRoutes(networks, {}), plan) << "the order of the networks must not matter";
}

TEST(PlanRoutesTest, APolicySeenThroughBothItsNetworksIsPlannedOnce) {
  const auto mac = Mac("02:00:00:00:00:aa");
  PolicyRule deny{.id = "deny-all",
                  .source_vni = 43,
                  .destination_vni = 42,
                  .action = PolicyRule::Action::kDeny,
                  .priority = 10};
  const NetworkSettings web = Network(42, mac, DomainRoutes(42), {Allow8080(42, 43), deny});
  const NetworkSettings db = Network(43, mac, DomainRoutes(42), {deny, Allow8080(42, 43)});
  const RoutePlan plan = PlanRoutes({web, db}, {});
  ASSERT_EQ(plan.domains.size(), 1u);
  ASSERT_EQ(plan.domains[0].policies.size(), 2u);
  EXPECT_EQ(plan.domains[0].policies[0].id, "p8080");  // pair (42, 43) before (43, 42)
  EXPECT_EQ(plan.domains[0].policies[1].id, "deny-all");
  EXPECT_TRUE(plan.extra_vnis.empty());
}

TEST(PlanRoutesTest, ZonesStayUniqueWhenKeysClashModuloTheirRange) {
  std::vector<NetworkSettings> networks;
  networks.push_back(Network(7, Mac("02:00:00:00:00:01")));
  networks.push_back(Network(7 + 65535, Mac("02:00:00:00:00:02")));
  const RoutePlan plan = PlanRoutes(networks, {});
  ASSERT_EQ(plan.domains.size(), 2u);
  EXPECT_EQ(plan.domains[0].zone, 8);
  EXPECT_EQ(plan.domains[1].zone, 9);
}

TEST(PlanRoutesTest, PortsAreSortedByInterface) {
  const RoutePlan plan = PlanRoutes(
      {}, {{"vm2", 42, Mac("02:00:00:00:01:02"), {}}, {"vm1", 42, Mac("02:00:00:00:01:01"), {}}});
  ASSERT_EQ(plan.ports.size(), 2u);
  EXPECT_EQ(plan.ports[0].interface, "vm1");
}

}  // namespace
}  // namespace dove::dswitch::kernel
