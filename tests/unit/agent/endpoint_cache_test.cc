#include "dswitch/agent/endpoint_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace dove::dswitch::agent {
namespace {

using dove::v1::ControllerMessage;
using dove::v1::Location;

Location Loc(std::string id, uint32_t vni, std::string mac, std::vector<std::string> ips,
             std::string tunnel_ip, uint32_t version) {
  Location l;
  l.set_endpoint_id(std::move(id));
  l.set_vni(vni);
  l.set_mac(std::move(mac));
  for (auto& ip : ips) l.add_ips(std::move(ip));
  l.set_tunnel_ip(std::move(tunnel_ip));
  l.set_version(version);
  return l;
}

ControllerMessage Update(int64_t revision, const Location& l) {
  ControllerMessage m;
  m.set_revision(revision);
  *m.mutable_location_update()->mutable_location() = l;
  return m;
}

ControllerMessage Welcome(int64_t revision, bool snapshot) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_welcome()->set_snapshot(snapshot);
  return m;
}

ControllerMessage SyncDone(int64_t revision) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_sync_done();
  return m;
}

ControllerMessage Invalidate(int64_t revision, std::string id, uint32_t vni, std::string mac) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_invalidate()->set_endpoint_id(std::move(id));
  m.mutable_invalidate()->set_vni(vni);
  m.mutable_invalidate()->set_mac(std::move(mac));
  return m;
}

ControllerMessage Config(int64_t revision, uint32_t vni, const std::vector<std::string>& flood,
                         const std::vector<Location>& locals = {}) {
  ControllerMessage m;
  m.set_revision(revision);
  auto* c = m.mutable_network_config();
  c->mutable_network()->set_id("net-" + std::to_string(vni));
  c->mutable_network()->set_vni(vni);
  for (auto& ip : flood) c->add_flood_tunnel_ips(ip);
  for (auto& l : locals) *c->add_local_endpoints() = l;
  return m;
}

const char* kMac = "52:54:00:00:00:01";

// Two LocationUpdates of one endpoint in a row: which one the cache keeps.
struct OrderCase {
  const char* name;
  int64_t first_revision;
  uint32_t first_version;
  int64_t second_revision;
  uint32_t second_version;
  bool second_applies;
};

class LocationOrderTest : public testing::TestWithParam<OrderCase> {};

TEST_P(LocationOrderTest, OlderNeverOverwritesNewer) {
  const OrderCase& c = GetParam();
  EndpointCache cache;
  EXPECT_TRUE(cache.Apply(
      Update(c.first_revision, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", c.first_version))));
  const bool applied = cache.Apply(Update(
      c.second_revision, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.2", c.second_version)));
  EXPECT_EQ(applied, c.second_applies);
  auto hit = cache.Lookup(100, kMac);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->location.tunnel_ip(), c.second_applies ? "192.0.2.2" : "192.0.2.1");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.last_revision(), std::max(c.first_revision, c.second_revision));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LocationOrderTest,
    testing::Values(OrderCase{"NewerVersionNewerRevision", 10, 1, 11, 2, true},
                    OrderCase{"SameVersionNewerRevision", 10, 1, 11, 1, true},
                    OrderCase{"NewerVersionSameRevision", 10, 1, 10, 2, true},
                    OrderCase{"ExactRepeat", 10, 1, 10, 1, false},
                    OrderCase{"OlderVersionNewerRevision", 10, 3, 11, 2, false},
                    OrderCase{"NewerVersionOlderRevision", 10, 1, 9, 2, false},
                    OrderCase{"OlderBoth", 10, 3, 9, 2, false}),
    [](const testing::TestParamInfo<OrderCase>& param_info) { return param_info.param.name; });

TEST(EndpointCacheTest, LookupByMacIsCaseInsensitiveAndByIpPerVni) {
  EndpointCache cache;
  cache.Apply(
      Update(5, Loc("ep1", 100, "52:54:00:AB:CD:EF", {"10.0.0.1", "2001:db8::1"}, "192.0.2.1", 1)));
  EXPECT_TRUE(cache.Lookup(100, "52:54:00:ab:cd:ef").has_value());
  EXPECT_TRUE(cache.Lookup(100, "52:54:00:AB:CD:EF").has_value());
  EXPECT_FALSE(cache.Lookup(101, "52:54:00:ab:cd:ef").has_value());
  EXPECT_EQ(cache.LookupIp(100, "2001:db8::1")->location.endpoint_id(), "ep1");
  EXPECT_EQ(cache.LookupIp(100, "10.0.0.1")->revision, 5);
  EXPECT_FALSE(cache.LookupIp(101, "10.0.0.1").has_value());
  EXPECT_FALSE(cache.LookupIp(100, "10.0.0.2").has_value());
}

TEST(EndpointCacheTest, NewVersionReindexesChangedMacAndIps) {
  EndpointCache cache;
  cache.Apply(Update(1, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  cache.Apply(Update(2, Loc("ep1", 100, "52:54:00:00:00:02", {"10.0.0.9"}, "192.0.2.1", 2)));
  EXPECT_FALSE(cache.Lookup(100, kMac).has_value());
  EXPECT_FALSE(cache.LookupIp(100, "10.0.0.1").has_value());
  EXPECT_TRUE(cache.Lookup(100, "52:54:00:00:00:02").has_value());
  EXPECT_TRUE(cache.LookupIp(100, "10.0.0.9").has_value());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(EndpointCacheTest, IpTakenOverByAnotherEndpointDropsTheStaleOne) {
  EndpointCache cache;
  cache.Apply(Update(1, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  cache.Apply(Update(2, Loc("ep2", 100, "52:54:00:00:00:02", {"10.0.0.1"}, "192.0.2.2", 1)));
  EXPECT_EQ(cache.LookupIp(100, "10.0.0.1")->location.endpoint_id(), "ep2");
  EXPECT_FALSE(cache.Lookup(100, kMac).has_value());
  EXPECT_EQ(cache.size(), 1u);
}

struct InvalidateCase {
  const char* name;
  std::string id;
  std::string mac;
  std::vector<std::string> ips;
  int64_t revision;
  bool drops;
};

class InvalidateTest : public testing::TestWithParam<InvalidateCase> {};

TEST_P(InvalidateTest, DropsUnlessEntryIsNewer) {
  const InvalidateCase& c = GetParam();
  EndpointCache cache;
  cache.Apply(Update(10, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  ControllerMessage m = Invalidate(c.revision, c.id, 100, c.mac);
  for (const auto& ip : c.ips) m.mutable_invalidate()->add_ips(ip);
  EXPECT_EQ(cache.Apply(m), c.drops);
  EXPECT_EQ(cache.Lookup(100, kMac).has_value(), !c.drops);
  EXPECT_EQ(cache.LookupIp(100, "10.0.0.1").has_value(), !c.drops);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidateTest,
    testing::Values(InvalidateCase{"ById", "ep1", "", {}, 11, true},
                    InvalidateCase{"ByMacUppercase", "", "52:54:00:00:00:01", {}, 11, true},
                    InvalidateCase{"ByIp", "", "", {"10.0.0.1"}, 11, true},
                    InvalidateCase{"SameRevision", "ep1", "", {}, 10, true},
                    InvalidateCase{"OlderRevision", "ep1", kMac, {"10.0.0.1"}, 9, false},
                    InvalidateCase{"UnknownEndpoint", "ep9", "52:54:00:00:00:09", {}, 11, false}),
    [](const testing::TestParamInfo<InvalidateCase>& param_info) { return param_info.param.name; });

TEST(EndpointCacheTest, SnapshotWelcomeDropsEverything) {
  EndpointCache cache;
  cache.Apply(Config(1, 100, {"192.0.2.7"}));
  cache.Apply(Update(2, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  ASSERT_EQ(cache.last_revision(), 2);
  cache.Apply(Welcome(50, /*snapshot=*/true));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.Network(100).has_value());
  EXPECT_EQ(cache.last_revision(), 0);
  EXPECT_TRUE(cache.syncing());
}

TEST(EndpointCacheTest, IncrementalWelcomeKeepsTheCache) {
  EndpointCache cache;
  cache.Apply(Update(2, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  cache.Apply(Welcome(50, /*snapshot=*/false));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.last_revision(), 2);
}

TEST(EndpointCacheTest, RevisionAdvancesOnlyAtSyncDoneDuringCatchUp) {
  EndpointCache cache;
  cache.Apply(Welcome(0, /*snapshot=*/true));
  cache.Apply(Config(40, 100, {}));
  cache.Apply(Update(40, Loc("ep1", 100, kMac, {}, "192.0.2.1", 1)));
  EXPECT_EQ(cache.last_revision(), 0) << "a catch-up cut here must be asked for again";
  EXPECT_TRUE(cache.Lookup(100, kMac).has_value()) << "but its content serves already";
  cache.Apply(SyncDone(42));
  EXPECT_FALSE(cache.syncing());
  EXPECT_EQ(cache.last_revision(), 42);
  cache.Apply(Update(43, Loc("ep1", 100, kMac, {}, "192.0.2.2", 2)));
  EXPECT_EQ(cache.last_revision(), 43);
}

TEST(EndpointCacheTest, NetworkConfigFloodListAndRemoval) {
  EndpointCache cache;
  cache.Apply(Config(5, 100, {"192.0.2.1", "192.0.2.2"}));
  auto net = cache.Network(100);
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(net->config->network().id(), "net-100");
  EXPECT_EQ(net->flood_tunnel_ips, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));

  ControllerMessage flood;
  flood.set_revision(6);
  flood.mutable_flood_list()->set_vni(100);
  flood.mutable_flood_list()->add_tunnel_ips("192.0.2.3");
  flood.mutable_flood_list()->add_domain_tunnel_ips_added("192.0.2.4");
  EXPECT_TRUE(cache.Apply(flood));
  net = cache.Network(100);
  EXPECT_EQ(net->flood_tunnel_ips, std::vector<std::string>{"192.0.2.3"});
  EXPECT_EQ(net->config->flood_tunnel_ips_size(), 1);
  ASSERT_EQ(net->config->domain_tunnel_ips_size(), 1);  // the domain's change rides along
  EXPECT_EQ(net->config->domain_tunnel_ips(0), "192.0.2.4");

  // An older config does not overwrite the newer flood list (its domain set, the same here, is
  // taken: AFloodListsDomainDeltaAppliesToTheConfigsSet).
  ControllerMessage older = Config(4, 100, {"192.0.2.9"});
  older.mutable_network_config()->add_domain_tunnel_ips("192.0.2.4");
  EXPECT_FALSE(cache.Apply(older));
  EXPECT_EQ(cache.Network(100)->flood_tunnel_ips, std::vector<std::string>{"192.0.2.3"});

  // A FloodList alone makes a network entry without config.
  flood.mutable_flood_list()->set_vni(200);
  cache.Apply(flood);
  EXPECT_FALSE(cache.Network(200)->config.has_value());

  cache.Apply(Update(7, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  cache.Apply(Update(7, Loc("ep2", 200, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  ControllerMessage removed;
  removed.set_revision(8);
  removed.mutable_network_removed()->set_vni(100);
  EXPECT_TRUE(cache.Apply(removed));
  EXPECT_FALSE(cache.Network(100).has_value());
  EXPECT_FALSE(cache.Lookup(100, kMac).has_value());
  EXPECT_TRUE(cache.Lookup(200, kMac).has_value()) << "other VNIs untouched";
  EXPECT_EQ(cache.last_revision(), 8);
}

TEST(EndpointCacheTest, EndpointMovedLeavesLocalListAndCachesNewLocation) {
  EndpointCache cache;
  Location local = Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.100", 1);
  cache.Apply(Config(5, 100, {}, {local}));
  ASSERT_EQ(cache.Network(100)->config->local_endpoints_size(), 1);
  ControllerMessage moved;
  moved.set_revision(6);
  *moved.mutable_endpoint_moved()->mutable_location() =
      Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.5", 2);
  EXPECT_TRUE(cache.Apply(moved));
  EXPECT_EQ(cache.Network(100)->config->local_endpoints_size(), 0);
  EXPECT_EQ(cache.Lookup(100, kMac)->location.tunnel_ip(), "192.0.2.5");
}

TEST(EndpointCacheTest, InvalidateOfALocalEndpointLeavesTheLocalList) {
  EndpointCache cache;
  Location local = Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.100", 1);
  cache.Apply(Config(5, 100, {}, {local}));
  // An Invalidate older than the config leaves it; a newer one takes the endpoint out.
  EXPECT_FALSE(cache.Apply(Invalidate(4, "ep1", 100, "")));
  EXPECT_EQ(cache.Network(100)->config->local_endpoints_size(), 1);
  EXPECT_TRUE(cache.Apply(Invalidate(6, "ep1", 100, "")));
  EXPECT_EQ(cache.Network(100)->config->local_endpoints_size(), 0);
}

TEST(EndpointCacheTest, ResolveReplyFoundIsCachedOthersAreNot) {
  EndpointCache cache;
  ControllerMessage reply;
  reply.set_revision(3);
  reply.mutable_resolve_reply()->set_query_id(1);
  reply.mutable_resolve_reply()->set_status(dove::v1::ResolveReply::STATUS_NOT_FOUND);
  EXPECT_FALSE(cache.Apply(reply));
  reply.mutable_resolve_reply()->set_status(dove::v1::ResolveReply::STATUS_FOUND);
  *reply.mutable_resolve_reply()->mutable_location() = Loc("ep1", 100, kMac, {}, "192.0.2.1", 1);
  EXPECT_TRUE(cache.Apply(reply));
  EXPECT_EQ(cache.Lookup(100, kMac)->revision, 3);
}

TEST(EndpointCacheTest, EndpointWithoutIdIsKeyedByVniAndMac) {
  EndpointCache cache;
  cache.Apply(Update(1, Loc("", 100, "52:54:00:00:00:AA", {}, "192.0.2.1", 1)));
  cache.Apply(Update(2, Loc("", 100, "52:54:00:00:00:aa", {}, "192.0.2.2", 2)));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Lookup(100, "52:54:00:00:00:aa")->location.tunnel_ip(), "192.0.2.2");
}

TEST(EndpointCacheTest, DumpIsSorted) {
  EndpointCache cache;
  cache.Apply(Update(1, Loc("b", 200, "52:54:00:00:00:01", {}, "192.0.2.1", 1)));
  cache.Apply(Update(2, Loc("a", 100, "52:54:00:00:00:02", {}, "192.0.2.1", 1)));
  cache.Apply(Config(3, 300, {}));
  cache.Apply(Config(3, 100, {}));
  CacheDump dump = cache.Dump();
  EXPECT_EQ(dump.last_revision, 3);
  ASSERT_EQ(dump.endpoints.size(), 2u);
  EXPECT_EQ(dump.endpoints[0].location.endpoint_id(), "a");
  EXPECT_EQ(dump.endpoints[1].location.endpoint_id(), "b");
  ASSERT_EQ(dump.networks.size(), 2u);
  EXPECT_EQ(dump.networks[0].vni, 100u);
}

// --- Change reports: what each message lists in CacheChanges. ---

Location Local(std::string id, uint32_t vni, std::string mac, std::string switch_name,
               uint32_t version) {
  Location l = Loc(std::move(id), vni, std::move(mac), {}, "192.0.2.100", version);
  l.set_switch_name(std::move(switch_name));
  return l;
}

// The cache every ChangeCase starts from: networks 100 (ep-local on h1 in its local list) and
// 200; remote endpoints ep1, ep2 in 100 and ep3 in 200, all at revision 6.
EndpointCache BaseCache() {
  EndpointCache cache;
  cache.Apply(
      Config(5, 100, {"192.0.2.7"}, {Local("ep-local", 100, "52:54:00:00:00:10", "h1", 1)}));
  cache.Apply(Config(5, 200, {}));
  cache.Apply(Update(6, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)));
  cache.Apply(Update(6, Loc("ep2", 100, "52:54:00:00:00:02", {"10.0.0.2"}, "192.0.2.2", 1)));
  cache.Apply(Update(6, Loc("ep3", 200, "52:54:00:00:00:03", {"10.0.0.3"}, "192.0.2.3", 1)));
  return cache;
}

ControllerMessage Reply(int64_t revision, dove::v1::ResolveReply::Status status,
                        const Location& l) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_resolve_reply()->set_query_id(1);
  m.mutable_resolve_reply()->set_status(status);
  *m.mutable_resolve_reply()->mutable_location() = l;
  return m;
}

ControllerMessage Moved(int64_t revision, const Location& l) {
  ControllerMessage m;
  m.set_revision(revision);
  *m.mutable_endpoint_moved()->mutable_location() = l;
  return m;
}

ControllerMessage Flood(int64_t revision, uint32_t vni, const std::string& ip) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_flood_list()->set_vni(vni);
  m.mutable_flood_list()->add_tunnel_ips(ip);
  return m;
}

ControllerMessage Removed(int64_t revision, uint32_t vni, const std::string& id) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_network_removed()->set_vni(vni);
  m.mutable_network_removed()->set_network_id(id);
  return m;
}

ControllerMessage InvalidateIp(int64_t revision, uint32_t vni, const std::string& ip) {
  ControllerMessage m = Invalidate(revision, "", vni, "");
  m.mutable_invalidate()->add_ips(ip);
  return m;
}

ControllerMessage Heartbeat(int64_t revision) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_heartbeat()->set_sequence(1);
  return m;
}

struct ChangeCase {
  const char* name;
  ControllerMessage message;  // applied to BaseCache()
  std::set<std::string> endpoints;
  std::set<uint32_t> networks;
  bool reset;
};

class ChangeReportTest : public testing::TestWithParam<ChangeCase> {};

TEST_P(ChangeReportTest, ListsExactlyWhatChanged) {
  const ChangeCase& c = GetParam();
  EndpointCache cache = BaseCache();
  CacheChanges changes;
  const bool changed = cache.Apply(c.message, &changes);
  EXPECT_EQ(changes.endpoints, c.endpoints);
  EXPECT_EQ(changes.networks, c.networks);
  EXPECT_EQ(changes.reset, c.reset);
  EXPECT_EQ(changed, !changes.empty()) << "Apply's answer and the report agree";
  // Every key listed is gone or different from before; every key not listed is as it was.
  EndpointCache before = BaseCache();
  for (const char* key : {"ep1", "ep2", "ep3", "ep4", "ep-local"}) {
    const CachedEndpoint* was = before.Find(key);
    const CachedEndpoint* now = cache.Find(key);
    const bool same = (was == nullptr && now == nullptr) ||
                      (was != nullptr && now != nullptr &&
                       was->location.SerializeAsString() == now->location.SerializeAsString() &&
                       was->revision == now->revision);
    if (c.endpoints.count(key) == 0 && !c.reset) {
      EXPECT_TRUE(same) << key << " changed unlisted";
    }
  }
}

const Location kEp4 = Loc("ep4", 100, "52:54:00:00:00:04", {"10.0.0.4"}, "192.0.2.4", 1);

INSTANTIATE_TEST_SUITE_P(
    Cases, ChangeReportTest,
    testing::Values(
        ChangeCase{"NewEndpoint", Update(7, kEp4), {"ep4"}, {}, false},
        ChangeCase{"Repeat",
                   Update(6, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.1", 1)),
                   {},
                   {},
                   false},
        ChangeCase{"Move",
                   Update(7, Loc("ep1", 100, kMac, {"10.0.0.1"}, "192.0.2.9", 2)),
                   {"ep1"},
                   {},
                   false},
        ChangeCase{
            "OlderVersion", Update(7, Loc("ep1", 100, kMac, {}, "192.0.2.9", 0)), {}, {}, false},
        ChangeCase{"TakesOverAMac",
                   Update(7, Loc("ep4", 100, kMac, {}, "192.0.2.4", 1)),
                   {"ep4", "ep1"},
                   {},
                   false},
        ChangeCase{"TakesOverAnIp",
                   Update(7, Loc("ep4", 100, "52:54:00:00:00:04", {"10.0.0.2"}, "192.0.2.4", 1)),
                   {"ep4", "ep2"},
                   {},
                   false},
        ChangeCase{"ResolveFound",
                   Reply(7, dove::v1::ResolveReply::STATUS_FOUND, kEp4),
                   {"ep4"},
                   {},
                   false},
        ChangeCase{"ResolveNotFound",
                   Reply(7, dove::v1::ResolveReply::STATUS_NOT_FOUND, kEp4),
                   {},
                   {},
                   false},
        ChangeCase{"InvalidateById", Invalidate(7, "ep1", 100, ""), {"ep1"}, {}, false},
        ChangeCase{
            "InvalidateByMac", Invalidate(7, "", 100, "52:54:00:00:00:02"), {"ep2"}, {}, false},
        ChangeCase{"InvalidateByIp", InvalidateIp(7, 200, "10.0.0.3"), {"ep3"}, {}, false},
        ChangeCase{"InvalidateOlder", Invalidate(5, "ep1", 100, ""), {}, {}, false},
        ChangeCase{"InvalidateUnknown", Invalidate(7, "ep9", 100, ""), {}, {}, false},
        ChangeCase{"InvalidateALocal", Invalidate(7, "ep-local", 100, ""), {"ep-local"}, {}, false},
        ChangeCase{"EndpointMovedAway",
                   Moved(7, Local("ep-local", 100, "52:54:00:00:00:10", "h2", 2)),
                   {"ep-local"},
                   {},
                   false},
        ChangeCase{"NetworkConfig",
                   Config(7, 100, {"192.0.2.8"}, {Local("ep5", 100, "52:54:00:00:00:05", "h1", 1)}),
                   {"ep-local", "ep5"},
                   {100},
                   false},
        ChangeCase{"NetworkConfigOlder", Config(4, 100, {}), {}, {}, false},
        ChangeCase{"FloodList", Flood(7, 100, "192.0.2.9"), {}, {100}, false},
        ChangeCase{"FloodListOfANewVni", Flood(7, 300, "192.0.2.9"), {}, {300}, false},
        ChangeCase{"NetworkRemoved", Removed(7, 100, ""), {"ep-local", "ep1", "ep2"}, {100}, false},
        ChangeCase{"NetworkRemovedById", Removed(7, 0, "net-200"), {"ep3"}, {200}, false},
        ChangeCase{"NetworkRemovedOlder", Removed(4, 100, ""), {}, {}, false},
        ChangeCase{"SnapshotWelcome", Welcome(7, true), {}, {}, true},
        ChangeCase{"IncrementalWelcome", Welcome(7, false), {}, {}, false},
        ChangeCase{"SyncDone", SyncDone(7), {}, {}, false},
        ChangeCase{"Heartbeat", Heartbeat(7), {}, {}, false}),
    [](const testing::TestParamInfo<ChangeCase>& param_info) { return param_info.param.name; });

TEST(EndpointCacheTest, ChangesAccumulateAndAResetSubsumesThem) {
  EndpointCache cache = BaseCache();
  CacheChanges changes;
  cache.Apply(Update(7, kEp4), &changes);
  cache.Apply(Flood(8, 100, "192.0.2.9"), &changes);
  EXPECT_EQ(changes.endpoints, std::set<std::string>{"ep4"});
  EXPECT_EQ(changes.networks, std::set<uint32_t>{100});

  CacheChanges cleared;
  cache.Clear(&cleared);
  cache.Apply(Update(9, kEp4), &cleared);  // after the reset: derived from the cache anyway
  EXPECT_TRUE(cleared.reset);
  EXPECT_TRUE(cleared.endpoints.empty());

  changes.Merge(cleared);
  EXPECT_TRUE(changes.reset);
  EXPECT_TRUE(changes.endpoints.empty());
  EXPECT_TRUE(changes.networks.empty());
  CacheChanges later;
  later.endpoints.insert("ep9");
  changes.Merge(later);
  EXPECT_TRUE(changes.endpoints.empty()) << "nothing to list after a reset";
  EXPECT_FALSE(changes.empty());

  CacheChanges plain;
  plain.endpoints.insert("ep1");
  plain.Merge(later);
  EXPECT_EQ(plain.endpoints, (std::set<std::string>{"ep1", "ep9"}));
}

TEST(EndpointCacheTest, LocalsAndPlacementsFollowTheConfigsAndLocations) {
  EndpointCache cache = BaseCache();
  ASSERT_EQ(cache.LocalsOf("ep-local").size(), 1u);
  EXPECT_EQ(cache.LocalsOf("ep-local")[0]->switch_name(), "h1");
  EXPECT_TRUE(cache.LocalsOf("ep1").empty());
  EXPECT_EQ(cache.KeysPlacedOn(100, "h1"), std::vector<std::string>{"ep-local"});

  // A cached Location on h1 in 200 and one in the local list of 200 too: both places.
  Location here = Local("ep6", 200, "52:54:00:00:00:06", "h1", 1);
  cache.Apply(Update(7, here));
  cache.Apply(Config(8, 200, {}, {here, Local("ep7", 200, "52:54:00:00:00:07", "h1", 1)}));
  EXPECT_EQ(cache.KeysPlacedOn(200, "h1"), (std::vector<std::string>{"ep6", "ep7"}));
  // The local list entry goes, the cached one still places ep6 there.
  cache.Apply(Invalidate(9, "", 200, "52:54:00:00:00:07"));  // a MAC invalidate: no local drop
  cache.Apply(Moved(10, Local("ep7", 200, "52:54:00:00:00:07", "h2", 2)));
  EXPECT_TRUE(cache.LocalsOf("ep7").empty());
  EXPECT_EQ(cache.KeysPlacedOn(200, "h1"), std::vector<std::string>{"ep6"});
  EXPECT_EQ(cache.KeysPlacedOn(200, "h2"), std::vector<std::string>{"ep7"});
  cache.Apply(Invalidate(11, "ep6", 200, ""));
  EXPECT_TRUE(cache.KeysPlacedOn(200, "h1").empty());
  EXPECT_TRUE(cache.LocalsOf("ep6").empty());

  cache.Apply(Removed(12, 100, ""));
  EXPECT_TRUE(cache.KeysPlacedOn(100, "h1").empty());
  EXPECT_TRUE(cache.LocalsOf("ep-local").empty());
  EXPECT_EQ(cache.Find("ep1"), nullptr);
  EXPECT_NE(cache.Find("ep3"), nullptr);
}

}  // namespace
ControllerMessage DomainDelta(int64_t revision, uint32_t vni, const std::vector<std::string>& added,
                              const std::vector<std::string>& removed) {
  ControllerMessage m;
  m.set_revision(revision);
  m.mutable_flood_list()->set_vni(vni);
  for (const auto& ip : added) m.mutable_flood_list()->add_domain_tunnel_ips_added(ip);
  for (const auto& ip : removed) m.mutable_flood_list()->add_domain_tunnel_ips_removed(ip);
  return m;
}

std::vector<std::string> DomainSetOf(const EndpointCache& cache, uint32_t vni) {
  const CachedNetwork* net = cache.FindNetwork(vni);
  if (net == nullptr || !net->config) return {};
  return {net->config->domain_tunnel_ips().begin(), net->config->domain_tunnel_ips().end()};
}

// FloodList carries the change of the domain set: applied to the config's whole set (from the
// NetworkConfig), sorted, without duplicates, idempotently.
TEST(EndpointCacheTest, AFloodListsDomainDeltaAppliesToTheConfigsSet) {
  EndpointCache cache;
  ControllerMessage config = Config(5, 100, {});
  for (const char* ip : {"192.0.2.5", "192.0.2.20"}) {
    config.mutable_network_config()->add_domain_tunnel_ips(ip);
  }
  cache.Apply(config);
  CacheChanges changes;
  EXPECT_TRUE(
      cache.Apply(DomainDelta(6, 100, {"192.0.2.3", "192.0.2.9"}, {"192.0.2.5"}), &changes));
  EXPECT_EQ(changes.networks, (std::set<uint32_t>{100}));
  EXPECT_EQ(DomainSetOf(cache, 100),
            (std::vector<std::string>{"192.0.2.20", "192.0.2.3", "192.0.2.9"}))
      << "sorted as the controller sorts (by text)";
  // Idempotent: adding a present IP, removing an absent one changes nothing.
  changes = {};
  EXPECT_TRUE(cache.Apply(DomainDelta(7, 100, {"192.0.2.3"}, {"192.0.2.5"}), &changes));
  EXPECT_EQ(DomainSetOf(cache, 100),
            (std::vector<std::string>{"192.0.2.20", "192.0.2.3", "192.0.2.9"}));
  // A FloodList without a delta keeps the set (its own list replaced).
  EXPECT_TRUE(cache.Apply(Flood(8, 100, "192.0.2.7")));
  EXPECT_EQ(DomainSetOf(cache, 100),
            (std::vector<std::string>{"192.0.2.20", "192.0.2.3", "192.0.2.9"}));
  EXPECT_EQ(cache.Network(100)->flood_tunnel_ips, std::vector<std::string>{"192.0.2.7"});
  // In stream order whatever the revision: a delta older than the config still applies (it is
  // relative to what came before it on the stream), its own list does not.
  ControllerMessage older = DomainDelta(3, 100, {"192.0.2.1"}, {"192.0.2.20"});
  older.mutable_flood_list()->add_tunnel_ips("192.0.2.99");
  EXPECT_TRUE(cache.Apply(older));
  EXPECT_EQ(DomainSetOf(cache, 100),
            (std::vector<std::string>{"192.0.2.1", "192.0.2.3", "192.0.2.9"}));
  EXPECT_EQ(cache.Network(100)->flood_tunnel_ips, std::vector<std::string>{"192.0.2.7"});
  EXPECT_FALSE(cache.Apply(DomainDelta(2, 100, {"192.0.2.1"}, {}))) << "a repeat: no change";
  // So does the whole set of an older config (the latest on the stream); the rest of it not.
  ControllerMessage stale = Config(4, 100, {"192.0.2.50"});
  stale.mutable_network_config()->add_domain_tunnel_ips("192.0.2.8");
  EXPECT_TRUE(cache.Apply(stale));
  EXPECT_EQ(DomainSetOf(cache, 100), std::vector<std::string>{"192.0.2.8"});
  EXPECT_EQ(cache.Network(100)->flood_tunnel_ips, std::vector<std::string>{"192.0.2.7"});
  EXPECT_FALSE(cache.Apply(stale)) << "the same set again: nothing changed";
  // A newer config replaces the set whole.
  cache.Apply(Config(9, 100, {}));
  EXPECT_TRUE(DomainSetOf(cache, 100).empty());
}

// The controller sends a round's delta once per switch, on one network of the domain: it
// applies to every config of that domain, not to another domain's.
TEST(EndpointCacheTest, ADomainDeltaAppliesToEveryConfigOfItsDomain) {
  EndpointCache cache;
  for (auto [vni, domain] : {std::pair{100u, "d1"}, std::pair{200u, "d1"}, std::pair{300u, "d2"}}) {
    ControllerMessage config = Config(5, vni, {});
    config.mutable_network_config()->mutable_network()->set_domain_id(domain);
    config.mutable_network_config()->add_domain_tunnel_ips("192.0.2.1");
    cache.Apply(config);
  }
  CacheChanges changes;
  EXPECT_TRUE(cache.Apply(DomainDelta(6, 100, {"192.0.2.2"}, {"192.0.2.1"}), &changes));
  EXPECT_EQ(DomainSetOf(cache, 100), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(DomainSetOf(cache, 200), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(DomainSetOf(cache, 300), std::vector<std::string>{"192.0.2.1"}) << "another domain";
  EXPECT_EQ(changes.networks, (std::set<uint32_t>{100, 200}));
}

// Before any NetworkConfig of the VNI the delta is kept nowhere: the config brings the set.
TEST(EndpointCacheTest, ADomainDeltaBeforeAnyConfigIsKeptNowhere) {
  EndpointCache cache;
  cache.Apply(DomainDelta(5, 100, {"192.0.2.3"}, {}));
  ASSERT_TRUE(cache.Network(100).has_value());
  EXPECT_FALSE(cache.Network(100)->config.has_value());
  ControllerMessage config = Config(6, 100, {});
  config.mutable_network_config()->add_domain_tunnel_ips("192.0.2.4");
  cache.Apply(config);
  EXPECT_EQ(DomainSetOf(cache, 100), std::vector<std::string>{"192.0.2.4"}) << "not .3";
  cache.Apply(Removed(7, 100, "net-100"));
  cache.Apply(DomainDelta(8, 100, {"192.0.2.5"}, {}));
  EXPECT_FALSE(cache.Network(100)->config.has_value()) << "a removed network stays without config";
}

dove::v1::RoutedSubnet Route(const std::string& cidr, uint32_t vni) {
  dove::v1::RoutedSubnet routed;
  routed.set_cidr(cidr);
  routed.set_vni(vni);
  routed.set_network_id("net-" + std::to_string(vni));
  return routed;
}

std::vector<std::string> RoutesOf(const EndpointCache& cache, uint32_t vni) {
  const CachedNetwork* net = cache.FindNetwork(vni);
  std::vector<std::string> routes;
  if (net == nullptr || !net->config) return routes;
  for (const auto& routed : net->config->domain_subnets()) {
    routes.push_back(routed.cidr() + " " + std::to_string(routed.vni()));
  }
  return routes;
}

ControllerMessage DomainConfig(int64_t revision, uint32_t vni, const std::string& domain,
                               const std::vector<dove::v1::RoutedSubnet>& routes,
                               const std::vector<std::string>& ips, bool omitted) {
  ControllerMessage config = Config(revision, vni, {});
  auto& body = *config.mutable_network_config();
  body.mutable_network()->set_domain_id(domain);
  for (const auto& routed : routes) *body.add_domain_subnets() = routed;
  for (const auto& ip : ips) body.add_domain_tunnel_ips(ip);
  body.set_domain_omitted(omitted);
  return config;
}

// The controller sends a domain's routes and tunnel IPs on the first config of the domain on a
// stream; the next configs of that domain omit them and take them from the one held.
TEST(EndpointCacheTest, AConfigThatOmitsTheDomainsPartsTakesThemFromTheDomainsOtherConfigs) {
  EndpointCache cache;
  cache.Apply(DomainConfig(5, 100, "d1", {Route("10.0.0.0/24", 100), Route("10.1.0.0/24", 200)},
                           {"192.0.2.1"}, false));
  cache.Apply(DomainConfig(5, 300, "d2", {Route("10.9.0.0/24", 300)}, {"192.0.2.9"}, false));
  CacheChanges changes;
  EXPECT_TRUE(cache.Apply(DomainConfig(6, 200, "d1", {}, {}, true), &changes));
  EXPECT_EQ(changes.networks, (std::set<uint32_t>{200}));
  EXPECT_EQ(RoutesOf(cache, 200), (std::vector<std::string>{"10.0.0.0/24 100", "10.1.0.0/24 200"}));
  EXPECT_EQ(DomainSetOf(cache, 200), std::vector<std::string>{"192.0.2.1"}) << "not d2's";
  EXPECT_FALSE(cache.FindNetwork(200)->config->domain_omitted()) << "held whole";
  // A refresh of 200 that omits them keeps them.
  EXPECT_TRUE(cache.Apply(DomainConfig(7, 200, "d1", {}, {}, true)));
  EXPECT_EQ(RoutesOf(cache, 200).size(), 2u);
  // A whole config (a new stream's first of the domain) sets them for every config of d1.
  changes = {};
  EXPECT_TRUE(cache.Apply(
      DomainConfig(8, 200, "d1", {Route("10.1.0.0/24", 200)}, {"192.0.2.2"}, false), &changes));
  EXPECT_EQ(changes.networks, (std::set<uint32_t>{100, 200}));
  EXPECT_EQ(RoutesOf(cache, 100), std::vector<std::string>{"10.1.0.0/24 200"});
  EXPECT_EQ(DomainSetOf(cache, 100), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(RoutesOf(cache, 300), std::vector<std::string>{"10.9.0.0/24 300"}) << "d2 untouched";
}

// DomainRoutes changes the routes of every config of its domain: removals, then additions
// (replacing the route of the same cidr), in stream order, idempotently.
TEST(EndpointCacheTest, DomainRoutesChangeEveryConfigOfTheDomainAndOnlyThose) {
  EndpointCache cache;
  cache.Apply(DomainConfig(5, 100, "d1", {Route("10.0.0.0/24", 100), Route("10.1.0.0/24", 200)}, {},
                           false));
  cache.Apply(DomainConfig(5, 200, "d1", {}, {}, true));
  cache.Apply(DomainConfig(5, 300, "d2", {Route("10.1.0.0/24", 300)}, {}, false));
  ControllerMessage change;
  change.set_revision(3);  // older than the configs: applies all the same (stream order)
  auto& routes = *change.mutable_domain_routes();
  routes.set_domain_id("d1");
  routes.add_removed("10.0.0.0/24");
  *routes.add_added() = Route("10.1.0.0/24", 250);  // its network's VNI changed
  *routes.add_added() = Route("10.2.0.0/24", 300);
  CacheChanges changes;
  EXPECT_TRUE(cache.Apply(change, &changes));
  EXPECT_EQ(changes.networks, (std::set<uint32_t>{100, 200}));
  for (uint32_t vni : {100u, 200u}) {
    EXPECT_EQ(RoutesOf(cache, vni),
              (std::vector<std::string>{"10.1.0.0/24 250", "10.2.0.0/24 300"}))
        << vni;
  }
  EXPECT_EQ(RoutesOf(cache, 300), std::vector<std::string>{"10.1.0.0/24 300"}) << "another domain";
  changes = {};
  EXPECT_FALSE(cache.Apply(change, &changes)) << "a repeat changes nothing";
  EXPECT_TRUE(changes.networks.empty());
}

}  // namespace dove::dswitch::agent
