#include "controller/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>

namespace dove::controller::http {
namespace {

// OpenSSL's reason for the last failure ("no such file", "key values mismatch"...).
std::string LastError() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "error " + std::to_string(code);
}

bool Readable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  std::fclose(file);
  return true;
}

}  // namespace

Expected<std::shared_ptr<TlsContext>, std::string> TlsContext::Load(const std::string& cert_file,
                                                                    const std::string& key_file) {
  if (!Readable(cert_file)) {
    return Unexpected<std::string>("cannot read the API TLS certificate " + cert_file);
  }
  if (!Readable(key_file)) {
    return Unexpected<std::string>("cannot read the API TLS key " + key_file);
  }
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return Unexpected<std::string>("TLS: " + LastError());
  std::shared_ptr<TlsContext> context(new TlsContext(raw));
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Partial writes with a buffer that may move between retries: the server's write buffers
  // are std::strings; idle connections hand their read/write buffers back.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return Unexpected<std::string>("the API TLS certificate " + cert_file +
                                   " is not a PEM certificate chain (" + LastError() + ")");
  }
  // A key of another certificate already fails here (OpenSSL compares them on loading).
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    const unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Unexpected<std::string>("the API TLS key " + key_file + " does not belong to " +
                                     cert_file + " (its first certificate)");
    }
    return Unexpected<std::string>("the API TLS key " + key_file + " is not a PEM private key (" +
                                   LastError() + ")");
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

}  // namespace dove::controller::http
