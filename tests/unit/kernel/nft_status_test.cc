#include "dswitch/kernel/nft_status.h"

#include <gtest/gtest.h>

#include "dswitch/kernel/nft_ruleset.h"

namespace dove::dswitch::kernel {
namespace {

TEST(NftStatusTest, ShowsTheNftCountersUnderTheUserspaceBackendsNames) {
  RoutePlan plan;
  plan.domains.push_back(DomainPlan{});
  plan.domains[0].policies.push_back(
      {.id = "pol-1", .action = pipeline::PolicyRule::Action::kReject});
  const std::vector<NftCounter> counters = {
      {"inet", "vtep_not_allowed", 4, 400},
      {"inet", "vxlan_malformed", 2, 200},
      {"inet", "policy_default_deny", 7, 700},
      {"inet", PolicyCounterName("pol-1"), 3, 300},  // policy_pol_1_denied
      {"inet", "policy_gone_2_denied", 1, 100},      // its policy left the plan
      {"netdev", PortCounterName("v-a", "bad_mac"), 5, 500},
      {"netdev", PortCounterName("v-b", "bad_mac"), 1, 100},
      {"netdev", PortCounterName("v-b", "not_ip"), 2, 200},
      {"netdev", "routed_source_unknown", 6, 600},  // a stateless arrival's
      {"inet", "routed_source_unknown", 1, 100},
      {"inet", "somebody_elses", 9, 900},
  };
  userspace::DatapathStatus status;
  AddNftCounters(counters, &plan, status);
  EXPECT_EQ(status.drops.at("vtep_not_allowed"), 4u);
  EXPECT_EQ(status.drops.at("vxlan_malformed"), 2u);
  EXPECT_EQ(status.drops.at("vxlan_unknown_vni"), 0u) << "zero reasons are shown too";
  EXPECT_EQ(status.drops.at("routed_vtep_not_allowed"), 0u);
  EXPECT_EQ(status.drops.at("policy_default_deny"), 7u);
  EXPECT_EQ(status.drops.at("no_route"), 0u);
  EXPECT_EQ(status.drops.at("routed_source_unknown"), 7u) << "both tables'";
  EXPECT_EQ(status.drops.at("port_bad_mac"), 6u) << "over the ports";
  EXPECT_EQ(status.drops.at("port_not_ip"), 2u);
  EXPECT_EQ(status.drops.at("port_bad_ip"), 0u);
  EXPECT_EQ(status.counters.at("policy.pol-1.denied"), 3u) << "the policy's own id";
  EXPECT_EQ(status.counters.at("policy.gone_2.denied"), 1u);
  EXPECT_FALSE(status.drops.contains("somebody_elses"));
  EXPECT_EQ(status.drops.size(), 12u) << "4 underlay + 4 routing + 4 port reasons";

  userspace::DatapathStatus without_plan;
  AddNftCounters(counters, nullptr, without_plan);
  EXPECT_EQ(without_plan.counters.at("policy.pol_1.denied"), 3u);
}

}  // namespace
}  // namespace dove::dswitch::kernel
