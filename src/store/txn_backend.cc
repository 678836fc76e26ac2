#include "store/txn_backend.h"

#include "store/txn_rules.h"

namespace dove::store {
namespace {

Expected<void, StoreError> EraseAndLog(TxnBackend& backend, const std::string& key,
                                       int64_t revision, TxnOutcome& outcome) {
  if (auto erased = backend.Erase(key); !erased) return erased;
  Event event{Event::kDelete, KeyValue{key, "", 0, revision, 0}};
  if (auto logged = backend.Log(event, static_cast<int64_t>(outcome.changed_keys.size()));
      !logged) {
    return logged;
  }
  outcome.changed_keys.push_back(key);
  return {};
}

Expected<void, StoreError> PutAndLog(TxnBackend& backend, const Op& op, int64_t revision,
                                     TxnOutcome& outcome) {
  auto current = backend.Read(op.key);
  if (!current) return Unexpected(current.error());
  KeyValue kv{op.key, op.value, revision, revision, 1, op.lease};
  if (current->has_value()) {
    kv.create_revision = (*current)->create_revision;
    kv.version = (*current)->version + 1;
  }
  if (auto written = backend.Write(kv); !written) return written;
  if (auto logged =
          backend.Log(Event{Event::kPut, kv}, static_cast<int64_t>(outcome.changed_keys.size()));
      !logged) {
    return logged;
  }
  outcome.changed_keys.push_back(op.key);
  return {};
}

Expected<void, StoreError> RunOp(TxnBackend& backend, const Op& op, int64_t revision,
                                 TxnOutcome& outcome) {
  switch (op.kind) {
    case Op::kPut:
      return PutAndLog(backend, op, revision, outcome);
    case Op::kDelete: {
      auto current = backend.Read(op.key);
      if (!current) return Unexpected(current.error());
      if (!current->has_value()) return {};
      return EraseAndLog(backend, op.key, revision, outcome);
    }
    case Op::kDeletePrefix: {
      auto keys = backend.KeysWithPrefix(op.key);
      if (!keys) return Unexpected(keys.error());
      for (const std::string& key : *keys) {
        if (auto done = EraseAndLog(backend, key, revision, outcome); !done) return done;
      }
      return {};
    }
  }
  return {};
}

}  // namespace

Expected<TxnOutcome, StoreError> ApplyTxn(TxnBackend& backend, const TxnRequest& request,
                                          int64_t current_revision, const LeaseTable& leases) {
  TxnOutcome outcome;
  outcome.succeeded = true;
  for (const Compare& compare : request.compares) {
    auto current = backend.Read(compare.key);
    if (!current) return Unexpected(current.error());
    if (!CompareHolds(compare, current->has_value() ? &**current : nullptr)) {
      outcome.succeeded = false;
      break;
    }
  }
  const std::vector<Op>& ops = outcome.succeeded ? request.success : request.failure;
  // As etcd: the leases of the branch that runs are checked before any of it is applied.
  for (const Op& op : ops) {
    if (op.kind == Op::kPut && op.lease != 0 && !leases.Contains(op.lease)) {
      return Unexpected(LeaseNotFound(op.lease));
    }
  }
  const int64_t revision = current_revision + 1;
  for (const Op& op : ops) {
    if (auto done = RunOp(backend, op, revision, outcome); !done) return Unexpected(done.error());
  }
  return outcome;
}

Expected<TxnOutcome, StoreError> DeleteLeaseKeys(TxnBackend& backend, int64_t lease,
                                                 int64_t current_revision) {
  TxnOutcome outcome;
  outcome.succeeded = true;
  auto keys = backend.KeysWithLease(lease);
  if (!keys) return Unexpected(keys.error());
  for (const std::string& key : *keys) {
    if (auto done = EraseAndLog(backend, key, current_revision + 1, outcome); !done) {
      return Unexpected(done.error());
    }
  }
  return outcome;
}

}  // namespace dove::store
