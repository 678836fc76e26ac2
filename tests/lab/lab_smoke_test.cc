// Root-only smoke test of the Lab API: over kernel-VXLAN hosts (needs only a dove-controller),
// and over dove-switch hosts (skipped when no dove-switch is found). Not part of ctest (it needs
// root, iproute2, tcpdump, tshark): build the target lab_smoke_test and run it by hand:
//   sudo build/tests/lab/lab_smoke_test   (DOVE_BIN_DIR=dir overrides the binaries' directory)
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "lab/lab.h"
#include "lab/spec.h"

namespace dove::lab {
namespace {

using std::chrono::seconds;

constexpr const char* kSpec = R"(
host k1 kernel
host k2 kernel
network acme/web 10.1.0.0/24 vni 5000
network other/web 10.1.0.0/24
vm a1 k1 acme/web 10.1.0.11
vm a2 k2 acme/web 10.1.0.12
vm o2 k2 other/web 10.1.0.11
vm a3 k2 acme/web
)";

std::string BinDir() {
  const char* dir = std::getenv("DOVE_BIN_DIR");
  return dir != nullptr ? dir : DOVE_DEFAULT_BIN_DIR;
}

class LabSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto spec = ParseSpec(kSpec);
    ASSERT_TRUE(spec) << spec.error();
    auto lab = Lab::Up(*spec, {.bin_dir = BinDir()});
    ASSERT_TRUE(lab) << lab.error();
    lab_ = std::move(*lab);
  }
  std::unique_ptr<Lab> lab_;
};

TEST_F(LabSmokeTest, BuildsPingsCapturesRestartsAndTearsDown) {
  const std::string prefix = lab_->prefix();
  EXPECT_EQ(prefix, "dl" + std::to_string(::getpid()) + "-");
  EXPECT_EQ(lab_->VmNamespace("a1"), prefix + "vm-a1");
  EXPECT_EQ(lab_->HostNamespace("k2"), prefix + "k2");
  EXPECT_EQ(lab_->Vm("a1").mac, "02:00:00:00:01:01");
  EXPECT_EQ(lab_->Vm("a2").vni, 5000U);
  EXPECT_FALSE(lab_->Vm("a3").ip.empty()) << "the controller allocated a3's IP";

  // The VM's interface is what the spec says.
  const CommandResult addr = lab_->Exec(lab_->VmNamespace("a1"), {"ip", "-br", "addr"});
  EXPECT_EQ(addr.exit_code, 0) << addr.err;
  EXPECT_NE(addr.out.find("10.1.0.11/24"), std::string::npos) << addr.out;

  // Connectivity inside acme/web, across hosts; o2 (other tenant, same IP as a1) stays apart.
  const std::string capture = lab_->temp_dir().string() + "/ul.pcap";
  ASSERT_TRUE(lab_->StartCapture(lab_->UnderlayNamespace(), kUnderlayBridge, capture));
  EXPECT_EQ(lab_->Ping("a1", "10.1.0.12", 3, seconds(1)), 3);
  EXPECT_EQ(lab_->Ping("a2", "10.1.0.11", 3, seconds(1)), 3);
  EXPECT_EQ(lab_->Ping("a1", lab_->Vm("a3").ip, 3, seconds(1)), 3);
  EXPECT_EQ(lab_->Ping("o2", "10.1.0.12", 2, seconds(1)), 0) << "o2's network has no 10.1.0.12";
  ASSERT_TRUE(lab_->StopCapture(capture));
  const CommandResult frames =
      RunCommand({"tshark", "-n", "-r", capture, "-T", "fields", "-e", "vxlan.vni"});
  ASSERT_EQ(frames.exit_code, 0) << frames.err;
  EXPECT_NE(frames.out.find("5000"), std::string::npos) << frames.out;

  // REST from inside the controller's namespace.
  auto endpoints = lab_->ControllerRest("GET", "/v1/endpoints");
  ASSERT_TRUE(endpoints) << endpoints.error();
  EXPECT_EQ((*endpoints)["items"].size(), 4U);
  auto bad = lab_->ControllerRest("GET", "/v1/endpoints/nope");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("HTTP 404"), std::string::npos) << bad.error();

  // Deleting a2's endpoint and refreshing the kernel hosts removes a2's static entries on k1
  // (a2 stays reachable through the flood entry to k2, which a3 still needs: kernel VXLAN).
  const std::string k1 = lab_->HostNamespace("k1");
  const auto fdb = [&] {
    return RunCommand({"bridge", "-n", k1, "fdb", "show", "dev", "vx0"}).out;
  };
  const auto neigh = [&] {
    return RunCommand({"ip", "-n", k1, "neigh", "show", "dev", "vx0"}).out;
  };
  EXPECT_NE(fdb().find("02:00:00:00:01:02 dst 192.0.2.12"), std::string::npos) << fdb();
  EXPECT_NE(neigh().find("10.1.0.12 lladdr 02:00:00:00:01:02 PERMANENT"), std::string::npos);
  ASSERT_TRUE(lab_->DeleteEndpoint("a2"));
  auto refreshed = lab_->RefreshKernelHosts();
  ASSERT_TRUE(refreshed) << refreshed.error();
  EXPECT_EQ(fdb().find("02:00:00:00:01:02 dst"), std::string::npos) << fdb();
  EXPECT_NE(fdb().find("00:00:00:00:00:00 dst 192.0.2.12"), std::string::npos) << fdb();
  EXPECT_EQ(neigh().find("10.1.0.12 "), std::string::npos) << neigh();
  EXPECT_EQ(lab_->Ping("a1", lab_->Vm("a3").ip, 2, seconds(1)), 2);

  // The controller restarts with the same data.
  ASSERT_TRUE(lab_->StopController());
  EXPECT_FALSE(lab_->ControllerRest("GET", "/v1/endpoints"));
  auto restarted = lab_->StartController();
  ASSERT_TRUE(restarted) << restarted.error();
  endpoints = lab_->ControllerRest("GET", "/v1/endpoints");
  ASSERT_TRUE(endpoints) << endpoints.error();
  EXPECT_EQ((*endpoints)["items"].size(), 3U);

  // Kernel hosts run no switch.
  EXPECT_FALSE(lab_->KillSwitch("k1", SIGKILL));
  EXPECT_FALSE(lab_->StartSwitch("k1"));

  ASSERT_TRUE(lab_->Down());
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + prefix + "ul"));
  EXPECT_FALSE(std::filesystem::exists(lab_->temp_dir()));
}

constexpr const char* kDoveSpec = R"(
host h1
host h2
network acme/web 10.3.0.0/24
vm d1 h1 acme/web 10.3.0.11
vm d2 h2 acme/web 10.3.0.12
)";

// Polls `ok` every 200 ms for up to `timeout`.
template <typename F>
bool Eventually(F ok, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ok()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

TEST(LabSwitchSmokeTest, SwitchesCarryTrafficSurviveAKillAndFollowEndpoints) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (FindBinaries(BinDir()).switch_binary.empty()) GTEST_SKIP() << "no dove-switch";
  auto spec = ParseSpec(kDoveSpec);
  ASSERT_TRUE(spec) << spec.error();
  auto up = Lab::Up(*spec, {.bin_dir = BinDir()});
  ASSERT_TRUE(up) << up.error();
  Lab& lab = **up;
  EXPECT_EQ(lab.Ping("d1", "10.3.0.12", 3, seconds(1)), 3);
  EXPECT_TRUE(std::filesystem::exists(lab.ControlSocket("h1")));

  // A crashed switch stops its VMs' traffic; restarted, it finds its TAP again.
  ASSERT_TRUE(lab.KillSwitch("h1", SIGKILL));
  EXPECT_EQ(lab.Ping("d1", "10.3.0.12", 2, seconds(1)), 0);
  auto restarted = lab.StartSwitch("h1");
  ASSERT_TRUE(restarted) << restarted.error();
  EXPECT_TRUE(Eventually([&] { return lab.Ping("d1", "10.3.0.12", 1, seconds(1)) == 1; },
                         std::chrono::seconds(15)));

  // Deleting the endpoint makes its switch delete the TAP.
  ASSERT_TRUE(lab.DeleteEndpoint("d2"));
  EXPECT_TRUE(Eventually(
      [&] {
        return lab.Exec(lab.HostNamespace("h2"), {"ip", "link", "show", "t-d2"}).exit_code != 0;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(lab.Ping("d1", "10.3.0.12", 2, seconds(1)), 0);
}

}  // namespace
}  // namespace dove::lab
