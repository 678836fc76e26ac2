// POST /v1/trace on a live controller: a routed packet's stages with the policy that decided,
// a denied one's drop reason, and the refusals (unknown source, a packet that does not parse,
// an unknown field, GET); nothing a trace does changes the revision.
#include "api/api_client.h"

namespace dove::api_test {
namespace {

class ApiTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.running());
    api_.Create("domains", {{"id", "acme"}, {"name", "acme"}});
    api_.Create("networks", {{"id", "web"}, {"domain_id", "acme"}, {"name", "web"}, {"vni", 100}});
    api_.Create("networks", {{"id", "db"}, {"domain_id", "acme"}, {"name", "db"}, {"vni", 200}});
    api_.Create("subnets",
                {{"network_id", "web"}, {"cidr", "10.0.0.0/24"}, {"gateway", "10.0.0.1"}});
    api_.Create("subnets",
                {{"network_id", "db"}, {"cidr", "10.1.0.0/24"}, {"gateway", "10.1.0.1"}});
    api_.Create("switches", {{"name", "h1"}, {"tunnel_ip", "192.0.2.11"}, {"state", "STATE_UP"}});
    api_.Create("switches", {{"name", "h2"}, {"tunnel_ip", "192.0.2.12"}, {"state", "STATE_UP"}});
    api_.Create(
        "endpoints",
        {{"id", "w1"}, {"network_id", "web"}, {"ips", {"10.0.0.11"}}, {"switch_name", "h1"}});
    api_.Create(
        "endpoints",
        {{"id", "d1"}, {"network_id", "db"}, {"ips", {"10.1.0.21"}}, {"switch_name", "h2"}});
    api_.Create("policies", {{"id", "pg"},
                             {"domain_id", "acme"},
                             {"source_network_id", "web"},
                             {"destination_network_id", "db"},
                             {"action", "ACTION_ALLOW"},
                             {"protocol", 6},
                             {"port_range", {{"first", 5432}, {"last", 5432}}}});
  }

  Reply Trace(const json& body) { return api_.Send("POST", "/v1/trace", body.dump()); }

  ApiFixture api_;
};

TEST_F(ApiTraceTest, ARoutedPacketShowsItsStagesAndTheRuleThatAllowedIt) {
  const int64_t before = api_.Revision();
  const Reply reply = Trace({{"source", "w1"}, {"packet", "tcp to 10.1.0.21:5432"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json result = reply.Json();
  EXPECT_EQ(result["outcome"], "delivered");
  EXPECT_EQ(result["reached"], json::array({"d1"}));
  EXPECT_EQ(result["packet"], "tcp to 10.1.0.21:5432");
  std::vector<std::string> stages;
  for (const auto& stage : result["stages"]) stages.push_back(stage["stage"]);
  EXPECT_EQ(stages, (std::vector<std::string>{"source", "port_security", "responder", "router",
                                              "policy", "l2_lookup", "encapsulation",
                                              "receiving_switch", "delivery"}));
  EXPECT_EQ(result["stages"][4]["policy_id"], "pg");
  EXPECT_NE(result["stages"][6]["detail"].get<std::string>().find("VNI 200"), std::string::npos)
      << result.dump();
  EXPECT_NE(result["stages"][6]["detail"].get<std::string>().find("192.0.2.12"), std::string::npos);

  const Reply denied = Trace({{"source", "w1"}, {"packet", "udp to 10.1.0.21:53"}});
  ASSERT_EQ(denied.status, 200) << denied.body;
  EXPECT_EQ(denied.Json()["outcome"], "dropped");
  EXPECT_EQ(denied.Json()["drop_reason"], "policy_default_deny");
  EXPECT_EQ(api_.Revision(), before) << "a trace writes nothing";
}

TEST_F(ApiTraceTest, BadRequestsAreRefusedWithTheirReason) {
  const Reply unknown = Trace({{"source", "nobody"}, {"packet", "icmp to 10.0.0.1"}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.Json()["error"]["code"], "not_found");
  const Reply bad_packet = Trace({{"source", "w1"}, {"packet", "tcp to 10.1.0.21"}});
  EXPECT_EQ(bad_packet.status, 400) << bad_packet.body;
  EXPECT_EQ(bad_packet.Json()["error"]["code"], "invalid_value");
  EXPECT_NE(bad_packet.body.find("is not IP:PORT"), std::string::npos) << bad_packet.body;
  const Reply no_source = Trace({{"packet", "icmp to 10.0.0.1"}});
  EXPECT_EQ(no_source.status, 400) << no_source.body;
  EXPECT_NE(no_source.body.find("source is required"), std::string::npos) << no_source.body;
  const Reply extra = Trace({{"source", "w1"}, {"packet", "icmp to 10.0.0.1"}, {"hops", 3}});
  EXPECT_EQ(extra.status, 400) << extra.body;
  EXPECT_EQ(extra.Json()["error"]["code"], "unknown_field");
  const Reply deliver =
      Trace({{"source", "w1"}, {"packet", "icmp to 10.0.0.1"}, {"deliver", true}});
  EXPECT_EQ(deliver.status, 400) << deliver.body;
  EXPECT_NE(deliver.body.find("deliver is for live traces only"), std::string::npos)
      << deliver.body;
  const Reply get = api_.Send("GET", "/v1/trace");
  EXPECT_EQ(get.status, 405) << get.body;
  EXPECT_EQ(get.Json()["error"]["code"], "method_not_allowed");
}

// A live trace whose source switch is not connected: the model's answer, and why there is no
// live one (a disagreement: dovectl exits 6), in the same 200.
TEST_F(ApiTraceTest, ALiveTraceOfASwitchThatIsNotConnectedSaysWhy) {
  const Reply reply =
      Trace({{"source", "w1"}, {"packet", "tcp to 10.1.0.21:5432"}, {"live", true}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json result = reply.Json();
  EXPECT_EQ(result["outcome"], "delivered");
  EXPECT_EQ(result["live_outcome"], "unknown");
  ASSERT_EQ(result["disagreements"].size(), 1u) << reply.body;
  const std::string why = result["disagreements"][0];
  EXPECT_TRUE(why.find("\"h1\" has no stream to this controller") != std::string::npos ||
              why.find("serves no switches") != std::string::npos)
      << why;
}

}  // namespace
}  // namespace dove::api_test
