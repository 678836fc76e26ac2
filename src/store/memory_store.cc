#include "store/memory_store.h"

#include <algorithm>
#include <utility>

#include "store/txn_backend.h"
#include "store/txn_rules.h"

namespace dove::store {
namespace {

StoreError Closed() { return StoreError{StoreError::kClosed, "memory store"}; }

}  // namespace

// Writes straight into the map and log: ApplyTxn's only errors come from the backend, and
// this one has none, so there is never anything to roll back.
class MemoryStore::Backend final : public TxnBackend {
 public:
  explicit Backend(MemoryStore& store) : store_(store) {}

  Expected<std::optional<KeyValue>, StoreError> Read(std::string_view key) override {
    auto it = store_.kvs_.find(key);
    if (it == store_.kvs_.end()) return std::optional<KeyValue>();
    return std::optional<KeyValue>(it->second);
  }
  Expected<std::vector<std::string>, StoreError> KeysWithPrefix(std::string_view prefix) override {
    std::vector<std::string> keys;
    for (auto it = store_.kvs_.lower_bound(prefix);
         it != store_.kvs_.end() && HasPrefix(it->first, prefix); ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }
  Expected<std::vector<std::string>, StoreError> KeysWithLease(int64_t lease) override {
    auto it = store_.lease_keys_.find(lease);
    if (it == store_.lease_keys_.end()) return std::vector<std::string>();
    return std::vector<std::string>(it->second.begin(), it->second.end());
  }
  Expected<void, StoreError> Write(const KeyValue& kv) override {
    auto it = store_.kvs_.find(kv.key);
    if (it != store_.kvs_.end()) Unlink(it->second);
    if (kv.lease != 0) store_.lease_keys_[kv.lease].insert(kv.key);
    store_.kvs_.insert_or_assign(kv.key, kv);
    return {};
  }
  Expected<void, StoreError> Erase(std::string_view key) override {
    auto it = store_.kvs_.find(key);
    if (it == store_.kvs_.end()) return {};
    Unlink(it->second);
    store_.kvs_.erase(it);
    return {};
  }
  Expected<void, StoreError> Log(const Event& event, int64_t /*sub*/) override {
    store_.log_.push_back(event);
    return {};
  }

 private:
  // Takes the key out of its lease's key set.
  void Unlink(const KeyValue& kv) {
    if (kv.lease == 0) return;
    auto it = store_.lease_keys_.find(kv.lease);
    if (it == store_.lease_keys_.end()) return;
    it->second.erase(kv.key);
    if (it->second.empty()) store_.lease_keys_.erase(it);
  }

  MemoryStore& store_;
};

MemoryStore::~MemoryStore() { DetachWatches(); }

Expected<void, StoreError> MemoryStore::CheckOpenLocked() {
  if (closed_) return Unexpected(Closed());
  return {};
}

Expected<void, StoreError> MemoryStore::SaveLeaseLocked(int64_t /*lease_id*/,
                                                        int64_t /*ttl_seconds*/) {
  return {};  // the lease table is all there is
}

Expected<void, StoreError> MemoryStore::EndLeaseLocked(int64_t lease_id,
                                                       std::vector<std::string>& changed_keys) {
  Backend backend(*this);
  auto outcome = DeleteLeaseKeys(backend, lease_id, revision_);
  if (!outcome) return Unexpected(outcome.error());  // never: this backend does not fail
  if (!outcome->changed_keys.empty()) ++revision_;
  changed_keys.insert(changed_keys.end(), outcome->changed_keys.begin(),
                      outcome->changed_keys.end());
  return {};
}

Expected<KeyValue, StoreError> MemoryStore::Get(std::string_view key) {
  if (auto valid = ValidateKey(key); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  auto it = kvs_.find(key);
  if (it == kvs_.end()) return Unexpected(StoreError{StoreError::kNotFound, std::string(key)});
  return it->second;
}

Expected<RangeResponse, StoreError> MemoryStore::Range(std::string_view prefix, size_t limit,
                                                       std::string_view from) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  RangeResponse response;
  response.revision = revision_;
  for (auto it = kvs_.lower_bound(std::max(prefix, from));
       it != kvs_.end() && HasPrefix(it->first, prefix); ++it) {
    if (limit != 0 && response.kvs.size() == limit) {
      response.more = true;
      break;
    }
    response.kvs.push_back(it->second);
  }
  return response;
}

Expected<TxnResponse, StoreError> MemoryStore::Txn(const TxnRequest& request) {
  if (auto valid = ValidateTxn(request); !valid) return Unexpected(valid.error());
  PendingNotifications changed(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(changed.keys); !ready) return Unexpected(ready.error());
  Backend backend(*this);
  auto outcome = ApplyTxn(backend, request, revision_, leases_);
  if (!outcome) return Unexpected(outcome.error());
  if (!outcome->changed_keys.empty()) ++revision_;
  changed.keys.insert(changed.keys.end(), outcome->changed_keys.begin(),
                      outcome->changed_keys.end());
  return TxnResponse{outcome->succeeded, revision_};
}

Expected<int64_t, StoreError> MemoryStore::CurrentRevision() {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  return revision_;
}

Expected<std::vector<Event>, StoreError> MemoryStore::Changes(std::string_view prefix,
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
  auto first = std::lower_bound(
      log_.begin(), log_.end(), from_revision,
      [](const Event& event, int64_t revision) { return event.kv.mod_revision < revision; });
  std::vector<Event> events;
  for (auto it = first; it != log_.end(); ++it) {
    if (HasPrefix(it->kv.key, prefix)) events.push_back(*it);
  }
  return events;
}

Expected<void, StoreError> MemoryStore::Compact(int64_t revision) {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  if (revision < 1 || revision > revision_) {
    return Unexpected(
        StoreError{StoreError::kInvalidArgument, "compact revision " + std::to_string(revision) +
                                                     " outside 1.." + std::to_string(revision_)});
  }
  if (revision <= compacted_revision_) return {};
  while (!log_.empty() && log_.front().kv.mod_revision < revision) log_.pop_front();
  compacted_revision_ = revision;
  return {};
}

Expected<int64_t, StoreError> MemoryStore::CompactedRevision() {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  return compacted_revision_;
}

void MemoryStore::Close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  DetachWatches();
}

}  // namespace dove::store
