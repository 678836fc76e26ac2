// DeriveDesiredState: which endpoints become this switch's ports, which are remotes, and the
// newest word on each winning.
#include "dswitch/userspace/desired_state.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>

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

agent::CachedNetwork Network(const std::vector<dove::v1::Location>& locals) {
  agent::CachedNetwork network;
  network.vni = 100;
  dove::v1::NetworkConfig config;
  config.mutable_network()->set_id("net-1");
  config.mutable_network()->set_vni(100);
  config.set_router_mac("02:00:00:00:00:aa");
  for (const auto& local : locals) *config.add_local_endpoints() = local;
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

// --- DeriveDelta against DeriveDesiredState, over random message sequences. ---

// The desired state as the data plane would hold it, by key: what applying deltas builds, and
// what a full derivation is turned into to compare. Entries are printed, so a mismatch shows.
struct Model {
  std::map<std::string, std::string> ports;
  std::map<std::string, std::string> remotes;
  std::map<uint32_t, std::string> networks;
};

std::string Print(const std::vector<net::IpAddress>& ips) {
  std::string out;
  for (const auto& ip : ips) out += ip.ToString() + ",";
  return out;
}
std::string Print(const DesiredPort& port) {
  return port.key + " " + port.port_name + " " + port.mac.ToString() + " " + Print(port.ips) +
         " {" + port.location.ShortDebugString() + "}";
}
std::string Print(const DesiredRemote& remote) {
  return remote.key + " " + std::to_string(remote.vni) + " " + remote.mac.ToString() + " " +
         remote.tunnel_ip.ToString() + " " + Print(remote.ips);
}
std::string Print(const DesiredNetwork& network) {
  std::string out = std::to_string(network.vni) + " " + network.network_id + " " +
                    network.router_mac.ToString() + " ";
  for (const auto& ip : network.flood_tunnel_ips) out += ip.ToString() + ",";
  return out;
}

Model ModelOf(const DesiredState& state) {
  Model model;
  for (const auto& port : state.ports) model.ports[port.key] = Print(port);
  for (const auto& remote : state.remotes) model.remotes[remote.key] = Print(remote);
  for (const auto& network : state.networks) model.networks[network.vni] = Print(network);
  return model;
}

void ApplyDelta(const DesiredDelta& delta, Model& model) {
  if (delta.reset) model = Model();
  for (const auto& key : delta.removed_ports) model.ports.erase(key);
  for (const auto& key : delta.removed_remotes) model.remotes.erase(key);
  for (uint32_t vni : delta.removed_networks) model.networks.erase(vni);
  for (const auto& port : delta.upserted_ports) model.ports[port.key] = Print(port);
  for (const auto& remote : delta.upserted_remotes) model.remotes[remote.key] = Print(remote);
  for (const auto& network : delta.upserted_networks) model.networks[network.vni] = Print(network);
}

// Messages over a small world, so that keys, MACs and IPs collide (takeovers), versions and
// revisions go backwards now and then, locations name this switch ("h1") or others, and
// some addresses do not parse.
class MessageGenerator {
 public:
  explicit MessageGenerator(uint32_t seed) : random_(seed) {}

  dove::v1::ControllerMessage Next() {
    dove::v1::ControllerMessage m;
    // Mostly forward, sometimes an older revision (a late message).
    revision_ += Pick(4) == 0 ? 0 : 1;
    m.set_revision(Pick(10) == 0 ? std::max<int64_t>(1, revision_ - 3) : revision_);
    switch (Pick(20)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        *m.mutable_location_update()->mutable_location() = Location();
        break;
      case 5:
      case 6: {
        auto* reply = m.mutable_resolve_reply();
        reply->set_query_id(1);
        reply->set_status(Pick(4) == 0 ? dove::v1::ResolveReply::STATUS_NOT_FOUND
                                       : dove::v1::ResolveReply::STATUS_FOUND);
        *reply->mutable_location() = Location();
        break;
      }
      case 7:
      case 8: {
        auto* invalidate = m.mutable_invalidate();
        invalidate->set_vni(Vni());
        switch (Pick(3)) {
          case 0:
            invalidate->set_endpoint_id(Id());
            break;
          case 1:
            invalidate->set_mac(Mac());
            break;
          default:
            invalidate->add_ips(Ip());
        }
        break;
      }
      case 9:
      case 10:
        *m.mutable_endpoint_moved()->mutable_location() = Location();
        break;
      case 11:
      case 12:
      case 13: {
        auto* config = m.mutable_network_config();
        const uint32_t vni = Vni();
        config->mutable_network()->set_vni(vni);
        config->mutable_network()->set_id("net-" + std::to_string(vni));
        config->set_router_mac(Pick(5) == 0 ? "bad" : "02:00:00:00:00:aa");
        for (int i = Pick(3); i > 0; --i) config->add_flood_tunnel_ips(Tunnel());
        for (int i = Pick(4); i > 0; --i) {
          auto local = Location();
          local.set_vni(Pick(6) == 0 ? Vni() : vni);  // now and then one of another VNI
          local.set_switch_name(Pick(4) == 0 ? "h2" : "h1");
          *config->add_local_endpoints() = local;
        }
        break;
      }
      case 14: {
        auto* removed = m.mutable_network_removed();
        const uint32_t vni = Vni();
        if (Pick(2) == 0) {
          removed->set_vni(vni);
        } else {
          removed->set_network_id("net-" + std::to_string(vni));
        }
        break;
      }
      case 15:
      case 16: {
        auto* flood = m.mutable_flood_list();
        flood->set_vni(Vni());
        for (int i = Pick(3); i > 0; --i) flood->add_tunnel_ips(Tunnel());
        break;
      }
      case 17:
        if (Pick(8) == 0) {
          m.mutable_welcome()->set_snapshot(Pick(2) == 0);
        } else {
          m.mutable_heartbeat()->set_sequence(1);
        }
        break;
      default:
        m.mutable_sync_done();
    }
    return m;
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  uint32_t Vni() { return 100 + 100 * static_cast<uint32_t>(Pick(3)); }
  std::string Id() { return Pick(8) == 0 ? "" : "ep" + std::to_string(Pick(10)); }
  std::string Mac() {
    if (Pick(30) == 0) return "not-a-mac";
    // Upper and lower case: one MAC either way (keys of endpoints without id normalize it).
    return std::string(Pick(2) == 0 ? "52:54:00:00:00:a" : "52:54:00:00:00:A") +
           std::to_string(Pick(8));
  }
  std::string Ip() { return Pick(30) == 0 ? "10.0.0.x" : "10.0.0." + std::to_string(Pick(8)); }
  std::string Tunnel() {
    switch (Pick(12)) {
      case 0:
        return "";
      case 1:
        return "2001:db8::1";
      default:
        return "192.0.2." + std::to_string(Pick(4));
    }
  }
  dove::v1::Location Location() {
    dove::v1::Location l;
    l.set_endpoint_id(Id());
    l.set_vni(Vni());
    l.set_mac(Mac());
    for (int i = Pick(3); i > 0; --i) l.add_ips(Ip());
    static const char* const kSwitches[] = {"h1", "h2", "h3", ""};
    l.set_switch_name(kSwitches[Pick(4)]);
    l.set_tunnel_ip(Tunnel());
    l.set_port_name(Pick(2) == 0 ? "" : "tap" + std::to_string(Pick(4)));
    l.set_version(static_cast<uint32_t>(Pick(6)));
    return l;
  }

  std::mt19937 random_;
  int64_t revision_ = 1;
};

TEST(DesiredDeltaTest, DeltasOfEachStepAddUpToTheFullDerivation) {
  size_t ports_seen = 0;
  size_t remotes_seen = 0;
  size_t resets = 0;
  size_t removals = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    MessageGenerator generate(seed);
    agent::EndpointCache cache;
    Model model;
    for (int step = 0; step < 400; ++step) {
      const dove::v1::ControllerMessage message = generate.Next();
      agent::CacheChanges changes;
      const bool changed = cache.Apply(message, &changes);
      ASSERT_EQ(changed, !changes.empty()) << message.ShortDebugString();
      const DesiredDelta delta = DeriveDelta(cache, changes, "h1");
      ApplyDelta(delta, model);
      resets += delta.reset ? 1 : 0;
      removals += delta.removed_ports.size() + delta.removed_remotes.size();

      const Model full = ModelOf(DeriveDesiredState(cache.Dump(), "h1"));
      ASSERT_EQ(model.ports, full.ports)
          << "seed " << seed << " step " << step << ": " << message.ShortDebugString();
      ASSERT_EQ(model.remotes, full.remotes)
          << "seed " << seed << " step " << step << ": " << message.ShortDebugString();
      ASSERT_EQ(model.networks, full.networks)
          << "seed " << seed << " step " << step << ": " << message.ShortDebugString();
      ports_seen += full.ports.size();
      remotes_seen += full.remotes.size();
    }
  }
  // The sequences reached the cases that matter (a generator producing nothing proves nothing).
  EXPECT_GT(ports_seen, 1000u);
  EXPECT_GT(remotes_seen, 1000u);
  EXPECT_GT(resets, 5u);
  EXPECT_GT(removals, 1000u);
}

TEST(DesiredDeltaTest, AMoveToAnotherSwitchIsARemovedPortAndAnUpsertedRemote) {
  agent::EndpointCache cache;
  dove::v1::ControllerMessage config;
  config.set_revision(1);
  *config.mutable_network_config() = *Network({}).config;
  cache.Apply(config);
  dove::v1::ControllerMessage here;
  here.set_revision(2);
  *here.mutable_location_update()->mutable_location() =
      Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h1", "192.0.2.11", 1, "t-a");
  agent::CacheChanges changes;
  cache.Apply(here, &changes);
  DesiredDelta delta = DeriveDelta(cache, changes, "h1");
  ASSERT_EQ(delta.upserted_ports.size(), 1u);
  EXPECT_EQ(delta.upserted_ports[0].key, "ep-a");
  EXPECT_EQ(delta.upserted_ports[0].port_name, "t-a");
  EXPECT_EQ(delta.removed_remotes, std::vector<std::string>{"ep-a"});

  dove::v1::ControllerMessage moved;
  moved.set_revision(3);
  *moved.mutable_endpoint_moved()->mutable_location() =
      Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h2", "192.0.2.12", 2);
  changes = {};
  cache.Apply(moved, &changes);
  delta = DeriveDelta(cache, changes, "h1");
  EXPECT_EQ(delta.removed_ports, std::vector<std::string>{"ep-a"});
  ASSERT_EQ(delta.upserted_remotes.size(), 1u);
  EXPECT_EQ(delta.upserted_remotes[0].key, "ep-a");
  EXPECT_EQ(delta.upserted_remotes[0].tunnel_ip.ToString(), "192.0.2.12");
  EXPECT_TRUE(delta.upserted_networks.empty()) << "the network did not change";
}

TEST(DesiredDeltaTest, AConfigArrivingMakesTheWaitingEndpointsPorts) {
  agent::EndpointCache cache;
  dove::v1::ControllerMessage here;
  here.set_revision(1);
  *here.mutable_location_update()->mutable_location() =
      Loc("ep-a", "02:00:00:00:00:01", "10.0.0.1", "h1", "", 1);
  agent::CacheChanges changes;
  cache.Apply(here, &changes);
  DesiredDelta delta = DeriveDelta(cache, changes, "h1");
  EXPECT_TRUE(delta.upserted_ports.empty());
  ASSERT_EQ(delta.skipped.size(), 1u);
  EXPECT_NE(delta.skipped[0].find("no config for VNI 100"), std::string::npos);

  dove::v1::ControllerMessage config;
  config.set_revision(2);
  *config.mutable_network_config() = *Network({}).config;
  changes = {};
  cache.Apply(config, &changes);
  EXPECT_TRUE(changes.endpoints.empty()) << "the config lists no endpoint";
  delta = DeriveDelta(cache, changes, "h1");
  ASSERT_EQ(delta.upserted_networks.size(), 1u);
  ASSERT_EQ(delta.upserted_ports.size(), 1u) << "found through the network's placements";
  EXPECT_EQ(delta.upserted_ports[0].port_name, "dvepa");
}

}  // namespace
}  // namespace dove::dswitch::userspace
