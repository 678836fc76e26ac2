// Several Registry objects over one store: what controller replicas over one etcd look like to
// the registry (issue 16). Writes through one appear in the others (the watch-fed index),
// uniqueness and allocation hold across them (claim keys), a parent's delete never leaves
// an orphan (generation keys), and the watch survives compaction and store errors.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/registry.h"
#include "controller/store_keys.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "support/gated_store.h"
#include "support/registry_dump.h"
#include "support/temp_dir.h"

namespace dove::controller {
namespace {

using namespace std::chrono_literals;

v1::Domain MakeDomain(std::string id, std::string name) {
  v1::Domain d;
  d.set_id(std::move(id));
  d.set_name(std::move(name));
  return d;
}

v1::Network MakeNetwork(std::string id, std::string domain, std::string name, uint32_t vni = 0) {
  v1::Network n;
  n.set_id(std::move(id));
  n.set_domain_id(std::move(domain));
  n.set_name(std::move(name));
  n.set_vni(vni);
  return n;
}

v1::Subnet MakeSubnet(std::string id, std::string network, std::string cidr, std::string gateway) {
  v1::Subnet s;
  s.set_id(std::move(id));
  s.set_network_id(std::move(network));
  s.set_cidr(std::move(cidr));
  s.set_gateway(std::move(gateway));
  return s;
}

v1::Endpoint MakeEndpoint(std::string id, std::string network, std::string switch_name = "",
                          std::string port_name = "") {
  v1::Endpoint e;
  e.set_id(std::move(id));
  e.set_network_id(std::move(network));
  e.set_switch_name(std::move(switch_name));
  e.set_port_name(std::move(port_name));
  return e;
}

std::vector<std::unique_ptr<Registry>> OpenReplicas(store::Store* store, int count) {
  std::vector<std::unique_ptr<Registry>> replicas;
  for (int i = 0; i < count; ++i) {
    auto registry = Registry::Open(store);
    EXPECT_TRUE(registry) << registry.error().message;
    if (registry) replicas.push_back(std::move(*registry));
  }
  return replicas;
}

// Every replica shows the store's current revision (within a deadline).
void Converge(store::Store& store, const std::vector<std::unique_ptr<Registry>>& replicas) {
  auto revision = store.CurrentRevision();
  ASSERT_TRUE(revision);
  for (const auto& replica : replicas) {
    ASSERT_TRUE(replica->WaitForRevision(*revision, 10s)) << "behind at " << replica->Revision();
    EXPECT_EQ(replica->Revision(), *revision);
  }
}

std::string Dump(const Registry& r) { return test_support::DumpRegistry(r); }

size_t KeysUnder(store::Store& store, std::string_view prefix) {
  auto range = store.Range(prefix);
  EXPECT_TRUE(range);
  return range ? range->kvs.size() : 0;
}

// Runs `body(replica index, thread index)` on `per_replica` threads per replica, released at
// once.
void Race(const std::vector<std::unique_ptr<Registry>>& replicas, int per_replica,
          const std::function<void(size_t, int)>& body) {
  std::latch start(static_cast<std::ptrdiff_t>(replicas.size()) * per_replica);
  std::vector<std::thread> threads;
  for (size_t r = 0; r < replicas.size(); ++r) {
    for (int t = 0; t < per_replica; ++t) {
      threads.emplace_back([&, r, t] {
        start.arrive_and_wait();
        body(r, t);
      });
    }
  }
  for (auto& thread : threads) thread.join();
}

void WriteThroughOneAppearsInTheOther(store::Store& store) {
  auto replicas = OpenReplicas(&store, 2);
  ASSERT_EQ(replicas.size(), 2u);
  Registry& a = *replicas[0];
  Registry& b = *replicas[1];
  ASSERT_TRUE(a.Create(MakeDomain("d", "acme")));
  ASSERT_TRUE(a.Create(MakeNetwork("n", "d", "web")));
  ASSERT_TRUE(a.Create(MakeSubnet("s", "n", "10.0.0.0/24", "10.0.0.1")));
  auto endpoint = a.Create(MakeEndpoint("e", "n"));
  ASSERT_TRUE(endpoint);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_TRUE(b.Get<v1::Domain>("acme"));
  auto network = b.FindNetworkByVni(a.Get<v1::Network>("n")->vni());
  ASSERT_TRUE(network);
  EXPECT_EQ(network->id(), "n");
  EXPECT_TRUE(b.FindEndpointByMac("n", endpoint->mac()));
  EXPECT_TRUE(b.FindEndpointByIp("d", endpoint->ips(0)));
  EXPECT_EQ(Dump(a), Dump(b));

  // A replace through B: read-your-writes on B at once, then visible in A.
  auto moved = MakeEndpoint("e", "n", "sw1", "tap1");
  auto replaced = b.Replace("e", moved);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(b.Get<v1::Endpoint>("e")->switch_name(), "sw1");
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  auto on_sw1 = a.List<v1::Endpoint>({.switch_name = "sw1"});
  ASSERT_TRUE(on_sw1);
  ASSERT_EQ(on_sw1->size(), 1u);
  EXPECT_EQ((*on_sw1)[0].version(), 2u);
  EXPECT_EQ(Dump(a), Dump(b));

  // A force delete through A: gone from B, with the claims and generations it held.
  ASSERT_TRUE(a.Delete<v1::Domain>("d", true));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_EQ(b.Get<v1::Domain>("d").error().code, "not_found");
  EXPECT_EQ(b.Counts().endpoints, 0u);
  EXPECT_EQ(b.Counts().networks, 0u);
  EXPECT_EQ(KeysUnder(store, kClaimsPrefix), 0u);
  EXPECT_EQ(KeysUnder(store, kChildrenPrefix), 0u);
  EXPECT_EQ(a.Revision(), b.Revision());
}

TEST(RegistryReplicas, WriteThroughOneAppearsInTheOtherMemory) {
  store::MemoryStore store;
  WriteThroughOneAppearsInTheOther(store);
}

TEST(RegistryReplicas, WriteThroughOneAppearsInTheOtherSqlite) {
  test_support::TempDir dir("dove-replicas");
  auto store = store::SqliteStore::Open(dir.path());
  ASSERT_TRUE(store);
  WriteThroughOneAppearsInTheOther(**store);
}

TEST(RegistryReplicas, SameDomainNameExactlyOneWins) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 3);
  for (int round = 0; round < 10; ++round) {
    const std::string name = "acme-" + std::to_string(round);
    std::atomic<int> won{0};
    std::vector<std::string> other_errors(replicas.size());
    Race(replicas, 1, [&](size_t r, int /*t*/) {
      auto created = replicas[r]->Create(MakeDomain("", name));
      if (created) {
        ++won;
      } else if (created.error().code != "conflict") {
        other_errors[r] = created.error().code + ": " + created.error().message;
      }
    });
    EXPECT_EQ(won.load(), 1) << name;
    for (const auto& error : other_errors) EXPECT_EQ(error, "");
  }
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  for (const auto& replica : replicas) EXPECT_EQ(replica->Counts().domains, 10u);
}

TEST(RegistryReplicas, NetworksWithoutVniGetDistinctVnis) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 3);
  ASSERT_TRUE(replicas[0]->Create(MakeDomain("d", "d")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  constexpr int kThreads = 2;
  constexpr int kEach = 15;
  std::vector<std::vector<std::string>> failures(replicas.size() * kThreads);
  Race(replicas, kThreads, [&](size_t r, int t) {
    for (int i = 0; i < kEach; ++i) {
      const std::string name =
          "n" + std::to_string(r) + "-" + std::to_string(t) + "-" + std::to_string(i);
      auto created = replicas[r]->Create(MakeNetwork("", "d", name));
      if (!created) failures[r * kThreads + t].push_back(created.error().message);
    }
  });
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.front();
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  auto networks = replicas[1]->List<v1::Network>({});
  ASSERT_TRUE(networks);
  EXPECT_EQ(networks->size(), replicas.size() * kThreads * kEach);
  std::set<uint32_t> vnis;
  for (const auto& network : *networks) vnis.insert(network.vni());
  EXPECT_EQ(vnis.size(), networks->size());
  uint64_t retries = 0;
  for (const auto& replica : replicas) retries += replica->Stats().retries;
  std::printf("networks: %zu, races lost and retried: %llu\n", networks->size(),
              static_cast<unsigned long long>(retries));
  EXPECT_EQ(Dump(*replicas[0]), Dump(*replicas[2]));
}

TEST(RegistryReplicas, EndpointsWithoutIpsInASmallSubnetNeverShareOne) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 3);
  ASSERT_TRUE(replicas[0]->Create(MakeDomain("d", "d")));
  ASSERT_TRUE(replicas[0]->Create(MakeNetwork("n", "d", "n")));
  // 13 addresses: .2 to .14 (.0 network, .1 gateway, .15 broadcast).
  ASSERT_TRUE(replicas[0]->Create(MakeSubnet("s", "n", "10.9.0.0/28", "10.9.0.1")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  constexpr int kThreads = 2;
  constexpr int kEach = 6;  // 36 tries for 13 addresses
  std::atomic<int> created{0};
  std::atomic<int> full{0};
  std::atomic<int> conflicts{0};
  std::vector<std::string> unexpected(replicas.size() * kThreads);
  Race(replicas, kThreads, [&](size_t r, int t) {
    for (int i = 0; i < kEach; ++i) {
      auto endpoint = replicas[r]->Create(MakeEndpoint("", "n"));
      if (endpoint) {
        ++created;
      } else if (endpoint.error().code == "subnet_full") {
        ++full;
      } else if (endpoint.error().code == "conflict") {
        ++conflicts;  // retries exhausted: allowed, never a duplicate
      } else {
        unexpected[r * kThreads + t] = endpoint.error().code + ": " + endpoint.error().message;
      }
    }
  });
  for (const auto& error : unexpected) EXPECT_EQ(error, "");
  std::printf("created %d, subnet_full %d, conflict %d\n", created.load(), full.load(),
              conflicts.load());
  EXPECT_EQ(created.load(), 13);
  EXPECT_GT(full.load(), 0);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  auto endpoints = replicas[2]->List<v1::Endpoint>({});
  ASSERT_TRUE(endpoints);
  std::set<std::string> ips;
  std::set<std::string> macs;
  for (const auto& e : *endpoints) {
    ASSERT_EQ(e.ips_size(), 1);
    ips.insert(e.ips(0));
    macs.insert(e.mac());
  }
  EXPECT_EQ(endpoints->size(), static_cast<size_t>(created.load()));
  EXPECT_EQ(ips.size(), endpoints->size());
  EXPECT_EQ(macs.size(), endpoints->size());
  EXPECT_FALSE(ips.contains("10.9.0.1"));
  EXPECT_EQ(KeysUnder(store, ClaimKey("ip", "d/")), endpoints->size());
}

TEST(RegistryReplicas, SameSwitchPortExactlyOneWins) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 3);
  ASSERT_TRUE(replicas[0]->Create(MakeDomain("d", "d")));
  ASSERT_TRUE(replicas[0]->Create(MakeNetwork("n", "d", "n")));
  ASSERT_TRUE(replicas[0]->Create(MakeSubnet("s", "n", "10.0.0.0/24", "10.0.0.1")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  for (int round = 0; round < 5; ++round) {
    const std::string port = "tap" + std::to_string(round);
    std::atomic<int> won{0};
    std::vector<std::string> other_errors(replicas.size());
    Race(replicas, 1, [&](size_t r, int /*t*/) {
      auto created = replicas[r]->Create(
          MakeEndpoint("e" + std::to_string(round) + "-" + std::to_string(r), "n", "sw", port));
      if (created) {
        ++won;
      } else if (created.error().code != "conflict") {
        other_errors[r] = created.error().code + ": " + created.error().message;
      }
    });
    EXPECT_EQ(won.load(), 1) << port;
    for (const auto& error : other_errors) EXPECT_EQ(error, "");
  }
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  auto on_sw = replicas[1]->List<v1::Endpoint>({.switch_name = "sw"});
  ASSERT_TRUE(on_sw);
  EXPECT_EQ(on_sw->size(), 5u);
}

// Sibling rules (a subnet overlapping another of its network) hold across replicas too.
TEST(RegistryReplicas, OverlappingSubnetsExactlyOneWins) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 3);
  ASSERT_TRUE(replicas[0]->Create(MakeDomain("d", "d")));
  ASSERT_TRUE(replicas[0]->Create(MakeNetwork("n", "d", "n")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  for (int round = 0; round < 5; ++round) {
    const std::string cidr = "10." + std::to_string(round) + ".0.0/24";
    std::atomic<int> won{0};
    Race(replicas, 1, [&](size_t r, int /*t*/) {
      const std::string id = "s" + std::to_string(round) + "-" + std::to_string(r);
      if (replicas[r]->Create(MakeSubnet(id, "n", cidr, ""))) ++won;
    });
    EXPECT_EQ(won.load(), 1) << cidr;
  }
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_EQ(replicas[2]->Counts().subnets, 5u);
}

TEST(RegistryReplicas, DomainDeleteRacingNetworkCreateLeavesNoOrphan) {
  store::MemoryStore store;
  auto replicas = OpenReplicas(&store, 2);
  int both_refused = 0;
  for (int round = 0; round < 30; ++round) {
    const std::string domain = "d" + std::to_string(round);
    ASSERT_TRUE(replicas[0]->Create(MakeDomain(domain, domain)));
    ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
    bool deleted = false;
    bool created = false;
    Race(replicas, 1, [&](size_t r, int /*t*/) {
      if (r == 0) {
        deleted = replicas[0]->Delete<v1::Domain>(domain, false).has_value();
      } else {
        created = replicas[1]->Create(MakeNetwork("", domain, "web")).has_value();
      }
    });
    EXPECT_FALSE(deleted && created) << domain;
    if (!deleted && !created) ++both_refused;
  }
  // In the store: every network's domain exists.
  auto networks = store.Range(KindPrefix("networks"));
  ASSERT_TRUE(networks);
  for (const auto& kv : networks->kvs) {
    v1::Network network;
    ASSERT_TRUE(network.ParseFromString(kv.value));
    EXPECT_TRUE(store.Get(KeyOf<v1::Domain>(network.domain_id()))) << network.ShortDebugString();
  }
  EXPECT_EQ(both_refused, 0);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_EQ(Dump(*replicas[0]), Dump(*replicas[1]));
}

// Waits (polling, with a deadline) until `condition` holds.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(RegistryReplicas, CompactionUnderTheWatchRebuildsTheIndex) {
  test_support::GatedStore store;
  auto replicas = OpenReplicas(&store, 2);
  Registry& a = *replicas[0];
  Registry& b = *replicas[1];
  ASSERT_TRUE(a.Create(MakeDomain("d", "d")));
  ASSERT_TRUE(a.Create(MakeNetwork("n", "d", "n")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  // B's watch cannot read while A writes; then the history it needs is compacted away.
  store.FailReads(true);
  ASSERT_TRUE(a.Create(MakeNetwork("n2", "d", "n2")));
  ASSERT_TRUE(a.Delete<v1::Network>("n", false));
  ASSERT_TRUE(a.Create(MakeDomain("d2", "d2")));
  ASSERT_TRUE(Eventually([&] { return store.failed_reads() > 0; }));
  auto current = store.CurrentRevision();
  ASSERT_TRUE(current);
  ASSERT_TRUE(store.Compact(*current));
  store.FailReads(false);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_GE(b.Stats().rebuilds, 1u);
  EXPECT_EQ(b.Get<v1::Network>("n").error().code, "not_found");
  EXPECT_TRUE(b.Get<v1::Network>("n2"));
  EXPECT_TRUE(b.Get<v1::Domain>("d2"));
  EXPECT_EQ(Dump(a), Dump(b));
  // The rebuilt index goes on following: a later write through A reaches B.
  ASSERT_TRUE(a.Create(MakeNetwork("n3", "d2", "n3")));
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_TRUE(b.Get<v1::Network>("n3"));
}

TEST(RegistryReplicas, StoreErrorUnderTheWatchRecovers) {
  test_support::GatedStore store;
  auto replicas = OpenReplicas(&store, 2);
  store.FailReads(true);
  auto created = replicas[0]->Create(MakeDomain("d", "d"));
  ASSERT_TRUE(created);
  // B's watch hit the error (and retries with backoff meanwhile).
  ASSERT_TRUE(Eventually([&] { return replicas[1]->Stats().watch_errors >= 1; }));
  EXPECT_LT(replicas[1]->Revision(), *store.CurrentRevision());
  store.FailReads(false);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  EXPECT_TRUE(replicas[1]->Get<v1::Domain>("d"));
  EXPECT_GE(replicas[1]->Stats().watch_errors, 1u);
}

// A domain, a network (VNI 42), a subnet and an endpoint "e": 6 claims.
void FillDomainNetworkEndpoint(store::Store* store) {
  auto old = Registry::Open(store);
  ASSERT_TRUE(old);
  ASSERT_TRUE((*old)->Create(MakeDomain("d", "acme")));
  ASSERT_TRUE((*old)->Create(MakeNetwork("n", "d", "web", 42)));
  ASSERT_TRUE((*old)->Create(MakeSubnet("s", "n", "10.0.0.0/24", "10.0.0.1")));
  ASSERT_TRUE((*old)->Create(MakeEndpoint("e", "n", "sw", "tap0")));
}

TEST(RegistryReplicas, OpenBackfillsTheClaimsOfAnOlderStore) {
  store::MemoryStore store;
  ASSERT_NO_FATAL_FAILURE(FillDomainNetworkEndpoint(&store));
  // What an older version left: objects, no claims.
  const size_t claims = KeysUnder(store, kClaimsPrefix);
  ASSERT_EQ(claims, 6u);  // domain name; network name, VNI; endpoint MAC, IP, port
  ASSERT_TRUE(store.DeletePrefix(std::string(kClaimsPrefix)));
  ASSERT_EQ(KeysUnder(store, kClaimsPrefix), 0u);

  auto replicas = OpenReplicas(&store, 2);
  EXPECT_EQ(KeysUnder(store, kClaimsPrefix), claims);
  ASSERT_NO_FATAL_FAILURE(Converge(store, replicas));
  // A replace that keeps its claims finds them its own; a duplicate is refused by the store.
  auto replaced = replicas[1]->Replace("e", MakeEndpoint("e", "n", "sw", "tap0"));
  EXPECT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replicas[0]->Create(MakeNetwork("", "d", "other", 42)).error().code, "conflict");
}

// A backfill cut short (a crash between its batches) leaves its marker, the first claim key:
// the next Open finishes it. Without the marker, claims present mean a store written with
// claims, and Open reads no claim but the first.
TEST(RegistryReplicas, OpenFinishesABackfillThatWasCutShort) {
  store::MemoryStore store;
  ASSERT_NO_FATAL_FAILURE(FillDomainNetworkEndpoint(&store));
  const size_t claims = KeysUnder(store, kClaimsPrefix);
  ASSERT_EQ(claims, 6u);
  // The endpoint's three claims lost, the marker of a backfill in progress left.
  auto drop_endpoint_claims = [&store] {
    auto claimed = store.Range(kClaimsPrefix);
    ASSERT_TRUE(claimed);
    for (const auto& kv : claimed->kvs) {
      if (kv.value == "e") {
        ASSERT_TRUE(store.Delete(kv.key));
      }
    }
  };
  drop_endpoint_claims();
  ASSERT_EQ(KeysUnder(store, kClaimsPrefix), 3u);
  ASSERT_TRUE(store.Put("/dove/v1/claims/!backfilling", "1"));
  {
    auto reopened = Registry::Open(&store);
    ASSERT_TRUE(reopened);
  }
  EXPECT_EQ(KeysUnder(store, kClaimsPrefix), claims) << "backfilled, the marker gone";
  EXPECT_FALSE(store.Get("/dove/v1/claims/!backfilling"));
  // Claims missing WITHOUT the marker are not looked for (a store written with claims has
  // them all): nothing written at Open.
  drop_endpoint_claims();
  const int64_t before = store.CurrentRevision().value();
  auto again = Registry::Open(&store);
  ASSERT_TRUE(again);
  EXPECT_EQ(store.CurrentRevision().value(), before);
}

}  // namespace
}  // namespace dove::controller
