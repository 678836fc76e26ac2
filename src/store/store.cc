#include "store/store.h"

#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "store/txn_rules.h"
#include "store/watch.h"
#include "store/watch_hub.h"

namespace dove::store {

Compare Compare::Value(std::string key, Op op, std::string value) {
  return Compare{std::move(key), kValue, op, std::move(value), 0};
}
Compare Compare::Version(std::string key, Op op, int64_t version) {
  return Compare{std::move(key), kVersion, op, "", version};
}
Compare Compare::CreateRevision(std::string key, Op op, int64_t revision) {
  return Compare{std::move(key), kCreateRevision, op, "", revision};
}
Compare Compare::ModRevision(std::string key, Op op, int64_t revision) {
  return Compare{std::move(key), kModRevision, op, "", revision};
}

Op Op::Put(std::string key, std::string value, int64_t lease) {
  return Op{kPut, std::move(key), std::move(value), lease};
}
Op Op::Delete(std::string key) { return Op{kDelete, std::move(key), "", 0}; }
Op Op::DeletePrefix(std::string prefix) { return Op{kDeletePrefix, std::move(prefix), "", 0}; }

Store::Store() : hub_(std::make_shared<WatchHub>(this)) {}

Store::~Store() { hub_->Detach(); }

void Store::NotifyWatches(const std::vector<std::string>& changed_keys) {
  if (!changed_keys.empty()) hub_->Notify(changed_keys);
}

void Store::DetachWatches() { hub_->Detach(); }

Expected<std::unique_ptr<Watch>, StoreError> Store::StartWatch(std::string prefix,
                                                               int64_t from_revision) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  if (from_revision < 0) {
    return Unexpected(StoreError{StoreError::kInvalidArgument, "negative watch revision"});
  }
  int event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) {
    return Unexpected(StoreError{StoreError::kIo, std::string("eventfd: ") + strerror(errno)});
  }
  return std::make_unique<Watch>(hub_, event_fd, std::move(prefix), from_revision);
}

Expected<TxnResponse, StoreError> Store::Put(std::string key, std::string value) {
  TxnRequest request;
  request.success.push_back(Op::Put(std::move(key), std::move(value)));
  return Txn(request);
}

Expected<TxnResponse, StoreError> Store::Delete(std::string key) {
  TxnRequest request;
  request.success.push_back(Op::Delete(std::move(key)));
  return Txn(request);
}

Expected<TxnResponse, StoreError> Store::DeletePrefix(std::string prefix) {
  TxnRequest request;
  request.success.push_back(Op::DeletePrefix(std::move(prefix)));
  return Txn(request);
}

Expected<TxnResponse, StoreError> Store::PutIfAbsent(std::string key, std::string value) {
  TxnRequest request;
  request.compares.push_back(Compare::CreateRevision(key, Compare::kEqual, 0));
  request.success.push_back(Op::Put(std::move(key), std::move(value)));
  return Txn(request);
}

Expected<TxnResponse, StoreError> Store::CompareAndPut(std::string key,
                                                       int64_t expected_mod_revision,
                                                       std::string value) {
  TxnRequest request;
  request.compares.push_back(Compare::ModRevision(key, Compare::kEqual, expected_mod_revision));
  request.success.push_back(Op::Put(std::move(key), std::move(value)));
  return Txn(request);
}

}  // namespace dove::store
