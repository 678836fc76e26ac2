// ChannelCredentialsFor: the gRPC channel credentials of ClientOptions (see client_options.h):
// insecure ones with `plaintext`, otherwise TLS with the switch's certificate, its key and the
// CA that signed the controller's certificate, read from their files now (once).
//
// Errors: one sentence naming the option and the file ("TLS certificate (tls.cert_file)
// /etc/dove/h.pem: cannot read ..."), or saying that a TLS file was not given. Thread-safe.
//
//   auto credentials = ChannelCredentialsFor(options);
//   if (!credentials) return Fail(credentials.error());
//   auto channel = grpc::CreateChannel("ctl:8741", *credentials);
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "base/expected.h"
#include "dswitch/agent/client_options.h"

namespace dove::dswitch::agent {

Expected<std::shared_ptr<grpc::ChannelCredentials>, std::string> ChannelCredentialsFor(
    const ClientOptions& options);

}  // namespace dove::dswitch::agent
