// MemoryStore: the Store in a std::map, with its change log in a deque. For unit tests of the
// components that use a store, and as the reference the store benchmark compares against.
//
// Same semantics as every Store (store.h); nothing survives the object. Txn never fails for
// I/O reasons. Leases as embedded_store.h says: ids count from 1; a lease past its deadline
// (steady clock) ends at the start of the next call to the store, whatever the call, or at
// ExpireLeases(). Thread-safe (one internal mutex); owns no thread.
//
//   MemoryStore store;
//   store.Put("/a", "1");
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/embedded_store.h"
#include "store/store.h"

namespace dove::store {

class MemoryStore final : public EmbeddedStore {
 public:
  MemoryStore() = default;
  ~MemoryStore() override;

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

 private:
  class Backend;

  Expected<void, StoreError> CheckOpenLocked() override;
  Expected<void, StoreError> SaveLeaseLocked(int64_t lease_id, int64_t ttl_seconds) override;
  Expected<void, StoreError> EndLeaseLocked(int64_t lease_id,
                                            std::vector<std::string>& changed_keys) override;

  bool closed_ = false;
  int64_t revision_ = 0;
  int64_t compacted_revision_ = 0;
  std::map<std::string, KeyValue, std::less<>> kvs_;
  std::deque<Event> log_;                                // in revision order
  std::map<int64_t, std::set<std::string>> lease_keys_;  // the keys of each lease that has any
};

}  // namespace dove::store
