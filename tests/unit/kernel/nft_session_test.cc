#include "dswitch/kernel/nft_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "dswitch/kernel/nft_ruleset.h"
#include "unit/io/network_namespace.h"
#include "unit/kernel/routing_lab.h"

namespace dove::dswitch::kernel {
namespace {

using testing::Output;

using dove::dswitch::io::testing::RunInNetworkNamespace;
using dove::dswitch::io::testing::Shell;

net::MacAddress Mac(const char* text) { return *net::MacAddress::Parse(text); }

RoutePlan OnePortPlan() {
  pipeline::NetworkSettings web;
  web.vni = 42;
  web.router_mac = Mac("02:00:00:00:00:aa");
  web.routes = {{*net::IpPrefix::Parse("10.0.0.0/24"), *net::IpAddress::Parse("10.0.0.1"), 42},
                {*net::IpPrefix::Parse("10.0.1.0/24"), *net::IpAddress::Parse("10.0.1.1"), 43}};
  web.policies = {{.id = "deny1",
                   .source_vni = 42,
                   .destination_vni = 43,
                   .action = pipeline::PolicyRule::Action::kDeny,
                   .protocol = 17,
                   .first_port = 53,
                   .last_port = 53,
                   .priority = 1}};
  return PlanRoutes({web},
                    {{"vm1", 42, Mac("02:00:00:00:01:01"), {*net::IpAddress::Parse("10.0.0.5")}}});
}

TEST(NftSessionTest, ParsesTheCountersOfOurTablesOnly) {
  const auto counters = ParseNftCounters(
      R"({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
          {"counter": {"family": "inet", "name": "to_host", "table": "dove", "handle": 3,
                       "packets": 7, "bytes": 420}},
          {"counter": {"family": "ip", "name": "theirs", "table": "filter", "handle": 2,
                       "packets": 1, "bytes": 1}}]})");
  ASSERT_TRUE(counters) << counters.error();
  ASSERT_EQ(counters->size(), 1u);
  EXPECT_EQ((*counters)[0], (NftCounter{"inet", "to_host", 7, 420}));
  for (const char* bad : {"", "[]", "{}", R"({"nftables": [1]})",
                          R"({"nftables": [{"counter": {"family": "inet"}}]})",
                          R"({"nftables": [{"counter": {"family": "inet", "name": "x",
                              "table": "dove", "packets": -1, "bytes": 0}}]})"}) {
    EXPECT_FALSE(ParseNftCounters(bad)) << bad;
  }
}

TEST(NftSessionTest, LoadsReplacesAndRemovesOnlyItsTables) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip link add dvb42 type bridge && ip link add dvb43 type bridge");
    Shell("ip link add vm1 type veth peer name vm1p");
    Shell("nft add table ip theirs && nft add chain ip theirs c && nft add counter ip theirs n");
    const std::string before = Output("nft list ruleset");

    auto session = NftSession::Open();
    ASSERT_TRUE(session) << session.error();
    const std::string text = NftRuleset(OnePortPlan());
    auto applied = (*session)->Apply(text);
    ASSERT_TRUE(applied) << applied.error() << "\n" << text;
    const std::string tables = Output("nft list tables");
    EXPECT_NE(tables.find("table inet dove"), std::string::npos) << tables;
    EXPECT_NE(tables.find("table bridge dove"), std::string::npos) << tables;
    EXPECT_NE(tables.find("table netdev dove"), std::string::npos) << tables;
    // The port's chain is on the ingress of a device that is not there (yet): kept, hooked
    // when it appears.
    EXPECT_NE(Output("nft list chain netdev dove port_vm1").find("device \"vm1\""),
              std::string::npos);
    EXPECT_NE(Output("nft list chain inet dove route_42_43").find("udp dport 53"),
              std::string::npos);

    // Counters survive a replacement of the tables (the kernel's restart at zero).
    Shell("nft 'insert rule inet dove input counter name \"to_host\"'");  // counts this netns's own
    Shell("ping -c 2 -W 1 127.0.0.1 >/dev/null");
    auto counters = (*session)->Counters();
    ASSERT_TRUE(counters) << counters.error();
    auto to_host = [](const std::vector<NftCounter>& all) {
      const auto it = std::find_if(all.begin(), all.end(), [](const NftCounter& c) {
        return c.family == "inet" && c.name == "to_host";
      });
      return it == all.end() ? uint64_t{0} : it->packets;
    };
    const uint64_t counted = to_host(*counters);
    EXPECT_GE(counted, 2u);
    ASSERT_TRUE((*session)->Apply(text));
    counters = (*session)->Counters();
    ASSERT_TRUE(counters);
    EXPECT_EQ(to_host(*counters), counted);
    EXPECT_NE(std::find_if(counters->begin(), counters->end(),
                           [](const NftCounter& c) {
                             return c.family == "netdev" && c.name == "port_vm1_bad_mac";
                           }),
              counters->end());

    // A broken ruleset changes nothing.
    EXPECT_FALSE((*session)->Apply("table inet dove { chain c { no such thing; } }"));
    EXPECT_NE(Output("nft list tables").find("table bridge dove"), std::string::npos);
    EXPECT_NE(Output("nft list tables").find("table netdev dove"), std::string::npos);

    ASSERT_TRUE((*session)->Remove());
    EXPECT_EQ(Output("nft list ruleset"), before);
    EXPECT_TRUE((*session)->Remove()) << "removing twice is not an error";
  });
}

}  // namespace
}  // namespace dove::dswitch::kernel
