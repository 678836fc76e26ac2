// Run() without a controller: the command-line handling, help and the exit codes that need
// no server (bad command lines, an unreachable controller).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "cli/dovectl.h"
#include "support/closed_port.h"

namespace dove::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunWith(const std::vector<std::string>& args, Environment env = {}) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = Run(args, env, out, err);
  return {code, out.str(), err.str()};
}

using test_support::ClosedPort;

TEST(RunTest, HelpExplainsFlagsEnvAndExitCodes) {
  const Outcome help = RunWith({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* text : {"--controller", "--token", "--token-file", "--output", "--timeout",
                           "DOVE_CONTROLLER", "DOVE_TOKEN", "Exit codes", "domain", "policy"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text;
  }
}

TEST(RunTest, SubcommandHelpToo) {
  const Outcome help = RunWith({"network", "create", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* text :
       {"--subnet", "--dhcp-range", "--vni", "all or nothing", "DOVE_TOKEN", "Exit codes"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text;
  }
}

TEST(RunTest, PolicyHelpNamesTheActions) {
  const Outcome help = RunWith({"policy", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* text : {"allow", "deny", "reject", "create", "administratively prohibited"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text << "\n" << help.out;
  }
  const Outcome create = RunWith({"policy", "create", "--help"});
  EXPECT_EQ(create.code, 0);
  for (const char* text :
       {"--action", "allow, deny, or reject", "--proto", "--port", "--priority"}) {
    EXPECT_NE(create.out.find(text), std::string::npos) << text << "\n" << create.out;
  }
}

TEST(RunTest, BadCommandLinesExitTwo) {
  const std::vector<std::vector<std::string>> lines = {
      {},
      {"domain"},
      {"domain", "show"},
      {"domain", "list", "--bogus"},
      {"frobnicate"},
      {"-o", "yaml", "domain", "list"},
      {"domain", "list", "--timeout", "0"},
      {"--controller", "ftp://x", "domain", "list"},
      {"policy", "allow", "a/b", "a/c", "--proto", "tcpx"},
      {"policy", "allow", "a/b", "a/c", "--proto", "icmp", "--port", "80"},
      {"policy", "allow", "a/b", "a/c", "--proto", "tcp", "--port", "90-80"},
      {"policy", "reject", "a/b"},
      {"policy", "create", "a/b", "a/c"},
      {"policy", "create", "a/b", "a/c", "--action", "drop"},
      {"policy", "create", "a/b", "a/c", "--action", "REJECT"},
      {"policy", "create", "a/b", "a/c", "--action", "reject", "--proto", "udpx"},
      {"network", "create", "acme/web", "--gateway", "10.0.0.1"},
      {"network", "create", "acme", "--controller", "127.0.0.1:1"},
      {"network", "create", "acme/web", "--subnet", "10.0.0.0/24", "--dhcp-range", "10.0.0.9"},
      {"--token", "a", "--token-file", "/dev/null", "status"},
  };
  for (const auto& line : lines) {
    const Outcome outcome = RunWith(line);
    std::string joined;
    for (const auto& arg : line) joined += arg + " ";
    EXPECT_EQ(outcome.code, 2) << joined << "\n" << outcome.err;
    EXPECT_EQ(outcome.err.rfind("dovectl: ", 0), 0u) << joined << "\n" << outcome.err;
    EXPECT_TRUE(outcome.out.empty()) << joined;
  }
}

TEST(RunTest, ATypoIsNamedWithTheCommandOrOptionMeant) {
  const Outcome command = RunWith({"netwrk", "list"});
  EXPECT_EQ(command.code, 2);
  EXPECT_EQ(command.err.substr(0, command.err.find('\n')),
            "dovectl: unknown command \"netwrk\"; did you mean \"network\"? (usage)")
      << command.err;
  const Outcome option = RunWith({"endpoint", "create", "acme/web", "--port-knd", "packet"});
  EXPECT_EQ(option.code, 2);
  EXPECT_NE(option.err.find("unknown option --port-knd of \"endpoint create\"; did you mean "
                            "--port-kind?"),
            std::string::npos)
      << option.err;
}

TEST(RunTest, UnreachableControllerExitsFour) {
  const std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  for (const auto& line : std::vector<std::vector<std::string>>{
           {"--controller", address, "status"},
           {"domain", "list", "--controller", address},  // global flag after the subcommand
       }) {
    const Outcome outcome = RunWith(line);
    EXPECT_EQ(outcome.code, 4) << outcome.err;
    EXPECT_NE(outcome.err.find("(unreachable)"), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find(address), std::string::npos) << outcome.err;
  }
}

TEST(RunTest, PolicyCommandsPrintNoNoticeAndHelpSaysTheyAreEnforced) {
  const std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  for (const auto& line : std::vector<std::vector<std::string>>{
           {"policy", "list"},
           {"policy", "allow", "a/b", "a/c"},
           {"policy", "deny", "a/b", "a/c", "--proto", "tcp", "--port", "80"},
           {"policy", "reject", "a/b", "a/c"},
           {"policy", "create", "a/b", "a/c", "--action", "reject"},
           {"policy", "show", "p1"},
           {"policy", "delete", "p1"},
       }) {
    std::vector<std::string> args = line;
    args.insert(args.end(), {"--controller", address});
    const Outcome outcome = RunWith(args);
    EXPECT_EQ(outcome.code, 4) << line[1] << "\n" << outcome.err;
    EXPECT_EQ(outcome.err.find("notice"), std::string::npos) << outcome.err;
    EXPECT_TRUE(outcome.out.empty()) << outcome.out;
  }
  const Outcome help = RunWith({"policy", "--help"});
  EXPECT_NE(help.out.find("enforced by the switches on routed traffic"), std::string::npos)
      << help.out;
}

TEST(RunTest, ControllerFromTheEnvironment) {
  const std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  const Outcome outcome = RunWith({"status"}, Environment{address, std::nullopt});
  EXPECT_EQ(outcome.code, 4);
  EXPECT_NE(outcome.err.find(address), std::string::npos) << outcome.err;
}

TEST(RunTest, UnreadableTokenFileIsACommandLineError) {
  const Outcome outcome = RunWith({"--token-file", "/nonexistent/token", "status"});
  EXPECT_EQ(outcome.code, 2);
  EXPECT_NE(outcome.err.find("token file"), std::string::npos) << outcome.err;
}

}  // namespace
}  // namespace dove::cli
