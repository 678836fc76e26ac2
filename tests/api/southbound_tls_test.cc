// The southbound with TLS and client certificates, against a real dove-controller started with
// --tls-cert/--tls-key/--tls-client-ca: a switch is who its certificate says, a switch without
// a certificate of the controller's CA cannot even open the stream, and the flags choose TLS or
// plaintext explicitly. The certificates are made for each test with the openssl command line.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api_client.h"
#include "base/read_file.h"
#include "dswitch/agent/controller_client.h"
#include "support/openssl_pki.h"
#include "test_switch.h"

namespace dove::api_test {
namespace {

using namespace std::chrono_literals;
using dswitch::agent::ClientOptions;
using dswitch::agent::ControllerClient;

constexpr uint32_t kVni = 100;
constexpr const char* kMac = "52:54:00:00:00:01";

// A test PKI in a directory: the CA "ca" and what it signs (the controller "controller" with
// SAN IP:127.0.0.1 and DNS:localhost, the switches "sw-a" and "sw-b" with CN=sw-a / CN=sw-b),
// and an unrelated CA "other-ca" that signed "other-sw-a" (CN=sw-a). Files NAME.pem / NAME.key.
class TestPki {
 public:
  explicit TestPki(const TempDir& dir) : pki_(dir.path().string()) {}

  // Runs openssl; one sentence with its log when a step fails.
  Expected<void, std::string> Make() {
    for (const auto& step :
         {pki_.MakeCa("ca", "dove-test-ca"), pki_.MakeCa("other-ca", "unrelated-ca"),
          pki_.Sign("controller", "dove-controller", "ca",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\n"),
          pki_.Sign("sw-a", "sw-a", "ca", kClientExtensions),
          pki_.Sign("sw-b", "sw-b", "ca", kClientExtensions),
          pki_.Sign("other-sw-a", "sw-a", "other-ca", kClientExtensions)}) {
      if (!step) return step;
    }
    return {};
  }

  std::string Pem(const std::string& name) const { return pki_.Pem(name); }
  std::string Key(const std::string& name) const { return pki_.Key(name); }

  // The flags of a controller serving with the controller certificate, trusting "ca".
  std::vector<std::string> ControllerFlags() const {
    return {"--tls-cert",      Pem("controller"), "--tls-key",
            Key("controller"), "--tls-client-ca", Pem("ca")};
  }

  // Client credentials: trusting "ca", presenting `name`'s certificate ("" for none).
  std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& name) const {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Text(Pem("ca"));
    if (!name.empty()) {
      ssl.pem_cert_chain = Text(Pem(name));
      ssl.pem_private_key = Text(Key(name));
    }
    return grpc::SslCredentials(ssl);
  }

 private:
  static constexpr const char* kClientExtensions = "extendedKeyUsage=clientAuth\n";

  static std::string Text(const std::string& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text) << text.error();
    return text ? *text : "";
  }

  test_support::OpensslPki pki_;
};

// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class SouthboundTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = pki_.Make();
    ASSERT_TRUE(made) << made.error();
    std::vector<std::string> args = {"--data-dir", (dir_.path() / "data").string()};
    for (auto& flag : pki_.ControllerFlags()) args.push_back(flag);
    auto started = ControllerProcess::Start(args);
    ASSERT_TRUE(started) << started.error();
    controller_ = std::move(*started);
    ASSERT_GT(controller_->southbound_port(), 0);
    Post("/v1/domains", {{"id", "d1"}, {"name", "acme"}});
    Post("/v1/networks", {{"id", "web"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", kVni}});
    Post("/v1/subnets", {{"id", "web4"}, {"network_id", "web"}, {"cidr", "10.0.0.0/24"}});
    // Placed on their switches through the API: a switch resolves only in the networks it has
    // ports in, and attaches only what is placed on it.
    Post("/v1/endpoints", {{"id", "vm1"},
                           {"network_id", "web"},
                           {"mac", kMac},
                           {"ips", {"10.0.0.11"}},
                           {"switch_name", "sw-a"}});
    Post("/v1/endpoints", {{"id", "vm2"}, {"network_id", "web"}, {"switch_name", "sw-b"}});
  }

  void TearDown() override {
    for (auto& agent : agents_) agent->Stop();
  }

  void Post(const std::string& path, const json& body) {
    const Reply reply = Send(controller_->port(), "POST", path, body.dump());
    ASSERT_EQ(reply.status, 201) << path << ": " << reply.body;
  }

  // The names in GET /v1/switches, sorted.
  std::vector<std::string> SwitchNames() {
    const Reply reply = Send(controller_->port(), "GET", "/v1/switches");
    EXPECT_EQ(reply.status, 200) << reply.body;
    std::vector<std::string> names;
    const json value = reply.Json();
    if (!value.is_object() || !value.contains("items")) return names;
    for (const auto& item : value["items"]) names.push_back(item["name"].get<std::string>());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<TestSwitch> NewSwitch(const std::shared_ptr<grpc::ChannelCredentials>& creds) {
    return std::make_unique<TestSwitch>(controller_->southbound_port(), creds);
  }

  // A started agent presenting `certificate`, calling itself `name`.
  ControllerClient& NewAgent(const std::string& name, const std::string& certificate,
                             const std::string& tunnel_ip) {
    ClientOptions options{
        .controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())},
        .switch_name = name,
        .tunnel_ip = tunnel_ip,
        .software_version = "southbound_tls_test",
        .backoff = {.initial = 20ms, .max = 200ms, .jitter = 0.2},
        .connect_timeout = 2000ms,
        .resolve_timeout = 2000ms,
        .tls = {.ca_file = pki_.Pem("ca"),
                .cert_file = pki_.Pem(certificate),
                .key_file = pki_.Key(certificate)},
    };
    agents_.push_back(std::make_unique<ControllerClient>(std::move(options)));
    agents_.back()->Start();
    return *agents_.back();
  }

  // A client that must not get a stream: the RPC fails and nothing is registered.
  void ExpectNoStream(TestSwitch& client, const std::string& why) {
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name("sw-a");
    hello.mutable_hello()->set_tunnel_ip("192.0.2.1");
    client.Write(hello);
    EXPECT_FALSE(client.ReadUntil([](const auto&) { return true; })) << why;
    const grpc::Status status = client.Finish();
    EXPECT_FALSE(status.ok()) << why;
    EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << why << ": the handshake should fail, not hang";
    EXPECT_TRUE(SwitchNames().empty()) << why;
  }

  TempDir dir_{"dove-tls"};
  TestPki pki_{dir_};
  std::unique_ptr<ControllerProcess> controller_;
  std::vector<std::unique_ptr<ControllerClient>> agents_;
};

TEST_F(SouthboundTlsTest, AgentWithItsCertificateIsWelcomedRegisteredAndServed) {
  ControllerClient& a = NewAgent("sw-a", "sw-a", "192.0.2.1");
  ControllerClient& b = NewAgent("sw-b", "sw-b", "192.0.2.2");
  for (ControllerClient* agent : {&a, &b}) {
    ASSERT_TRUE(Eventually([&] { return agent->State().connections > 0; }, 5s))
        << agent->State().last_error << "\ncontroller log: " << controller_->Log();
  }
  EXPECT_FALSE(a.State().switch_id.empty());
  EXPECT_EQ(SwitchNames(), (std::vector<std::string>{"sw-a", "sw-b"}));

  auto attached = a.Attach("vm1", "tap-vm1", 0);
  ASSERT_TRUE(attached) << attached.error();
  // The acknowledgement: sw-a's own LocationUpdate of vm1.
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& entry : a.DumpCache().endpoints) {
          if (entry.location.endpoint_id() == "vm1") return entry.location.switch_name() == "sw-a";
        }
        return false;
      },
      3s))
      << a.State().last_error;
  auto where = b.Resolve(kVni, kMac);
  ASSERT_EQ(where.wait_for(3s), std::future_status::ready);
  auto found = where.get();
  ASSERT_TRUE(found) << b.State().last_error;
  EXPECT_EQ(found->switch_name(), "sw-a");
  EXPECT_EQ(found->tunnel_ip(), "192.0.2.1");
}

TEST_F(SouthboundTlsTest, HelloNamingAnotherSwitchIsRefusedAndOthersUndisturbed) {
  auto honest = NewSwitch(pki_.Credentials("sw-a"));
  ASSERT_TRUE(honest->Hello("sw-a", "192.0.2.1")) << controller_->Log();

  auto liar = NewSwitch(pki_.Credentials("sw-a"));
  v1::SwitchMessage hello;
  hello.mutable_hello()->set_switch_name("sw-b");
  hello.mutable_hello()->set_tunnel_ip("192.0.2.2");
  ASSERT_TRUE(liar->Write(hello));
  auto refusal = liar->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(refusal) << controller_->Log();
  EXPECT_EQ(refusal->error().code(), "permission_denied");
  EXPECT_NE(refusal->error().message().find("\"sw-b\""), std::string::npos)
      << refusal->error().message();
  EXPECT_NE(refusal->error().message().find("CN=sw-a"), std::string::npos)
      << refusal->error().message();
  EXPECT_EQ(liar->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  EXPECT_EQ(SwitchNames(), std::vector<std::string>{"sw-a"});
  EXPECT_EQ(Send(controller_->port(), "GET", "/v1/switches/sw-b").status, 404);
  auto reply = honest->ResolveMac(1, kVni, kMac);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_TRUE(honest->Attach("vm1"));
}

TEST_F(SouthboundTlsTest, ClientWithoutCertificateGetsNoStream) {
  auto client = NewSwitch(pki_.Credentials(""));
  ExpectNoStream(*client, "no client certificate");
}

TEST_F(SouthboundTlsTest, CertificateOfAnotherCaGetsNoStream) {
  auto client = NewSwitch(pki_.Credentials("other-sw-a"));
  ExpectNoStream(*client, "certificate of an unrelated CA");
}

TEST_F(SouthboundTlsTest, PlaintextClientGetsNoStream) {
  auto client = NewSwitch(grpc::InsecureChannelCredentials());
  ExpectNoStream(*client, "plaintext client");
}

TEST_F(SouthboundTlsTest, AgentWithUnreadableCertificateSaysWhich) {
  ClientOptions options;
  options.controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())};
  options.switch_name = "sw-a";
  options.tls = {.ca_file = pki_.Pem("ca"),
                 .cert_file = (dir_.path() / "absent.pem").string(),
                 .key_file = pki_.Key("sw-a")};
  ControllerClient agent(std::move(options));
  agent.Start();
  EXPECT_NE(agent.State().last_error.find("absent.pem"), std::string::npos)
      << agent.State().last_error;
  EXPECT_EQ(agent.State().attempts, 0u);
}

TEST(SouthboundTlsFlagsTest, ExactlyOneSecurityModeIsRequired) {
  TempDir dir("dove-tls-flags");
  TestPki pki(dir);
  auto made = pki.Make();
  ASSERT_TRUE(made) << made.error();
  const std::vector<std::string> base = {"--data-dir",   (dir.path() / "data").string(),
                                         "--listen",     "127.0.0.1:0",
                                         "--southbound", "127.0.0.1:0"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string absent = (dir.path() / "absent.key").string();
  struct Case {
    const char* description;
    std::vector<std::string> args;
    std::string expected;  // in stderr
  };
  const std::vector<Case> cases = {
      {"neither mode", base,
       "the southbound needs --tls-cert, --tls-key and --tls-client-ca, or "
       "--southbound-plaintext to run without TLS"},
      {"both modes",
       with({"--tls-cert", pki.Pem("controller"), "--tls-key", pki.Key("controller"),
             "--tls-client-ca", pki.Pem("ca"), "--southbound-plaintext"}),
       "--southbound-plaintext cannot be combined with --tls-cert"},
      {"only --tls-cert", with({"--tls-cert", pki.Pem("controller")}),
       "--tls-key and --tls-client-ca missing"},
      {"a missing file",
       with({"--tls-cert", pki.Pem("controller"), "--tls-key", absent, "--tls-client-ca",
             pki.Pem("ca")}),
       "--tls-key: cannot read " + absent},
  };
  for (const Case& c : cases) {
    auto [code, text] = RunController(dir, c.args);
    EXPECT_EQ(code, 2) << c.description << ": " << text;
    EXPECT_NE(text.find(c.expected), std::string::npos) << c.description << ": " << text;
  }
  auto [code, help] = RunController(dir, {"--help"});
  EXPECT_EQ(code, 0);
  for (const char* word : {"--tls-cert", "--tls-key", "--tls-client-ca", "--southbound-plaintext",
                           "permission_denied"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
}

// A real agent presenting sw-a's certificate while calling itself sw-b cannot speak for sw-b:
// it learns why (State().refusal, its log), the controller logs the refusal, and its startup
// line says the southbound is TLS.
TEST_F(SouthboundTlsTest, AnAgentClaimingAnotherNameLearnsWhyItIsRefused) {
  struct Lines {
    std::mutex mu;
    std::vector<std::string> lines;
  };
  auto sink = std::make_shared<Lines>();
  ClientOptions options{
      .controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())},
      .switch_name = "sw-b",
      .tunnel_ip = "192.0.2.2",
      .software_version = "southbound_tls_test",
      .backoff = {.initial = 200ms, .max = 1000ms, .jitter = 0.2},
      .connect_timeout = 2000ms,
      .resolve_timeout = 2000ms,
      .tls = {.ca_file = pki_.Pem("ca"),
              .cert_file = pki_.Pem("sw-a"),
              .key_file = pki_.Key("sw-a")},
      .log =
          [sink](const std::string& line) {
            std::lock_guard lock(sink->mu);
            sink->lines.push_back(line);
          },
  };
  agents_.push_back(std::make_unique<ControllerClient>(std::move(options)));
  ControllerClient& liar = *agents_.back();
  liar.Start();
  ASSERT_TRUE(Eventually([&] { return !liar.State().refusal.empty(); }, 5s))
      << liar.State().last_error << "\ncontroller log: " << controller_->Log();
  EXPECT_EQ(liar.State().refusal.rfind("permission_denied: ", 0), 0u) << liar.State().refusal;
  EXPECT_NE(liar.State().refusal.find("CN=sw-a"), std::string::npos) << liar.State().refusal;
  EXPECT_EQ(liar.State().connections, 0u);
  EXPECT_TRUE(Eventually(
      [&] {
        std::lock_guard lock(sink->mu);
        for (const auto& line : sink->lines) {
          if (line.find("refused by") == 0 && line.find("permission_denied") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      2s));
  liar.Stop();
  const std::string log = controller_->Log();
  EXPECT_NE(log.find("refused a Hello"), std::string::npos) << log;
  EXPECT_NE(log.find("southbound (TLS gRPC"), std::string::npos) << log;
  EXPECT_EQ(Send(controller_->port(), "GET", "/v1/switches/sw-b").status, 404);
}

}  // namespace
}  // namespace dove::api_test
