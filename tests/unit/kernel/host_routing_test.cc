// HostRouting end to end on one host: a namespace with the bridges the kernel backend's L2
// part would make, VMs in namespaces of their own on veth ports, two domains with the SAME
// subnets, and real traffic (ping, nc) through the kernel's routing, rules and nftables.
#include "dswitch/kernel/host_routing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

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

net::IpPrefix Prefix(const char* text) { return *net::IpPrefix::Parse(text); }
net::IpAddress Ip(const char* text) { return *net::IpAddress::Parse(text); }
net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

std::vector<pipeline::Route> Routes(uint32_t first_vni) {
  return {{Prefix("10.0.0.0/24"), Ip("10.0.0.1"), first_vni},
          {Prefix("2001:db8:a::/64"), Ip("2001:db8:a::1"), first_vni},
          {Prefix("10.0.1.0/24"), Ip("10.0.1.1"), first_vni + 1},
          {Prefix("2001:db8:b::/64"), Ip("2001:db8:b::1"), first_vni + 1}};
}

pipeline::NetworkSettings Network(uint32_t vni, uint32_t first_vni, const char* router_mac,
                                  std::vector<PolicyRule> policies) {
  pipeline::NetworkSettings network;
  network.vni = vni;
  network.router_mac = Mac(router_mac);
  network.routes = Routes(first_vni);
  network.policies = std::move(policies);
  return network;
}

PolicyRule Rule(std::string id, uint32_t from, Action action, uint8_t protocol, uint16_t port,
                uint32_t priority) {
  return {.id = std::move(id),
          .source_vni = from,
          .destination_vni = from + 1,
          .action = action,
          .protocol = protocol,
          .first_port = port,
          .last_port = port,
          .priority = priority};
}

// Domain A: web 42 -> db 43 allows ICMP, ICMPv6 and TCP 8080, rejects TCP 8081. Domain B: the
// same subnets on 52 and 53, TCP 8080 allowed. Nothing allowed db -> web.
RoutePlan Plan(const std::vector<PortPlan>& ports) {
  const std::vector<PolicyRule> a = {Rule("a-icmp", 42, Action::kAllow, 1, 0, 1),
                                     Rule("a-icmp6", 42, Action::kAllow, 58, 0, 1),
                                     Rule("a-web", 42, Action::kAllow, 6, 8080, 10),
                                     Rule("a-8081", 42, Action::kReject, 6, 8081, 10)};
  const std::vector<PolicyRule> b = {Rule("b-web", 52, Action::kAllow, 6, 8080, 10)};
  return PlanRoutes(
      {Network(42, 42, "02:00:00:00:00:aa", a), Network(43, 42, "02:00:00:00:00:aa", a),
       Network(52, 52, "02:00:00:00:00:bb", b), Network(53, 52, "02:00:00:00:00:bb", b)},
      ports);
}

TEST(HostRoutingTest, RoutesInsideEachDomainUnderItsPolicyAndRemovesCleanly) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const std::string rules_before = Output("ip rule; ip -6 rule");
    const std::string forward_before = Output("sysctl -n net.ipv4.ip_forward");
    // The host's own address: tenants must never reach it.
    Shell(
        "ip link add under0 type veth peer name under1 && ip addr add 192.0.2.1/24 dev under0 && "
        "ip link set under0 up");
    for (const char* vni : {"42", "43", "52", "53"}) {
      const std::string mac = vni[0] == '4' ? "02:00:00:00:00:aa" : "02:00:00:00:00:bb";
      Shell(std::string("ip link add dvb") + vni + " type bridge && ip link set dvb" + vni +
            " address " + mac + " up");
    }
    const std::string routes_before = Output("ip -4 route show table all");
    const std::string nft_before = Output("nft list ruleset");

    Vm a1("a1", "dvb42", "02:00:00:00:01:01", {"10.0.0.5/24", "2001:db8:a::5/64"}, "10.0.0.1",
          "2001:db8:a::1");
    Vm a2("a2", "dvb43", "02:00:00:00:01:02", {"10.0.1.5/24", "2001:db8:b::5/64"}, "10.0.1.1",
          "2001:db8:b::1");
    Vm b1("b1", "dvb52", "02:00:00:00:02:01", {"10.0.0.5/24"}, "10.0.0.1", "");
    Vm b2("b2", "dvb53", "02:00:00:00:02:02", {"10.0.1.5/24"}, "10.0.1.1", "");
    const std::vector<PortPlan> ports = {
        {a1.port(), 42, Mac("02:00:00:00:01:01"), {Ip("10.0.0.5"), Ip("2001:db8:a::5")}},
        {a2.port(), 43, Mac("02:00:00:00:01:02"), {Ip("10.0.1.5"), Ip("2001:db8:b::5")}},
        {b1.port(), 52, Mac("02:00:00:00:02:01"), {Ip("10.0.0.5")}},
        {b2.port(), 53, Mac("02:00:00:00:02:02"), {Ip("10.0.1.5")}}};

    auto rtnl = netlink::Rtnl::Open();
    ASSERT_TRUE(rtnl) << rtnl.error().message;
    auto rules = RouteRules::Open();
    ASSERT_TRUE(rules) << rules.error();
    auto nft = NftSession::Open();
    ASSERT_TRUE(nft) << nft.error();
    HostRouting routing(**rtnl, **rules, **nft);
    const RoutePlan plan = Plan(ports);
    auto problems = routing.Apply(plan);
    EXPECT_TRUE(problems.empty()) << problems.front();
    problems = routing.Apply(plan);
    EXPECT_TRUE(problems.empty()) << "applying again changes nothing: " << problems.front();

    // The gateways answer, IPv4 and IPv6; routing inside a domain under its policy.
    EXPECT_TRUE(Succeeds(a1.In("ping -c1 -W2 10.0.0.1 >/dev/null")));
    EXPECT_TRUE(Succeeds(a1.In("ping -6 -c1 -W2 2001:db8:a::1 >/dev/null")));
    EXPECT_TRUE(Succeeds(a1.In("ping -c1 -W3 10.0.1.5 >/dev/null"))) << "web -> db ICMP allowed";
    EXPECT_TRUE(Succeeds(a1.In("ping -6 -c1 -W3 2001:db8:b::5 >/dev/null")));
    const uint64_t denied_before = Packets(**nft, "policy_default_deny");
    EXPECT_FALSE(Succeeds(a2.In("ping -c1 -W0.4 10.0.0.5 >/dev/null")))
        << "db -> web: default deny";
    EXPECT_GT(Packets(**nft, "policy_default_deny"), denied_before);
    EXPECT_FALSE(Succeeds(b1.In("ping -c1 -W0.4 10.0.1.5 >/dev/null"))) << "B allows no ICMP";

    // TCP 8080 reaches the VM of its own domain; 8081 is rejected; 8082 is dropped.
    Shell(a2.In("(echo a2 | timeout 8 nc -N -l 8080 &) ; (echo a2 | timeout 8 nc -N -l 8082 &)"));
    Shell(b2.In("(echo b2 | timeout 8 nc -N -l 8080 &)"));
    ::usleep(300'000);
    EXPECT_EQ(Output(a1.In("timeout 3 nc -w2 10.0.1.5 8080 </dev/null")), "a2\n");
    EXPECT_EQ(Output(b1.In("timeout 3 nc -w2 10.0.1.5 8080 </dev/null")), "b2\n");
    const std::string rejected = Output(a1.In("timeout 3 nc -v -w2 10.0.1.5 8081 </dev/null 2>&1"));
    EXPECT_NE(rejected.find("No route to host"), std::string::npos)
        << "admin-prohibited makes connect fail with EHOSTUNREACH: " << rejected;
    EXPECT_GE(Packets(**nft, PolicyCounterName("a-8081")), 1u);
    EXPECT_FALSE(Succeeds(a1.In("timeout 0.6 nc -w1 10.0.1.5 8082 </dev/null >/dev/null 2>&1")));
    const std::string unreachable = Output(a1.In("ping -c1 -W2 10.0.9.9 2>&1"));
    EXPECT_NE(unreachable.find("Unreachable"), std::string::npos) << unreachable;

    // Tenants never reach the host's own addresses.
    const uint64_t to_host = Packets(**nft, "to_host");
    EXPECT_FALSE(Succeeds(a1.In("ping -c1 -W0.4 192.0.2.1 >/dev/null")));
    EXPECT_FALSE(Succeeds(a1.In("timeout 0.6 nc -w1 10.0.0.1 22 </dev/null >/dev/null 2>&1")));
    EXPECT_GT(Packets(**nft, "to_host"), to_host);

    // Port security: a foreign source IP, then a foreign MAC, are dropped and counted.
    Shell(a1.In("ip addr add 10.0.0.9/32 dev eth0"));
    EXPECT_FALSE(Succeeds(a1.In("ping -c1 -W0.4 -I 10.0.0.9 10.0.0.1 >/dev/null")));
    EXPECT_GE(Packets(**nft, PortCounterName(a1.port(), "bad_ip")), 1u);
    Shell(a1.In("ip link set eth0 address 02:00:00:00:01:99"));
    EXPECT_FALSE(Succeeds(a1.In("ping -c1 -W0.4 10.0.1.5 >/dev/null")));
    EXPECT_GE(Packets(**nft, PortCounterName(a1.port(), "bad_mac")), 1u);

    problems = routing.Apply(RoutePlan{});
    EXPECT_TRUE(problems.empty()) << "an empty plan removes everything: " << problems.front();
    EXPECT_EQ(Output("ip rule; ip -6 rule"), rules_before);
    EXPECT_EQ(Output("nft list ruleset"), nft_before);
    EXPECT_EQ(Output("sysctl -n net.ipv4.ip_forward"), forward_before);
    EXPECT_EQ(Output("ip -4 route show table all"), routes_before);
    EXPECT_EQ(Output("ip -6 route show table all | grep -c 2001:db8"), "0\n");
  });
}

// Without an allow the ruleset has no conntrack expression (nft_ruleset.h), so the kernel
// registers no conntrack hook in the namespace: a VM's pings to its gateway, routed and denied
// traffic, leave no connection entry. With an allow the same traffic is tracked.
TEST(HostRoutingTest, WithoutAnAllowTheHostTracksNoConnection) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto entries = [] {
      // Per namespace; absent when nf_conntrack was never loaded (nothing tracked either).
      const std::string count =
          Output("cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0");
      return std::stoi(count);
    };
    for (const char* vni : {"42", "43"}) {
      Shell(std::string("ip link add dvb") + vni + " type bridge && ip link set dvb" + vni +
            " address 02:00:00:00:00:aa up");
    }
    Vm a1("a1", "dvb42", "02:00:00:00:01:01", {"10.0.0.5/24"}, "10.0.0.1", "");
    Vm a2("a2", "dvb43", "02:00:00:00:01:02", {"10.0.1.5/24"}, "10.0.1.1", "");
    const std::vector<PortPlan> ports = {
        {a1.port(), 42, Mac("02:00:00:00:01:01"), {Ip("10.0.0.5")}},
        {a2.port(), 43, Mac("02:00:00:00:01:02"), {Ip("10.0.1.5")}}};
    const auto plan = [&](std::vector<PolicyRule> policies) {
      return PlanRoutes({Network(42, 42, "02:00:00:00:00:aa", policies),
                         Network(43, 42, "02:00:00:00:00:aa", policies)},
                        ports);
    };
    const RoutePlan open = plan({Rule("deny", 42, Action::kDeny, 6, 22, 10)});
    ASSERT_FALSE(open.connection_state);
    ASSERT_TRUE(ApplyHere(open));
    EXPECT_TRUE(Succeeds(a1.In("ping -c3 -i0.2 -W1 10.0.0.1 >/dev/null")));
    EXPECT_FALSE(Succeeds(a1.In("ping -c2 -i0.2 -W0.5 10.0.1.5 >/dev/null"))) << "default deny";
    auto nft = NftSession::Open();
    ASSERT_TRUE(nft) << nft.error();
    EXPECT_GE(Packets(**nft, "policy_default_deny"), 1u);
    EXPECT_EQ(entries(), 0) << Output("nft list ruleset");
    // A port the plan does not know gets no domain mark: the host answers it nothing (its
    // answer would be routed in the host's own tables), and counts it.
    Vm stranger("s1", "dvb42", "02:00:00:00:01:09", {"10.0.0.9/24"}, "10.0.0.1", "");
    const uint64_t to_host = Packets(**nft, "to_host");
    EXPECT_FALSE(Succeeds(stranger.In("ping -c2 -i0.2 -W0.5 10.0.0.1 >/dev/null")));
    EXPECT_GE(Packets(**nft, "to_host") - to_host, 2u);

    const RoutePlan allowed = plan({Rule("icmp", 42, Action::kAllow, 1, 0, 10)});
    ASSERT_TRUE(allowed.connection_state);
    ASSERT_TRUE(ApplyHere(allowed));
    EXPECT_TRUE(Succeeds(a1.In("ping -c2 -i0.2 -W1 10.0.1.5 >/dev/null")));
    EXPECT_GT(entries(), 0) << "the allowed flow is tracked";
  });
}

// Two hosts joined by an underlay veth, vxlan devices under the bridges, the FDB and neighbour
// entries the L2 part would install written by hand. web (42) is on host 1, db (43) on host 2:
// host 1 routes web -> db and sends into db's VNI; host 2 only bridges it to the VM, and
// routes the reply. The reply passes host 2's policy (nothing allows db -> web) because
// br_netfilter gave the bridged arrival a conntrack entry there: with the namespace-wide
// bridge-nf-call-iptables=1 (the default), and with it 0 (a host given to DOVE: the switch
// turns it on for the bridges an allow touches only).
class HostRoutingBridgeNetfilterTest : public ::testing::TestWithParam<bool> {};

TEST_P(HostRoutingBridgeNetfilterTest, AFlowRoutedOnOneHostGetsItsRepliesRoutedBackOnTheOther) {
  DOVE_SKIP_UNLESS_ROOT();
  if (::access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) != 0) {
    GTEST_SKIP() << "needs br_netfilter (modprobe br_netfilter)";
  }
  const bool host_wide = GetParam();
  RunInNetworkNamespace([host_wide] {
    const std::string host2 = "kr" + std::to_string(::getpid()) + "h2";
    Shell("ip netns add " + host2);
    struct Cleanup {
      std::string netns;
      ~Cleanup() { (void)std::system(("ip netns del " + netns + " 2>/dev/null").c_str()); }
    } cleanup{host2};
    const std::string on2 = "ip -n " + host2 + " ";
    const std::string nf = std::string("sysctl -qw net.bridge.bridge-nf-call-iptables=") +
                           (host_wide ? "1" : "0") +
                           " net.bridge.bridge-nf-call-ip6tables=" + (host_wide ? "1" : "0");
    Shell(nf + " && ip netns exec " + host2 + " " + nf);
    Shell("ip link add u0 type veth peer name u0 netns " + host2);
    Shell("ip addr add 192.0.2.1/24 dev u0 && ip link set u0 up");
    Shell(on2 + "addr add 192.0.2.2/24 dev u0 && " + on2 + "link set u0 up && " + on2 +
          "link set lo up");
    for (const std::string vni : {"42", "43"}) {
      for (const auto& [ip, local] :
           {std::pair<std::string, std::string>{"ip ", "192.0.2.1"}, {on2, "192.0.2.2"}}) {
        Shell(Cat({ip, "link add dvb", vni, " type bridge && ", ip, "link set dvb", vni,
                   " address 02:00:00:00:00:aa up"}));
        Shell(Cat({ip, "link add dvx", vni, " type vxlan id ", vni, " dstport 4789 local ", local,
                   " dev u0 nolearning && ", ip, "link set dvx", vni, " master dvb", vni, " up && ",
                   ip, "link set dvx", vni, " type bridge_slave learning off"}));
      }
    }
    Vm a1("a1", "dvb42", "02:00:00:00:01:01", {"10.0.0.5/24"}, "10.0.0.1", "");
    // a2 sits on host 2: its port is made in the host namespace, then moved there.
    Vm a2("a2", "dvb43", "02:00:00:00:01:02", {"10.0.1.5/24"}, "10.0.1.1", "");
    Shell("ip link set " + a2.port() + " netns " + host2);
    Shell(on2 + "link set " + a2.port() + " master dvb43 up");
    Shell("bridge fdb add 02:00:00:00:01:02 dev dvx43 dst 192.0.2.2 self permanent");
    Shell("bridge fdb add 02:00:00:00:01:02 dev dvx43 master static");
    Shell("ip neigh replace 10.0.1.5 lladdr 02:00:00:00:01:02 dev dvb43 nud permanent");
    Shell("bridge -n " + host2 +
          " fdb add 02:00:00:00:01:01 dev dvx42 dst 192.0.2.1 self permanent");
    Shell("bridge -n " + host2 + " fdb add 02:00:00:00:01:01 dev dvx42 master static");
    Shell(on2 + "neigh add 10.0.0.5 lladdr 02:00:00:00:01:01 dev dvb42 nud permanent");

    const std::vector<PolicyRule> policies = {Rule("web", 42, Action::kAllow, 6, 8080, 10)};
    // Each host's network lists the other host as a VTEP of its domain: the underlay guard
    // (underlay_guard.h) takes the other's routed frames, and only those.
    const auto of_domain = [](pipeline::NetworkSettings network, const char* peer) {
      network.domain_tunnel_ips = {*net::Ipv4Address::Parse(peer)};
      return network;
    };
    const RoutePlan plan1 =
        PlanRoutes({of_domain(Network(42, 42, "02:00:00:00:00:aa", policies), "192.0.2.2")},
                   {{a1.port(), 42, Mac("02:00:00:00:01:01"), {Ip("10.0.0.5")}}});
    const RoutePlan plan2 =
        PlanRoutes({of_domain(Network(43, 42, "02:00:00:00:00:aa", policies), "192.0.2.1")},
                   {{a2.port(), 43, Mac("02:00:00:00:01:02"), {Ip("10.0.1.5")}}});
    EXPECT_EQ(plan1.extra_vnis, std::vector<uint32_t>{43});
    EXPECT_EQ(plan2.extra_vnis, std::vector<uint32_t>{42});
    ASSERT_TRUE(ApplyHere(plan1));
    ASSERT_TRUE(InNamedNamespace(host2, [&] { return ApplyHere(plan2); }));
    // The allow web -> db: both bridges pass their frames to the IP hooks on their own.
    EXPECT_NE(Output(on2 + "-d link show dvb43").find("nf_call_iptables 1"), std::string::npos);
    EXPECT_NE(Output("ip -d link show dvb42").find("nf_call_iptables 1"), std::string::npos);

    Shell(a2.In("(echo a2 | timeout 8 nc -N -l 8080 &)"));
    ::usleep(300'000);
    EXPECT_EQ(Output(a1.In("timeout 3 nc -w2 10.0.1.5 8080 </dev/null")), "a2\n");
    EXPECT_FALSE(Succeeds(a1.In("ping -c1 -W0.4 10.0.1.5 >/dev/null"))) << "no ICMP policy";
    EXPECT_FALSE(Succeeds(a2.In("timeout 0.6 nc -w1 10.0.0.5 22 </dev/null >/dev/null 2>&1")))
        << "db -> web is not allowed from host 2 either";

    // A host that skips the policy (frames with the router MAC and web's source put straight
    // onto host 1's db bridge, so they cross the tunnel as routed frames) meets it again on
    // arrival: host 2 drops what web -> db does not allow, counted as the default deny, and
    // lets the allowed port through.
    if (::access("/usr/bin/python3", X_OK) == 0 &&
        Succeeds("/usr/bin/python3 -c 'import scapy' 2>/dev/null")) {
      const auto denied_on_2 = [&] {
        const std::string text =
            Output("ip netns exec " + host2 + " nft list counter inet dove policy_default_deny");
        const auto at = text.find("packets ");
        return at == std::string::npos ? uint64_t{0} : std::stoull(text.substr(at + 8));
      };
      const auto inject = [](int port, int count) {
        Shell(
            "/usr/bin/python3 -c \"from scapy.all import *; sendp(Ether(src='02:00:00:00:00:aa', "
            "dst='02:00:00:00:01:02')/IP(src='10.0.0.5', dst='10.0.1.5', ttl=63)/TCP(sport=41000, "
            "dport=" +
            std::to_string(port) + ", flags='S'), iface='dvb43', count=" + std::to_string(count) +
            ", verbose=False)\"");
      };
      const uint64_t before = denied_on_2();
      inject(22, 3);
      ::usleep(200'000);
      EXPECT_EQ(denied_on_2() - before, 3u) << "routed arrivals to a port web -> db does not allow";
      inject(8080, 2);
      ::usleep(200'000);
      EXPECT_EQ(denied_on_2() - before, 3u) << "the allowed port passes on arrival";

      // Without the allow, db takes routed arrivals without conntrack (its bridge's own
      // br_netfilter off; the bridge table decides): from web the default deny, from no
      // network of the domain routed_source_unknown, counted in the bridge table.
      const RoutePlan open2 =
          PlanRoutes({of_domain(Network(43, 42, "02:00:00:00:00:aa", {}), "192.0.2.1")},
                     {{a2.port(), 43, Mac("02:00:00:00:01:02"), {Ip("10.0.1.5")}}});
      ASSERT_TRUE(InNamedNamespace(host2, [&] { return ApplyHere(open2); }));
      EXPECT_NE(Output(on2 + "-d link show dvb43").find("nf_call_iptables 0"), std::string::npos);
      const auto arrival_counter = [&](const char* name) {
        const std::string text = Output("ip netns exec " + host2 +
                                        " nft list counter netdev dove " + name + " 2>/dev/null");
        const auto at = text.find("packets ");
        return at == std::string::npos ? uint64_t{0} : std::stoull(text.substr(at + 8));
      };
      inject(8080, 2);
      Shell(
          "/usr/bin/python3 -c \"from scapy.all import *; sendp(Ether(src='02:00:00:00:00:aa', "
          "dst='02:00:00:00:01:02')/IP(src='10.9.9.9', dst='10.0.1.5', ttl=63)/UDP(dport=9), "
          "iface='dvb43', verbose=False)\"");
      ::usleep(200'000);
      EXPECT_EQ(arrival_counter("policy_default_deny"), 2u) << "web -> db without an allow";
      EXPECT_EQ(arrival_counter("routed_source_unknown"), 1u) << "a source in no network";
    }
  });
}

INSTANTIATE_TEST_SUITE_P(HostWide, HostRoutingBridgeNetfilterTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("HostWideOn")
                                                   : std::string("PerBridge");
                         });

}  // namespace
}  // namespace dove::dswitch::kernel
