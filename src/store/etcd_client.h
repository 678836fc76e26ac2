// EtcdClient: one gRPC channel to an etcd cluster and the calls EtcdStore makes on it
// (internal to src/store). Adds the deadline and "require leader" metadata to every call and
// turns gRPC statuses into StoreErrors that name the endpoints and etcd's own words. Within
// the deadline a call is tried again (every 50 ms) while etcd is unavailable in a way that is
// safe to retry: any Range; a Txn or Compact only when it cannot have been applied (the member
// has no leader, as during an election; no connection to send it on); a lease keepalive like a
// read (renewing twice is renewing). Otherwise the first error is the answer.
// Thread-safe (gRPC stubs are); owns no thread.
#pragma once

#include <chrono>
#include <memory>
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

  // kInvalidArgument for a bad endpoint list or an unreadable TLS file. Does not connect.
  static Expected<std::unique_ptr<EtcdClient>, StoreError> Make(std::string_view endpoints,
                                                                const Tls& tls,
                                                                std::chrono::milliseconds deadline);

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

  // A watch stream without deadline (it lives until `context` is cancelled).
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
  Watch(grpc::ClientContext* context);

  StoreError Error(const grpc::Status& status, std::string_view what) const;
  const std::string& endpoints() const { return endpoints_; }
  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  EtcdClient(std::string endpoints, const std::shared_ptr<grpc::Channel>& channel,
             std::chrono::milliseconds deadline);

  static constexpr std::chrono::milliseconds kRetryPause{50};

  // One unary call: `attempt(context, response)` until it succeeds, fails for good, or the
  // deadline passes.
  template <typename Response, typename Attempt>
  Expected<Response, StoreError> Call(std::string_view what, bool mutating, Attempt attempt) const;
  static bool Retryable(const grpc::Status& status, bool mutating);

  std::string endpoints_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

}  // namespace dove::store
