// dove-switch's command line: usage errors exit 2 with one sentence, --help explains, and a
// switch started from a --config file (no flags but the file) takes over a lab host.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;

TEST(DoveSwitchFlagsTest, UsageErrorsExitTwoWithOneSentence) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  // A config file with a key that is no option (a typo of tunnel-ip).
  const std::string typo = ::testing::TempDir() + "dove-switch-typo.toml";
  {
    std::ofstream file(typo);
    file << "name = \"h1\"\ntunnel_ipp = \"192.0.2.1\"\ncontroller = \"c:1\"\n"
            "southbound-plaintext = true\n";
  }
  const std::vector<Case> cases = {
      {{}, "--name is required"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1"}, "exactly one of"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--tls-ca", "ca.pem"},
       "exactly one of"},
      {{"--name", "h1", "--tunnel-ip", "not-an-ip", "--controller", "c:1",
        "--southbound-plaintext"},
       "not an IPv4 address"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1,,d:2",
        "--southbound-plaintext"},
       "empty address"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--backend", "ovs"},
       "not in {userspace,kernel}"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--metrics-listen", "nowhere"},
       "--metrics-listen"},
      {{"--config", "/nonexistent/dove-switch.toml"}, "dove-switch.toml"},
      {{"--config", typo, "--tunnel-ip", "192.0.2.1"}, "tunnel_ipp"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--bogus"}, "--bogus"},
      // An option of the other backend is refused, not ignored.
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--kernel-miss-rate", "100"},
       "--kernel-miss-rate applies only to --backend kernel"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--backend", "userspace", "--kernel-udp-checksum"},
       "--kernel-udp-checksum applies only to --backend kernel"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--backend", "kernel", "--poll-us", "0"},
       "--poll-us applies only to --backend userspace"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--backend", "kernel", "--redirect-grace-ms", "0"},
       "--redirect-grace-ms applies only to --backend userspace"},
      {{"--name", "h1", "--tunnel-ip", "192.0.2.1", "--controller", "c:1", "--southbound-plaintext",
        "--log-level", "verbose"},
       "--log-level: verbose not in {error,warning,info,debug}"},
  };
  for (const auto& each : cases) {
    std::vector<std::string> argv = {DOVE_SWITCH_BIN};
    argv.insert(argv.end(), each.args.begin(), each.args.end());
    auto ran = lab::RunCommand(argv, 10s);
    EXPECT_EQ(ran.exit_code, 2) << lab::Join(argv) << "\n" << ran.err;
    EXPECT_NE((ran.out + ran.err).find(each.says), std::string::npos) << lab::Join(argv) << "\n"
                                                                      << ran.err;
  }
  auto help = lab::RunCommand({DOVE_SWITCH_BIN, "--help"}, 10s);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* text : {"--config", "--tunnel-ip", "--controller", "--control-socket",
                           "--metrics-listen", "dovectl switch", "Exit codes", "--log-level"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text;
  }
}

using DoveSwitchConfigTest = LabTest;

TEST_F(DoveSwitchConfigTest, ASwitchStartedFromAConfigFileRegistersAndForwards) {
  ASSERT_NO_FATAL_FAILURE(
      Up("host h1\nhost h2\nnetwork red/web 10.0.0.0/24\n"
         "vm a h1 red/web 10.0.0.1\nvm b h2 red/web 10.0.0.2\n"));
  ASSERT_TRUE(lab_->KillSwitch("h1", SIGTERM));
  const auto config = lab_->temp_dir() / "h1.toml";
  const std::string socket = (lab_->temp_dir() / "h1-config.sock").string();
  {
    std::ofstream file(config);
    file << "# dove-switch of h1\n"
         << "name = \"h1\"\n"
         << "tunnel-ip = \"" << lab_->Host("h1").tunnel_ip << "\"\n"
         << "controller = \"" << lab::kControllerIp << ":" << lab::kSouthboundPort << "\"\n"
         << "southbound-plaintext = true\n"
         << "control-socket = \"" << socket << "\"\n"
         << "metrics-listen = \"\"\n"
         << "log-level = \"warning\"\n";
  }
  auto child = lab::ChildProcess::Spawn(
      {"ip", "netns", "exec", lab_->Host("h1").ns, DOVE_SWITCH_BIN, "--config", config.string()},
      (lab_->temp_dir() / "h1-config.log").string());
  ASSERT_TRUE(child) << child.error();
  EXPECT_TRUE(PingsWithin("a", "10.0.0.2", 20s));
  auto shown = lab::RunCommand({DOVECTL_BIN, "-o", "json", "switch", "show", "--socket", socket});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"name\": \"h1\""), std::string::npos) << shown.out;
  (*child)->Stop();
  EXPECT_EQ((*child)->exit_status(), 0) << "SIGTERM is a clean stop";
  // log-level = "warning": the lifecycle's info records (up, port open, connected) are not
  // written.
  std::ifstream log_file(lab_->temp_dir() / "h1-config.log");
  const std::string log((std::istreambuf_iterator<char>(log_file)), {});
  EXPECT_EQ(log.find(" up: tunnel "), std::string::npos) << log;
  EXPECT_EQ(log.find("connected to"), std::string::npos) << log;
}

}  // namespace
}  // namespace dove::e2e
