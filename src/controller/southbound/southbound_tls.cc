#include "controller/southbound/southbound_tls.h"

#include <vector>

#include "base/read_file.h"

namespace dove::controller::southbound {

Expected<std::optional<SouthboundTls>, std::string> SouthboundTlsFromFlags(
    const SouthboundFlags& flags) {
  std::vector<std::string> missing;
  if (flags.cert_file.empty()) missing.emplace_back("--tls-cert");
  if (flags.key_file.empty()) missing.emplace_back("--tls-key");
  if (flags.client_ca_file.empty()) missing.emplace_back("--tls-client-ca");
  const bool any_tls = missing.size() < 3;
  if (flags.plaintext && any_tls) {
    return Unexpected<std::string>(
        "--southbound-plaintext cannot be combined with --tls-cert, --tls-key or "
        "--tls-client-ca: choose TLS or plaintext");
  }
  if (flags.plaintext) return std::optional<SouthboundTls>();
  if (!any_tls) {
    return Unexpected<std::string>(
        "the southbound needs --tls-cert, --tls-key and --tls-client-ca, or "
        "--southbound-plaintext to run without TLS");
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& flag : missing) list += (list.empty() ? "" : " and ") + flag;
    return Unexpected<std::string>(
        "--tls-cert, --tls-key and --tls-client-ca go together: " + list + " missing");
  }
  SouthboundTls tls;
  const struct {
    const char* flag;
    const std::string& file;
    std::string& pem;
  } files[] = {{"--tls-cert", flags.cert_file, tls.cert_chain_pem},
               {"--tls-key", flags.key_file, tls.key_pem},
               {"--tls-client-ca", flags.client_ca_file, tls.client_ca_pem}};
  for (const auto& [flag, file, pem] : files) {
    auto text = ReadFile(file);
    if (!text) return Unexpected<std::string>(std::string(flag) + ": " + text.error());
    if (text->empty())
      return Unexpected<std::string>(std::string(flag) + ": " + file + " is empty");
    if (text->find("-----BEGIN ") == std::string::npos) {
      return Unexpected<std::string>(std::string(flag) + ": " + file +
                                     " is not PEM (no -----BEGIN line)");
    }
    pem = std::move(*text);
  }
  return std::optional<SouthboundTls>(std::move(tls));
}

}  // namespace dove::controller::southbound
