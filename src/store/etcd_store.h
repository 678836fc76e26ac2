// EtcdStore: the Store on an etcd v3 cluster, over etcd's gRPC API, so that several DOVE
// controllers can run as replicas of one state.
//
// Semantics are store.h's with etcd's numbers: revisions are etcd's, global to the cluster
// and shared by every key prefix (an empty etcd is at revision 1, and writes of other
// deployments advance it too); a transaction that changes something still gets exactly one new
// revision. Every key is stored as Options.key_prefix + key and answered without the prefix,
// so deployments (and tests) sharing an etcd never see each other's keys; DeletePrefix("")
// deletes only this namespace. The prefix starts and ends with '/' ("/dove/" by default).
//
// History: etcd has no "range of events" RPC. A background thread keeps one etcd Watch stream
// on the namespace and keeps every event it receives in memory (the window, trimmed by
// Compact); it wakes this store's Watches for each event, also for changes written by other
// controllers. Changes() answers from the window only: no RPC per Poll. Memory therefore grows
// with the history since Open: the controller's periodic Compact bounds it.
//
// History starts at Open. Open writes the sync key, the prefix without its last '/' ("/dove"
// for "/dove/"; the stream watches it with the namespace), at revision W, starts the stream
// at W and returns once the stream delivered W: CompactedRevision() is then W, and Changes()
// from W on is complete. Older changes are not replayed at Open (etcd streams old events at
// about ten thousand revisions a second: a big history would take minutes). Changes() from a
// revision F < W fetches them then, once: while the window still starts at W (no Compact of
// this store since) and W - F <= kMaxBackfillRevisions, one etcd Watch from F reads the
// events up to W (the sync write ends it) and the window then starts at F, for every later
// caller too (backfills are serialised; Close cancels one). So a switch reconnecting to a
// controller that just started, whose last revision is recent, gets only what changed after
// it; one further behind (or behind etcd's own compaction) gets kCompacted and takes a
// snapshot. Later, CompactedRevision() is where this store's window starts (W, F or its last
// Compact); a Compact made by another replica is noticed when this store compacts too, and
// until then the older events it still serves stay correct.
//
// After a Txn of this store changes something, its watches are woken at once and Changes
// waits (up to the deadline) until the window holds that Txn's events, so a caller reads its
// own writes; other writers' changes appear in order, as soon as the stream delivers them.
//
// Leases are etcd's: ids chosen by etcd and shared by every key prefix of the cluster, TTLs
// raised to etcd's minimum (about 1.5 x its election timeout), expired by etcd's leader (its
// lease ends reach Changes and the watches through the stream, like other writers' changes;
// ExpireLeases does nothing). KeepAliveLease opens one LeaseKeepAlive stream per call, sends
// one request and reads one answer (TTL 0: the lease is gone, kNotFound). A put or a revoke
// naming a lease etcd does not know is kNotFound ("requested lease not found").
//
// Range reads in pages of Options.range_page_keys keys, one RPC each (each under the deadline,
// each reply a few hundred KB), every page after the first pinned at the first one's revision:
// the answer is one consistent snapshot at RangeResponse.revision however big the prefix (a
// controller loading 100,000 endpoints: one RPC for all of them timed out on a busy machine).
// A compaction of that revision between two pages restarts the read (twice at most, then
// kCompacted).
//
// Authentication: with Options.user and Options.password, Open authenticates first (a wrong
// user or password: kAccessDenied "etcd at URL: authentication failed for user NAME: ...") and
// every RPC carries the token; a token etcd refuses later (expired after its --auth-token-ttl,
// lost in a member restart) is renewed and the RPC tried again, and the watch stream, when etcd
// cancels its reopening for the token, is reopened with a renewed one (etcd_client.h). Without
// them, an etcd with authentication enabled refuses Open: kAccessDenied "... user name is
// empty (this etcd has authentication enabled: a user and password are needed)". The user's
// roles must grant readwrite on the namespace and the sync key (the prefix "/dove" for
// "/dove/"), else kAccessDenied "permission denied".
//
// Errors: etcd unreachable, without leader, or too slow (Options.deadline per RPC) are
// kUnavailable with the endpoints and etcd's words; kCompacted when etcd has compacted the
// revision asked for. A lost watch stream is reopened from the next revision it needs.
//
// Threading: every method may be called from any thread; one internal mutex guards the window.
// Owns one thread (the watch stream), joined by Close() and the destructor.
//
//   EtcdStore::Options options;
//   options.endpoints = "http://10.0.0.1:2379,http://10.0.0.2:2379";
//   options.key_prefix = "/dove/prod/";
//   auto store = EtcdStore::Open(options);
//   if (!store) return Fail(store.error().Describe());   // "cannot reach etcd at ..."
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "store/store.h"

namespace grpc {
class ClientContext;
}

namespace dove::store {

class EtcdClient;

class EtcdStore final : public Store {
 public:
  // How far back before Open Changes() fetches history (see above): about a second of etcd's
  // replay; a caller further behind takes a snapshot instead.
  static constexpr int64_t kMaxBackfillRevisions = 10000;

  struct Options {
    std::string endpoints = "http://127.0.0.1:2379";  // comma-separated URLs (etcd_endpoints.h)
    std::string key_prefix = "/dove/";                // namespace, prepended to every key
    std::chrono::milliseconds deadline{5000};         // of every RPC
    size_t range_page_keys = 5000;                    // keys per Range RPC (>= 1)
    // TLS (https:// endpoints): PEM file paths; empty = system roots / no client certificate.
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    // etcd user/password authentication: both or neither (kInvalidArgument).
    std::string user;
    std::string password;
  };

  // Connects and writes the sync key (see above), so an unreachable etcd or one without
  // quorum fails here: kUnavailable "cannot reach etcd at
  // URL: ...". kInvalidArgument for a bad endpoint list, key prefix or unreadable TLS file.
  static Expected<std::unique_ptr<EtcdStore>, StoreError> Open(const Options& options);
  // What Open checks before connecting: the endpoint list, the key prefix, the deadline, user
  // and password both or neither (kInvalidArgument naming the fault). Files are read by Open.
  static Expected<void, StoreError> ValidateOptions(const Options& options);

  ~EtcdStore() override;

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
  Expected<LeaseGrant, StoreError> GrantLease(int64_t ttl_seconds) override;
  Expected<int64_t, StoreError> KeepAliveLease(int64_t lease_id) override;
  Expected<void, StoreError> RevokeLease(int64_t lease_id) override;
  Expected<void, StoreError> ExpireLeases() override;

  // How many tokens this store obtained from etcd (Open's first included; 0 without a user):
  // each one after the first is a token etcd refused and this store renewed.
  int64_t Authentications() const;
  // etcd's id of the cluster (the header of Open's sync write): the same for every member and
  // for the cluster's whole life; another cluster (a new one at the same address) has another.
  uint64_t cluster_id() const { return cluster_id_; }

 private:
  EtcdStore(Options options, std::unique_ptr<EtcdClient> client);

  void RunWatchStream();
  // Writes the sync key (see above); the revision of that write. Learns cluster_id_.
  Expected<int64_t, StoreError> WriteSyncKey();
  // Waits until the stream delivered `revision` (kUnavailable after the deadline).
  Expected<void, StoreError> WaitForStream(int64_t revision);
  // Extends the window back to `from` (see "History starts at Open"); kCompacted when it may
  // not or etcd no longer has it. Takes backfill_mutex_, then mutex_ briefly.
  Expected<void, StoreError> Backfill(int64_t from);
  // The key just before the namespace ("/dove" for "/dove/"), written by Open.
  std::string SyncKey() const;
  Expected<void, StoreError> CheckOpen();

  const Options options_;
  std::unique_ptr<EtcdClient> client_;
  uint64_t cluster_id_ = 0;  // set by Open, before the store is shared

  std::mutex mutex_;
  std::condition_variable changed_;  // the stream delivered something, or closed_
  bool closed_ = false;
  grpc::ClientContext* stream_context_ = nullptr;    // the live stream's, to cancel it
  std::mutex backfill_mutex_;                        // one Backfill at a time
  grpc::ClientContext* backfill_context_ = nullptr;  // a running Backfill's, to cancel it
  int64_t opened_at_ = 0;                            // W, the sync write of Open
  int64_t backfilled_to_ = 0;  // where the last Backfill (or Open: W) started the window
  // The window holds every event of the namespace with revision >= compacted_ (the sync
  // write of Open, or this store's last Compact) through last_seen_.
  int64_t compacted_ = 0;
  int64_t last_seen_ = 0;     // the newest revision the stream delivered (namespace or sync key)
  std::deque<Event> window_;  // namespace-relative keys, in revision order
  int64_t own_write_revision_ = 0;  // the newest revision a Txn of this store made
  std::set<int64_t> own_unseen_;    // revisions of own Txns the stream has not delivered yet
  std::thread watcher_;
};

}  // namespace dove::store
