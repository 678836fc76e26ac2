// EmbeddedStore: what the stores without a server (MemoryStore, SqliteStore) share besides the
// transaction algorithm (txn_backend.h): their one mutex, their leases and the lease methods,
// and the reaper that every call runs first (internal to src/store).
//
// Neither store owns a thread, so a lease past its deadline ends at the start of the next
// call to the store, whatever the call (each public method takes mutex_ and calls ReadyLocked
// first), or at ExpireLeases(). Ending a lease = the implementation's EndLeaseLocked: its keys
// deleted in one revision, its record gone; the watches are woken once mutex_ is released
// (Store::PendingNotifications). Ids count up from next_lease_id_ and are never reused.
//
// Threading: every method takes mutex_; the implementation's hooks are called under it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "store/lease_table.h"
#include "store/store.h"

namespace dove::store {

class EmbeddedStore : public Store {
 public:
  Expected<LeaseGrant, StoreError> GrantLease(int64_t ttl_seconds) final;
  Expected<int64_t, StoreError> KeepAliveLease(int64_t lease_id) final;
  Expected<void, StoreError> RevokeLease(int64_t lease_id) final;
  Expected<void, StoreError> ExpireLeases() final;

 protected:
  EmbeddedStore() = default;

  // Under mutex_: the implementation's error when it cannot serve (kClosed after Close);
  // otherwise ends every lease past its deadline, adding the keys deleted to `changed_keys`.
  // An error ending one (SQLite I/O) is the answer, and that lease stays for the next call.
  Expected<void, StoreError> ReadyLocked(std::vector<std::string>& changed_keys);

  // The implementation's part, called under mutex_.
  // kClosed (naming the store) after Close; nothing otherwise.
  virtual Expected<void, StoreError> CheckOpenLocked() = 0;
  // Records a new lease (SqliteStore: durably, with next_lease_id_ = id + 1); on an error,
  // nothing was recorded.
  virtual Expected<void, StoreError> SaveLeaseLocked(int64_t lease_id, int64_t ttl_seconds) = 0;
  // Deletes the lease's keys (one revision when it had any, DeleteLeaseKeys) and its record,
  // adding the keys to `changed_keys`; on an error, neither happened.
  virtual Expected<void, StoreError> EndLeaseLocked(int64_t lease_id,
                                                    std::vector<std::string>& changed_keys) = 0;

  std::mutex mutex_;
  LeaseTable leases_;
  int64_t next_lease_id_ = 1;  // SqliteStore loads it at Open
};

}  // namespace dove::store
