// MemoryStore: the Store in a std::map, with its change log in a deque. For unit tests of the
// components that use a store, and as the reference the store benchmark compares against.
//
// Same semantics as every Store (store.h); nothing survives the object. Txn never fails for
// I/O reasons. Thread-safe (one internal mutex); owns no thread.
//
//   MemoryStore store;
//   store.Put("/a", "1");
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "store/store.h"

namespace dove::store {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  ~MemoryStore() override;

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
  class Backend;

  std::mutex mutex_;
  bool closed_ = false;
  int64_t revision_ = 0;
  int64_t compacted_revision_ = 0;
  std::map<std::string, KeyValue, std::less<>> kvs_;
  std::deque<Event> log_;  // in revision order
};

}  // namespace dove::store
