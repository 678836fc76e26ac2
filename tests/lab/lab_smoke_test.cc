// Root-only smoke test of the Lab API over kernel-VXLAN hosts (no dove-switch needed). Not part
// of ctest (it needs root, iproute2, tcpdump, tshark and a dove-controller): build the target
// lab_smoke_test and run it by hand:
//   sudo build/tests/lab/lab_smoke_test   (DOVE_BIN_DIR=dir overrides the binaries' directory)
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

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

}  // namespace
}  // namespace dove::lab
