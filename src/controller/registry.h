// Registry: the controller's objects: validated, stored durably, indexed in memory.
//
// Every object the operator manages (Domain, Network, Subnet, Endpoint, Switch, Policy; the
// messages of proto/dove/v1/model.proto) goes through here. Several registries (controller
// replicas, one per process, or several in one test process) may share one store, all
// writing; the store is the truth and each registry's index follows it. A mutation:
//   1. when it allocates (a network created with VNI 0, an endpoint created with no ips),
//      takes this registry's allocation mutex for its whole course: such mutations of one
//      registry are serialised, so each takes the next lowest free value. Every other mutation
//      runs concurrently with the others, store writes included (pipelined: a replica on etcd
//      keeps many txns in flight, not one per commit latency). Reads never wait for a write,
//   2. under the index lock (shared) and a short prepare mutex (no I/O under either), fills in
//      what the controller chooses (an id when none is
//      given, a network's VNI, an endpoint's MAC and IPs, an endpoint's version),
//      canonicalises addresses ("52:54:00:AB:00:01" -> "52:54:00:ab:00:01",
//      "2001:DB8::1" -> "2001:db8::1"),
//   3. checks the rules of src/model/validation.h against the index, plus the registry's own
//      (unique domain names, network names unique in their domain, unique switch names and
//      tunnel IPs, one endpoint per switch port (switch_name + port_name, both set), no
//      policy identical to another of its domain (every field but the id), immutable
//      references, delete rules),
//   4. writes one store transaction (store/store.h) guarded by compares on what it read: the
//      keys of the objects, the claim keys of its unique values and the generation keys of
//      the parents (store_keys.h), so that a replica (or a concurrent mutation of this one)
//      that wrote meanwhile fails the compare,
//   5. only once the store acknowledged (the txn is durable), makes it visible in the index:
//      at once when the index is at the revision just before the txn's, otherwise after the
//      watch (below) applied the other writers' revisions before it. So a mutation that
//      returned is visible to every read of this registry (read-your-writes).
//   A lost race (a compare failed: another writer changed what it read) is retried: the index
//   catches up with the store, steps 2-5 run again (at most 8 attempts, allocations after the
//   first from a random free place), then `conflict`. A refused or failed mutation changes
//   nothing, in the store or in the index.
// So a read (Get, List, the Find*s, Counts, Revision: /healthz and /metrics) waits at most for
// an index update, never for disk; it sees only acknowledged (durable) writes.
//
// The index is the store's content, loaded by Open() and kept equal to it by a thread the
// registry owns: it watches "/dove/v1/" from the loaded revision and applies every change, of
// any writer, in revision order (its own ones it finds applied). A compacted history makes it
// reload a full snapshot and swap the index atomically for readers; other store errors are
// retried with backoff (10 ms to 1 s), counted in Stats() and logged. It stops in ~Registry,
// which must run before the store is closed or destroyed. Changes made by other replicas show
// up a moment after their commit (WaitForRevision waits for them).
//
// The index cache (IndexCache, index_snapshot.h; optional, used with etcd): Open() first reads
// the index from a local file written at revision S, then only the store's changes after S
// (Store::Changes), and serves from revision max(S, the last change) on, as if it had read the
// store whole. The file is set aside, logged, and the store read whole instead when it is
// missing, damaged, of another store (identity), ahead of the store (S > its revision) or older
// than the history the store still has (kCompacted). The watch thread writes a new one when
// the index changed and `interval` passed since the last (under the index's read lock: reads
// go on, index updates wait the ~140 ms it takes at 100,000 endpoints; the fsync after it),
// and WriteIndexCache() at a clean stop.
//
// Store layout: one key per object, "/dove/v1/<kind>/<id>" (kind: domains, networks, subnets,
// endpoints, switches, policies), the value the object's binary protobuf encoding; plus claim
// and generation keys (store_keys.h), never held in memory. Open() writes the claims missing
// from a store written by an older version (logged).
//
// References ("ref") accepted by Get/Replace/Delete: an id for every kind; for Domain and
// Switch also the name (names are unique system-wide; an id is tried first).
//
// Delete rules:
//   Domain   refused (not_empty) while it has networks or policies; force deletes its
//            policies, networks, their subnets and endpoints.
//   Network  refused (not_empty) while it has endpoints or a policy names it; its subnets are
//            deleted with it; force also deletes those endpoints and policies.
//   Subnet   refused (in_use) while an endpoint holds an address inside it; force deletes
//            those endpoints.
//   Endpoint, Switch, Policy: no dependants.
// Replace (a full update; the fields a client omits take their defaults):
//   the id comes from `ref` (a body id, when given, must equal it); domain_id of a Network or
//   Policy and network_id of a Subnet or Endpoint cannot change (invalid_value); a Network's
//   VNI 0 keeps the current one; an Endpoint with no ips (no mac) keeps its current ones; an
//   Endpoint's version is the stored one + 1, and a body version other than 0 must equal the
//   stored one (conflict: "stale version", optimistic concurrency); a Subnet's new cidr and
//   gateway must leave its endpoints' addresses valid (in_use).
// Create: the body version of an Endpoint must be 0 (the stored one is 1); an id given by the
// client is kept (and is a conflict when taken), so a client may retry a create safely.
//
// Errors are model::ModelError with the codes of model_error.h plus:
//   conflict           also: a race lost to other replicas 8 times in a row (message says so)
//   not_empty          delete refused: the object still has dependants (named in the message)
//   in_use             a subnet still has endpoints with addresses in it
//   store_unavailable  the store failed (disk full, I/O error, closed); nothing changed
//   guard_failed       ReplaceIf: its guard did not hold; nothing changed
//   corrupt            Open found a stored value that does not decode (key named)
// HttpStatusOf() maps every code to the status the REST API answers with.
//
// Thread-safe: any number of threads may call any method at once.
//
//   auto registry = Registry::Open(store.get());
//   auto domain = (*registry)->Create(v1::Domain{...});          // id assigned
//   auto webs = (*registry)->List<v1::Network>({.domain = "acme", .name = "web"});
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dove/v1/model.pb.h"
#include "model/model_error.h"
#include "store/store.h"

namespace dove::controller {

using model::ModelError;
using model::ModelResult;

// Which objects List returns. Empty fields do not filter. A filter that names no object
// (an unknown domain, network or switch) is not_found, so a typo is not an empty list.
// (The `{}` initializers let GCC 12 accept `{.domain = "acme"}` under -Wextra -Werror.)
struct ListFilter {
  std::string domain{};       // Network, Policy, Endpoint, Subnet: of this domain (id or name)
  std::string network{};      // Subnet, Endpoint: of this network (id)
  std::string switch_name{};  // Endpoint: placed on this switch (its name; need not be registered)
  std::string name{};         // Domain, Network, Switch, Endpoint: with this name
  std::string label{};        // Endpoint: matching this label selector (model/labels.h)
};

// Object counts, for /metrics.
struct ObjectCounts {
  size_t domains = 0;
  size_t networks = 0;
  size_t subnets = 0;
  size_t endpoints = 0;
  size_t switches = 0;
  size_t policies = 0;
};

// What a Delete removed, the object named and every dependant a force took with it.
struct DeleteResult {
  size_t objects_deleted = 0;
  int64_t revision = 0;  // the store revision of the delete
};

// What the replica machinery counted, for /metrics and tests.
struct RegistryStats {
  uint64_t watch_errors = 0;          // failed watch polls or starts (each retried with backoff)
  uint64_t rebuilds = 0;              // full reloads after the watch's history was compacted
  uint64_t retries = 0;               // mutations retried after losing a race to another writer
  uint64_t undecodable = 0;           // watched changes skipped because they do not decode
  bool loaded_from_cache = false;     // Open read the index cache (and the changes since)
  uint64_t cache_writes = 0;          // index cache files written
  uint64_t cache_write_failures = 0;  // ... that failed (logged; the previous file stays)
};

// Where the registry keeps its index cache (see above). An empty `file`: no cache.
struct IndexCache {
  std::filesystem::path file;
  // The store the index is of (etcd: its cluster id and key prefix): a file written for
  // another is not read.
  std::string identity;
  // A new file once the index changed and this long passed since the last one.
  std::chrono::seconds interval{30};
};

// ReplaceIf's condition: compares on keys that are not the object's (the southbound's session
// keys, store_keys.h), and writes of such keys to make in the same store txn.
struct WriteGuard {
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
};

// One write of Registry::ReplaceAll: ReplaceIf's arguments.
template <typename T>
struct Replacement {
  std::string ref;
  T object;
  WriteGuard guard;
};

class RegistryIndex;

class Registry {
 public:
  // Loads every object from `store` (which must outlive the registry), or from `cache` and
  // the store's changes since (see above), backfills missing claims, and starts the watch
  // thread. Fails with store_unavailable or corrupt.
  static ModelResult<std::unique_ptr<Registry>> Open(store::Store* store, IndexCache cache = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // T is one of v1::Domain, v1::Network, v1::Subnet, v1::Endpoint, v1::Switch, v1::Policy.
  template <typename T>
  ModelResult<T> Create(T object);
  template <typename T>
  ModelResult<T> Replace(std::string_view ref, T object);
  // Replace, in ONE store txn with guard.ops, only while every compare of `guard` holds:
  // `guard_failed` when one does not (nothing changed, not retried). A race lost on what the
  // replace itself read is retried as by Replace. The guard's keys must not be the registry's
  // own (an object's, a claim, a generation).
  template <typename T>
  ModelResult<T> ReplaceIf(std::string_view ref, T object, const WriteGuard& guard);
  // Several ReplaceIf in ONE store txn (one round trip, one fsync) when all of them hold at
  // once; otherwise (a compare failed: another writer, a guard; the store failed; one of them
  // refused) each is made on its own by ReplaceIf, so every answer is the one it gives alone.
  // Answers in the order of `writes`; at most one write per object. For many small writes of
  // one kind at once (the switches' records); the caller keeps a batch within the store's
  // limits (etcd: 128 compares and 128 operations per txn by default).
  template <typename T>
  std::vector<ModelResult<T>> ReplaceAll(std::span<const Replacement<T>> writes);
  template <typename T>
  ModelResult<T> Get(std::string_view ref) const;
  // The store mod_revision of the object `ref` names, as the index has it; 0 when none.
  template <typename T>
  int64_t ModRevision(std::string_view ref) const;
  // In id order.
  template <typename T>
  ModelResult<std::vector<T>> List(const ListFilter& filter) const;
  template <typename T>
  ModelResult<DeleteResult> Delete(std::string_view ref, bool force);
  // Calls visit for every object of kind T, in no particular order, under the read lock, one
  // at a time (an endpoint decoded from the index for the call; List copies them all): for
  // loading a view of 100,000 endpoints without a second copy of them at the peak. `visit`
  // must not call back into the registry.
  template <typename T>
  void ForEach(const std::function<void(const T&)>& visit) const;

  // Point lookups for the southbound's hot path: hash-indexed, O(1), copies under the read
  // lock. not_found when nothing matches. `mac` and `ip` are parsed first (invalid_value).
  ModelResult<v1::Network> FindNetworkByVni(uint32_t vni) const;
  ModelResult<v1::Endpoint> FindEndpointByMac(std::string_view network_id,
                                              std::string_view mac) const;
  ModelResult<v1::Endpoint> FindEndpointByIp(std::string_view domain_id, std::string_view ip) const;
  // model::Allowed between two networks (ids) for `protocol` and `port` (0: any).
  bool Allowed(std::string_view source_network_id, std::string_view destination_network_id,
               uint32_t protocol, uint32_t port) const;
  // model::MayExchange between two networks (ids): some traffic could pass, either way.
  bool MayExchange(std::string_view network_a, std::string_view network_b) const;

  ObjectCounts Counts() const;
  // The store revision the index reflects (the last revision under "/dove/v1/" applied, by
  // any writer). Lock-free: never waits for a write in progress.
  int64_t Revision() const;
  // Waits until Revision() >= revision (true) or `timeout` passed (false). A store watcher
  // calls it before reading the registry for an event: the store notifies its watches when it
  // commits, a moment before the registry's index shows the change (its own write's or
  // another replica's).
  bool WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) const;
  RegistryStats Stats() const;
  // Writes the index cache now (a clean stop); nothing without one. The error names the file.
  Expected<void, std::string> WriteIndexCache();

 private:
  // `cache_revision`: the index cache's revision when Open read it (0: the store read whole).
  Registry(store::Store* store, std::unique_ptr<RegistryIndex> index, int64_t revision,
           IndexCache cache, int64_t cache_revision);
  // Makes the acknowledged txn of `revision` visible before the mutation returns: runs
  // `apply` (its index update) under the index lock when the index is at revision - 1,
  // otherwise waits for the watch to bring the index there (other writers' changes first).
  void Publish(const std::function<void(RegistryIndex&)>& apply, int64_t revision);
  // Wakes WaitForRevision.
  void Notify();
  // Runs `attempt` (prepare + commit) again while it loses a race, after the index caught up;
  // `retrying` is false on the first attempt.
  template <typename R>
  ModelResult<R> Retry(const std::function<ModelResult<R>(bool retrying)>& attempt);
  // The watch thread: from `from`, every change under kKeyPrefix into the index.
  void WatchLoop(int64_t from);
  // Applies the events [first, last) of one revision, unless the index already has it.
  void ApplyRevision(const store::Event* first, const store::Event* last);
  // Replaces the index by a full snapshot; its revision.
  ModelResult<int64_t> Rebuild();
  // The watch thread, after each wakeup: WriteIndexCache() when it is due.
  void MaybeWriteIndexCache();

  struct State;
  std::unique_ptr<State> state_;
};

// The HTTP status the REST API answers a ModelError code with:
//   400 invalid_json unknown_field duplicate_field invalid_value
//   404 not_found     409 conflict not_empty in_use subnet_full vni_exhausted
//   413 too_large     503 store_unavailable     500 anything else (internal, corrupt)
int HttpStatusOf(std::string_view code);

}  // namespace dove::controller
