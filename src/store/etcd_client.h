// EtcdClient: one gRPC channel to an etcd cluster and the calls EtcdStore makes on it
// (internal to src/store). Adds the deadline and "require leader" metadata to every call and
// turns gRPC statuses into StoreErrors that name the endpoints and etcd's own words. Within
// the deadline a call is tried again (every 50 ms) while etcd is unavailable in a way that is
// safe to retry: any Range; a Txn or Compact only when it cannot have been applied (the member
// has no leader, as during an election; no connection to send it on); a lease keepalive like a
// read (renewing twice is renewing). Otherwise the first error is the answer.
//
// Authentication (etcd's user/password): with Credentials, Authenticate() asks etcd's
// Auth.Authenticate for a token and every call (Range, Txn, Compact, Lease*, Watch) carries it
// as the "token" metadata. When etcd refuses the token ("invalid auth token": expired after
// etcd's --auth-token-ttl or lost in a member restart; "user name is empty": sent none; "revision
// of auth store is old") a call authenticates again once and is tried again: etcd refuses such a
// call before applying it, so a retried Txn is applied at most once. An etcd without
// authentication enabled answers Authenticate "authentication is not enabled": the client then
// sends no token (etcdctl does the same), and authenticates when etcd starts asking.
// Thread-safe (gRPC stubs are); the token is shared by every thread and renewed by one
// Authenticate at a time (threads refused meanwhile wait for it and use its token); owns no
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/expected.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "store/etcd_endpoints.h"
#include "store/store_error.h"

namespace dove::store {

class EtcdClient {
 public:
  struct Tls {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
  };
  // etcd user and password; an empty user: none (no Authenticate, no token).
  struct Credentials {
    std::string user;
    std::string password;
  };

  // kInvalidArgument for a bad endpoint list, an unreadable TLS file, or a password without a
  // user. Does not connect.
  static Expected<std::unique_ptr<EtcdClient>, StoreError> Make(std::string_view endpoints,
                                                                const Tls& tls,
                                                                const Credentials& login,
                                                                std::chrono::milliseconds deadline);

  // Gets a fresh token now (nothing without Credentials). kAccessDenied "etcd at URL:
  // authentication failed for user NAME: <etcd's words>" for a wrong user or password;
  // kUnavailable when etcd cannot be asked within the deadline.
  Expected<void, StoreError> Authenticate();
  // Authenticates again unless another thread has already replaced `rejected` (the token a call
  // or watch sent and etcd refused): one Authenticate at a time. Errors as Authenticate's.
  Expected<void, StoreError> Reauthenticate(const std::string& rejected);
  // Whether `message` (a gRPC status message or a watch's cancel_reason) is etcd refusing the
  // token, so that authenticating again may help.
  static bool TokenRefused(std::string_view message);
  bool has_credentials() const { return !credentials_.user.empty(); }
  // How many times a token was obtained (Open's included): for logs and tests.
  int64_t authentications() const;

  Expected<etcdserverpb::RangeResponse, StoreError> Range(const etcdserverpb::RangeRequest& r);
  Expected<etcdserverpb::TxnResponse, StoreError> Txn(const etcdserverpb::TxnRequest& r);
  Expected<etcdserverpb::CompactionResponse, StoreError> Compact(
      const etcdserverpb::CompactionRequest& r);

  Expected<etcdserverpb::LeaseGrantResponse, StoreError> LeaseGrant(
      const etcdserverpb::LeaseGrantRequest& r);
  Expected<etcdserverpb::LeaseRevokeResponse, StoreError> LeaseRevoke(
      const etcdserverpb::LeaseRevokeRequest& r);
  // etcd's LeaseKeepAlive is a bidirectional stream; this opens one per call, sends the one
  // request, reads the one answer and closes it (a renewal every few seconds per lease does
  // not need a stream kept open).
  Expected<etcdserverpb::LeaseKeepAliveResponse, StoreError> LeaseKeepAlive(
      const etcdserverpb::LeaseKeepAliveRequest& r);

  // A watch stream without deadline (it lives until `context` is cancelled), carrying the
  // current token, which is stored in `token_sent` (for Reauthenticate when etcd cancels the
  // watch with a TokenRefused cancel_reason).
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
  Watch(grpc::ClientContext* context, std::string* token_sent);

  StoreError Error(const grpc::Status& status, std::string_view what) const;
  const std::string& endpoints() const { return endpoints_; }
  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  EtcdClient(std::string endpoints, const std::shared_ptr<grpc::Channel>& channel,
             Credentials credentials, std::chrono::milliseconds deadline);

  static constexpr std::chrono::milliseconds kRetryPause{50};

  // One unary call: `attempt(context, response)` until it succeeds, fails for good, or the
  // deadline passes (with one Reauthenticate when etcd refuses the token).
  template <typename Response, typename Attempt>
  Expected<Response, StoreError> Call(std::string_view what, bool mutating, Attempt attempt);
  static bool Retryable(const grpc::Status& status, bool mutating);
  // Auth.Authenticate until it answers or the deadline passes; the token ("" when etcd has
  // authentication disabled).
  Expected<std::string, StoreError> RequestToken(std::chrono::system_clock::time_point deadline);
  Expected<void, StoreError> Reauthenticate(const std::string& rejected,
                                            std::chrono::system_clock::time_point deadline);
  std::string CurrentToken() const;

  std::string endpoints_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth_;
  const Credentials credentials_;

  std::mutex authenticate_mutex_;  // one Authenticate at a time (taken before token_mutex_)
  mutable std::mutex token_mutex_;
  std::string token_;            // guarded by token_mutex_; "" = send none
  int64_t authentications_ = 0;  // guarded by token_mutex_
};

}  // namespace dove::store
