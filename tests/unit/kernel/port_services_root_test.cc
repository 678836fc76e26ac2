// The kernel backend's DHCP server and router advertisements over the real kernel (root only;
// skipped otherwise): a host namespace with a real KernelBackend, its HostRouting (nftables,
// routing tables) and an underlay; a VM namespace whose eth0 is the other end of the port's
// veth, configured by a stock client (BusyBox udhcpc) and soliciting a router with scapy
// (/usr/bin/python3). Checks: the lease is the port's address, mask, router, DNS, lease time
// and MTU; a renewal is ACKed; the DISCOVER reaches neither the network's other port nor the
// underlay (captures on both, with a broadcast ping from the VM as the positive control); an RS
// gets the router's RA (its link-local source, router lifetime, MTU and prefix); the counters;
// a too-big packet toward a remote VM is answered with fragmentation needed / packet too big.
// The VM namespace belongs to a child process killed when the test ends (or its process dies),
// so nothing outlives a failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/kernel/host_routing.h"
#include "dswitch/kernel/kernel_backend.h"
#include "dswitch/kernel/nft_session.h"
#include "dswitch/kernel/port_services.h"
#include "dswitch/kernel/route_rules.h"
#include "dswitch/kernel/rtnl_link_ops.h"
#include "unit/io/network_namespace.h"
#include "unit/kernel/routing_lab.h"

namespace dove::dswitch::kernel {
namespace {

using testing::Output;

using io::testing::RunInNetworkNamespace;
using io::testing::Shell;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

net::IpAddress Ip(const std::string& text) { return net::IpAddress::Parse(text).value(); }
net::IpPrefix Prefix(const std::string& text) { return net::IpPrefix::Parse(text).value(); }

class NullResolver final : public userspace::Resolver {
 public:
  void ResolveMac(uint32_t /*vni*/, const net::MacAddress& /*mac*/, Done /*done*/) override {}
  void ResolveIp(uint32_t /*vni*/, const net::IpAddress& /*ip*/, Done /*done*/) override {}
  void PortOpened(const dove::v1::Location& /*location*/, const std::string& /*name*/) override {}
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Done>
bool WaitFor(Done done, std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// A network namespace held by a child process that only waits; killed by the destructor, and by
// the kernel when this process dies (PR_SET_PDEATHSIG).
class VmNamespace {
 public:
  VmNamespace() {
    std::array<int, 2> ready{};
    if (::pipe(ready.data()) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const char ok = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
      if (::write(ready[1], &ok, 1) != 1) std::_Exit(1);
      while (true) ::pause();
    }
    char ok = 'n';
    if (::read(ready[0], &ok, 1) != 1 || ok != 'y') pid_ = -1;
    ::close(ready[0]);
    ::close(ready[1]);
  }
  ~VmNamespace() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  VmNamespace(const VmNamespace&) = delete;
  VmNamespace& operator=(const VmNamespace&) = delete;

  bool valid() const { return pid_ > 0; }
  std::string pid() const { return std::to_string(pid_); }
  // `command` run inside the namespace.
  std::string In(const std::string& command) const {
    return "nsenter -t " + pid() + " -n " + command;
  }

 private:
  pid_t pid_ = -1;
};

// A tcpdump capture in the host namespace, stopped by the destructor.
class Capture {
 public:
  Capture(const std::string& interface, const std::string& filter, const std::string& path)
      : path_(path) {
    Shell("tcpdump -n -U -i " + interface + " -w " + path + " '" + filter + "' 2>" + path +
          ".err & echo $! > " + path + ".pid");
    WaitFor([&] { return ReadAll(path + ".err").find("listening on") != std::string::npos; });
  }
  ~Capture() { Stop(); }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    std::this_thread::sleep_for(300ms);
    (void)std::system(("kill $(cat " + path_ + ".pid) 2>/dev/null; sleep 0.3").c_str());
  }
  // The captured packets that `filter` matches.
  int Count(const std::string& filter) {
    Stop();
    const std::string out = Output("tcpdump -n -r " + path_ + " '" + filter + "' 2>/dev/null");
    return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
  }

 private:
  std::string path_;
  bool stopped_ = false;
};

// The inner frame of a VXLAN datagram (tcpdump offsets from the outer UDP header: 8 of UDP,
// 8 of VXLAN, then the inner Ethernet header): IPv4 with a 20-byte header, then its protocol.
constexpr const char* kInnerIpv4 = "udp port 4789 and udp[28:2] = 0x0800";
constexpr const char* kInnerDhcp = "udp[39] = 17 and udp[52:2] = 67";
constexpr const char* kInnerIcmp = "udp[39] = 1";

const net::MacAddress kRouterMac = net::MacAddress::Parse("02:00:00:00:00:aa").value();

userspace::DesiredState State() {
  userspace::DesiredNetwork network{
      .vni = 42,
      .network_id = "net-42",
      .router_mac = kRouterMac,
      .flood_tunnel_ips = {net::Ipv4Address::Parse("192.0.2.2").value()},
      .domain_tunnel_ips = {},
      .subnets = {{.prefix = Prefix("10.0.0.0/24"),
                   .gateway = Ip("10.0.0.1"),
                   .dns_servers = {Ip("10.0.0.53"), Ip("10.0.0.54")},
                   .mtu = 0},
                  {.prefix = Prefix("2001:db8:1::/64"),
                   .gateway = Ip("2001:db8:1::1"),
                   .dns_servers = {},
                   .mtu = 0}},
      .routes = {{.prefix = Prefix("10.0.0.0/24"), .gateway = Ip("10.0.0.1"), .vni = 42},
                 {.prefix = Prefix("2001:db8:1::/64"), .gateway = Ip("2001:db8:1::1"), .vni = 42},
                 {.prefix = Prefix("10.0.1.0/24"), .gateway = Ip("10.0.1.1"), .vni = 43}},
      .policies = {}};
  // Another network of the domain (same router MAC), with a port here: routed to from 42.
  userspace::DesiredNetwork other = network;
  other.vni = 43;
  other.network_id = "net-43";
  other.subnets = {
      {.prefix = Prefix("10.0.1.0/24"), .gateway = Ip("10.0.1.1"), .dns_servers = {}, .mtu = 0}};
  auto port = [](const std::string& id, const std::string& name, const std::string& mac,
                 std::vector<net::IpAddress> ips, uint32_t vni = 42) {
    userspace::DesiredPort desired;
    desired.location.set_endpoint_id(id);
    desired.location.set_vni(vni);
    desired.location.set_port_name(name);
    desired.port_name = name;
    desired.mac = net::MacAddress::Parse(mac).value();
    desired.ips = std::move(ips);
    desired.key = id;
    return desired;
  };
  userspace::DesiredState state;
  state.networks = {network, other};
  state.remotes = {{.vni = 42,
                    .mac = net::MacAddress::Parse("02:00:00:00:00:09").value(),
                    .tunnel_ip = net::Ipv4Address::Parse("192.0.2.2").value(),
                    .ips = {Ip("10.0.0.9"), Ip("2001:db8:1::9")},
                    .key = "e9"}};
  state.ports = {port("ep1", "vm1", "02:00:00:00:01:01", {Ip("10.0.0.5"), Ip("2001:db8:1::5")}),
                 port("ep2", "vm2", "02:00:00:00:01:02", {Ip("10.0.0.6")}),
                 port("ep3", "vm3", "02:00:00:00:01:03", {Ip("10.0.1.7")}, 43)};
  return state;
}

// udhcpc's script: applies a bound lease, then logs the event with what the server gave.
std::string WriteScript(const std::string& dir) {
  std::string path = dir + "/udhcpc.sh";
  std::ofstream script(path);
  script << "#!/bin/sh\n"
         << "case \"$1\" in\n"
         << "  bound) ip addr add \"$ip/$subnet\" dev \"$interface\";"
            " [ -n \"$mtu\" ] && ip link set \"$interface\" mtu \"$mtu\" ;;\n"
         << "esac\n"
         << "echo \"$1 ip=$ip subnet=$subnet router=$router dns=$dns mtu=$mtu "
            "serverid=$serverid lease=$lease\" >> "
         << dir << "/udhcpc.log\n";
  script.close();
  ::chmod(path.c_str(), 0755);
  return path;
}

// Sends a router solicitation from eth0 and prints the advertisement that answers it:
// "RA <source> <router lifetime> <mtu> <prefix>/<length> <autonomous>", or "none".
constexpr const char* kSolicit = R"(
import sys
from scapy.all import AsyncSniffer, Ether, IPv6, ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, sendp, conf
import time
conf.verb = 0
mac = '02:00:00:00:01:01'
sniffer = AsyncSniffer(iface='eth0', count=1, timeout=5,
                       lfilter=lambda p: ICMPv6ND_RA in p and p[IPv6].dst != 'ff02::1')
sniffer.start()
time.sleep(0.5)
sendp(Ether(src=mac, dst='33:33:00:00:00:02') / IPv6(src='fe80::ff:fe00:101', dst='ff02::2', hlim=255) /
      ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=mac), iface='eth0')
sniffer.join()
if not sniffer.results:
    print('none')
    sys.exit(0)
p = sniffer.results[0]
ra = p[ICMPv6ND_RA]
prefix = p[ICMPv6NDOptPrefixInfo]
print('RA', p[IPv6].src, p[Ether].src, ra.routerlifetime, p[ICMPv6NDOptMTU].mtu,
      '%s/%d' % (prefix.prefix, prefix.prefixlen), prefix.A)
)";

TEST(PortServicesRootTest, AStockClientGetsItsLeaseAndRenewsAndAnRsGetsTheRoutersRa) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    char dir_template[] = "/tmp/dove-kdhcp-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    VmNamespace vm;
    ASSERT_TRUE(vm.valid());
    Shell(
        "ip link add u0 type veth peer name u0p && ip addr add 192.0.2.1/24 dev u0 && "
        "ip link set u0 up && ip link set u0p up && "
        "ip neigh add 192.0.2.2 lladdr 02:00:00:00:99:02 dev u0 nud permanent");
    Shell("ip link add vm1 type veth peer name eth0 && ip link set eth0 netns " + vm.pid());
    Shell(vm.In("ip link set eth0 address 02:00:00:00:01:01") + " && " +
          vm.In("ip link set eth0 up") + " && " + vm.In("ip link set lo up"));
    Shell(
        "ip link add vm2 type veth peer name vm2p && ip link set vm2p address 02:00:00:00:01:02 "
        "&& sysctl -qw net.ipv6.conf.vm2p.disable_ipv6=1 && ip link set vm2p up");
    Shell(
        "ip link add vm3 type veth peer name vm3p && ip link set vm3p address 02:00:00:00:01:03 "
        "&& sysctl -qw net.ipv6.conf.vm3p.disable_ipv6=1 && ip link set vm3p up");

    auto links = RtnlLinkOps::Open();
    auto misses = ListenerMissSource::Open();
    auto rtnl = netlink::Rtnl::Open();
    auto rules = RouteRules::Open();
    auto nft = NftSession::Open();
    ASSERT_TRUE(links && misses && rtnl && rules && nft);
    HostRouting routing(**rtnl, **rules, **nft);
    NullResolver resolver;
    KernelOptions options;
    options.tunnel_ip = net::Ipv4Address::Parse("192.0.2.1").value();
    options.routing = &routing;
    auto backend = KernelBackend::Create(options, **links, **misses, resolver);
    ASSERT_TRUE(backend) << backend.error();
    (*backend)->Apply(State());
    std::thread loop([&] { (*backend)->Run(); });
    auto counter = [&](const std::string& name) {
      const auto status = (*backend)->Status();
      const auto found = status.counters.find(name);
      return found == status.counters.end() ? uint64_t{0} : found->second;
    };
    ASSERT_TRUE(WaitFor([&] {
      const auto status = (*backend)->Status();
      return status.ports.size() == 3 && status.ports[0].open && status.ports[1].open &&
             status.ports[2].open;
    }));

    {
      Capture other_port("vm2", "udp or icmp", dir + "/vm2.pcap");
      Capture underlay("u0", "udp port 4789", dir + "/u0.pcap");
      const std::string script = WriteScript(dir);
      Shell(vm.In("busybox udhcpc -i eth0 -f -t 5 -T 1 -p " + dir + "/udhcpc.pid -s " + script) +
            " >" + dir + "/udhcpc.out 2>&1 &");
      ASSERT_TRUE(WaitFor([&] {
        return ReadAll(dir + "/udhcpc.log").find("bound ") != std::string::npos;
      })) << ReadAll(dir + "/udhcpc.out");
      const std::string log = ReadAll(dir + "/udhcpc.log");
      EXPECT_THAT(log, HasSubstr("bound ip=10.0.0.5 subnet=255.255.255.0 router=10.0.0.1 "
                                 "dns=10.0.0.53 10.0.0.54 mtu=1450 serverid=10.0.0.1 lease=3600"));
      // (Not /sys: nsenter -n keeps this process's sysfs, which shows its own namespace.)
      EXPECT_THAT(Output(vm.In("ip -o link show dev eth0")), HasSubstr(" mtu 1450 "));
      EXPECT_THAT(Output(vm.In("ip -4 addr show dev eth0")), HasSubstr("inet 10.0.0.5/24"));

      // A renewal: udhcpc unicasts a REQUEST for its address to the server (SIGUSR1).
      Shell("kill -USR1 $(cat " + dir + "/udhcpc.pid)");
      EXPECT_TRUE(WaitFor([&] {
        return ReadAll(dir + "/udhcpc.log").find("renew ip=10.0.0.5 ") != std::string::npos;
      })) << ReadAll(dir + "/udhcpc.log")
          << ReadAll(dir + "/udhcpc.out");
      (void)std::system(("kill $(cat " + dir + "/udhcpc.pid) 2>/dev/null").c_str());

      // The positive control: a broadcast the bridge floods, seen on both captures.
      (void)std::system(vm.In("ping -b -c 2 -W 1 10.0.0.255 >/dev/null 2>&1").c_str());
      EXPECT_GE(other_port.Count("icmp"), 2) << "the capture on the other port sees the flood";
      EXPECT_EQ(other_port.Count("udp dst port 67"), 0) << "no DHCP request reached another port";
      EXPECT_GE(underlay.Count(std::string(kInnerIpv4) + " and " + kInnerIcmp), 2)
          << "the capture on the underlay sees the flood";
      EXPECT_EQ(underlay.Count(std::string(kInnerIpv4) + " and " + kInnerDhcp), 0)
          << "no DHCP request went into the tunnel";
    }
    EXPECT_EQ(counter("dhcp.discover"), 1U);
    EXPECT_EQ(counter("dhcp.offer"), 1U);
    EXPECT_GE(counter("dhcp.request"), 2U) << "the selecting one and the renewal";
    EXPECT_EQ(counter("dhcp.ack"), counter("dhcp.request"));
    EXPECT_EQ(counter("dhcp.nak"), 0U);
    // Every request the switch answered is one the bridge dropped, and no other.
    const uint64_t requests = counter("dhcp.discover") + counter("dhcp.request") +
                              counter("dhcp.release") + counter("dhcp.decline") +
                              counter("dhcp.inform");
    EXPECT_THAT(Output("nft list counter netdev dove port_vm1_dhcp_taken"),
                HasSubstr("packets " + std::to_string(requests) + " "));

    // A router solicitation gets the router's advertisement, to the soliciting VM.
    const std::string script = dir + "/solicit.py";
    std::ofstream(script) << kSolicit;
    const std::string ra = Output(vm.In("/usr/bin/python3 " + script));
    EXPECT_EQ(ra, "RA fe80::ff:fe00:aa 02:00:00:00:00:aa 1800 1450 2001:db8:1::/64 0\n");
    EXPECT_GE(counter("ra.solicitations"), 1U);
    EXPECT_GE(counter("ra.advertisements"), 2U) << "the answer and the one when the port opened";
    EXPECT_GE(counter("ra.unsolicited"), 2U) << "one to each port with IPv6 when it opened";
    EXPECT_EQ(counter("services.bad_mac"), 0U);
    EXPECT_EQ(counter("kernel_services_errors"), 0U);

    // MTU: a VM whose eth0 is bigger than the overlay sends a packet with DF to a remote VM;
    // the kernel's tunnel PMTU check answers it (the userspace backend's MtuGuard would), and
    // the VM's kernel learns the path MTU. IPv6 likewise, with packet too big.
    Shell(vm.In("ip link set eth0 mtu 1500") + " && " +
          vm.In("ip neigh replace 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0") + " && " +
          vm.In("ip -6 addr add 2001:db8:1::5/64 dev eth0 nodad") + " && " +
          vm.In("ip -6 neigh replace 2001:db8:1::9 lladdr 02:00:00:00:00:09 dev eth0"));
    EXPECT_THAT(Output(vm.In("ping -n -c 1 -W 1 -M do -s 1472 10.0.0.9 2>&1")),
                HasSubstr("Frag needed and DF set (mtu = 1450)"));
    EXPECT_THAT(Output(vm.In("ip route get 10.0.0.9")), HasSubstr("mtu 1450"));
    EXPECT_THAT(Output(vm.In("ping -n -c 1 -W 1 -M do -s 1452 2001:db8:1::9 2>&1")),
                HasSubstr("Packet too big: mtu=1450"));
    // Routed (to the gateway's MAC, toward network 43): the kernel's forwarding answers from
    // the gateway, against the bridge's overlay MTU.
    Shell(vm.In("ip route add 10.0.1.0/24 via 10.0.0.1 dev eth0"));
    EXPECT_THAT(Output(vm.In("ping -n -c 1 -W 1 -M do -s 1472 10.0.1.7 2>&1")),
                HasSubstr("From 10.0.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)"));

    (*backend)->Stop();
    loop.join();
    (*backend)->Shutdown();
    (void)std::system(("rm -rf " + dir).c_str());
  });
}

// The filter passes exactly what the stages take: attached to a datagram socket pair (no
// root needed), only those frames come through.
TEST(PortServicesTest, TheFilterPassesDhcpRequestsAndRouterSolicitationsOnly) {
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, pair.data()), 0);
  io::FileDescriptor sender(pair[0]);
  io::FileDescriptor receiver(pair[1]);
  ASSERT_TRUE(AttachServiceFilter(receiver.get()));
  auto frame = [](uint16_t ether_type) {
    std::vector<uint8_t> bytes(80, 0);
    bytes[12] = static_cast<uint8_t>(ether_type >> 8);
    bytes[13] = static_cast<uint8_t>(ether_type);
    return bytes;
  };
  auto udp = [&](uint16_t port, uint16_t fragment) {
    auto bytes = frame(0x0800);
    bytes[14] = 0x45;
    bytes[20] = static_cast<uint8_t>(fragment >> 8);
    bytes[21] = static_cast<uint8_t>(fragment);
    bytes[23] = 17;
    bytes[36] = static_cast<uint8_t>(port >> 8);
    bytes[37] = static_cast<uint8_t>(port);
    return bytes;
  };
  auto icmpv6 = [&](uint8_t type, uint8_t next_header) {
    auto bytes = frame(0x86dd);
    bytes[20] = next_header;
    bytes[54] = type;
    return bytes;
  };
  auto passes = [&](const std::vector<uint8_t>& bytes) {
    EXPECT_EQ(::send(sender.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
    std::array<uint8_t, 128> got{};
    return ::recv(receiver.get(), got.data(), got.size(), 0) > 0;
  };
  EXPECT_TRUE(passes(udp(67, 0x4000))) << "DHCP, DF set";
  EXPECT_FALSE(passes(udp(68, 0)));
  EXPECT_FALSE(passes(udp(67, 0x2000))) << "a first fragment";
  EXPECT_FALSE(passes(udp(67, 0x0001))) << "a later fragment";
  EXPECT_TRUE(passes(icmpv6(133, 58))) << "RS";
  EXPECT_TRUE(passes(icmpv6(134, 58))) << "RA: the advertiser drops it as ra_from_port";
  EXPECT_FALSE(passes(icmpv6(135, 58))) << "NS";
  EXPECT_FALSE(passes(icmpv6(133, 0))) << "behind a hop-by-hop header";
  EXPECT_FALSE(passes(frame(0x0806))) << "ARP";
}

}  // namespace
}  // namespace dove::dswitch::kernel
