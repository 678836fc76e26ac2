#include "dswitch/kernel/underlay_guard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "dswitch/kernel/nft_ruleset.h"
#include "dswitch/kernel/nft_session.h"
#include "dswitch/kernel/route_plan.h"
#include "unit/io/network_namespace.h"
#include "unit/kernel/routing_lab.h"

namespace dove::dswitch::kernel {
namespace {

using testing::Output;

using dove::dswitch::io::testing::RunInNetworkNamespace;
using dove::dswitch::io::testing::Shell;

net::Ipv4Address V4(const char* text) { return *net::Ipv4Address::Parse(text); }
net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

// VNI 100 is routed (its domain's router MAC 02:00:00:00:00:aa): its flood list holds .12, its
// domain .12 and .13. VNI 200 is plain L2 with an empty flood list.
std::vector<pipeline::NetworkSettings> Networks() {
  pipeline::NetworkSettings routed;
  routed.vni = 100;
  routed.router_mac = Mac("02:00:00:00:00:aa");
  routed.flood_tunnel_ips = {V4("192.0.2.12"), V4("192.0.2.12")};
  routed.domain_tunnel_ips = {V4("192.0.2.13"), V4("192.0.2.12")};
  pipeline::NetworkSettings plain;
  plain.vni = 200;
  return {plain, routed};
}

TEST(UnderlayGuardTest, PlansEveryCarriedNetworkSortedWithItsPeers) {
  const UnderlayPlan plan = PlanUnderlay(Networks());
  ASSERT_EQ(plan.vnis.size(), 2u);
  EXPECT_EQ(plan.vnis[0].vni, 100u);
  EXPECT_EQ(plan.vnis[0].peers, std::vector<net::Ipv4Address>{V4("192.0.2.12")});
  EXPECT_EQ(plan.vnis[0].domain_peers,
            (std::vector<net::Ipv4Address>{V4("192.0.2.12"), V4("192.0.2.13")}));
  EXPECT_EQ(plan.vnis[1].vni, 200u);
  EXPECT_TRUE(plan.vnis[1].router_mac.IsZero());
  EXPECT_FALSE(plan.tunnel_ip) << "left for the caller";
  EXPECT_EQ(PlanRoutes(Networks(), {}).underlay, plan) << "PlanRoutes carries it";

  UnderlayVni vni = plan.vnis[0];
  AddPeers(vni, {V4("192.0.2.20"), V4("192.0.2.12"), V4("192.0.2.5")});
  EXPECT_EQ(vni.peers,
            (std::vector<net::Ipv4Address>{V4("192.0.2.5"), V4("192.0.2.12"), V4("192.0.2.20")}));
}

TEST(UnderlayGuardTest, RulesCheckHeaderThenVniThenSenderAndRoutedFramesAgainstTheDomain) {
  UnderlayPlan plan = PlanUnderlay(Networks());
  plan.tunnel_ip = V4("192.0.2.11");
  plan.port = 8472;
  std::string text;
  AppendUnderlayGuard(plan, text);
  const auto at = [&](const std::string& needle) {
    const auto position = text.find(needle);
    EXPECT_NE(position, std::string::npos) << needle << "\n" << text;
    return position;
  };
  // The common case first, at one lookup: the length, then (sender, the whole header), whose
  // elements are each peer with the exact header of its VNI (flags 0x08, VNI, zero reserved).
  EXPECT_LT(at("chain underlay {\n\t\ttype filter hook input priority filter - 10; policy accept;\n"
               "\t\tip daddr 192.0.2.11 udp dport 8472 udp length >= 30 "
               "ip saddr . @th,64,64 @vxlan_peers accept\n"
               "\t\tip daddr 192.0.2.11 udp dport 8472 jump vxlan_in\n"),
            at("@th,64,64 & 0xffffffff000000ff != 0x0800000000000000 counter name "
               "\"vxlan_malformed\" drop"));
  at("set vxlan_peers {\n\t\ttypeof ip saddr . @th,64,64\n"
     "\t\telements = { 192.0.2.12 . 0x0800000000006400 }");
  // What the lookup did not take: why, in the order of the checks.
  EXPECT_LT(at("udp length < 30 counter name \"vxlan_malformed\" drop"),
            at("0x0800000000000000 counter"));
  EXPECT_LT(at("0x0800000000000000 counter"),
            at("@th,96,24 vmap { 100 : jump vxlan_100, 200 : jump vxlan_200 }"));
  EXPECT_LT(at("vmap { 100"), at("counter name \"vxlan_unknown_vni\" drop"));
  EXPECT_LT(at("chain vxlan_100 {\n"
               "\t\t@th,176,48 0x0200000000aa ip saddr { 192.0.2.12, 192.0.2.13 } accept\n"
               "\t\t@th,176,48 0x0200000000aa counter name \"routed_vtep_not_allowed\" drop\n"
               "\t\tcounter name \"vtep_not_allowed\" drop\n"),
            at("chain vxlan_200 {\n\t\tcounter name \"vtep_not_allowed\" drop\n"));
  for (const char* counter : kUnderlayCounters) at("counter " + std::string(counter) + " { }");

  std::string none;
  AppendUnderlayGuard(UnderlayPlan{}, none);
  EXPECT_EQ(none, "") << "no network, nothing to guard";
}

TEST(UnderlayGuardTest, AnL2OnlyPlanStillGetsItsGuardAndNothingElse) {
  pipeline::NetworkSettings plain;
  plain.vni = 200;
  plain.flood_tunnel_ips = {V4("192.0.2.12")};
  // Hand-made: a plan with no domain and no port (PlanRoutes gives every network a domain).
  RoutePlan plan;
  plan.underlay = PlanUnderlay({plain});
  const std::string text = NftRuleset(plan);
  EXPECT_EQ(text.find("table inet dove {\n"), 0u) << text;
  EXPECT_NE(text.find("chain vxlan_200"), std::string::npos) << text;
  EXPECT_EQ(text.find("chain forward"), std::string::npos) << text;
  EXPECT_EQ(text.find("table bridge dove"), std::string::npos) << text;
  EXPECT_EQ(NftRuleset(RoutePlan{}), "");
}

uint64_t Counter(NftSession& session, const std::string& name) {
  auto counters = session.Counters();
  EXPECT_TRUE(counters) << counters.error();
  if (!counters) return 0;
  const auto it = std::find_if(counters->begin(), counters->end(), [&](const NftCounter& c) {
    return c.family == "inet" && c.name == name;
  });
  return it == counters->end() ? 0 : it->packets;
}

// Frames the kernel's vxlan device dvx100 took in (its rx_packets; /proc/net/dev is the
// reading process's namespace's, /sys/class/net is not).
uint64_t Taken() {
  const std::string text = Output("awk '$1 == \"dvx100:\" { print $3 }' /proc/net/dev");
  return text.empty() ? 0 : std::stoull(text);
}

// Crafted VXLAN datagrams sent with scapy (Debian's python) to the host's tunnel IP 192.0.2.11
// from a peer namespace, against a real vxlan device and the guard loaded with libnftables.
TEST(UnderlayGuardTest, TheKernelTakesOnlyWhatTheGuardAllowsAndCountsTheRest) {
  DOVE_SKIP_UNLESS_ROOT();
  if (std::system("/usr/bin/python3 -c 'import scapy' 2>/dev/null") != 0) {
    GTEST_SKIP() << "needs scapy (/usr/bin/python3, python3-scapy)";
  }
  RunInNetworkNamespace([] {
    // A run killed by its alarm leaves its peer namespace: those whose process is gone go now.
    (void)std::system(
        "for n in $(ip netns list | grep -o '^dove-ug-[0-9]*'); do "
        "[ -d /proc/${n#dove-ug-} ] || ip netns del $n; done 2>/dev/null");
    const std::string peer = "dove-ug-" + std::to_string(::getpid());
    Shell("ip netns add " + peer);
    // The peer namespace is named (ip netns): it goes even when an assertion returns early.
    struct Remove {
      std::string name;
      ~Remove() { std::system(("ip netns del " + name + " 2>/dev/null").c_str()); }
    } remove{peer};
    Shell("ip link add ul0 type veth peer name ul1 netns " + peer);
    Shell("ip addr add 192.0.2.11/24 dev ul0 && ip link set ul0 up");
    Shell("ip -n " + peer + " addr add 192.0.2.12/24 dev ul1 && ip -n " + peer +
          " addr add 192.0.2.13/24 dev ul1 && ip -n " + peer +
          " addr add 192.0.2.200/24 dev ul1 && ip -n " + peer + " link set ul1 up");
    Shell("ip link add dvx100 type vxlan id 100 dstport 4789 local 192.0.2.11 nolearning");
    Shell("ip link add dvx200 type vxlan id 200 dstport 4789 local 192.0.2.11 nolearning");
    Shell("ip link set dvx100 up && ip link set dvx200 up");
    // Sends `count` datagrams from `source` with VXLAN `flags` and `vni`, inner source `mac`.
    // One scapy statement: `count` datagrams from `source` with VXLAN `flags` and `vni`, inner
    // source `mac`. Sent in batches, one python per batch (each start costs a second or so).
    const auto datagram = [](const char* source, int flags, int vni, const char* mac, int count) {
      return std::string("send(IP(src='") + source +
             "', dst='192.0.2.11')/UDP(sport=40000, dport=4789)/VXLAN(flags=" +
             std::to_string(flags) + ", vni=" + std::to_string(vni) + ")/Ether(src='" + mac +
             "', dst='02:00:00:00:01:01')/IP(src='10.0.0.9', dst='10.0.0.5')/UDP(dport=7777), "
             "count=" +
             std::to_string(count) + ", verbose=False); ";
    };
    const auto send = [&](const std::string& statements) {
      Shell("ip netns exec " + peer + " /usr/bin/python3 -c \"from scapy.all import *; " +
            statements + "\"");
    };
    // Without the guard the kernel takes a stranger's datagram: what the guard is for.
    const uint64_t unguarded = Taken();
    send(datagram("192.0.2.200", 0x08, 100, "02:00:00:00:09:09", 1));
    EXPECT_EQ(Taken() - unguarded, 1u);

    auto session = NftSession::Open();
    ASSERT_TRUE(session) << session.error();
    RoutePlan plan = PlanRoutes(Networks(), {});
    plan.underlay.tunnel_ip = V4("192.0.2.11");
    auto applied = (*session)->Apply(NftRuleset(plan));
    ASSERT_TRUE(applied) << applied.error();
    const uint64_t taken = Taken();
    send(datagram("192.0.2.12", 0x08, 100, "02:00:00:00:09:09", 2) +  // in the flood list
         datagram("192.0.2.13", 0x08, 100, "02:00:00:00:00:aa", 3));  // routed, from the domain
    EXPECT_EQ(Taken() - taken, 5u);
    send(datagram("192.0.2.200", 0x08, 100, "02:00:00:00:09:09", 4) +  // a stranger
         datagram("192.0.2.13", 0x08, 100, "02:00:00:00:09:09", 1) +   // the domain, not routed
         datagram("192.0.2.200", 0x08, 100, "02:00:00:00:00:aa", 2) +  // routed, not the domain
         datagram("192.0.2.12", 0x00, 100, "02:00:00:00:09:09", 2) +   // I flag clear
         datagram("192.0.2.12", 0x0c, 100, "02:00:00:00:09:09", 1) +   // another flag set
         datagram("192.0.2.12", 0x08, 4242, "02:00:00:00:09:09", 5) +  // nobody's VNI
         datagram("192.0.2.12", 0x08, 200, "02:00:00:00:09:09", 1) +   // VNI 200: nobody listed
         "send(IP(src='192.0.2.12', dst='192.0.2.11')/UDP(sport=40000, dport=4789)/"
         "VXLAN(flags=8, vni=100)/Raw(b'short'), verbose=False)");
    EXPECT_EQ(Taken() - taken, 5u) << "nothing more reached the vxlan device";
    EXPECT_EQ(Counter(**session, "vtep_not_allowed"), 6u);
    EXPECT_EQ(Counter(**session, "routed_vtep_not_allowed"), 2u);
    EXPECT_EQ(Counter(**session, "vxlan_malformed"), 4u);
    EXPECT_EQ(Counter(**session, "vxlan_unknown_vni"), 5u);
  });
}

}  // namespace
}  // namespace dove::dswitch::kernel
