// Tables: what AddNetwork and AddPort accept, index and refuse.
#include "dswitch/pipeline/tables.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

TEST(TablesTest, IndexesPortsByMacAndIp) {
  const Tables tables = ScenarioTables();
  const NetworkTables* network = tables.Network(kVni);
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(network->ports_by_mac.at(kVm2Mac), 2u);
  EXPECT_EQ(network->ports_by_ip.at(net::IpAddress(kVm1Ip6)), 1u);
  EXPECT_EQ(network->ports, (std::vector<PortId>{1, 2}));
  EXPECT_TRUE(network->IsFloodPeer(kOtherPeerVtep));
  EXPECT_FALSE(network->IsFloodPeer(kStrangerVtep));
  ASSERT_NE(tables.Port(3), nullptr);
  EXPECT_EQ(tables.Port(3)->vni, kOtherVni);
  EXPECT_EQ(tables.Port(4), nullptr);
  EXPECT_EQ(tables.Network(300), nullptr);
}

TEST(TablesTest, ReplacingANetworkKeepsItsPorts) {
  Tables tables = ScenarioTables();
  ASSERT_TRUE(tables.AddNetwork(kVni, kRouterMac, {kStrangerVtep}));
  EXPECT_EQ(tables.Network(kVni)->ports.size(), 2u);
  EXPECT_TRUE(tables.Network(kVni)->IsFloodPeer(kStrangerVtep));
  EXPECT_FALSE(tables.Network(kVni)->IsFloodPeer(kPeerVtep));
}

TEST(TablesTest, RefusesConflicts) {
  Tables tables = ScenarioTables();
  EXPECT_FALSE(tables.AddNetwork(0x1000000, kRouterMac, {}));
  EXPECT_FALSE(tables.AddPort({.id = 5, .vni = 300, .mac = kVm9Mac, .ips = {}}));
  EXPECT_FALSE(tables.AddPort({.id = 1, .vni = kVni, .mac = kVm9Mac, .ips = {}}));
  EXPECT_FALSE(
      tables.AddPort({.id = 5, .vni = kVni, .mac = net::MacAddress::Broadcast(), .ips = {}}));
  EXPECT_FALSE(tables.AddPort({.id = 5, .vni = kVni, .mac = kVm1Mac, .ips = {}}));
  const auto same_ip = tables.AddPort({.id = 5, .vni = kVni, .mac = kVm9Mac, .ips = {kVm2Ip}});
  ASSERT_FALSE(same_ip);
  EXPECT_NE(same_ip.error().find("10.0.0.2"), std::string::npos);
  // The same MAC and IP in another network is fine.
  EXPECT_TRUE(tables.AddPort({.id = 5, .vni = kOtherVni, .mac = kVm1Mac, .ips = {kVm2Ip}}));
}

TEST(CountersTest, DumpsNonZeroCountersByName) {
  Counters counters;
  Frame frame = PortFrame({}, 7, kVni);
  counters.Drop(DropReason::kHairpin, frame);
  counters.Drop(DropReason::kHairpin, PortFrame({}, kNoPort));
  counters.ToTunnel(kVni);
  const auto dump = counters.Dump();
  EXPECT_EQ(dump, (std::map<std::string, uint64_t>{{"drop.hairpin", 2},
                                                   {"network.100.dropped", 1},
                                                   {"network.100.to_tunnel", 1},
                                                   {"port.7.dropped", 1}}));
}

TEST(DropReasonTest, EveryReasonHasADistinctName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    const std::string_view name = DropReasonName(static_cast<DropReason>(i));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(DropReasonName(DropReason::kCount), "unknown");
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
