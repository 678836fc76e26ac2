// dovectl end to end: the real dovectl binary, run as a child process, against a real
// dove-controller (tests/support/controller_process.h). Checks what an operator and a script
// see: tables, -o json, the error line on stderr and the exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "dovectl_run.h"
#include "support/closed_port.h"
#include "support/controller_process.h"
#include "support/temp_dir.h"

namespace dove {
namespace {

using test_support::ControllerProcess;
using test_support::TempDir;

using test_support::ClosedPort;

class DovectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto controller = ControllerProcess::Start({"--data-dir", (dir_.path() / "data").string()});
    ASSERT_TRUE(controller) << controller.error();
    controller_ = std::move(*controller);
    address_ = "127.0.0.1:" + std::to_string(controller_->port());
  }

  // dovectl against this test's controller (--controller appended after the command, which
  // also checks that global flags fall through).
  CtlResult Ctl(std::vector<std::string> args) {
    args.emplace_back("--controller");
    args.emplace_back(address_);
    return RunCtl(args);
  }

  TempDir dir_{"dovectl-e2e"};
  std::unique_ptr<ControllerProcess> controller_;
  std::string address_;
};

TEST_F(DovectlTest, OperatorScenario) {
  CtlResult r = Ctl({"domain", "create", "acme"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("acme"), std::string::npos) << Describe(r);

  r = Ctl({"network", "create", "acme/web", "--subnet", "10.1.0.0/24", "--gateway", "10.1.0.1"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("10.1.0.0/24"), std::string::npos) << Describe(r);
  r = Ctl({"network", "create", "acme/db", "--subnet", "10.2.0.0/24"});
  ASSERT_EQ(r.code, 0) << Describe(r);

  r = Ctl({"network", "list", "--domain", "acme"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << Describe(r);
  EXPECT_NE(r.out.find("web"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("db"), std::string::npos) << Describe(r);

  r = Ctl({"endpoint", "create", "acme/web"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("10.1.0.2"), std::string::npos) << Describe(r);

  r = Ctl({"endpoint", "list", "--network", "acme/web"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << Describe(r);
  EXPECT_NE(r.out.find("10.1.0.2"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("acme/web"), std::string::npos) << "network shown by name\n" << Describe(r);

  r = Ctl({"-o", "json", "endpoint", "list", "--network", "acme/web"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto endpoints = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(endpoints.is_array()) << Describe(r);
  ASSERT_EQ(endpoints.size(), 1u) << Describe(r);
  EXPECT_EQ(endpoints[0]["ips"], nlohmann::json::array({"10.1.0.2"})) << Describe(r);
  const std::string endpoint_id = endpoints[0]["id"].get<std::string>();

  r = Ctl({"endpoint", "show", endpoint_id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["id"], endpoint_id) << Describe(r);

  // An interface the switch does not own: its kind in the table, by name in the JSON.
  r = Ctl({"endpoint", "create", "acme/web", "--id", "vm-q", "--port", "vnet3", "--port-kind",
           "packet"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("vnet3 (packet)"), std::string::npos) << Describe(r);
  r = Ctl({"endpoint", "show", "vm-q", "-o", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["port_kind"], "PORT_KIND_PACKET")
      << Describe(r);
  r = Ctl({"endpoint", "create", "acme/web", "--port", "vnet4", "--port-kind", "veth"});
  EXPECT_EQ(r.code, 2) << "not a kind: a usage error\n" << Describe(r);
  r = Ctl({"endpoint", "create", "acme/web", "--port-kind", "packet"});
  EXPECT_EQ(r.code, 1) << "a packet port without --port: refused by the controller\n"
                       << Describe(r);
  EXPECT_NE(r.err.find("needs a port_name"), std::string::npos) << Describe(r);
  // The trace, as a table and as JSON; an endpoint id may stand for its address.
  r = Ctl({"trace", endpoint_id, "icmp to vm-q"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  for (const char* text : {"STAGE", "VERDICT", "source", "unknown_port", "outcome: dropped"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << Describe(r);
  }
  r = Ctl({"-o", "json", "trace", endpoint_id, "tcp to vm-q:443"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto traced = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(traced["packet"].get<std::string>().rfind("tcp to 10.1.0.", 0), 0u) << Describe(r);
  EXPECT_EQ(traced["outcome"], "dropped") << Describe(r);
  r = Ctl({"trace", endpoint_id, "tcp to 10.1.0.9"});
  EXPECT_EQ(r.code, 1) << "refused by the controller\n" << Describe(r);
  EXPECT_NE(r.err.find("is not IP:PORT"), std::string::npos) << Describe(r);
  r = Ctl({"trace", endpoint_id});
  EXPECT_EQ(r.code, 2) << "PACKET is required\n" << Describe(r);
  ASSERT_EQ(Ctl({"endpoint", "delete", "vm-q"}).code, 0);

  r = Ctl({"policy", "allow", "acme/web", "acme/db", "--proto", "tcp", "--port", "5432"});
  ASSERT_EQ(r.code, 0) << Describe(r);

  r = Ctl({"policy", "list"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  for (const char* text : {"acme/web", "acme/db", "allow", "tcp", "5432"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << Describe(r);
  }
  // The domain as a tree, and as one document.
  r = Ctl({"show", "acme"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  for (const char* text : {"domain acme (id ", "-- network web (VNI ", "-- network db (VNI ",
                           "|   |-- subnet 10.1.0.0/24", "-- policy allow tcp 5432 web -> db"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << Describe(r);
  }
  r = Ctl({"-o", "json", "show", "acme"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto tree = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(tree["networks"].size(), 2u) << Describe(r);
  EXPECT_EQ(tree["policies"].size(), 1u) << Describe(r);
  EXPECT_EQ(Ctl({"show", "nosuch"}).code, 3);

  r = Ctl({"policy", "list", "--domain", "acme", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto policies = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(policies.is_array() && policies.size() == 1u) << Describe(r);
  EXPECT_EQ(policies[0]["protocol"], 6) << Describe(r);
  EXPECT_EQ(policies[0]["port_range"]["first"], 5432) << Describe(r);
  EXPECT_EQ(policies[0]["action"], "ACTION_ALLOW") << Describe(r);

  // REJECT: by its verb, or by create --action; shown as "reject".
  r = Ctl({"policy", "reject", "acme/db", "acme/web", "--proto", "udp", "--port", "53"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("reject"), std::string::npos) << Describe(r);
  r = Ctl({"policy", "create", "acme/db", "acme/web", "--action", "reject", "--priority", "7", "-o",
           "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto created = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(created["action"], "ACTION_REJECT") << Describe(r);
  EXPECT_EQ(created["priority"], 7) << Describe(r);
  r = Ctl({"policy", "create", "acme/db", "acme/web", "--action", "deny", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["action"], "ACTION_DENY") << Describe(r);
  r = Ctl({"policy", "create", "acme/db", "acme/web", "--action", "drop"});
  EXPECT_EQ(r.code, 2) << Describe(r);
  r = Ctl({"policy", "list", "--domain", "acme", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false).size(), 4u) << Describe(r);
  r = Ctl({"policy", "list"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("reject"), std::string::npos) << Describe(r);

  r = Ctl({"status"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find(address_), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("ok"), std::string::npos) << Describe(r);

  // Deleting a network that still has an endpoint is refused without --force.
  r = Ctl({"network", "delete", "acme/web"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  r = Ctl({"network", "delete", "acme/web", "--force"});
  EXPECT_EQ(r.code, 0) << Describe(r);
  r = Ctl({"endpoint", "list", "--domain", "acme"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "just the header\n" << Describe(r);
}

// Names, labels and the update verbs: each changes what it names, keeps the rest, and
// refuses what the controller refuses with its message.
TEST_F(DovectlTest, UpdateVerbsChangeWhatTheyNameAndKeepTheRest) {
  ASSERT_EQ(Ctl({"domain", "create", "acme"}).code, 0);
  ASSERT_EQ(Ctl({"network", "create", "acme/web", "--subnet", "10.1.0.0/24"}).code, 0);
  ASSERT_EQ(Ctl({"network", "create", "acme/db", "--subnet", "10.2.0.0/24"}).code, 0);
  CtlResult r = Ctl({"-o", "json", "endpoint", "create", "acme/web", "--name", "vm-1", "--switch",
                     "host1", "--label", "vm-uuid=4f2a", "--label", "app=web"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto created = nlohmann::json::parse(r.out, nullptr, false);
  const std::string id = created["id"].get<std::string>();
  const std::string mac = created["mac"].get<std::string>();
  EXPECT_EQ(created["labels"]["vm-uuid"], "4f2a") << Describe(r);

  // DOMAIN/NETWORK/NAME wherever an endpoint is taken; the table shows name and labels.
  r = Ctl({"endpoint", "show", "acme/web/vm-1"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  for (const char* text : {"vm-1", "app=web,vm-uuid=4f2a", "host1"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << Describe(r);
  }
  r = Ctl({"endpoint", "show", "acme/web/nosuch"});
  EXPECT_EQ(r.code, 3) << Describe(r);
  EXPECT_NE(r.err.find("endpoint acme/web/nosuch not found"), std::string::npos) << Describe(r);
  r = Ctl({"endpoint", "show", "acme/nosuch/vm-1"});
  EXPECT_EQ(r.code, 3) << Describe(r);
  EXPECT_NE(r.err.find("acme/nosuch"), std::string::npos) << Describe(r);
  r = Ctl({"-o", "json", "endpoint", "list", "--label", "vm-uuid=4f2a"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false).size(), 1u) << Describe(r);
  r = Ctl({"-o", "json", "endpoint", "list", "--label", "app=db"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false).size(), 0u) << Describe(r);
  r = Ctl({"endpoint", "list", "--label", "bad key"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  EXPECT_NE(r.err.find("\"bad key\""), std::string::npos) << Describe(r);
  ASSERT_EQ(Ctl({"endpoint", "create", "acme/web", "--name", "vm-2"}).code, 0);
  r = Ctl({"endpoint", "create", "acme/web", "--name", "vm-1"});
  EXPECT_EQ(r.code, 1) << "a name is unique in its network\n" << Describe(r);
  EXPECT_NE(r.err.find("already used by endpoint"), std::string::npos) << Describe(r);
  EXPECT_EQ(Ctl({"endpoint", "create", "acme/db", "--name", "vm-1"}).code, 0)
      << "another network may use it";
  r = Ctl({"endpoint", "create", "acme/web", "--label", "novalue"});
  EXPECT_EQ(r.code, 2) << Describe(r);

  // move: the new switch and port; MAC, addresses, name and labels stay; the version grows.
  r = Ctl(
      {"-o", "json", "endpoint", "move", "acme/web/vm-1", "--switch", "host2", "--port", "tap7"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  auto moved = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(moved["switch_name"], "host2") << Describe(r);
  EXPECT_EQ(moved["port_name"], "tap7") << Describe(r);
  EXPECT_EQ(moved["mac"], mac) << Describe(r);
  EXPECT_EQ(moved["ips"], created["ips"]) << Describe(r);
  EXPECT_EQ(moved["labels"], created["labels"]) << Describe(r);
  EXPECT_EQ(moved["version"], created["version"].get<int>() + 1) << Describe(r);
  r = Ctl({"endpoint", "move", id, "--switch", "host3", "--port-kind", "packet"});
  EXPECT_EQ(r.code, 2) << "a packet port names an interface on the new switch\n" << Describe(r);
  EXPECT_NE(r.err.find("--port"), std::string::npos) << Describe(r);
  r = Ctl({"-o", "json", "endpoint", "show", id});
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["switch_name"], "host2")
      << "a refused move changes nothing\n"
      << Describe(r);
  r = Ctl({"endpoint", "move", "acme/web/vm-1"});
  EXPECT_EQ(r.code, 2) << "--switch is required\n" << Describe(r);

  // rename: by id or name; a taken name is the controller's conflict.
  r = Ctl({"-o", "json", "endpoint", "rename", "acme/web/vm-1", "vm-one"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["name"], "vm-one") << Describe(r);
  EXPECT_EQ(Ctl({"endpoint", "show", "acme/web/vm-1"}).code, 3);
  r = Ctl({"endpoint", "rename", id, "vm-2"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  EXPECT_NE(r.err.find("(conflict)"), std::string::npos) << Describe(r);
  r = Ctl({"endpoint", "rename", id, "bad name"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  EXPECT_NE(r.err.find("\"bad name\""), std::string::npos) << Describe(r);

  // label: KEY=VALUE sets, KEY- removes, the others stay.
  r = Ctl({"-o", "json", "endpoint", "label", "acme/web/vm-one", "app=api", "vm-uuid-", "tier=1"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["labels"],
            nlohmann::json({{"app", "api"}, {"tier", "1"}}))
      << Describe(r);
  r = Ctl({"endpoint", "label", id, "=x"});
  EXPECT_EQ(r.code, 2) << Describe(r);
  r = Ctl({"endpoint", "label", id, "k=a,b"});
  EXPECT_EQ(r.code, 1) << "the controller's rule: no ',' in a value\n" << Describe(r);

  // Domains and networks are renamed in place: ids, VNIs and endpoints stay.
  r = Ctl({"-o", "json", "network", "show", "acme/web"});
  const auto web = nlohmann::json::parse(r.out, nullptr, false);
  r = Ctl({"-o", "json", "network", "rename", "acme/web", "frontend"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const auto renamed = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(renamed["id"], web["id"]) << Describe(r);
  EXPECT_EQ(renamed["vni"], web["vni"]) << Describe(r);
  EXPECT_EQ(Ctl({"endpoint", "show", "acme/frontend/vm-one"}).code, 0);
  EXPECT_EQ(Ctl({"network", "rename", "acme/frontend", "db"}).code, 1) << "db is taken";
  r = Ctl({"domain", "rename", "acme", "globex"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(Ctl({"endpoint", "show", "globex/frontend/vm-one"}).code, 0);
  EXPECT_EQ(Ctl({"domain", "show", "acme"}).code, 3);

  // policy update: the flags given change, the rest stays.
  r = Ctl({"-o", "json", "policy", "allow", "globex/frontend", "globex/db", "--proto", "tcp",
           "--port", "5432", "--priority", "3"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const std::string policy = nlohmann::json::parse(r.out, nullptr, false)["id"];
  r = Ctl({"-o", "json", "policy", "update", policy, "--action", "reject", "--port", "5433-5434"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  auto updated = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(updated["action"], "ACTION_REJECT") << Describe(r);
  EXPECT_EQ(updated["port_range"], nlohmann::json({{"first", 5433}, {"last", 5434}}))
      << Describe(r);
  EXPECT_EQ(updated["priority"], 3) << Describe(r);
  EXPECT_EQ(updated["protocol"], 6) << Describe(r);
  r = Ctl({"policy", "update", policy, "--proto", "icmp"});
  EXPECT_EQ(r.code, 2) << "a port range needs tcp or udp\n" << Describe(r);
  r = Ctl({"-o", "json", "policy", "update", policy, "--proto", "icmp", "--any-port"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  updated = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(updated["protocol"], 1) << Describe(r);
  EXPECT_FALSE(updated.contains("port_range")) << "any port\n" << Describe(r);
  EXPECT_EQ(Ctl({"policy", "update", policy}).code, 2) << "nothing to change";
  EXPECT_EQ(Ctl({"policy", "update", "nosuch", "--priority", "1"}).code, 3);
  EXPECT_EQ(Ctl({"policy", "update", policy, "--port", "80", "--any-port"}).code, 2);
}

TEST_F(DovectlTest, RefusedSubnetLeavesNoNetwork) {
  ASSERT_EQ(Ctl({"domain", "create", "acme"}).code, 0);
  // Host bits set: the controller refuses the subnet, so the network is deleted again.
  CtlResult r = Ctl({"network", "create", "acme/web", "--subnet", "10.1.0.1/24"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  EXPECT_NE(r.err.find("was not kept"), std::string::npos) << Describe(r);
  r = Ctl({"network", "show", "acme/web"});
  EXPECT_EQ(r.code, 3) << Describe(r);
}

TEST_F(DovectlTest, ExitCodes) {
  CtlResult r = Ctl({"domain", "show", "nosuch"});
  EXPECT_EQ(r.code, 3) << Describe(r);
  EXPECT_EQ(r.err.rfind("dovectl: ", 0), 0u) << Describe(r);
  EXPECT_NE(r.err.find("(not_found)"), std::string::npos) << Describe(r);

  ASSERT_EQ(Ctl({"domain", "create", "acme"}).code, 0);
  r = Ctl({"domain", "create", "acme"});
  EXPECT_EQ(r.code, 1) << Describe(r);
  EXPECT_NE(r.err.find("(conflict)"), std::string::npos) << Describe(r);

  r = Ctl({"network", "show", "acme/nosuch"});
  EXPECT_EQ(r.code, 3) << Describe(r);
  r = Ctl({"network", "list", "--domain", "nosuch"});
  EXPECT_EQ(r.code, 3) << Describe(r);

  r = Ctl({"domain", "list", "--no-such-flag"});
  EXPECT_EQ(r.code, 2) << Describe(r);

  r = RunCtl({"--controller", "127.0.0.1:" + std::to_string(ClosedPort()), "domain", "list"});
  EXPECT_EQ(r.code, 4) << Describe(r);
  EXPECT_NE(r.err.find("(unreachable)"), std::string::npos) << Describe(r);
}

// The controller's flag that sets its API token, and the token.
constexpr const char* kControllerTokenFlag = "--token-file";
constexpr const char* kToken = "s3cret-token";

TEST(DovectlAuthTest, TokenFromFlagFileOrEnv) {
  TempDir dir("dovectl-auth");
  const auto token_file = dir.path() / "token";
  std::ofstream(token_file) << kToken << "\n";
  auto controller = ControllerProcess::Start(
      {"--data-dir", (dir.path() / "data").string(), kControllerTokenFlag, token_file.string()});
  ASSERT_TRUE(controller) << controller.error();
  const std::string address = "127.0.0.1:" + std::to_string((*controller)->port());

  CtlResult r = RunCtl({"domain", "list", "--controller", address});
  EXPECT_EQ(r.code, 5) << "no token\n" << Describe(r);
  r = RunCtl({"domain", "list", "--controller", address, "--token", "wrong"});
  EXPECT_EQ(r.code, 5) << Describe(r);
  EXPECT_NE(r.err.find("(unauthorized)"), std::string::npos) << Describe(r);

  r = RunCtl({"domain", "list"}, {{"DOVE_CONTROLLER", address}, {"DOVE_TOKEN", kToken}});
  EXPECT_EQ(r.code, 0) << "token and controller from the environment\n" << Describe(r);
  r = RunCtl({"domain", "list", "--token-file", token_file.string()},
             {{"DOVE_CONTROLLER", address}, {"DOVE_TOKEN", "wrong"}});
  EXPECT_EQ(r.code, 0) << "--token-file wins over DOVE_TOKEN\n" << Describe(r);
  r = RunCtl({"domain", "list", "--token", "wrong"},
             {{"DOVE_CONTROLLER", address}, {"DOVE_TOKEN", kToken}});
  EXPECT_EQ(r.code, 5) << "--token wins over DOVE_TOKEN\n" << Describe(r);
}

}  // namespace
}  // namespace dove
