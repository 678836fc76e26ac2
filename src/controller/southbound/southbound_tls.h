// SouthboundTls: the PEM material of the southbound's TLS (the controller's certificate chain
// and key, and the CA that signs switch certificates), and how dove-controller's flags choose
// between TLS and plaintext.
//
// The rule (issue: "plaintext only when explicitly asked for"): exactly one of
//   --tls-cert FILE --tls-key FILE --tls-client-ca FILE   (all three), or
//   --southbound-plaintext.
// Neither, both, or only some of the TLS files is a usage error; so is a file that cannot be
// read or holds no PEM block (a PEM block gRPC cannot use fails later, when the server starts).
// Every error is one sentence naming the flags or the file. Thread-safe (no state).
//
//   auto tls = SouthboundTlsFromFlags({.cert_file = c, .key_file = k, .client_ca_file = ca});
//   if (!tls) return Usage(tls.error());
//   options.tls = *tls;  // nullopt: plaintext
#pragma once

#include <optional>
#include <string>

#include "base/expected.h"

namespace dove::controller::southbound {

struct SouthboundTls {
  std::string cert_chain_pem;  // the controller's certificate, then its intermediates
  std::string key_pem;         // the controller's private key
  std::string client_ca_pem;   // the CA(s) a switch certificate must be signed by
};

// (The `{}` initializers let designated initializers leave members out without a warning.)
struct SouthboundFlags {
  std::string cert_file{};       // --tls-cert
  std::string key_file{};        // --tls-key
  std::string client_ca_file{};  // --tls-client-ca
  bool plaintext = false;        // --southbound-plaintext
};

// The TLS material read from the files (nullopt with --southbound-plaintext), or one sentence.
Expected<std::optional<SouthboundTls>, std::string> SouthboundTlsFromFlags(
    const SouthboundFlags& flags);

}  // namespace dove::controller::southbound
