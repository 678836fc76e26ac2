#include "store/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

namespace dove::store {
namespace {

Expected<std::string, StoreError> ReadPem(const std::string& path, std::string_view what) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return Unexpected(StoreError{StoreError::kInvalidArgument,
                                 "cannot read the etcd " + std::string(what) + " " + path});
  }
  return text.str();
}

}  // namespace

Expected<std::unique_ptr<EtcdClient>, StoreError> EtcdClient::Make(
    std::string_view endpoints, const Tls& tls, std::chrono::milliseconds deadline) {
  auto parsed = ParseEtcdEndpoints(endpoints);
  if (!parsed) return Unexpected(parsed.error());
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (parsed->tls) {
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadPem(tls.ca_file, "CA certificate");
    auto cert = ReadPem(tls.cert_file, "client certificate");
    auto key = ReadPem(tls.key_file, "client key");
    if (!ca) return Unexpected(ca.error());
    if (!cert) return Unexpected(cert.error());
    if (!key) return Unexpected(key.error());
    if (cert->empty() != key->empty()) {
      return Unexpected(StoreError{StoreError::kInvalidArgument,
                                   "an etcd client certificate needs its key, and a key its "
                                   "certificate"});
    }
    ssl.pem_root_certs = *ca;
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
    credentials = grpc::SslCredentials(ssl);
  } else {
    if (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty()) {
      return Unexpected(StoreError{StoreError::kInvalidArgument,
                                   "etcd TLS files given but the endpoints are http://, not "
                                   "https://"});
    }
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments arguments;
  // Every member gets a subchannel; a call goes to a ready one, so losing a member fails
  // over to the others.
  arguments.SetLoadBalancingPolicyName("round_robin");
  arguments.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(parsed->target, credentials, arguments);
  std::string names;
  for (const std::string& url : parsed->urls) names += (names.empty() ? "" : ",") + url;
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(names), channel, deadline));
}

EtcdClient::EtcdClient(std::string endpoints, const std::shared_ptr<grpc::Channel>& channel,
                       std::chrono::milliseconds deadline)
    : endpoints_(std::move(endpoints)),
      deadline_(deadline),
      kv_(etcdserverpb::KV::NewStub(channel)),
      watch_(etcdserverpb::Watch::NewStub(channel)) {}

void EtcdClient::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + deadline_);
  // etcd's clientv3 WithRequireLeader: a member cut off from its leader answers Unavailable
  // instead of serving stale data.
  context->AddMetadata("hasleader", "true");
}

StoreError EtcdClient::Error(const grpc::Status& status, std::string_view what) const {
  std::string message =
      "etcd at " + endpoints_ + ": " + std::string(what) + ": " + status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OUT_OF_RANGE:
      if (status.error_message().find("compacted") != std::string::npos) {
        return StoreError{StoreError::kCompacted, message};
      }
      return StoreError{StoreError::kInvalidArgument, message};
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return StoreError{StoreError::kInvalidArgument, message};
    default:
      // Unavailable, deadline, no leader, cancelled, internal: the call may or may not
      // have happened.
      return StoreError{StoreError::kUnavailable, message};
  }
}

Expected<etcdserverpb::RangeResponse, StoreError> EtcdClient::Range(
    const etcdserverpb::RangeRequest& r) {
  grpc::ClientContext context;
  Prepare(&context);
  etcdserverpb::RangeResponse response;
  grpc::Status status = kv_->Range(&context, r, &response);
  if (!status.ok()) return Unexpected(Error(status, "Range"));
  return response;
}

Expected<etcdserverpb::TxnResponse, StoreError> EtcdClient::Txn(const etcdserverpb::TxnRequest& r) {
  grpc::ClientContext context;
  Prepare(&context);
  etcdserverpb::TxnResponse response;
  grpc::Status status = kv_->Txn(&context, r, &response);
  if (!status.ok()) return Unexpected(Error(status, "Txn"));
  return response;
}

Expected<etcdserverpb::CompactionResponse, StoreError> EtcdClient::Compact(
    const etcdserverpb::CompactionRequest& r) {
  grpc::ClientContext context;
  Prepare(&context);
  etcdserverpb::CompactionResponse response;
  grpc::Status status = kv_->Compact(&context, r, &response);
  if (!status.ok()) return Unexpected(Error(status, "Compact"));
  return response;
}

std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
EtcdClient::Watch(grpc::ClientContext* context) {
  context->AddMetadata("hasleader", "true");
  return watch_->Watch(context);
}

}  // namespace dove::store
