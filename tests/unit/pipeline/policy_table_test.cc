// PolicyTable and ReturnFlows: a table of rule sets and packets with the verdict each gets
// (defaults, priorities, ties, protocol and port matching, reject), then the return-flow
// table's replies, expiry, full table and flush.
#include "dswitch/pipeline/policy_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "dswitch/pipeline/return_flows.h"
#include "net/ip_proto.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

using Action = PolicyRule::Action;
constexpr uint8_t kTcp = net::ip_proto::kTcp;
constexpr uint8_t kUdp = net::ip_proto::kUdp;
constexpr uint8_t kIcmp = net::ip_proto::kIcmp;

PolicyRule Rule(std::string id, uint32_t from, uint32_t to, Action action, uint32_t priority,
                uint8_t protocol = 0, uint16_t first_port = 0, uint16_t last_port = 0) {
  return {.id = std::move(id),
          .source_vni = from,
          .destination_vni = to,
          .action = action,
          .protocol = protocol,
          .first_port = first_port,
          .last_port = last_port,
          .priority = priority};
}

struct Case {
  const char* description;
  std::vector<PolicyRule> rules;
  uint32_t from, to;
  uint8_t protocol;
  bool has_port;
  uint16_t port;
  Action action;
  const char* rule;  // the deciding rule's id; nullptr: the default
};

std::vector<Case> Cases() {
  const auto allow_web = Rule("web", 100, 200, Action::kAllow, 10, kTcp, 80, 443);
  return {
      {"inside one network: allowed by default",
       {},
       100,
       100,
       kUdp,
       true,
       53,
       Action::kAllow,
       nullptr},
      {"between networks: denied by default", {}, 100, 200, kUdp, true, 53, Action::kDeny, nullptr},
      {"an allow rule for the pair",
       {Rule("a", 100, 200, Action::kAllow, 1)},
       100,
       200,
       kIcmp,
       false,
       0,
       Action::kAllow,
       "a"},
      {"a rule is one-way",
       {Rule("a", 100, 200, Action::kAllow, 1)},
       200,
       100,
       kIcmp,
       false,
       0,
       Action::kDeny,
       nullptr},
      {"another pair's rule does not apply",
       {Rule("a", 100, 300, Action::kAllow, 1)},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kDeny,
       nullptr},
      {"a deny inside one network",
       {Rule("d", 100, 100, Action::kDeny, 1)},
       100,
       100,
       kTcp,
       true,
       22,
       Action::kDeny,
       "d"},
      {"protocol matches", {allow_web}, 100, 200, kTcp, true, 443, Action::kAllow, "web"},
      {"protocol does not match", {allow_web}, 100, 200, kUdp, true, 443, Action::kDeny, nullptr},
      {"port below the range", {allow_web}, 100, 200, kTcp, true, 79, Action::kDeny, nullptr},
      {"port at the range's end", {allow_web}, 100, 200, kTcp, true, 443, Action::kAllow, "web"},
      {"port above the range", {allow_web}, 100, 200, kTcp, true, 444, Action::kDeny, nullptr},
      {"a port range never matches a packet without ports",
       {Rule("p", 100, 200, Action::kAllow, 1, 0, 1, 65535)},
       100,
       200,
       kIcmp,
       false,
       0,
       Action::kDeny,
       nullptr},
      {"higher priority wins: deny over allow",
       {Rule("allow", 100, 200, Action::kAllow, 1), Rule("deny", 100, 200, Action::kDeny, 5)},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kDeny,
       "deny"},
      {"higher priority wins: allow over deny",
       {Rule("deny", 100, 200, Action::kDeny, 1), Rule("allow", 100, 200, Action::kAllow, 5)},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kAllow,
       "allow"},
      {"a tie: deny wins whatever the order",
       {Rule("allow", 100, 200, Action::kAllow, 5), Rule("deny", 100, 200, Action::kDeny, 5)},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kDeny,
       "deny"},
      {"a tie: reject wins over allow",
       {Rule("reject", 100, 200, Action::kReject, 5), Rule("allow", 100, 200, Action::kAllow, 5)},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kReject,
       "reject"},
      {"a higher narrow allow over a broad deny",
       {Rule("deny-all", 100, 200, Action::kDeny, 1), allow_web},
       100,
       200,
       kTcp,
       true,
       80,
       Action::kAllow,
       "web"},
      {"the broad deny still denies the rest",
       {Rule("deny-all", 100, 200, Action::kDeny, 1), allow_web},
       100,
       200,
       kTcp,
       true,
       22,
       Action::kDeny,
       "deny-all"},
  };
}

TEST(PolicyTableTest, EachPacketGetsTheVerdictOfTheRulesThatMatchIt) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    const PolicyTable table(c.rules);
    const PolicyVerdict verdict = table.Evaluate(c.from, c.to, c.protocol, c.has_port, c.port);
    EXPECT_EQ(verdict.action, c.action);
    if (c.rule == nullptr) {
      EXPECT_EQ(verdict.rule, nullptr);
    } else {
      ASSERT_NE(verdict.rule, nullptr);
      EXPECT_EQ(verdict.rule->id, c.rule);
    }
  }
}

// Return flows.

using Clock = ReturnFlows::Clock;

FlowKey Key(uint16_t source_port, const char* source = "10.1.0.5") {
  return {.source_vni = 100,
          .destination_vni = 200,
          .source = Ip4(source),
          .destination = Ip4("10.2.0.7"),
          .protocol = kTcp,
          .source_port = source_port,
          .destination_port = 80};
}

TEST(ReturnFlowsTest, TheReplyOfARememberedFlowPassesAndNothingElse) {
  ReturnFlows flows(64, std::chrono::seconds(10));
  const Clock::time_point t0{};
  EXPECT_EQ(flows.Remember(Key(40000), t0), ReturnFlows::Remembered::kNew);
  EXPECT_EQ(flows.Remember(Key(40000), t0), ReturnFlows::Remembered::kRefreshed);
  EXPECT_TRUE(flows.IsReply(Key(40000).Reversed(), t0));
  EXPECT_FALSE(flows.IsReply(Key(40000), t0)) << "the same direction is not a reply";
  EXPECT_FALSE(flows.IsReply(Key(40001).Reversed(), t0)) << "another source port";
  FlowKey other_vni = Key(40000).Reversed();
  other_vni.source_vni = 300;
  EXPECT_FALSE(flows.IsReply(other_vni, t0)) << "another network";
}

TEST(ReturnFlowsTest, AnIdleFlowExpiresAndTrafficEitherWayKeepsItAlive) {
  ReturnFlows flows(64, std::chrono::seconds(10));
  const Clock::time_point t0{};
  flows.Remember(Key(1), t0);
  EXPECT_TRUE(flows.IsReply(Key(1).Reversed(), t0 + std::chrono::seconds(9)))
      << "a reply refreshes it";
  EXPECT_TRUE(flows.IsReply(Key(1).Reversed(), t0 + std::chrono::seconds(18)));
  EXPECT_FALSE(flows.IsReply(Key(1).Reversed(), t0 + std::chrono::seconds(29)))
      << "idle for 11 s: gone";
}

TEST(ReturnFlowsTest, AFullTableRemembersNoNewFlowUntilAnEntryExpires) {
  ReturnFlows flows(8, std::chrono::seconds(10));  // one probe window: 8 slots in all
  const Clock::time_point t0{};
  for (uint16_t port = 1; port <= 8; ++port) {
    EXPECT_EQ(flows.Remember(Key(port), t0), ReturnFlows::Remembered::kNew);
  }
  EXPECT_EQ(flows.Remember(Key(9), t0), ReturnFlows::Remembered::kFull);
  EXPECT_FALSE(flows.IsReply(Key(9).Reversed(), t0));
  EXPECT_TRUE(flows.IsReply(Key(1).Reversed(), t0)) << "the others stay";
  // Once idle, the slots are reused.
  EXPECT_EQ(flows.Remember(Key(9), t0 + std::chrono::seconds(11)), ReturnFlows::Remembered::kNew);
  EXPECT_TRUE(flows.IsReply(Key(9).Reversed(), t0 + std::chrono::seconds(11)));
  EXPECT_EQ(flows.size(), 8U);
}

TEST(ReturnFlowsTest, FlushForgetsEveryFlow) {
  ReturnFlows flows(64, std::chrono::seconds(10));
  const Clock::time_point t0{};
  flows.Remember(Key(1), t0);
  flows.Remember(Key(2), t0);
  flows.Flush();
  EXPECT_EQ(flows.size(), 0U);
  EXPECT_FALSE(flows.IsReply(Key(1).Reversed(), t0));
}

TEST(ReturnFlowsTest, IPv6AndIcmpEchoKeysReverseToTheirReplies) {
  ReturnFlows flows(64, std::chrono::seconds(10));
  const FlowKey echo{.source_vni = 100,
                     .destination_vni = 200,
                     .source = Ip6("2001:db8:1::5"),
                     .destination = Ip6("2001:db8:2::7"),
                     .protocol = net::ip_proto::kIcmpv6,
                     .source_port = 77,
                     .destination_port = 77};
  flows.Remember(echo, {});
  EXPECT_TRUE(flows.IsReply(echo.Reversed(), {}));
}

// Tables compile a network's rules when it is upserted, and move the policy generation (which
// flushes the return flows) only when the rules change: a NetworkConfig update that changes
// something else keeps the remembered flows.
TEST(PolicyTableTest, TablesCompileTheRulesAndMoveTheGenerationOnlyWhenTheyChange) {
  Tables tables = RoutedTables();
  const uint64_t generation = tables.policy_generation();
  const NetworkTables* a = tables.Network(kNetA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->policy.size(), a->policies.size());
  EXPECT_TRUE(a->policy.Evaluate(kNetA, kNetB, kUdp, true, 53).allowed());

  NetworkSettings same = RoutedNetwork(kNetA);
  same.flood_tunnel_ips = {kOtherPeerVtep};  // another change, not to the rules
  ASSERT_TRUE(tables.UpsertNetwork(same));
  EXPECT_EQ(tables.policy_generation(), generation);

  ASSERT_TRUE(tables.UpsertNetwork(RoutedNetwork(kNetA, {})));
  EXPECT_GT(tables.policy_generation(), generation);
  EXPECT_FALSE(tables.Network(kNetA)->policy.Evaluate(kNetA, kNetB, kUdp, true, 53).allowed())
      << "recompiled: no rule left, default deny";
  const uint64_t after = tables.policy_generation();
  tables.RemoveNetwork(kNetB);  // it had rules
  EXPECT_GT(tables.policy_generation(), after);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
