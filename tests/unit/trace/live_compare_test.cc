// CompareLive: the switches' reports of a live trace against the model's answer.
#include "trace/live_compare.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dove::trace {
namespace {

v1::TraceStage Stage(const std::string& stage, const std::string& verdict,
                     const std::string& drop_reason = {}) {
  v1::TraceStage made;
  made.set_stage(stage);
  made.set_verdict(verdict);
  made.set_drop_reason(drop_reason);
  return made;
}

// The model: w1's packet routed by policy p1 to d1 on the switch at 192.0.2.12.
v1::TraceResult ModelDelivered() {
  v1::TraceResult model;
  model.set_outcome("delivered");
  model.add_reached("d1");
  *model.add_stages() = Stage("router", "pass");
  v1::TraceStage policy = Stage("policy", "pass");
  policy.set_policy_id("p1");
  *model.add_stages() = policy;
  v1::TraceStage encapsulation = Stage("encapsulation", "pass");
  encapsulation.set_tunnel_ip("192.0.2.12");
  *model.add_stages() = encapsulation;
  *model.add_stages() = Stage("delivery", "deliver");
  return model;
}

SwitchReport Source(const std::string& policy_id, const std::string& tunnel_ip) {
  SwitchReport report{.switch_name = "h1", .report = {}};
  report.report.set_trace_id(7);
  report.report.set_source(true);
  *report.report.add_stages() = Stage("router", "pass");
  v1::TraceStage policy = Stage("policy", "pass");
  policy.set_policy_id(policy_id);
  *report.report.add_stages() = policy;
  v1::TraceStage encapsulation = Stage("encapsulation", "pass");
  encapsulation.set_tunnel_ip(tunnel_ip);
  *report.report.add_stages() = encapsulation;
  return report;
}

SwitchReport Receiver(const std::string& name, const std::string& endpoint) {
  SwitchReport report{.switch_name = name, .report = {}};
  report.report.set_trace_id(7);
  *report.report.add_stages() = Stage("receiving_switch", "pass");
  v1::TraceStage delivery = Stage("delivery", "deliver");
  delivery.add_endpoint_ids(endpoint);
  *report.report.add_stages() = delivery;
  return report;
}

TEST(CompareLiveTest, SwitchesThatDoWhatTheModelSaysAgree) {
  v1::TraceResult result = ModelDelivered();
  // In any order: the source's report is listed first.
  CompareLive(result, {Receiver("h2", "d1"), Source("p1", "192.0.2.12")}, "");
  EXPECT_EQ(result.live_outcome(), "delivered");
  ASSERT_EQ(result.live_reached_size(), 1);
  EXPECT_EQ(result.live_reached(0), "d1");
  EXPECT_TRUE(result.disagreements().empty()) << result.DebugString();
  ASSERT_EQ(result.switches_size(), 2);
  EXPECT_EQ(result.switches(0).switch_name(), "h1");
  EXPECT_EQ(result.switches(0).role(), "source");
  EXPECT_EQ(result.switches(1).role(), "receiver");
}

TEST(CompareLiveTest, EachDifferenceIsASentence) {
  v1::TraceResult result = ModelDelivered();
  CompareLive(result, {Source("p2", "192.0.2.13"), Receiver("h3", "x9")}, "");
  const std::vector<std::string> lines(result.disagreements().begin(),
                                       result.disagreements().end());
  ASSERT_EQ(lines.size(), 3u) << result.DebugString();
  EXPECT_EQ(lines[0], "reached: the model says d1, the switches x9");
  EXPECT_EQ(lines[1], "policy: the model says policy \"p1\" decided, the switch policy \"p2\"");
  EXPECT_EQ(lines[2], "tunnel IP: the model says 192.0.2.12, the switch sent to 192.0.2.13");
}

TEST(CompareLiveTest, ADifferentDropReasonIsADisagreement) {
  // What the first live traces found: the model said arp_target_unknown where the switch
  // counts resolve_failed (the model now says resolve_failed).
  v1::TraceResult result;
  result.set_outcome("dropped");
  result.set_drop_reason("arp_target_unknown");
  SwitchReport source{.switch_name = "h1", .report = {}};
  source.report.set_source(true);
  *source.report.add_stages() = Stage("responder", "miss");
  *source.report.add_stages() = Stage("responder", "drop", "resolve_failed");
  CompareLive(result, {source}, "");
  EXPECT_EQ(result.live_outcome(), "dropped");
  EXPECT_EQ(result.live_drop_reason(), "resolve_failed");
  ASSERT_EQ(result.disagreements_size(), 1);
  EXPECT_EQ(result.disagreements(0),
            "drop reason: the model says arp_target_unknown, the switches resolve_failed");
}

TEST(CompareLiveTest, AnOutcomeTheModelDoesNotSeeIsADisagreement) {
  v1::TraceResult result;
  result.set_outcome("dropped");
  result.set_drop_reason("policy_default_deny");
  CompareLive(result, {Source("", "192.0.2.12"), Receiver("h2", "d1")}, "");
  EXPECT_EQ(result.live_outcome(), "delivered");
  ASSERT_GE(result.disagreements_size(), 1);
  EXPECT_EQ(result.disagreements(0), "outcome: the model says dropped, the switches delivered");
}

TEST(CompareLiveTest, NoSwitchToAskOrASwitchThatCannotTraceLeavesNothingToCompare) {
  v1::TraceResult result = ModelDelivered();
  CompareLive(result, {}, "this controller serves no switches (no southbound)");
  EXPECT_EQ(result.live_outcome(), "unknown");
  ASSERT_EQ(result.disagreements_size(), 1);
  EXPECT_EQ(result.disagreements(0),
            "no live result to compare: this controller serves no switches (no southbound)");

  v1::TraceResult kernel = ModelDelivered();
  SwitchReport refused{.switch_name = "h1", .report = {}};
  refused.report.set_source(true);
  refused.report.set_error("live traces need --backend userspace");
  CompareLive(kernel, {refused}, "");
  ASSERT_EQ(kernel.disagreements_size(), 1);
  EXPECT_EQ(kernel.disagreements(0),
            "no live result to compare: switch \"h1\": live traces need --backend userspace");
  ASSERT_EQ(kernel.switches_size(), 1);
  EXPECT_EQ(kernel.switches(0).error(), "live traces need --backend userspace");
}

TEST(CompareLiveTest, TheOrderCarriesThePacketAsTheControllerParsedIt) {
  const auto packet = ParsePacketSpec("tcp to [2001:db8::5]:443");
  ASSERT_TRUE(packet);
  const v1::TraceOrder order = OrderFor(*packet, "vm1");
  EXPECT_EQ(order.endpoint_id(), "vm1");
  EXPECT_EQ(order.kind(), v1::TraceOrder::KIND_TCP);
  EXPECT_EQ(order.ip(), "2001:db8::5");
  EXPECT_EQ(order.port(), 443u);
  EXPECT_EQ(order.mac(), "");
  const auto broadcast = ParsePacketSpec("udp to ff:ff:ff:ff:ff:ff");
  ASSERT_TRUE(broadcast);
  EXPECT_EQ(OrderFor(*broadcast, "vm1").mac(), "ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(OrderFor(*broadcast, "vm1").ip(), "");
}

}  // namespace
}  // namespace dove::trace
