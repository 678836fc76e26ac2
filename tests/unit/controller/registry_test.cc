// Registry: every rule with its error code and proof that a refusal changed nothing; the
// controller's choices (ids, VNIs, MACs, IPs); canonical forms; persistence over SqliteStore;
// store failures; concurrent creates.
#include "controller/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/ip_address.h"
#include "net/mac_address.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "support/gated_store.h"
#include "support/registry_dump.h"
#include "support/temp_dir.h"

namespace dove::controller {
namespace {

v1::Domain MakeDomain(std::string id, std::string name) {
  v1::Domain d;
  d.set_id(std::move(id));
  d.set_name(std::move(name));
  return d;
}

v1::Network MakeNetwork(std::string id, std::string domain, std::string name, uint32_t vni) {
  v1::Network n;
  n.set_id(std::move(id));
  n.set_domain_id(std::move(domain));
  n.set_name(std::move(name));
  n.set_vni(vni);
  return n;
}

v1::Subnet MakeSubnet(std::string id, std::string network, std::string cidr,
                      std::string gateway = "") {
  v1::Subnet s;
  s.set_id(std::move(id));
  s.set_network_id(std::move(network));
  s.set_cidr(std::move(cidr));
  s.set_gateway(std::move(gateway));
  return s;
}

v1::Endpoint MakeEndpoint(std::string id, std::string network, std::string mac, std::string ip = "",
                          std::string switch_name = "") {
  v1::Endpoint e;
  e.set_id(std::move(id));
  e.set_network_id(std::move(network));
  e.set_mac(std::move(mac));
  if (!ip.empty()) e.add_ips(std::move(ip));
  e.set_switch_name(std::move(switch_name));
  return e;
}

v1::Switch MakeSwitch(std::string id, std::string name, std::string tunnel_ip) {
  v1::Switch s;
  s.set_id(std::move(id));
  s.set_name(std::move(name));
  s.set_tunnel_ip(std::move(tunnel_ip));
  return s;
}

v1::Policy MakePolicy(std::string id, std::string domain, std::string from, std::string to) {
  v1::Policy p;
  p.set_id(std::move(id));
  p.set_domain_id(std::move(domain));
  p.set_source_network_id(std::move(from));
  p.set_destination_network_id(std::move(to));
  p.set_action(v1::Policy::ACTION_ALLOW);
  return p;
}

// The world every test starts from:
//   d1 "acme": n1 "web" (vni 100; s1 10.0.0.0/24 gw .1 dhcp .100-.200)
//              n2 "db"  (vni 200; s2 10.1.0.0/24, s6 2001:db8::/64)
//              e1 on n1: 52:54:00:ab:00:01 10.0.0.5 on host1; e6 on n2: 2001:db8::5 (+ v4)
//              p1: n1 -> n2
//   d2 "beta": n3 "web" (vni 300; s3 10.0.0.0/24, the same prefix as s1)
//   sw1 "host1" tunnel 192.0.2.1; sw2 "host2" tunnel 2001:db8:ff::1
void Populate(Registry& r) {
  auto ok = [](const auto& result) { ASSERT_TRUE(result) << result.error().message; };
  ok(r.Create(MakeDomain("d1", "acme")));
  ok(r.Create(MakeDomain("d2", "beta")));
  ok(r.Create(MakeNetwork("n1", "d1", "web", 100)));
  ok(r.Create(MakeNetwork("n2", "d1", "db", 200)));
  ok(r.Create(MakeNetwork("n3", "d2", "web", 300)));
  auto s1 = MakeSubnet("s1", "n1", "10.0.0.0/24", "10.0.0.1");
  s1.mutable_dhcp_range()->set_first("10.0.0.100");
  s1.mutable_dhcp_range()->set_last("10.0.0.200");
  ok(r.Create(s1));
  ok(r.Create(MakeSubnet("s2", "n2", "10.1.0.0/24")));
  ok(r.Create(MakeSubnet("s6", "n2", "2001:db8::/64")));
  ok(r.Create(MakeSubnet("s3", "n3", "10.0.0.0/24")));
  ok(r.Create(MakeEndpoint("e1", "n1", "52:54:00:ab:00:01", "10.0.0.5", "host1")));
  auto e6 = MakeEndpoint("e6", "n2", "52:54:00:ab:00:06", "2001:db8::5");
  e6.add_ips("10.1.0.5");
  ok(r.Create(e6));
  ok(r.Create(MakePolicy("p1", "d1", "n1", "n2")));
  ok(r.Create(MakeSwitch("sw1", "host1", "192.0.2.1")));
  ok(r.Create(MakeSwitch("sw2", "host2", "2001:db8:ff::1")));
}

std::string Dump(const Registry& r) { return test_support::DumpRegistry(r); }

// What must not move when a mutation is refused.
struct Snapshot {
  size_t domains, networks, subnets, endpoints, switches, policies;
  int64_t revision;
  int64_t store_revision;
  std::string objects;  // Dump(): the index's content
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(const Registry& r, store::Store& s) {
  auto c = r.Counts();
  return {c.domains,  c.networks, c.subnets,    c.endpoints,
          c.switches, c.policies, r.Revision(), s.CurrentRevision().value_or(-1),
          Dump(r)};
}

template <typename T>
std::optional<ModelError> ErrorOf(const ModelResult<T>& result) {
  if (result) return std::nullopt;
  return result.error();
}

template <typename T>
std::vector<std::string> Ids(const ModelResult<std::vector<T>>& result) {
  std::vector<std::string> ids;
  if (!result) return {"error: " + result.error().code};
  for (const auto& object : *result) ids.push_back(object.id());
  return ids;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Registry::Open(&store_);
    ASSERT_TRUE(opened);
    registry_ = std::move(*opened);
    Populate(*registry_);
  }

  store::MemoryStore store_;
  std::unique_ptr<Registry> registry_;
};

struct RefusalCase {
  std::string name;
  std::function<std::optional<ModelError>(Registry&)> mutate;
  std::string code;
  std::string message_part;                // the message must contain it (the field or the holder)
  std::function<void(Registry&)> setup{};  // runs before the snapshot
};

// Setup: endpoint `id` of n2 on host1's port `port`.
std::function<void(Registry&)> PlaceOnPort(std::string id, std::string port) {
  return [id, port](Registry& r) {
    auto e = MakeEndpoint(id, "n2", "", "", "host1");
    e.set_port_name(port);
    ASSERT_TRUE(r.Create(e));
  };
}

// n1 -> n2, TCP ports first..last.
v1::Policy TcpPolicy(std::string id, uint32_t first, uint32_t last) {
  auto p = MakePolicy(std::move(id), "d1", "n1", "n2");
  p.set_protocol(6);
  p.mutable_port_range()->set_first(first);
  p.mutable_port_range()->set_last(last);
  return p;
}

std::vector<RefusalCase> RefusalCases() {
  using D = v1::Domain;
  using N = v1::Network;
  using S = v1::Subnet;
  using E = v1::Endpoint;
  using W = v1::Switch;
  using P = v1::Policy;
  auto bad_dhcp = MakeSubnet("sx", "n2", "10.2.0.0/24");
  bad_dhcp.mutable_dhcp_range()->set_first("10.2.0.10");
  bad_dhcp.mutable_dhcp_range()->set_last("10.9.0.1");
  auto stale = MakeEndpoint("e1", "n1", "52:54:00:ab:00:01", "10.0.0.5");
  stale.set_version(7);
  auto versioned = MakeEndpoint("ex", "n1", "52:54:00:ab:00:99", "10.0.0.9");
  versioned.set_version(3);
  return {
      {"vni already used",
       [](Registry& r) { return ErrorOf(r.Create(MakeNetwork("nx", "d1", "x", 100))); }, "conflict",
       "network \"n1\""},
      {"network of unknown domain",
       [](Registry& r) { return ErrorOf(r.Create(MakeNetwork("nx", "d9", "x", 0))); }, "not_found",
       "domain_id"},
      {"subnet overlaps one of the same domain",
       [](Registry& r) { return ErrorOf(r.Create(MakeSubnet("sx", "n2", "10.0.0.128/25"))); },
       "conflict", "subnet \"s1\""},
      {"gateway outside the prefix",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeSubnet("sx", "n2", "10.2.0.0/24", "10.3.0.1")));
       },
       "invalid_value", "gateway"},
      {"dhcp range outside the prefix", [=](Registry& r) { return ErrorOf(r.Create(bad_dhcp)); },
       "invalid_value", "dhcp_range.last"},
      {"endpoint ip outside its network's subnets",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeEndpoint("ex", "n1", "52:54:00:ab:00:99", "10.9.9.9")));
       },
       "invalid_value", "not inside any subnet"},
      {"mac already in the network (other spelling)",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeEndpoint("ex", "n1", "52:54:00:AB:00:01", "10.0.0.9")));
       },
       "conflict", "endpoint \"e1\""},
      {"ip already used in the domain",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeEndpoint("ex", "n1", "52:54:00:ab:00:99", "10.0.0.5")));
       },
       "conflict", "used by endpoint \"e1\""},
      {"ipv6 already used (other spelling)",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeEndpoint("ex", "n2", "52:54:00:ab:00:99", "2001:DB8:0::5")));
       },
       "conflict", "used by endpoint \"e6\""},
      {"endpoint of unknown network",
       [](Registry& r) { return ErrorOf(r.Create(MakeEndpoint("ex", "n9", ""))); }, "not_found",
       "network_id"},
      {"endpoint created with a version", [=](Registry& r) { return ErrorOf(r.Create(versioned)); },
       "invalid_value", "version"},
      {"policy between networks of different domains",
       [](Registry& r) { return ErrorOf(r.Create(MakePolicy("px", "d1", "n1", "n3"))); },
       "invalid_value", "destination_network_id"},
      {"domain name taken", [](Registry& r) { return ErrorOf(r.Create(MakeDomain("dx", "acme"))); },
       "conflict", "domain \"d1\""},
      {"network name taken in its domain",
       [](Registry& r) { return ErrorOf(r.Create(MakeNetwork("nx", "d1", "web", 0))); }, "conflict",
       "network \"n1\""},
      {"switch name taken",
       [](Registry& r) { return ErrorOf(r.Create(MakeSwitch("swx", "host1", "192.0.2.9"))); },
       "conflict", "switch \"sw1\""},
      {"switch tunnel ip taken (other spelling)",
       [](Registry& r) {
         return ErrorOf(r.Create(MakeSwitch("swx", "host9", "2001:DB8:FF:0::1")));
       },
       "conflict", "switch \"sw2\""},
      {"id taken", [](Registry& r) { return ErrorOf(r.Create(MakeDomain("d1", "other"))); },
       "conflict", "domain \"d1\""},
      {"client id breaks the name rules",
       [](Registry& r) { return ErrorOf(r.Create(MakeDomain("-d", "other"))); }, "invalid_value",
       "id"},
      {"replace: network changes domain",
       [](Registry& r) { return ErrorOf(r.Replace("n1", MakeNetwork("", "d2", "web", 0))); },
       "invalid_value", "domain_id"},
      {"replace: subnet changes network",
       [](Registry& r) { return ErrorOf(r.Replace("s2", MakeSubnet("", "n1", "10.1.0.0/24"))); },
       "invalid_value", "network_id"},
      {"replace: endpoint changes network",
       [](Registry& r) { return ErrorOf(r.Replace("e1", MakeEndpoint("", "n2", ""))); },
       "invalid_value", "network_id"},
      {"replace: policy changes domain",
       [](Registry& r) { return ErrorOf(r.Replace("p1", MakePolicy("", "d2", "n3", "n3"))); },
       "invalid_value", "domain_id"},
      {"replace: stale endpoint version",
       [=](Registry& r) { return ErrorOf(r.Replace("e1", stale)); }, "conflict", "stale version"},
      {"replace: body id differs from ref",
       [](Registry& r) { return ErrorOf(r.Replace("d1", MakeDomain("d2", "acme"))); },
       "invalid_value", "differs"},
      {"replace: subnet would lose an endpoint's address",
       [](Registry& r) { return ErrorOf(r.Replace("s1", MakeSubnet("", "n1", "10.0.0.128/25"))); },
       "in_use", "endpoint \"e1\""},
      {"replace: subnet would make an endpoint's address its broadcast address",
       [](Registry& r) { return ErrorOf(r.Replace("s1", MakeSubnet("", "n1", "10.0.0.0/29"))); },
       "in_use", "endpoint \"e9\"",
       [](Registry& r) {
         ASSERT_TRUE(r.Create(MakeEndpoint("e9", "n1", "52:54:00:ab:00:09", "10.0.0.7")));
       }},
      {"replace: unknown ref",
       [](Registry& r) { return ErrorOf(r.Replace("zz", MakeDomain("", "x"))); }, "not_found",
       "domain \"zz\""},
      {"endpoint on a switch port another endpoint holds",
       [](Registry& r) {
         auto e = MakeEndpoint("ey", "n2", "", "", "host1");
         e.set_port_name("tap1");
         return ErrorOf(r.Create(e));
       },
       "conflict", "endpoint \"ex\"", PlaceOnPort("ex", "tap1")},
      {"replace: endpoint moved onto a switch port another endpoint holds",
       [](Registry& r) {
         auto e = MakeEndpoint("", "n1", "", "", "host1");
         e.set_port_name("tap1");
         return ErrorOf(r.Replace("e1", e));
       },
       "conflict", "port \"tap1\" of switch \"host1\"", PlaceOnPort("ex", "tap1")},
      {"identical policy twice",
       [](Registry& r) { return ErrorOf(r.Create(MakePolicy("p2", "d1", "n1", "n2"))); },
       "conflict", "policy \"p1\""},
      {"identical policy twice, with ports",
       [](Registry& r) { return ErrorOf(r.Create(TcpPolicy("", 80, 90))); }, "conflict",
       "policy \"p3\"", [](Registry& r) { ASSERT_TRUE(r.Create(TcpPolicy("p3", 80, 90))); }},
      {"replace: policy made identical to another",
       [](Registry& r) { return ErrorOf(r.Replace("p3", MakePolicy("", "d1", "n1", "n2"))); },
       "conflict", "policy \"p1\"",
       [](Registry& r) { ASSERT_TRUE(r.Create(TcpPolicy("p3", 80, 90))); }},
      {"delete: domain with networks",
       [](Registry& r) { return ErrorOf(r.Delete<D>("d1", false)); }, "not_empty", "networks"},
      {"delete: network with endpoints",
       [](Registry& r) { return ErrorOf(r.Delete<N>("n1", false)); }, "not_empty", "endpoint (e1)"},
      {"delete: network a policy names",
       [](Registry& r) { return ErrorOf(r.Delete<N>("n2", false)); }, "not_empty", "policy (p1)",
       [](Registry& r) { ASSERT_TRUE(r.Delete<E>("e6", false)); }},
      {"delete: subnet in use", [](Registry& r) { return ErrorOf(r.Delete<S>("s1", false)); },
       "in_use", "endpoint (e1)"},
      {"delete: unknown", [](Registry& r) { return ErrorOf(r.Delete<W>("nope", true)); },
       "not_found", "switch \"nope\""},
      {"delete: unknown policy", [](Registry& r) { return ErrorOf(r.Delete<P>("nope", true)); },
       "not_found", "policy"},
  };
}

TEST(RegistryRefusals, EveryRuleRefusesAndChangesNothing) {
  for (const auto& test : RefusalCases()) {
    SCOPED_TRACE(test.name);
    store::MemoryStore store;
    auto registry = Registry::Open(&store);
    ASSERT_TRUE(registry);
    Populate(**registry);
    if (test.setup) test.setup(**registry);
    const Snapshot before = Take(**registry, store);
    auto error = test.mutate(**registry);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, test.code) << error->message;
    EXPECT_NE(error->message.find(test.message_part), std::string::npos) << error->message;
    EXPECT_EQ(Take(**registry, store), before);
  }
}

// ReplaceAll: writes that all hold go in ONE store transaction; when one does not (its guard
// fails, or it names nothing), every one is answered as ReplaceIf answers it alone.
TEST_F(RegistryTest, ReplaceAllWritesInOneTransactionOrAnswersEachAsAlone) {
  auto renamed = [&](const std::string& ref, const std::string& version) {
    auto sw = registry_->Get<v1::Switch>(ref);
    EXPECT_TRUE(sw) << ref;
    sw->set_software_version(version);
    return Replacement<v1::Switch>{.ref = ref, .object = *sw, .guard = {}};
  };
  std::vector<Replacement<v1::Switch>> both = {renamed("host1", "v2"), renamed("host2", "v2")};
  both[1].guard.ops.push_back(store::Op::Put("/elsewhere/key", "x"));
  const int64_t before = *store_.CurrentRevision();
  auto answers = registry_->ReplaceAll(std::span<const Replacement<v1::Switch>>(both));
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& answer : answers) ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(*store_.CurrentRevision(), before + 1) << "one transaction for both";
  EXPECT_EQ(registry_->Get<v1::Switch>("host1")->software_version(), "v2");
  EXPECT_EQ(registry_->Get<v1::Switch>("host2")->software_version(), "v2");
  EXPECT_TRUE(store_.Get("/elsewhere/key")) << "the guard's op in the same transaction";
  EXPECT_EQ(registry_->Revision(), before + 1) << "visible when ReplaceAll returns";

  // A guard that does not hold and a switch that does not exist: the third is still written.
  std::vector<Replacement<v1::Switch>> mixed = {renamed("host1", "v3"), renamed("host2", "v3"),
                                                renamed("host1", "v3")};
  mixed[0].guard.compares.push_back(
      store::Compare::Version("/elsewhere/key", store::Compare::kEqual, 0));
  mixed[1].ref = "no-such-switch";
  mixed[1].object.set_id("");
  mixed.pop_back();
  mixed.push_back(renamed("host2", "v3"));
  answers = registry_->ReplaceAll(std::span<const Replacement<v1::Switch>>(mixed));
  ASSERT_EQ(answers.size(), 3u);
  ASSERT_FALSE(answers[0]);
  EXPECT_EQ(answers[0].error().code, "guard_failed");
  ASSERT_FALSE(answers[1]);
  EXPECT_EQ(answers[1].error().code, "not_found");
  ASSERT_TRUE(answers[2]) << answers[2].error().message;
  EXPECT_EQ(registry_->Get<v1::Switch>("host1")->software_version(), "v2");
  EXPECT_EQ(registry_->Get<v1::Switch>("host2")->software_version(), "v3");
}

TEST_F(RegistryTest, ForEachVisitsWhatListReturnsOnceEach) {
  std::multiset<std::string> visited;
  registry_->ForEach<v1::Endpoint>([&](const v1::Endpoint& endpoint) {
    visited.insert(endpoint.id() + "@" + std::to_string(endpoint.version()));
  });
  std::multiset<std::string> listed;
  auto all = registry_->List<v1::Endpoint>({});
  ASSERT_TRUE(all);
  for (const auto& endpoint : *all) {
    listed.insert(endpoint.id() + "@" + std::to_string(endpoint.version()));
  }
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(visited, listed);
  size_t networks = 0;
  registry_->ForEach<v1::Network>([&](const v1::Network&) { ++networks; });
  EXPECT_EQ(networks, registry_->Counts().networks);
}

TEST_F(RegistryTest, VniAllocatedWhenZeroAndKeptOnReplace) {
  auto n = registry_->Create(MakeNetwork("", "d1", "new", 0));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->vni(), 1u);
  auto m = registry_->Create(MakeNetwork("", "d1", "new2", 0));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vni(), 2u);
  auto replaced = registry_->Replace(n->id(), MakeNetwork("", "d1", "renamed", 0));
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->vni(), 1u);
  EXPECT_EQ(replaced->name(), "renamed");
  // The index's free VNIs: a deleted network's VNI is the lowest free again; a replace to
  // another VNI frees the old one; a reload rebuilds them.
  ASSERT_TRUE(registry_->Delete<v1::Network>(n->id(), false));
  auto again = registry_->Create(MakeNetwork("", "d1", "again", 0));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->vni(), 1u);
  ASSERT_TRUE(registry_->Replace(m->id(), MakeNetwork("", "d1", "new2", 7000)));
  auto third = registry_->Create(MakeNetwork("", "d1", "third", 0));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->vni(), 2u);
  auto reopened = Registry::Open(&store_);
  ASSERT_TRUE(reopened);
  auto fourth = (*reopened)->Create(MakeNetwork("", "d1", "fourth", 0));
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->vni(), 3u);
}

TEST_F(RegistryTest, SameValuesInAnotherScopeAreAccepted) {
  // s3 (d2) already reuses s1's prefix; a subnet of d2 overlapping d1's s2 is fine too.
  EXPECT_TRUE(registry_->Create(MakeSubnet("s4", "n3", "10.1.0.0/16")));
  // The same MAC in another network, the same IP in another domain.
  EXPECT_TRUE(registry_->Create(MakeEndpoint("e2", "n2", "52:54:00:ab:00:01", "10.1.0.9")));
  EXPECT_TRUE(registry_->Create(MakeEndpoint("e3", "n3", "52:54:00:ab:00:01", "10.0.0.5")));
  // The same network name in another domain: n3 is "web" like n1.
  EXPECT_EQ(registry_->Get<v1::Network>("n3")->name(), "web");
  // The same port name on another switch, and an endpoint keeping its own port on replace.
  auto on_port = [](std::string id, std::string sw) {
    auto e = MakeEndpoint(std::move(id), "n2", "", "", std::move(sw));
    e.set_port_name("tap1");
    return e;
  };
  EXPECT_TRUE(registry_->Create(on_port("e4", "host1")));
  EXPECT_TRUE(registry_->Create(on_port("e5", "host2")));
  auto kept = registry_->Replace("e4", on_port("", "host1"));
  EXPECT_TRUE(kept) << kept.error().message;
  // A policy that differs from p1 in one field only: priority, action, protocol, ports.
  auto p = MakePolicy("", "d1", "n1", "n2");
  p.set_priority(5);
  EXPECT_TRUE(registry_->Create(p));
  p.set_priority(0);
  p.set_action(v1::Policy::ACTION_DENY);
  EXPECT_TRUE(registry_->Create(p));
  EXPECT_TRUE(registry_->Create(TcpPolicy("", 80, 90)));
  EXPECT_TRUE(registry_->Create(TcpPolicy("", 80, 91)));
  auto same = registry_->Replace("p1", MakePolicy("", "d1", "n1", "n2"));
  EXPECT_TRUE(same) << same.error().message;
}

TEST_F(RegistryTest, ForceDeleteOfDomainTakesEverythingInOneRevision) {
  const int64_t before = registry_->Revision();
  auto result = registry_->Delete<v1::Domain>("acme", true);
  ASSERT_TRUE(result) << result.error().message;
  // d1, n1, n2, s1, s2, s6, e1, e6, p1.
  EXPECT_EQ(result->objects_deleted, 9u);
  EXPECT_EQ(result->revision, before + 1);
  EXPECT_EQ(registry_->Revision(), before + 1);
  EXPECT_EQ(*store_.CurrentRevision(), before + 1);
  auto counts = registry_->Counts();
  EXPECT_EQ(counts.domains, 1u);
  EXPECT_EQ(counts.networks, 1u);
  EXPECT_EQ(counts.subnets, 1u);
  EXPECT_EQ(counts.endpoints, 0u);
  EXPECT_EQ(counts.policies, 0u);
  EXPECT_EQ(counts.switches, 2u);
  for (const char* key : {"/dove/v1/domains/d1", "/dove/v1/networks/n2", "/dove/v1/subnets/s6",
                          "/dove/v1/endpoints/e6", "/dove/v1/policies/p1"}) {
    EXPECT_FALSE(store_.Get(key)) << key;
  }
  // The names are free again.
  EXPECT_TRUE(registry_->Create(MakeDomain("d1", "acme")));
  EXPECT_TRUE(registry_->Create(MakeNetwork("n1", "d1", "web", 100)));
}

TEST_F(RegistryTest, ForceDeleteOfNetworkAndSubnet) {
  auto subnet = registry_->Delete<v1::Subnet>("s1", true);
  ASSERT_TRUE(subnet) << subnet.error().message;
  EXPECT_EQ(subnet->objects_deleted, 2u);  // s1, e1
  EXPECT_FALSE(registry_->Get<v1::Endpoint>("e1"));
  auto network = registry_->Delete<v1::Network>("n2", true);
  ASSERT_TRUE(network) << network.error().message;
  EXPECT_EQ(network->objects_deleted, 5u);  // n2, s2, s6, e6, p1
  EXPECT_EQ(Ids(registry_->List<v1::Policy>({})), std::vector<std::string>{});
  // Without dependants a plain delete works.
  auto n1 = registry_->Delete<v1::Network>("n1", false);
  ASSERT_TRUE(n1) << n1.error().message;
  EXPECT_EQ(n1->objects_deleted, 1u);
  EXPECT_TRUE(registry_->Delete<v1::Domain>("d1", false));
  EXPECT_TRUE(registry_->Delete<v1::Switch>("host1", false));
  EXPECT_EQ(Ids(registry_->List<v1::Switch>({})), std::vector<std::string>{"sw2"});
}

TEST_F(RegistryTest, IpamSkipsGatewayAndDhcpRangeAndReusesFreedAddresses) {
  auto e = registry_->Create(MakeEndpoint("", "n1", ""));
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->ips_size(), 1);
  EXPECT_EQ(e->ips(0), "10.0.0.2");  // .1 is the gateway

  ASSERT_TRUE(registry_->Create(MakeNetwork("n4", "d1", "small", 0)));
  auto small = MakeSubnet("s4", "n4", "10.5.0.0/29", "10.5.0.1");
  small.mutable_dhcp_range()->set_first("10.5.0.2");
  small.mutable_dhcp_range()->set_last("10.5.0.4");
  ASSERT_TRUE(registry_->Create(small));
  auto a = registry_->Create(MakeEndpoint("a", "n4", ""));
  auto b = registry_->Create(MakeEndpoint("b", "n4", ""));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ips(0), "10.5.0.5");
  EXPECT_EQ(b->ips(0), "10.5.0.6");
  const auto before = Take(*registry_, store_);
  auto full = registry_->Create(MakeEndpoint("c", "n4", ""));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "subnet_full");
  EXPECT_EQ(Take(*registry_, store_), before);
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("a", false));
  auto again = registry_->Create(MakeEndpoint("c", "n4", ""));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->ips(0), "10.5.0.5");
}

// The index keeps the free ranges of each subnet so that allocation never scans; whatever the
// order of creates, explicit addresses, deletes and a reload, the answer stays the lowest free.
TEST_F(RegistryTest, IpamStaysLowestFreeThroughChurnAndReload) {
  ASSERT_TRUE(registry_->Create(MakeNetwork("n6", "d1", "churn", 0)));
  ASSERT_TRUE(registry_->Create(MakeSubnet("s7", "n6", "10.6.0.0/24", "10.6.0.1")));
  auto create = [&](const std::string& id, const std::string& ip) {
    auto endpoint = MakeEndpoint(id, "n6", "");
    if (!ip.empty()) endpoint.add_ips(ip);
    auto created = registry_->Create(endpoint);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->ips(0) : std::string();
  };
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(create("c" + std::to_string(i), ""), "10.6.0." + std::to_string(i + 2));
  }
  EXPECT_EQ(create("x1", "10.6.0.22"), "10.6.0.22");          // explicit, right at the scan start
  EXPECT_EQ(create("x2", "10.6.0.40"), "10.6.0.40");          // explicit, beyond it
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("c7", false));  // frees 10.6.0.9
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("c3", false));  // frees 10.6.0.5
  EXPECT_EQ(create("d0", ""), "10.6.0.5");
  EXPECT_EQ(create("d1", ""), "10.6.0.9");
  EXPECT_EQ(create("d2", ""), "10.6.0.23");
  // Replacing an endpoint's address frees the old one.
  auto moved = *registry_->Get<v1::Endpoint>("c0");
  moved.clear_ips();
  moved.add_ips("10.6.0.50");
  moved.set_version(0);
  ASSERT_TRUE(registry_->Replace<v1::Endpoint>("c0", moved));
  EXPECT_EQ(create("d3", ""), "10.6.0.2");
  // A fresh registry over the same store starts from nothing and finds the same answer.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("c10", false));  // frees 10.6.0.12
  auto reopened = Registry::Open(&store_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto e = (*reopened)->Create(MakeEndpoint("r0", "n6", ""));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->ips(0), "10.6.0.12");
  auto next = (*reopened)->Create(MakeEndpoint("r1", "n6", ""));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->ips(0), "10.6.0.24");
}

// A /1 and an IPv6 /64 allocate like a /24 (the index keeps free ranges, never scans); a
// subnet replaced with a DHCP range rebuilds its pool (addresses endpoints hold in the range
// stay theirs and never become allocatable); a reload rebuilds every pool from the store.
TEST_F(RegistryTest, IpamOnLargePrefixesSubnetReplaceAndReload) {
  ASSERT_TRUE(registry_->Create(MakeDomain("d3", "big")));
  ASSERT_TRUE(registry_->Create(MakeNetwork("n7", "d3", "huge", 0)));
  ASSERT_TRUE(registry_->Create(MakeSubnet("s8", "n7", "0.0.0.0/1", "0.0.0.1")));
  ASSERT_TRUE(registry_->Create(MakeSubnet("s9", "n7", "2001:db8:1::/64")));
  auto create = [&](const std::string& id) {
    auto created = registry_->Create(MakeEndpoint(id, "n7", ""));
    EXPECT_TRUE(created) << created.error().message;
    if (!created || created->ips_size() != 2) return std::string("?");
    return created->ips(0) + " " + created->ips(1);
  };
  for (int i = 0; i < 300; ++i) create("h" + std::to_string(i));
  EXPECT_EQ(create("h300"), "0.0.1.46 2001:db8:1::12d");
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("h0", false));
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("h100", false));
  EXPECT_EQ(create("r0"), "0.0.0.2 2001:db8:1::1");
  EXPECT_EQ(create("r1"), "0.0.0.102 2001:db8:1::65");
  EXPECT_EQ(create("r2"), "0.0.1.47 2001:db8:1::12e");
  // A DHCP range over 0.0.0.2 .. 0.0.2.0 (h1.. hold addresses in it: they keep them).
  auto with_dhcp = MakeSubnet("", "n7", "0.0.0.0/1", "0.0.0.1");
  with_dhcp.mutable_dhcp_range()->set_first("0.0.0.2");
  with_dhcp.mutable_dhcp_range()->set_last("0.0.2.0");
  ASSERT_TRUE(registry_->Replace("s8", with_dhcp));
  EXPECT_EQ(create("r3"), "0.0.2.1 2001:db8:1::12f");
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("h5", false));  // 0.0.0.7: in the DHCP range now
  EXPECT_EQ(create("r4"), "0.0.2.2 2001:db8:1::6");
  auto reopened = Registry::Open(&store_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto e = (*reopened)->Create(MakeEndpoint("r5", "n7", ""));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->ips(0), "0.0.2.3");
  EXPECT_EQ(e->ips(1), "2001:db8:1::130");
}

TEST_F(RegistryTest, EndpointOfTwoSubnetsGetsOneAddressEach) {
  auto e = registry_->Create(MakeEndpoint("", "n2", ""));
  ASSERT_TRUE(e) << e.error().message;
  std::set<std::string> ips(e->ips().begin(), e->ips().end());
  EXPECT_EQ(ips, (std::set<std::string>{"10.1.0.1", "2001:db8::1"}));
}

TEST_F(RegistryTest, GeneratesIdsAndMacsAndKeepsClientIds) {
  auto e = registry_->Create(MakeEndpoint("", "n1", ""));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->id().size(), 12u);
  EXPECT_EQ(e->id().find_first_not_of("0123456789abcdef"), std::string::npos) << e->id();
  auto mac = net::MacAddress::Parse(e->mac());
  ASSERT_TRUE(mac) << e->mac();
  EXPECT_TRUE(mac->IsLocallyAdministered());
  EXPECT_TRUE(mac->IsUnicast());
  EXPECT_EQ(e->mac().substr(0, 3), "02:");
  EXPECT_EQ(e->version(), 1u);
  EXPECT_EQ(registry_->Get<v1::Endpoint>(e->id())->mac(), e->mac());
  auto kept = registry_->Create(MakeSwitch("my-switch", "host3", "192.0.2.3"));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->id(), "my-switch");
  auto domain = registry_->Create(MakeDomain("", "gamma"));
  ASSERT_TRUE(domain);
  EXPECT_NE(domain->id(), "");
  EXPECT_TRUE(store_.Get("/dove/v1/domains/" + domain->id()));
}

TEST_F(RegistryTest, ReplaceEndpointCountsVersionsAndKeepsAddresses) {
  auto body = MakeEndpoint("", "n1", "52:54:00:ab:00:01", "", "host2");
  auto v2 = registry_->Replace("e1", body);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->version(), 2u);
  ASSERT_EQ(v2->ips_size(), 1);
  EXPECT_EQ(v2->ips(0), "10.0.0.5");
  body.set_version(2);  // the client read version 2: accepted
  auto v3 = registry_->Replace("e1", body);
  ASSERT_TRUE(v3) << v3.error().message;
  EXPECT_EQ(v3->version(), 3u);
  body.set_version(2);  // now stale
  auto stale = registry_->Replace("e1", body);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, "conflict");
  EXPECT_EQ(registry_->Get<v1::Endpoint>("e1")->version(), 3u);
  EXPECT_EQ(stale.error().message.find("stale version"), 0u);
  // No mac keeps the current one.
  body.set_version(0);
  body.clear_mac();
  auto v4 = registry_->Replace("e1", body);
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->mac(), "52:54:00:ab:00:01");
  EXPECT_EQ(v4->version(), 4u);
  // The switch index followed the move.
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.switch_name = "host2"})),
            std::vector<std::string>{"e1"});
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.switch_name = "host1"})),
            std::vector<std::string>{});
  // A new address frees the old one.
  body.set_version(0);
  body.add_ips("10.0.0.7");
  ASSERT_TRUE(registry_->Replace("e1", body));
  EXPECT_TRUE(registry_->Create(MakeEndpoint("e9", "n1", "", "10.0.0.5")));
}

TEST_F(RegistryTest, GetByIdOrName) {
  EXPECT_EQ(registry_->Get<v1::Domain>("acme")->id(), "d1");
  EXPECT_EQ(registry_->Get<v1::Domain>("d2")->name(), "beta");
  EXPECT_EQ(registry_->Get<v1::Switch>("host2")->id(), "sw2");
  EXPECT_EQ(registry_->Get<v1::Network>("web").error().code, "not_found");  // ids only
  EXPECT_EQ(registry_->Get<v1::Endpoint>("nope").error().code, "not_found");
  auto renamed = registry_->Replace("acme", MakeDomain("", "acme2"));
  ASSERT_TRUE(renamed);
  EXPECT_EQ(registry_->Get<v1::Domain>("acme").error().code, "not_found");
  EXPECT_EQ(registry_->Get<v1::Domain>("acme2")->id(), "d1");
}

TEST_F(RegistryTest, ListFilters) {
  using V = std::vector<std::string>;
  ASSERT_TRUE(registry_->Create(MakeEndpoint("e0", "n1", "", "", "host1")));
  EXPECT_EQ(Ids(registry_->List<v1::Domain>({})), (V{"d1", "d2"}));
  EXPECT_EQ(Ids(registry_->List<v1::Domain>({.name = "beta"})), (V{"d2"}));
  EXPECT_EQ(Ids(registry_->List<v1::Domain>({.name = "zeta"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({})), (V{"n1", "n2", "n3"}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.domain = "acme"})), (V{"n1", "n2"}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.name = "web"})), (V{"n1", "n3"}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.domain = "d2", .name = "web"})), (V{"n3"}));
  EXPECT_EQ(Ids(registry_->List<v1::Subnet>({.domain = "d1"})), (V{"s1", "s2", "s6"}));
  EXPECT_EQ(Ids(registry_->List<v1::Subnet>({.network = "n2"})), (V{"s2", "s6"}));
  EXPECT_EQ(Ids(registry_->List<v1::Subnet>({.domain = "d2", .network = "n2"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({})), (V{"e0", "e1", "e6"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n1"})), (V{"e0", "e1"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.domain = "acme", .switch_name = "host1"})),
            (V{"e0", "e1"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.domain = "d2", .switch_name = "host1"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.switch_name = "unregistered"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Switch>({.name = "host2"})), (V{"sw2"}));
  EXPECT_EQ(Ids(registry_->List<v1::Policy>({.domain = "d1"})), (V{"p1"}));
  EXPECT_EQ(Ids(registry_->List<v1::Policy>({.domain = "d2"})), (V{}));
  // A filter naming nothing is not_found; a filter that does not apply is invalid_value.
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.domain = "nope"})), (V{"error: not_found"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "nope"})), (V{"error: not_found"}));
  EXPECT_EQ(Ids(registry_->List<v1::Domain>({.switch_name = "host1"})),
            (V{"error: invalid_value"}));
  EXPECT_EQ(Ids(registry_->List<v1::Domain>({.label = "x"})), (V{"error: invalid_value"}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.network = "n1"})), (V{"error: invalid_value"}));
  EXPECT_EQ(Ids(registry_->List<v1::Switch>({.domain = "d1"})), (V{"error: invalid_value"}));
  auto error = registry_->List<v1::Domain>({.switch_name = "host1"});
  EXPECT_NE(error.error().message.find("switch_name"), std::string::npos);
}

TEST_F(RegistryTest, EndpointsAreFoundByNameAndLabels) {
  using V = std::vector<std::string>;
  auto web = MakeEndpoint("ew", "n1", "", "", "host1");
  web.set_name("web-1");
  (*web.mutable_labels())["app"] = "web";
  (*web.mutable_labels())["vm-uuid"] = "4f2a";
  ASSERT_TRUE(registry_->Create(web));
  auto db = MakeEndpoint("ed", "n1", "", "", "host2");
  db.set_name("db-1");
  (*db.mutable_labels())["app"] = "db";
  ASSERT_TRUE(registry_->Create(db));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n1", .name = "web-1"})), (V{"ew"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.domain = "d1", .name = "db-1"})), (V{"ed"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n2", .name = "web-1"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "app"})), (V{"ed", "ew"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "app=web"})), (V{"ew"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.switch_name = "host2", .label = "app"})),
            (V{"ed"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "app=web,vm-uuid=4f2a"})), (V{"ew"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "app,nothing"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "a b"})), (V{"error: invalid_value"}));
  EXPECT_EQ(Ids(registry_->List<v1::Network>({.label = "app"})), (V{"error: invalid_value"}));

  // A name is unique in its network, over replicas too: the claim is in the store.
  auto twin = MakeEndpoint("et", "n1", "", "", "host1");
  twin.set_name("web-1");
  auto refused = registry_->Create(twin);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "conflict");
  EXPECT_TRUE(store_.Get("/dove/v1/claims/endpoint-name/n1/web-1").has_value());

  // Renamed: the old name is free, the new one found; relabelled: the selector follows.
  auto renamed = *registry_->Get<v1::Endpoint>("ew");
  renamed.set_name("web-2");
  renamed.mutable_labels()->erase("app");
  ASSERT_TRUE(registry_->Replace<v1::Endpoint>("ew", renamed));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n1", .name = "web-1"})), (V{}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n1", .name = "web-2"})), (V{"ew"}));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.label = "app"})), (V{"ed"}));
  EXPECT_FALSE(store_.Get("/dove/v1/claims/endpoint-name/n1/web-1").has_value());
  twin.set_name("web-1");
  EXPECT_TRUE(registry_->Create(twin));
  // Deleted: its name is free again.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("et", false));
  EXPECT_EQ(Ids(registry_->List<v1::Endpoint>({.network = "n1", .name = "web-1"})), (V{}));
  EXPECT_FALSE(store_.Get("/dove/v1/claims/endpoint-name/n1/web-1").has_value());
}

TEST_F(RegistryTest, StoresCanonicalForms) {
  auto e = registry_->Create(MakeEndpoint("ex", "n2", "52:54:00:AB:CD:EF", "2001:DB8::1"));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->mac(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(e->ips(0), "2001:db8::1");
  v1::Endpoint stored;
  ASSERT_TRUE(stored.ParseFromString(store_.Get("/dove/v1/endpoints/ex")->value));
  EXPECT_EQ(stored.mac(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(stored.ips(0), "2001:db8::1");
  ASSERT_TRUE(registry_->Create(MakeNetwork("n4", "d2", "v6", 0)));
  auto s = registry_->Create(MakeSubnet("s4", "n4", "2001:DB8:1:0::/64", "2001:DB8:1::1"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cidr(), "2001:db8:1::/64");
  EXPECT_EQ(s->gateway(), "2001:db8:1::1");
  // Duplicates are found across spellings.
  auto dup = registry_->Create(MakeEndpoint("ey", "n2", "52:54:00:ab:cd:ef", "2001:db8::2"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "conflict");
  auto sw = registry_->Create(MakeSwitch("sw3", "host3", "2001:DB8:FF:0:0::3"));
  ASSERT_TRUE(sw);
  EXPECT_EQ(sw->tunnel_ip(), "2001:db8:ff::3");
}

TEST(RegistryHttp, StatusOfEveryCode) {
  const std::vector<std::pair<std::string, int>> table = {
      {"invalid_json", 400},  {"unknown_field", 400}, {"duplicate_field", 400},
      {"invalid_value", 400}, {"not_found", 404},     {"conflict", 409},
      {"not_empty", 409},     {"in_use", 409},        {"subnet_full", 409},
      {"vni_exhausted", 409}, {"too_large", 413},     {"store_unavailable", 503},
      {"internal", 500},      {"corrupt", 500},       {"anything", 500}};
  for (const auto& [code, status] : table) EXPECT_EQ(HttpStatusOf(code), status) << code;
}

TEST(RegistryPersistence, ReopenOnSqliteGivesTheSameObjectsAndRevision) {
  test_support::TempDir dir("dove-registry");
  std::string dump;
  int64_t revision = 0;
  {
    auto store = store::SqliteStore::Open(dir.path());
    ASSERT_TRUE(store);
    auto registry = Registry::Open(store->get());
    ASSERT_TRUE(registry);
    Populate(**registry);
    ASSERT_TRUE((*registry)->Create(MakeEndpoint("", "n1", "")));
    ASSERT_TRUE((*registry)->Delete<v1::Endpoint>("e6", false));
    dump = Dump(**registry);
    revision = (*registry)->Revision();
    EXPECT_GT(revision, 0);
  }
  auto store = store::SqliteStore::Open(dir.path());
  ASSERT_TRUE(store);
  auto registry = Registry::Open(store->get());
  ASSERT_TRUE(registry) << registry.error().message;
  EXPECT_EQ(Dump(**registry), dump);
  EXPECT_EQ((*registry)->Revision(), revision);
  // The reloaded index enforces the rules.
  auto dup = (*registry)->Create(MakeEndpoint("ex", "n1", "52:54:00:ab:00:01"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "conflict");
  EXPECT_EQ((*registry)->Delete<v1::Domain>("acme", false).error().code, "not_empty");
}

TEST(RegistryPersistence, CorruptValueOrUnknownKindFailsOpen) {
  for (const char* key : {"/dove/v1/endpoints/x", "/dove/v1/widgets/x", "/dove/v1/networks"}) {
    SCOPED_TRACE(key);
    test_support::TempDir dir("dove-registry");
    auto store = store::SqliteStore::Open(dir.path());
    ASSERT_TRUE(store);
    {
      auto registry = Registry::Open(store->get());
      ASSERT_TRUE(registry);
      Populate(**registry);
    }
    ASSERT_TRUE((*store)->Put(key, "\xff\xff garbage"));
    auto registry = Registry::Open(store->get());
    ASSERT_FALSE(registry);
    EXPECT_EQ(registry.error().code, "corrupt");
    EXPECT_NE(registry.error().message.find(key), std::string::npos) << registry.error().message;
  }
}

TEST(RegistryPersistence, ValueWithAnotherIdIsCorrupt) {
  store::MemoryStore store;
  ASSERT_TRUE(store.Put("/dove/v1/domains/a", MakeDomain("b", "b").SerializeAsString()));
  auto registry = Registry::Open(&store);
  ASSERT_FALSE(registry);
  EXPECT_EQ(registry.error().code, "corrupt");
}

TEST(RegistryStoreFailure, ClosedStoreIsUnavailableAndChangesNothing) {
  test_support::TempDir dir("dove-registry");
  auto store = store::SqliteStore::Open(dir.path());
  ASSERT_TRUE(store);
  auto registry = Registry::Open(store->get());
  ASSERT_TRUE(registry);
  Populate(**registry);
  const auto counts = (*registry)->Counts();
  const int64_t revision = (*registry)->Revision();
  const std::string dump = Dump(**registry);
  (*store)->Close();
  std::vector<std::optional<ModelError>> errors = {
      ErrorOf((*registry)->Create(MakeDomain("dx", "x"))),
      ErrorOf((*registry)->Create(MakeEndpoint("", "n1", ""))),
      ErrorOf((*registry)->Replace("e1", MakeEndpoint("", "n1", "52:54:00:ab:00:02"))),
      ErrorOf((*registry)->Delete<v1::Domain>("d1", true)),
  };
  for (const auto& error : errors) {
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "store_unavailable") << error->message;
  }
  EXPECT_EQ((*registry)->Revision(), revision);
  EXPECT_EQ((*registry)->Counts().endpoints, counts.endpoints);
  EXPECT_EQ((*registry)->Counts().domains, counts.domains);
  EXPECT_EQ(Dump(**registry), dump);
  auto reopened = Registry::Open(store->get());
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, "store_unavailable");
}

TEST(RegistryThreads, ConcurrentCreatesGetDistinctAddresses) {
  store::MemoryStore store;
  auto registry = Registry::Open(&store);
  ASSERT_TRUE(registry);
  Registry& r = **registry;
  ASSERT_TRUE(r.Create(MakeDomain("d", "d")));
  ASSERT_TRUE(r.Create(MakeNetwork("n", "d", "n", 0)));
  ASSERT_TRUE(r.Create(MakeSubnet("s", "n", "10.20.0.0/16", "10.20.0.1")));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::string>> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, &failures, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto e = r.Create(MakeEndpoint("", "n", ""));
        if (!e) failures[t].push_back(e.error().message);
        // Readers run alongside the writers.
        if (i % 50 == 0) (void)r.List<v1::Endpoint>({.network = "n"});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.front();
  auto all = r.List<v1::Endpoint>({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), size_t{kThreads * kPerThread});
  std::set<std::string> ips;
  std::set<std::string> macs;
  for (const auto& e : *all) {
    ASSERT_EQ(e.ips_size(), 1);
    ips.insert(e.ips(0));
    macs.insert(e.mac());
  }
  EXPECT_EQ(ips.size(), all->size());
  EXPECT_EQ(macs.size(), all->size());
  EXPECT_FALSE(ips.contains("10.20.0.1"));
  EXPECT_EQ(r.Counts().endpoints, all->size());
}

// While a mutation is inside the store's write (its fsync), reads (what /healthz, /metrics,
// the southbound's resolves and GETs call) answer from the index at once, and see only
// acknowledged writes; a second ALLOCATING mutation waits for the first (so it takes the next
// address); WaitForRevision wakes on the index update. With the write lock held across the store
// write, the reads below would wait for Release and the 10 s liveness bound would fail the test.
TEST(RegistryLocking, ReadsDoNotWaitForAStoreWriteInFlight) {
  test_support::GatedStore store;  // a write stuck in its fsync while the gate is closed
  auto opened = Registry::Open(&store);
  ASSERT_TRUE(opened);
  Registry& r = **opened;
  Populate(r);
  const int64_t before = r.Revision();
  const auto counts = r.Counts();
  store.CloseGate();
  auto writer =
      std::async(std::launch::async, [&] { return r.Create(MakeEndpoint("slow", "n1", "")); });
  ASSERT_TRUE(store.SomeoneWaits(std::chrono::seconds(10)));
  auto second =
      std::async(std::launch::async, [&] { return r.Create(MakeEndpoint("second", "n1", "")); });
  auto reads = std::async(std::launch::async, [&] {
    std::string seen;
    seen += std::to_string(r.Revision() - before) + " ";
    seen += std::to_string(r.Counts().endpoints - counts.endpoints) + " ";
    seen += r.Get<v1::Endpoint>("slow") ? "slow " : "- ";
    seen += std::to_string(Ids(r.List<v1::Endpoint>({.network = "n1"})).size()) + " ";
    seen += r.FindEndpointByIp("d1", "10.0.0.5") ? "e1" : "-";
    seen += r.WaitForRevision(before + 1, std::chrono::milliseconds(1)) ? " waited" : " timeout";
    return seen;
  });
  const bool answered = reads.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  const bool second_done =
      second.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready;
  store.Open();
  ASSERT_TRUE(answered) << "a read waited for the store write";
  EXPECT_EQ(reads.get(), "0 0 - 1 e1 timeout") << "reads see acknowledged writes only";
  EXPECT_FALSE(second_done) << "allocating mutations are serialised";
  auto created = writer.get();
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->ips(0), "10.0.0.2");
  auto also = second.get();
  ASSERT_TRUE(also) << also.error().message;
  EXPECT_EQ(also->ips(0), "10.0.0.3") << "the second validated against the first";
  EXPECT_TRUE(r.WaitForRevision(before + 2, std::chrono::seconds(10)));
  EXPECT_EQ(r.Revision(), before + 2);
  EXPECT_TRUE(r.Get<v1::Endpoint>("slow"));
}

// Mutations that allocate nothing are pipelined: all of them are in the store's write at
// once (a replica on etcd keeps many txns in flight instead of one per commit latency); the
// compares still guard what each read, so of two concurrent creates claiming one address
// exactly one wins and the other is refused as if they had run one after the other. With the
// writes serialised, only one would ever wait at the gate and Waiting(5) would fail.
TEST(RegistryLocking, WritesThatAllocateNothingAreInTheStoreAtOnce) {
  test_support::GatedStore store;
  auto opened = Registry::Open(&store);
  ASSERT_TRUE(opened);
  Registry& r = **opened;
  Populate(r);
  const int64_t before = r.Revision();
  store.CloseGate();
  std::vector<std::future<ModelResult<v1::Endpoint>>> creates;
  for (int i = 0; i < 4; ++i) {
    creates.push_back(std::async(std::launch::async, [&r, i] {
      auto endpoint = MakeEndpoint("p" + std::to_string(i), "n1", "");
      // p0 and p1 race for one address; p2 and p3 take their own.
      endpoint.add_ips(i < 2 ? "10.0.0.50" : "10.0.0." + std::to_string(60 + i));
      return r.Create(endpoint);
    }));
  }
  auto moved = std::async(std::launch::async, [&r] {
    auto e1 = r.Get<v1::Endpoint>("e1");
    if (!e1) return ModelResult<v1::Endpoint>(Unexpected(e1.error()));
    e1->set_switch_name("elsewhere");
    e1->set_port_name("tap9");
    return r.Replace("e1", *e1);
  });
  const bool all_in_flight = store.Waiting(5, std::chrono::seconds(10));
  store.Open();
  EXPECT_TRUE(all_in_flight) << "the writes waited for each other, not for the store";
  int won = 0;
  std::string refusal;
  for (int i = 0; i < 4; ++i) {
    auto created = creates[static_cast<size_t>(i)].get();
    if (i >= 2) {
      EXPECT_TRUE(created) << created.error().message;
    } else if (created) {
      ++won;
    } else {
      refusal = created.error().code + ": " + created.error().message;
    }
  }
  EXPECT_EQ(won, 1) << "exactly one of two creates claiming 10.0.0.50 wins";
  EXPECT_THAT(refusal, ::testing::HasSubstr("10.0.0.50"));
  auto replaced = moved.get();
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->switch_name(), "elsewhere");
  EXPECT_TRUE(r.WaitForRevision(before + 4, std::chrono::seconds(10)));
  auto listed = r.List<v1::Endpoint>({.network = "n1"});
  ASSERT_TRUE(listed);
  int holders = 0;
  for (const auto& endpoint : *listed) {
    for (const auto& ip : endpoint.ips()) holders += ip == "10.0.0.50" ? 1 : 0;
  }
  EXPECT_EQ(holders, 1);
  EXPECT_EQ(r.Get<v1::Endpoint>("e1")->switch_name(), "elsewhere");
}

}  // namespace
}  // namespace dove::controller
