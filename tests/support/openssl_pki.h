// OpensslPki: a test PKI made with the openssl command line in a directory: CAs and the
// certificates they sign (EC P-256 keys, valid two days), as files NAME.pem and NAME.key.
// Shared by the TLS tests of the southbound (tests/api) and of the etcd store (tests/etcd).
// Each step is one shell command logged to DIR/openssl.log; a failing step is one sentence
// with that log.
//
//   OpensslPki pki(dir.path().string());
//   ASSERT_TRUE(pki.MakeCa("ca", "test-ca"));
//   ASSERT_TRUE(pki.Sign("server", "etcd", "ca", "subjectAltName=IP:127.0.0.1\n"));
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "base/expected.h"
#include "base/read_file.h"

namespace dove::test_support {

class OpensslPki {
 public:
  explicit OpensslPki(std::string dir) : dir_(std::move(dir)) {}

  // A self-signed CA: NAME.pem, NAME.key.
  Expected<void, std::string> MakeCa(const std::string& name, const std::string& cn) const {
    return Run("openssl req -x509 -new" + std::string(kNewKey) + " -keyout " + name + ".key -out " +
               name + ".pem -days 2 -subj /CN=" + cn);
  }

  // A certificate for CN=`cn` signed by the CA `ca`, with `extensions` (openssl's extfile
  // lines, e.g. "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").
  Expected<void, std::string> Sign(const std::string& name, const std::string& cn,
                                   const std::string& ca, const std::string& extensions) const {
    std::ofstream(dir_ + "/" + name + ".ext") << extensions;
    return Run("openssl req -new" + std::string(kNewKey) + " -keyout " + name + ".key -out " +
               name + ".csr -subj /CN=" + cn + " && openssl x509 -req -in " + name + ".csr -CA " +
               ca + ".pem -CAkey " + ca + ".key -CAcreateserial -out " + name +
               ".pem -days 2 -extfile " + name + ".ext");
  }

  std::string Pem(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  static constexpr const char* kNewKey = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

  Expected<void, std::string> Run(const std::string& command) const {
    const std::string line = "cd '" + dir_ + "' && " + command + " >>openssl.log 2>&1";
    if (std::system(line.c_str()) == 0) return {};
    auto log = ReadFile(dir_ + "/openssl.log");
    return Unexpected<std::string>("openssl failed: " + command + "\n" + (log ? *log : ""));
  }

  std::string dir_;
};

}  // namespace dove::test_support
