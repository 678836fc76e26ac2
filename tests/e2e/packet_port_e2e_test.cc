// Issue 17: endpoints on interfaces the switch does not own (port_kind PORT_KIND_PACKET), in a
// lab whose "packet" VMs' veths are the switch's ports themselves (no TAP, no redirect): a
// packet VM reaches a TAP VM on another host and a packet VM on its own host, by ping, TCP and
// DHCP; the host's own stack never answers on the interface while the switch serves it, nor
// while the switch is dead; and the interface is given back as it was (and still exists) when
// the endpoint is deleted, the host's stack answering again. Over both backends: the kernel
// backend enslaves the veth as it does any port.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPacketVms = R"(
host h1
host h2
network red/web 10.0.0.0/24 gateway 10.0.0.1
vm a h1 red/web 10.0.0.11 packet
vm c h1 red/web dhcp packet
vm b h2 red/web 10.0.0.12
)";

class PacketPortE2eTest : public LabTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    backend_ = BackendOf(GetParam());
  }

  // Whether the ingress of `device` in `ns` has the switch's port guard, as tc shows it: a
  // classic BPF filter at priority 49152 whose one instruction returns 2 (TC_ACT_SHOT).
  bool Guarded(const std::string& ns, const std::string& device) {
    const auto shown = lab_->Exec(ns, {"tc", "filter", "show", "dev", device, "ingress"});
    return shown.out.find("pref 49152 bpf") != std::string::npos &&
           shown.out.find("direct-action") != std::string::npos &&
           shown.out.find("bytecode '1,6 0 0 2'") != std::string::npos;
  }

  // How many answers VM `vm` gets to an ARP request for its host's underlay address (the
  // sender address is one of the underlay's, so that the host's reverse-path filter, strict or
  // loose, would let an answer go).
  int HostAnswersArp(const std::string& vm) {
    const auto& info = lab_->Vm(vm);
    const auto& host = lab_->Host(info.host);
    const auto result =
        Scapy(info.ns, "ans,_=srp(Ether(dst='ff:ff:ff:ff:ff:ff',src='" + info.mac +
                           "')/ARP(op=1,hwsrc='" + info.mac + "',psrc='192.0.2.250',pdst='" +
                           host.tunnel_ip + "'),iface='eth0',timeout=1,retry=1,verbose=0)\n" +
                           "print(len(ans))");
    return std::atoi(result.out.c_str());
  }
};

TEST_P(PacketPortE2eTest, PacketVmsReachTapVmsAndEachOtherByPingTcpAndDhcp) {
  ASSERT_NO_FATAL_FAILURE(Up(kPacketVms));
  FirstContact("a", "10.0.0.12");
  EXPECT_EQ(Ping("a", "10.0.0.12"), 3) << "packet port on h1 -> TAP on h2";
  EXPECT_EQ(Ping("b", "10.0.0.11"), 3) << "TAP on h2 -> packet port on h1";
  const std::string c_ip = lab_->Vm("c").ip;
  ASSERT_FALSE(c_ip.empty());
  FirstContact("c", "10.0.0.11");
  EXPECT_EQ(Ping("c", "10.0.0.11"), 3) << "two packet ports on one host (c got its lease)";
  EXPECT_EQ(Ping("b", c_ip), 3);
  constexpr int64_t kBytes = 8 << 20;
  EXPECT_EQ(TcpBytesDelivered("a", "b", kBytes), kBytes);
  EXPECT_EQ(TcpBytesDelivered("b", "a", kBytes), kBytes);

  const auto ports = AskSwitch("h1", "ports");
  ASSERT_EQ(ports["ports"].size(), 2u) << ports.dump();
  for (const auto& port : ports["ports"]) {
    EXPECT_TRUE(port.value("open", false)) << port.dump();
    EXPECT_EQ(port.value("kind", ""), KernelBackend() ? "enslaved" : "packet") << port.dump();
    EXPECT_EQ(port.value("name", "").rfind("v-", 0), 0u) << "the VM's own veth: " << port.dump();
  }
  if (!KernelBackend()) {
    EXPECT_EQ(lab_->Exec(lab_->Host("h1").ns, {"ip", "link", "show", "t-a"}).exit_code, 1)
        << "no TAP was made for a packet VM";
    EXPECT_EQ(Counter("h1", "io.ring_full"), 0u);
    EXPECT_GT(Counter("h1", "io.read_super_frames"), 0u) << "TCP crossed as super-frames";
  }
}

TEST_P(PacketPortE2eTest, TheHostsStackStaysOffTheInterfaceUntilTheEndpointIsDeleted) {
  if (KernelBackend()) {
    GTEST_SKIP() << "the kernel backend enslaves the veth to its bridge: the host's stack never "
                    "sees a bridge port's frames, and there is no guard to check";
  }
  ASSERT_NO_FATAL_FAILURE(Up(kPacketVms));
  const std::string h1 = lab_->Host("h1").ns;
  EXPECT_TRUE(Guarded(h1, "v-a"));
  EXPECT_EQ(HostAnswersArp("a"), 0) << "h1's own stack answered on a port the switch serves";

  ASSERT_TRUE(lab_->KillSwitch("h1", SIGKILL));
  EXPECT_TRUE(Guarded(h1, "v-a")) << "the guard outlives the switch";
  EXPECT_EQ(HostAnswersArp("a"), 0) << "nor while its switch is dead";
  ASSERT_TRUE(lab_->StartSwitch("h1"));
  EXPECT_TRUE(PingsWithin("a", "10.0.0.12", 20s)) << "the restarted switch serves it again";
  EXPECT_TRUE(Guarded(h1, "v-a"));

  ASSERT_TRUE(lab_->DeleteEndpoint("a"));
  bool given_back = false;
  for (int i = 0; i < 50 && !given_back; ++i) {
    given_back = !Guarded(h1, "v-a");
    if (!given_back) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(given_back) << "the guard is still on v-a";
  EXPECT_EQ(lab_->Exec(h1, {"ip", "link", "show", "v-a"}).exit_code, 0)
      << "the switch deleted an interface it does not own";
  EXPECT_EQ(HostAnswersArp("a"), 1)
      << "given back, the host's stack answers again (which makes the checks above count)";
  EXPECT_EQ(Ping("c", "10.0.0.12"), 3) << "the other packet VM on h1 is untouched";
  EXPECT_TRUE(Guarded(h1, "v-c"));
}

INSTANTIATE_TEST_SUITE_P(Backend, PacketPortE2eTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace dove::e2e
