#include "dswitch/agent/channel_credentials.h"

#include "base/read_file.h"

namespace dove::dswitch::agent {
namespace {

Expected<std::string, std::string> ReadPem(const char* what, const std::string& file) {
  if (file.empty()) {
    return Unexpected<std::string>(std::string("no ") + what +
                                   " file given (set it, or plaintext to connect without TLS)");
  }
  auto text = ReadFile(file);
  if (!text) return Unexpected<std::string>(std::string(what) + ": " + text.error());
  if (text->empty()) return Unexpected<std::string>(std::string(what) + ": " + file + " is empty");
  return text;
}

}  // namespace

Expected<std::shared_ptr<grpc::ChannelCredentials>, std::string> ChannelCredentialsFor(
    const ClientOptions& options) {
  if (options.plaintext) return grpc::InsecureChannelCredentials();
  auto ca = ReadPem("TLS CA (tls.ca_file)", options.tls.ca_file);
  if (!ca) return Unexpected(ca.error());
  auto cert = ReadPem("TLS certificate (tls.cert_file)", options.tls.cert_file);
  if (!cert) return Unexpected(cert.error());
  auto key = ReadPem("TLS key (tls.key_file)", options.tls.key_file);
  if (!key) return Unexpected(key.error());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = std::move(*ca);
  ssl.pem_cert_chain = std::move(*cert);
  ssl.pem_private_key = std::move(*key);
  return grpc::SslCredentials(ssl);
}

}  // namespace dove::dswitch::agent
