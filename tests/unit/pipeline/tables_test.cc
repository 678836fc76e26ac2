// Tables, RemoteTable, Counters and DropReason: what the tables accept, index, replace and
// remove one entry at a time, and how counters are kept and named.
#include "dswitch/pipeline/tables.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dswitch/pipeline/remote_table.h"
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
  EXPECT_EQ(tables.Port(kNoPort), nullptr);
  EXPECT_EQ(tables.Network(300), nullptr);
  EXPECT_EQ(tables.port_count(), 3u);
  EXPECT_EQ(tables.network_count(), 2u);
}

TEST(TablesTest, ReplacingANetworkKeepsItsPorts) {
  Tables tables = ScenarioTables();
  ASSERT_TRUE(tables.UpsertNetwork(kVni, kRouterMac, {kStrangerVtep}));
  EXPECT_EQ(tables.Network(kVni)->ports.size(), 2u);
  EXPECT_TRUE(tables.Network(kVni)->IsFloodPeer(kStrangerVtep));
  EXPECT_FALSE(tables.Network(kVni)->IsFloodPeer(kPeerVtep));
}

TEST(TablesTest, KeepsANetworksRoutedSettingsAndItsDomainPeers) {
  Tables tables = ScenarioTables();
  NetworkSettings settings{.vni = kVni,
                           .router_mac = kRouterMac,
                           .flood_tunnel_ips = {kPeerVtep},
                           .domain_tunnel_ips = {kOtherPeerVtep},
                           .subnets = {},
                           .routes = {},
                           .policies = {}};
  settings.subnets.push_back({.prefix = *net::IpPrefix::Parse("10.0.0.0/24"),
                              .gateway = *net::IpAddress::Parse("10.0.0.1"),
                              .dns_servers = {},
                              .mtu = 1400});
  settings.routes.push_back(
      {.prefix = *net::IpPrefix::Parse("10.0.1.0/24"), .gateway = std::nullopt, .vni = kOtherVni});
  settings.policies.push_back({.id = "p1", .source_vni = kVni, .destination_vni = kOtherVni});
  ASSERT_TRUE(tables.UpsertNetwork(settings));
  const NetworkTables* network = tables.Network(kVni);
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(network->ports.size(), 2u) << "its ports stay";
  EXPECT_EQ(network->subnets.size(), 1u);
  EXPECT_EQ(network->subnets[0].mtu, 1400u);
  ASSERT_EQ(network->routes.size(), 1u);
  EXPECT_EQ(network->routes[0].vni, kOtherVni);
  ASSERT_EQ(network->policies.size(), 1u);
  EXPECT_EQ(network->policies[0].id, "p1");
  EXPECT_TRUE(network->IsDomainPeer(kPeerVtep));       // a flood peer is one
  EXPECT_TRUE(network->IsDomainPeer(kOtherPeerVtep));  // the domain's list
  EXPECT_FALSE(network->IsFloodPeer(kOtherPeerVtep));  // but floods do not go there
  EXPECT_FALSE(network->IsDomainPeer(kStrangerVtep));
  settings.vni = 1U << 24;
  EXPECT_FALSE(tables.UpsertNetwork(settings));
}

TEST(TablesTest, RefusesConflicts) {
  Tables tables = ScenarioTables();
  EXPECT_FALSE(tables.UpsertNetwork(0x1000000, kRouterMac, {}));
  EXPECT_FALSE(tables.UpsertPort({.id = 5, .vni = 300, .mac = kVm9Mac, .ips = {}}));
  EXPECT_FALSE(
      tables.UpsertPort({.id = 5, .vni = kVni, .mac = net::MacAddress::Broadcast(), .ips = {}}));
  EXPECT_FALSE(tables.UpsertPort({.id = 5, .vni = kVni, .mac = kVm1Mac, .ips = {}}));
  EXPECT_FALSE(
      tables.UpsertPort({.id = Tables::kMaxPortId, .vni = kVni, .mac = kVm9Mac, .ips = {}}));
  const auto same_ip = tables.UpsertPort({.id = 5, .vni = kVni, .mac = kVm9Mac, .ips = {kVm2Ip}});
  ASSERT_FALSE(same_ip);
  EXPECT_NE(same_ip.error().find("10.0.0.2"), std::string::npos);
  // A refused change changes nothing.
  EXPECT_EQ(tables.Port(5), nullptr);
  EXPECT_FALSE(tables.Network(kVni)->ports_by_mac.contains(kVm9Mac));
  // Port 1 taking port 2's MAC is a conflict too; keeping its own is not.
  EXPECT_FALSE(tables.UpsertPort({.id = 1, .vni = kVni, .mac = kVm2Mac, .ips = {kVm1Ip}}));
  EXPECT_EQ(tables.Network(kVni)->ports_by_mac.at(kVm2Mac), 2u);
  // The same MAC and IP in another network is fine.
  EXPECT_TRUE(tables.UpsertPort({.id = 5, .vni = kOtherVni, .mac = kVm1Mac, .ips = {kVm2Ip}}));
}

TEST(TablesTest, UpsertReplacesAPortAndItsIndexEntries) {
  Tables tables = ScenarioTables();
  // Port 1 changes MAC and addresses within its network.
  const net::MacAddress new_mac = Mac("52:54:00:00:00:41");
  ASSERT_TRUE(tables.UpsertPort({.id = 1, .vni = kVni, .mac = new_mac, .ips = {kUnknownIp}}));
  const NetworkTables* network = tables.Network(kVni);
  EXPECT_FALSE(network->ports_by_mac.contains(kVm1Mac));
  EXPECT_EQ(network->ports_by_mac.at(new_mac), 1u);
  EXPECT_FALSE(network->ports_by_ip.contains(kVm1Ip));
  EXPECT_FALSE(network->ports_by_ip.contains(kVm1Ip6));
  EXPECT_EQ(network->ports_by_ip.at(kUnknownIp), 1u);
  EXPECT_EQ(network->ports.size(), 2u);
  EXPECT_EQ(tables.Port(1)->mac, new_mac);
  EXPECT_EQ(tables.port_count(), 3u);
  // Its old MAC is free for another port now.
  EXPECT_TRUE(tables.UpsertPort({.id = 4, .vni = kVni, .mac = kVm1Mac, .ips = {kVm1Ip}}));

  // Port 2 moves to network 200.
  ASSERT_TRUE(tables.UpsertPort({.id = 2, .vni = kOtherVni, .mac = kVm2Mac, .ips = {kVm2Ip}}));
  EXPECT_FALSE(tables.Network(kVni)->ports_by_mac.contains(kVm2Mac));
  EXPECT_EQ(tables.Network(kVni)->ports, (std::vector<PortId>{1, 4}));
  EXPECT_EQ(tables.Network(kOtherVni)->ports_by_mac.at(kVm2Mac), 2u);
  EXPECT_EQ(tables.Network(kOtherVni)->ports, (std::vector<PortId>{3, 2}));
  EXPECT_EQ(tables.Port(2)->vni, kOtherVni);
}

TEST(TablesTest, RemovesPortsAndNetworks) {
  Tables tables = ScenarioTables();
  tables.RemovePort(2);
  tables.RemovePort(2);   // absent: nothing
  tables.RemovePort(77);  // never present: nothing
  EXPECT_EQ(tables.Port(2), nullptr);
  EXPECT_FALSE(tables.Network(kVni)->ports_by_mac.contains(kVm2Mac));
  EXPECT_FALSE(tables.Network(kVni)->ports_by_ip.contains(kVm2Ip6));
  EXPECT_EQ(tables.Network(kVni)->ports, (std::vector<PortId>{1}));
  EXPECT_EQ(tables.port_count(), 2u);
  // Its id and addresses can be used again.
  EXPECT_TRUE(tables.UpsertPort({.id = 2, .vni = kVni, .mac = kVm9Mac, .ips = {kVm2Ip}}));

  tables.RemoveNetwork(kVni);
  tables.RemoveNetwork(kVni);
  EXPECT_EQ(tables.Network(kVni), nullptr);
  EXPECT_EQ(tables.Port(1), nullptr);
  EXPECT_EQ(tables.Port(2), nullptr);
  ASSERT_NE(tables.Port(3), nullptr);
  EXPECT_EQ(tables.port_count(), 1u);
  EXPECT_EQ(tables.network_count(), 1u);
  // A port cannot join the removed network until it comes back, and then it is empty.
  EXPECT_FALSE(tables.UpsertPort({.id = 1, .vni = kVni, .mac = kVm1Mac, .ips = {kVm1Ip}}));
  ASSERT_TRUE(tables.UpsertNetwork(kVni, kRouterMac, {}));
  EXPECT_TRUE(tables.Network(kVni)->ports.empty());
  EXPECT_TRUE(tables.UpsertPort({.id = 1, .vni = kVni, .mac = kVm1Mac, .ips = {kVm1Ip}}));
}

TEST(RemoteTableTest, FindsByMacAndIpWithinTheNetwork) {
  const RemoteTable remotes = ScenarioRemotes();
  EXPECT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes.FindMac(kVni, kVm9Mac), kPeerVtep);
  EXPECT_EQ(remotes.FindMac(kOtherVni, kVm9Mac), std::nullopt);
  EXPECT_EQ(remotes.FindMac(kVni, kVm1Mac), std::nullopt);
  const auto by_ip = remotes.FindIp(kVni, kVm9Ip6);
  ASSERT_TRUE(by_ip);
  EXPECT_EQ(by_ip->mac, kVm9Mac);
  EXPECT_EQ(by_ip->tunnel_ip, kPeerVtep);
  EXPECT_EQ(remotes.FindIp(kOtherVni, kVm9Ip), std::nullopt);
}

TEST(RemoteTableTest, ReUpsertReplacesTheOldIndexEntries) {
  RemoteTable remotes = ScenarioRemotes();
  const net::MacAddress new_mac = Mac("52:54:00:00:00:99");
  // vm9 moves to another VTEP, with a new MAC and only its IPv4 address.
  remotes.Upsert("vm9", kVni, new_mac, kOtherPeerVtep, {kVm9Ip});
  EXPECT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes.FindMac(kVni, kVm9Mac), std::nullopt);
  EXPECT_EQ(remotes.FindMac(kVni, new_mac), kOtherPeerVtep);
  ASSERT_TRUE(remotes.FindIp(kVni, kVm9Ip));
  EXPECT_EQ(remotes.FindIp(kVni, kVm9Ip)->mac, new_mac);
  EXPECT_EQ(remotes.FindIp(kVni, kVm9Ip6), std::nullopt);

  remotes.Remove("vm9");
  remotes.Remove("vm9");
  EXPECT_EQ(remotes.size(), 0u);
  EXPECT_EQ(remotes.FindMac(kVni, new_mac), std::nullopt);
  EXPECT_EQ(remotes.FindIp(kVni, kVm9Ip), std::nullopt);
}

TEST(RemoteTableTest, RemovingAnOlderClaimLeavesTheNewerOne) {
  RemoteTable remotes = ScenarioRemotes();
  // vm9 reappears under a new key (moved) before its old record is removed.
  remotes.Upsert("vm9-moved", kVni, kVm9Mac, kOtherPeerVtep, {kVm9Ip});
  EXPECT_EQ(remotes.FindMac(kVni, kVm9Mac), kOtherPeerVtep);
  remotes.Remove("vm9");
  EXPECT_EQ(remotes.FindMac(kVni, kVm9Mac), kOtherPeerVtep);
  ASSERT_TRUE(remotes.FindIp(kVni, kVm9Ip));
  EXPECT_EQ(remotes.FindIp(kVni, kVm9Ip)->tunnel_ip, kOtherPeerVtep);
  EXPECT_EQ(remotes.FindIp(kVni, kVm9Ip6), std::nullopt);  // only the old record had it
  // A moved table keeps working.
  RemoteTable moved = std::move(remotes);
  moved.Remove("vm9-moved");
  EXPECT_EQ(moved.FindMac(kVni, kVm9Mac), std::nullopt);
  EXPECT_EQ(moved.size(), 0u);
}

class CountersTest : public PoolTest {};

TEST_F(CountersTest, DumpsNonZeroCountersByName) {
  Counters counters;
  Packet* packet = MakePacket(pool_, {}, 7, kVni);
  counters.Drop(DropReason::kHairpin, *packet);
  packet->meta.in_port = kNoPort;
  packet->meta.vni = kNoVni;
  counters.Drop(DropReason::kHairpin, *packet);
  counters.ToTunnel(kVni, 60);
  counters.ToTunnel(kVni, 1514);
  counters.Received(7, 98);
  counters.Sent(7, 64000);  // a TCP super-frame: once, all its bytes
  const auto dump = counters.Dump();
  EXPECT_EQ(dump, (std::map<std::string, uint64_t>{{"drop.hairpin", 2},
                                                   {"network.100.dropped", 1},
                                                   {"network.100.to_tunnel", 2},
                                                   {"network.100.to_tunnel_bytes", 1574},
                                                   {"port.7.dropped", 1},
                                                   {"port.7.received", 1},
                                                   {"port.7.received_bytes", 98},
                                                   {"port.7.sent", 1},
                                                   {"port.7.sent_bytes", 64000}}));
  pool_.Free(packet);
}

TEST_F(CountersTest, DropCountsTheEgressPortWhenSetAndFreesThroughDropPacket) {
  Counters counters;
  Packet* packet = MakePacket(pool_, {}, 1, kVni);
  packet->meta.out_port = 2;
  DropPacket(DropReason::kPortWriteFailed, packet, counters, pool_);
  EXPECT_EQ(pool_.in_use(), 0u);
  EXPECT_EQ(counters.port(2).dropped, 1u);
  EXPECT_EQ(counters.port(1).dropped, 0u);
  EXPECT_EQ(counters.drops(DropReason::kPortWriteFailed), 1u);
}

TEST_F(CountersTest, KeepsNetworksApartAcrossTheVniRange) {
  Counters counters;
  const std::vector<uint32_t> vnis = {0, 1, 4095, 4096, 100, 0xfff000, 0xffffff};
  for (size_t i = 0; i < vnis.size(); ++i) {
    for (size_t n = 0; n <= i; ++n) counters.FromTunnel(vnis[i], 100);
  }
  for (size_t i = 0; i < vnis.size(); ++i) {
    EXPECT_EQ(counters.network(vnis[i]).from_tunnel, i + 1) << vnis[i];
  }
  EXPECT_EQ(counters.network(0xffffff).from_tunnel_bytes, 700u);
  EXPECT_EQ(counters.network(2).from_tunnel, 0u);
  // Out of range: not counted per network, not a crash.
  counters.ToTunnel(0x1000000, 60);
  counters.ToTunnel(kNoVni, 60);
  EXPECT_EQ(counters.network(0x1000000).to_tunnel, 0u);
  counters.Sent(kNoPort, 60);
  EXPECT_EQ(counters.port(kNoPort).sent, 0u);
  EXPECT_EQ(counters.Dump().size(), 2 * vnis.size()) << "from_tunnel and its bytes";
}

TEST(DropReasonTest, EveryReasonHasADistinctName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    const std::string_view name = DropReasonName(static_cast<DropReason>(i));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(DropReasonName(DropReason::kCount), "unknown");
  EXPECT_EQ(DropReasonName(DropReason::kPoolExhausted), "pool_exhausted");
  // Names are API: the ones metrics already use keep their spelling.
  EXPECT_EQ(DropReasonName(DropReason::kOuterNotForUs), "outer_not_for_us");
  EXPECT_EQ(DropReasonName(DropReason::kTunnelSendFailed), "tunnel_send_failed");
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
