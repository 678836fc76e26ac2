// What only SqliteStore promises: the data directory survives close and kill -9, one
// controller at a time, and clear errors for files it must not use.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "unit/store/store_wait.h"

namespace dove::store {

using test_support::TempDir;
namespace {

std::unique_ptr<SqliteStore> OpenOrDie(const std::filesystem::path& dir) {
  auto store = SqliteStore::Open(dir);
  if (!store) {
    ADD_FAILURE() << store.error().Describe();
    return nullptr;
  }
  return std::move(*store);
}

// Runs one statement on the database file directly, as a tool or an attacker would.
void RunSql(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, StateAndHistorySurviveReopen) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put("/a", "1"));
    ASSERT_TRUE(store->Put("/b", std::string("\0\xff", 2)));
    ASSERT_TRUE(store->Put("/a", "2"));
    ASSERT_TRUE(store->Delete("/b"));
    ASSERT_TRUE(store->Compact(2));
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CurrentRevision().value(), 4);
  EXPECT_EQ(store->CompactedRevision().value(), 2);
  EXPECT_EQ(store->Get("/a").value(), (KeyValue{"/a", "2", 1, 3, 2}));
  EXPECT_EQ(store->Get("/b").error().code, StoreError::kNotFound);
  EXPECT_EQ(store->Changes("", 1).error().code, StoreError::kCompacted);
  auto events = store->Changes("", 2).value();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (Event{Event::kPut, KeyValue{"/b", std::string("\0\xff", 2), 2, 2, 1}}));
  EXPECT_EQ(events[2], (Event{Event::kDelete, KeyValue{"/b", "", 0, 4, 0}}));
  EXPECT_EQ(store->Put("/c", "1").value(), (TxnResponse{true, 5}));
}

TEST(SqliteStoreTest, DatabaseIsInWalMode) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("/a", "1"));
  // journal_mode=WAL is recorded in the file: a second reader sees it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir.path() / "dove.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  std::string mode;
  sqlite3_exec(
      db, "PRAGMA journal_mode",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(mode, "wal");
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "dove.db-wal"));
}

TEST(SqliteStoreTest, CreatesTheDataDirectory) {
  TempDir dir;
  const auto nested = dir.path() / "x" / "y";
  auto store = OpenOrDie(nested);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(nested / "dove.db"));
  EXPECT_EQ(store->data_dir(), nested);
}

TEST(SqliteStoreTest, OneControllerPerDataDirectory) {
  TempDir dir;
  auto first = OpenOrDie(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = SqliteStore::Open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, StoreError::kLocked);
  EXPECT_NE(second.error().message.find(dir.path().string()), std::string::npos);
  EXPECT_NE(second.error().Describe().find("another controller"), std::string::npos);
  first->Close();  // releases the lock
  auto third = SqliteStore::Open(dir.path());
  EXPECT_TRUE(third);
}

TEST(SqliteStoreTest, GarbageFileIsCorrupt) {
  TempDir dir;
  std::ofstream(dir.path() / "dove.db") << std::string(8192, 'x');
  auto store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kCorrupt);
  EXPECT_NE(store.error().message.find((dir.path() / "dove.db").string()), std::string::npos);
}

TEST(SqliteStoreTest, ForeignDatabaseIsRefused) {
  TempDir dir;
  RunSql(dir.path() / "dove.db", "CREATE TABLE something_else (x INTEGER)");
  auto store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kCorrupt);
}

TEST(SqliteStoreTest, NewerSchemaIsRefusedClearly) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
  }
  RunSql(dir.path() / "dove.db", "UPDATE meta SET value = 3 WHERE name = 'schema_version'");
  static_assert(SqliteStore::kSchemaVersion == 2, "make this test's version the next one");
  auto store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kUnsupportedSchema);
  EXPECT_NE(store.error().message.find("schema version 3"), std::string::npos);
  EXPECT_NE(store.error().Describe().find("newer version of DOVE"), std::string::npos);
}

// A database as DOVE wrote it before leases (schema version 1), with one key and its history.
TEST(SqliteStoreTest, VersionOneDatabaseGetsLeases) {
  TempDir dir;
  RunSql(dir.path() / "dove.db",
         "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
         "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
         "  create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL,"
         "  version INTEGER NOT NULL);"
         "CREATE TABLE changes (revision INTEGER NOT NULL, sub INTEGER NOT NULL,"
         "  kind INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
         "  create_revision INTEGER NOT NULL, version INTEGER NOT NULL,"
         "  PRIMARY KEY (revision, sub));"
         "INSERT INTO meta VALUES ('schema_version', 1), ('revision', 1),"
         "  ('compacted_revision', 0);"
         "INSERT INTO kv VALUES (CAST('/old' AS BLOB), CAST('v' AS BLOB), 1, 1, 1);"
         "INSERT INTO changes VALUES (1, 0, 0, CAST('/old' AS BLOB), CAST('v' AS BLOB), 1, 1);");
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->Get("/old").value(), (KeyValue{"/old", "v", 1, 1, 1, 0}));
    EXPECT_EQ(store->Changes("", 1).value(),
              (std::vector<Event>{{Event::kPut, KeyValue{"/old", "v", 1, 1, 1, 0}}}));
    const int64_t lease = store->GrantLease(60).value().id;
    EXPECT_EQ(lease, 1);
    TxnRequest request;
    request.success = {Op::Put("/old", "w", lease)};
    EXPECT_EQ(store->Txn(request).value(), (TxnResponse{true, 2}));
    EXPECT_EQ(store->Get("/old")->lease, lease);
  }
  // Migrated once: the version is recorded, and it opens again as version 2.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "dove.db").c_str(), &db), SQLITE_OK);
  int64_t version = 0;
  sqlite3_exec(
      db, "SELECT value FROM meta WHERE name = 'schema_version'",
      [](void* out, int, char** values, char**) {
        *static_cast<int64_t*>(out) = std::stoll(values[0]);
        return 0;
      },
      &version, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(version, SqliteStore::kSchemaVersion);
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("/old").value(), (KeyValue{"/old", "w", 1, 2, 2, 1}));
}

// Leases are kept across a reopen with their full TTL again from Open; ids are never reused.
TEST(SqliteStoreTest, LeasesSurviveReopen) {
  TempDir dir;
  LeaseGrant short_lease;
  LeaseGrant long_lease;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    short_lease = store->GrantLease(1).value();
    long_lease = store->GrantLease(600).value();
    const int64_t revoked = store->GrantLease(600).value().id;
    ASSERT_TRUE(store->RevokeLease(revoked));
    TxnRequest request;
    request.success = {Op::Put("/short", "1", short_lease.id),
                       Op::Put("/long", "1", long_lease.id)};
    ASSERT_TRUE(store->Txn(request));  // 1
    EXPECT_EQ(long_lease.id, short_lease.id + 1);
  }
  // Closed for longer than the short lease's TTL: it still gets its full TTL from Open.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const auto opened = std::chrono::steady_clock::now();
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("/short").value(), (KeyValue{"/short", "1", 1, 1, 1, short_lease.id}));
  EXPECT_EQ(store->KeepAliveLease(long_lease.id).value(), 600);
  EXPECT_EQ(store->KeepAliveLease(long_lease.id + 1).error().code, StoreError::kNotFound);
  EXPECT_EQ(store->GrantLease(5).value().id, long_lease.id + 2);  // the revoked id is not reused
  // Not kept alive after the reopen: the short lease ends, one TTL after Open at the earliest.
  ASSERT_TRUE(WaitUntilGone(*store, "/short", std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - opened, std::chrono::seconds(1));
  EXPECT_EQ(store->CurrentRevision().value(), 2);
  EXPECT_EQ(store->Changes("", 2).value(),
            (std::vector<Event>{{Event::kDelete, KeyValue{"/short", "", 0, 2, 0}}}));
  EXPECT_EQ(store->Get("/long")->lease, long_lease.id);
  store.reset();
  // The expiry was durable, like any other write.
  store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->KeepAliveLease(short_lease.id).error().code, StoreError::kNotFound);
  EXPECT_EQ(store->Get("/short").error().code, StoreError::kNotFound);
  EXPECT_EQ(store->CurrentRevision().value(), 2);
}

std::string CrashKey(char side, int64_t revision) {
  return std::string("/crash/") + side + "/" + std::to_string(revision);
}

// A child writes txns of two puts and reports each acknowledged revision; it is killed at a
// random point. Every acknowledged txn must be there in full, and no txn may be there in half.
TEST(SqliteStoreTest, AcknowledgedWritesSurviveKillDashNine) {
  TempDir dir;
  const auto data = dir.path() / "data";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto store = SqliteStore::Open(data);
    if (!store) _exit(2);
    for (int64_t expected = 1;; ++expected) {
      TxnRequest request;
      request.success = {Op::Put(CrashKey('a', expected), "value-" + std::to_string(expected)),
                         Op::Put(CrashKey('b', expected), "value-" + std::to_string(expected))};
      auto response = (*store)->Txn(request);
      if (!response || response->revision != expected) _exit(3);
      if (write(fds[1], &expected, sizeof(expected)) != sizeof(expected)) _exit(4);
    }
  }
  close(fds[1]);
  std::mt19937 random(std::random_device{}());
  const int64_t kill_after = std::uniform_int_distribution<int64_t>(200, 800)(random);
  int64_t acknowledged = 0;
  while (acknowledged < kill_after) {
    int64_t revision = 0;
    if (read(fds[0], &revision, sizeof(revision)) != sizeof(revision)) break;
    EXPECT_EQ(revision, acknowledged + 1);
    acknowledged = revision;
  }
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  ASSERT_EQ(acknowledged, kill_after);

  auto store = OpenOrDie(data);
  ASSERT_NE(store, nullptr);
  const int64_t revision = store->CurrentRevision().value();
  EXPECT_GE(revision, acknowledged);
  for (int64_t r = 1; r <= acknowledged; ++r) {
    for (char side : {'a', 'b'}) {
      auto kv = store->Get(CrashKey(side, r));
      ASSERT_TRUE(kv) << CrashKey(side, r) << ": " << kv.error().Describe();
      EXPECT_EQ(kv->value, "value-" + std::to_string(r));
      EXPECT_EQ(kv->mod_revision, r);
    }
  }
  // Whatever got in after the last acknowledgement got in whole: exactly one pair per revision.
  std::set<std::string> keys;
  auto range = store->Range("/crash/");
  ASSERT_TRUE(range);
  for (const KeyValue& kv : range->kvs) keys.insert(kv.key);
  EXPECT_EQ(keys.size(), static_cast<size_t>(2 * revision));
  for (int64_t r = 1; r <= revision; ++r) {
    EXPECT_EQ(keys.count(CrashKey('a', r)), 1u) << r;
    EXPECT_EQ(keys.count(CrashKey('b', r)), 1u) << r;
  }
  EXPECT_EQ(store->Changes("", 1)->size(), static_cast<size_t>(2 * revision));
}

}  // namespace
}  // namespace dove::store
