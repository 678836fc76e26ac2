#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "store/txn_backend.h"
#include "store/txn_rules.h"

namespace dove::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct StatementCloser {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementCloser>;

// Holds a cached statement for one use: bindings in, rows out, reset on scope exit so the
// next use starts clean and no read transaction is left open.
class StatementUse {
 public:
  explicit StatementUse(const StatementPtr& stmt) : stmt_(stmt.get()) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  void Bytes(int index, std::string_view bytes) {
    // A null pointer would bind NULL; an empty blob needs a real one.
    const char* data = bytes.empty() ? "" : bytes.data();
    sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void Text(int index, const char* text) {
    sqlite3_bind_text(stmt_, index, text, -1, SQLITE_STATIC);
  }
  void Int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

std::string ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// kv columns: key, value, create_revision, mod_revision, version, lease.
KeyValue ReadKeyValue(sqlite3_stmt* stmt) {
  return KeyValue{ColumnBytes(stmt, 0),          ColumnBytes(stmt, 1),
                  sqlite3_column_int64(stmt, 2), sqlite3_column_int64(stmt, 3),
                  sqlite3_column_int64(stmt, 4), sqlite3_column_int64(stmt, 5)};
}

// The tables of schema version 1. A new database is made as version 1 and then migrated like
// an old one, so the migrations run on every new store (and every test).
constexpr const char* kSchemaV1 =
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
    "  create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL,"
    "  version INTEGER NOT NULL);"
    "CREATE TABLE changes (revision INTEGER NOT NULL, sub INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
    "  create_revision INTEGER NOT NULL, version INTEGER NOT NULL,"
    "  PRIMARY KEY (revision, sub));"
    "INSERT INTO meta VALUES ('schema_version', 1), ('revision', 0),"
    "  ('compacted_revision', 0);";

// Version 1 -> 2: leases. Each key and each logged put names its lease (0: none); the leases
// table holds each live lease's TTL; next_lease_id is never handed out twice.
constexpr const char* kMigrateToV2 =
    "ALTER TABLE kv ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE changes ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX kv_by_lease ON kv (lease) WHERE lease != 0;"
    "CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('next_lease_id', 1);"
    "UPDATE meta SET value = 2 WHERE name = 'schema_version';";

}  // namespace

struct SqliteStore::Statements {
  StatementPtr begin, commit, rollback;
  StatementPtr get, upsert, erase;
  StatementPtr range_from, range_between;  // prefix without / with an upper bound
  StatementPtr log, changes_from, changes_between, compact;
  StatementPtr set_meta;
  StatementPtr keys_with_lease, insert_lease, delete_lease;
};

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

// Reads and writes inside the SQLite transaction Txn opened; errors make Txn roll back.
class SqliteStore::Backend final : public TxnBackend {
 public:
  explicit Backend(SqliteStore& store) : store_(store), s_(*store.statements_) {}

  Expected<std::optional<KeyValue>, StoreError> Read(std::string_view key) override {
    StatementUse use(s_.get);
    use.Bytes(1, key);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return std::optional<KeyValue>(ReadKeyValue(use.get()));
    if (rc == SQLITE_DONE) return std::optional<KeyValue>();
    return Unexpected(store_.SqlError(rc, "read key"));
  }
  Expected<std::vector<std::string>, StoreError> KeysWithPrefix(std::string_view prefix) override {
    const std::optional<std::string> end = PrefixEnd(prefix);
    StatementUse use(end ? s_.range_between : s_.range_from);
    use.Bytes(1, prefix);
    if (end) use.Bytes(2, *end);
    use.Int(end ? 3 : 2, -1);
    std::vector<std::string> keys;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) keys.push_back(ColumnBytes(use.get(), 0));
    if (rc != SQLITE_DONE) return Unexpected(store_.SqlError(rc, "list prefix"));
    return keys;
  }
  Expected<std::vector<std::string>, StoreError> KeysWithLease(int64_t lease) override {
    StatementUse use(s_.keys_with_lease);
    use.Int(1, lease);
    std::vector<std::string> keys;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) keys.push_back(ColumnBytes(use.get(), 0));
    if (rc != SQLITE_DONE) return Unexpected(store_.SqlError(rc, "list the keys of a lease"));
    return keys;
  }
  Expected<void, StoreError> Write(const KeyValue& kv) override {
    StatementUse use(s_.upsert);
    use.Bytes(1, kv.key);
    use.Bytes(2, kv.value);
    use.Int(3, kv.create_revision);
    use.Int(4, kv.mod_revision);
    use.Int(5, kv.version);
    use.Int(6, kv.lease);
    return store_.Step("write key", use.get());
  }
  Expected<void, StoreError> Erase(std::string_view key) override {
    StatementUse use(s_.erase);
    use.Bytes(1, key);
    return store_.Step("delete key", use.get());
  }
  Expected<void, StoreError> Log(const Event& event, int64_t sub) override {
    StatementUse use(s_.log);
    use.Int(1, event.kv.mod_revision);
    use.Int(2, sub);
    use.Int(3, event.type);
    use.Bytes(4, event.kv.key);
    use.Bytes(5, event.kv.value);
    use.Int(6, event.kv.create_revision);
    use.Int(7, event.kv.version);
    use.Int(8, event.kv.lease);
    return store_.Step("log change", use.get());
  }

 private:
  SqliteStore& store_;
  Statements& s_;
};

SqliteStore::SqliteStore(std::filesystem::path data_dir)
    : data_dir_(std::move(data_dir)), db_path_(data_dir_ / "dove.db") {}

SqliteStore::~SqliteStore() {
  DetachWatches();
  std::lock_guard lock(mutex_);
  CloseLocked();
}

Expected<std::unique_ptr<SqliteStore>, StoreError> SqliteStore::Open(
    const std::filesystem::path& data_dir) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(data_dir));
  if (auto ok = store->Init(); !ok) return Unexpected(ok.error());
  return store;
}

StoreError SqliteStore::SqlError(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  const StoreError::Code code = primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
                                    ? StoreError::kCorrupt
                                    : StoreError::kIo;
  std::string detail = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  return StoreError{code, db_path_.string() + ": " + std::string(what) + ": " + detail};
}

Expected<void, StoreError> SqliteStore::Step(std::string_view what, sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
  return Unexpected(SqlError(rc, what));
}

Expected<void, StoreError> SqliteStore::Init() {
  std::error_code error;
  std::filesystem::create_directories(data_dir_, error);
  if (error) {
    return Unexpected(StoreError{StoreError::kIo, "cannot create data directory " +
                                                      data_dir_.string() + ": " + error.message()});
  }
  const std::filesystem::path lock_path = data_dir_ / "dove.lock";
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return Unexpected(
        StoreError{StoreError::kIo, "cannot open " + lock_path.string() + ": " + strerror(errno)});
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Unexpected(
          StoreError{StoreError::kLocked, lock_path.string() + " is locked by another process"});
    }
    return Unexpected(
        StoreError{StoreError::kIo, "cannot lock " + lock_path.string() + ": " + strerror(errno)});
  }

  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(db_path_.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(db);  // even on failure, the handle must be closed
  if (rc != SQLITE_OK) return Unexpected(SqlError(rc, "open"));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  // journal_mode answers with the mode in effect; anything but "wal" is a failure.
  std::string mode;
  int pragma_rc = sqlite3_exec(
      db, "PRAGMA journal_mode=WAL",
      [](void* out, int columns, char** values, char** /*names*/) {
        if (columns > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, nullptr);
  if (pragma_rc != SQLITE_OK) return Unexpected(SqlError(pragma_rc, "set journal_mode=WAL"));
  if (mode != "wal") {
    return Unexpected(
        StoreError{StoreError::kIo, db_path_.string() + ": journal_mode is " + mode + ", not wal"});
  }
  pragma_rc = sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", nullptr,
                           nullptr, nullptr);
  if (pragma_rc != SQLITE_OK) return Unexpected(SqlError(pragma_rc, "set pragmas"));
  // Durability is the point of this store: read the setting back rather than trust it.
  std::string synchronous;
  pragma_rc = sqlite3_exec(
      db, "PRAGMA synchronous",
      [](void* out, int columns, char** values, char** /*names*/) {
        if (columns > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &synchronous, nullptr);
  if (pragma_rc != SQLITE_OK) return Unexpected(SqlError(pragma_rc, "read synchronous"));
  if (synchronous != "2") {  // 2 = FULL
    return Unexpected(StoreError{
        StoreError::kIo, db_path_.string() + ": synchronous is " + synchronous + ", not FULL (2)"});
  }

  if (auto schema = InitSchema(); !schema) return schema;

  statements_ = std::make_unique<Statements>();
  struct Text {
    StatementPtr* stmt;
    const char* sql;
  };
  Statements& s = *statements_;
  const Text texts[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.rollback, "ROLLBACK"},
      {&s.get,
       "SELECT key, value, create_revision, mod_revision, version, lease FROM kv WHERE key = ?1"},
      {&s.upsert,
       "INSERT INTO kv (key, value, create_revision, mod_revision, version, lease) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
       "create_revision = excluded.create_revision, mod_revision = excluded.mod_revision, "
       "version = excluded.version, lease = excluded.lease"},
      {&s.erase, "DELETE FROM kv WHERE key = ?1"},
      {&s.range_from,
       "SELECT key, value, create_revision, mod_revision, version, lease FROM kv WHERE key >= ?1 "
       "ORDER BY key LIMIT ?2"},
      {&s.range_between,
       "SELECT key, value, create_revision, mod_revision, version, lease FROM kv "
       "WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3"},
      {&s.log,
       "INSERT INTO changes (revision, sub, kind, key, value, create_revision, version, lease) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&s.changes_from,
       "SELECT key, value, create_revision, revision, version, lease, kind FROM changes "
       "WHERE revision >= ?1 AND key >= ?2 ORDER BY revision, sub"},
      {&s.changes_between,
       "SELECT key, value, create_revision, revision, version, lease, kind FROM changes "
       "WHERE revision >= ?1 AND key >= ?2 AND key < ?3 ORDER BY revision, sub"},
      {&s.compact, "DELETE FROM changes WHERE revision < ?1"},
      {&s.set_meta, "UPDATE meta SET value = ?2 WHERE name = ?1"},
      {&s.keys_with_lease, "SELECT key FROM kv WHERE lease = ?1 ORDER BY key"},
      {&s.insert_lease, "INSERT INTO leases (id, ttl) VALUES (?1, ?2)"},
      {&s.delete_lease, "DELETE FROM leases WHERE id = ?1"},
  };
  for (const Text& text : texts) {
    sqlite3_stmt* stmt = nullptr;
    const int prepare_rc =
        sqlite3_prepare_v3(db, text.sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    text.stmt->reset(stmt);
    if (prepare_rc != SQLITE_OK) return Unexpected(SqlError(prepare_rc, "prepare"));
  }
  return {};
}

// Creates the tables in an empty database, or checks the version of an existing one, and
// loads the revision counters.
Expected<void, StoreError> SqliteStore::InitSchema() {
  sqlite3* db = db_.get();
  auto exec = [&](const char* sql, const char* what) -> Expected<void, StoreError> {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Unexpected(SqlError(rc, what));
    return {};
  };
  // One-off queries returning a single integer (or nothing).
  auto query = [&](const char* sql) -> Expected<std::optional<int64_t>, StoreError> {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    StatementPtr stmt(raw);
    if (rc != SQLITE_OK) return Unexpected(SqlError(rc, "read schema"));
    rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) return std::optional<int64_t>(sqlite3_column_int64(raw, 0));
    if (rc == SQLITE_DONE) return std::optional<int64_t>();
    return Unexpected(SqlError(rc, "read schema"));
  };

  if (auto begun = exec("BEGIN IMMEDIATE", "begin schema transaction"); !begun) return begun;
  auto result = [&]() -> Expected<void, StoreError> {
    auto has_meta =
        query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    if (!has_meta) return Unexpected(has_meta.error());
    if (has_meta->value_or(0) == 0) {
      auto tables = query("SELECT count(*) FROM sqlite_master");
      if (!tables) return Unexpected(tables.error());
      if (tables->value_or(0) != 0) {
        return Unexpected(StoreError{StoreError::kCorrupt,
                                     db_path_.string() + " holds tables but no DOVE meta table"});
      }
      if (auto created = exec(kSchemaV1, "create schema"); !created) return created;
    }
    auto version = query("SELECT value FROM meta WHERE name = 'schema_version'");
    if (!version) return Unexpected(version.error());
    if (!version->has_value() || **version < 1) {
      return Unexpected(
          StoreError{StoreError::kCorrupt, db_path_.string() + " has no valid schema version"});
    }
    if (**version > kSchemaVersion) {
      return Unexpected(StoreError{StoreError::kUnsupportedSchema,
                                   db_path_.string() + " has store schema version " +
                                       std::to_string(**version) + "; this build reads up to " +
                                       std::to_string(kSchemaVersion) +
                                       ": run a newer DOVE controller"});
    }
    if (**version < 2) return exec(kMigrateToV2, "migrate the store schema to version 2");
    return {};
  }();
  if (!result) {
    RollbackIfOpen();
    return result;
  }
  if (auto committed = exec("COMMIT", "commit schema"); !committed) {
    RollbackIfOpen();
    return committed;
  }
  auto revision = query("SELECT value FROM meta WHERE name = 'revision'");
  if (!revision) return Unexpected(revision.error());
  auto compacted = query("SELECT value FROM meta WHERE name = 'compacted_revision'");
  if (!compacted) return Unexpected(compacted.error());
  auto next_lease = query("SELECT value FROM meta WHERE name = 'next_lease_id'");
  if (!next_lease) return Unexpected(next_lease.error());
  if (!revision->has_value() || !compacted->has_value() || !next_lease->has_value()) {
    return Unexpected(
        StoreError{StoreError::kCorrupt, db_path_.string() + " lacks its revision counters"});
  }
  revision_ = **revision;
  compacted_revision_ = **compacted;
  next_lease_id_ = **next_lease;
  return LoadLeases();
}

// Every lease starts its full TTL again now (etcd renews its leases on a new leader likewise):
// the time the store was closed does not count against them.
Expected<void, StoreError> SqliteStore::LoadLeases() {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), "SELECT id, ttl FROM leases", -1, &raw, nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return Unexpected(SqlError(rc, "read leases"));
  const auto now = LeaseTable::Clock::now();
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(raw, 0);
    const int64_t ttl = sqlite3_column_int64(raw, 1);
    if (id < 1 || id >= next_lease_id_ || !ValidateLeaseTtl(ttl)) {
      return Unexpected(StoreError{StoreError::kCorrupt, db_path_.string() + " holds lease " +
                                                             std::to_string(id) + " with TTL " +
                                                             std::to_string(ttl)});
    }
    leases_.Add(id, ttl, now);
  }
  if (rc != SQLITE_DONE) return Unexpected(SqlError(rc, "read leases"));
  return {};
}

void SqliteStore::RollbackIfOpen() {
  if (db_ && sqlite3_get_autocommit(db_.get()) == 0) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void SqliteStore::CloseLocked() {
  statements_.reset();
  db_.reset();
  if (lock_fd_ >= 0) {
    close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

void SqliteStore::Close() {
  DetachWatches();
  std::lock_guard lock(mutex_);
  CloseLocked();
}

namespace {

StoreError ClosedError(const std::filesystem::path& path) {
  return StoreError{StoreError::kClosed, path.string()};
}

}  // namespace

Expected<KeyValue, StoreError> SqliteStore::Get(std::string_view key) {
  if (auto valid = ValidateKey(key); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  StatementUse use(statements_->get);
  use.Bytes(1, key);
  const int rc = sqlite3_step(use.get());
  if (rc == SQLITE_ROW) return ReadKeyValue(use.get());
  if (rc == SQLITE_DONE) return Unexpected(StoreError{StoreError::kNotFound, std::string(key)});
  return Unexpected(SqlError(rc, "get"));
}

Expected<RangeResponse, StoreError> SqliteStore::Range(std::string_view prefix, size_t limit,
                                                       std::string_view from) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  const std::optional<std::string> end = PrefixEnd(prefix);
  StatementUse use(end ? statements_->range_between : statements_->range_from);
  use.Bytes(1, std::max(prefix, from));  // the prefix's keys sort from the prefix itself
  if (end) use.Bytes(2, *end);
  // One row more than asked tells whether there are more.
  use.Int(end ? 3 : 2, limit == 0 ? -1 : static_cast<int64_t>(limit) + 1);
  RangeResponse response;
  response.revision = revision_;
  int rc;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
    if (limit != 0 && response.kvs.size() == limit) {
      response.more = true;
      rc = SQLITE_DONE;
      break;
    }
    response.kvs.push_back(ReadKeyValue(use.get()));
  }
  if (rc != SQLITE_DONE) return Unexpected(SqlError(rc, "range"));
  return response;
}

Expected<TxnOutcome, StoreError> SqliteStore::WriteLocked(
    const std::function<Expected<TxnOutcome, StoreError>(Backend&)>& work, bool keep_unchanged) {
  Statements& s = *statements_;
  {
    StatementUse begin(s.begin);
    if (auto begun = Step("begin", begin.get()); !begun) return Unexpected(begun.error());
  }
  auto run = [&]() -> Expected<TxnOutcome, StoreError> {
    Backend backend(*this);
    auto outcome = work(backend);
    if (!outcome) return outcome;
    if (outcome->changed_keys.empty() && !keep_unchanged) {
      StatementUse rollback(s.rollback);
      if (auto done = Step("rollback", rollback.get()); !done) return Unexpected(done.error());
      return outcome;
    }
    if (!outcome->changed_keys.empty()) {
      StatementUse set(s.set_meta);
      set.Text(1, "revision");
      set.Int(2, revision_ + 1);
      if (auto done = Step("update revision", set.get()); !done) return Unexpected(done.error());
    }
    StatementUse commit(s.commit);
    if (auto done = Step("commit", commit.get()); !done) return Unexpected(done.error());
    return outcome;
  };
  auto outcome = run();
  if (!outcome) {
    RollbackIfOpen();
    return outcome;
  }
  if (!outcome->changed_keys.empty()) ++revision_;
  return outcome;
}

Expected<void, StoreError> SqliteStore::CheckOpenLocked() {
  if (!statements_) return Unexpected(ClosedError(db_path_));
  return {};
}

Expected<void, StoreError> SqliteStore::EndLeaseLocked(int64_t lease_id,
                                                       std::vector<std::string>& changed_keys) {
  auto outcome = WriteLocked(
      [&](Backend& backend) -> Expected<TxnOutcome, StoreError> {
        auto deleted = DeleteLeaseKeys(backend, lease_id, revision_);
        if (!deleted) return deleted;
        StatementUse use(statements_->delete_lease);
        use.Int(1, lease_id);
        if (auto done = Step("delete lease", use.get()); !done) return Unexpected(done.error());
        return deleted;
      },
      /*keep_unchanged=*/true);
  if (!outcome) return Unexpected(outcome.error());
  changed_keys.insert(changed_keys.end(), outcome->changed_keys.begin(),
                      outcome->changed_keys.end());
  return {};
}

Expected<TxnResponse, StoreError> SqliteStore::Txn(const TxnRequest& request) {
  if (auto valid = ValidateTxn(request); !valid) return Unexpected(valid.error());
  PendingNotifications changed(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(changed.keys); !ready) return Unexpected(ready.error());
  auto outcome =
      WriteLocked([&](Backend& backend) { return ApplyTxn(backend, request, revision_, leases_); },
                  /*keep_unchanged=*/false);
  if (!outcome) return Unexpected(outcome.error());
  changed.keys.insert(changed.keys.end(), outcome->changed_keys.begin(),
                      outcome->changed_keys.end());
  return TxnResponse{outcome->succeeded, revision_};
}

Expected<int64_t, StoreError> SqliteStore::CurrentRevision() {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  return revision_;
}

Expected<std::vector<Event>, StoreError> SqliteStore::Changes(std::string_view prefix,
                                                              int64_t from_revision) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  if (from_revision < 0) {
    return Unexpected(StoreError{StoreError::kInvalidArgument, "negative revision"});
  }
  if (from_revision < compacted_revision_) {
    return Unexpected(StoreError{StoreError::kCompacted, "revision " +
                                                             std::to_string(from_revision) +
                                                             " is before the compacted revision " +
                                                             std::to_string(compacted_revision_)});
  }
  const std::optional<std::string> end = PrefixEnd(prefix);
  StatementUse use(end ? statements_->changes_between : statements_->changes_from);
  use.Int(1, from_revision);
  use.Bytes(2, prefix);
  if (end) use.Bytes(3, *end);
  std::vector<Event> events;
  int rc;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
    const auto type =
        sqlite3_column_int64(use.get(), 6) == Event::kDelete ? Event::kDelete : Event::kPut;
    events.push_back(Event{type, ReadKeyValue(use.get())});
  }
  if (rc != SQLITE_DONE) return Unexpected(SqlError(rc, "changes"));
  return events;
}

Expected<void, StoreError> SqliteStore::Compact(int64_t revision) {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  if (revision < 1 || revision > revision_) {
    return Unexpected(
        StoreError{StoreError::kInvalidArgument, "compact revision " + std::to_string(revision) +
                                                     " outside 1.." + std::to_string(revision_)});
  }
  if (revision <= compacted_revision_) return {};
  Statements& s = *statements_;
  auto run = [&]() -> Expected<void, StoreError> {
    {
      StatementUse begin(s.begin);
      if (auto done = Step("begin", begin.get()); !done) return done;
    }
    {
      StatementUse compact(s.compact);
      compact.Int(1, revision);
      if (auto done = Step("compact", compact.get()); !done) return done;
    }
    {
      StatementUse set(s.set_meta);
      set.Text(1, "compacted_revision");
      set.Int(2, revision);
      if (auto done = Step("update compacted revision", set.get()); !done) return done;
    }
    StatementUse commit(s.commit);
    return Step("commit", commit.get());
  };
  if (auto done = run(); !done) {
    RollbackIfOpen();
    return done;
  }
  compacted_revision_ = revision;
  return {};
}

Expected<int64_t, StoreError> SqliteStore::CompactedRevision() {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  return compacted_revision_;
}

Expected<void, StoreError> SqliteStore::SaveLeaseLocked(int64_t lease_id, int64_t ttl_seconds) {
  auto written = WriteLocked(
      [&](Backend& /*backend*/) -> Expected<TxnOutcome, StoreError> {
        {
          StatementUse insert(statements_->insert_lease);
          insert.Int(1, lease_id);
          insert.Int(2, ttl_seconds);
          if (auto done = Step("grant lease", insert.get()); !done) return Unexpected(done.error());
        }
        StatementUse set(statements_->set_meta);
        set.Text(1, "next_lease_id");
        set.Int(2, lease_id + 1);
        if (auto done = Step("update next lease id", set.get()); !done) {
          return Unexpected(done.error());
        }
        return TxnOutcome{true, {}};
      },
      /*keep_unchanged=*/true);
  if (!written) return Unexpected(written.error());
  return {};
}

}  // namespace dove::store
