// TxnBackend and ApplyTxn: the one transaction algorithm behind every embedded Store
// (internal to src/store).
//
// An implementation opens its own atomic scope (a lock; a SQLite transaction), exposes its
// rows through TxnBackend and calls ApplyTxn, which evaluates the compares, runs the chosen
// branch with etcd's revision rules and logs one Event per change. On an error the caller
// must roll its scope back; nothing it wrote may survive. A lease's end (revoke, expiry) is
// the same kind of change: DeleteLeaseKeys deletes its keys as one revision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "store/lease_table.h"
#include "store/store.h"
#include "store/store_error.h"

namespace dove::store {

class TxnBackend {
 public:
  virtual ~TxnBackend() = default;
  virtual Expected<std::optional<KeyValue>, StoreError> Read(std::string_view key) = 0;
  virtual Expected<std::vector<std::string>, StoreError> KeysWithPrefix(
      std::string_view prefix) = 0;
  // The keys whose KeyValue.lease is `lease`, sorted.
  virtual Expected<std::vector<std::string>, StoreError> KeysWithLease(int64_t lease) = 0;
  // Writes the entry, kv.lease included (the key leaves the lease it had before).
  virtual Expected<void, StoreError> Write(const KeyValue& kv) = 0;
  virtual Expected<void, StoreError> Erase(std::string_view key) = 0;
  // `sub` numbers the changes within one revision, from 0, in op order.
  virtual Expected<void, StoreError> Log(const Event& event, int64_t sub) = 0;
};

struct TxnOutcome {
  bool succeeded = false;
  std::vector<std::string> changed_keys;  // empty: nothing changed, no new revision
};

// Applies `request` (already validated) as revision current_revision + 1. A put in the chosen
// branch naming a lease `leases` does not hold is kNotFound before anything is written.
Expected<TxnOutcome, StoreError> ApplyTxn(TxnBackend& backend, const TxnRequest& request,
                                          int64_t current_revision, const LeaseTable& leases);

// Deletes every key of `lease` as revision current_revision + 1 (none: no change). The
// caller then forgets the lease.
Expected<TxnOutcome, StoreError> DeleteLeaseKeys(TxnBackend& backend, int64_t lease,
                                                 int64_t current_revision);

}  // namespace dove::store
