#include "model/json.h"

#include <gtest/gtest.h>

#include <ostream>
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

void PrintTo(const JsonCase& c, std::ostream* out) { *out << c.description; }

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
        JsonCase{"whitespace everywhere", " \t\r\n{ \"vni\" : 7 , \"id\":\"n1\" }\n", "", ""},
        JsonCase{"empty object", "{}", "", ""},
        JsonCase{"escaped key is the field", R"({"\u0069d":"n1"})", "", ""},
        JsonCase{"minus zero is zero", R"({"vni":-0})", "", ""},
        JsonCase{"uint32 max", R"({"vni":4294967295})", "", ""},
        // proto3 JSON leniency is refused: one spelling per value.
        JsonCase{"camel case is no alias", R"({"id":"n1","domainId":"d1"})", "unknown_field",
                 R"(snake_case: "domain_id")"},
        JsonCase{
            "integer as string", R"({"vni":"7"})", "invalid_value",
            R"("vni" of Network must be an integer in 0..4294967295 (a JSON number), not a string)"},
        JsonCase{"null for a string", R"({"id":null})", "invalid_value",
                 R"("id" of Network must be a string, not null)"},
        JsonCase{"null for a number", R"({"vni":null})", "invalid_value", R"("vni")"},
        JsonCase{"exponent for integer", R"({"vni":1e3})", "invalid_value", "without a fraction"},
        JsonCase{"fraction zero for integer", R"({"vni":7.0})", "invalid_value", R"("vni")"},
        JsonCase{"unknown field", R"({"id":"n1","colour":"red"})", "unknown_field",
                 R"(Network has no field "colour")"},
        JsonCase{"string for integer", R"({"vni":"abc"})", "invalid_value", R"("vni")"},
        JsonCase{"negative for unsigned", R"({"vni":-1})", "invalid_value", R"("vni")"},
        JsonCase{"huge number", R"({"vni":99999999999})", "invalid_value", "99999999999"},
        JsonCase{"just over uint32", R"({"vni":4294967296})", "invalid_value", R"("vni")"},
        JsonCase{"over uint64", R"({"vni":18446744073709551616})", "invalid_value",
                 "18446744073709551616"},
        JsonCase{"fraction for integer", R"({"vni":1.5})", "invalid_value", R"("vni")"},
        JsonCase{"bool for integer", R"({"vni":true})", "invalid_value", R"("vni")"},
        JsonCase{"number for string", R"({"name":5})", "invalid_value", R"("name")"},
        JsonCase{"duplicate key", R"({"id":"a","id":"b"})", "duplicate_field", R"("id")"},
        JsonCase{"duplicate after unescaping", R"({"name":"a","\u006eame":"b"})", "duplicate_field",
                 R"(Field "name" of Network is given more than once)"},
        JsonCase{"duplicate names line and column", "{\"id\":\"a\",\n \"id\":\"b\"}",
                 "duplicate_field", "line 2, column 2"},
        JsonCase{"trailing garbage", R"({"id":"a"} xyz)", "invalid_json", "line 1, column 12"},
        JsonCase{"two objects", R"({"id":"a"}{"id":"b"})", "invalid_json", "after the JSON value"},
        JsonCase{"truncated", R"({"id":"a")", "invalid_json", "not valid JSON"},
        JsonCase{"empty body", "", "invalid_json", "no JSON value"},
        JsonCase{"only whitespace", " \n ", "invalid_json", "no JSON value"},
        JsonCase{"single quotes", R"({'id':'a'})", "invalid_json", "single quote"},
        JsonCase{"unquoted key", R"({id:"a"})", "invalid_json", "key must be a string"},
        JsonCase{"trailing comma in object", R"({"id":"a",})", "invalid_json",
                 "line 1, column 10: a trailing comma"},
        JsonCase{"trailing comma in list", R"({"id":"a","vni":[1,]})", "invalid_json",
                 "trailing comma"},
        JsonCase{"invalid escape", R"({"id":"\x41"})", "invalid_json", "not a JSON escape"},
        JsonCase{"line comment", "{\"id\":\"a\" // the id\n}", "invalid_json", "no comments"},
        JsonCase{"block comment", R"({/* x */"id":"a"})", "invalid_json", "no comments"},
        JsonCase{"NaN", R"({"vni":NaN})", "invalid_json", "NaN"},
        JsonCase{"Infinity", R"({"vni":-Infinity})", "invalid_json", "Infinity"},
        JsonCase{"leading zero", R"({"vni":07})", "invalid_json", "leading zeros"},
        JsonCase{"leading plus", R"({"vni":+7})", "invalid_json", "'+'"},
        JsonCase{"hex number", R"({"vni":0x10})", "invalid_json", "hexadecimal"},
        JsonCase{"capital literal", R"({"id":NULL})", "invalid_json", "lower case"},
        JsonCase{"raw control character", "{\"id\":\"a\tb\"}", "invalid_json", "control character"},
        JsonCase{"byte order mark", "\xef\xbb\xbf{}", "invalid_json", "byte order mark"},
        JsonCase{"array", "[1]", "invalid_json", "JSON object"},
        JsonCase{"array holding a duplicate (duplicates come first)", R"([{"a":1,"a":2}])",
                 "duplicate_field", R"(Field "[0].a" of Network is given more than once)"},
        JsonCase{"bare string", R"("n1")", "invalid_json", "JSON object"},
        JsonCase{"lone surrogate", R"({"id":"\ud800"})", "invalid_json", "surrogate"},
        JsonCase{"bad utf-8", "{\"id\":\"\xff\"}", "invalid_json", "not UTF-8"},
        JsonCase{"overlong utf-8", "{\"id\":\"\xc0\xaf\"}", "invalid_json", "not UTF-8"},
        JsonCase{"encoded surrogate", "{\"id\":\"\xed\xa0\x80\"}", "invalid_json", "not UTF-8"},
        JsonCase{"too deep", std::string(40, '[') + std::string(40, ']'), "invalid_json",
                 "nest deeper"},
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

// The first bad member in text order is the one reported.
TEST(JsonTest, FirstBadMemberInTextOrderIsReported) {
  auto endpoint = FromJson<v1::Endpoint>(R"({"name_of_nothing":{}, "mac":true})");
  ASSERT_FALSE(endpoint);
  EXPECT_EQ(endpoint.error().code, "unknown_field");
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
      {R"({"mac":true, "name_of_nothing":{}})", R"("mac")"},
      {R"({"ips":null})", R"("ips")"},
      {R"({"version":"3"})", R"("version")"},
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
  // No proto3 JSON leniency: an enum by number, null for a message.
  for (const char* json : {R"({"action":1})", R"({"port_range":null})",
                           R"({"port_range":{"first":"80"}})", R"({"action":"allow"})"}) {
    policy = FromJson<v1::Policy>(json);
    ASSERT_FALSE(policy) << json;
    EXPECT_EQ(policy.error().code, "invalid_value") << json;
  }
  EXPECT_TRUE(FromJson<v1::Policy>(R"({"action":"ACTION_DENY","port_range":{"first":80}})"));
  policy = FromJson<v1::Policy>(R"({"action":"ACTION_REJECT"})");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->action(), v1::Policy::ACTION_REJECT);
  EXPECT_FALSE(FromJson<v1::Policy>(R"({"action":"reject"})"));
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

TEST(JsonTest, LabelsAreAnObjectOfStrings) {
  auto endpoint = FromJson<v1::Endpoint>(
      R"({"id":"e1","name":"vm-1","labels":{"vm-uuid":"4f2a","cni/ifname":"eth0","x":""}})");
  ASSERT_TRUE(endpoint) << endpoint.error().message;
  EXPECT_EQ(endpoint->name(), "vm-1");
  ASSERT_EQ(endpoint->labels().size(), 3u);
  EXPECT_EQ(endpoint->labels().at("cni/ifname"), "eth0");
  EXPECT_EQ(endpoint->labels().at("x"), "");
  auto json = ToJson(*endpoint);
  ASSERT_TRUE(json);
  auto back = FromJson<v1::Endpoint>(*json);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->labels().at("vm-uuid"), "4f2a");
  EXPECT_EQ(back->labels().size(), 3u);

  struct Case {
    const char* json;
    const char* code;
    const char* message_part;
  };
  for (const Case& c : {
           Case{R"({"labels":["a"]})", "invalid_value", "\"labels\" of Endpoint must be an object"},
           Case{R"({"labels":{"a":1}})", "invalid_value", "labels[\"a\"]"},
           Case{R"({"labels":{"a":null}})", "invalid_value", "must be a string"},
           Case{R"({"labels":{"a":"1","a":"2"}})", "duplicate_field", "labels"},
       }) {
    auto refused = FromJson<v1::Endpoint>(c.json);
    ASSERT_FALSE(refused) << c.json;
    EXPECT_EQ(refused.error().code, c.code) << c.json << ": " << refused.error().message;
    EXPECT_NE(refused.error().message.find(c.message_part), std::string::npos)
        << c.json << ": " << refused.error().message;
  }
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
