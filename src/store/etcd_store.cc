#include "store/etcd_store.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "store/etcd_client.h"
#include "store/etcd_endpoints.h"
#include "store/txn_rules.h"

namespace dove::store {
namespace {

namespace pb = etcdserverpb;

// etcd spells "every key from here on" as range_end "\0", and "every key" as key "\0" too.
const std::string kZero(1, '\0');

// The [key, range_end) of every key starting with `full_prefix` (namespace included).
std::pair<std::string, std::string> PrefixRange(const std::string& full_prefix) {
  std::string end = PrefixEnd(full_prefix).value_or(kZero);
  return {full_prefix.empty() ? kZero : full_prefix, std::move(end)};
}

pb::Compare::CompareResult ToEtcd(Compare::Op op) {
  switch (op) {
    case Compare::kEqual:
      return pb::Compare::EQUAL;
    case Compare::kNotEqual:
      return pb::Compare::NOT_EQUAL;
    case Compare::kLess:
      return pb::Compare::LESS;
    case Compare::kGreater:
      return pb::Compare::GREATER;
  }
  return pb::Compare::EQUAL;
}

KeyValue FromEtcd(const mvccpb::KeyValue& kv, size_t prefix_size) {
  return KeyValue{kv.key().substr(prefix_size),
                  kv.value(),
                  kv.create_revision(),
                  kv.mod_revision(),
                  kv.version(),
                  kv.lease()};
}

StoreError Closed() { return StoreError{StoreError::kClosed, "the etcd store was closed"}; }

}  // namespace

Expected<void, StoreError> EtcdStore::ValidateOptions(const Options& options) {
  const std::string& ns = options.key_prefix;
  if (ns.size() < 2 || ns.front() != '/' || ns.back() != '/' || ns.size() > kMaxKeySize / 2) {
    return Unexpected(StoreError{StoreError::kInvalidArgument,
                                 "etcd key prefix \"" + ns +
                                     "\": must start and end with '/', as /dove/ does, and be "
                                     "at most " +
                                     std::to_string(kMaxKeySize / 2) + " bytes"});
  }
  if (auto endpoints = ParseEtcdEndpoints(options.endpoints); !endpoints) {
    return Unexpected(endpoints.error());
  }
  if (options.deadline.count() <= 0) {
    return Unexpected(StoreError{StoreError::kInvalidArgument, "etcd deadline must be positive"});
  }
  if (options.range_page_keys == 0) {
    return Unexpected(
        StoreError{StoreError::kInvalidArgument, "etcd range page size must be at least 1 key"});
  }
  if (options.user.empty() != options.password.empty()) {
    return Unexpected(StoreError{StoreError::kInvalidArgument,
                                 options.user.empty()
                                     ? "an etcd password needs its user"
                                     : "etcd user " + options.user + " needs a password"});
  }
  return {};
}

Expected<std::unique_ptr<EtcdStore>, StoreError> EtcdStore::Open(const Options& options) {
  if (auto valid = ValidateOptions(options); !valid) return Unexpected(valid.error());
  auto client =
      EtcdClient::Make(options.endpoints, {options.ca_file, options.cert_file, options.key_file},
                       {options.user, options.password}, options.deadline);
  if (!client) return Unexpected(client.error());
  std::unique_ptr<EtcdStore> store(new EtcdStore(options, std::move(*client)));
  auto unreachable = [&](const StoreError& error) {
    // The client's messages name the endpoints already ("etcd at URL: Range: ..."); a refusal
    // is not a failure to reach it.
    if (error.code == StoreError::kAccessDenied) return error;
    return StoreError{error.code, "cannot reach " + error.message};
  };
  if (auto authenticated = store->client_->Authenticate(); !authenticated) {
    return Unexpected(unreachable(authenticated.error()));
  }
  // History starts here: the sync write's revision W begins the window, so nothing older is
  // replayed (etcd streams old events at about 10,000 revisions a second: minutes for a big
  // history). A caller asking for older changes is told kCompacted and takes a snapshot.
  auto written = store->WriteSyncKey();
  if (!written) return Unexpected(unreachable(written.error()));
  store->compacted_ = *written;
  store->opened_at_ = *written;
  store->backfilled_to_ = *written;
  store->watcher_ = std::thread([raw = store.get()] { raw->RunWatchStream(); });
  if (auto synced = store->WaitForStream(*written); !synced) {
    return Unexpected(unreachable(synced.error()));
  }
  return store;
}

Expected<int64_t, StoreError> EtcdStore::WriteSyncKey() {
  pb::TxnRequest txn;
  pb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(SyncKey());
  put->set_value("sync");
  auto written = client_->Txn(txn);
  if (!written) return Unexpected(written.error());
  cluster_id_ = written->header().cluster_id();
  return written->header().revision();
}

Expected<void, StoreError> EtcdStore::WaitForStream(int64_t revision) {
  std::unique_lock lock(mutex_);
  own_write_revision_ = std::max(own_write_revision_, revision);
  if (!changed_.wait_for(lock, options_.deadline,
                         [&] { return closed_ || last_seen_ >= revision; })) {
    return Unexpected(StoreError{
        StoreError::kUnavailable,
        "etcd at " + client_->endpoints() + ": the watch stream did not deliver revision " +
            std::to_string(revision) + " in time (last: " + std::to_string(last_seen_) + ")"});
  }
  if (closed_) return Unexpected(Closed());
  return {};
}

std::string EtcdStore::SyncKey() const {
  return options_.key_prefix.substr(0, options_.key_prefix.size() - 1);
}

EtcdStore::EtcdStore(Options options, std::unique_ptr<EtcdClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

EtcdStore::~EtcdStore() { Close(); }

void EtcdStore::Close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_ && !watcher_.joinable()) return;
    closed_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
    if (backfill_context_ != nullptr) backfill_context_->TryCancel();
  }
  changed_.notify_all();
  DetachWatches();
  if (watcher_.joinable()) watcher_.join();
}

Expected<void, StoreError> EtcdStore::CheckOpen() {
  std::lock_guard lock(mutex_);
  if (closed_) return Unexpected(Closed());
  return {};
}

Expected<KeyValue, StoreError> EtcdStore::Get(std::string_view key) {
  if (auto valid = ValidateKey(key); !valid) return Unexpected(valid.error());
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  pb::RangeRequest request;
  request.set_key(options_.key_prefix + std::string(key));
  auto response = client_->Range(request);
  if (!response) return Unexpected(response.error());
  if (response->kvs_size() == 0) {
    return Unexpected(StoreError{StoreError::kNotFound, "no key " + std::string(key)});
  }
  return FromEtcd(response->kvs(0), options_.key_prefix.size());
}

Expected<RangeResponse, StoreError> EtcdStore::Range(std::string_view prefix, size_t limit,
                                                     std::string_view from) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  const auto [first_key, end] = PrefixRange(options_.key_prefix + std::string(prefix));
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    RangeResponse answer;
    std::string next = std::max(first_key, options_.key_prefix + std::string(from));
    int64_t pinned = 0;  // the first page's revision; every later page reads at it
    for (;;) {
      const size_t left = limit == 0 ? options_.range_page_keys : limit - answer.kvs.size();
      pb::RangeRequest request;
      request.set_key(next);
      request.set_range_end(end);
      request.set_limit(static_cast<int64_t>(std::min(left, options_.range_page_keys)));
      request.set_revision(pinned);
      auto response = client_->Range(request);
      if (!response) {
        // The pinned revision compacted away under a long read: start again at a newer one.
        if (response.error().code == StoreError::kCompacted && pinned != 0 && attempt < kAttempts) {
          break;
        }
        return Unexpected(response.error());
      }
      if (pinned == 0) {
        pinned = response->header().revision();
        answer.revision = pinned;
      }
      for (const mvccpb::KeyValue& kv : response->kvs()) {
        answer.kvs.push_back(FromEtcd(kv, options_.key_prefix.size()));
      }
      if (!response->more() || response->kvs_size() == 0) return answer;
      if (limit != 0 && answer.kvs.size() >= limit) {
        answer.more = true;
        return answer;
      }
      next = response->kvs(response->kvs_size() - 1).key();
      next.push_back('\0');  // the next key after the page's last
    }
  }
}

Expected<TxnResponse, StoreError> EtcdStore::Txn(const TxnRequest& request) {
  if (auto valid = ValidateTxn(request); !valid) return Unexpected(valid.error());
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  const std::string& ns = options_.key_prefix;
  pb::TxnRequest txn;
  for (const Compare& compare : request.compares) {
    pb::Compare* out = txn.add_compare();
    out->set_key(ns + compare.key);
    out->set_result(ToEtcd(compare.op));
    switch (compare.target) {
      case Compare::kValue:
        out->set_target(pb::Compare::VALUE);
        out->set_value(compare.value);
        break;
      case Compare::kVersion:
        out->set_target(pb::Compare::VERSION);
        out->set_version(compare.number);
        break;
      case Compare::kCreateRevision:
        out->set_target(pb::Compare::CREATE);
        out->set_create_revision(compare.number);
        break;
      case Compare::kModRevision:
        out->set_target(pb::Compare::MOD);
        out->set_mod_revision(compare.number);
        break;
    }
  }
  auto add_ops = [&](const std::vector<Op>& ops,
                     google::protobuf::RepeatedPtrField<pb::RequestOp>* out) {
    for (const Op& op : ops) {
      pb::RequestOp* request_op = out->Add();
      switch (op.kind) {
        case Op::kPut: {
          pb::PutRequest* put = request_op->mutable_request_put();
          put->set_key(ns + op.key);
          put->set_value(op.value);
          put->set_lease(op.lease);
          break;
        }
        case Op::kDelete:
          request_op->mutable_request_delete_range()->set_key(ns + op.key);
          break;
        case Op::kDeletePrefix: {
          auto [key, end] = PrefixRange(ns + op.key);
          pb::DeleteRangeRequest* del = request_op->mutable_request_delete_range();
          del->set_key(key);
          del->set_range_end(end);
          del->set_prev_kv(true);  // the deleted keys, to wake the watches on them
          break;
        }
      }
    }
  };
  add_ops(request.success, txn.mutable_success());
  add_ops(request.failure, txn.mutable_failure());
  auto response = client_->Txn(txn);
  if (!response) return Unexpected(response.error());
  // The keys this txn changed. Watches on them are woken now, not when the stream delivers the
  // events: a caller that wrote and then polls its watch sees its write (Changes waits for it).
  std::vector<std::string> changed_keys;
  const std::vector<Op>& ran = response->succeeded() ? request.success : request.failure;
  for (int i = 0; i < response->responses_size() && i < static_cast<int>(ran.size()); ++i) {
    const pb::ResponseOp& result = response->responses(i);
    if (result.has_response_put()) changed_keys.push_back(ran[i].key);
    if (!result.has_response_delete_range()) continue;
    const pb::DeleteRangeResponse& deleted = result.response_delete_range();
    if (deleted.deleted() == 0) continue;
    if (ran[i].kind == Op::kDelete) changed_keys.push_back(ran[i].key);
    for (const mvccpb::KeyValue& kv : deleted.prev_kvs()) {
      changed_keys.push_back(kv.key().substr(ns.size()));
    }
  }
  int64_t revision = response->header().revision();
  if (changed_keys.empty()) {
    // A txn that changed nothing is a read in etcd, served by any member, whose header may lag
    // a write this store already saw; answer the newest revision known here instead, so this
    // store's answers never go back in time.
    std::lock_guard lock(mutex_);
    revision = std::max({revision, own_write_revision_, last_seen_});
    return TxnResponse{response->succeeded(), revision};
  }
  {
    std::lock_guard lock(mutex_);
    own_write_revision_ = std::max(own_write_revision_, revision);
    // The stream will not wake the watches again for this revision (see RunWatchStream).
    if (revision > last_seen_) own_unseen_.insert(revision);
  }
  NotifyWatches(changed_keys);
  return TxnResponse{response->succeeded(), revision};
}

Expected<int64_t, StoreError> EtcdStore::CurrentRevision() {
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  pb::RangeRequest request;
  request.set_key(options_.key_prefix.empty() ? kZero : options_.key_prefix);
  request.set_count_only(true);
  auto response = client_->Range(request);
  if (!response) return Unexpected(response.error());
  std::lock_guard lock(mutex_);  // never older than what this store saw (see Txn)
  return std::max({response->header().revision(), own_write_revision_, last_seen_});
}

Expected<std::vector<Event>, StoreError> EtcdStore::Changes(std::string_view prefix,
                                                            int64_t from_revision) {
  if (auto valid = ValidatePrefix(prefix); !valid) return Unexpected(valid.error());
  if (from_revision < 0) {
    return Unexpected(StoreError{StoreError::kInvalidArgument, "negative revision"});
  }
  std::unique_lock lock(mutex_);
  bool caught_up = changed_.wait_for(lock, options_.deadline,
                                     [&] { return closed_ || last_seen_ >= own_write_revision_; });
  if (closed_) return Unexpected(Closed());
  if (!caught_up) {
    return Unexpected(StoreError{
        StoreError::kUnavailable,
        "etcd at " + client_->endpoints() + ": the watch stream has not delivered revision " +
            std::to_string(own_write_revision_) + " (last: " + std::to_string(last_seen_) + ")"});
  }
  if (from_revision < compacted_ && compacted_ == backfilled_to_ &&
      opened_at_ - from_revision <= kMaxBackfillRevisions) {
    lock.unlock();
    if (auto filled = Backfill(from_revision); !filled) return Unexpected(filled.error());
    lock.lock();
    if (closed_) return Unexpected(Closed());
  }
  if (from_revision < compacted_) {
    return Unexpected(StoreError{StoreError::kCompacted, "revision " +
                                                             std::to_string(from_revision) +
                                                             " is before the compacted revision " +
                                                             std::to_string(compacted_)});
  }
  auto first = std::lower_bound(
      window_.begin(), window_.end(), from_revision,
      [](const Event& event, int64_t revision) { return event.kv.mod_revision < revision; });
  std::vector<Event> events;
  for (auto it = first; it != window_.end(); ++it) {
    if (HasPrefix(it->kv.key, prefix)) events.push_back(*it);
  }
  return events;
}

Expected<void, StoreError> EtcdStore::Backfill(int64_t from) {
  std::lock_guard one_at_a_time(backfill_mutex_);
  int64_t until = 0;  // the window's start when the backfill began
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Unexpected(Closed());
    if (from >= compacted_) return {};  // an earlier backfill reached it
    if (compacted_ != backfilled_to_) {
      return Unexpected(
          StoreError{StoreError::kCompacted, "revision " + std::to_string(from) +
                                                 " is before the compacted revision " +
                                                 std::to_string(compacted_)});
    }
    until = compacted_;
    backfill_context_ = &context;
  }
  const std::string& ns = options_.key_prefix;
  std::string token;
  auto stream = client_->Watch(&context, &token);
  pb::WatchRequest request;
  request.mutable_create_request()->set_key(SyncKey());
  request.mutable_create_request()->set_range_end(PrefixEnd(ns).value_or(kZero));
  request.mutable_create_request()->set_start_revision(from);
  std::deque<Event> older;
  bool reached = false;
  bool compacted = false;
  pb::WatchResponse response;
  if (stream->Write(request)) {
    while (!reached && stream->Read(&response)) {
      if (response.compact_revision() > 0) {
        compacted = true;
        break;
      }
      for (const mvccpb::Event& event : response.events()) {
        const int64_t revision = event.kv().mod_revision();
        if (revision >= until) {
          reached = true;  // the sync write of Open, or anything after it
          break;
        }
        if (!HasPrefix(event.kv().key(), ns)) continue;
        older.push_back(Event{event.type() == mvccpb::Event::DELETE ? Event::kDelete : Event::kPut,
                              FromEtcd(event.kv(), ns.size())});
      }
      if (response.canceled()) break;
    }
  }
  context.TryCancel();
  const grpc::Status finished = stream->Finish();
  if (response.canceled() && EtcdClient::TokenRefused(response.cancel_reason())) {
    // Renewed for the next caller (and the stream); this one is told kUnavailable below.
    [[maybe_unused]] auto renewed = client_->Reauthenticate(token);
  }
  std::lock_guard lock(mutex_);
  backfill_context_ = nullptr;
  if (closed_) return Unexpected(Closed());
  if (compacted) {
    return Unexpected(
        StoreError{StoreError::kCompacted, "etcd compacted its history at revision " +
                                               std::to_string(response.compact_revision()) +
                                               ", after revision " + std::to_string(from)});
  }
  if (!reached) {
    return Unexpected(StoreError{StoreError::kUnavailable,
                                 "etcd at " + client_->endpoints() +
                                     ": reading the history from revision " + std::to_string(from) +
                                     " failed: " +
                                     (!response.cancel_reason().empty() ? response.cancel_reason()
                                      : finished.ok()                   ? "the stream ended"
                                                      : finished.error_message())});
  }
  if (compacted_ != until) return {};  // compacted meanwhile: what was read is too old now
  window_.insert(window_.begin(), std::make_move_iterator(older.begin()),
                 std::make_move_iterator(older.end()));
  compacted_ = from;
  backfilled_to_ = from;  // a further backfill (up to kMaxBackfillRevisions before W) goes on
  return {};
}

Expected<void, StoreError> EtcdStore::Compact(int64_t revision) {
  auto current = CurrentRevision();
  if (!current) return Unexpected(current.error());
  if (revision < 1 || revision > *current) {
    return Unexpected(
        StoreError{StoreError::kInvalidArgument, "compaction revision " + std::to_string(revision) +
                                                     " is outside 1.." + std::to_string(*current)});
  }
  pb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  auto response = client_->Compact(request);
  // Already compacted at or past `revision` (by us or another replica): nothing to do.
  if (!response && response.error().code != StoreError::kCompacted) {
    return Unexpected(response.error());
  }
  std::lock_guard lock(mutex_);
  if (revision > compacted_) {
    compacted_ = revision;
    while (!window_.empty() && window_.front().kv.mod_revision < revision) window_.pop_front();
  }
  return {};
}

Expected<int64_t, StoreError> EtcdStore::CompactedRevision() {
  std::lock_guard lock(mutex_);
  if (closed_) return Unexpected(Closed());
  return compacted_;
}

void EtcdStore::RunWatchStream() {
  int64_t next = 1;
  {
    std::lock_guard lock(mutex_);
    next = std::max<int64_t>(1, compacted_);
  }
  const std::string& ns = options_.key_prefix;
  // From the sync key through the namespace: ["/dove", "/dove0") for "/dove/". Keys of
  // neighbouring prefixes in that range ("/dove-test/...") are skipped.
  const std::string key = SyncKey();
  const std::string end = PrefixEnd(ns).value_or(kZero);
  while (true) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      stream_context_ = &context;
    }
    std::string token;
    auto stream = client_->Watch(&context, &token);
    pb::WatchRequest request;
    request.mutable_create_request()->set_key(key);
    request.mutable_create_request()->set_range_end(end);
    request.mutable_create_request()->set_start_revision(next);
    pb::WatchResponse response;
    if (stream->Write(request)) {
      while (stream->Read(&response)) {
        std::vector<std::string> keys;
        {
          std::lock_guard lock(mutex_);
          if (response.compact_revision() > 0) {
            // History from `next` on is gone (compacted while the stream was down): what the
            // window holds is older still; Changes says kCompacted to watches behind it.
            window_.clear();
            compacted_ = std::max(compacted_, response.compact_revision());
            next = compacted_;
          }
          for (const mvccpb::Event& event : response.events()) {
            const int64_t revision = event.kv().mod_revision();
            last_seen_ = std::max(last_seen_, revision);
            next = revision + 1;
            if (!HasPrefix(event.kv().key(), ns)) continue;  // the sync key, or a neighbour's
            Event out{event.type() == mvccpb::Event::DELETE ? Event::kDelete : Event::kPut,
                      FromEtcd(event.kv(), ns.size())};
            // This store's own Txn woke the watches already.
            if (!own_unseen_.contains(revision)) keys.push_back(out.kv.key);
            if (revision >= compacted_) window_.push_back(std::move(out));
          }
          own_unseen_.erase(own_unseen_.begin(), own_unseen_.upper_bound(last_seen_));
        }
        changed_.notify_all();
        if (!keys.empty()) NotifyWatches(keys);
        if (response.canceled()) break;
      }
    }
    context.TryCancel();
    stream->Finish();
    // etcd checks the token when a watch is created: one it refused (expired, or lost in a
    // member restart) is renewed before reopening. A failure here (etcd unreachable) is met
    // again at the next reopening.
    if (response.canceled() && EtcdClient::TokenRefused(response.cancel_reason())) {
      [[maybe_unused]] auto renewed = client_->Reauthenticate(token);
    }
    std::unique_lock lock(mutex_);
    stream_context_ = nullptr;
    // Reconnect (the channel fails over to another member) after a short pause, unless
    // closing.
    changed_.wait_for(lock, std::chrono::milliseconds(100), [&] { return closed_; });
    if (closed_) return;
  }
}

Expected<LeaseGrant, StoreError> EtcdStore::GrantLease(int64_t ttl_seconds) {
  if (auto valid = ValidateLeaseTtl(ttl_seconds); !valid) return Unexpected(valid.error());
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  auto response = client_->LeaseGrant(request);
  if (!response) return Unexpected(response.error());
  if (!response->error().empty() || response->id() <= 0) {
    return Unexpected(StoreError{
        StoreError::kUnavailable,
        "etcd at " + client_->endpoints() + ": LeaseGrant: no lease (" + response->error() + ")"});
  }
  return LeaseGrant{response->id(), response->ttl()};
}

Expected<int64_t, StoreError> EtcdStore::KeepAliveLease(int64_t lease_id) {
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  pb::LeaseKeepAliveRequest request;
  request.set_id(lease_id);
  auto response = client_->LeaseKeepAlive(request);
  if (!response) return Unexpected(response.error());
  // etcd answers an expired, revoked or unknown lease with TTL 0.
  if (response->ttl() <= 0) return Unexpected(LeaseNotFound(lease_id));
  return response->ttl();
}

Expected<void, StoreError> EtcdStore::RevokeLease(int64_t lease_id) {
  if (auto open = CheckOpen(); !open) return Unexpected(open.error());
  pb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  auto response = client_->LeaseRevoke(request);
  if (!response) return Unexpected(response.error());
  return {};
}

Expected<void, StoreError> EtcdStore::ExpireLeases() { return CheckOpen(); }

int64_t EtcdStore::Authentications() const { return client_->authentications(); }

}  // namespace dove::store
