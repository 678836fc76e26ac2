// Issue 17: dove-cni driven exactly as a container runtime drives it (CNI_* environment, the
// network configuration on stdin, the result or error JSON on stdout), on two hosts of a lab
// whose controller the hosts reach over the management network with a token. Two "containers"
// (network namespaces this test makes) get their interfaces from ADD, the result matches what
// the API says, they ping each other (and a lab VM) over the overlay; CHECK passes, then fails
// once the interface is gone; DEL twice, DEL without ADD and DEL after the namespace is gone
// all succeed and leave no endpoint, veth or state file; an ADD with a bad config, or one that
// fails half way, reports the CNI error and leaves nothing behind. Over both backends of
// dove-switch (the kernel backend enslaves the veth as it does any port).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSpec = R"(
host h1
host h2
network red/web 10.0.0.0/24 gateway 10.0.0.1 dns 10.0.0.53
vm v h2 red/web 10.0.0.20
)";

constexpr const char* kToken = "cni-e2e-token";

struct Container {
  std::string id;
  std::string host;
  std::string ns;  // full namespace name
  std::string netns_path() const { return "/run/netns/" + ns; }
};

class CniE2eTest : public LabTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    backend_ = BackendOf(GetParam());
    token_ = kToken;
    rest_on_management_ = true;
  }

  // A namespace "P c-NAME" (the lab deletes every namespace of its prefix when it goes down,
  // whatever the test did).
  Container MakeContainer(const std::string& name, const std::string& host) {
    Container c{.id = "ctr-" + name + "-0123456789abcdef",
                .host = host,
                .ns = lab_->prefix() + "c-" + name};
    auto made = lab::RunCommand({"ip", "netns", "add", c.ns});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return c;
  }

  std::string DataDir(const std::string& host) const {
    return (lab_->temp_dir() / ("cni-" + host)).string();
  }

  json Config(const std::string& host) const {
    const std::string token_file = (lab_->temp_dir() / "cni-token").string();
    std::ofstream(token_file) << kToken << "\n";
    return {{"cniVersion", "1.0.0"},
            {"name", "dove"},
            {"type", "dove-cni"},
            {"controller", lab_->ControllerIp(0) + ":8740"},
            {"tokenFile", token_file},
            {"network", "red/web"},
            {"switchSocket", lab_->ControlSocket(host)},
            {"dataDir", DataDir(host)}};
  }

  // Runs dove-cni in the container's host namespace as a runtime does.
  lab::CommandResult Cni(const std::string& command, const Container& c, const json& config,
                         const std::string& ifname = "eth0") {
    const std::string input =
        (lab_->temp_dir() / ("cni-input-" + std::to_string(inputs_++) + ".json")).string();
    std::ofstream(input) << config.dump();
    const auto start = std::chrono::steady_clock::now();
    auto result =
        lab_->Exec(lab_->HostNamespace(c.host),
                   {"env", "CNI_COMMAND=" + command, "CNI_CONTAINERID=" + c.id,
                    "CNI_NETNS=" + c.netns_path(), "CNI_IFNAME=" + ifname, "CNI_PATH=/opt/cni/bin",
                    "sh", "-c", "exec \"$0\" < \"$1\"", DOVE_CNI_BIN, input},
                   30s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::printf("dove-cni %s %s: exit %d in %lld ms\n%s%s\n", command.c_str(), c.id.c_str(),
                result.exit_code, static_cast<long long>(took.count()), result.out.c_str(),
                result.err.c_str());
    return result;
  }

  json Endpoints() {
    auto items = lab_->ControllerRest("GET", "/v1/endpoints");
    EXPECT_TRUE(items) << items.error();
    return items ? (*items)["items"] : json::array();
  }

  json EndpointOf(const std::string& port) {
    for (const auto& e : Endpoints()) {
      if (e.value("port_name", "") == port) return e;
    }
    return json();
  }

  bool LinkExists(const std::string& ns, const std::string& name) {
    return lab_->Exec(ns, {"ip", "link", "show", name}).exit_code == 0;
  }

  size_t StateFiles(const std::string& host) {
    std::error_code error;
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(DataDir(host), error)) {
      (void)entry;
      ++n;
    }
    return n;
  }

  // Pings once a second until a reply (the kernel backend's first contact takes ~2 s), then
  // counts the replies to 3 more.
  int PingFrom(const Container& c, const std::string& ip) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (lab_->Exec(c.ns, {"ping", "-c", "1", "-W", "1", ip}).exit_code != 0) {
      if (std::chrono::steady_clock::now() > deadline) return 0;
    }
    auto result = lab_->Exec(c.ns, {"ping", "-c", "3", "-i", "0.2", "-W", "1", ip});
    int replies = 0;
    for (size_t at = 0; (at = result.out.find("bytes from", at)) != std::string::npos; ++at) {
      ++replies;
    }
    return replies;
  }

  // Checks a result JSON against the endpoint the API has; returns the container's IP.
  std::string CheckResult(const lab::CommandResult& add, const Container& c) {
    EXPECT_EQ(add.exit_code, 0) << add.out << add.err;
    const json result = json::parse(add.out, nullptr, false);
    EXPECT_TRUE(result.is_object()) << add.out;
    if (!result.is_object()) return "";
    EXPECT_EQ(result["cniVersion"], "1.0.0");
    const json& interfaces = result["interfaces"];
    EXPECT_EQ(interfaces.size(), 2u);
    if (interfaces.size() != 2) return "";
    const std::string host_veth = interfaces[0].value("name", "");
    const json endpoint = EndpointOf(host_veth);
    EXPECT_TRUE(endpoint.is_object()) << "no endpoint on port " << host_veth;
    if (!endpoint.is_object()) return "";
    EXPECT_EQ(endpoint["switch_name"], c.host);
    EXPECT_EQ(endpoint["port_kind"], "PORT_KIND_PACKET");
    EXPECT_EQ(endpoint["labels"], json({{"cni/container-id", c.id}, {"cni/ifname", "eth0"}}))
        << "the container's external ids";
    EXPECT_EQ(interfaces[1]["name"], "eth0");
    EXPECT_EQ(interfaces[1]["sandbox"], c.netns_path());
    EXPECT_EQ(interfaces[1]["mac"], endpoint["mac"]);
    std::string ip = endpoint["ips"][0];
    EXPECT_EQ(result["ips"], json::parse(R"([{"address":")" + ip +
                                         R"(/24","gateway":"10.0.0.1","interface":1}])"));
    EXPECT_EQ(result["routes"], json::parse(R"([{"dst":"0.0.0.0/0","gw":"10.0.0.1"}])"));
    EXPECT_EQ(result["dns"], json::parse(R"({"nameservers":["10.0.0.53"]})"));
    // The container's interface as the kernel has it.
    const auto shown = lab_->Exec(c.ns, {"ip", "-o", "addr", "show", "dev", "eth0"});
    EXPECT_NE(shown.out.find(ip + "/24"), std::string::npos) << shown.out;
    const auto link = lab_->Exec(c.ns, {"ip", "-o", "link", "show", "dev", "eth0"});
    EXPECT_NE(link.out.find(endpoint["mac"].get<std::string>()), std::string::npos) << link.out;
    EXPECT_NE(link.out.find("mtu 1450"), std::string::npos) << "the switch's overlay MTU";
    const auto route = lab_->Exec(c.ns, {"ip", "route", "show", "default"});
    EXPECT_NE(route.out.find("via 10.0.0.1 dev eth0"), std::string::npos) << route.out;
    return ip;
  }

  int inputs_ = 0;
};

TEST_P(CniE2eTest, AddCheckDelAsARuntimeDoes) {
  ASSERT_NO_FATAL_FAILURE(Up(kSpec));
  const Container c1 = MakeContainer("one", "h1");
  const Container c2 = MakeContainer("two", "h2");

  const auto version = Cni("VERSION", c1, json::object());
  EXPECT_EQ(json::parse(version.out, nullptr, false)["supportedVersions"],
            json::parse(R"(["0.4.0","1.0.0"])"));

  const auto add1 = Cni("ADD", c1, Config("h1"));
  const std::string ip1 = CheckResult(add1, c1);
  const auto add2 = Cni("ADD", c2, Config("h2"));
  const std::string ip2 = CheckResult(add2, c2);
  ASSERT_FALSE(ip1.empty());
  ASSERT_FALSE(ip2.empty());
  EXPECT_NE(ip1, ip2);
  EXPECT_EQ(StateFiles("h1"), 1u);

  EXPECT_EQ(PingFrom(c1, ip2), 3) << "container on h1 -> container on h2";
  EXPECT_EQ(PingFrom(c2, ip1), 3) << "container on h2 -> container on h1";
  EXPECT_EQ(PingFrom(c1, "10.0.0.20"), 3) << "container on h1 -> lab VM on h2";

  const auto again = Cni("ADD", c1, Config("h1"));
  EXPECT_NE(again.exit_code, 0) << "a second ADD of the same container interface";
  EXPECT_EQ(json::parse(again.out, nullptr, false)["code"], 103) << again.out;

  EXPECT_EQ(Cni("CHECK", c1, Config("h1")).exit_code, 0);
  const json add1_result = json::parse(add1.out, nullptr, false);
  const std::string veth1 = add1_result["interfaces"][0]["name"];
  ASSERT_TRUE(LinkExists(lab_->HostNamespace("h1"), veth1));
  ASSERT_EQ(lab_->Exec(c1.ns, {"ip", "link", "del", "eth0"}).exit_code, 0);
  const auto check = Cni("CHECK", c1, Config("h1"));
  EXPECT_NE(check.exit_code, 0);
  EXPECT_EQ(json::parse(check.out, nullptr, false)["code"], 102) << check.out;

  // DEL twice; then nothing of c1 is left.
  EXPECT_EQ(Cni("DEL", c1, Config("h1")).exit_code, 0);
  EXPECT_EQ(Cni("DEL", c1, Config("h1")).exit_code, 0);
  EXPECT_TRUE(EndpointOf(veth1).is_null()) << "the endpoint is deleted";
  EXPECT_FALSE(LinkExists(lab_->HostNamespace("h1"), veth1));
  EXPECT_EQ(StateFiles("h1"), 0u);

  // DEL after the runtime already removed the namespace.
  const std::string veth2 =
      json::parse(add2.out, nullptr, false)["interfaces"][0].value("name", "");
  ASSERT_EQ(lab::RunCommand({"ip", "netns", "del", c2.ns}).exit_code, 0);
  EXPECT_EQ(Cni("DEL", c2, Config("h2")).exit_code, 0);
  EXPECT_TRUE(EndpointOf(veth2).is_null());
  EXPECT_FALSE(LinkExists(lab_->HostNamespace("h2"), veth2));
  EXPECT_EQ(StateFiles("h2"), 0u);

  // DEL of a container never added.
  const Container never = MakeContainer("never", "h1");
  EXPECT_EQ(Cni("DEL", never, Config("h1")).exit_code, 0);
  EXPECT_EQ(Endpoints().size(), 1u) << "only the lab's VM is left: " << Endpoints().dump();
}

TEST_P(CniE2eTest, FailedAddsReportTheCniErrorAndLeaveNothing) {
  ASSERT_NO_FATAL_FAILURE(Up(kSpec));
  const Container c = MakeContainer("bad", "h1");
  const auto links_before = lab_->Exec(lab_->HostNamespace("h1"), {"ip", "-o", "link"}).out;

  struct Case {
    std::string what;
    json config;
    int code;
  };
  json unknown_network = Config("h1");
  unknown_network["network"] = "red/nope";
  json missing_controller = Config("h1");
  missing_controller.erase("controller");
  json bad_version = Config("h1");
  bad_version["cniVersion"] = "0.2.0";
  // Fails after the pair and the endpoint exist: no switch of that name serves the port.
  json no_such_switch = Config("h1");
  no_such_switch["switch"] = "nosuch";
  no_such_switch["portTimeout"] = 2;
  const Case cases[] = {{"unknown network", unknown_network, 7},
                        {"missing controller", missing_controller, 7},
                        {"unsupported version", bad_version, 1},
                        {"switch never serves the port", no_such_switch, 11}};
  for (const auto& k : cases) {
    const auto add = Cni("ADD", c, k.config);
    EXPECT_NE(add.exit_code, 0) << k.what;
    const json error = json::parse(add.out, nullptr, false);
    ASSERT_TRUE(error.is_object()) << k.what << ": " << add.out;
    EXPECT_EQ(error["code"], k.code) << k.what << ": " << add.out;
    EXPECT_FALSE(error.value("msg", "").empty()) << k.what;
    EXPECT_TRUE(error.contains("cniVersion")) << k.what;
    EXPECT_EQ(Endpoints().size(), 1u) << k.what << ": " << Endpoints().dump();
    EXPECT_EQ(lab_->Exec(lab_->HostNamespace("h1"), {"ip", "-o", "link"}).out, links_before)
        << k.what;
    EXPECT_FALSE(LinkExists(c.ns, "eth0")) << k.what;
    EXPECT_EQ(StateFiles("h1"), 0u) << k.what;
  }
  // An interface of that name already in the container: the pair cannot be made.
  const std::vector<std::string> veth = {"ip",   "link", "add",  "eth0", "type",
                                         "veth", "peer", "name", "x0"};
  ASSERT_EQ(lab_->Exec(c.ns, veth).exit_code, 0);
  const auto taken = Cni("ADD", c, Config("h1"));
  EXPECT_EQ(json::parse(taken.out, nullptr, false)["code"], 101) << taken.out;
  EXPECT_EQ(Endpoints().size(), 1u);
  EXPECT_EQ(StateFiles("h1"), 0u);
  // Bad environment: code 4.
  const Container bad_id{.id = "-bad", .host = "h1", .ns = c.ns};
  const auto env = Cni("ADD", bad_id, Config("h1"));
  EXPECT_EQ(json::parse(env.out, nullptr, false)["code"], 4) << env.out;
}

// A real runtime: Debian's podman with its CNI network backend (a test-private
// containers.conf and CNI config dir, the conflist naming dove-cni) runs a container from a
// busybox rootfs made here (no image pulled) on host h1; the container pings the lab VM on h2
// over the overlay, and podman's DEL on --rm leaves no endpoint and no record. podman runs
// with runc and cgroupfs, and with rlimits no higher than this process's own (podman asks
// for more by default, which needs CAP_SYS_RESOURCE).
TEST_P(CniE2eTest, PodmanRunsAContainerOnDove) {
  for (const char* tool : {"/usr/bin/podman", "/usr/sbin/runc", "/bin/busybox"}) {
    if (!std::filesystem::exists(tool)) GTEST_SKIP() << tool << " missing (scripts/install-deps)";
  }
  ASSERT_NO_FATAL_FAILURE(Up(kSpec));
  const auto dir = lab_->temp_dir() / "podman";
  // podman leaves its storage's overlay mount behind: unmounted before the lab's temp dir goes,
  // whatever the test did.
  struct Unmount {
    std::filesystem::path dir;
    ~Unmount() {
      std::ifstream mounts("/proc/self/mountinfo");
      std::vector<std::string> under;
      for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < 5 && fields >> field; ++i) {
        }
        if (field.rfind(dir.string() + "/", 0) == 0) under.push_back(field);
      }
      std::sort(under.rbegin(), under.rend());
      for (const auto& mount : under) (void)lab::RunCommand({"umount", "-l", mount});
    }
  } unmount{dir};
  const auto plugins = dir / "plugins";
  const auto net_d = dir / "net.d";
  const auto rootfs = dir / "rootfs";
  for (const auto& d : {plugins, net_d, rootfs / "bin", rootfs / "proc", rootfs / "sys",
                        rootfs / "dev", rootfs / "etc", rootfs / "tmp"}) {
    std::filesystem::create_directories(d);
  }
  std::filesystem::create_symlink(DOVE_CNI_BIN, plugins / "dove-cni");
  std::ofstream(dir / "containers.conf")
      << "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"" << plugins.string()
      << "\"]\nnetwork_config_dir = \"" << net_d.string() << "\"\n";
  json plugin = Config("h1");
  plugin.erase("cniVersion");
  plugin.erase("name");
  std::ofstream(net_d / "dove.conflist")
      << json{{"cniVersion", "1.0.0"}, {"name", "dove"}, {"plugins", json::array({plugin})}}.dump(
             2);
  // The rootfs: busybox and the libraries it links.
  std::filesystem::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
  for (const char* applet : {"sh", "ip", "ping"}) {
    std::filesystem::create_symlink("busybox", rootfs / "bin" / applet);
  }
  const auto libs = lab::RunCommand({"sh", "-c", "ldd /bin/busybox | grep -o '/[^ ]*'"});
  std::istringstream lines(libs.out);
  for (std::string lib; std::getline(lines, lib);) {
    const auto target = rootfs / std::filesystem::path(lib).relative_path();
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy_file(std::filesystem::canonical(lib), target);
  }
  rlimit files{};
  rlimit procs{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  ::getrlimit(RLIMIT_NPROC, &procs);
  // Lowering a hard limit needs no privilege; raising one does.
  auto limit = [](const char* name, const rlimit& r) {
    const auto hard = std::min<rlim_t>(4096, r.rlim_max);
    const auto soft = std::min<rlim_t>(1024, std::min(r.rlim_cur, hard));
    return std::string(name) + "=" + std::to_string(soft) + ":" + std::to_string(hard);
  };
  // nsenter, not `ip netns exec`: that remounts /sys, and runc needs the cgroup mounts.
  const std::string script =
      "ip -o addr show dev eth0 && ping -c 1 -w 10 10.0.0.20 >/dev/null && "
      "ping -c 3 -W 2 10.0.0.20";
  const std::vector<std::string> argv = {"nsenter",
                                         "--net=/run/netns/" + lab_->HostNamespace("h1"),
                                         "env",
                                         "CONTAINERS_CONF=" + (dir / "containers.conf").string(),
                                         "podman",
                                         "--root",
                                         (dir / "storage").string(),
                                         "--runroot",
                                         (dir / "run").string(),
                                         "--cgroup-manager",
                                         "cgroupfs",
                                         "run",
                                         "--rm",
                                         "--runtime",
                                         "/usr/sbin/runc",
                                         "--ulimit",
                                         limit("nofile", files),
                                         "--ulimit",
                                         limit("nproc", procs),
                                         "--network",
                                         "dove",
                                         "--rootfs",
                                         rootfs.string(),
                                         "/bin/sh",
                                         "-c",
                                         script};
  const auto run = lab::RunCommand(argv, 120s);
  std::printf("podman: exit %d\n%s%s", run.exit_code, run.out.c_str(), run.err.c_str());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("inet 10.0.0."), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("3 packets transmitted, 3 packets received"), std::string::npos)
      << run.out;
  EXPECT_EQ(Endpoints().size(), 1u) << "podman's DEL on --rm removed the endpoint";
  EXPECT_EQ(StateFiles("h1"), 0u);
  EXPECT_EQ(lab_->Exec(lab_->HostNamespace("h1"), {"sh", "-c", "ip -o link | grep -c ' dc'"}).out,
            "0\n")
      << "no veth left";
}

INSTANTIATE_TEST_SUITE_P(Backend, CniE2eTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace dove::e2e
