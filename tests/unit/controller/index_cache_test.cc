// The index cache (index_snapshot.h, Registry's IndexCache): the file format refuses anything
// it did not write for this store, and a registry opened from a cache plus the store's changes
// since is the registry a full read of the store gives; every case that cannot use the file
// falls back to that full read.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/index_snapshot.h"
#include "controller/registry.h"
#include "store/memory_store.h"
#include "support/registry_dump.h"
#include "support/temp_dir.h"

namespace dove::controller {
namespace {

using namespace std::chrono_literals;

struct Read {
  SnapshotKind kind;
  int64_t mod_revision;
  std::string object;
  bool operator==(const Read&) const = default;
};

std::string Bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

const std::vector<Read> kRecords = {{SnapshotKind::kDomain, 3, "domain bytes"},
                                    {SnapshotKind::kEndpoint, 7, std::string("a\0b", 3)},
                                    {SnapshotKind::kEndpoint, 9, ""},
                                    {SnapshotKind::kPolicy, 10, std::string(70000, 'p')}};

void WriteRecords(const std::filesystem::path& file, std::string_view identity, int64_t revision) {
  auto writer = IndexSnapshotWriter::Create(file, identity, revision);
  ASSERT_TRUE(writer) << writer.error();
  for (const Read& r : kRecords) (*writer)->Add(r.kind, r.mod_revision, r.object);
  auto committed = (*writer)->Commit();
  ASSERT_TRUE(committed) << committed.error();
}

Expected<int64_t, SnapshotError> ReadAll(const std::filesystem::path& file,
                                         std::string_view identity, std::vector<Read>* out) {
  return ReadIndexSnapshot(file, identity, [&](const SnapshotRecord& r) {
    out->push_back({r.kind, r.mod_revision, std::string(r.object)});
    return Expected<void, std::string>();
  });
}

TEST(IndexSnapshot, WhatIsWrittenIsReadBackInOrder) {
  test_support::TempDir dir("dove-index-cache");
  const auto file = dir.path() / "index";
  ASSERT_NO_FATAL_FAILURE(WriteRecords(file, "etcd cluster 1 key prefix /dove/", 12));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "index.tmp"));
  std::vector<Read> read;
  auto revision = ReadAll(file, "etcd cluster 1 key prefix /dove/", &read);
  ASSERT_TRUE(revision) << revision.error().message;
  EXPECT_EQ(*revision, 12);
  EXPECT_EQ(read, kRecords);
}

TEST(IndexSnapshot, AnotherStoresFileIsRefusedNamingBoth) {
  test_support::TempDir dir("dove-index-cache");
  const auto file = dir.path() / "index";
  ASSERT_NO_FATAL_FAILURE(WriteRecords(file, "etcd cluster 1 key prefix /dove/", 12));
  std::vector<Read> read;
  auto refused = ReadAll(file, "etcd cluster 2 key prefix /dove/", &read);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, SnapshotError::kUnusable);
  EXPECT_NE(refused.error().message.find("etcd cluster 1"), std::string::npos);
  EXPECT_NE(refused.error().message.find("etcd cluster 2"), std::string::npos);
  EXPECT_TRUE(read.empty());
}

TEST(IndexSnapshot, NoFileIsMissingNotDamaged) {
  test_support::TempDir dir("dove-index-cache");
  std::vector<Read> read;
  auto missing = ReadAll(dir.path() / "index", "x", &read);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, SnapshotError::kMissing);
}

// Every truncation, every single flipped byte and anything appended is refused: the count and
// the hash cover what the framing cannot.
TEST(IndexSnapshot, EveryTruncationFlipAndAppendIsRefused) {
  test_support::TempDir dir("dove-index-cache");
  const auto file = dir.path() / "index";
  // Small records, so every byte can be flipped in turn.
  {
    auto writer = IndexSnapshotWriter::Create(file, "id", 40);
    ASSERT_TRUE(writer);
    (*writer)->Add(SnapshotKind::kNetwork, 5, "net");
    (*writer)->Add(SnapshotKind::kSwitch, 39, "sw");
    ASSERT_TRUE((*writer)->Commit());
  }
  const std::string good = Bytes(file);
  auto parse = [](std::string_view bytes) {
    return ParseIndexSnapshot(bytes, "id",
                              [](const SnapshotRecord&) { return Expected<void, std::string>(); });
  };
  ASSERT_TRUE(parse(good));
  for (size_t length = 0; length < good.size(); ++length) {
    auto cut = parse(std::string_view(good).substr(0, length));
    ASSERT_FALSE(cut) << "accepted a file cut to " << length << " of " << good.size() << " bytes";
    EXPECT_EQ(cut.error().code, SnapshotError::kUnusable);
  }
  for (size_t at = 0; at < good.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = good;
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
      EXPECT_FALSE(parse(flipped)) << "accepted bit " << bit << " of byte " << at << " flipped";
    }
  }
  EXPECT_FALSE(parse(good + '\0'));
}

TEST(IndexSnapshot, ARefusedRecordStopsTheReadNamingIt) {
  test_support::TempDir dir("dove-index-cache");
  const auto file = dir.path() / "index";
  ASSERT_NO_FATAL_FAILURE(WriteRecords(file, "id", 12));
  int visited = 0;
  auto refused = ReadIndexSnapshot(file, "id", [&](const SnapshotRecord&) {
    return ++visited == 2 ? Expected<void, std::string>(Unexpected(std::string("no such kind")))
                          : Expected<void, std::string>();
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(visited, 2);
  EXPECT_NE(refused.error().message.find("record 2: no such kind"), std::string::npos)
      << refused.error().message;
}

TEST(IndexSnapshot, AFailedWriteLeavesThePreviousFile) {
  test_support::TempDir dir("dove-index-cache");
  const auto file = dir.path() / "index";
  ASSERT_NO_FATAL_FAILURE(WriteRecords(file, "id", 12));
  const std::string before = Bytes(file);
  {
    // Abandoned before Commit: FILE.tmp goes, FILE stays.
    auto writer = IndexSnapshotWriter::Create(file, "id", 13);
    ASSERT_TRUE(writer);
    (*writer)->Add(SnapshotKind::kDomain, 13, "half");
  }
  EXPECT_EQ(Bytes(file), before);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "index.tmp"));
  // A directory that does not exist: a clear error.
  auto nowhere = IndexSnapshotWriter::Create(dir.path() / "gone" / "index", "id", 1);
  ASSERT_FALSE(nowhere);
  EXPECT_NE(nowhere.error().find("gone/index.tmp"), std::string::npos) << nowhere.error();
}

TEST(CacheDirLock, OneControllerPerDirectory) {
  test_support::TempDir dir("dove-index-cache");
  auto first = CacheDirLock::Acquire(dir.path() / "replica");
  ASSERT_TRUE(first) << first.error();
  auto second = CacheDirLock::Acquire(dir.path() / "replica");
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("in use by another running controller"), std::string::npos)
      << second.error();
  first->reset();
  EXPECT_TRUE(CacheDirLock::Acquire(dir.path() / "replica"));
}

// ---- the registry over a cache ----------------------------------------------------------

v1::Domain MakeDomain(std::string id, std::string name) {
  v1::Domain d;
  d.set_id(std::move(id));
  d.set_name(std::move(name));
  return d;
}

v1::Network MakeNetwork(std::string id, std::string domain, std::string name) {
  v1::Network n;
  n.set_id(std::move(id));
  n.set_domain_id(std::move(domain));
  n.set_name(std::move(name));
  return n;
}

v1::Subnet MakeSubnet(std::string id, std::string network, std::string cidr) {
  v1::Subnet s;
  s.set_id(std::move(id));
  s.set_network_id(std::move(network));
  s.set_cidr(std::move(cidr));
  return s;
}

v1::Endpoint MakeEndpoint(std::string id, std::string network) {
  v1::Endpoint e;
  e.set_id(std::move(id));
  e.set_network_id(std::move(network));
  return e;
}

class IndexCacheTest : public ::testing::Test {
 protected:
  IndexCache Cache(std::string identity = "memory store 1") const {
    return IndexCache{.file = dir_.path() / "index", .identity = std::move(identity)};
  }

  std::unique_ptr<Registry> Open(store::Store* store, IndexCache cache) {
    auto registry = Registry::Open(store, std::move(cache));
    EXPECT_TRUE(registry) << registry.error().message;
    return registry ? std::move(*registry) : nullptr;
  }

  // Two networks, four endpoints.
  void Fill(Registry& registry) {
    ASSERT_TRUE(registry.Create(MakeDomain("d", "acme")));
    for (const char* n : {"n1", "n2"}) {
      ASSERT_TRUE(registry.Create(MakeNetwork(n, "d", std::string("net-") + n)));
    }
    ASSERT_TRUE(registry.Create(MakeSubnet("s1", "n1", "10.0.1.0/24")));
    ASSERT_TRUE(registry.Create(MakeSubnet("s2", "n2", "10.0.2.0/24")));
    for (const char* e : {"e1", "e2", "e3"}) ASSERT_TRUE(registry.Create(MakeEndpoint(e, "n1")));
    ASSERT_TRUE(registry.Create(MakeEndpoint("e4", "n2")));
  }

  // What a registry reading the store whole holds, with its revision.
  std::string FullRead(store::Store* store) {
    auto full = Open(store, {});
    return full ? test_support::DumpRegistry(*full) + " @" + std::to_string(full->Revision()) : "";
  }

  static std::string Held(const Registry& registry) {
    return test_support::DumpRegistry(registry) + " @" + std::to_string(registry.Revision());
  }

  test_support::TempDir dir_{"dove-index-cache"};
};

// Written at one revision, then puts, replaces and deletes (an endpoint, a whole network) by
// another writer: the cache plus the changes since is what the store holds.
TEST_F(IndexCacheTest, TheCacheAndTheChangesSinceAreTheStore) {
  store::MemoryStore store;
  auto writer = Open(&store, Cache());
  ASSERT_TRUE(writer);
  EXPECT_FALSE(writer->Stats().loaded_from_cache);  // no file yet
  ASSERT_NO_FATAL_FAILURE(Fill(*writer));
  ASSERT_TRUE(writer->WriteIndexCache());
  EXPECT_EQ(writer->Stats().cache_writes, 1u);

  auto moved = writer->Get<v1::Endpoint>("e1");
  ASSERT_TRUE(moved);
  moved->set_switch_name("sw1");
  moved->set_port_name("tap1");
  ASSERT_TRUE(writer->Replace("e1", *moved));
  ASSERT_TRUE(writer->Delete<v1::Endpoint>("e2", false));
  ASSERT_TRUE(writer->Delete<v1::Network>("n2", true));
  ASSERT_TRUE(writer->Create(MakeEndpoint("e5", "n1")));
  writer.reset();

  auto restarted = Open(&store, Cache());
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(restarted->Stats().loaded_from_cache);
  EXPECT_EQ(Held(*restarted), FullRead(&store));
  EXPECT_EQ(restarted->Get<v1::Endpoint>("e1")->switch_name(), "sw1");
  EXPECT_EQ(restarted->Get<v1::Endpoint>("e2").error().code, "not_found");
  EXPECT_EQ(restarted->Get<v1::Network>("n2").error().code, "not_found");
  EXPECT_EQ(restarted->Counts().endpoints, 3u);  // e1 e3 e5
  // It goes on as any registry: a write through it, read back.
  ASSERT_TRUE(restarted->Create(MakeEndpoint("e6", "n1")));
  EXPECT_EQ(Held(*restarted), FullRead(&store));
}

TEST_F(IndexCacheTest, AnotherStoresCacheIsSetAside) {
  store::MemoryStore store;
  {
    auto writer = Open(&store, Cache("memory store 1"));
    ASSERT_NO_FATAL_FAILURE(Fill(*writer));
    ASSERT_TRUE(writer->WriteIndexCache());
  }
  auto other = Open(&store, Cache("memory store 2"));
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->Stats().loaded_from_cache);
  EXPECT_EQ(Held(*other), FullRead(&store));
}

// A store replaced by an empty one (the same identity, as a restored backup may have): the
// cache is ahead of it and is not read.
TEST_F(IndexCacheTest, ACacheAheadOfTheStoreIsSetAside) {
  {
    store::MemoryStore first;
    auto writer = Open(&first, Cache());
    ASSERT_NO_FATAL_FAILURE(Fill(*writer));
    ASSERT_TRUE(writer->WriteIndexCache());
  }
  store::MemoryStore replaced;
  auto registry = Open(&replaced, Cache());
  ASSERT_TRUE(registry);
  EXPECT_FALSE(registry->Stats().loaded_from_cache);
  EXPECT_EQ(registry->Counts().endpoints, 0u);
  EXPECT_EQ(registry->Counts().domains, 0u);
}

TEST_F(IndexCacheTest, ACacheOlderThanTheStoresHistoryIsSetAside) {
  store::MemoryStore store;
  {
    auto writer = Open(&store, Cache());
    ASSERT_TRUE(writer->Create(MakeDomain("d0", "first")));
    ASSERT_TRUE(writer->WriteIndexCache());
    ASSERT_NO_FATAL_FAILURE(Fill(*writer));
  }
  auto current = store.CurrentRevision();
  ASSERT_TRUE(current);
  ASSERT_TRUE(store.Compact(*current));
  auto registry = Open(&store, Cache());
  ASSERT_TRUE(registry);
  EXPECT_FALSE(registry->Stats().loaded_from_cache);
  EXPECT_EQ(Held(*registry), FullRead(&store));
}

TEST_F(IndexCacheTest, ADamagedCacheIsSetAside) {
  store::MemoryStore store;
  {
    auto writer = Open(&store, Cache());
    ASSERT_NO_FATAL_FAILURE(Fill(*writer));
    ASSERT_TRUE(writer->WriteIndexCache());
  }
  std::string bytes = Bytes(Cache().file);
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  WriteBytes(Cache().file, bytes);
  auto registry = Open(&store, Cache());
  ASSERT_TRUE(registry);
  EXPECT_FALSE(registry->Stats().loaded_from_cache);
  EXPECT_EQ(Held(*registry), FullRead(&store));
}

// The watch thread writes a new copy once the index changed and the interval passed, and not
// while nothing changes.
TEST_F(IndexCacheTest, TheWatchThreadRewritesTheCacheAfterChanges) {
  store::MemoryStore store;
  IndexCache cache = Cache();
  cache.interval = 1s;
  auto registry = Open(&store, cache);
  ASSERT_TRUE(registry);
  ASSERT_NO_FATAL_FAILURE(Fill(*registry));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (registry->Stats().cache_writes == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(registry->Stats().cache_writes, 1u);
  std::this_thread::sleep_for(2500ms);  // two more intervals, nothing changed
  EXPECT_EQ(registry->Stats().cache_writes, 1u);
  ASSERT_TRUE(registry->Create(MakeEndpoint("e9", "n1")));
  while (registry->Stats().cache_writes == 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(registry->Stats().cache_writes, 2u);
  registry.reset();
  auto restarted = Open(&store, Cache());
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(restarted->Stats().loaded_from_cache);
  EXPECT_EQ(Held(*restarted), FullRead(&store));
}

}  // namespace
}  // namespace dove::controller
