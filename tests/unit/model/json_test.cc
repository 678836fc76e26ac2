#include "model/json.h"

#include <gtest/gtest.h>

#include <string>

#include "dove/v1/model.pb.h"

namespace dove::model {
namespace {

struct JsonCase {
  const char* description;
  std::string json;
  const char* code;  // "" = accepted
  const char* message_part;
};

class NetworkJsonTest : public testing::TestWithParam<JsonCase> {};

TEST_P(NetworkJsonTest, DecodesOrRefuses) {
  const auto& c = GetParam();
  auto network = FromJson<v1::Network>(c.json);
  if (std::string(c.code).empty()) {
    ASSERT_TRUE(network) << network.error().code << ": " << network.error().message;
    return;
  }
  ASSERT_FALSE(network);
  EXPECT_EQ(network.error().code, c.code);
  EXPECT_NE(network.error().message.find(c.message_part), std::string::npos)
      << network.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NetworkJsonTest,
    testing::Values(
        JsonCase{"snake case", R"({"id":"n1","domain_id":"d1","name":"web","vni":7})", "", ""},
        JsonCase{"camel case", R"({"id":"n1","domainId":"d1"})", "", ""},
        JsonCase{"integer as string (proto3 JSON)", R"({"vni":"7"})", "", ""},
        JsonCase{"null is the default", R"({"id":null})", "", ""},
        JsonCase{"empty object", "{}", "", ""},
        JsonCase{"unknown field", R"({"id":"n1","colour":"red"})", "unknown_field",
                 R"(Network has no field "colour")"},
        JsonCase{"string for integer", R"({"vni":"abc"})", "invalid_value", R"("vni")"},
        JsonCase{"negative for unsigned", R"({"vni":-1})", "invalid_value", R"("vni")"},
        JsonCase{"huge number", R"({"vni":99999999999})", "invalid_value", "99999999999"},
        JsonCase{"just over uint32", R"({"vni":4294967296})", "invalid_value", R"("vni")"},
        JsonCase{"fraction for integer", R"({"vni":1.5})", "invalid_value", R"("vni")"},
        JsonCase{"bool for integer", R"({"vni":true})", "invalid_value", R"("vni")"},
        JsonCase{"number for string", R"({"name":5})", "invalid_value", R"("name")"},
        JsonCase{"duplicate key", R"({"id":"a","id":"b"})", "duplicate_field", R"("id")"},
        JsonCase{"duplicate by both names", R"({"domain_id":"a","domainId":"b"})",
                 "duplicate_field", "more than once"},
        JsonCase{"trailing garbage", R"({"id":"a"} xyz)", "invalid_json", "not valid JSON"},
        JsonCase{"two objects", R"({"id":"a"}{"id":"b"})", "invalid_json", "not valid JSON"},
        JsonCase{"truncated", R"({"id":"a")", "invalid_json", "not valid JSON"},
        JsonCase{"empty body", "", "invalid_json", "not valid JSON"},
        JsonCase{"array", "[1]", "invalid_json", "JSON object"},
        JsonCase{"bare string", R"("n1")", "invalid_json", "JSON object"},
        JsonCase{"lone surrogate", R"({"id":"\ud800"})", "invalid_json", "not valid JSON"},
        JsonCase{"bad utf-8", "{\"id\":\"\xff\"}", "invalid_json", "not valid JSON"},
        JsonCase{"too large", "{\"name\":\"" + std::string(kMaxJsonBytes, 'a') + "\"}", "too_large",
                 "limit"}),
    [](const testing::TestParamInfo<JsonCase>& param_info) {
      std::string name;
      for (char c : std::string(param_info.param.description)) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

TEST(JsonTest, NestedUnknownFieldNamesThePath) {
  auto policy = FromJson<v1::Policy>(R"({"port_range":{"first":1,"bad":2}})");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, "unknown_field");
  EXPECT_EQ(policy.error().message, R"(Policy.port_range has no field "bad".)");
}

TEST(JsonTest, DuplicateKeyInNestedObject) {
  auto policy = FromJson<v1::Policy>(R"({"port_range":{"first":1,"first":2}})");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, "duplicate_field");
}

TEST(JsonTest, SameKeyInDifferentObjectsIsNoDuplicate) {
  auto subnet = FromJson<v1::Subnet>(
      R"({"id":"s1","dhcp_range":{"first":"10.0.0.10","last":"10.0.0.20"},"dns_servers":["a","b"]})");
  ASSERT_TRUE(subnet) << subnet.error().message;
  auto sw = FromJson<v1::Switch>(R"({"id":"x","last_heartbeat":"2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(sw) << sw.error().message;
}

TEST(JsonTest, KeyLookingLikeAValueIsNotConfusedWithAKey) {
  auto endpoint = FromJson<v1::Endpoint>(R"({"id":"mac","mac":"id","ips":["id","mac"]})");
  ASSERT_TRUE(endpoint) << endpoint.error().message;
  EXPECT_EQ(endpoint->id(), "mac");
}

// protobuf's parser alone takes a string where a list belongs, drops nulls inside lists and
// calls an object where a string belongs bad JSON; every wrong shape is invalid_value here.
TEST(JsonTest, WrongShapesAreInvalidValueNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case endpoint_cases[] = {
      {R"({"ips":"10.0.0.5"})", R"("ips")"},
      {R"({"ips":[null]})", R"("ips[0]")"},
      {R"({"ips":["10.0.0.5",7]})", R"("ips[1]")"},
      {R"({"ips":{}})", R"("ips")"},
      {R"({"mac":{}})", R"("mac")"},
      {R"({"mac":["52:54:00:00:00:01"]})", R"("mac")"},
      {R"({"version":[1]})", R"("version")"},
      {R"({"name_of_nothing":{}, "mac":true})", R"("mac")"},
  };
  for (const auto& c : endpoint_cases) {
    auto endpoint = FromJson<v1::Endpoint>(c.json);
    ASSERT_FALSE(endpoint) << c.json;
    EXPECT_EQ(endpoint.error().code, "invalid_value") << c.json << ": " << endpoint.error().message;
    EXPECT_NE(endpoint.error().message.find(c.field), std::string::npos)
        << c.json << ": " << endpoint.error().message;
  }
  const Case other_cases[] = {
      {R"({"dns_servers":"8.8.8.8"})", R"("dns_servers")"},
      {R"({"dhcp_range":"10.0.0.1-10.0.0.9"})", R"("dhcp_range")"},
      {R"({"dhcp_range":{"first":1}})", R"("dhcp_range.first")"},
  };
  for (const auto& c : other_cases) {
    auto subnet = FromJson<v1::Subnet>(c.json);
    ASSERT_FALSE(subnet) << c.json;
    EXPECT_EQ(subnet.error().code, "invalid_value") << c.json << ": " << subnet.error().message;
    EXPECT_NE(subnet.error().message.find(c.field), std::string::npos)
        << c.json << ": " << subnet.error().message;
  }
  auto policy = FromJson<v1::Policy>(R"({"action":{"allow":true}})");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, "invalid_value");
  auto sw = FromJson<v1::Switch>(R"({"last_heartbeat":12})");
  ASSERT_FALSE(sw);
  EXPECT_EQ(sw.error().code, "invalid_value");
  // Still accepted: null lists, numbers as strings, enums by number.
  EXPECT_TRUE(FromJson<v1::Endpoint>(R"({"ips":null,"version":"3"})"));
  EXPECT_TRUE(FromJson<v1::Policy>(R"({"action":1,"port_range":null})"));
}

TEST(JsonTest, UnknownEnumNameIsInvalidValue) {
  auto policy = FromJson<v1::Policy>(R"({"action":"ACTION_MAYBE"})");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, "invalid_value");
  EXPECT_NE(policy.error().message.find(R"("action")"), std::string::npos);
}

TEST(JsonTest, BadTimestampIsInvalidValue) {
  auto sw = FromJson<v1::Switch>(R"({"last_heartbeat":"yesterday"})");
  ASSERT_FALSE(sw);
  EXPECT_EQ(sw.error().code, "invalid_value");
  EXPECT_NE(sw.error().message.find("last_heartbeat"), std::string::npos);
}

TEST(JsonTest, BodyExactlyAtTheLimitIsParsed) {
  std::string json = R"({"name":")";
  json += std::string(kMaxJsonBytes - json.size() - 2, 'a') + "\"}";
  ASSERT_EQ(json.size(), kMaxJsonBytes);
  EXPECT_TRUE(FromJson<v1::Domain>(json));
}

TEST(JsonTest, ToJsonUsesProtoNamesAndPrintsDefaults) {
  v1::Network network;
  network.set_id("n1");
  network.set_domain_id("d1");
  auto json = ToJson(network);
  ASSERT_TRUE(json);
  EXPECT_EQ(*json, R"({"id":"n1","domain_id":"d1","name":"","vni":0})");
}

TEST(JsonTest, ToJsonPrintsEnumsByName) {
  v1::Policy policy;
  policy.set_action(v1::Policy::ACTION_DENY);
  auto json = ToJson(policy);
  ASSERT_TRUE(json);
  EXPECT_NE(json->find(R"("action":"ACTION_DENY")"), std::string::npos) << *json;
}

TEST(JsonTest, RoundTripsEveryMessage) {
  v1::Endpoint endpoint;
  endpoint.set_id("e1");
  endpoint.set_network_id("n1");
  endpoint.set_mac("52:54:00:00:00:01");
  endpoint.add_ips("10.0.0.2");
  endpoint.add_ips("2001:db8::2");
  endpoint.set_version(3);
  auto json = ToJson(endpoint);
  ASSERT_TRUE(json);
  auto back = FromJson<v1::Endpoint>(*json);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->SerializeAsString(), endpoint.SerializeAsString());

  v1::Switch sw;
  sw.set_id("s1");
  sw.set_state(v1::Switch::STATE_UP);
  sw.mutable_last_heartbeat()->set_seconds(1'700'000'000);
  json = ToJson(sw);
  ASSERT_TRUE(json);
  auto sw_back = FromJson<v1::Switch>(*json);
  ASSERT_TRUE(sw_back) << sw_back.error().message;
  EXPECT_EQ(sw_back->SerializeAsString(), sw.SerializeAsString());
}

TEST(JsonTest, ToJsonRefusesInvalidUtf8) {
  v1::Domain domain;
  domain.set_name("\xff");
  auto json = ToJson(domain);
  ASSERT_FALSE(json);
  EXPECT_EQ(json.error().code, "internal");
  EXPECT_NE(json.error().message.find(R"("name")"), std::string::npos);

  v1::Subnet subnet;
  subnet.mutable_dhcp_range()->set_last("10.0.0.\xc0\x80");  // overlong encoding of NUL
  json = ToJson(subnet);
  ASSERT_FALSE(json);
  EXPECT_NE(json.error().message.find("dhcp_range.last"), std::string::npos);

  v1::Endpoint endpoint;
  endpoint.add_ips("caf\xc3\xa9");   // valid two-byte UTF-8
  endpoint.add_ips("\xed\xa0\x80");  // a UTF-16 surrogate, not UTF-8
  json = ToJson(endpoint);
  ASSERT_FALSE(json);
  EXPECT_NE(json.error().message.find(R"("ips")"), std::string::npos);

  endpoint.clear_ips();
  endpoint.add_ips("caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_TRUE(ToJson(endpoint));
}

}  // namespace
}  // namespace dove::model
