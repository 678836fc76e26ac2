// Fuzzes the REST server's TLS reading (TlsSession, src/controller/http/tls_session.h): the
// input is what a client sends on a fresh https connection (a socketpair stands for the
// socket), the server side drives the handshake and then reads, as the epoll loop would, until
// OpenSSL blocks, fails or sees the end. Beyond "no crash": a session that was refused stays
// refused (never established from garbage without a finished handshake), and every call
// returns at once (the server socket is non-blocking).
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "controller/http/tls_context.h"
#include "controller/http/tls_session.h"

namespace {

using dove::controller::http::TlsContext;
using dove::controller::http::TlsSession;

void Check(bool condition) {
  if (!condition) std::abort();
}

// A self-signed P-256 certificate and key, made once, written to a temporary directory for
// TlsContext::Load (which takes files, as the controller's flags do).
std::shared_ptr<TlsContext> MakeContext() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  char dir[] = "/tmp/dove-tls-fuzz-XXXXXX";
  Check(::mkdtemp(dir) != nullptr);
  const std::string cert_file = std::string(dir) + "/cert.pem";
  const std::string key_file = std::string(dir) + "/key.pem";
  std::FILE* out = std::fopen(cert_file.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(key_file.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  auto context = TlsContext::Load(cert_file, key_file);
  ::unlink(cert_file.c_str());
  ::unlink(key_file.c_str());
  ::rmdir(dir);
  Check(context.has_value());
  return *context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<TlsContext> context = MakeContext();
  if (size > 65536) return 0;  // more than a socketpair holds without a reader
  int fds[2];
  Check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
  const int server = fds[0];
  const int client = fds[1];
  int buffer = 256 * 1024;
  ::setsockopt(client, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
  Check(::send(client, data, size, MSG_NOSIGNAL) == static_cast<ssize_t>(size) || size == 0);
  ::shutdown(client, SHUT_WR);
  {
    TlsSession session(*context, server);
    char plain[16384];
    for (int step = 0; step < 64; ++step) {
      if (!session.established()) {
        const TlsSession::Result result = session.Handshake();
        if (result.kind != TlsSession::Result::kData) {
          Check(!session.established());
          break;
        }
        continue;
      }
      const TlsSession::Result got = session.Read(plain, sizeof(plain));
      Check(got.kind != TlsSession::Result::kData || (got.bytes > 0 && got.bytes <= sizeof(plain)));
      if (got.kind != TlsSession::Result::kData) break;
    }
  }
  ::close(server);
  ::close(client);
  return 0;
}
