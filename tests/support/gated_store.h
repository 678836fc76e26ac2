// GatedStore: a MemoryStore whose transactions wait at a gate the test closes and opens: a
// write stuck in its fsync for as long as the test wants. Watches started on it see every
// committed change (it notifies them itself). FailReads(true) makes Changes (what a watch's
// Poll reads) fail with kIo until FailReads(false): a store error under a watch. For unit
// tests only.
//
//   test_support::GatedStore store;
//   store.CloseGate();
//   std::thread writer([&] { registry->Create(network); });  // waits at the gate
//   ASSERT_TRUE(store.SomeoneWaits(10s));
//   ...reads must answer meanwhile...
//   store.Open();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "store/memory_store.h"
#include "store/store.h"

namespace dove::test_support {

class GatedStore final : public store::Store {
 public:
  ~GatedStore() override {
    Open();
    DetachWatches();
  }

  // Transactions from now on wait until Open().
  void CloseGate() {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard lock(mutex_);
    closed_ = false;
    changed_.notify_all();
  }
  void FailReads(bool fail) {
    if (fail) failed_reads_ = 0;
    fail_reads_ = fail;
  }
  // How many Changes calls failed since the last FailReads(true).
  int failed_reads() const { return failed_reads_; }
  // How many times CurrentRevision was asked (on etcd: a linearizable read, a quorum round).
  int current_revision_reads() const { return current_revision_reads_; }

  // Whether a transaction waits at the closed gate within `timeout`.
  bool SomeoneWaits(std::chrono::milliseconds timeout) { return Waiting(1, timeout); }
  // Whether `count` transactions wait at the closed gate at once within `timeout`.
  bool Waiting(int count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return waiting_ >= count; });
  }

  Expected<store::KeyValue, store::StoreError> Get(std::string_view key) override {
    return inner_.Get(key);
  }
  Expected<store::RangeResponse, store::StoreError> Range(std::string_view prefix, size_t limit,
                                                          std::string_view from) override {
    return inner_.Range(prefix, limit, from);
  }
  Expected<store::TxnResponse, store::StoreError> Txn(const store::TxnRequest& request) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !closed_; });
      --waiting_;
    }
    auto done = inner_.Txn(request);
    std::vector<std::string> keys;
    for (const auto& op : request.success) keys.push_back(op.key);
    for (const auto& op : request.failure) keys.push_back(op.key);
    NotifyWatches(keys);
    return done;
  }
  Expected<int64_t, store::StoreError> CurrentRevision() override {
    ++current_revision_reads_;
    return inner_.CurrentRevision();
  }
  Expected<std::vector<store::Event>, store::StoreError> Changes(std::string_view prefix,
                                                                 int64_t from_revision) override {
    if (fail_reads_) {
      ++failed_reads_;
      return Unexpected(store::StoreError{store::StoreError::kIo, "injected by the test"});
    }
    return inner_.Changes(prefix, from_revision);
  }
  Expected<void, store::StoreError> Compact(int64_t revision) override {
    return inner_.Compact(revision);
  }
  Expected<int64_t, store::StoreError> CompactedRevision() override {
    return inner_.CompactedRevision();
  }
  void Close() override {
    DetachWatches();
    inner_.Close();
  }
  // Leases are the inner store's, ungated. The keys a lease's end deletes do not wake the
  // watches started on this GatedStore (a Txn's do).
  Expected<store::LeaseGrant, store::StoreError> GrantLease(int64_t ttl_seconds) override {
    return inner_.GrantLease(ttl_seconds);
  }
  Expected<int64_t, store::StoreError> KeepAliveLease(int64_t lease_id) override {
    return inner_.KeepAliveLease(lease_id);
  }
  Expected<void, store::StoreError> RevokeLease(int64_t lease_id) override {
    return inner_.RevokeLease(lease_id);
  }
  Expected<void, store::StoreError> ExpireLeases() override { return inner_.ExpireLeases(); }

 private:
  store::MemoryStore inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool closed_ = false;
  int waiting_ = 0;  // transactions at the gate (while it is open: only on their way through)
  std::atomic<bool> fail_reads_{false};
  std::atomic<int> failed_reads_{0};
  std::atomic<int> current_revision_reads_{0};
};

}  // namespace dove::test_support
