// KernelBackend over the real kernel (RtnlLinkOps, ListenerMissSource), each test in a network
// namespace of its own (root only; skipped otherwise): what a desired state installs is
// exactly what `ip -d link`, `bridge fdb` and `ip neigh` then list; real l2miss and l3miss
// notifications (frames injected into a port's veth through AF_PACKET) reach the resolver once;
// a flood of misses to random MACs is rate-limited and counted while another network's entries
// still install; a leftover dvx with wrong options is replaced and an unrelated device is left
// alone; shutdown deletes our devices and releases the port.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/kernel/kernel_backend.h"
#include "dswitch/kernel/rtnl_link_ops.h"
#include "unit/io/network_namespace.h"

namespace dove::dswitch::kernel {
namespace {

using io::testing::RunInNetworkNamespace;
using io::testing::Shell;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const net::Ipv4Address kSelf = net::Ipv4Address::Parse("192.0.2.1").value();
const net::Ipv4Address kPeer = net::Ipv4Address::Parse("192.0.2.2").value();
const net::MacAddress kRouterMac = net::MacAddress::Parse("02:00:00:00:00:aa").value();
const net::MacAddress kVmMac = net::MacAddress::Parse("02:00:00:00:01:01").value();

net::MacAddress Mac(const std::string& text) { return net::MacAddress::Parse(text).value(); }

// Thread-safe: the backend's loop thread asks while the test thread reads.
class FakeResolver final : public userspace::Resolver {
 public:
  void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done /*done*/) override {
    std::lock_guard lock(mu_);
    asked_.push_back(std::to_string(vni) + "/" + mac.ToString());
  }
  void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done /*done*/) override {
    std::lock_guard lock(mu_);
    asked_.push_back(std::to_string(vni) + "/" + ip.ToString());
  }
  void PortOpened(const dove::v1::Location& /*location*/, const std::string& /*name*/) override {}
  std::vector<std::string> asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> asked_;
};

// The lines of a command's output that contain `needle`.
std::vector<std::string> Lines(const std::string& command, const std::string& needle = "") {
  std::vector<std::string> lines;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return lines;
  std::array<char, 1024> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
    std::string line(buffer.data());
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  ::pclose(pipe);
  return lines;
}

bool LinkExists(const std::string& name) {
  return std::system(("ip link show " + name + " >/dev/null 2>&1").c_str()) == 0;
}

userspace::DesiredNetwork Network(uint32_t vni, std::vector<net::Ipv4Address> flood = {}) {
  return {.vni = vni,
          .network_id = "net-" + std::to_string(vni),
          .router_mac = kRouterMac,
          .flood_tunnel_ips = std::move(flood)};
}

userspace::DesiredRemote Remote(uint32_t vni, const std::string& mac, const std::string& ip,
                                const std::string& key) {
  return {.vni = vni,
          .mac = Mac(mac),
          .tunnel_ip = kPeer,
          .ips = {net::IpAddress::Parse(ip).value()},
          .key = key};
}

userspace::DesiredPort Port(uint32_t vni, const std::string& id, const std::string& name) {
  userspace::DesiredPort port;
  port.location.set_endpoint_id(id);
  port.location.set_vni(vni);
  port.location.set_port_name(name);
  port.port_name = name;
  port.mac = kVmMac;
  port.key = id;
  return port;
}

// The host: an underlay holding the tunnel IP, a VM's veth (vm1 for the switch, vm1p the VM's
// end, where the test injects frames).
void MakeHost() {
  Shell(
      "ip link add u0 type veth peer name u0p && ip addr add 192.0.2.1/24 dev u0 && ip link set u0 "
      "up");
  Shell(
      "ip link add vm1 type veth peer name vm1p && ip link set vm1p address 02:00:00:00:01:01 "
      "&& sysctl -qw net.ipv6.conf.vm1p.disable_ipv6=1 && ip link set vm1p up");
}

// An AF_PACKET socket that sends raw frames out of `interface`.
class FrameSender {
 public:
  explicit FrameSender(const std::string& interface)
      : fd_(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) {
    address_.sll_family = AF_PACKET;
    address_.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    address_.sll_halen = 6;
  }
  bool Send(const std::vector<uint8_t>& frame) {
    return ::sendto(fd_.get(), frame.data(), frame.size(), 0,
                    reinterpret_cast<const sockaddr*>(&address_),
                    sizeof(address_)) == static_cast<ssize_t>(frame.size());
  }

 private:
  io::FileDescriptor fd_;
  sockaddr_ll address_{};
};

// An IPv4/UDP datagram from the VM (10.0.0.1) to `destination`, with a valid header: the
// bridge passes IPv4 through br_netfilter, which drops malformed headers.
std::vector<uint8_t> FrameTo(const net::MacAddress& destination) {
  std::vector<uint8_t> frame(60, 0);
  std::copy(destination.bytes().begin(), destination.bytes().end(), frame.begin());
  std::copy(kVmMac.bytes().begin(), kVmMac.bytes().end(), frame.begin() + 6);
  const std::array<uint8_t, 28> ip_udp{0x08, 0x00,  // IPv4
                                       0x45, 0,    0,    46,  0,  0, 0x40, 0,
                                       64,   17,   0,    0,                     // header
                                       10,   0,    0,    1,   10, 0, 0,    99,  // addresses
                                       0x30, 0x39, 0x30, 0x39};                 // ports
  std::copy(ip_udp.begin(), ip_udp.end(), frame.begin() + 12);
  frame[38] = 0;
  frame[39] = 26;  // UDP length; checksum 0: none
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += static_cast<uint32_t>(frame[i] << 8 | frame[i + 1]);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  frame[24] = static_cast<uint8_t>(~sum >> 8);
  frame[25] = static_cast<uint8_t>(~sum);
  return frame;
}

// An ARP request from the VM (10.0.0.1) for `target`.
std::vector<uint8_t> ArpFor(std::array<uint8_t, 4> target) {
  std::vector<uint8_t> frame(60, 0);
  std::fill(frame.begin(), frame.begin() + 6, 0xff);
  std::copy(kVmMac.bytes().begin(), kVmMac.bytes().end(), frame.begin() + 6);
  const std::array<uint8_t, 10> header{0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
  std::copy(header.begin(), header.end(), frame.begin() + 12);
  std::copy(kVmMac.bytes().begin(), kVmMac.bytes().end(), frame.begin() + 22);
  const std::array<uint8_t, 4> sender{10, 0, 0, 1};
  std::copy(sender.begin(), sender.end(), frame.begin() + 28);
  std::copy(target.begin(), target.end(), frame.begin() + 38);
  return frame;
}

struct Host {
  std::unique_ptr<RtnlLinkOps> links;
  std::unique_ptr<ListenerMissSource> misses;
  FakeResolver resolver;
  std::unique_ptr<KernelBackend> backend;
};

void Start(Host& host, KernelOptions options = {}) {
  auto links = RtnlLinkOps::Open();
  auto misses = ListenerMissSource::Open();
  ASSERT_TRUE(links && misses);
  host.links = std::move(*links);
  host.misses = std::move(*misses);
  options.tunnel_ip = kSelf;
  auto backend = KernelBackend::Create(options, *host.links, *host.misses, host.resolver);
  ASSERT_TRUE(backend) << backend.error();
  host.backend = std::move(*backend);
}

// Polls until `done` or 3 s.
template <typename Done>
bool PollUntil(KernelBackend& backend, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    backend.Poll(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(KernelBackendRootTest, InstallsExactlyTheDesiredStateAndRemovesItOnShutdown) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    MakeHost();
    Host host;
    Start(host);
    userspace::DesiredState state;
    state.networks = {Network(42, {kPeer})};
    state.remotes = {Remote(42, "02:00:00:00:00:02", "10.0.0.2", "e2"),
                     Remote(42, "02:00:00:00:00:03", "fd00::3", "e3")};
    state.ports = {Port(42, "ep1", "vm1")};
    host.backend->Apply(state);
    host.backend->Poll(std::chrono::milliseconds(0));

    const auto vxlan = Lines("ip -d link show dvx42", "vxlan id");
    ASSERT_EQ(vxlan.size(), 1U);
    for (const char* option : {"vxlan id 42 ", "local 192.0.2.1 ", "dstport 4789 ", " nolearning",
                               " proxy", " rsc", " l2miss", " l3miss", " noudpcsum"}) {
      EXPECT_THAT(vxlan[0], HasSubstr(option));
    }
    EXPECT_THAT(Lines("ip link show dvx42")[0], HasSubstr("mtu 9000"));
    EXPECT_THAT(Lines("ip link show dvb42")[0], HasSubstr("mtu 1450"));
    EXPECT_THAT(Lines("ip link show dvx42")[0], HasSubstr("master dvb42"));
    EXPECT_THAT(Lines("ip link show dvb42", "link/ether")[0], HasSubstr("02:00:00:00:00:aa"));
    EXPECT_THAT(Lines("ip link show vm1")[0], HasSubstr("mtu 9000"));
    EXPECT_THAT(Lines("ip link show vm1")[0], HasSubstr("master dvb42"));
    EXPECT_THAT(Lines("bridge fdb show dev dvx42 self", " dst "),
                UnorderedElementsAre("00:00:00:00:00:00 dst 192.0.2.2 self permanent",
                                     "02:00:00:00:00:02 dst 192.0.2.2 self permanent",
                                     "02:00:00:00:00:03 dst 192.0.2.2 self permanent"));
    EXPECT_THAT(Lines("ip neigh show dev dvx42"),
                UnorderedElementsAre("10.0.0.2 lladdr 02:00:00:00:00:02 PERMANENT",
                                     "fd00::3 lladdr 02:00:00:00:00:03 PERMANENT"));

    // e3 is invalidated, e2 moves: exactly those change.
    userspace::DesiredDelta delta;
    delta.removed_remotes = {"e3"};
    auto moved = Remote(42, "02:00:00:00:00:02", "10.0.0.2", "e2");
    moved.tunnel_ip = net::Ipv4Address::Parse("192.0.2.7").value();
    delta.upserted_remotes = {moved};
    host.backend->ApplyDelta(delta);
    host.backend->Poll(std::chrono::milliseconds(0));
    EXPECT_THAT(Lines("bridge fdb show dev dvx42 self", " dst "),
                UnorderedElementsAre("00:00:00:00:00:00 dst 192.0.2.2 self permanent",
                                     "02:00:00:00:00:02 dst 192.0.2.7 self permanent"));
    EXPECT_THAT(Lines("ip neigh show dev dvx42"),
                UnorderedElementsAre("10.0.0.2 lladdr 02:00:00:00:00:02 PERMANENT"));

    host.backend->Shutdown();
    EXPECT_FALSE(LinkExists("dvb42"));
    EXPECT_FALSE(LinkExists("dvx42"));
    ASSERT_TRUE(LinkExists("vm1"));
    EXPECT_THAT(Lines("ip link show vm1")[0], ::testing::Not(HasSubstr("master")));
  });
}

TEST(KernelBackendRootTest, RealMissesReachTheResolverOnce) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    MakeHost();
    Host host;
    Start(host);
    userspace::DesiredState state;
    state.networks = {Network(42)};  // no flood list: an all-zeros entry would stop l2miss
    state.ports = {Port(42, "ep1", "vm1")};
    host.backend->Apply(state);
    host.backend->Poll(std::chrono::milliseconds(0));
    ASSERT_TRUE(host.backend->Status().ports.at(0).open)
        << host.backend->Status().ports.at(0).error;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(200));  // the bridge port through listening/learning: no STP

    FrameSender sender("vm1p");
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(sender.Send(FrameTo(Mac("02:00:00:00:99:01"))));
      ASSERT_TRUE(sender.Send(ArpFor({10, 0, 0, 77})));
    }
    const auto asked_both = [&] {
      const auto asked = host.resolver.asked();
      return std::count(asked.begin(), asked.end(), "42/02:00:00:00:99:01") > 0 &&
             std::count(asked.begin(), asked.end(), "42/10.0.0.77") > 0;
    };
    EXPECT_TRUE(PollUntil(*host.backend, asked_both));
    host.backend->Poll(std::chrono::milliseconds(100));
    // Each asked once (the bridge's own IPv6 neighbour discovery may add questions of its own).
    const auto asked = host.resolver.asked();
    EXPECT_EQ(std::count(asked.begin(), asked.end(), "42/02:00:00:00:99:01"), 1);
    EXPECT_EQ(std::count(asked.begin(), asked.end(), "42/10.0.0.77"), 1);
    const std::set<std::string> distinct(asked.begin(), asked.end());
    EXPECT_EQ(distinct.size(), asked.size());
    const auto counters = host.backend->Status().counters;
    EXPECT_GE(counters.at("kernel_misses_l2"), 20U);
    EXPECT_GE(counters.at("kernel_misses_l3"), 20U);
    EXPECT_EQ(counters.at("kernel_misses_deduplicated"),
              counters.at("kernel_misses_l2") + counters.at("kernel_misses_l3") - asked.size());
    std::printf("20 frames + 20 ARP requests: %lu l2miss, %lu l3miss, %lu deduplicated\n",
                static_cast<unsigned long>(counters.at("kernel_misses_l2")),
                static_cast<unsigned long>(counters.at("kernel_misses_l3")),
                static_cast<unsigned long>(counters.at("kernel_misses_deduplicated")));
    host.backend->Shutdown();
  });
}

TEST(KernelBackendRootTest, AFloodOfMissesIsRateLimitedAndOtherNetworksStillInstall) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    MakeHost();
    Host host;
    KernelOptions options;
    options.misses.rate_per_second = 1000;
    options.misses.burst = 200;
    Start(host, options);
    userspace::DesiredState state;
    state.networks = {Network(42)};
    state.ports = {Port(42, "ep1", "vm1")};
    host.backend->Apply(state);
    host.backend->Poll(std::chrono::milliseconds(0));
    std::thread loop([&] { host.backend->Run(); });

    // 10,000 frames a second to random unknown MACs, for 1.5 s.
    FrameSender sender("vm1p");
    std::mt19937 random(7);
    const auto start = std::chrono::steady_clock::now();
    size_t sent = 0;
    bool applied = false;
    std::chrono::steady_clock::duration install_took{};
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500)) {
      const auto due = start + std::chrono::microseconds(100) * sent;
      if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
      std::array<uint8_t, 6> mac{0x02,
                                 0x55,
                                 static_cast<uint8_t>(random()),
                                 static_cast<uint8_t>(random()),
                                 static_cast<uint8_t>(random()),
                                 static_cast<uint8_t>(random())};
      sender.Send(FrameTo(net::MacAddress(mac)));
      ++sent;
      if (!applied && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(500)) {
        // Mid-flood, a second network and a remote of it.
        applied = true;
        userspace::DesiredDelta delta;
        delta.upserted_networks = {Network(43)};
        delta.upserted_remotes = {Remote(43, "02:00:00:00:43:02", "10.4.0.2", "e43")};
        const auto asked = std::chrono::steady_clock::now();
        host.backend->ApplyDelta(delta);
        while (Lines("bridge fdb show dev dvx43 self 2>/dev/null", "02:00:00:00:43:02").empty() &&
               std::chrono::steady_clock::now() - asked < std::chrono::seconds(2)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        install_took = std::chrono::steady_clock::now() - asked;
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto status = host.backend->Status();  // answers while flooded
    host.backend->Stop();
    loop.join();

    EXPECT_THAT(Lines("bridge fdb show dev dvx43 self", " dst "),
                UnorderedElementsAre("02:00:00:00:43:02 dst 192.0.2.2 self permanent"));
    const auto& counters = status.counters;
    const uint64_t asked = counters.at("kernel_misses_asked");
    std::printf(
        "flood: %zu frames in %.2f s; l2miss %lu, asked %lu, rate-limited %lu; "
        "the second network's entry installed in %.1f ms\n",
        sent, seconds, static_cast<unsigned long>(counters.at("kernel_misses_l2")),
        static_cast<unsigned long>(asked),
        static_cast<unsigned long>(counters.at("kernel_misses_rate_limited")),
        std::chrono::duration<double, std::milli>(install_took).count());
    EXPECT_GT(counters.at("kernel_misses_rate_limited"), 0U);
    EXPECT_LE(asked, static_cast<uint64_t>(200 + 1000 * (seconds + 0.2)));
    // Every miss is asked, deduplicated or dropped by the rate limit (l3: the bridge's own ND).
    EXPECT_EQ(counters.at("kernel_misses_l2") + counters.at("kernel_misses_l3"),
              asked + counters.at("kernel_misses_known") +
                  counters.at("kernel_misses_rate_limited") +
                  counters.at("kernel_misses_deduplicated"));
    EXPECT_LT(install_took, std::chrono::milliseconds(500));
    host.backend->Shutdown();
  });
}

TEST(KernelBackendRootTest, ALeftoverWithWrongOptionsIsReplacedAndOthersAreLeftAlone) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    MakeHost();
    Shell("ip link add dvx42 type vxlan id 42 dstport 4789 local 192.0.2.1 learning");
    Shell("ip link add other0 type veth peer name other0p");
    Host host;
    Start(host);
    EXPECT_FALSE(LinkExists("dvx42"));
    userspace::DesiredState state;
    state.networks = {Network(42)};
    host.backend->Apply(state);
    host.backend->Poll(std::chrono::milliseconds(0));
    ASSERT_TRUE(LinkExists("dvx42"));
    EXPECT_THAT(Lines("ip -d link show dvx42", "vxlan id")[0], HasSubstr(" nolearning"));
    EXPECT_TRUE(LinkExists("other0"));
    host.backend->Shutdown();
    EXPECT_FALSE(LinkExists("dvx42"));
    EXPECT_TRUE(LinkExists("other0"));
  });
}

}  // namespace
}  // namespace dove::dswitch::kernel
