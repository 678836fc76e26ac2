// The REST API over https: a real dove-controller started with --api-tls-cert/--api-tls-key
// (a certificate made with the openssl command line for each test), used by the real dovectl
// and by Debian's curl. What an operator sees when the CA, the name or the scheme is wrong, and
// that clients which stall or send garbage at the TLS port cost the others nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api_client.h"
#include "dovectl_run.h"
#include "raw_connection.h"
#include "support/controller_process.h"
#include "support/openssl_pki.h"
#include "support/temp_dir.h"

namespace dove::api_test {
namespace {

using namespace std::chrono_literals;
using test_support::ControllerProcess;
using test_support::TempDir;

constexpr const char* kToken = "https-test-token";

// Runs a shell command (curl); its exit status and what it printed (stdout and stderr).
struct Shell {
  int code = -1;
  std::string out;
};
Shell RunShell(const std::string& command, const TempDir& dir) {
  const std::string file = (dir.path() / "shell.out").string();
  const int status = std::system((command + " >'" + file + "' 2>&1").c_str());
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

class ApiHttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& step :
         {pki_.MakeCa("ca", "dove-api-test-ca"), pki_.MakeCa("other-ca", "unrelated-ca"),
          pki_.Sign("api", "dove-controller", "ca",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
          pki_.Sign("elsewhere", "elsewhere", "ca",
                    "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n")}) {
      ASSERT_TRUE(step) << step.error();
    }
    controller_ = Start("api", "data");
    ASSERT_NE(controller_, nullptr);
    port_ = std::to_string(controller_->port());
  }

  // A controller serving https with certificate `cert` (a read time of 500 ms, so a stalled
  // handshake is closed within the test).
  std::unique_ptr<ControllerProcess> Start(const std::string& cert, const std::string& data) {
    ControllerProcess::Options options;
    options.args = {"--data-dir",
                    (dir_.path() / data).string(),
                    "--api-tls-cert",
                    pki_.Pem(cert),
                    "--api-tls-key",
                    pki_.Key(cert),
                    "--http-read-timeout-ms",
                    "500"};
    options.env = {{"DOVE_TOKEN", kToken}};
    auto started = ControllerProcess::Start(options);
    EXPECT_TRUE(started) << started.error();
    return started ? std::move(*started) : nullptr;
  }

  CtlResult Ctl(std::vector<std::string> args, const std::string& url,
                const std::vector<std::pair<std::string, std::string>>& env = {}) {
    args.insert(args.end(), {"--controller", url, "--token", kToken});
    return RunCtl(args, env);
  }

  std::string Curl(const std::string& options) const {
    return "curl -sS --max-time 10 -H 'Authorization: Bearer " + std::string(kToken) + "' " +
           options;
  }

  TempDir dir_{"dove-api-https"};
  test_support::OpensslPki pki_{dir_.path().string()};
  std::unique_ptr<ControllerProcess> controller_;
  std::string port_;
};

TEST_F(ApiHttpsTest, DovectlWithCacertWorksOverHttps) {
  const std::string url = "https://127.0.0.1:" + port_;
  CtlResult r = Ctl({"status", "--cacert", pki_.Pem("ca")}, url);
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("https://127.0.0.1:" + port_), std::string::npos) << r.out;
  r = Ctl({"domain", "create", "acme", "--cacert", pki_.Pem("ca")}, url);
  ASSERT_EQ(r.code, 0) << Describe(r);
  // The name in the URL, the CA from the environment.
  r = Ctl({"domain", "list"}, "https://localhost:" + port_, {{"DOVE_CACERT", pki_.Pem("ca")}});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("acme"), std::string::npos) << r.out;
}

TEST_F(ApiHttpsTest, AnUnknownCaIsRefusedWithASentenceNamingTheFix) {
  const std::string url = "https://127.0.0.1:" + port_;
  CtlResult r = Ctl({"status"}, url);  // the system's roots do not know the test CA
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("certificate at " + url + " is not trusted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--cacert"), std::string::npos) << r.err;
  r = Ctl({"status", "--cacert", pki_.Pem("other-ca")}, url);
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("is not trusted"), std::string::npos) << r.err;
  r = Ctl({"status", "--cacert", (dir_.path() / "missing.pem").string()}, url);
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("cannot load the CA certificates of --cacert"), std::string::npos) << r.err;
}

TEST_F(ApiHttpsTest, ACertificateForAnotherNameIsRefused) {
  auto elsewhere = Start("elsewhere", "data-elsewhere");
  ASSERT_NE(elsewhere, nullptr);
  const CtlResult r = Ctl({"status", "--cacert", pki_.Pem("ca")},
                          "https://127.0.0.1:" + std::to_string(elsewhere->port()));
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("certificate does not name \"127.0.0.1\""), std::string::npos) << r.err;
}

TEST_F(ApiHttpsTest, PlainHttpToTheHttpsPortIsToldToUseHttps) {
  CtlResult r = Ctl({"domain", "list"}, "http://127.0.0.1:" + port_);
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("serves https only: use https://127.0.0.1:" + port_), std::string::npos)
      << r.err;
  r = Ctl({"domain", "create", "x"}, "127.0.0.1:" + port_);  // no scheme: http
  EXPECT_EQ(r.code, 4) << Describe(r);
  const Shell curl = RunShell(Curl("-i http://127.0.0.1:" + port_ + "/v1/domains"), dir_);
  EXPECT_NE(curl.out.find("HTTP/1.1 426 Upgrade Required"), std::string::npos) << curl.out;
  EXPECT_NE(curl.out.find("\"https_required\""), std::string::npos) << curl.out;
}

TEST_F(ApiHttpsTest, AnHttpsUrlToAPlainControllerSaysItIsPlain) {
  auto plain = ControllerProcess::Start({"--data-dir", (dir_.path() / "plain").string()});
  ASSERT_TRUE(plain) << plain.error();
  const std::string port = std::to_string((*plain)->port());
  const CtlResult r = Ctl({"status", "--cacert", pki_.Pem("ca")}, "https://127.0.0.1:" + port);
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("did not answer in TLS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("http://127.0.0.1:" + port), std::string::npos) << r.err;
}

TEST_F(ApiHttpsTest, CurlWithCacertGetsObjectsAndTheEventStream) {
  const std::string base = "--cacert " + pki_.Pem("ca") + " https://localhost:" + port_;
  const std::string events = (dir_.path() / "events.txt").string();
  // The stream for 4 s, in the background, while a domain is made.
  std::thread stream([&] {
    std::system(
        (Curl("-N --max-time 4 " + base + "/v1/events") + " >'" + events + "' 2>&1").c_str());
  });
  const auto read_events = [&] {
    std::ifstream in(events);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (read_events().find("event: hello") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const Shell created =
      RunShell(Curl("-X POST -H 'Content-Type: application/json' -d '{\"name\":\"acme\"}' " + base +
                    "/v1/domains"),
               dir_);
  EXPECT_EQ(created.code, 0) << created.out;
  const Shell listed = RunShell(Curl(base + "/v1/domains"), dir_);
  EXPECT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find("\"name\":\"acme\""), std::string::npos) << listed.out;
  stream.join();
  const std::string seen = read_events();
  EXPECT_NE(seen.find("event: hello"), std::string::npos) << seen;
  EXPECT_NE(seen.find("event: change"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"name\":\"acme\""), std::string::npos) << seen;
}

TEST_F(ApiHttpsTest, SilentAndHalfHandshakesDoNotHoldUpOthersAndAreClosed) {
  const int port = controller_->port();
  std::vector<std::unique_ptr<RawConnection>> stalled;
  stalled.reserve(8);
  for (int i = 0; i < 8; ++i) stalled.push_back(std::make_unique<RawConnection>(port));
  // Half a ClientHello: a record header announcing 512 bytes, and 40 of them.
  auto half = std::make_unique<RawConnection>(port);
  ASSERT_TRUE(half->Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                         std::string(29, 'x')));
  const auto before = std::chrono::steady_clock::now();
  const CtlResult r = Ctl({"status", "--cacert", pki_.Pem("ca")}, "https://127.0.0.1:" + port_);
  EXPECT_EQ(r.code, 0) << Describe(r);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  // The read time (500 ms) bounds a handshake: both kinds are closed, and counted.
  EXPECT_TRUE(half->ClosedByServer(3s));
  for (auto& each : stalled) EXPECT_TRUE(each->ClosedByServer(3s));
  const Shell metrics = RunShell(
      Curl("--cacert " + pki_.Pem("ca") + " https://localhost:" + port_ + "/metrics"), dir_);
  EXPECT_NE(metrics.out.find("dove_http_tls_handshake_timeouts_total 9\n"), std::string::npos)
      << metrics.out;
}

TEST(ApiHttpsFlagsTest, CertificateAndKeyGoTogetherAndMustMatch) {
  TempDir dir("dove-api-https-flags");
  test_support::OpensslPki pki(dir.path().string());
  for (const auto& step : {pki.MakeCa("ca", "ca"), pki.Sign("api", "api", "ca", ""),
                           pki.Sign("other", "other", "ca", "")}) {
    ASSERT_TRUE(step) << step.error();
  }
  const std::vector<std::string> base = {"--data-dir", (dir.path() / "data").string(), "--listen",
                                         "127.0.0.1:0", "--southbound-plaintext"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string absent = (dir.path() / "absent.pem").string();
  struct Case {
    const char* description;
    std::vector<std::string> args;
    std::string expected;  // in stderr
  };
  const std::vector<Case> cases = {
      {"only the certificate", with({"--api-tls-cert", pki.Pem("api")}),
       "--api-tls-cert and --api-tls-key go together"},
      {"only the key", with({"--api-tls-key", pki.Key("api")}),
       "--api-tls-cert and --api-tls-key go together"},
      {"an unreadable certificate",
       with({"--api-tls-cert", absent, "--api-tls-key", pki.Key("api")}),
       "cannot read the API TLS certificate " + absent},
      {"a key for another certificate",
       with({"--api-tls-cert", pki.Pem("api"), "--api-tls-key", pki.Key("other")}),
       "the API TLS key " + pki.Key("other") + " does not belong to " + pki.Pem("api")},
      {"a key file that holds a certificate",
       with({"--api-tls-cert", pki.Pem("api"), "--api-tls-key", pki.Pem("api")}),
       "is not a PEM private key"},
  };
  for (const Case& c : cases) {
    auto [code, text] = RunController(dir, c.args);
    EXPECT_EQ(code, 2) << c.description << ": " << text;
    EXPECT_NE(text.find(c.expected), std::string::npos) << c.description << ": " << text;
  }
}

// Random bytes at the TLS port, with and without a handshake record's first byte: every such
// connection is refused, the controller stays up and serves the next client (run under ASan
// too: `make asan`).
TEST_F(ApiHttpsTest, GarbageAtTheTlsPortCrashesNothing) {
  std::mt19937 random(17);
  for (int i = 0; i < 300; ++i) {
    RawConnection garbage(controller_->port());
    ASSERT_TRUE(garbage.connected());
    std::string bytes(1 + random() % 3000, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    if (i % 2 == 0) bytes.replace(0, 3, "\x16\x03\x01");  // looks like a handshake record
    garbage.Send(bytes);
    if (i % 10 == 0) {
      EXPECT_TRUE(garbage.EndsWithin(3s)) << i;  // maybe after an alert
    }
  }
  const CtlResult r = Ctl({"status", "--cacert", pki_.Pem("ca")}, "https://127.0.0.1:" + port_);
  EXPECT_EQ(r.code, 0) << Describe(r) << controller_->Log();
  EXPECT_FALSE(controller_->WaitForExit(10ms).has_value());
}

}  // namespace
}  // namespace dove::api_test
