#include "store/txn_rules.h"

#include <set>

namespace dove::store {
namespace {

StoreError Invalid(std::string message) {
  return StoreError{StoreError::kInvalidArgument, std::move(message)};
}

template <typename T>
bool Holds(const T& left, Compare::Op op, const T& right) {
  switch (op) {
    case Compare::kEqual:
      return left == right;
    case Compare::kNotEqual:
      return left != right;
    case Compare::kLess:
      return left < right;
    case Compare::kGreater:
      return left > right;
  }
  return false;
}

Expected<void, StoreError> ValidateBranch(const std::vector<Op>& ops, const char* branch) {
  std::set<std::string, std::less<>> keys;
  std::vector<std::string_view> prefixes;
  for (const Op& op : ops) {
    if (op.kind == Op::kDeletePrefix) {
      if (auto valid = ValidatePrefix(op.key); !valid) return valid;
      prefixes.push_back(op.key);
      continue;
    }
    if (auto valid = ValidateKey(op.key); !valid) return valid;
    if (op.kind == Op::kPut && op.value.size() > kMaxValueSize) {
      return Unexpected(Invalid("value of " + std::to_string(op.value.size()) +
                                " bytes is over the limit of " + std::to_string(kMaxValueSize)));
    }
    if (!keys.insert(op.key).second) {
      return Unexpected(Invalid(std::string(branch) + " branch touches one key twice"));
    }
  }
  for (std::string_view prefix : prefixes) {
    for (const std::string& key : keys) {
      if (HasPrefix(key, prefix)) {
        return Unexpected(
            Invalid(std::string(branch) + " branch writes a key inside a prefix it deletes"));
      }
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

Expected<void, StoreError> ValidateKey(std::string_view key) {
  if (key.empty()) return Unexpected(Invalid("empty key"));
  if (key.size() > kMaxKeySize) {
    return Unexpected(Invalid("key of " + std::to_string(key.size()) +
                              " bytes is over the limit of " + std::to_string(kMaxKeySize)));
  }
  return {};
}

Expected<void, StoreError> ValidatePrefix(std::string_view prefix) {
  if (prefix.size() > kMaxKeySize) {
    return Unexpected(Invalid("prefix of " + std::to_string(prefix.size()) +
                              " bytes is over the limit of " + std::to_string(kMaxKeySize)));
  }
  return {};
}

Expected<void, StoreError> ValidateLeaseTtl(int64_t ttl_seconds) {
  if (ttl_seconds < 1 || ttl_seconds > kMaxLeaseTtlSeconds) {
    return Unexpected(Invalid("lease TTL of " + std::to_string(ttl_seconds) + " s is outside 1.." +
                              std::to_string(kMaxLeaseTtlSeconds)));
  }
  return {};
}

StoreError LeaseNotFound(int64_t lease_id) {
  return StoreError{StoreError::kNotFound, "lease " + std::to_string(lease_id) +
                                               " not found (never granted, expired or revoked)"};
}

Expected<void, StoreError> ValidateTxn(const TxnRequest& request) {
  for (const Compare& compare : request.compares) {
    if (auto valid = ValidateKey(compare.key); !valid) return valid;
    if (compare.target == Compare::kValue && compare.value.size() > kMaxValueSize) {
      return Unexpected(Invalid("compared value is over the limit"));
    }
  }
  if (auto valid = ValidateBranch(request.success, "success"); !valid) return valid;
  return ValidateBranch(request.failure, "failure");
}

bool CompareHolds(const Compare& compare, const KeyValue* current) {
  switch (compare.target) {
    case Compare::kValue:
      // etcd: a value compare on an absent key never holds.
      return current != nullptr && Holds<std::string>(current->value, compare.op, compare.value);
    case Compare::kVersion:
      return Holds<int64_t>(current ? current->version : 0, compare.op, compare.number);
    case Compare::kCreateRevision:
      return Holds<int64_t>(current ? current->create_revision : 0, compare.op, compare.number);
    case Compare::kModRevision:
      return Holds<int64_t>(current ? current->mod_revision : 0, compare.op, compare.number);
  }
  return false;
}

}  // namespace dove::store
