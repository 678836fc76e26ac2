// EtcdStore over TLS to an etcd that requires client certificates (--client-cert-auth), with
// a PKI made by openssl: the right CA and certificate work; no certificate, a certificate of
// another CA, or an http:// URL with TLS files are refused with clear errors.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "store/etcd_store.h"
#include "support/etcd_cluster.h"
#include "support/openssl_pki.h"
#include "support/temp_dir.h"

namespace dove::store {
namespace {

using test_support::EtcdCluster;
using test_support::OpensslPki;
using test_support::TempDir;

class EtcdTlsTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const auto& step :
         {pki_.MakeCa("ca", "etcd-test-ca"), pki_.MakeCa("other-ca", "unrelated-ca"),
          pki_.Sign("server", "etcd", "ca",
                    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
          pki_.Sign("client", "dove-controller", "ca", "extendedKeyUsage=clientAuth\n"),
          pki_.Sign("stranger", "dove-controller", "other-ca", "extendedKeyUsage=clientAuth\n")}) {
      ASSERT_TRUE(step) << step.error();
    }
    EtcdCluster::Options options;
    options.https = true;
    options.member_args = {"--cert-file=" + pki_.Pem("server"), "--key-file=" + pki_.Key("server"),
                           "--client-cert-auth", "--trusted-ca-file=" + pki_.Pem("ca")};
    auto started = EtcdCluster::Start(1, options);
    ASSERT_TRUE(started) << started.error();
    cluster_ = std::move(*started);
  }

  EtcdStore::Options Options(const std::string& client) const {
    EtcdStore::Options options;
    options.endpoints = cluster_->Endpoints();
    options.deadline = std::chrono::milliseconds(2000);
    options.ca_file = pki_.Pem("ca");
    if (!client.empty()) {
      options.cert_file = pki_.Pem(client);
      options.key_file = pki_.Key(client);
    }
    return options;
  }

  TempDir dir_{"dove-etcd-tls"};
  OpensslPki pki_{dir_.path().string()};
  std::unique_ptr<EtcdCluster> cluster_;
};

TEST_F(EtcdTlsTest, ClientCertificateOfTheTrustedCaWorks) {
  ASSERT_TRUE(cluster_);
  auto store = EtcdStore::Open(Options("client"));
  ASSERT_TRUE(store) << store.error().Describe();
  ASSERT_TRUE((*store)->Put("/tls", "yes"));
  EXPECT_EQ((*store)->Get("/tls")->value, "yes");
}

TEST_F(EtcdTlsTest, WrongOrMissingCredentialsAreRefused) {
  ASSERT_TRUE(cluster_);
  for (const char* client : {"", "stranger"}) {
    auto store = EtcdStore::Open(Options(client));
    ASSERT_FALSE(store) << client;
    EXPECT_EQ(store.error().code, StoreError::kUnavailable) << client;
    EXPECT_NE(store.error().Describe().find("cannot reach etcd at https://127.0.0.1:"),
              std::string::npos)
        << store.error().Describe();
  }
  auto untrusted_server = Options("client");
  untrusted_server.ca_file = pki_.Pem("other-ca");
  EXPECT_EQ(EtcdStore::Open(untrusted_server).error().code, StoreError::kUnavailable);

  auto missing = Options("client");
  missing.ca_file = (dir_.path() / "absent.pem").string();
  auto unreadable = EtcdStore::Open(missing);
  ASSERT_FALSE(unreadable);
  EXPECT_EQ(unreadable.error().code, StoreError::kInvalidArgument);
  EXPECT_NE(unreadable.error().Describe().find("absent.pem"), std::string::npos);

  auto half = Options("client");
  half.key_file.clear();
  EXPECT_EQ(EtcdStore::Open(half).error().code, StoreError::kInvalidArgument);

  auto plain = Options("client");
  plain.endpoints = "http://127.0.0.1:2379";
  auto mixed = EtcdStore::Open(plain);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, StoreError::kInvalidArgument);
  EXPECT_NE(mixed.error().Describe().find("https"), std::string::npos);
}

}  // namespace
}  // namespace dove::store
