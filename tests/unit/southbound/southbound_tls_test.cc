// SouthboundTlsFromFlags: exactly one of TLS (three files) and plaintext, files read.
#include "controller/southbound/southbound_tls.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace dove::controller::southbound {
namespace {

TEST(SouthboundTlsFromFlagsTest, ChoosesExactlyOneMode) {
  test_support::TempDir dir("dove-tls-flags");
  const std::string pem = (dir.path() / "x.pem").string();
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\n";
  const std::string empty = (dir.path() / "empty.pem").string();
  std::ofstream{empty};
  const std::string der = (dir.path() / "x.der").string();
  std::ofstream(der) << "0\x82\x01";
  const std::string absent = (dir.path() / "absent.pem").string();
  struct Case {
    const char* description;
    SouthboundFlags flags;
    const char* error;  // a part of the error; nullptr: accepted
  };
  const Case cases[] = {
      {"plaintext", {.plaintext = true}, nullptr},
      {"tls", {.cert_file = pem, .key_file = pem, .client_ca_file = pem}, nullptr},
      {"neither", {}, "the southbound needs --tls-cert, --tls-key and --tls-client-ca, or "},
      {"both",
       {.cert_file = pem, .key_file = pem, .client_ca_file = pem, .plaintext = true},
       "cannot be combined"},
      {"only the key and plaintext", {.key_file = pem, .plaintext = true}, "cannot be combined"},
      {"only the cert", {.cert_file = pem}, "--tls-key and --tls-client-ca missing"},
      {"no ca", {.cert_file = pem, .key_file = pem}, "--tls-client-ca missing"},
      {"absent key",
       {.cert_file = pem, .key_file = absent, .client_ca_file = pem},
       "--tls-key: cannot read"},
      {"not pem", {.cert_file = der, .key_file = pem, .client_ca_file = pem}, "is not PEM"},
      {"empty ca", {.cert_file = pem, .key_file = pem, .client_ca_file = empty}, "is empty"},
  };
  for (const Case& c : cases) {
    auto tls = SouthboundTlsFromFlags(c.flags);
    if (c.error == nullptr) {
      ASSERT_TRUE(tls) << c.description << ": " << tls.error();
      EXPECT_EQ(tls->has_value(), !c.flags.plaintext) << c.description;
    } else {
      ASSERT_FALSE(tls) << c.description;
      EXPECT_NE(tls.error().find(c.error), std::string::npos)
          << c.description << ": " << tls.error();
    }
  }
}

}  // namespace
}  // namespace dove::controller::southbound
