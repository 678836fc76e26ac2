// PeerIdentity: who a TLS peer is, by its verified client certificate, and whether that
// certificate lets it speak as a given switch.
//
// The rule: a switch may call itself NAME in Hello only when NAME is its certificate's
// subject common name or one of its subject alternative names (compared exactly). gRPC has
// verified the certificate against --tls-client-ca before the stream exists; these are the
// names gRPC's auth context reports for it ("x509_common_name",
// "x509_subject_alternative_name"). Thread-safe (values only).
//
//   auto identity = PeerIdentity::Of(*context->auth_context());
//   if (!identity.Allows(hello.switch_name())) Refuse(identity.RefusalFor(hello.switch_name()));
#pragma once

#include <grpcpp/security/auth_context.h>

#include <string>
#include <string_view>
#include <vector>

namespace dove::controller::southbound {

struct PeerIdentity {
  std::string common_name;             // "" when the certificate has none
  std::vector<std::string> alt_names;  // subject alternative names, in certificate order

  // The names of the peer's certificate in `context` (empty when it presented none).
  static PeerIdentity Of(const grpc::AuthContext& context);

  // Whether the certificate names `switch_name` (CN or a SAN).
  bool Allows(std::string_view switch_name) const;

  // One sentence refusing `claimed`, naming the certificate's names.
  std::string RefusalFor(std::string_view claimed) const;
};

}  // namespace dove::controller::southbound
