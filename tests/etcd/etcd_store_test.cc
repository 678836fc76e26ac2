// EtcdStore against real etcd processes: the Store contract (store_conformance.h) on a single
// member and on a three-member cluster, then what only a distributed store has: other
// writers, members dying, an unreachable cluster.
//
// Every test gets its own key prefix on clusters shared by the whole binary (started once, on
// first use), so the suite costs two cluster starts, not one per test.
#include "store/etcd_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "etcd/etcd_auth_cluster.h"
#include "support/closed_port.h"
#include "support/etcd_cluster.h"
#include "unit/store/store_conformance.h"

namespace dove::store {
namespace {

using test_support::EtcdCluster;

// The binary's clusters, by member count; started on first use, killed at exit.
EtcdCluster* SharedCluster(int members) {
  static std::map<int, std::unique_ptr<EtcdCluster>> clusters;
  auto& slot = clusters[members];
  if (!slot) {
    auto started = EtcdCluster::Start(members);
    if (!started) {
      ADD_FAILURE() << started.error();
      return nullptr;
    }
    slot = std::move(*started);
  }
  return slot.get();
}

// A prefix no other test of this process used.
std::string FreshPrefix() {
  static std::atomic<int> next{0};
  return "/test-" + std::to_string(::getpid()) + "-" + std::to_string(next++) + "/";
}

EtcdStore::Options OptionsFor(const EtcdCluster& cluster, std::string prefix) {
  EtcdStore::Options options;
  options.endpoints = cluster.Endpoints();
  options.key_prefix = std::move(prefix);
  options.deadline = std::chrono::milliseconds(3000);
  return options;
}

// page_keys: EtcdStore's Range page; 2 runs every range of the suite over many pages.
std::unique_ptr<Store> OpenOn(int members, size_t page_keys = 5000) {
  EtcdCluster* cluster = SharedCluster(members);
  if (cluster == nullptr) return nullptr;
  auto options = OptionsFor(*cluster, FreshPrefix());
  options.range_page_keys = page_keys;
  auto store = EtcdStore::Open(options);
  if (!store) {
    ADD_FAILURE() << store.error().Describe();
    return nullptr;
  }
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(
    Etcd, StoreTest,
    testing::Values(
        Factory{"OneMember", [](const TempDir&) { return OpenOn(1); }, false},
        Factory{"ThreeMembers", [](const TempDir&) { return OpenOn(3); }, false},
        Factory{"OneMemberPagesOfTwoKeys", [](const TempDir&) { return OpenOn(1, 2); }, false},
        // etcd_auth_test.cc: authentication enabled, tokens expiring after 2 s idle.
        Factory{"UserDove", [](const TempDir&) { return test_support::OpenAsDove(); }, false}),
    PrintFactory);

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

// A Range of many pages is one snapshot: with another writer overwriting the keys all along,
// every key comes from the first page's revision (unpinned pages would show later writes),
// and a limit across pages cuts exactly.
TEST(EtcdStore, APagedRangeIsOneSnapshot) {
  EtcdCluster* cluster = SharedCluster(1);
  ASSERT_NE(cluster, nullptr);
  auto options = OptionsFor(*cluster, FreshPrefix());
  options.range_page_keys = 3;
  auto reader = EtcdStore::Open(options);
  auto writer = EtcdStore::Open(options);
  ASSERT_TRUE(reader && writer);
  constexpr int kKeys = 60;
  auto key = [](int i) { return "/k/" + std::to_string(1000 + i); };
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE((*writer)->Put(key(i), "0"));
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread overwrite([&] {
    for (int round = 1; !stop.load(); ++round) {
      for (int i = kKeys - 1; i >= 0 && !stop.load(); --i) {
        if ((*writer)->Put(key(i), std::to_string(round))) ++writes;
      }
    }
  });
  int checked = 0;
  for (; checked < 20 && writes.load() < 2000; ++checked) {
    auto all = (*reader)->Range("/k/");
    ASSERT_TRUE(all) << all.error().Describe();
    ASSERT_EQ(all->kvs.size(), size_t{kKeys});
    for (const auto& kv : all->kvs) {
      ASSERT_LE(kv.mod_revision, all->revision) << kv.key << " read after the snapshot";
    }
  }
  stop = true;
  overwrite.join();
  EXPECT_GT(writes.load(), 0);
  auto cut = (*reader)->Range("/k/", 7);
  ASSERT_TRUE(cut);
  ASSERT_EQ(cut->kvs.size(), 7u);
  EXPECT_TRUE(cut->more);
  EXPECT_EQ(cut->kvs.back().key, key(6));
  auto exact = (*reader)->Range("/k/", kKeys);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->kvs.size(), size_t{kKeys});
  options.range_page_keys = 0;
  EXPECT_FALSE(EtcdStore::ValidateOptions(options));
}

// Two stores on one prefix are two replicas: each sees the other's writes through its watch.
TEST(EtcdStore, AnotherWritersChangesReachTheWatch) {
  EtcdCluster* cluster = SharedCluster(1);
  ASSERT_NE(cluster, nullptr);
  const std::string prefix = FreshPrefix();
  auto a = EtcdStore::Open(OptionsFor(*cluster, prefix));
  auto b = EtcdStore::Open(OptionsFor(*cluster, prefix));
  ASSERT_TRUE(a && b);
  const int64_t base = (*b)->CurrentRevision().value();
  auto watch = (*b)->StartWatch("/k/", base + 1).value();
  ASSERT_TRUE((*watch).Poll()->empty());
  const TxnResponse written = (*a)->Put("/k/1", "from-a").value();
  ASSERT_TRUE(WaitReadable(watch->fd(), 5000)) << "b's watch never woke for a's write";
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (events.empty() && std::chrono::steady_clock::now() < deadline) {
    auto polled = watch->Poll();
    ASSERT_TRUE(polled) << polled.error().Describe();
    events = *polled;
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv, (KeyValue{"/k/1", "from-a", written.revision, written.revision, 1}));
  EXPECT_EQ((*b)->Get("/k/1")->value, "from-a");
}

// Prefixes are namespaces: a store never sees nor deletes another prefix's keys.
TEST(EtcdStore, KeyPrefixesIsolateDeployments) {
  EtcdCluster* cluster = SharedCluster(1);
  ASSERT_NE(cluster, nullptr);
  auto blue = EtcdStore::Open(OptionsFor(*cluster, FreshPrefix()));
  auto green = EtcdStore::Open(OptionsFor(*cluster, FreshPrefix()));
  ASSERT_TRUE(blue && green);
  const int64_t blue_put = (*blue)->Put("/a", "blue")->revision;
  ASSERT_TRUE((*green)->Put("/a", "green"));
  ASSERT_TRUE((*green)->DeletePrefix(""));
  EXPECT_EQ((*blue)->Get("/a")->value, "blue");
  EXPECT_TRUE((*green)->Range("")->kvs.empty());
  // Green's history since blue's write holds green's put and delete only.
  auto green_changes = (*green)->Changes("", blue_put).value();
  ASSERT_EQ(green_changes.size(), 2u);
  EXPECT_EQ(green_changes[0].kv.value, "green");
  EXPECT_EQ(green_changes[1].type, Event::kDelete);
  EXPECT_EQ((*blue)->Changes("", blue_put)->size(), 1u);
}

// History starts at Open: older changes are kCompacted (the caller takes a snapshot, as after
// a compaction), later ones of any writer are all there.
// The window starts at Open; older changes are fetched from etcd on demand (a switch that
// reconnects to a controller that just started gets only what changed), back to etcd's own
// compaction, and not at all once this store compacted.
TEST(EtcdStore, HistoryBeforeOpenIsFetchedOnDemand) {
  EtcdCluster* cluster = SharedCluster(1);
  ASSERT_NE(cluster, nullptr);
  const std::string prefix = FreshPrefix();
  auto writer = EtcdStore::Open(OptionsFor(*cluster, prefix));
  ASSERT_TRUE(writer);
  int64_t before = 0;
  for (int i = 0; i < 5; ++i) before = (*writer)->Put("/k", std::to_string(i))->revision;
  ASSERT_TRUE((*writer)->Compact(before - 2));
  auto reader = EtcdStore::Open(OptionsFor(*cluster, prefix));
  ASSERT_TRUE(reader) << reader.error().Describe();
  const int64_t start = (*reader)->CompactedRevision().value();
  EXPECT_GT(start, before);
  EXPECT_LE(start, (*reader)->CurrentRevision().value());
  EXPECT_TRUE((*reader)->Changes("", start)->empty());
  // Before Open: read from etcd, once; the window starts there now.
  auto older = (*reader)->Changes("", before - 1);
  ASSERT_TRUE(older) << older.error().Describe();
  ASSERT_EQ(older->size(), 2u);
  EXPECT_EQ((*older)[0].kv.value, "3");
  EXPECT_EQ((*older)[1].kv.value, "4");
  EXPECT_EQ((*older)[1].kv.mod_revision, before);
  EXPECT_EQ((*reader)->CompactedRevision().value(), before - 1);
  EXPECT_EQ((*reader)->Changes("", before)->size(), 1u);
  // Behind etcd's own compaction: gone.
  EXPECT_EQ((*reader)->Changes("", before - 3).error().code, StoreError::kCompacted);
  EXPECT_EQ((*reader)->Get("/k")->value, "4");  // the state itself is all there
  const int64_t after = (*writer)->Put("/k", "5")->revision;
  auto watch = (*reader)->StartWatch("", start).value();
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (events.empty() && std::chrono::steady_clock::now() < deadline) {
    WaitReadable(watch->fd(), 100);
    events = watch->Poll().value();
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.mod_revision, after);
  // Once this store compacted, nothing before its compaction is fetched again.
  ASSERT_TRUE((*reader)->Compact(after));
  EXPECT_EQ((*reader)->Changes("", before).error().code, StoreError::kCompacted);
  EXPECT_EQ((*reader)->Changes("", start).error().code, StoreError::kCompacted);
}

TEST(EtcdStore, AnUnreachableClusterIsAClearError) {
  EtcdStore::Options options;
  options.endpoints = "http://127.0.0.1:" + std::to_string(test_support::ClosedPort());
  options.deadline = std::chrono::milliseconds(300);
  auto store = EtcdStore::Open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kUnavailable);
  EXPECT_NE(store.error().Describe().find("cannot reach etcd at " + options.endpoints),
            std::string::npos)
      << store.error().Describe();
  options.endpoints = "ftp://127.0.0.1:2379";
  EXPECT_EQ(EtcdStore::Open(options).error().code, StoreError::kInvalidArgument);
}

// One member of three dies: writes and watches go on; two die: writes are refused with
// kUnavailable (no quorum) and nothing acknowledged is lost; back to three: all resumes.
TEST(EtcdStore, SurvivesOneMemberAndRefusesWritesWithoutQuorum) {
  auto started = EtcdCluster::Start(3);
  ASSERT_TRUE(started) << started.error();
  EtcdCluster& cluster = **started;
  auto options = OptionsFor(cluster, FreshPrefix());
  options.deadline = std::chrono::milliseconds(3000);
  auto store = EtcdStore::Open(options);
  ASSERT_TRUE(store) << store.error().Describe();
  const int64_t base = (*store)->CurrentRevision().value();
  auto watch = (*store)->StartWatch("", base + 1).value();

  ASSERT_TRUE((*store)->Put("/before", "1"));
  cluster.Kill(0);
  // Calls to the dead member fail over to the others within the deadline; a call that was in
  // flight may fail (kUnavailable), so a writer retries, as the controller does.
  auto put_with_retry = [&](const std::string& key) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto put = (*store)->Put(key, "v");
      if (put) return true;
      EXPECT_EQ(put.error().code, StoreError::kUnavailable) << put.error().Describe();
    }
    return false;
  };
  ASSERT_TRUE(put_with_retry("/after-one-down"));
  EXPECT_EQ((*store)->Get("/before")->value, "1");

  cluster.Kill(1);
  auto refused = (*store)->Put("/no-quorum", "v");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreError::kUnavailable);
  EXPECT_NE(refused.error().Describe().find("etcd at "), std::string::npos)
      << refused.error().Describe();

  ASSERT_TRUE(cluster.Restart(0));
  ASSERT_TRUE(cluster.Restart(1));
  ASSERT_TRUE(put_with_retry("/after-recovery"));
  auto keys = (*store)->Range("").value();
  std::vector<std::string> names;
  for (const KeyValue& kv : keys.kvs) names.push_back(kv.key);
  // The refused write may or may not have been applied (etcd answered too late to say);
  // every acknowledged one is there.
  EXPECT_NE(std::find(names.begin(), names.end(), "/before"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "/after-one-down"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "/after-recovery"), names.end());
  // The watch stream reconnected and delivered every change, in order.
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto polled = watch->Poll();
    if (polled) events.insert(events.end(), polled->begin(), polled->end());
    if (!events.empty() && events.back().kv.key == "/after-recovery") break;
    WaitReadable(watch->fd(), 100);
  }
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().kv.key, "/before");
  EXPECT_EQ(events.back().kv.key, "/after-recovery");
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].kv.mod_revision, events[i].kv.mod_revision);
  }
}

}  // namespace
}  // namespace dove::store
