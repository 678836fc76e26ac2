// TlsContext: the REST server's TLS configuration, made once at start: the certificate chain
// and private key the server presents, TLS 1.2 and later only.
//
// Load() reads both PEM files and checks that the key belongs to the chain's first
// certificate, so a bad file stops the controller at start with one sentence instead of
// failing every handshake later. The context is immutable after Load() and shared (read
// only) by every connection's TlsSession; a new certificate takes a restart.
//
//   auto tls = TlsContext::Load("/etc/dove/api.crt", "/etc/dove/api.key");
//   if (!tls) { print tls.error(); exit 2; }
//   options.tls = std::move(*tls);   // HttpServerOptions
#pragma once

#include <memory>
#include <string>

#include "base/expected.h"

using SSL_CTX = struct ssl_ctx_st;  // <openssl/ssl.h>, kept out of this header

namespace dove::controller::http {

class TlsContext {
 public:
  // The context, or why not: unreadable or malformed file, no certificate in it, or a key
  // that is not the certificate's.
  static Expected<std::shared_ptr<TlsContext>, std::string> Load(const std::string& cert_file,
                                                                 const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return context_; }

 private:
  explicit TlsContext(SSL_CTX* context) : context_(context) {}
  SSL_CTX* context_;
};

}  // namespace dove::controller::http
