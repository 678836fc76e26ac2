// The Directory's side of the distributed router (issue 14): a NetworkConfig carries every
// subnet of the domain and the domain's tunnel IPs (as published by the domain's last round),
// FloodLists carry the change of that set at each round; both follow the domain's changes to
// every switch with a port in any of its networks, and a switch applying them in stream order
// always holds the published set; ResolveIp is
// domain-wide and FOUND when some policy could let traffic pass between the two networks
// (model::MayExchange); another tenant's subnets, switches and IPs never show.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "dswitch/agent/endpoint_cache.h"
#include "unit/southbound/directory_fixture.h"

namespace dove::controller::southbound::directory_test {
namespace {

// Domain acme (d1): web (100), db (200), app (300, 10.2.0.0/24, gateway 10.2.0.1, with app1).
// Domain other (d2): far (400) on 10.0.0.0/24 (web's prefix) and 10.9.0.0/24, with far1 on
// vm1's address 10.0.0.11 and far2 on 10.9.0.5.
// Sessions: 1 host-a (web: vm1), 2 host-b (db: db1), 3 host-c (app: app1), 9 host-far (far:
// far1), connected and placed by Build().
class DomainRouterTest : public CatchUpTest {
 protected:
  void SetUp() override {
    CatchUpTest::SetUp();
    if (HasFatalFailure()) return;
    AddNetwork("app", "d1", 300, "10.2.0.0/24", "10.2.0.1");
    AddEndpoint("app1", "app", "52:54:00:00:02:01", "10.2.0.11");
    v1::Domain other;
    other.set_id("d2");
    other.set_name("other");
    ASSERT_TRUE(registry_->Create(other));
    AddNetwork("far", "d2", 400, "10.0.0.0/24", "10.0.0.1");
    v1::Subnet second;
    second.set_id("far-b");
    second.set_network_id("far");
    second.set_cidr("10.9.0.0/24");
    ASSERT_TRUE(registry_->Create(second));
    AddEndpoint("far1", "far", "52:54:00:00:04:01", "10.0.0.11");
    AddEndpoint("far2", "far", "52:54:00:00:04:02", "10.9.0.5");
    directory_ = std::make_unique<Directory>(registry_.get(), &store_, TestOptions());
    pumped_ = registry_->Revision();
  }

  void AddNetwork(const std::string& id, const std::string& domain, uint32_t vni,
                  const std::string& cidr, const std::string& gateway) {
    v1::Network network;
    network.set_id(id);
    network.set_domain_id(domain);
    network.set_name(id);
    network.set_vni(vni);
    ASSERT_TRUE(registry_->Create(network));
    v1::Subnet subnet;
    subnet.set_id(id + "-v4");
    subnet.set_network_id(id);
    subnet.set_cidr(cidr);
    subnet.set_gateway(gateway);
    ASSERT_TRUE(registry_->Create(subnet));
  }

  // The four switches, each with one port; returns the output of the last placement.
  Output Build() {
    Connect(9, "host-far", "192.0.2.9");
    Take(9, "far1", "tapf");
    Connect(2, "host-b", "192.0.2.2");
    Take(2, "db1", "tapb");
    Connect(3, "host-c", "192.0.2.3");
    Take(3, "app1", "tapc");
    Connect(1, "host-a", "192.0.2.1");
    Output out = Take(1, "vm1", "tap1");
    Pump();  // the placements, already reported by the attaches
    return out;
  }

  void CreatePolicy(const std::string& id, const std::string& source,
                    const std::string& destination, v1::Policy::Action action,
                    uint32_t priority = 0, uint32_t protocol = 0, uint32_t port = 0) {
    ASSERT_TRUE(
        registry_->Create(MakePolicy(id, source, destination, action, priority, protocol, port)));
  }

  static v1::Policy MakePolicy(const std::string& id, const std::string& source,
                               const std::string& destination, v1::Policy::Action action,
                               uint32_t priority = 0, uint32_t protocol = 0, uint32_t port = 0) {
    v1::Policy policy;
    policy.set_id(id);
    policy.set_domain_id("d1");
    policy.set_source_network_id(source);
    policy.set_destination_network_id(destination);
    policy.set_action(action);
    policy.set_priority(priority);
    policy.set_protocol(protocol);
    if (port != 0) {
      policy.mutable_port_range()->set_first(port);
      policy.mutable_port_range()->set_last(port);
    }
    return policy;
  }

  // The last NetworkConfig of `network_id` sent to `session` in `out`.
  static std::optional<v1::NetworkConfig> ConfigIn(const Output& out, SessionId session,
                                                   const std::string& network_id) {
    std::optional<v1::NetworkConfig> config;
    for (const auto& message : For(out, session)) {
      if (message.has_network_config() && message.network_config().network().id() == network_id) {
        config = message.network_config();
      }
    }
    return config;
  }

  // The FloodLists sent to `session` in `out`.
  static std::vector<v1::FloodList> FloodListsIn(const Output& out, SessionId session) {
    std::vector<v1::FloodList> lists;
    for (const auto& message : For(out, session)) {
      if (message.has_flood_list()) lists.push_back(message.flood_list());
    }
    return lists;
  }

  // "cidr vni network gateway" of each routed subnet.
  static std::set<std::string> Routes(const v1::NetworkConfig& config) {
    std::set<std::string> routes;
    for (const auto& subnet : config.domain_subnets()) {
      routes.insert(subnet.cidr() + " " + std::to_string(subnet.vni()) + " " + subnet.network_id() +
                    " " + subnet.gateway());
    }
    return routes;
  }

  static std::vector<std::string> Ips(const google::protobuf::RepeatedPtrField<std::string>& in) {
    return {in.begin(), in.end()};
  }

  // The config `session` holds for `vni`, as a real switch cache (agent::EndpointCache)
  // applying every message sent to it so far (sent_), in order. nullopt: no config.
  std::optional<v1::NetworkConfig> HeldConfig(SessionId session, uint32_t vni) const {
    dswitch::agent::EndpointCache cache;
    for (const auto& each : sent_) {
      if (each.session == session) cache.Apply(each.message);
    }
    const auto* network = cache.FindNetwork(vni);
    if (network == nullptr || !network->config) return std::nullopt;
    return network->config;
  }
  // The domain set `session` holds for `vni`.
  std::optional<std::vector<std::string>> Held(SessionId session, uint32_t vni) const {
    auto config = HeldConfig(session, vni);
    if (!config) return std::nullopt;
    const auto& ips = config->domain_tunnel_ips();
    std::vector<std::string> held(ips.begin(), ips.end());
    EXPECT_TRUE(std::is_sorted(held.begin(), held.end()));
    EXPECT_EQ(std::adjacent_find(held.begin(), held.end()), held.end()) << "a duplicate";
    return held;
  }
  // The routes `session` holds for `vni` ("cidr vni network gateway"); empty: no config.
  std::set<std::string> HeldRoutes(SessionId session, uint32_t vni) const {
    auto config = HeldConfig(session, vni);
    return config ? Routes(*config) : std::set<std::string>();
  }
  // The DomainRoutes sent to `session` in `out`.
  static std::vector<v1::DomainRoutes> DomainRoutesIn(const Output& out, SessionId session) {
    std::vector<v1::DomainRoutes> changes;
    for (const auto& message : For(out, session)) {
      if (message.has_domain_routes()) changes.push_back(message.domain_routes());
    }
    return changes;
  }
  using IpList = std::vector<std::string>;

  // The reply to a ResolveIp of `ip` by `session` in `vni`.
  v1::ResolveReply ResolveIpAs(SessionId session, uint32_t vni, const std::string& ip) {
    return Resolved(Send(session, ResolveIp(++query_, vni, ip)), session);
  }

  uint64_t query_ = 0;
};

const std::set<std::string> kAcmeRoutes = {"10.0.0.0/24 100 web ", "10.1.0.0/24 200 db ",
                                           "10.2.0.0/24 300 app 10.2.0.1"};

TEST_F(DomainRouterTest, ASwitchOfOneNetworkGetsTheWholeDomainsSubnetsAndSwitches) {
  const Output placed = Build();
  auto config = ConfigIn(placed, 1, "web");
  ASSERT_TRUE(config) << "host-a's first port in web brings web's configuration";
  EXPECT_EQ(Routes(*config), kAcmeRoutes) << "db's and app's subnets with their VNIs; not far's";
  // host-b (only db) and host-c (only app): the domain's other switches; never host-far.
  EXPECT_EQ(Ips(config->domain_tunnel_ips()), (std::vector<std::string>{"192.0.2.2", "192.0.2.3"}));
  EXPECT_TRUE(config->flood_tunnel_ips().empty()) << "nobody else has a port in web";

  // A fresh Hello says the same.
  Disconnect(1);
  const Output rejoined = Send(4, Hello("host-a", "192.0.2.1"));
  config = ConfigIn(rejoined, 4, "web");
  ASSERT_TRUE(config);
  EXPECT_EQ(Routes(*config), kAcmeRoutes);
  EXPECT_EQ(Ips(config->domain_tunnel_ips()), (std::vector<std::string>{"192.0.2.2", "192.0.2.3"}));

  // The other tenant's switch sees only its own domain, although its subnet is web's prefix.
  Disconnect(9);
  const Output far = Send(10, Hello("host-far", "192.0.2.9"));
  config = ConfigIn(far, 10, "far");
  ASSERT_TRUE(config);
  EXPECT_EQ(Routes(*config),
            (std::set<std::string>{"10.0.0.0/24 400 far 10.0.0.1", "10.9.0.0/24 400 far "}));
  EXPECT_TRUE(config->domain_tunnel_ips().empty());
}

TEST_F(DomainRouterTest, PlacementInAnotherNetworkOfTheDomainReachesEveryoneAsAFloodList) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  Connect(9, "host-far", "192.0.2.9");
  Take(9, "far1", "tapf");
  Connect(2, "host-b", "192.0.2.2");
  const Output placed = Take(2, "db1", "tapb");
  auto lists = FloodListsIn(placed, 1);
  ASSERT_EQ(lists.size(), 1u) << "host-a hears of host-b's first port in the domain";
  EXPECT_EQ(lists[0].vni(), 100u);
  EXPECT_TRUE(lists[0].tunnel_ips().empty()) << "web's own list: host-b has no port in web";
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), IpList{"192.0.2.2"}) << "the change only";
  EXPECT_TRUE(lists[0].domain_tunnel_ips_removed().empty());
  EXPECT_EQ(Held(1, 100), IpList{"192.0.2.2"});
  EXPECT_TRUE(For(placed, 9).empty()) << "another tenant's switch hears nothing";
  auto config = ConfigIn(placed, 2, "db");
  ASSERT_TRUE(config);
  EXPECT_EQ(Ips(config->domain_tunnel_ips()), (std::vector<std::string>{"192.0.2.1"}));

  // A second port of host-b in the domain changes no set: nothing to host-a (a count per
  // switch, not a scan).
  AddEndpoint("db2", "db", "52:54:00:00:01:02", "10.1.0.12");
  const Output second = Take(2, "db2", "tapb2");
  EXPECT_TRUE(FloodListsIn(second, 1).empty());
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("db2", false));
  EXPECT_TRUE(FloodListsIn(Pump(), 1).empty());

  // Its last port leaving the domain: host-a's set is empty again.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("db1", false));
  const Output gone = Pump();
  lists = FloodListsIn(gone, 1);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_TRUE(lists[0].domain_tunnel_ips_added().empty());
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_removed()), IpList{"192.0.2.2"});
  EXPECT_EQ(Held(1, 100), IpList{});
  EXPECT_TRUE(For(gone, 9).empty());
}

TEST_F(DomainRouterTest, ASwitchGoingDownLeavesTheDomainSetAndComesBack) {
  Build();
  const Output down = Disconnect(2);
  for (SessionId session : {1, 3}) {
    auto lists = FloodListsIn(down, session);
    ASSERT_EQ(lists.size(), 1u) << session;
    EXPECT_TRUE(lists[0].tunnel_ips().empty()) << session;
    EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_removed()), IpList{"192.0.2.2"}) << session;
    EXPECT_TRUE(lists[0].domain_tunnel_ips_added().empty()) << session;
  }
  EXPECT_EQ(Held(1, 100), IpList{"192.0.2.3"});
  EXPECT_EQ(Held(3, 300), IpList{"192.0.2.1"});
  EXPECT_TRUE(For(down, 9).empty());

  const Output up = Send(5, Hello("host-b", "192.0.2.2"));
  auto lists = FloodListsIn(up, 1);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), IpList{"192.0.2.2"});
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.3"}));
  EXPECT_EQ(Held(5, 200), (IpList{"192.0.2.1", "192.0.2.3"})) << "host-b's new stream: its config";
  EXPECT_TRUE(For(up, 9).empty());

  // A new tunnel IP of host-b (a new stream from another address) reaches them the same way.
  Disconnect(5);
  const Output moved = Send(6, Hello("host-b", "192.0.2.22"));
  lists = FloodListsIn(moved, 3);
  ASSERT_FALSE(lists.empty());
  EXPECT_EQ(Held(3, 300), (IpList{"192.0.2.1", "192.0.2.22"}));
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.22", "192.0.2.3"}));
  EXPECT_EQ(Held(6, 200), (IpList{"192.0.2.1", "192.0.2.3"}));
}

// A storm of changes of the domain's set (here three switches joining at one instant) is
// coalesced: the first round goes at once, the others make one round at the first tick after
// domain_round_interval, one delta to each switch; the network whose own list changed hears
// its own list at once all the same (without a delta: the domain set moves at rounds only).
TEST_F(DomainRouterTest, AStormOfDomainChangesIsCoalescedIntoOneRoundPerInterval) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 100ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Connect(1, "host-a", "192.0.2.1");
  const Output first = Take(1, "vm1", "tap1");
  auto lists = FloodListsIn(first, 1);
  ASSERT_EQ(lists.size(), 1u) << "web's own list";
  EXPECT_TRUE(lists[0].domain_tunnel_ips_added().empty())
      << "the domain's first switch: nobody held a set, no round spent";
  Connect(2, "host-b", "192.0.2.2");
  const Output second = Take(2, "db1", "tapb");
  lists = FloodListsIn(second, 1);
  ASSERT_EQ(lists.size(), 1u) << "the first change of the set: its round at once";
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), IpList{"192.0.2.2"});
  Connect(3, "host-c", "192.0.2.3");
  const Output third = Take(3, "app1", "tapc");
  Connect(4, "host-d", "192.0.2.4");
  AddEndpoint("app2", "app", "52:54:00:00:02:02", "10.2.0.12");
  const Output fourth = Take(4, "app2", "tapd");
  EXPECT_TRUE(FloodListsIn(third, 1).empty()) << "held back: within the interval";
  EXPECT_TRUE(FloodListsIn(third, 2).empty());
  EXPECT_TRUE(FloodListsIn(fourth, 1).empty());
  // The network whose own list changed hears at once; its domain set is the published one.
  lists = FloodListsIn(fourth, 3);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].vni(), 300u);
  EXPECT_EQ(Ips(lists[0].tunnel_ips()), IpList{"192.0.2.4"});
  EXPECT_TRUE(lists[0].domain_tunnel_ips_added().empty());
  EXPECT_TRUE(lists[0].domain_tunnel_ips_removed().empty());
  EXPECT_EQ(Held(3, 300), (IpList{"192.0.2.1", "192.0.2.2"})) << "the set of the last round";
  EXPECT_EQ(Held(4, 300), (IpList{"192.0.2.1", "192.0.2.2"}));

  EXPECT_TRUE(Tick(now_ + 50ms).messages.empty()) << "the interval has not passed";
  const Output round = Tick(now_ + 100ms);
  for (const auto& [session, added, others] : std::vector<std::tuple<SessionId, IpList, IpList>>{
           {1, {"192.0.2.3", "192.0.2.4"}, {"192.0.2.2", "192.0.2.3", "192.0.2.4"}},
           {2, {"192.0.2.3", "192.0.2.4"}, {"192.0.2.1", "192.0.2.3", "192.0.2.4"}},
           {3, {"192.0.2.4"}, {"192.0.2.1", "192.0.2.2", "192.0.2.4"}},
           {4, {"192.0.2.3"}, {"192.0.2.1", "192.0.2.2", "192.0.2.3"}}}) {
    lists = FloodListsIn(round, session);
    ASSERT_EQ(lists.size(), 1u) << "one round for the two held-back changes, session " << session;
    EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), added) << session;
    EXPECT_TRUE(lists[0].domain_tunnel_ips_removed().empty()) << session;
    EXPECT_EQ(Held(session, lists[0].vni()), others) << session;
  }
  EXPECT_EQ(round.messages.size(), 4u);
  EXPECT_TRUE(Tick(now_ + 300ms).messages.empty()) << "nothing held back any more";

  // A lone change after a quiet interval goes at once.
  const Output down = Disconnect(3, now_ + 400ms);
  lists = FloodListsIn(down, 1);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_removed()), IpList{"192.0.2.3"});
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.4"}));
}

// A round is one message to every switch of the domain, so a large domain's rounds are spaced
// by domain_round_per_switch x its switches (1000 switches, 1 ms: one round a second).
TEST_F(DomainRouterTest, ALargerDomainHasLongerRoundIntervals) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 0ms;
  options.domain_round_per_switch = 50ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  Connect(2, "host-b", "192.0.2.2");
  const Output second = Take(2, "db1", "tapb");
  ASSERT_EQ(FloodListsIn(second, 1).size(), 1u) << "the first change of the set: at once";
  Connect(3, "host-c", "192.0.2.3");
  const Output third = Take(3, "app1", "tapc");
  EXPECT_TRUE(FloodListsIn(third, 1).empty()) << "held back: 3 switches x 50 ms";
  EXPECT_TRUE(FloodListsIn(Tick(now_ + 100ms), 1).empty()) << "not after 100 ms";
  const Output round = Tick(now_ + 150ms);
  const auto lists = FloodListsIn(round, 1);
  ASSERT_EQ(lists.size(), 1u) << "after 150 ms";
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), IpList{"192.0.2.3"});
}

// A switch configured in the middle of an interval (a round held back) gets the set of the
// last round, not the live one: the next round's delta, computed against that set, then gives
// it exactly the right set (neither missing a switch that joined before it was configured nor
// keeping one that left).
TEST_F(DomainRouterTest, ASwitchConfiguredMidRoundEndsWithTheRightSet) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 100ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  Connect(3, "host-c", "192.0.2.3");
  Take(3, "app1", "tapc");  // the domain's first round, at once
  Tick(now_ + 100ms);
  ASSERT_EQ(Held(1, 100), IpList{"192.0.2.3"});
  // Within the next interval: host-c leaves (DOWN), host-e joins, then host-b is configured.
  Disconnect(3, now_ + 110ms);  // a round at once (the interval since the last one passed)
  Connect(5, "host-e", "192.0.2.5");
  AddEndpoint("app2", "app", "52:54:00:00:02:02", "10.2.0.12");
  Take(5, "app2", "tape");  // held back
  Connect(2, "host-b", "192.0.2.2");
  const Output configured = Take(2, "db1", "tapb");  // held back
  auto config = ConfigIn(configured, 2, "db");
  ASSERT_TRUE(config);
  EXPECT_EQ(Ips(config->domain_tunnel_ips()), IpList{"192.0.2.1"})
      << "the published set: host-e's join is not in it yet, host-c's leave is";
  const Output round = Tick(now_ + 250ms);
  auto lists = FloodListsIn(round, 2);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), IpList{"192.0.2.5"});
  EXPECT_TRUE(lists[0].domain_tunnel_ips_removed().empty()) << "host-c left before: not again";
  EXPECT_EQ(Held(2, 200), (IpList{"192.0.2.1", "192.0.2.5"}));
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.5"}));
  EXPECT_EQ(Held(5, 300), (IpList{"192.0.2.1", "192.0.2.2"}));
}

// A switch going DOWN and UP again within one interval changes nothing any switch holds: no
// delta at all. DOWN in one round and UP in the next: removed, then added.
TEST_F(DomainRouterTest, ASwitchGoingDownAndUpAgainWithinAnIntervalSendsNoDelta) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 100ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Build();
  Tick(now_ + 1s);  // whatever Build() held back
  ASSERT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.3"}));
  Output down = Disconnect(2, now_ + 2s);  // a round at once
  ASSERT_EQ(FloodListsIn(down, 1).size(), 1u);
  EXPECT_EQ(Ips(FloodListsIn(down, 1)[0].domain_tunnel_ips_removed()), IpList{"192.0.2.2"});
  const Output up = SendAt(5, Hello("host-b", "192.0.2.2"), now_ + 2s + 10ms);  // held back
  EXPECT_TRUE(FloodListsIn(up, 1).empty());
  EXPECT_EQ(Held(5, 200), (IpList{"192.0.2.1", "192.0.2.3"}));
  Disconnect(5, now_ + 2s + 20ms);  // DOWN again, within the interval
  const Output quiet = Tick(now_ + 2s + 150ms);
  for (const auto& each : quiet.messages) {
    EXPECT_FALSE(each.message.has_flood_list() || !each.encoded.empty())
        << "the set is as published: no round, session " << each.session;
  }
  EXPECT_EQ(Held(1, 100), IpList{"192.0.2.3"});
  // UP again for good, after a quiet interval: at once.
  const Output back = SendAt(6, Hello("host-b", "192.0.2.2"), now_ + 3s);
  ASSERT_EQ(FloodListsIn(back, 1).size(), 1u);
  EXPECT_EQ(Ips(FloodListsIn(back, 1)[0].domain_tunnel_ips_added()), IpList{"192.0.2.2"});
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.3"}));
  EXPECT_EQ(Held(3, 300), (IpList{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(Held(6, 200), (IpList{"192.0.2.1", "192.0.2.3"}));
}

// Many changes within one interval (switches joining, one leaving, one joining and leaving)
// make one FloodList per configured network of each switch, with the net change only.
TEST_F(DomainRouterTest, ManyChangesInOneIntervalGiveOneDelta) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 100ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");  // the first round, at once
  Connect(3, "host-c", "192.0.2.3");
  Take(3, "app1", "tapc");
  Tick(now_ + 100ms);
  ASSERT_EQ(Held(1, 100), IpList{"192.0.2.3"});
  const size_t before = sent_.size();
  // Within the next interval (its round at the first change, then held back): ten switches
  // join app, host-c leaves, host-x joins and leaves.
  Output first = Disconnect(3, now_ + 150ms);
  ASSERT_EQ(FloodListsIn(first, 1).size(), 1u) << "the first change after a quiet interval";
  for (int i = 10; i < 20; ++i) {
    const std::string name = "host-" + std::to_string(i);
    Connect(static_cast<SessionId>(i), name, "192.0.2." + std::to_string(i));
    AddEndpoint("e" + std::to_string(i), "app", "52:54:00:00:03:" + std::to_string(i),
                "10.2.0." + std::to_string(100 + i));
    Take(static_cast<SessionId>(i), "e" + std::to_string(i), "tap");
  }
  Connect(30, "host-x", "192.0.2.30");
  AddEndpoint("ex", "app", "52:54:00:00:03:30", "10.2.0.130");
  Take(30, "ex", "tapx");
  Disconnect(30, now_ + 160ms);
  int deltas_before_round = 0;
  for (size_t i = before; i < sent_.size(); ++i) {
    const auto& list = sent_[i].message.flood_list();
    deltas_before_round +=
        list.domain_tunnel_ips_added_size() + list.domain_tunnel_ips_removed_size() > 0 ? 1 : 0;
  }
  EXPECT_EQ(deltas_before_round, 1) << "only the first change's round (to host-a)";
  const Output round = Tick(now_ + 250ms);
  IpList joined;
  for (int i = 10; i < 20; ++i) joined.push_back("192.0.2." + std::to_string(i));
  std::sort(joined.begin(), joined.end());
  auto lists = FloodListsIn(round, 1);
  ASSERT_EQ(lists.size(), 1u) << "one delta for host-a's one network";
  EXPECT_EQ(Ips(lists[0].domain_tunnel_ips_added()), joined) << "host-x came and went: absent";
  EXPECT_TRUE(lists[0].domain_tunnel_ips_removed().empty()) << "host-c's leave went at once";
  EXPECT_EQ(Held(1, 100), joined);
  for (int i = 10; i < 20; ++i) {
    const auto session = static_cast<SessionId>(i);
    ASSERT_EQ(FloodListsIn(round, session).size(), 1u) << session;
    IpList others{"192.0.2.1"};
    for (const auto& ip : joined) {
      if (ip != "192.0.2." + std::to_string(i)) others.push_back(ip);
    }
    std::sort(others.begin(), others.end());
    EXPECT_EQ(Held(session, 300), others) << session;
  }
}

// A switch with ports in two networks of the domain gets ONE FloodList per round (on the first
// of them by id), and holds the new set in both configs (it applies the delta to every config
// of the domain).
TEST_F(DomainRouterTest, ARoundSendsOneDeltaPerSwitchWhateverItsNetworksInTheDomain) {
  Build();
  AddEndpoint("db2", "db", "52:54:00:00:01:02", "10.1.0.12");
  Take(1, "db2", "tapdb");  // host-a now holds web and db
  ASSERT_EQ(Held(1, 200), (IpList{"192.0.2.2", "192.0.2.3"}));
  Connect(5, "host-e", "192.0.2.5");
  AddEndpoint("app2", "app", "52:54:00:00:02:02", "10.2.0.12");
  const Output joined = Take(5, "app2", "tape");
  int deltas = 0;
  for (const auto& list : FloodListsIn(joined, 1)) {
    if (list.domain_tunnel_ips_added_size() > 0) {
      ++deltas;
      EXPECT_EQ(list.vni(), 200u) << "db sorts before web";
      EXPECT_EQ(Ips(list.domain_tunnel_ips_added()), IpList{"192.0.2.5"});
    }
  }
  EXPECT_EQ(deltas, 1);
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.3", "192.0.2.5"}));
  EXPECT_EQ(Held(1, 200), (IpList{"192.0.2.2", "192.0.2.3", "192.0.2.5"}));
  // db leaves host-a: the next round comes on web, and web's config still follows.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("db2", false));
  Pump();
  ASSERT_EQ(Held(1, 200), std::nullopt);
  Disconnect(5);
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2", "192.0.2.3"}));
}

// A burst of subnets in a domain makes one DomainRoutes round per interval to each switch of
// the domain; the network whose own subnets changed gets its config at once.
TEST_F(DomainRouterTest, ABurstOfSubnetsMakesOneRoutesRoundPerInterval) {
  using namespace std::chrono_literals;
  DirectoryOptions options;
  options.domain_round_interval = 100ms;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, options);
  Build();
  auto add_subnet = [&](const std::string& id, const std::string& network,
                        const std::string& cidr) {
    v1::Subnet subnet;
    subnet.set_id(id);
    subnet.set_network_id(network);
    subnet.set_cidr(cidr);
    EXPECT_TRUE(registry_->Create(subnet));
    return Pump();
  };
  Output out = add_subnet("db-b", "db", "10.5.0.0/24");
  ASSERT_EQ(DomainRoutesIn(out, 1).size(), 1u) << "the first round goes at once";
  EXPECT_FALSE(ConfigIn(out, 1, "web")) << "web's own config did not change";
  EXPECT_EQ(HeldRoutes(1, 100).count("10.5.0.0/24 200 db "), 1u);
  out = add_subnet("app-b", "app", "10.6.0.0/24");
  EXPECT_TRUE(DomainRoutesIn(out, 1).empty()) << "held back: within the interval";
  auto config = ConfigIn(out, 3, "app");
  ASSERT_TRUE(config) << "app's own subnets changed: at once";
  EXPECT_EQ(config->subnets_size(), 2);
  out = add_subnet("db-c", "db", "10.7.0.0/24");
  EXPECT_TRUE(DomainRoutesIn(out, 1).empty());
  EXPECT_TRUE(DomainRoutesIn(out, 3).empty());
  EXPECT_TRUE(ConfigIn(out, 2, "db"));

  const Output round = Tick(now_ + 100ms);
  for (SessionId session : {1, 2, 3}) {
    const auto changes = DomainRoutesIn(round, session);
    ASSERT_EQ(changes.size(), 1u) << "one round for the two held-back changes, to " << session;
    EXPECT_EQ(changes[0].added_size(), 2) << "only the change: 10.6 and 10.7";
    EXPECT_TRUE(changes[0].removed().empty());
  }
  for (const auto& [session, vni] :
       std::vector<std::pair<SessionId, uint32_t>>{{1, 100}, {2, 200}, {3, 300}}) {
    const auto routes = HeldRoutes(session, vni);
    EXPECT_EQ(routes.count("10.6.0.0/24 300 app "), 1u) << session;
    EXPECT_EQ(routes.count("10.7.0.0/24 200 db "), 1u) << session;
    EXPECT_EQ(routes.size(), kAcmeRoutes.size() + 3) << session;
  }
  for (const auto& message : For(round, 1)) EXPECT_FALSE(message.has_network_config());
  EXPECT_TRUE(For(round, 9).empty());
}

TEST_F(DomainRouterTest, SubnetAndNetworkChangesReachEveryNetworkOfTheDomain) {
  Build();
  v1::Subnet extra;
  extra.set_id("db-v6");
  extra.set_network_id("db");
  extra.set_cidr("2001:db8:1::/64");
  extra.set_gateway("2001:db8:1::1");
  ASSERT_TRUE(registry_->Create(extra));
  Output out = Pump();
  auto changes = DomainRoutesIn(out, 1);
  ASSERT_EQ(changes.size(), 1u) << "host-a has no port in db, yet it routes to db's new subnet";
  EXPECT_EQ(changes[0].added_size(), 1) << "the change only";
  EXPECT_EQ(HeldRoutes(1, 100).count("2001:db8:1::/64 200 db 2001:db8:1::1"), 1u);
  EXPECT_FALSE(ConfigIn(out, 1, "web")) << "web's own config is unchanged";
  EXPECT_EQ(DomainRoutesIn(out, 3).size(), 1u);
  EXPECT_EQ(ConfigIn(out, 2, "db")->subnets_size(), 2) << "db's own subnets changed";
  EXPECT_TRUE(For(out, 9).empty());

  ASSERT_TRUE(registry_->Delete<v1::Subnet>("db-v6", false));
  changes = DomainRoutesIn(Pump(), 1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(std::vector<std::string>(changes[0].removed().begin(), changes[0].removed().end()),
            std::vector<std::string>{"2001:db8:1::/64"});
  EXPECT_EQ(HeldRoutes(1, 100), kAcmeRoutes);

  // A network created in the domain (no subnet yet: no route), then one deleted: every switch
  // of the domain hears.
  v1::Network fresh;
  fresh.set_id("new");
  fresh.set_domain_id("d1");
  fresh.set_name("new");
  fresh.set_vni(500);
  ASSERT_TRUE(registry_->Create(fresh));
  out = Pump();
  EXPECT_TRUE(DomainRoutesIn(out, 1).empty()) << "no subnet, no route";
  EXPECT_TRUE(For(out, 9).empty());
  ASSERT_TRUE(registry_->Delete<v1::Network>("app", true));
  out = Pump();
  EXPECT_EQ(DomainRoutesIn(out, 1).size(), 1u);
  EXPECT_EQ(HeldRoutes(1, 100),
            (std::set<std::string>{"10.0.0.0/24 100 web ", "10.1.0.0/24 200 db "}));
  EXPECT_EQ(Held(1, 100), (IpList{"192.0.2.2"})) << "host-c lost its only port in the domain";
  EXPECT_TRUE(For(out, 9).empty());
}

// A switch holding several networks of a domain gets the domain's routes and tunnel IPs once
// per stream (issue 13: the configs of 1000 switches x 10 networks of a 1000-subnet domain), and
// holds them for every network all the same.
TEST_F(DomainRouterTest, TheDomainsRoutesAndSwitchesRideOnlyTheFirstConfigOfTheDomain) {
  Build();
  AddEndpoint("db2", "db", "52:54:00:00:01:02", "10.1.0.12");
  const Output took = Take(1, "db2", "tapdb");  // host-a now holds web and db
  auto db = ConfigIn(took, 1, "db");
  ASSERT_TRUE(db);
  EXPECT_TRUE(db->domain_omitted());
  EXPECT_TRUE(db->domain_subnets().empty());
  EXPECT_TRUE(db->domain_tunnel_ips().empty());
  EXPECT_EQ(HeldRoutes(1, 200), kAcmeRoutes) << "taken from web's";
  EXPECT_EQ(Held(1, 200), (IpList{"192.0.2.2", "192.0.2.3"}));
  // A reconnect: the first config of the domain on the new stream is whole again.
  Disconnect(1);
  const size_t mark = sent_.size();
  Connect(1, "host-a", "192.0.2.1");
  int whole = 0;
  for (size_t i = mark; i < sent_.size(); ++i) {
    const auto& message = sent_[i].message;
    if (sent_[i].session == 1 && message.has_network_config()) {
      whole += message.network_config().domain_omitted() ? 0 : 1;
    }
  }
  EXPECT_EQ(whole, 1) << "one of web and db carries the domain's parts";
  // web's config alone leaves (db2 goes): db's is then the only one; a refresh of it is whole.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm1", false));
  Pump();
  ASSERT_EQ(HeldConfig(1, 100), std::nullopt);
  v1::Subnet extra;
  extra.set_id("db-b");
  extra.set_network_id("db");
  extra.set_cidr("10.8.0.0/24");
  ASSERT_TRUE(registry_->Create(extra));
  db = ConfigIn(Pump(), 1, "db");
  ASSERT_TRUE(db);
  EXPECT_FALSE(db->domain_omitted());
  EXPECT_EQ(HeldRoutes(1, 200).count("10.8.0.0/24 200 db "), 1u);
  EXPECT_EQ(HeldRoutes(1, 200).size(), kAcmeRoutes.size() + 1);
}

TEST_F(DomainRouterTest, ResolveIpIsDomainWideAndFoundWhenAPolicyCouldAllowEitherWay) {
  Build();
  auto reply = ResolveIpAs(1, 100, "10.1.0.11");
  EXPECT_EQ(reply.status(), v1::ResolveReply::STATUS_DENIED) << "no policy: default deny";
  EXPECT_NE(reply.reason().find("no policy"), std::string::npos) << reply.reason();

  // Only TCP 443 from web to db: enough for the router to know where db1 is.
  CreatePolicy("p443", "web", "db", v1::Policy::ACTION_ALLOW, 0, 6, 443);
  Pump();
  reply = ResolveIpAs(1, 100, "10.1.0.11");
  ASSERT_EQ(reply.status(), v1::ResolveReply::STATUS_FOUND) << reply.reason();
  EXPECT_EQ(reply.location().endpoint_id(), "db1");
  EXPECT_EQ(reply.location().vni(), 200u) << "the destination network's VNI";
  EXPECT_EQ(reply.location().tunnel_ip(), "192.0.2.2");
  EXPECT_EQ(directory_->CachersOf("db1"), (std::set<SessionId>{1}));
  // From db's side too: the replies.
  reply = ResolveIpAs(2, 200, "10.0.0.11");
  ASSERT_EQ(reply.status(), v1::ResolveReply::STATUS_FOUND) << reply.reason();
  EXPECT_EQ(reply.location().endpoint_id(), "vm1") << "acme's 10.0.0.11, not other's far1";
  // app is named by no policy.
  EXPECT_EQ(ResolveIpAs(1, 100, "10.2.0.11").status(), v1::ResolveReply::STATUS_DENIED);
  EXPECT_EQ(ResolveIpAs(3, 300, "10.0.0.11").status(), v1::ResolveReply::STATUS_DENIED);

  // Another tenant's address is answered as one nobody holds: same status, same text.
  const auto held_elsewhere = ResolveIpAs(1, 100, "10.9.0.5");
  const auto held_by_nobody = ResolveIpAs(1, 100, "10.9.0.6");
  EXPECT_EQ(held_elsewhere.status(), v1::ResolveReply::STATUS_NOT_FOUND);
  EXPECT_EQ(held_by_nobody.status(), v1::ResolveReply::STATUS_NOT_FOUND);
  std::string expected = held_by_nobody.reason();
  expected.replace(expected.find("10.9.0.6"), 8, "10.9.0.5");
  EXPECT_EQ(held_elsewhere.reason(), expected);
  EXPECT_TRUE(directory_->CachersOf("far2").empty());
}

TEST_F(DomainRouterTest, APolicyChangeInvalidatesWhatCanNoLongerBeExchanged) {
  Build();
  CreatePolicy("p443", "web", "db", v1::Policy::ACTION_ALLOW, 0, 6, 443);
  Pump();
  ASSERT_EQ(ResolveIpAs(1, 100, "10.1.0.11").status(), v1::ResolveReply::STATUS_FOUND);
  ASSERT_EQ(ResolveIpAs(2, 200, "10.0.0.11").status(), v1::ResolveReply::STATUS_FOUND);

  // A narrower deny of higher priority leaves some traffic possible: nothing invalidated.
  CreatePolicy("no-ssh", "web", "db", v1::Policy::ACTION_REJECT, 9, 6, 22);
  Output out = Pump();
  for (SessionId session : {1, 2}) {
    for (const auto& message : For(out, session)) EXPECT_FALSE(message.has_invalidate());
  }
  EXPECT_EQ(directory_->CachersOf("db1"), (std::set<SessionId>{1}));

  // A REJECT of any protocol at the allow's priority overrides it (a tie denies): both sides'
  // caches across the two networks are invalidated, with the endpoint's VNI.
  CreatePolicy("shut", "web", "db", v1::Policy::ACTION_REJECT, 0);
  out = Pump();
  bool a_told = false;
  bool b_told = false;
  for (const auto& message : For(out, 1)) {
    if (message.has_invalidate() && message.invalidate().endpoint_id() == "db1") {
      a_told = true;
      EXPECT_EQ(message.invalidate().vni(), 200u);
    }
  }
  for (const auto& message : For(out, 2)) {
    b_told |= message.has_invalidate() && message.invalidate().endpoint_id() == "vm1";
  }
  EXPECT_TRUE(a_told);
  EXPECT_TRUE(b_told);
  EXPECT_TRUE(directory_->CachersOf("db1").empty());
  EXPECT_EQ(ResolveIpAs(1, 100, "10.1.0.11").status(), v1::ResolveReply::STATUS_DENIED);

  // An ALLOW the other way (db to web, UDP 53) opens it again, for both sides.
  CreatePolicy("dns", "db", "web", v1::Policy::ACTION_ALLOW, 0, 17, 53);
  Pump();
  EXPECT_EQ(ResolveIpAs(1, 100, "10.1.0.11").status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(ResolveIpAs(2, 200, "10.0.0.11").status(), v1::ResolveReply::STATUS_FOUND);
}

TEST_F(DomainRouterTest, APolicyChangeRefreshesTheConfigurationsOfTheNetworksItNames) {
  Build();
  CreatePolicy("p1", "web", "db", v1::Policy::ACTION_ALLOW);
  Output out = Pump();
  auto config = ConfigIn(out, 1, "web");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->policies_size(), 1);
  EXPECT_EQ(config->policies(0).id(), "p1");
  EXPECT_TRUE(ConfigIn(out, 2, "db"));
  EXPECT_TRUE(For(out, 3).empty()) << "app is not named";
  EXPECT_TRUE(For(out, 9).empty());

  // Now between web and app: db (named before) and app (named now) hear too.
  ASSERT_TRUE(registry_->Replace("p1", MakePolicy("p1", "web", "app", v1::Policy::ACTION_REJECT)));
  out = Pump();
  EXPECT_TRUE(ConfigIn(out, 1, "web"));
  config = ConfigIn(out, 2, "db");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->policies_size(), 0);
  config = ConfigIn(out, 3, "app");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->policies_size(), 1);
  EXPECT_EQ(config->policies(0).action(), v1::Policy::ACTION_REJECT);

  ASSERT_TRUE(registry_->Delete<v1::Policy>("p1", false));
  out = Pump();
  EXPECT_TRUE(ConfigIn(out, 1, "web"));
  EXPECT_TRUE(ConfigIn(out, 3, "app"));
  EXPECT_FALSE(ConfigIn(out, 2, "db"));
}

TEST_F(DomainRouterTest, AHelloMayListEndpointsOfNetworksItMayExchangeWith) {
  Build();
  CreatePolicy("dns", "db", "web", v1::Policy::ACTION_ALLOW, 0, 17, 53);
  Pump();
  Disconnect(1);
  const int64_t revision = registry_->Revision();
  Send(4, Rejoin("host-a", "192.0.2.1", revision, {"db1", "app1", "far2"}));
  EXPECT_EQ(directory_->CachersOf("db1"), (std::set<SessionId>{4})) << "UDP 53 db->web suffices";
  EXPECT_TRUE(directory_->CachersOf("app1").empty()) << "no policy with app";
  EXPECT_TRUE(directory_->CachersOf("far2").empty()) << "another tenant's";
  EXPECT_EQ(directory_->Refused().at("host-a").at("subscribe"), 2u);
}

}  // namespace
}  // namespace dove::controller::southbound::directory_test
