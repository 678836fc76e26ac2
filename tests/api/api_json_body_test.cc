// Request bodies through the real controller (docs/rest-api.md, "Request bodies"): what a
// lenient JSON parser would take is 400 with the documented code, a syntax error names its
// line and column, and afterwards every object reads back exactly as before.
#include "api/api_client.h"

namespace dove::api_test {
namespace {

struct BodyCase {
  std::string description;
  std::string method;
  std::string path;
  std::string body;
  std::string code;
  std::string message_part;
};

std::vector<BodyCase> Cases() {
  return {
      {"single quotes", "POST", "/v1/domains", "{'name':'zeta'}", "invalid_json",
       "line 1, column 2: "},
      {"unquoted key", "POST", "/v1/domains", "{name:\"zeta\"}", "invalid_json",
       "line 1, column 2"},
      {"trailing comma", "POST", "/v1/domains", "{\"name\":\"zeta\",\n}", "invalid_json",
       "line 1, column 15: a trailing comma"},
      {"comment", "PUT", "/v1/domains/d1", "{\"name\":\"acme\" /* keep */}", "invalid_json",
       "no comments"},
      {"NaN", "PUT", "/v1/networks/n1", R"({"domain_id":"d1","name":"web","vni":NaN})",
       "invalid_json", "NaN"},
      {"leading zero", "PUT", "/v1/networks/n1", R"({"domain_id":"d1","name":"web","vni":0100})",
       "invalid_json", "leading zeros"},
      {"invalid escape", "POST", "/v1/domains", R"({"name":"ze\ta\q"})", "invalid_json",
       "not a JSON escape"},
      {"bad UTF-8 on line 2", "POST", "/v1/domains", "{\n \"name\":\"z\xe9ta\"}", "invalid_json",
       "line 2, column 11"},
      {"duplicate after unescaping", "PUT", "/v1/domains/d1",
       R"({"name":"acme","\u006eame":"other"})", "duplicate_field", "\"name\""},
      {"camelCase alias", "PUT", "/v1/networks/n1", R"({"domainId":"d1","name":"web"})",
       "unknown_field", "domain_id"},
      {"number as string", "PUT", "/v1/networks/n1",
       R"({"domain_id":"d1","name":"web","vni":"200"})", "invalid_value", "\"vni\""},
      {"null", "PUT", "/v1/networks/n1", R"({"domain_id":"d1","name":null})", "invalid_value",
       "\"name\""},
      {"enum by number", "PUT", "/v1/switches/sw1",
       R"({"name":"host1","tunnel_ip":"192.0.2.1","state":2})", "invalid_value", "\"state\""},
      {"exponent for integer", "PUT", "/v1/networks/n1",
       R"({"domain_id":"d1","name":"web","vni":2e2})", "invalid_value", "\"vni\""},
      {"integer over uint32", "PUT", "/v1/networks/n1",
       R"({"domain_id":"d1","name":"web","vni":4294967396})", "invalid_value", "\"vni\""},
  };
}

// Every object of every collection, as the controller prints them.
std::string Snapshot(const ApiFixture& api) {
  std::string all;
  for (const char* collection : {"domains", "networks", "switches"}) {
    const Reply reply = api.Send("GET", std::string("/v1/") + collection);
    EXPECT_EQ(reply.status, 200);
    all += reply.Json()["items"].dump() + "\n";
  }
  return all;
}

TEST(ApiJsonBodyTest, LenientBodiesAreRefusedAndChangeNothing) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", 100}});
  api.Create("switches", {{"id", "sw1"}, {"name", "host1"}, {"tunnel_ip", "192.0.2.1"}});
  const std::string before = Snapshot(api);
  const int64_t revision = api.Revision();
  for (const BodyCase& c : Cases()) {
    SCOPED_TRACE(c.description + ": " + c.method + " " + c.path + " " + c.body);
    const Reply reply = api.Send(c.method, c.path, c.body);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.Code(), c.code) << reply.body;
    EXPECT_TRUE(IsErrorShape(reply)) << reply.body;
    const std::string message = reply.Json()["error"].value("message", "");
    EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
  }
  EXPECT_EQ(api.Revision(), revision);
  EXPECT_EQ(Snapshot(api), before);
  // The same bodies, written strictly, are accepted.
  EXPECT_EQ(
      api.Send("PUT", "/v1/networks/n1", R"({"domain_id":"d1","name":"web","vni":200})").status,
      200);
  EXPECT_EQ(api.Send("PUT", "/v1/switches/sw1",
                     R"({"name":"host1","tunnel_ip":"192.0.2.1","state":"STATE_DOWN"})")
                .status,
            200);
  EXPECT_EQ(api.Send("POST", "/v1/domains", R"({"name":"ze\tta"})").Code(), "invalid_value");
  EXPECT_EQ(api.Send("POST", "/v1/domains", R"({"name":"z\u0065ta"})").status, 201);
}

}  // namespace
}  // namespace dove::api_test
