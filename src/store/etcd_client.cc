#include "store/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>
#include <thread>

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
      watch_(etcdserverpb::Watch::NewStub(channel)),
      lease_(etcdserverpb::Lease::NewStub(channel)) {}

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
    case grpc::StatusCode::NOT_FOUND:
      // "etcdserver: requested lease not found": a put naming it, a revoke, a keepalive.
      return StoreError{StoreError::kNotFound, message};
    default:
      // Unavailable, deadline, no leader, cancelled, internal: the call may or may not
      // have happened.
      return StoreError{StoreError::kUnavailable, message};
  }
}

template <typename Response, typename Attempt>
Expected<Response, StoreError> EtcdClient::Call(std::string_view what, bool mutating,
                                                Attempt attempt) const {
  const auto deadline = std::chrono::system_clock::now() + deadline_;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    context.AddMetadata("hasleader", "true");
    Response response;
    const grpc::Status status = attempt(&context, &response);
    if (status.ok()) return response;
    if (!Retryable(status, mutating) ||
        std::chrono::system_clock::now() + kRetryPause >= deadline) {
      return Unexpected(Error(status, what));
    }
    std::this_thread::sleep_for(kRetryPause);
  }
}

bool EtcdClient::Retryable(const grpc::Status& status, bool mutating) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  // A read may be asked again whatever happened. A write only when it cannot have been
  // applied: the member has no leader (it refuses before proposing), or gRPC found no
  // connection to send it on. "leader changed", "request timed out" or a connection lost
  // mid-call may have applied it: those are the caller's to judge.
  if (!mutating) return true;
  const std::string& message = status.error_message();
  return message == "etcdserver: no leader" ||
         message.find("failed to connect to all addresses") != std::string::npos ||
         message.find("connections to all backends failing") != std::string::npos;
}

Expected<etcdserverpb::RangeResponse, StoreError> EtcdClient::Range(
    const etcdserverpb::RangeRequest& r) {
  return Call<etcdserverpb::RangeResponse>(
      "Range", false, [&](grpc::ClientContext* context, etcdserverpb::RangeResponse* response) {
        return kv_->Range(context, r, response);
      });
}

Expected<etcdserverpb::TxnResponse, StoreError> EtcdClient::Txn(const etcdserverpb::TxnRequest& r) {
  return Call<etcdserverpb::TxnResponse>(
      "Txn", true, [&](grpc::ClientContext* context, etcdserverpb::TxnResponse* response) {
        return kv_->Txn(context, r, response);
      });
}

Expected<etcdserverpb::CompactionResponse, StoreError> EtcdClient::Compact(
    const etcdserverpb::CompactionRequest& r) {
  return Call<etcdserverpb::CompactionResponse>(
      "Compact", true,
      [&](grpc::ClientContext* context, etcdserverpb::CompactionResponse* response) {
        return kv_->Compact(context, r, response);
      });
}

Expected<etcdserverpb::LeaseGrantResponse, StoreError> EtcdClient::LeaseGrant(
    const etcdserverpb::LeaseGrantRequest& r) {
  return Call<etcdserverpb::LeaseGrantResponse>(
      "LeaseGrant", true,
      [&](grpc::ClientContext* context, etcdserverpb::LeaseGrantResponse* response) {
        return lease_->LeaseGrant(context, r, response);
      });
}

Expected<etcdserverpb::LeaseRevokeResponse, StoreError> EtcdClient::LeaseRevoke(
    const etcdserverpb::LeaseRevokeRequest& r) {
  return Call<etcdserverpb::LeaseRevokeResponse>(
      "LeaseRevoke", true,
      [&](grpc::ClientContext* context, etcdserverpb::LeaseRevokeResponse* response) {
        return lease_->LeaseRevoke(context, r, response);
      });
}

Expected<etcdserverpb::LeaseKeepAliveResponse, StoreError> EtcdClient::LeaseKeepAlive(
    const etcdserverpb::LeaseKeepAliveRequest& r) {
  return Call<etcdserverpb::LeaseKeepAliveResponse>(
      "LeaseKeepAlive", false,
      [&](grpc::ClientContext* context, etcdserverpb::LeaseKeepAliveResponse* response) {
        auto stream = lease_->LeaseKeepAlive(context);
        // Half-closing after the request ends etcd's side of the stream once it answered.
        if (stream->Write(r) && stream->WritesDone() && stream->Read(response)) {
          // The answer is in hand: how the stream ends does not change it.
          [[maybe_unused]] const grpc::Status ended = stream->Finish();
          return grpc::Status::OK;
        }
        const grpc::Status status = stream->Finish();
        if (!status.ok()) return status;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keepalive stream ended unanswered");
      });
}

std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
EtcdClient::Watch(grpc::ClientContext* context) {
  context->AddMetadata("hasleader", "true");
  return watch_->Watch(context);
}

}  // namespace dove::store
