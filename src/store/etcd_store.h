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
// on the namespace, opened from the oldest revision etcd still has (its compaction point, which
// Open finds by reading at old revisions), and keeps every event it receives in memory (the
// window, trimmed by Compact); it wakes this store's Watches for each event, also for changes
// written by other controllers. Changes() answers from the window only: no RPC per Poll.
// Memory therefore grows with the namespace's uncompacted history: the controller's periodic
// Compact bounds it. CompactedRevision() is this store's view: where its window starts
// (etcd's compaction point at Open, or this store's last Compact); a Compact made by another
// replica is noticed when this store compacts too or its stream restarts, and until then the
// older events it still serves stay correct.
//
// Catching up: Open (and only Open) writes the sync key, the prefix without its last '/'
// ("/dove" for "/dove/"; the stream watches it with the namespace), and returns once the
// stream delivered that write, so that Changes() then answers every change made before Open:
// a switch reconnecting to this replica with an older revision gets all it missed. After a
// Txn of this store changes something, its watches are woken at once and Changes waits (up to
// the deadline) until the window holds that Txn's events, so a caller reads its own writes;
// other writers' changes appear in order, as soon as the stream delivers them.
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
  struct Options {
    std::string endpoints = "http://127.0.0.1:2379";  // comma-separated URLs (etcd_endpoints.h)
    std::string key_prefix = "/dove/";                // namespace, prepended to every key
    std::chrono::milliseconds deadline{5000};         // of every RPC
    // TLS (https:// endpoints): PEM file paths; empty = system roots / no client certificate.
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
  };

  // Connects, finds the compaction point and catches up with the history (see above), so an
  // unreachable etcd or one without quorum fails here: kUnavailable "cannot reach etcd at
  // URL: ...". kInvalidArgument for a bad endpoint list, key prefix or unreadable TLS file.
  static Expected<std::unique_ptr<EtcdStore>, StoreError> Open(const Options& options);
  // What Open checks before connecting: the endpoint list, the key prefix, the deadline
  // (kInvalidArgument naming the fault). Files are read by Open.
  static Expected<void, StoreError> ValidateOptions(const Options& options);

  ~EtcdStore() override;

  Expected<KeyValue, StoreError> Get(std::string_view key) override;
  Expected<RangeResponse, StoreError> Range(std::string_view prefix, size_t limit = 0) override;
  Expected<TxnResponse, StoreError> Txn(const TxnRequest& request) override;
  Expected<int64_t, StoreError> CurrentRevision() override;
  Expected<std::vector<Event>, StoreError> Changes(std::string_view prefix,
                                                   int64_t from_revision) override;
  Expected<void, StoreError> Compact(int64_t revision) override;
  Expected<int64_t, StoreError> CompactedRevision() override;
  void Close() override;

 private:
  EtcdStore(Options options, std::unique_ptr<EtcdClient> client);

  // The oldest revision etcd can still read (0: never compacted), found with reads at
  // revisions up to `current`.
  Expected<int64_t, StoreError> FindCompactedRevision(int64_t current);
  void RunWatchStream();
  // Writes the sync key and waits until the stream delivered it: from then on the window
  // holds every change of the namespace up to that write.
  Expected<void, StoreError> Sync();
  // The key just before the namespace ("/dove" for "/dove/"), written by Sync.
  std::string SyncKey() const;
  Expected<void, StoreError> CheckOpen();

  const Options options_;
  std::unique_ptr<EtcdClient> client_;

  std::mutex mutex_;
  std::condition_variable changed_;  // the window grew, the stream started, or closed_
  bool closed_ = false;
  grpc::ClientContext* stream_context_ = nullptr;  // the live stream's, to cancel it
  // The window holds every event of the namespace with revision >= compacted_ (etcd's
  // compaction at Open, or this store's last Compact) through last_seen_.
  int64_t compacted_ = 0;
  int64_t last_seen_ = 0;     // the newest revision the stream delivered (namespace or sync key)
  std::deque<Event> window_;  // namespace-relative keys, in revision order
  int64_t own_write_revision_ = 0;  // the newest revision a Txn of this store made
  std::set<int64_t> own_unseen_;    // revisions of own Txns the stream has not delivered yet
  std::thread watcher_;
};

}  // namespace dove::store
