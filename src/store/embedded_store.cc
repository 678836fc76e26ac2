#include "store/embedded_store.h"

#include "store/txn_rules.h"

namespace dove::store {

Expected<void, StoreError> EmbeddedStore::ReadyLocked(std::vector<std::string>& changed_keys) {
  if (auto open = CheckOpenLocked(); !open) return open;
  for (int64_t id : leases_.Expired(LeaseTable::Clock::now())) {
    if (auto ended = EndLeaseLocked(id, changed_keys); !ended) {
      return Unexpected(StoreError{ended.error().code, "expiring lease " + std::to_string(id) +
                                                           ": " + ended.error().message});
    }
    leases_.Remove(id);
  }
  return {};
}

Expected<LeaseGrant, StoreError> EmbeddedStore::GrantLease(int64_t ttl_seconds) {
  if (auto valid = ValidateLeaseTtl(ttl_seconds); !valid) return Unexpected(valid.error());
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  const int64_t id = next_lease_id_;
  if (auto saved = SaveLeaseLocked(id, ttl_seconds); !saved) return Unexpected(saved.error());
  next_lease_id_ = id + 1;
  leases_.Add(id, ttl_seconds, LeaseTable::Clock::now());
  return LeaseGrant{id, ttl_seconds};
}

Expected<int64_t, StoreError> EmbeddedStore::KeepAliveLease(int64_t lease_id) {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(expired.keys); !ready) return Unexpected(ready.error());
  // Deadlines live in memory only (SqliteStore gives every lease its full TTL at Open).
  auto ttl = leases_.Renew(lease_id, LeaseTable::Clock::now());
  if (!ttl) return Unexpected(LeaseNotFound(lease_id));
  return *ttl;
}

Expected<void, StoreError> EmbeddedStore::RevokeLease(int64_t lease_id) {
  PendingNotifications changed(*this);
  std::lock_guard lock(mutex_);
  if (auto ready = ReadyLocked(changed.keys); !ready) return Unexpected(ready.error());
  if (!leases_.Contains(lease_id)) return Unexpected(LeaseNotFound(lease_id));
  if (auto ended = EndLeaseLocked(lease_id, changed.keys); !ended) return ended;
  leases_.Remove(lease_id);
  return {};
}

Expected<void, StoreError> EmbeddedStore::ExpireLeases() {
  PendingNotifications expired(*this);
  std::lock_guard lock(mutex_);
  return ReadyLocked(expired.keys);
}

}  // namespace dove::store
