// NetworkOf: a NetworkConfig's subnets, the domain's routes and tunnel IPs, and its policies
// become the pipeline's NetworkSettings; what does not parse is left out with a sentence.
#include "dswitch/userspace/network_of.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dove::dswitch::userspace {
namespace {

using pipeline::PolicyRule;

net::IpAddress Ip(const std::string& text) { return *net::IpAddress::Parse(text); }
net::IpPrefix Prefix(const std::string& text) { return *net::IpPrefix::Parse(text); }

dove::v1::RoutedSubnet Routed(const std::string& cidr, const std::string& gateway,
                              const std::string& network, uint32_t vni) {
  dove::v1::RoutedSubnet routed;
  routed.set_cidr(cidr);
  routed.set_gateway(gateway);
  routed.set_network_id(network);
  routed.set_vni(vni);
  return routed;
}

dove::v1::Policy Policy(const std::string& id, const std::string& from, const std::string& to,
                        dove::v1::Policy::Action action, uint32_t protocol, uint32_t first,
                        uint32_t last, uint32_t priority) {
  dove::v1::Policy policy;
  policy.set_id(id);
  policy.set_source_network_id(from);
  policy.set_destination_network_id(to);
  policy.set_action(action);
  policy.set_protocol(protocol);
  if (first != 0 || last != 0) {
    policy.mutable_port_range()->set_first(first);
    policy.mutable_port_range()->set_last(last);
  }
  policy.set_priority(priority);
  return policy;
}

agent::CachedNetwork Web() {
  agent::CachedNetwork network;
  network.vni = 100;
  dove::v1::NetworkConfig config;
  config.mutable_network()->set_id("web");
  config.mutable_network()->set_vni(100);
  config.set_router_mac("02:00:00:00:00:aa");
  auto* subnet = config.add_subnets();
  subnet->set_cidr("10.0.0.0/24");
  subnet->set_gateway("10.0.0.1");
  subnet->add_dns_servers("192.0.2.53");
  subnet->set_mtu(1400);
  auto* v6 = config.add_subnets();
  v6->set_cidr("2001:db8::/64");
  *config.add_domain_subnets() = Routed("10.0.0.0/24", "10.0.0.1", "web", 100);
  *config.add_domain_subnets() = Routed("2001:db8::/64", "", "web", 100);
  *config.add_domain_subnets() = Routed("10.0.1.0/24", "10.0.1.1", "db", 200);
  config.add_domain_tunnel_ips("192.0.2.20");
  *config.add_policies() =
      Policy("p1", "web", "db", dove::v1::Policy::ACTION_ALLOW, 6, 5432, 5432, 10);
  *config.add_policies() = Policy("p2", "db", "web", dove::v1::Policy::ACTION_REJECT, 0, 0, 0, 1);
  network.config = config;
  network.flood_tunnel_ips = {"192.0.2.12"};
  return network;
}

TEST(NetworkOfTest, ParsesSubnetsRoutesDomainPeersAndPolicies) {
  std::vector<std::string> skipped;
  const DesiredNetwork network = NetworkOf(Web(), skipped);
  EXPECT_TRUE(skipped.empty()) << skipped.front();
  EXPECT_EQ(network.network_id, "web");
  ASSERT_EQ(network.subnets.size(), 2U);
  EXPECT_EQ(network.subnets[0].prefix, Prefix("10.0.0.0/24"));
  EXPECT_EQ(network.subnets[0].gateway, Ip("10.0.0.1"));
  EXPECT_EQ(network.subnets[0].dns_servers, std::vector<net::IpAddress>{Ip("192.0.2.53")});
  EXPECT_EQ(network.subnets[0].mtu, 1400U);
  EXPECT_FALSE(network.subnets[1].gateway.has_value());
  ASSERT_EQ(network.routes.size(), 3U);
  EXPECT_EQ(network.routes[2].prefix, Prefix("10.0.1.0/24"));
  EXPECT_EQ(network.routes[2].vni, 200U);
  EXPECT_EQ(network.domain_tunnel_ips,
            std::vector<net::Ipv4Address>{*net::Ipv4Address::Parse("192.0.2.20")});
  ASSERT_EQ(network.policies.size(), 2U);
  EXPECT_EQ(network.policies[0], (PolicyRule{.id = "p1",
                                             .source_vni = 100,
                                             .destination_vni = 200,
                                             .action = PolicyRule::Action::kAllow,
                                             .protocol = 6,
                                             .first_port = 5432,
                                             .last_port = 5432,
                                             .priority = 10}));
  EXPECT_EQ(network.policies[1].action, PolicyRule::Action::kReject);
  EXPECT_EQ(network.policies[1].source_vni, 200U);
  const pipeline::NetworkSettings settings = network.Settings();
  EXPECT_EQ(settings.policies, network.policies);
  EXPECT_EQ(settings.flood_tunnel_ips.size(), 1U);
}

TEST(NetworkOfTest, LeavesOutWhatDoesNotParseAndSaysWhy) {
  agent::CachedNetwork network = Web();
  auto& config = *network.config;
  config.mutable_subnets(0)->set_gateway("10.9.9.9");  // outside its subnet
  config.mutable_subnets(1)->add_dns_servers("not-an-ip");
  *config.add_domain_subnets() = Routed("10.0.2.0/33", "", "x", 300);
  *config.add_domain_subnets() = Routed("10.0.3.0/24", "", "y", 0);
  config.add_domain_tunnel_ips("2001:db8::1");
  *config.add_policies() = Policy("p3", "web", "ghost", dove::v1::Policy::ACTION_ALLOW, 0, 0, 0, 1);
  *config.add_policies() =
      Policy("p4", "web", "db", dove::v1::Policy::ACTION_UNSPECIFIED, 0, 0, 0, 1);
  *config.add_policies() = Policy("p5", "web", "db", dove::v1::Policy::ACTION_ALLOW, 6, 9, 8, 1);
  *config.add_policies() =
      Policy("p6", "web", "db", dove::v1::Policy::ACTION_ALLOW, 6, 1, 70000, 1);
  *config.add_policies() = Policy("p7", "web", "db", dove::v1::Policy::ACTION_ALLOW, 256, 0, 0, 1);
  std::vector<std::string> skipped;
  const DesiredNetwork desired = NetworkOf(network, skipped);
  EXPECT_EQ(desired.subnets.size(), 1U);  // the one with the bad gateway is out
  EXPECT_TRUE(desired.subnets[0].dns_servers.empty());
  EXPECT_EQ(desired.routes.size(), 3U);
  EXPECT_EQ(desired.domain_tunnel_ips.size(), 1U);
  EXPECT_EQ(desired.policies.size(), 2U);  // p1 and p2 only
  EXPECT_EQ(skipped.size(), 10U);
  for (const std::string& line : skipped) EXPECT_EQ(line.rfind("network 100: ", 0), 0U) << line;
}

}  // namespace
}  // namespace dove::dswitch::userspace
