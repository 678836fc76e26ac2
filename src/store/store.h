// Store: the controller's revisioned key-value store, with transactions and watches.
//
// The shape is etcd v3's, so that an etcd implementation can sit behind the same interface
// as the embedded ones (MemoryStore for tests, SqliteStore by default):
//   - Keys and values are byte strings. A key is 1..kMaxKeySize bytes, a value at most
//     kMaxValueSize bytes; anything else is kInvalidArgument and changes nothing.
//   - The store has one revision counter, global and monotonic, 0 for an empty store. Every
//     transaction that changes something gets exactly one new revision (current + 1), shared
//     by all of its writes. A transaction that changes nothing (compares failed and the failure
//     branch is empty, a delete of an absent key, no ops at all) does not advance it.
//   - Each KeyValue carries, as in etcd: create_revision (revision of the put that created it,
//     since its last deletion), mod_revision (revision of its last put), version (puts since
//     creation: 1 after the creating put; a deleted key is gone and starts again at 1).
//   - Txn: if every Compare holds, the success ops run, otherwise the failure ops; atomically.
//     An absent key compares as version 0, create_revision 0, mod_revision 0; a value compare
//     on an absent key is always false (etcd's rule). Ops run in order; a branch may not touch
//     the same key twice (a put inside a prefix deleted by the same branch counts), as in etcd.
//   - History: every change is logged as an Event. Changes(prefix, from) returns events with
//     revision >= from, in revision order (op order within one revision). Compact(r) drops the
//     events before r; asking for changes from before r is kCompacted, meaning: read a full
//     snapshot (Range gives its revision R) and resume watching from R + 1.
//   - Leases (etcd's): GrantLease(ttl) gives a lease (id > 0) and the TTL granted, in
//     seconds: at least the one asked (etcd raises it to its minimum, ~1.5 x its election
//     timeout). A put may name a lease (Op::Put(key, value, lease)): the key is then deleted
//     when the lease expires (no KeepAliveLease within its TTL) or is revoked: every key of
//     the lease in one revision, reported as delete Events like any other. A later put of the
//     key names its lease again (0: none), so a key re-put with another lease (or none) no
//     longer goes with the first. A put naming a lease that does not exist (never granted,
//     expired, revoked) in the branch that runs fails the whole txn with kNotFound and changes
//     nothing (etcd checks that branch only). A lease's end reaches Changes and the watches
//     when the store learns of it: embedded stores at once, EtcdStore through its watch stream
//     (as another writer's change), so there not yet when RevokeLease returns.
//     KeyValue.lease is the key's lease (0: none). Expiry: etcd expires leases itself;
//     MemoryStore and SqliteStore own no thread, so they expire a lease at the first call to
//     the store (any method) after its deadline, or at ExpireLeases(). SqliteStore keeps its
//     leases across a reopen, each with its full TTL again from Open (etcd likewise renews
//     every lease when its leader changes).
//
// Watching without threads: StartWatch() returns a Watch that owns an eventfd. The fd becomes
// readable when changes under its prefix may be pending; the owner's event loop polls it and
// calls Watch::Poll() to take the events (see watch.h). The store never calls back into user
// code and owns no thread.
//
// Errors: StoreError (store_error.h); no method throws. Threading: every Store method may be
// called from any number of threads at once (implementations hold an internal mutex).
// A Watch must be used by one thread at a time, and may outlive its store (Poll then says
// kClosed).
//
//   auto store = SqliteStore::Open("/var/lib/dove");
//   if (!store) return Fail(store.error().Describe());
//   (*store)->Put("/vnets/blue", config);
//   auto created = (*store)->PutIfAbsent("/ports/p1", port);   // created->succeeded
//   auto snapshot = (*store)->Range("/vnets/");
//   auto watch = (*store)->StartWatch("/vnets/", snapshot->revision + 1);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "store/store_error.h"

namespace dove::store {

class Watch;
class WatchHub;

inline constexpr size_t kMaxKeySize = 1024;
inline constexpr size_t kMaxValueSize = size_t{1} << 20;
inline constexpr int64_t kMaxLeaseTtlSeconds = 9000000000;  // etcd's MaxLeaseTTL

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // the lease the key goes with (0: none)

  bool operator==(const KeyValue&) const = default;
};

// One condition of a Txn: `target of key` `op` `operand`.
struct Compare {
  enum Target : uint8_t { kValue, kVersion, kCreateRevision, kModRevision };
  enum Op : uint8_t { kEqual, kNotEqual, kLess, kGreater };

  std::string key;
  Target target = kVersion;
  Op op = kEqual;
  std::string value;   // operand when target is kValue (bytewise order)
  int64_t number = 0;  // operand for the other targets

  static Compare Value(std::string key, Op op, std::string value);
  static Compare Version(std::string key, Op op, int64_t version);
  static Compare CreateRevision(std::string key, Op op, int64_t revision);
  static Compare ModRevision(std::string key, Op op, int64_t revision);
};

// One write of a Txn branch.
struct Op {
  enum Kind : uint8_t { kPut, kDelete, kDeletePrefix };

  Kind kind = kPut;
  std::string key;  // the key, or the prefix for kDeletePrefix ("" = every key)
  std::string value;
  int64_t lease = 0;  // kPut: the lease the key goes with (0: none)

  static Op Put(std::string key, std::string value, int64_t lease = 0);
  static Op Delete(std::string key);
  static Op DeletePrefix(std::string prefix);
};

struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<Op> success;
  std::vector<Op> failure;
};

struct TxnResponse {
  bool succeeded = false;  // every compare held (the success branch ran)
  int64_t revision = 0;    // the store's revision after the txn (new if it changed something)
  bool operator==(const TxnResponse&) const = default;
};

struct LeaseGrant {
  int64_t id = 0;           // > 0
  int64_t ttl_seconds = 0;  // the TTL granted (>= the one asked)
  bool operator==(const LeaseGrant&) const = default;
};

struct RangeResponse {
  std::vector<KeyValue> kvs;  // sorted by key, bytewise
  int64_t revision = 0;       // the store's revision this range was read at
  bool more = false;          // a limit cut the result short
};

// One change. For kDelete, kv holds the key and mod_revision = the deleting revision; its
// value is empty and create_revision and version are 0 (as etcd reports it).
struct Event {
  enum Type : uint8_t { kPut, kDelete };
  Type type = kPut;
  KeyValue kv;
  bool operator==(const Event&) const = default;
};

class Store {
 public:
  Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store();

  // The key's current entry; kNotFound when absent.
  virtual Expected<KeyValue, StoreError> Get(std::string_view key) = 0;
  // Every key starting with `prefix` ("" = all) and not before `from` (empty: from the first),
  // sorted; at most `limit` of them (0 = all). `from` skips a part of a prefix without a
  // second read: the registry's load starts after the bookkeeping keys.
  virtual Expected<RangeResponse, StoreError> Range(std::string_view prefix, size_t limit = 0,
                                                    std::string_view from = {}) = 0;
  // Runs the transaction atomically; acknowledged (returned) only once it is durable.
  virtual Expected<TxnResponse, StoreError> Txn(const TxnRequest& request) = 0;
  virtual Expected<int64_t, StoreError> CurrentRevision() = 0;
  // Events under `prefix` with revision >= from_revision (a revision past the current one
  // gives none yet). kCompacted when from_revision < CompactedRevision(); kInvalidArgument
  // when it is negative. The whole answer comes at once (no paging in this version).
  virtual Expected<std::vector<Event>, StoreError> Changes(std::string_view prefix,
                                                           int64_t from_revision) = 0;
  // Drops history before `revision` (1 <= revision <= current; otherwise kInvalidArgument).
  // Compacting at or below the compacted revision again does nothing.
  virtual Expected<void, StoreError> Compact(int64_t revision) = 0;
  // The revision of the last Compact (0: full history).
  virtual Expected<int64_t, StoreError> CompactedRevision() = 0;
  // Releases the database; every later call returns kClosed, watches' Poll too. Idempotent.
  virtual void Close() = 0;

  // Leases (see above). GrantLease: kInvalidArgument when ttl_seconds < 1 or above
  // kMaxLeaseTtlSeconds. KeepAliveLease: the lease's TTL again from now; returns that TTL;
  // kNotFound when the lease expired or was revoked (its keys are gone). RevokeLease: deletes
  // the lease's keys now (one revision when it had any); kNotFound when it does not exist.
  virtual Expected<LeaseGrant, StoreError> GrantLease(int64_t ttl_seconds) = 0;
  virtual Expected<int64_t, StoreError> KeepAliveLease(int64_t lease_id) = 0;
  virtual Expected<void, StoreError> RevokeLease(int64_t lease_id) = 0;
  // Embedded stores: expires the leases whose deadline has passed now (the next call to the
  // store would). etcd: nothing (its leader expires leases).
  virtual Expected<void, StoreError> ExpireLeases() = 0;

  // A watch on `prefix` delivering events with revision >= from_revision (see watch.h).
  // kIo when no eventfd can be made; a compacted from_revision is reported by Poll.
  Expected<std::unique_ptr<Watch>, StoreError> StartWatch(std::string prefix,
                                                          int64_t from_revision);

  // Conveniences built on Txn.
  Expected<TxnResponse, StoreError> Put(std::string key, std::string value);
  Expected<TxnResponse, StoreError> Delete(std::string key);
  Expected<TxnResponse, StoreError> DeletePrefix(std::string prefix);
  // Creates the key only if absent; succeeded = false (and no new revision) if it exists.
  Expected<TxnResponse, StoreError> PutIfAbsent(std::string key, std::string value);
  // Writes only if the key's mod_revision is still `expected_mod_revision` (0 = absent).
  Expected<TxnResponse, StoreError> CompareAndPut(std::string key, int64_t expected_mod_revision,
                                                  std::string value);

 protected:
  // Implementations call this after a change is committed, outside their own lock, with the
  // changed keys, to wake the watches whose prefix covers one of them.
  void NotifyWatches(const std::vector<std::string>& changed_keys);
  // The keys a call changed while it held the implementation's lock (a txn's, or those of a
  // lease that expired when the call began); they reach the watches when this goes out of
  // scope. Declare it before the lock guard, so that happens after the lock is released.
  class PendingNotifications {
   public:
    explicit PendingNotifications(Store& store) : store_(store) {}
    PendingNotifications(const PendingNotifications&) = delete;
    PendingNotifications& operator=(const PendingNotifications&) = delete;
    ~PendingNotifications() { store_.NotifyWatches(keys); }

    std::vector<std::string> keys;

   private:
    Store& store_;
  };

  // Implementations call this first in their destructor and in Close(): watches stop
  // reaching the store and their Poll says kClosed.
  void DetachWatches();

 private:
  std::shared_ptr<WatchHub> hub_;
};

}  // namespace dove::store
