// The switch's DHCP server and MTU rule seen from a VM, end to end: real dove-controller and
// dove-switch processes in network namespaces (dove-lab), a stock DHCP client (BusyBox udhcpc,
// from Debian's busybox package) and the kernel's own path MTU discovery. Root only. Every
// scenario runs over both backends of dove-switch (the parameter; ctest names end in /userspace
// and /kernel): the kernel backend answers DHCP with the same responder (kernel/port_services.h).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;

// Two hosts with a 1500-byte underlay: the overlay MTU is 1450.
constexpr const char* kTwoHosts = R"(
host h1
host h2
network red/web 10.0.0.0/24
vm a h1 red/web 10.0.0.1
vm b h2 red/web 10.0.0.2
)";

class DhcpMtuE2eTest : public LabTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    backend_ = BackendOf(GetParam());
  }
};

// A udhcpc script that configures eth0 from what the server said and records it.
std::string WriteScript(const std::filesystem::path& dir) {
  std::string path = (dir / "udhcpc.sh").string();
  const std::string log = (dir / "udhcpc.log").string();
  std::ofstream script(path);
  script << "#!/bin/sh\n"
         << "echo \"$1 ip=$ip subnet=$subnet router=$router mtu=$mtu serverid=$serverid "
            "lease=$lease\" >> "
         << log << "\n"
         << "case \"$1\" in\n"
         << "  deconfig) ip addr flush dev \"$interface\" ;;\n"
         << "  bound|renew) ip addr add \"$ip/$subnet\" dev \"$interface\" 2>/dev/null;"
            " [ -n \"$mtu\" ] && ip link set \"$interface\" mtu \"$mtu\" ;;\n"
         << "esac\n";
  script.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_P(DhcpMtuE2eTest, AVmConfiguredOnlyByUdhcpcGetsItsAddressMaskAndMtuAndReachesItsPeer) {
  ASSERT_NO_FATAL_FAILURE(Up(kTwoHosts));
  const std::string ns = lab_->VmNamespace("a");
  // The VM forgets what the lab configured: no address, the kernel's default MTU.
  lab_->Exec(ns, {"ip", "addr", "flush", "dev", "eth0"});
  lab_->Exec(ns, {"ip", "link", "set", "eth0", "mtu", "1500"});
  const std::string script = WriteScript(lab_->temp_dir());
  const auto run = lab_->Exec(
      ns, {"busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", script},
      30s);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string log = ReadAll(lab_->temp_dir() / "udhcpc.log");
  EXPECT_NE(log.find("bound ip=10.0.0.1 subnet=255.255.255.0 "), std::string::npos) << log;
  EXPECT_NE(log.find(" mtu=1450 "), std::string::npos) << log;
  // The lab's subnet has no gateway: no router option, the subnet's last host as server id.
  EXPECT_NE(log.find(" router= "), std::string::npos) << log;
  EXPECT_NE(log.find(" serverid=10.0.0.254 "), std::string::npos) << log;
  EXPECT_NE(log.find(" lease=3600"), std::string::npos) << log;
  const auto mtu = lab_->Exec(ns, {"cat", "/sys/class/net/eth0/mtu"});
  EXPECT_EQ(mtu.out, "1450\n");
  EXPECT_TRUE(PingsWithin("a", "10.0.0.2", 10s)) << "configured by DHCP alone, a reaches b";
  EXPECT_EQ(Counter("h1", "dhcp.offer"), 1U);
  EXPECT_EQ(Counter("h1", "dhcp.ack"), 1U);
  EXPECT_EQ(Counter("h2", "dhcp.discover"), 0U) << "DHCP never crossed the underlay";
}

// The figure: from a stock client's DISCOVER to the ACK that gives it its lease, read from a
// capture on the VM's interface (so the client's own start-up is not counted). Printed, never
// asserted.
TEST_P(DhcpMtuE2eTest, DiscoverToLeaseTimeIsPrinted) {
  ASSERT_NO_FATAL_FAILURE(Up(kTwoHosts));
  const std::string ns = lab_->VmNamespace("a");
  const std::string script = WriteScript(lab_->temp_dir());
  const std::string pcap = PcapPath("dhcp");
  ASSERT_TRUE(lab_->StartCapture(ns, "eth0", pcap));
  std::this_thread::sleep_for(500ms);
  constexpr int kRuns = 30;
  for (int i = 0; i < kRuns; ++i) {
    lab_->Exec(ns, {"ip", "addr", "flush", "dev", "eth0"});
    const auto run = lab_->Exec(
        ns,
        {"busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", script},
        30s);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }
  std::this_thread::sleep_for(500ms);
  lab_->StopAllCaptures();
  // Per transaction id: the DISCOVER's time and the ACK's.
  std::map<std::string, double> discover;
  std::map<std::string, double> request;
  std::vector<double> micros;
  std::vector<double> switch_micros;  // DISCOVER -> OFFER plus REQUEST -> ACK: the switch's part
  for (const std::string& line :
       Tshark(pcap, "dhcp", {"frame.time_epoch", "dhcp.id", "dhcp.option.dhcp"})) {
    std::istringstream fields(line);
    double when = 0;
    std::string id;
    int type = 0;
    fields >> when >> id >> type;
    if (type == 1 && discover.count(id) == 0) discover[id] = when;
    if (type == 2 && discover.count(id) != 0) switch_micros.push_back((when - discover[id]) * 1e6);
    if (type == 3) request[id] = when;
    if (type == 5 && discover.count(id) != 0) {
      micros.push_back((when - discover[id]) * 1e6);
      if (request.count(id) != 0) switch_micros.back() += (when - request[id]) * 1e6;
    }
  }
  ASSERT_EQ(micros.size(), static_cast<size_t>(kRuns)) << "one lease per run";
  ASSERT_EQ(switch_micros.size(), static_cast<size_t>(kRuns));
  std::sort(micros.begin(), micros.end());
  std::sort(switch_micros.begin(), switch_micros.end());
  std::printf(
      "DHCP DISCOVER -> ACK (BusyBox udhcpc, %d leases, capture on the VM): p50 %.0f us, "
      "p90 %.0f us, max %.0f us; of which the switch's answers (DISCOVER -> OFFER + "
      "REQUEST -> ACK): p50 %.0f us, max %.0f us\n",
      kRuns, micros[micros.size() / 2], micros[micros.size() * 9 / 10], micros.back(),
      switch_micros[switch_micros.size() / 2], switch_micros.back());
  EXPECT_EQ(Counter("h1", "dhcp.ack"), static_cast<uint64_t>(kRuns));
}

TEST_P(DhcpMtuE2eTest, AVmWithTooLargeAnMtuGetsFragmentationNeededAndItsTcpStillFlows) {
  ASSERT_NO_FATAL_FAILURE(Up(kTwoHosts));
  // The switch learned the underlay MTU from the interface holding its tunnel IP.
  const auto show = AskSwitch("h1", "show");
  EXPECT_EQ(show.value("underlay_interface", ""), "ul0") << show.dump();
  EXPECT_EQ(show.value("underlay_mtu", 0U), 1500U);
  EXPECT_EQ(show.value("overlay_mtu", 0U), 1450U);
  const std::string ns = lab_->VmNamespace("a");
  lab_->Exec(ns, {"ip", "link", "set", "eth0", "mtu", "1500"});
  ASSERT_TRUE(PingsWithin("a", "10.0.0.2", 10s));
  // 1472 bytes of ICMP payload, DF: a 1500-byte packet, 50 more than the overlay carries.
  const auto too_big =
      lab_->Exec(ns, {"ping", "-c", "2", "-W", "1", "-M", "do", "-s", "1472", "10.0.0.2"});
  EXPECT_NE(too_big.exit_code, 0);
  EXPECT_NE((too_big.out + too_big.err).find("mtu = 1450"), std::string::npos)
      << too_big.out << too_big.err;
  if (KernelBackend()) {
    // The kernel's tunnel PMTU check answers (docs/dove-switch.md, "The kernel backend"), from
    // the destination's address: the switch counts nothing.
    EXPECT_NE((too_big.out + too_big.err).find("From 10.0.0.2 "), std::string::npos)
        << too_big.out << too_big.err;
  } else {
    EXPECT_GE(Drops("h1", "mtu_frag_needed"), 1U);
    EXPECT_GE(Counter("h1", "mtu.frag_needed"), 1U);
  }
  // The VM's kernel learned the path MTU: the largest packet that fits goes through.
  EXPECT_EQ(lab_->Ping("a", "10.0.0.2", 2, 1s, 1422), 2);
  // TCP with a 1500-byte MTU on the VM: its first full segments are refused, the kernel lowers
  // the path MTU, and the transfer completes.
  constexpr int64_t kBytes = 4'000'000;
  EXPECT_EQ(TcpBytesDelivered("a", "b", kBytes), kBytes);
}

INSTANTIATE_TEST_SUITE_P(Backend, DhcpMtuE2eTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace dove::e2e
