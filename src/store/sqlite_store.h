// SqliteStore: the Store kept in SQLite in the controller's data directory, the embedded
// default (nothing to install for a single controller).
//
// Layout: <data_dir>/dove.db (with its -wal and -shm files) and <data_dir>/dove.lock.
// Durability: journal_mode=WAL, synchronous=FULL; each Txn is one SQLite transaction
// (BEGIN IMMEDIATE ... COMMIT) and returns only after COMMIT did, so an acknowledged write
// survives kill -9 and power loss. A Txn that changes nothing is rolled back (no fsync).
// Tables: meta (schema version, revision, compacted revision, next lease id), kv (the current
// entries, each with its lease), changes (the event log for watches, trimmed by Compact) and
// leases (id, TTL). Keys and values are BLOBs, so ordering is bytewise, as in MemoryStore and
// etcd. An older schema (version 1: no leases) is migrated at Open, in one transaction.
//
// Leases (embedded_store.h): a grant and a lease's end are SQLite transactions like a Txn; a
// keepalive touches memory only. Deadlines are not stored: at Open every lease gets its full
// TTL again, however long the store was closed. A lease that cannot be ended (an I/O error)
// makes the call that tried fail, and stays for the next one.
//
// Errors: Open fails with kLocked when another process (another controller) holds the data
// directory, kUnsupportedSchema for a database written by a newer DOVE, kCorrupt for a file
// that is damaged or not a DOVE store, kIo when the directory or file cannot be made or
// opened; every message names the path. A Txn's kIo means it was not acknowledged and this
// connection rolled it back; as with any database, a commit whose final fsync failed may still
// be found durable after a restart, so a caller retries with a compare (e.g. CompareAndPut),
// not blindly. After Close(), every call is kClosed.
//
// Ownership: the store owns the SQLite connection and the lock file (an exclusive flock, held
// until Close or destruction). Threading: every method is safe from any thread (one internal
// mutex serialises all database access); owns no thread.
//
//   auto store = SqliteStore::Open("/var/lib/dove");
//   if (!store) return Fail(store.error().Describe());
//   // "the data directory is in use by another controller (/var/lib/dove/dove.lock is locked
//   // by another process)"
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/embedded_store.h"
#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dove::store {

struct TxnOutcome;

class SqliteStore final : public EmbeddedStore {
 public:
  // The newest schema this build reads and writes.
  static constexpr int64_t kSchemaVersion = 2;

  // Creates `data_dir` if needed and opens (or creates) the store in it.
  static Expected<std::unique_ptr<SqliteStore>, StoreError> Open(
      const std::filesystem::path& data_dir);
  ~SqliteStore() override;

  Expected<KeyValue, StoreError> Get(std::string_view key) override;
  Expected<RangeResponse, StoreError> Range(std::string_view prefix, size_t limit = 0,
                                            std::string_view from = {}) override;
  Expected<TxnResponse, StoreError> Txn(const TxnRequest& request) override;
  Expected<int64_t, StoreError> CurrentRevision() override;
  Expected<std::vector<Event>, StoreError> Changes(std::string_view prefix,
                                                   int64_t from_revision) override;
  Expected<void, StoreError> Compact(int64_t revision) override;
  Expected<int64_t, StoreError> CompactedRevision() override;
  void Close() override;

  const std::filesystem::path& data_dir() const { return data_dir_; }

 private:
  struct Statements;
  class Backend;
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };

  explicit SqliteStore(std::filesystem::path data_dir);
  Expected<void, StoreError> Init();
  Expected<void, StoreError> InitSchema();
  Expected<void, StoreError> LoadLeases();
  StoreError SqlError(int rc, std::string_view what) const;
  Expected<void, StoreError> Step(std::string_view what, sqlite3_stmt* stmt);
  void RollbackIfOpen();
  Expected<void, StoreError> CheckOpenLocked() override;
  // The lease row and next_lease_id, in one SQLite transaction.
  Expected<void, StoreError> SaveLeaseLocked(int64_t lease_id, int64_t ttl_seconds) override;
  // The keys' deletion and the lease row's, in one SQLite transaction.
  Expected<void, StoreError> EndLeaseLocked(int64_t lease_id,
                                            std::vector<std::string>& changed_keys) override;
  // Runs `work` in one SQLite transaction (BEGIN IMMEDIATE ... COMMIT); the revision goes up by
  // one when it changed keys. Unchanged, it is rolled back (no fsync) unless `keep_unchanged`
  // (it wrote rows of its own, e.g. a lease). Any error rolls it all back.
  Expected<TxnOutcome, StoreError> WriteLocked(
      const std::function<Expected<TxnOutcome, StoreError>(Backend&)>& work, bool keep_unchanged);
  void CloseLocked();

  std::filesystem::path data_dir_;
  std::filesystem::path db_path_;
  int lock_fd_ = -1;
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::unique_ptr<Statements> statements_;
  int64_t revision_ = 0;
  int64_t compacted_revision_ = 0;
};

}  // namespace dove::store
