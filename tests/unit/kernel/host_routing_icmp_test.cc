// HostRouting's answers on one host, checked with the tools a tenant would use: IPv6 routing
// between a domain's networks without neighbour entries written for the VMs, REJECT's ICMP
// administratively prohibited (and its counter), traceroute through the gateway, TTL expiry and
// "no route" answered from the sender's gateway, and policies changed while traffic flows.
//
// The host: domain t with web (VNI 42: 10.1.0.0/24, 2001:db8:1::/64), db (43: 10.2.0.0/24,
// 2001:db8:2::/64) and app (44: 10.3.0.0/24, 2001:db8:3::/64) on three bridges; domain u with
// the same web and db subnets on 52 and 53. The VMs resolve their gateway and the host
// resolves them by ARP / ND, as with the kernel backend's L2 part.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "dswitch/kernel/host_routing.h"
#include "dswitch/kernel/nft_ruleset.h"
#include "unit/io/network_namespace.h"
#include "unit/kernel/routing_lab.h"

namespace dove::dswitch::kernel {
namespace {

using dove::dswitch::io::testing::RunInNetworkNamespace;
using dove::dswitch::io::testing::Shell;
using pipeline::PolicyRule;
using testing::ApplyHere;
using testing::Cat;
using testing::InNamedNamespace;
using testing::Output;
using testing::Packets;
using testing::Succeeds;
using testing::Vm;
using Action = PolicyRule::Action;
using namespace std::chrono_literals;

net::IpPrefix Prefix(const char* text) { return *net::IpPrefix::Parse(text); }
net::IpAddress Ip(const char* text) { return *net::IpAddress::Parse(text); }
net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

constexpr const char* kRouterT = "02:00:00:00:00:aa";
constexpr const char* kRouterU = "02:00:00:00:00:bb";

PolicyRule Rule(std::string id, uint32_t from, uint32_t to, Action action, uint8_t protocol,
                uint16_t port = 0) {
  return {.id = std::move(id),
          .source_vni = from,
          .destination_vni = to,
          .action = action,
          .protocol = protocol,
          .first_port = port,
          .last_port = port,
          .priority = 10};
}

// The plan of domain t (with `extra_t` added to its policies) and, with `tenant_u`, of u.
RoutePlan Plan(const std::vector<PolicyRule>& extra_t = {}, bool tenant_u = true) {
  std::vector<PolicyRule> t = {Rule("t-icmp", 42, 43, Action::kAllow, 1),
                               Rule("t-icmp6", 42, 43, Action::kAllow, 58),
                               Rule("t-web", 42, 43, Action::kAllow, 6, 8080),
                               Rule("t-back", 43, 42, Action::kAllow, 1),
                               Rule("t-back6", 43, 42, Action::kAllow, 58),
                               Rule("t-reject", 42, 44, Action::kReject, 6, 9999)};
  t.insert(t.end(), extra_t.begin(), extra_t.end());
  const std::vector<PolicyRule> u = {Rule("u-web", 52, 53, Action::kAllow, 6, 8080)};
  const std::vector<pipeline::Route> routes_t = {
      {Prefix("10.1.0.0/24"), Ip("10.1.0.1"), 42},
      {Prefix("2001:db8:1::/64"), Ip("2001:db8:1::1"), 42},
      {Prefix("10.2.0.0/24"), Ip("10.2.0.1"), 43},
      {Prefix("2001:db8:2::/64"), Ip("2001:db8:2::1"), 43},
      {Prefix("10.3.0.0/24"), Ip("10.3.0.1"), 44},
      {Prefix("2001:db8:3::/64"), Ip("2001:db8:3::1"), 44}};
  const std::vector<pipeline::Route> routes_u = {{Prefix("10.1.0.0/24"), Ip("10.1.0.1"), 52},
                                                 {Prefix("10.2.0.0/24"), Ip("10.2.0.1"), 53}};
  std::vector<pipeline::NetworkSettings> networks;
  auto add = [&](uint32_t vni, const char* router_mac, const std::vector<pipeline::Route>& routes,
                 const std::vector<PolicyRule>& policies) {
    pipeline::NetworkSettings network;
    network.vni = vni;
    network.router_mac = Mac(router_mac);
    network.routes = routes;
    network.policies = policies;
    networks.push_back(std::move(network));
  };
  for (const uint32_t vni : {42, 43, 44}) add(vni, kRouterT, routes_t, t);
  if (tenant_u) {
    for (const uint32_t vni : {52, 53}) add(vni, kRouterU, routes_u, u);
  }
  return PlanRoutes(networks, {});
}

// The IPv6 settings dove-lab gives a dove-kernel host (src/lab/lab.cc): IPv6 off on what
// exists (lo included), on for devices made later but without link-local address, DAD or
// router advertisements. `netns`: the host's namespace, "" for the current one.
void LikeTheLab(const std::string& netns) {
  const std::string exec = netns.empty() ? "" : "ip netns exec " + netns + " ";
  Shell(exec + "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
  Shell(exec +
        "sysctl -qw net.ipv6.conf.default.disable_ipv6=0 "
        "net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.default.accept_dad=0 "
        "net.ipv6.conf.default.accept_ra=0");
}

// The host with its bridges and VMs, and HostRouting applied to Plan().
class Host {
 public:
  Host() {
    LikeTheLab("");
    // An underlay with a default route: what is not a tenant's must not be routed there.
    Shell(
        "ip link add ul0 type veth peer name ul1 && ip addr add 192.0.2.1/24 dev ul0 && "
        "ip link set ul0 up && ip link set ul1 up && ip route add default via 192.0.2.254");
    for (const char* vni : {"42", "43", "44", "52", "53"}) {
      const char* mac = vni[0] == '4' ? kRouterT : kRouterU;
      Shell(std::string("ip link add dvb") + vni + " type bridge && ip link set dvb" + vni +
            " address " + mac + " up");
    }
    w1_ = std::make_unique<Vm>("w1", "dvb42", "02:00:00:00:01:11",
                               std::vector<std::string>{"10.1.0.11/24", "2001:db8:1::11/64"},
                               "10.1.0.1", "2001:db8:1::1", false);
    d1_ = std::make_unique<Vm>("d1", "dvb43", "02:00:00:00:02:21",
                               std::vector<std::string>{"10.2.0.21/24", "2001:db8:2::21/64"},
                               "10.2.0.1", "2001:db8:2::1", false);
    a1_ = std::make_unique<Vm>("a1", "dvb44", "02:00:00:00:03:31",
                               std::vector<std::string>{"10.3.0.31/24", "2001:db8:3::31/64"},
                               "10.3.0.1", "2001:db8:3::1", false);
    uw1_ = std::make_unique<Vm>("uw1", "dvb52", "02:00:00:00:05:11",
                                std::vector<std::string>{"10.1.0.11/24"}, "10.1.0.1", "", false);
    ud1_ = std::make_unique<Vm>("ud1", "dvb53", "02:00:00:00:05:21",
                                std::vector<std::string>{"10.2.0.21/24"}, "10.2.0.1", "", false);
    for (const char* port : {"ul0", "ul1", "vw1", "vd1", "va1", "vuw1", "vud1"}) {
      Shell(std::string("sysctl -qw net.ipv6.conf.") + port + ".disable_ipv6=1");
    }
    auto rtnl = netlink::Rtnl::Open();
    auto rules = RouteRules::Open();
    auto nft = NftSession::Open();
    EXPECT_TRUE(rtnl && rules && nft);
    if (!rtnl || !rules || !nft) return;
    rtnl_ = std::move(*rtnl);
    rules_ = std::move(*rules);
    nft_ = std::move(*nft);
    routing_ = std::make_unique<HostRouting>(*rtnl_, *rules_, *nft_);
    Apply(Plan());
  }

  void Apply(const RoutePlan& plan) {
    const auto problems = routing_->Apply(plan);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }

  bool ready() const { return routing_ != nullptr; }
  NftSession& nft() { return *nft_; }
  const Vm& w1() const { return *w1_; }
  const Vm& d1() const { return *d1_; }
  const Vm& a1() const { return *a1_; }
  const Vm& uw1() const { return *uw1_; }
  const Vm& ud1() const { return *ud1_; }

 private:
  std::unique_ptr<Vm> w1_, d1_, a1_, uw1_, ud1_;
  std::unique_ptr<netlink::Rtnl> rtnl_;
  std::unique_ptr<RouteRules> rules_;
  std::unique_ptr<NftSession> nft_;
  std::unique_ptr<HostRouting> routing_;
};

TEST(HostRoutingIcmpTest, RoutesIpv6BetweenADomainsNetworksBothWays) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Host host;
    ASSERT_TRUE(host.ready());
    EXPECT_TRUE(Succeeds(host.w1().In("ping -6 -c2 -i0.2 -W2 2001:db8:1::1 >/dev/null")));
    EXPECT_TRUE(Succeeds(host.w1().In("ping -6 -c2 -i0.2 -W2 2001:db8:2::21 >/dev/null")));
    // The router's link-local address (the kernel solicits neighbours only from one), the
    // same on every host: from the domain's router MAC.
    EXPECT_NE(Output("ip -6 addr show dev dvb43").find("inet6 fe80::ff:fe00:aa/64"),
              std::string::npos);
    EXPECT_TRUE(Succeeds(host.d1().In("ping -6 -c2 -i0.2 -W2 2001:db8:1::11 >/dev/null")));
    EXPECT_TRUE(Succeeds(host.w1().In("ping -c2 -i0.2 -W2 10.2.0.21 >/dev/null")));
    Shell(host.d1().In("(echo d1 | timeout 8 nc -6 -N -l 8080 &)"));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(Output(host.w1().In("timeout 3 nc -w2 2001:db8:2::21 8080 </dev/null")), "d1\n");
    // Tenant u has no IPv6 subnet: nothing of t's answers it.
    EXPECT_FALSE(Succeeds(host.uw1().In("ping -6 -c1 -W0.5 2001:db8:2::21 >/dev/null 2>&1")));
  });
}

TEST(HostRoutingIcmpTest, RejectAnswersAdministrativelyProhibitedFromTheSendersGateway) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Host host;
    ASSERT_TRUE(host.ready());
    const std::string counter = PolicyCounterName("t-reject");
    const uint64_t rejected = Packets(host.nft(), counter);
    const std::string v4 = Output(host.w1().In(
        "/usr/bin/python3 -c \"from scapy.all import *\n"
        "r = sr1(IP(dst=\\\"10.3.0.31\\\")/TCP(sport=40999, dport=9999, flags=\\\"S\\\"), "
        "timeout=3, verbose=False)\n"
        "print(\\\"none\\\" if r is None else \\\"%s %d %d\\\" % (r[IP].src, r[ICMP].type, "
        "r[ICMP].code) if ICMP in r else \\\"other \\\" + r.summary())\" 2>&1"));
    EXPECT_EQ(v4, "10.1.0.1 3 13\n");
    const std::string v6 = Output(host.w1().In(
        "/usr/bin/python3 -c \"from scapy.all import *\n"
        "r = sr1(IPv6(dst=\\\"2001:db8:3::31\\\")/TCP(sport=40999, dport=9999, "
        "flags=\\\"S\\\"), timeout=3, verbose=False)\n"
        "print(\\\"none\\\" if r is None else \\\"%s %d %d\\\" % (r[IPv6].src, r.type, r.code) "
        "if ICMPv6DestUnreach in r else \\\"other \\\" + r.summary())\" 2>&1"));
    EXPECT_EQ(v6, "2001:db8:1::1 1 1\n") << "ICMPv6 destination unreachable, administratively "
                                            "prohibited, from w1's gateway";
    EXPECT_GE(Packets(host.nft(), counter) - rejected, 2u);
    // Another port of app: the default deny drops it silently, and counts it.
    const uint64_t denied = Packets(host.nft(), "policy_default_deny");
    EXPECT_FALSE(Succeeds(host.w1().In("nc -z -w1 10.3.0.31 9998 2>/dev/null")));
    EXPECT_GE(Packets(host.nft(), "policy_default_deny") - denied, 1u);
  });
}

TEST(HostRoutingIcmpTest, TracerouteTtlExpiryAndNoRouteAreAnsweredByTheSendersGateway) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Host host;
    ASSERT_TRUE(host.ready());
    const Vm& w1 = host.w1();
    // Resolve the neighbours first: traceroute waits 1 s a probe.
    (void)Succeeds(
        w1.In("ping -c1 -W2 10.2.0.21 >/dev/null; ping -6 -c1 -W2 2001:db8:2::21 >/dev/null"));
    const std::string trace = Output(w1.In("traceroute -n -I -q 1 -w 1 -m 4 10.2.0.21 2>&1"));
    EXPECT_TRUE(std::regex_search(trace, std::regex(R"(\n 1  10\.1\.0\.1 )"))) << trace;
    EXPECT_TRUE(std::regex_search(trace, std::regex(R"(\n 2  10\.2\.0\.21 )"))) << trace;
    const std::string trace6 =
        Output(w1.In("traceroute -6 -n -I -q 1 -w 1 -m 4 2001:db8:2::21 2>&1"));
    EXPECT_TRUE(std::regex_search(trace6, std::regex(R"(\n 1  2001:db8:1::1 )"))) << trace6;
    EXPECT_TRUE(std::regex_search(trace6, std::regex(R"(\n 2  2001:db8:2::21 )"))) << trace6;
    const std::string ttl = Output(w1.In("ping -n -c1 -W2 -t1 10.2.0.21 2>&1"));
    EXPECT_NE(ttl.find("From 10.1.0.1 icmp_seq=1 Time to live exceeded"), std::string::npos) << ttl;
    const std::string hop = Output(w1.In("ping -6 -n -c1 -W2 -t1 2001:db8:2::21 2>&1"));
    EXPECT_NE(hop.find("From 2001:db8:1::1 icmp_seq=1 Time exceeded: Hop limit"), std::string::npos)
        << hop;
    // No subnet of the domain: "no route" from the gateway, never the host's default route.
    const std::string net = Output(w1.In("ping -n -c1 -W2 10.9.9.9 2>&1"));
    EXPECT_NE(net.find("From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"), std::string::npos)
        << net;
    const std::string net6 = Output(w1.In("ping -6 -n -c1 -W2 2001:db8:9::9 2>&1"));
    EXPECT_NE(net6.find("From 2001:db8:1::1 icmp_seq=1 Destination unreachable: No route"),
              std::string::npos)
        << net6;
    // Tenant u's 10.3.0.31 is in no subnet of u (t has it).
    const std::string other = Output(host.uw1().In("ping -n -c1 -W2 10.3.0.31 2>&1"));
    EXPECT_NE(other.find("From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"), std::string::npos)
        << other;
    // The same without the host's default route: the kernel itself finds no route. (The
    // kernel limits its ICMP errors per destination: 10.1.0.11, w1 and uw1 alike, gets ~6 at
    // once, then one a second.)
    Shell("ip route del default");
    const std::string bare = Output(w1.In("ping -n -c1 -W2 10.9.9.9 2>&1"));
    EXPECT_NE(bare.find("From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"), std::string::npos)
        << bare;
  });
}

// w1 pings a1 every 50 ms (default deny); an allow of ICMP web -> app is added after 1 s and
// removed 1.5 s later: replies come within 0.5 s of the add and stop within 0.2 s of the
// removal, the flow already allowed included.
TEST(HostRoutingIcmpTest, APolicyAddedAndRemovedWhileTrafficFlowsTakesEffectAtOnce) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Host host;
    ASSERT_TRUE(host.ready());
    (void)Succeeds(host.a1().In("ping -c1 -W1 10.3.0.1 >/dev/null"));
    std::string pings;
    std::thread pinger(
        [&] { pings = Output(host.w1().In("ping -n -D -i 0.05 -c 80 -W 1 10.3.0.31 2>&1")); });
    const auto now = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    std::this_thread::sleep_for(1000ms);
    // Taken before the call: the allow may pass packets before Apply returns.
    const double added = now();
    host.Apply(Plan({Rule("t-app-icmp", 42, 44, Action::kAllow, 1)}));
    std::this_thread::sleep_for(1500ms);
    host.Apply(Plan());
    const double removed = now();
    pinger.join();
    static const std::regex kReply(R"(\[([0-9.]+)\] [0-9]+ bytes from 10\.3\.0\.31)");
    int before = 0;
    int during = 0;
    int after = 0;
    for (auto it = std::sregex_iterator(pings.begin(), pings.end(), kReply);
         it != std::sregex_iterator(); ++it) {
      const double at = std::stod((*it)[1].str());
      if (at < added) {
        ++before;
      } else if (at < removed + 0.2) {
        ++during;
      } else {
        ++after;
      }
    }
    std::printf("replies: %d before the allow, %d while it existed (1.5 s at 20/s), %d after\n",
                before, during, after);
    EXPECT_EQ(before, 0) << pings;
    EXPECT_GE(during, 20) << pings;
    EXPECT_EQ(after, 0) << pings;
  });
}

// A TCP flow allowed web -> db: when its allow goes, the server's side (the replies) stops
// too, not only the client's (conntrack entries tagged with a removed allow pass no more).
TEST(HostRoutingIcmpTest, RemovingAnAllowStopsTheRepliesOfItsFlowsToo) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Host host;
    ASSERT_TRUE(host.ready());
    host.Apply(Plan({Rule("t-7001", 42, 43, Action::kAllow, 6, 7001)}));
    // Neighbours resolved first (nobody answers the kernel's app_solicit here: the first
    // resolution waits ~1 s).
    EXPECT_TRUE(Succeeds(host.w1().In("ping -c1 -W3 10.2.0.21 >/dev/null")));
    // d1 sends a line every 100 ms for 3 s on the connection w1 opens.
    Shell(
        host.d1().In("(for i in $(seq 30); do echo $i; sleep 0.1; done | timeout 8 nc -N -l 7001 "
                     ">/dev/null &)"));
    std::this_thread::sleep_for(300ms);
    std::string lines;
    std::thread client(
        [&] { lines = Output(host.w1().In("nc -w2 10.2.0.21 7001 </dev/null 2>&1")); });
    std::this_thread::sleep_for(1000ms);
    host.Apply(Plan());
    client.join();
    const auto received = std::count(lines.begin(), lines.end(), '\n');
    std::printf("w1 got %ld of the 30 lines; the allow went after ~1 s\n",
                static_cast<long>(received));
    EXPECT_GE(received, 5) << "the flow passed while allowed: " << lines;
    EXPECT_LE(received, 20) << "the server's lines stopped with the allow: " << lines;
  });
}

// Two hosts, as the kernel backend's L2 part makes them: w1 on host 1 (web), d1 on host 2 (db);
// host 1 routes into db through its bridge and a vxlan device with `proxy`, which answers
// ARP and ND from the neighbour entries of the remote VM (written here as the L2 part would);
// host 2 routes the answers back into web. IPv4 and IPv6, both ways.
TEST(HostRoutingIcmpTest, RoutesBothFamiliesAcrossHostsThroughTheVxlanProxy) {
  DOVE_SKIP_UNLESS_ROOT();
  if (::access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) != 0) {
    GTEST_SKIP() << "needs br_netfilter (modprobe br_netfilter)";
  }
  RunInNetworkNamespace([] {
    const std::string host2 = "kr" + std::to_string(::getpid()) + "h2";
    Shell("ip netns add " + host2);
    struct Cleanup {
      std::string netns;
      ~Cleanup() { (void)std::system(("ip netns del " + netns + " 2>/dev/null").c_str()); }
    } cleanup{host2};
    LikeTheLab("");
    LikeTheLab(host2);
    const std::string on2 = "ip -n " + host2 + " ";
    Shell("ip link add u0 type veth peer name u0 netns " + host2);
    Shell("ip addr add 192.0.2.1/24 dev u0 && ip link set u0 up");
    Shell(on2 + "addr add 192.0.2.2/24 dev u0 && " + on2 + "link set u0 up && " + on2 +
          "link set lo up");
    for (const std::string vni : {"42", "43"}) {
      for (const auto& [ip, local] :
           {std::pair<std::string, std::string>{"ip ", "192.0.2.1"}, {on2, "192.0.2.2"}}) {
        Shell(Cat({ip, "link add dvb", vni, " type bridge && ", ip, "link set dvb", vni,
                   " address ", kRouterT, " up"}));
        Shell(Cat({ip, "link add dvx", vni, " type vxlan id ", vni, " dstport 4789 local ", local,
                   " dev u0 nolearning proxy l2miss l3miss && ", ip, "link set dvx", vni,
                   " master dvb", vni, " up"}));
      }
    }
    for (const std::string& ip : {std::string("ip "), on2}) {
      Shell(Cat(
          {ip, "link add dvb44 type bridge && ", ip, "link set dvb44 address ", kRouterT, " up"}));
    }
    const Vm w1("w1", "dvb42", "02:00:00:00:01:11", {"10.1.0.11/24", "2001:db8:1::11/64"},
                "10.1.0.1", "2001:db8:1::1", false);
    // d1 sits on host 2: its port is made in the host namespace, then moved there.
    const Vm d1("d1", "dvb43", "02:00:00:00:02:21", {"10.2.0.21/24", "2001:db8:2::21/64"},
                "10.2.0.1", "2001:db8:2::1", false);
    Shell("ip link set " + d1.port() + " netns " + host2);
    Shell(on2 + "link set " + d1.port() + " master dvb43 up");
    Shell("sysctl -qw net.ipv6.conf.u0.disable_ipv6=1 net.ipv6.conf.vw1.disable_ipv6=1");
    Shell("ip netns exec " + host2 + " sysctl -qw net.ipv6.conf.u0.disable_ipv6=1 net.ipv6.conf." +
          d1.port() + ".disable_ipv6=1");
    // The L2 part's entries for the remote VMs.
    const auto remote = [](const std::string& bridge_cmd, const std::string& ip_cmd,
                           const std::string& vxlan, const std::string& mac,
                           const std::string& tunnel, const std::vector<std::string>& ips) {
      Shell(bridge_cmd + "fdb add " + mac + " dev " + vxlan + " dst " + tunnel + " self permanent");
      for (const auto& ip : ips) {
        Shell(
            Cat({ip_cmd, "neigh replace ", ip, " lladdr ", mac, " dev ", vxlan, " nud permanent"}));
      }
    };
    remote("bridge ", "ip ", "dvx43", "02:00:00:00:02:21", "192.0.2.2",
           {"10.2.0.21", "2001:db8:2::21"});
    remote("bridge -n " + host2 + " ", on2, "dvx42", "02:00:00:00:01:11", "192.0.2.1",
           {"10.1.0.11", "2001:db8:1::11"});

    // Each host lists the other as a peer of every network (the underlay guard takes only
    // the VXLAN of peers, underlay_guard.h).
    const auto with_peer = [](RoutePlan plan, const char* peer) {
      for (auto& vni : plan.underlay.vnis) AddPeers(vni, {*net::Ipv4Address::Parse(peer)});
      return plan;
    };
    const RoutePlan plan1 = with_peer(Plan({}, false), "192.0.2.2");
    const RoutePlan plan2 = with_peer(Plan({}, false), "192.0.2.1");
    ASSERT_TRUE(ApplyHere(plan1));
    ASSERT_TRUE(InNamedNamespace(host2, [&] { return ApplyHere(plan2); }));
    EXPECT_TRUE(Succeeds(w1.In("ping -c2 -i0.2 -W2 10.2.0.21 >/dev/null")));
    EXPECT_TRUE(Succeeds(w1.In("ping -6 -c2 -i0.2 -W2 2001:db8:2::21 >/dev/null")));
    EXPECT_TRUE(Succeeds(d1.In("ping -c2 -i0.2 -W2 10.1.0.11 >/dev/null")));
    EXPECT_TRUE(Succeeds(d1.In("ping -6 -c2 -i0.2 -W2 2001:db8:1::11 >/dev/null")));
    Shell(d1.In("(echo d1 | timeout 8 nc -6 -N -l 8080 &)"));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(Output(w1.In("timeout 3 nc -w2 2001:db8:2::21 8080 </dev/null")), "d1\n");
  });
}

}  // namespace
}  // namespace dove::dswitch::kernel
