// dovectl switch show|ports|cache|counters against a stand-in control socket that answers what
// dove-switch's control socket answers (the real switch is covered by the e2e tests).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "cli/dovectl.h"
#include "support/temp_dir.h"

namespace dove::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunWith(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = Run(args, {}, out, err);
  return {code, out.str(), err.str()};
}

// Serves one connection on `path`: reads the command line, records it, answers `answer`.
class OneShotSocket {
 public:
  OneShotSocket(const std::string& path, std::string answer) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    thread_ = std::thread([this, answer = std::move(answer)] {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[256] = {};
      const ssize_t got = read(client, buffer, sizeof(buffer) - 1);
      if (got > 0) command_.assign(buffer, static_cast<size_t>(got));
      [[maybe_unused]] auto sent = write(client, answer.data(), answer.size());
      close(client);
    });
  }
  ~OneShotSocket() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  // The command line it received (waits for the connection to end).
  std::string command() {
    if (thread_.joinable()) thread_.join();
    return command_;
  }

 private:
  int fd_ = -1;
  std::thread thread_;
  std::string command_;
};

TEST(SwitchLocalTest, PortsAreAskedOverTheSocketAndShownAsATable) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "switch.sock").string();
  OneShotSocket server(path, R"({"ports":[{"name":"t-red1","endpoint_id":"ep1","vni":100,
      "mac":"02:00:00:00:01:01","ips":["10.0.0.11"],"open":true,"error":"","received":7,
      "sent":5,"dropped":1}]})");
  auto ran = RunWith({"switch", "ports", "--socket", path});
  EXPECT_EQ(server.command(), "ports\n");
  EXPECT_EQ(ran.code, 0) << ran.err;
  for (const char* text : {"PORT", "t-red1", "ep1", "100", "10.0.0.11", "open", "7", "5"}) {
    EXPECT_NE(ran.out.find(text), std::string::npos) << text << "\n" << ran.out;
  }
}

TEST(SwitchLocalTest, ShowWithoutANameAsksTheLocalSwitch) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "switch.sock").string();
  OneShotSocket server(path, R"({"name":"h1","tunnel_ip":"192.0.2.11","controller":"none"})");
  auto ran = RunWith({"-o", "json", "switch", "show", "--socket", path});
  EXPECT_EQ(server.command(), "show\n");
  EXPECT_EQ(ran.code, 0) << ran.err;
  EXPECT_NE(ran.out.find("\"tunnel_ip\": \"192.0.2.11\""), std::string::npos) << ran.out;
}

TEST(SwitchLocalTest, CountersShowNonZeroDropsOnly) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "switch.sock").string();
  OneShotSocket server(path, R"({"counters":{"port.1.received":3,"drop.source_mac_spoofed":2},
      "drops":{"source_mac_spoofed":2,"hairpin":0}})");
  auto ran = RunWith({"switch", "counters", "--socket", path});
  EXPECT_EQ(ran.code, 0) << ran.err;
  EXPECT_NE(ran.out.find("drop.source_mac_spoofed"), std::string::npos) << ran.out;
  EXPECT_EQ(ran.out.find("hairpin"), std::string::npos) << ran.out;
}

TEST(SwitchLocalTest, AnErrorAnswerIsARefusal) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "switch.sock").string();
  OneShotSocket server(path, R"({"error":{"code":"invalid_value","message":"unknown command"}})");
  auto ran = RunWith({"switch", "cache", "--socket", path});
  EXPECT_EQ(ran.code, 1);
  EXPECT_NE(ran.err.find("unknown command"), std::string::npos) << ran.err;
}

TEST(SwitchLocalTest, NoSwitchOnTheSocketExitsFourAndSaysSo) {
  test_support::TempDir dir;
  auto ran = RunWith({"switch", "ports", "--socket", (dir.path() / "none.sock").string()});
  EXPECT_EQ(ran.code, 4);
  EXPECT_NE(ran.err.find("no switch answers"), std::string::npos) << ran.err;
}

}  // namespace
}  // namespace dove::cli
