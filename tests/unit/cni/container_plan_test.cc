// The CNI result dove-cni prints after ADD, from the endpoint and subnets the controller gave:
// the spec's fields (interfaces, ips with interface index, routes, dns), per version.
#include "cni/container_plan.h"

#include <gtest/gtest.h>

#include "cni/attachment_names.h"
#include "cni/cni_error.h"
#include "cni/cni_version.h"

namespace dove::cni {
namespace {

using nlohmann::json;

const json kSubnets = json::parse(R"([
  {"id":"s1","network_id":"n1","cidr":"10.0.0.0/24","gateway":"10.0.0.1",
   "dns_servers":["10.0.0.53","9.9.9.9"],"mtu":1400},
  {"id":"s2","network_id":"n1","cidr":"2001:db8::/64","gateway":"2001:db8::1",
   "dns_servers":["9.9.9.9"]},
  {"id":"s3","network_id":"n1","cidr":"10.9.0.0/16"}
])");

Attachment MakeAttachment() {
  return {.host_veth = "dc0123456789ab",
          .host_mac = *net::MacAddress::Parse("0a:00:00:00:00:01"),
          .ifname = "eth0",
          .netns = "/run/netns/c1"};
}

TEST(ContainerPlanTest, ResultHasTheSpecsFields) {
  const json endpoint = {{"id", "cni-1"},
                         {"mac", "02:00:00:00:01:05"},
                         {"ips", {"10.0.0.5", "2001:db8::5", "10.9.3.4"}}};
  auto plan = PlanContainer(endpoint, kSubnets);
  ASSERT_TRUE(plan) << plan.error().msg;
  EXPECT_EQ(plan->subnet_mtu, 1400u);
  const json result = ResultJson("1.0.0", *plan, MakeAttachment());
  const json expected = json::parse(R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "dc0123456789ab", "mac": "0a:00:00:00:00:01"},
                   {"name": "eth0", "mac": "02:00:00:00:01:05", "sandbox": "/run/netns/c1"}],
    "ips": [{"address": "10.0.0.5/24", "gateway": "10.0.0.1", "interface": 1},
            {"address": "2001:db8::5/64", "gateway": "2001:db8::1", "interface": 1},
            {"address": "10.9.3.4/16", "interface": 1}],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1"}, {"dst": "::/0", "gw": "2001:db8::1"}],
    "dns": {"nameservers": ["10.0.0.53", "9.9.9.9"]}
  })");
  EXPECT_EQ(result, expected) << result.dump(2);
}

TEST(ContainerPlanTest, Version040AddsTheIpVersion) {
  const json endpoint = {{"id", "e"}, {"mac", "02:00:00:00:01:05"}, {"ips", {"10.9.0.7"}}};
  auto plan = PlanContainer(endpoint, kSubnets);
  ASSERT_TRUE(plan);
  const json result = ResultJson("0.4.0", *plan, MakeAttachment());
  EXPECT_EQ(result["cniVersion"], "0.4.0");
  EXPECT_EQ(result["ips"][0]["version"], "4");
  EXPECT_EQ(result["routes"], json::array()) << "no gateway, no default route";
  EXPECT_EQ(result["dns"], json::object());
}

TEST(ContainerPlanTest, EndpointsTheControllerShouldNotHaveGivenAreRefused) {
  const json cases[] = {
      {{"id", "e"}, {"ips", {"10.0.0.5"}}},
      {{"id", "e"}, {"mac", "01:00:5e:00:00:01"}, {"ips", {"10.0.0.5"}}},
      {{"id", "e"}, {"mac", "02:00:00:00:01:05"}},
      {{"id", "e"}, {"mac", "02:00:00:00:01:05"}, {"ips", json::array()}},
      {{"id", "e"}, {"mac", "02:00:00:00:01:05"}, {"ips", {"192.168.1.1"}}},
      {{"id", "e"}, {"mac", "02:00:00:00:01:05"}, {"ips", {"not-an-ip"}}},
  };
  for (const auto& endpoint : cases) {
    auto plan = PlanContainer(endpoint, kSubnets);
    ASSERT_FALSE(plan) << endpoint.dump();
    EXPECT_EQ(plan.error().code, kControllerRefused);
    EXPECT_FALSE(plan.error().msg.empty());
  }
}

TEST(CniErrorTest, ErrorJsonIsTheSpecsShape) {
  EXPECT_EQ(json::parse(ErrorJson({.code = 7, .msg = "Bad.", .details = "more"}, "0.4.0")),
            json::parse(R"({"cniVersion":"0.4.0","code":7,"msg":"Bad.","details":"more"})"));
  EXPECT_EQ(json::parse(ErrorJson({.code = 4, .msg = "Bad.", .details = ""}, "")),
            json::parse(R"({"cniVersion":"1.0.0","code":4,"msg":"Bad."})"));
  EXPECT_EQ(json::parse(VersionJson()),
            json::parse(R"({"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]})"));
}

TEST(AttachmentNamesTest, NamesAreDeterministicShortAndDistinct) {
  const auto a = NamesFor("c1", "eth0");
  EXPECT_EQ(a.host_veth, NamesFor("c1", "eth0").host_veth);
  EXPECT_EQ(a.endpoint_id, NamesFor("c1", "eth0").endpoint_id);
  EXPECT_LE(a.host_veth.size(), 15u);
  EXPECT_EQ(a.host_veth.substr(0, 2), "dc");
  EXPECT_EQ(a.endpoint_id.size(), 20u);
  EXPECT_NE(a.host_veth, NamesFor("c1", "eth1").host_veth);
  EXPECT_NE(a.host_veth, NamesFor("c2", "eth0").host_veth);
  EXPECT_NE(NamesFor("c1", "eth01").endpoint_id, NamesFor("c1e", "th01").endpoint_id);
}

}  // namespace
}  // namespace dove::cni
