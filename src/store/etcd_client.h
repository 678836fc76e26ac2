// EtcdClient: one gRPC channel to an etcd cluster and the calls EtcdStore makes on it
// (internal to src/store). Adds the deadline and "require leader" metadata to every call and
// turns gRPC statuses into StoreErrors that name the endpoints and etcd's own words.
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

  // A watch stream without deadline (it lives until `context` is cancelled).
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
  Watch(grpc::ClientContext* context);

  // Sets the deadline and the require-leader metadata on a context for a unary call.
  void Prepare(grpc::ClientContext* context) const;
  StoreError Error(const grpc::Status& status, std::string_view what) const;
  const std::string& endpoints() const { return endpoints_; }
  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  EtcdClient(std::string endpoints, const std::shared_ptr<grpc::Channel>& channel,
             std::chrono::milliseconds deadline);

  std::string endpoints_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

}  // namespace dove::store
