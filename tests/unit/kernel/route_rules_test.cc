#include "dswitch/kernel/route_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "unit/io/network_namespace.h"
#include "unit/kernel/routing_lab.h"

namespace dove::dswitch::kernel {
namespace {

using testing::Output;

using dove::dswitch::io::testing::RunInNetworkNamespace;

TEST(RouteRulesTest, AddsListsAndDeletesFwmarkRulesOfBothFamilies) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rules = RouteRules::Open();
    ASSERT_TRUE(rules) << rules.error();
    const std::string before = Output("ip rule; ip -6 rule");
    for (const bool ipv6 : {false, true}) {
      const RouteRule rule{ipv6, 1000, 100000042, 100000042};
      ASSERT_TRUE((*rules)->Add(rule));
      EXPECT_TRUE((*rules)->Add(rule)) << "adding an existing rule is not an error";
      auto listed = (*rules)->List(ipv6);
      ASSERT_TRUE(listed) << listed.error();
      EXPECT_EQ(std::count(listed->begin(), listed->end(), rule), 1);
      EXPECT_NE(std::find(listed->begin(), listed->end(), RouteRule{ipv6, 0, 255, 0}),
                listed->end())
          << "the local table's rule is listed too";
    }
    EXPECT_NE(Output("ip rule").find("1000:\tfrom all fwmark 0x5f5e12a lookup 100000042"),
              std::string::npos)
        << Output("ip rule");
    for (const bool ipv6 : {false, true}) {
      ASSERT_TRUE((*rules)->Delete({ipv6, 1000, 100000042, 100000042}));
      EXPECT_TRUE((*rules)->Delete({ipv6, 1000, 100000042, 100000042}))
          << "deleting an absent rule is not an error";
    }
    EXPECT_EQ(Output("ip rule; ip -6 rule"), before);
  });
}

}  // namespace
}  // namespace dove::dswitch::kernel
