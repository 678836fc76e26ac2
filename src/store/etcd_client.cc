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
    std::string_view endpoints, const Tls& tls, const Credentials& login,
    std::chrono::milliseconds deadline) {
  auto parsed = ParseEtcdEndpoints(endpoints);
  if (!parsed) return Unexpected(parsed.error());
  if (login.user.empty() != login.password.empty()) {
    return Unexpected(StoreError{StoreError::kInvalidArgument,
                                 "an etcd user needs its password, and a password its user"});
  }
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
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(names), channel, login, deadline));
}

EtcdClient::EtcdClient(std::string endpoints, const std::shared_ptr<grpc::Channel>& channel,
                       Credentials credentials, std::chrono::milliseconds deadline)
    : endpoints_(std::move(endpoints)),
      deadline_(deadline),
      kv_(etcdserverpb::KV::NewStub(channel)),
      watch_(etcdserverpb::Watch::NewStub(channel)),
      lease_(etcdserverpb::Lease::NewStub(channel)),
      auth_(etcdserverpb::Auth::NewStub(channel)),
      credentials_(std::move(credentials)) {}

bool EtcdClient::TokenRefused(std::string_view message) {
  // etcd's rpctypes: ErrGRPCInvalidAuthToken, ErrGRPCUserEmpty, ErrGRPCAuthOldRevision (the
  // ones etcd's own client authenticates again for). A watch's cancel_reason wraps them
  // ("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token").
  for (std::string_view refusal :
       {"etcdserver: invalid auth token", "etcdserver: user name is empty",
        "etcdserver: revision of auth store is old"}) {
    if (message.find(refusal) != std::string_view::npos) return true;
  }
  return false;
}

std::string EtcdClient::CurrentToken() const {
  std::lock_guard lock(token_mutex_);
  return token_;
}

int64_t EtcdClient::authentications() const {
  std::lock_guard lock(token_mutex_);
  return authentications_;
}

Expected<std::string, StoreError> EtcdClient::RequestToken(
    std::chrono::system_clock::time_point deadline) {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(credentials_.user);
  request.set_password(credentials_.password);
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    context.AddMetadata("hasleader", "true");
    etcdserverpb::AuthenticateResponse response;
    const grpc::Status status = auth_->Authenticate(&context, request, &response);
    if (status.ok()) return response.token();
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
        status.error_message() == "etcdserver: authentication is not enabled") {
      return std::string();
    }
    // Authenticating twice only makes two tokens: retried like a read.
    if (!Retryable(status, false) || std::chrono::system_clock::now() + kRetryPause >= deadline) {
      const bool refused = status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                           status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                           status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
      if (refused) {
        return Unexpected(StoreError{StoreError::kAccessDenied,
                                     "etcd at " + endpoints_ + ": authentication failed for user " +
                                         credentials_.user + ": " + status.error_message()});
      }
      return Unexpected(StoreError{StoreError::kUnavailable,
                                   "etcd at " + endpoints_ + ": Authenticate (user " +
                                       credentials_.user + "): " + status.error_message()});
    }
    std::this_thread::sleep_for(kRetryPause);
  }
}

Expected<void, StoreError> EtcdClient::Authenticate() {
  if (!has_credentials()) return {};
  return Reauthenticate(CurrentToken());
}

Expected<void, StoreError> EtcdClient::Reauthenticate(const std::string& rejected) {
  return Reauthenticate(rejected, std::chrono::system_clock::now() + deadline_);
}

Expected<void, StoreError> EtcdClient::Reauthenticate(
    const std::string& rejected, std::chrono::system_clock::time_point deadline) {
  if (!has_credentials()) return {};
  std::lock_guard one_at_a_time(authenticate_mutex_);
  if (CurrentToken() != rejected) return {};  // another thread renewed it meanwhile
  auto token = RequestToken(deadline);
  if (!token) return Unexpected(token.error());
  std::lock_guard lock(token_mutex_);
  token_ = std::move(*token);
  ++authentications_;
  return {};
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
      if (status.error_message() == "etcdserver: user name is empty" && !has_credentials()) {
        return StoreError{StoreError::kAccessDenied,
                          message +
                              " (this etcd has authentication enabled: a user and password are "
                              "needed)"};
      }
      // Still refused after authenticating again (see Call).
      if (TokenRefused(status.error_message())) {
        return StoreError{StoreError::kAccessDenied, message};
      }
      return StoreError{StoreError::kInvalidArgument, message};
    case grpc::StatusCode::FAILED_PRECONDITION:
      return StoreError{StoreError::kInvalidArgument, message};
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      // "invalid auth token" after authenticating again, "permission denied" (the user's
      // roles do not cover the key).
      return StoreError{StoreError::kAccessDenied, message};
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
                                                Attempt attempt) {
  const auto deadline = std::chrono::system_clock::now() + deadline_;
  bool reauthenticated = false;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    context.AddMetadata("hasleader", "true");
    const std::string token = CurrentToken();
    if (!token.empty()) context.AddMetadata("token", token);
    Response response;
    const grpc::Status status = attempt(&context, &response);
    if (status.ok()) return response;
    // etcd checks the token before applying anything: a refused Txn was not applied.
    if (has_credentials() && !reauthenticated && TokenRefused(status.error_message())) {
      reauthenticated = true;
      if (auto renewed = Reauthenticate(token, deadline); !renewed) {
        return Unexpected(renewed.error());
      }
      continue;
    }
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
        grpc::Status status = stream->Finish();
        if (!status.ok()) return status;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keepalive stream ended unanswered");
      });
}

std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
EtcdClient::Watch(grpc::ClientContext* context, std::string* token_sent) {
  context->AddMetadata("hasleader", "true");
  *token_sent = CurrentToken();
  if (!token_sent->empty()) context->AddMetadata("token", *token_sent);
  return watch_->Watch(context);
}

}  // namespace dove::store
