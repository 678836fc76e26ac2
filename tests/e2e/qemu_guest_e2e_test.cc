// Issue 17: real VMs on the switch. QEMU from Debian (TCG: no /dev/kvm here) boots a small Linux
// guest (scripts/make-guest: Debian's kernel and a busybox initramfs) on each of two hosts of a
// lab, with a virtio-net NIC on a TAP that QEMU itself creates and holds (-netdev tap,ifname=...:
// what libvirt's <interface type='ethernet'> does, docs/libvirt.md), so the switch cannot open it
// (EBUSY) and serves it through a packet socket (port_kind PORT_KIND_PACKET). The guests get
// their addresses by DHCP from the switch (the controller's IPAM), ping each other and a
// namespace VM, and the namespace VM pings them.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kGuestLab = R"(
host h1
host h2
network red/web 10.0.0.0/24 gateway 10.0.0.1
vm n1 h2 red/web 10.0.0.30
)";

struct Guest {
  std::string name;  // the endpoint's id
  std::string host;
  std::string mac;
  std::string tap;   // what QEMU creates: "vnet-" + name
  std::string ip{};  // the controller's IPAM address
  std::string console{};
  std::string pidfile{};
};

class QemuGuestE2eTest : public LabTest {
 protected:
  void TearDown() override {
    for (const Guest& guest : guests_) {
      std::ifstream pid_file(guest.pidfile);
      pid_t pid = 0;
      if (pid_file >> pid && pid > 1) ::kill(pid, SIGKILL);
    }
    LabTest::TearDown();
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Waits until the guest's console shows `line`, at most `timeout`.
  bool ConsoleShows(const Guest& guest, const std::string& line, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Read(guest.console).find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  // The endpoint (port_kind PORT_KIND_PACKET on the TAP QEMU will create), then QEMU.
  void Boot(Guest& guest, const std::string& pings) {
    auto created = lab_->ControllerRest("POST", "/v1/endpoints",
                                        {{"id", guest.name},
                                         {"network_id", lab_->Vm("n1").network_id},
                                         {"mac", guest.mac},
                                         {"switch_name", guest.host},
                                         {"port_name", guest.tap},
                                         {"port_kind", "PORT_KIND_PACKET"}});
    ASSERT_TRUE(created) << created.error();
    guest.ip = (*created)["ips"][0].get<std::string>();
    guest.console = (lab_->temp_dir() / (guest.name + "-console.log")).string();
    guest.pidfile = (lab_->temp_dir() / (guest.name + ".pid")).string();
    const std::string dir = DOVE_GUEST_DIR;
    const auto started = lab_->Exec(lab_->HostNamespace(guest.host),
                                    {"qemu-system-x86_64",
                                     "-machine",
                                     "q35,accel=tcg",
                                     "-cpu",
                                     "max",
                                     "-m",
                                     "192",
                                     "-smp",
                                     "1",
                                     "-no-reboot",
                                     "-display",
                                     "none",
                                     "-monitor",
                                     "none",
                                     "-kernel",
                                     dir + "/vmlinuz",
                                     "-initrd",
                                     dir + "/initrd.gz",
                                     "-append",
                                     "console=ttyS0 quiet panic=-1 dove.ping=" + pings,
                                     "-netdev",
                                     "tap,id=n0,ifname=" + guest.tap + ",script=no,downscript=no",
                                     "-device",
                                     "virtio-net-pci,netdev=n0,mac=" + guest.mac,
                                     "-serial",
                                     "file:" + guest.console,
                                     "-daemonize",
                                     "-pidfile",
                                     guest.pidfile},
                                    60s);
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  }

  std::vector<Guest> guests_;
};

TEST_F(QemuGuestE2eTest, TwoQemuGuestsOnHeldTapsGetDhcpLeasesAndReachEachOtherAndANamespaceVm) {
  if (std::system("command -v qemu-system-x86_64 >/dev/null") != 0) {
    GTEST_FAIL() << "qemu-system-x86_64 is not installed (scripts/install-deps installs it)";
  }
  ASSERT_EQ(std::system(DOVE_MAKE_GUEST " " DOVE_GUEST_DIR), 0)
      << "scripts/make-guest could not build the guest image";
  ASSERT_NO_FATAL_FAILURE(Up(kGuestLab));
  guests_ = {{.name = "g1", .host = "h1", .mac = "52:54:00:0a:00:01", .tap = "vnet-g1"},
             {.name = "g2", .host = "h2", .mac = "52:54:00:0a:00:02", .tap = "vnet-g2"}};
  const std::string n1 = lab_->Vm("n1").ip;
  // Each pings the other and the namespace VM; the addresses are IPAM's, known before boot.
  ASSERT_NO_FATAL_FAILURE(Boot(guests_[0], "10.0.0.3," + n1));
  ASSERT_NO_FATAL_FAILURE(Boot(guests_[1], "10.0.0.2," + n1));
  ASSERT_EQ(guests_[0].ip, "10.0.0.2") << "IPAM's first free address (the gateway is .1)";
  ASSERT_EQ(guests_[1].ip, "10.0.0.3");
  for (const Guest& guest : guests_) {
    const bool ready = ConsoleShows(guest, "dove-guest: ready", 240s);
    EXPECT_TRUE(ready) << guest.name << "'s console:\n" << Read(guest.console);
    if (!ready) return;
  }
  for (const Guest& guest : guests_) {
    const std::string console = Read(guest.console);
    // What the guest said, for the log.
    std::istringstream lines(console);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("dove-guest:") != std::string::npos) {
        std::printf("%s (%s): %s\n", guest.name.c_str(), guest.host.c_str(),
                    line.substr(line.find("dove-guest:")).c_str());
      }
    }
    EXPECT_NE(console.find("dove-guest: eth0 " + guest.mac), std::string::npos) << console;
    EXPECT_NE(console.find("dove-guest: lease " + guest.ip + "/24 router 10.0.0.1 mtu 1450"),
              std::string::npos)
        << "the switch's DHCP: IPAM's address, the gateway, the overlay MTU\n"
        << console;
    EXPECT_NE(console.find("dove-guest: ping " + n1 + ": 3 received"), std::string::npos)
        << console;
  }
  EXPECT_NE(Read(guests_[0].console).find("dove-guest: ping 10.0.0.3: 3 received"),
            std::string::npos)
      << Read(guests_[0].console);
  EXPECT_NE(Read(guests_[1].console).find("dove-guest: ping 10.0.0.2: 3 received"),
            std::string::npos)
      << Read(guests_[1].console);
  EXPECT_EQ(Ping("n1", "10.0.0.2"), 3) << "the namespace VM reaches the guest on h1";
  // The switch serves QEMU's TAP through a packet socket (it could not open it: QEMU holds it).
  const auto ports = AskSwitch("h1", "ports");
  ASSERT_EQ(ports["ports"].size(), 1u) << ports.dump();
  EXPECT_EQ(ports["ports"][0].value("name", ""), "vnet-g1");
  EXPECT_EQ(ports["ports"][0].value("kind", ""), "packet");
  EXPECT_TRUE(ports["ports"][0].value("open", false)) << ports.dump();
  const auto held =
      lab_->Exec(lab_->HostNamespace("h1"), {"sh", "-c", "cat /sys/class/net/vnet-g1/tun_flags"});
  EXPECT_EQ(held.exit_code, 0) << "vnet-g1 is a TAP device: " << held.err;
}

}  // namespace
}  // namespace dove::e2e
