#include "dswitch/kernel/nft_ruleset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dove::dswitch::kernel {
namespace {

using pipeline::NetworkSettings;
using pipeline::PolicyRule;
using Action = PolicyRule::Action;

net::IpPrefix Prefix(const char* text) { return *net::IpPrefix::Parse(text); }
net::IpAddress Ip(const char* text) { return *net::IpAddress::Parse(text); }
net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

// A carried network: its VNI, its domain's router MAC, the domain's routes and policies.
NetworkSettings Network(uint32_t vni, const net::MacAddress& router_mac,
                        std::vector<pipeline::Route> routes = {},
                        std::vector<PolicyRule> policies = {}) {
  NetworkSettings network;
  network.vni = vni;
  network.router_mac = router_mac;
  network.routes = std::move(routes);
  network.policies = std::move(policies);
  return network;
}

// One domain, networks 42 (web) and 43 (db), both carried here, with `policies`.
RoutePlan WebDb(const std::vector<PolicyRule>& policies, const std::vector<PortPlan>& ports = {}) {
  const std::vector<pipeline::Route> routes{{Prefix("10.0.0.0/24"), Ip("10.0.0.1"), 42},
                                            {Prefix("10.0.1.0/24"), Ip("10.0.1.1"), 43},
                                            {Prefix("2001:db8:1::/64"), Ip("2001:db8:1::1"), 43}};
  const auto mac = Mac("02:00:00:00:00:aa");
  return PlanRoutes({Network(42, mac, routes, policies), Network(43, mac, routes, policies)},
                    ports);
}

PolicyRule Rule(const char* id, Action action, uint8_t protocol, uint16_t first, uint16_t last,
                uint32_t priority, uint32_t from = 42, uint32_t to = 43) {
  return {.id = id,
          .source_vni = from,
          .destination_vni = to,
          .action = action,
          .protocol = protocol,
          .first_port = first,
          .last_port = last,
          .priority = priority};
}

// The rule lines of chain `name` in `text`, without indentation; empty when it is absent.
std::vector<std::string> Chain(const std::string& text, const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of('\t');
    const std::string body = start == std::string::npos ? "" : line.substr(start);
    if (body == "chain " + name + " {") {
      inside = true;
    } else if (inside && body == "}") {
      break;
    } else if (inside) {
      lines.push_back(body);
    }
  }
  return lines;
}

// The chain's lines with each allow's conntrack tag (AllowTag, checked on its own) as "TAG".
std::vector<std::string> WithoutTags(std::vector<std::string> lines) {
  static const std::regex kTag("ct mark set [0-9]+ accept");
  for (auto& line : lines) line = std::regex_replace(line, kTag, "ct mark set TAG accept");
  return lines;
}

constexpr const char* kDefault = "counter name \"policy_default_deny\" drop";

struct PolicyCase {
  const char* description;
  std::vector<PolicyRule> policies;
  std::vector<std::string> web_to_db;  // the chain route_42_43; empty: no chain
};

TEST(NftRulesetTest, PoliciesBecomeThePairChainInTheRoutersOrder) {
  const std::vector<PolicyCase> cases = {
      {"no policy: no chain, the default deny applies", {}, {}},
      {"allow tcp 8080",
       {Rule("a", Action::kAllow, 6, 8080, 8080, 10)},
       {"meta l4proto 6 th dport 8080 ct mark set TAG accept", kDefault}},
      {"allow a port range of udp",
       {Rule("a", Action::kAllow, 17, 5000, 5010, 10)},
       {"meta l4proto 17 th dport 5000-5010 ct mark set TAG accept", kDefault}},
      {"deny any protocol",
       {Rule("d", Action::kDeny, 0, 0, 0, 10)},
       {"counter name \"policy_d_denied\" drop", kDefault}},
      {"reject answers admin-prohibited (ICMP, ICMPv6; TCP too, as the userspace router)",
       {Rule("r", Action::kReject, 6, 8081, 8081, 10)},
       {"meta l4proto 6 th dport 8081 counter name \"policy_r_denied\" "
        "reject with icmpx admin-prohibited",
        kDefault}},
      {"higher priority first, whatever the input order",
       {Rule("low", Action::kAllow, 0, 0, 0, 1), Rule("high", Action::kDeny, 6, 0, 0, 9)},
       {"meta l4proto 6 counter name \"policy_high_denied\" drop", "ct mark set TAG accept",
        kDefault}},
      {"a tie: the deny before the allow",
       {Rule("allow", Action::kAllow, 6, 22, 22, 5), Rule("deny", Action::kDeny, 6, 22, 22, 5)},
       {"meta l4proto 6 th dport 22 counter name \"policy_deny_denied\" drop",
        "meta l4proto 6 th dport 22 ct mark set TAG accept", kDefault}},
      {"only the web->db rules land in the web->db chain",
       {Rule("back", Action::kAllow, 1, 0, 0, 5, 43, 42), Rule("icmp", Action::kAllow, 1, 0, 0, 5)},
       {"meta l4proto 1 ct mark set TAG accept", kDefault}},
      {"an id with odd characters names a clean counter",
       {Rule("p-1.x", Action::kDeny, 17, 53, 53, 5)},
       {"meta l4proto 17 th dport 53 counter name \"policy_p_1_x_denied\" drop", kDefault}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const std::string text = NftRuleset(WebDb(c.policies));
    EXPECT_EQ(WithoutTags(Chain(text, "route_42_43")), c.web_to_db) << text;
    for (const auto& rule : c.policies) {
      if (rule.action == Action::kAllow) continue;
      EXPECT_NE(text.find("counter " + PolicyCounterName(rule.id) + " { }"), std::string::npos)
          << "the counter of " << rule.id << " is declared";
    }
  }
}

// What another host's router sent into a local network, per destination bridge: ND and
// link-local pass; the source subnet picks the pair's arrival chain (or the default deny); the
// destination's own subnets pass; an unknown source is dropped.
std::vector<std::string> Arrivals(const char* bridge, const std::vector<std::string>& by_subnet) {
  const std::string at = std::string("iifname \"") + bridge + "\" oifname \"" + bridge +
                         "\" ether saddr 02:00:00:00:00:aa ";
  std::vector<std::string> lines = {
      at + "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
      at + "ip6 saddr fe80::/10 accept"};
  for (const auto& line : by_subnet) lines.push_back(at + line);
  lines.push_back(at + "meta nfproto { ipv4, ipv6 } counter name \"routed_source_unknown\" drop");
  return lines;
}

TEST(NftRulesetTest, ForwardPassesRepliesAndBridgedTrafficThenDispatchesThenDenies) {
  const std::string text = NftRuleset(WebDb({Rule("a", Action::kAllow, 6, 8080, 8080, 10)}));
  std::vector<std::string> expected = {
      "type filter hook forward priority filter; policy accept;",
      "iifname != @bridges oifname != @bridges accept",
      "ct state established ct direction reply ct mark @allowed_flows accept",
      "ct state related accept",
  };
  for (const auto& line :
       Arrivals("dvb42", {"ip saddr 10.0.0.0/24 jump same_network",
                          "ip saddr 10.0.1.0/24 " + std::string(kDefault),
                          "ip6 saddr 2001:db8:1::/64 " + std::string(kDefault)})) {
    expected.push_back(line);
  }
  for (const auto& line : Arrivals("dvb43", {"ip saddr 10.0.0.0/24 jump arrive_42_43",
                                             "ip saddr 10.0.1.0/24 jump same_network",
                                             "ip6 saddr 2001:db8:1::/64 jump same_network"})) {
    expected.push_back(line);
  }
  expected.push_back(
      std::string("iifname . oifname vmap { \"dvb42\" . \"dvb42\" : jump same_network, ") +
      "\"dvb43\" . \"dvb43\" : jump same_network, \"dvb42\" . \"dvb43\" : jump route_42_43 }");
  expected.push_back(
      "iifname @bridges oifname != @bridges counter name \"no_route\" reject with icmpx no-route");
  expected.push_back(kDefault);
  EXPECT_EQ(Chain(text, "forward"), expected) << text;
}

TEST(NftRulesetTest, RoutedArrivalsMeetThePolicyAgainAndARejectOnlyDropsThere) {
  const std::string text = NftRuleset(WebDb(
      {Rule("a", Action::kAllow, 6, 8080, 8080, 10), Rule("r", Action::kReject, 6, 22, 22, 10)}));
  EXPECT_EQ(Chain(text, "arrive_42_43"),
            (std::vector<std::string>{
                "meta l4proto 6 th dport 22 counter name \"policy_r_denied\" drop",
                "meta l4proto 6 th dport 8080 ct mark set " +
                    std::to_string(AllowTag(kDomainKeyBase + 42,
                                            Rule("a", Action::kAllow, 6, 8080, 8080, 10))) +
                    " accept",
                kDefault}))
      << text;
  EXPECT_NE(text.find("counter routed_source_unknown { }"), std::string::npos);
  // A route-only network (db, no local port here) gets no arrival rules: nothing is delivered.
  const auto mac = Mac("02:00:00:00:00:aa");
  const RoutePlan web_only = PlanRoutes({Network(42, mac,
                                                 {{Prefix("10.0.0.0/24"), Ip("10.0.0.1"), 42},
                                                  {Prefix("10.0.1.0/24"), Ip("10.0.1.1"), 43}})},
                                        {});
  const std::string web_text = NftRuleset(web_only);
  EXPECT_NE(web_text.find("iifname \"dvb42\" oifname \"dvb42\" ether saddr"), std::string::npos);
  EXPECT_EQ(web_text.find("iifname \"dvb43\" oifname \"dvb43\" ether saddr"), std::string::npos)
      << web_text;
}

// Replies pass only for flows whose allow still exists: each allow tags its flows' conntrack
// entries, the set allowed_flows holds the tags of the ruleset's allows (and the tag of flows
// bridged inside one network), so a ruleset without the allow passes its replies no more.
TEST(NftRulesetTest, AllowsTagTheirFlowsAndRepliesNeedATagStillAllowed) {
  const PolicyRule web = Rule("web", Action::kAllow, 6, 8080, 8080, 10);
  const PolicyRule ssh = Rule("ssh", Action::kAllow, 6, 22, 22, 10);
  const uint32_t key = kDomainKeyBase + 42;
  const uint32_t web_tag = AllowTag(key, web);
  const uint32_t ssh_tag = AllowTag(key, ssh);
  EXPECT_NE(web_tag, ssh_tag);
  EXPECT_EQ(web_tag, AllowTag(key, web)) << "stable: reloading keeps the flows";
  EXPECT_NE(web_tag, AllowTag(kDomainKeyBase + 52, web)) << "another domain, another tag";
  PolicyRule other_port = web;
  other_port.first_port = other_port.last_port = 8081;
  EXPECT_NE(web_tag, AllowTag(key, other_port)) << "a changed rule is a new tag";
  for (const uint32_t tag : {web_tag, ssh_tag}) {
    EXPECT_NE(tag, 0u);
    EXPECT_NE(tag, kBridgedFlowTag);
  }

  const std::string both = NftRuleset(WebDb({web, ssh}));
  const std::string set = "set allowed_flows {\n\t\ttype mark\n\t\telements = { ";
  const auto sorted = std::minmax(web_tag, ssh_tag);
  EXPECT_NE(both.find(set + "1, " + std::to_string(sorted.first) + ", " +
                      std::to_string(sorted.second) + " }"),
            std::string::npos)
      << both;
  EXPECT_EQ(Chain(both, "route_42_43"),
            (std::vector<std::string>{
                "meta l4proto 6 th dport 22 ct mark set " + std::to_string(ssh_tag) + " accept",
                "meta l4proto 6 th dport 8080 ct mark set " + std::to_string(web_tag) + " accept",
                kDefault}));
  const std::string one = NftRuleset(WebDb({web}));
  EXPECT_NE(one.find(set + "1, " + std::to_string(web_tag) + " }"), std::string::npos) << one;
  EXPECT_EQ(one.find(std::to_string(ssh_tag)), std::string::npos)
      << "ssh's flows lose their replies";
  EXPECT_EQ(Chain(one, "same_network"),
            (std::vector<std::string>{"ct mark 0 ct mark set 1", "accept"}));
}

TEST(NftRulesetTest, TheDomainsBridgesCarryItsMarkAndZone) {
  const RoutePlan plan = WebDb({Rule("a", Action::kAllow, 6, 80, 80, 10)});
  ASSERT_TRUE(plan.connection_state);
  const std::string text = NftRuleset(plan);
  const std::string mark = std::to_string(kDomainKeyBase + 42);
  const std::string zone = std::to_string(plan.domains[0].zone);
  const std::string bridged = "iifname { \"dvb42\", \"dvb43\" } ";
  // Frames from or to the router MAC get the zone (one MAC match per rule: nft merges adjacent
  // ones); frames only bridged skip conntrack, and so do the tunnel's datagrams both ways.
  const std::string zoned = "meta mark set " + mark + " ct zone set " + zone + " accept";
  EXPECT_EQ(Chain(text, "prerouting"),
            (std::vector<std::string>{"type filter hook prerouting priority raw; policy accept;",
                                      "iifname != @bridges udp dport 4789 notrack accept",
                                      "iifname != @bridges accept",
                                      bridged + "ether saddr 02:00:00:00:00:aa " + zoned,
                                      bridged + "ether daddr 02:00:00:00:00:aa " + zoned,
                                      bridged + "meta mark set " + mark + " notrack"}));
  EXPECT_EQ(Chain(text, "output"),
            (std::vector<std::string>{"type filter hook output priority raw; policy accept;",
                                      "udp dport 4789 notrack accept",
                                      "meta mark " + mark + " ct zone set " + zone}));

  RoutePlan with_tunnel = plan;
  with_tunnel.underlay.tunnel_ip = *net::Ipv4Address::Parse("192.0.2.1");
  with_tunnel.underlay.port = 8472;
  const std::string tunnel_text = NftRuleset(with_tunnel);
  EXPECT_EQ(Chain(tunnel_text, "prerouting")[1],
            "iifname != @bridges ip daddr 192.0.2.1 udp dport 8472 notrack accept");
  EXPECT_EQ(Chain(tunnel_text, "output")[1], "ip saddr 192.0.2.1 udp dport 8472 notrack accept");
}

// Without an ALLOW between two networks of a domain nothing needs connection state: the same
// decisions come without a single conntrack expression, so the kernel registers no conntrack
// hook in the host's namespace. A DENY or a REJECT alone keeps it so; the first ALLOW brings
// the state back.
TEST(NftRulesetTest, WithoutAnAllowTheRulesetHasNoConntrackAtAll) {
  const auto has_conntrack = [](const std::string& text) {
    return std::regex_search(text, std::regex(R"(\bct\b|notrack)"));
  };
  for (const auto& policies :
       {std::vector<PolicyRule>{}, std::vector<PolicyRule>{Rule("d", Action::kDeny, 6, 80, 80, 10)},
        std::vector<PolicyRule>{Rule("r", Action::kReject, 6, 22, 22, 10)}}) {
    const RoutePlan plan = WebDb(policies);
    EXPECT_FALSE(plan.connection_state);
    const std::string text = NftRuleset(plan);
    EXPECT_FALSE(has_conntrack(text)) << text;
    const std::string mark = std::to_string(kDomainKeyBase + 42);
    // No inet prerouting hook (every arriving datagram would pass it): the bridge table marks
    // what the domain's bridges pass up to the host, the only frames that are routed here.
    EXPECT_TRUE(Chain(text, "prerouting").empty()) << text;
    EXPECT_EQ(Chain(text, "to_router"),
              (std::vector<std::string>{"type filter hook input priority 0; policy accept;",
                                        "meta mark set iifname map { \"dvx42\" : " + mark +
                                            ", \"dvx43\" : " + mark + " }"}));
    EXPECT_TRUE(Chain(text, "output").empty()) << text;
    // Only routed packets carry a mark: cleared once forward accepted them (a rejected one
    // keeps it for its ICMP answer), not by a hook on every frame the bridges send.
    EXPECT_EQ(
        Chain(text, "forward_done"),
        (std::vector<std::string>{"type filter hook forward priority filter + 10; policy accept;",
                                  "iifname @bridges meta mark set 0"}));
    EXPECT_TRUE(Chain(text, "to_tunnels").empty()) << text;
    EXPECT_EQ(Chain(text, "same_network"), std::vector<std::string>{"accept"});
    EXPECT_EQ(Chain(text, "forward")[1], "iifname != @bridges oifname != @bridges accept");
    EXPECT_EQ(Chain(text, "forward").back(), kDefault);
    // The rest of the decisions are there: the pair's policy, no route, the host's gateways.
    EXPECT_NE(text.find("reject with icmpx no-route"), std::string::npos);
    EXPECT_NE(text.find("icmp type echo-request accept"), std::string::npos);
    EXPECT_NE(text.find("counter name \"to_host\" drop"), std::string::npos);
  }
  const std::string tracked = NftRuleset(WebDb({Rule("a", Action::kAllow, 6, 80, 80, 10)}));
  EXPECT_TRUE(has_conntrack(tracked));
  EXPECT_TRUE(Chain(tracked, "to_router").empty()) << "the inet prerouting marks";
  EXPECT_EQ(Chain(tracked, "to_tunnels").back(), "meta mark != 0 oifname \"dvx*\" meta mark set 0");
  EXPECT_TRUE(Chain(tracked, "forward_done").empty());
  // An allow whose networks this host does not route (another domain's, say) changes nothing.
  EXPECT_FALSE(WebDb({Rule("x", Action::kAllow, 6, 80, 80, 10, 52, 53)}).connection_state);
}

// A network no ALLOW starts or ends in needs no connection state for what other hosts route
// into it: its bridge goes without br_netfilter, and the bridge table decides its routed
// arrivals statelessly, as the inet table's arrival rules would.
TEST(NftRulesetTest, RoutedArrivalsIntoANetworkWithoutAllowsAreDecidedWithoutConntrack) {
  const RoutePlan open = WebDb({});
  ASSERT_EQ(open.domains[0].networks.size(), 2u);
  EXPECT_FALSE(open.domains[0].networks[0].tracked_arrivals);
  EXPECT_FALSE(open.domains[0].networks[1].tracked_arrivals);
  const std::string text = NftRuleset(open);
  // On the ingress of each network's vxlan device: no other frame passes these rules.
  EXPECT_EQ(Chain(text, "arrive_43"),
            (std::vector<std::string>{
                "type filter hook ingress device \"dvx43\" priority filter; policy accept;",
                "ether saddr != 02:00:00:00:00:aa accept",
                "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
                "ip6 saddr fe80::/10 accept", "ip saddr { 10.0.1.0/24 } accept",
                "ip saddr { 10.0.0.0/24 } counter name \"policy_default_deny\" drop",
                "ip6 saddr { 2001:db8:1::/64 } accept",
                "ether type { ip, ip6 } counter name \"routed_source_unknown\" drop"}));
  EXPECT_NE(text.find("table netdev dove {\n\tcounter policy_default_deny { }\n"
                      "\tcounter routed_source_unknown { }\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("prerouting"), std::string::npos) << "no hook on every bridged frame";
  EXPECT_EQ(Chain(text, "arrive_42")[4], "ip saddr { 10.0.0.0/24 } accept");
  EXPECT_EQ(Chain(text, "arrive_42")[6],
            "ip6 saddr { 2001:db8:1::/64 } counter name \"policy_default_deny\" drop");

  // An allow web -> db: both ends track their arrivals (br_netfilter), no stateless chain.
  // A deny alone tracks nothing.
  const RoutePlan allowed = WebDb({Rule("a", Action::kAllow, 6, 80, 80, 10)});
  EXPECT_TRUE(allowed.domains[0].networks[0].tracked_arrivals);
  EXPECT_TRUE(allowed.domains[0].networks[1].tracked_arrivals);
  EXPECT_TRUE(Chain(NftRuleset(allowed), "arrive_42").empty());
  EXPECT_EQ(NftRuleset(allowed).find("table netdev"), std::string::npos) << "no port either";
  const RoutePlan denied = WebDb({Rule("d", Action::kDeny, 6, 80, 80, 10)});
  EXPECT_FALSE(denied.domains[0].networks[0].tracked_arrivals);
  EXPECT_EQ(Chain(NftRuleset(denied), "arrive_42").size(), 8u);
}

TEST(NftRulesetTest, TheHostAnswersOnlyPingsOfTheDomainsGateways) {
  const std::string text = NftRuleset(WebDb({}));
  // The underlay guard first (one input hook for the tunnel's datagrams, not two).
  std::vector<std::string> expected = {
      "type filter hook input priority filter; policy accept;",
      "udp dport 4789 jump vxlan_in",
      "iifname != @bridges accept",
      "meta mark 0 counter name \"to_host\" drop",
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
      std::string("iifname { \"dvb42\", \"dvb43\" } ip daddr { 10.0.0.1, 10.0.1.1 } ") +
          "icmp type echo-request accept",
      std::string("iifname { \"dvb42\", \"dvb43\" } ip6 daddr { 2001:db8:1::1 } ") +
          "icmpv6 type echo-request accept",
      "counter name \"to_host\" drop",
  };
  EXPECT_EQ(Chain(text, "input"), expected) << text;
  // With connection state (an allow), what belongs to flows the host answered passes too.
  const std::string tracked = NftRuleset(WebDb({Rule("a", Action::kAllow, 6, 80, 80, 10)}));
  expected[3] = "ct state established,related accept";
  EXPECT_EQ(tracked.find("chain underlay"), std::string::npos) << "no hook of its own";
  EXPECT_EQ(Chain(tracked, "input"), expected) << tracked;
}

TEST(NftRulesetTest, APortMaySendOnlyFromItsMacAndAddresses) {
  const PortPlan port{"tap-vm1", 42, Mac("02:00:00:00:01:01"), {Ip("10.0.0.5"), Ip("2001:db8::5")}};
  const std::string text = NftRuleset(WebDb({}, {port}));
  // What the port sends the host (its gateway, routed) carries its domain's mark.
  EXPECT_EQ(Chain(text, "to_router")[1],
            "meta mark set iifname map { \"dvx42\" : " + std::to_string(kDomainKeyBase + 42) +
                ", \"dvx43\" : " + std::to_string(kDomainKeyBase + 42) +
                ", \"tap-vm1\" : " + std::to_string(kDomainKeyBase + 42) + " }");
  const std::vector<std::string> expected = {
      // On the port's own ingress hook: what its VM sends, before the bridge.
      "type filter hook ingress device \"tap-vm1\" priority filter; policy accept;",
      // TCP from the port's MAC and addresses, the bulk of its frames, at one rule.
      "ether saddr 02:00:00:00:01:01 ip saddr { 10.0.0.5 } meta l4proto tcp accept",
      std::string("ether saddr 02:00:00:00:01:01 ip6 saddr { fe80::ff:fe00:101, 2001:db8::5 } ") +
          "meta l4proto tcp accept",
      "ether saddr != 02:00:00:00:01:01 counter name \"port_tap_vm1_bad_mac\" drop",
      std::string("ether type arp arp saddr ether != 02:00:00:00:01:01 ") +
          "counter name \"port_tap_vm1_bad_mac\" drop",
      "ether type ip udp dport 67 counter name \"port_tap_vm1_dhcp_taken\" drop",
      "ether type ip ip saddr { 10.0.0.5 } accept",
      std::string("ether type ip6 icmpv6 type nd-router-solicit ") +
          "counter name \"port_tap_vm1_rs_taken\" drop",
      "ether type arp arp saddr ip { 0.0.0.0, 10.0.0.5 } accept",
      "ether type arp counter name \"port_tap_vm1_bad_ip\" drop",
      std::string("ether type ip6 icmpv6 type nd-router-advert ") +
          "counter name \"port_tap_vm1_router_advert\" drop",
      "ether type ip6 ip6 saddr { fe80::ff:fe00:101, 2001:db8::5 } accept",
      "ether type ip6 ip6 saddr :: meta l4proto ipv6-icmp accept",
      "ether type { ip, ip6 } counter name \"port_tap_vm1_bad_ip\" drop",
      "counter name \"port_tap_vm1_not_ip\" drop",
  };
  EXPECT_EQ(Chain(text, "port_tap_vm1"), expected) << text;
  EXPECT_NE(text.find("table netdev dove {\n\tcounter port_tap_vm1_bad_mac { }\n"),
            std::string::npos)
      << text;
}

// DHCP never reaches the bridge: the switch's own socket on the port answers it (port_services.h),
// and a port without IPv4 sends nothing else over IPv4.
TEST(NftRulesetTest, APortWithoutIpv4SendsNoIpv4AndItsDhcpIsTakenBeforeTheBridge) {
  const PortPlan port{"vm2", 42, Mac("02:00:00:00:01:02"), {}};
  const auto chain = Chain(NftRuleset(WebDb({}, {port})), "port_vm2");
  for (const auto& line : chain) {
    EXPECT_EQ(line.find(" ip saddr"), std::string::npos) << line;
    EXPECT_EQ(line.find("dport 67 accept"), std::string::npos) << line;
  }
  const auto taken =
      std::find(chain.begin(), chain.end(),
                "ether type ip udp dport 67 counter name \"port_vm2_dhcp_taken\" drop");
  ASSERT_NE(taken, chain.end());
  EXPECT_LT(taken - chain.begin(), 5)
      << "right after the hook and the MAC checks: only TCP is accepted before it";
  for (auto line = chain.begin(); line != taken; ++line) {
    if (line->ends_with("accept")) {
      EXPECT_NE(line->find("meta l4proto tcp"), std::string::npos) << *line;
    }
  }
}

TEST(NftRulesetTest, AnEmptyPlanHasNoTable) { EXPECT_EQ(NftRuleset(RoutePlan{}), ""); }

}  // namespace
}  // namespace dove::dswitch::kernel
