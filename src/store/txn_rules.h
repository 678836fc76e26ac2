// The rules every Store implementation shares (internal to src/store): argument limits,
// prefix matching and Compare evaluation, so that MemoryStore, SqliteStore and a later etcd
// store agree exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "store/store.h"
#include "store/store_error.h"

namespace dove::store {

inline bool HasPrefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

// The smallest key greater than every key with `prefix` (etcd's GetPrefixRangeEnd), or
// nullopt when there is none: "" and all-0xff prefixes have no upper bound.
std::optional<std::string> PrefixEnd(std::string_view prefix);

// kInvalidArgument for an empty or oversized key, an oversized value, or a branch that touches
// one key twice; describes which.
Expected<void, StoreError> ValidateTxn(const TxnRequest& request);
Expected<void, StoreError> ValidatePrefix(std::string_view prefix);
Expected<void, StoreError> ValidateKey(std::string_view key);
// kInvalidArgument unless 1 <= ttl_seconds <= kMaxLeaseTtlSeconds.
Expected<void, StoreError> ValidateLeaseTtl(int64_t ttl_seconds);
// kNotFound naming the lease: it was never granted, expired or was revoked.
StoreError LeaseNotFound(int64_t lease_id);

// Whether `compare` holds for the key's current entry (nullptr: absent).
bool CompareHolds(const Compare& compare, const KeyValue* current);

}  // namespace dove::store
