// DeriveDesiredState: which endpoints become this switch's ports, which are remotes, and the
// newest word on each winning.
#include "dswitch/userspace/desired_state.h"

#include <gtest/gtest.h>

namespace dove::dswitch::userspace {
namespace {

dove::v1::Location Loc(const std::string& id, const std::string& mac, const std::string& ip,
                       const std::string& switch_name, const std::string& tunnel, uint32_t version,
                       const std::string& port = "") {
  dove::v1::Location location;
  location.set_endpoint_id(id);
  location.set_vni(100);
  location.set_mac(mac);
  location.add_ips(ip);
  location.set_switch_name(switch_name);
  location.set_tunnel_ip(tunnel);
  location.set_version(version);
  location.set_port_name(port);
  return location;
}

agent::CachedNetwork Network(std::vector<dove::v1::Location> locals) {
  agent::CachedNetwork network;
  network.vni = 100;
  dove::v1::NetworkConfig config;
  config.mutable_network()->set_id("net-1");
  config.mutable_network()->set_vni(100);
  config.set_router_mac("02:00:00:00:00:aa");
  for (auto& local : locals) *config.add_local_endpoints() = local;
  network.config = config;
  network.flood_tunnel_ips = {"192.0.2.12", "192.0.2.13"};
  return network;
}

agent::CachedEndpoint Cached(dove::v1::Location location) {
  return agent::CachedEndpoint{.location = std::move(location), .revision = 1};
}

TEST(DesiredStateTest, LocalEndpointsArePortsAndOthersAreRemotes) {
  agent::CacheDump dump;
  dump.networks.push_back(
      Network({Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h1", "192.0.2.11", 1, "t-a")}));
  dump.endpoints.push_back(
      Cached(Loc("ep-b", "02:00:00:00:00:02", "10.0.0.2", "h2", "192.0.2.12", 3)));
  dump.endpoints.push_back(
      Cached(Loc("ep-c", "02:00:00:00:00:03", "10.0.0.3", "", "", 1)));  // on no switch
  auto desired = DeriveDesiredState(dump, "h1");
  ASSERT_EQ(desired.ports.size(), 1u);
  EXPECT_EQ(desired.ports[0].port_name, "t-a");
  EXPECT_EQ(desired.ports[0].mac.ToString(), "02:00:00:00:00:01");
  ASSERT_EQ(desired.ports[0].ips.size(), 1u);
  ASSERT_EQ(desired.remotes.size(), 1u);
  EXPECT_EQ(desired.remotes[0].tunnel_ip.ToString(), "192.0.2.12");
  ASSERT_EQ(desired.networks.size(), 1u);
  EXPECT_EQ(desired.networks[0].flood_tunnel_ips.size(), 2u);
  EXPECT_EQ(desired.networks[0].router_mac.ToString(), "02:00:00:00:00:aa");
  EXPECT_TRUE(desired.skipped.empty());
}

TEST(DesiredStateTest, TheNewerVersionDecidesWhereAnEndpointIs) {
  agent::CacheDump dump;
  // The config lists ep-a here at version 1; a later move (version 2) took it to h2.
  dump.networks.push_back(
      Network({Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h1", "192.0.2.11", 1)}));
  dump.endpoints.push_back(
      Cached(Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h2", "192.0.2.12", 2)));
  auto desired = DeriveDesiredState(dump, "h1");
  EXPECT_TRUE(desired.ports.empty());
  ASSERT_EQ(desired.remotes.size(), 1u);

  // And the other way: attached here after being elsewhere.
  dump.endpoints[0].location = Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h1", "", 3);
  desired = DeriveDesiredState(dump, "h1");
  ASSERT_EQ(desired.ports.size(), 1u);
  EXPECT_EQ(desired.ports[0].port_name, "dvepa");  // no port name given: the switch names it
  EXPECT_TRUE(desired.remotes.empty());
}

TEST(DesiredStateTest, UnusableEntriesAreSkippedWithAReason) {
  agent::CacheDump dump;
  dump.networks.push_back(Network({}));
  dump.endpoints.push_back(Cached(Loc("ep-x", "not-a-mac", "10.0.0.9", "h2", "192.0.2.12", 1)));
  dump.endpoints.push_back(
      Cached(Loc("ep-y", "02:00:00:00:00:09", "10.0.0.10", "h2", "2001:db8::1", 1)));
  auto local_elsewhere = Loc("ep-z", "02:00:00:00:00:0a", "10.0.0.11", "h1", "", 1);
  local_elsewhere.set_vni(999);  // no config for it yet
  dump.endpoints.push_back(Cached(local_elsewhere));
  auto desired = DeriveDesiredState(dump, "h1");
  EXPECT_TRUE(desired.ports.empty());
  EXPECT_TRUE(desired.remotes.empty());
  ASSERT_EQ(desired.skipped.size(), 3u);
  EXPECT_NE(desired.skipped[0].find("ep-x"), std::string::npos);
}

TEST(DesiredStateTest, PortNamesFitTheKernelLimit) {
  EXPECT_EQ(PortNameFor("0123456789abcdef0123"), "dv0123456789abc");
  EXPECT_EQ(PortNameFor("0123456789abcdef0123").size(), 15u);
  EXPECT_EQ(PortNameFor("a-b_c"), "dvabc");
}

}  // namespace
}  // namespace dove::dswitch::userspace
