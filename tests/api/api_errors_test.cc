// Malformed and refused requests: a table of them, each answered with the documented status
// and code in the exact error shape, never a 5xx, and never a change to the store; then a few
// hundred random mutations of valid bodies that must not bring the controller down.
#include <random>

#include "api/api_client.h"

namespace dove::api_test {
namespace {

struct Row {
  std::string description;
  std::string method;
  std::string path;
  httplib::Headers headers;
  std::string body;
  int status;
  std::string code;
};

// d1/acme with n1 (VNI 100, 10.0.0.0/24 as s1, endpoint e1 holding an address), n2, a switch.
void Populate(const ApiFixture& api) {
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", 100}});
  api.Create("networks", {{"id", "n2"}, {"domain_id", "d1"}, {"name", "db"}});
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}});
  api.Create("endpoints", {{"id", "e1"}, {"network_id", "n1"}});
  api.Create("switches", {{"id", "sw1"}, {"name", "host1"}, {"tunnel_ip", "192.0.2.1"}});
}

std::vector<Row> Rows() {
  const httplib::Headers json_type = {{"Content-Type", "application/json"}};
  const std::string big = R"({"name":")" + std::string((1 << 20) + 1 - 11, 'a') + R"("})";
  return {
      {"malformed JSON", "POST", "/v1/domains", {}, R"({"name":)", 400, "invalid_json"},
      {"trailing garbage", "POST", "/v1/domains", {}, R"({"name":"x"} x)", 400, "invalid_json"},
      {"not an object", "POST", "/v1/domains", {}, "[1,2]", 400, "invalid_json"},
      {"bad UTF-8", "POST", "/v1/domains", {}, "{\"name\":\"\xff\"}", 400, "invalid_json"},
      {"wrong type", "POST", "/v1/domains", {}, R"({"name":5})", 400, "invalid_value"},
      {"wrong type (vni)",
       "POST",
       "/v1/networks",
       {},
       R"({"domain_id":"d1","name":"x","vni":"many"})",
       400,
       "invalid_value"},
      {"unknown field",
       "POST",
       "/v1/domains",
       {},
       R"({"name":"x","colour":"red"})",
       400,
       "unknown_field"},
      {"duplicate field",
       "POST",
       "/v1/domains",
       {},
       R"({"name":"x","name":"y"})",
       400,
       "duplicate_field"},
      {"oversized body", "POST", "/v1/domains", {}, big, 413, "too_large"},
      {"oversized PUT", "PUT", "/v1/domains/d1", {}, big, 413, "too_large"},
      {"bad name", "POST", "/v1/domains", {}, R"({"name":"-bad name"})", 400, "invalid_value"},
      {"bad MAC",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"n1","mac":"52:54:00:zz:00:01"})",
       400,
       "invalid_value"},
      {"multicast MAC",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"n1","mac":"01:00:5e:00:00:01"})",
       400,
       "invalid_value"},
      {"bad IP",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"n1","ips":["10.0.0.300"]})",
       400,
       "invalid_value"},
      {"IP outside subnets",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"n1","ips":["192.168.1.1"]})",
       400,
       "invalid_value"},
      {"bad CIDR",
       "POST",
       "/v1/subnets",
       {},
       R"({"network_id":"n2","cidr":"10.9.0.0/33"})",
       400,
       "invalid_value"},
      {"CIDR host bits",
       "POST",
       "/v1/subnets",
       {},
       R"({"network_id":"n2","cidr":"10.9.0.1/24"})",
       400,
       "invalid_value"},
      {"VNI too large",
       "POST",
       "/v1/networks",
       {},
       R"({"domain_id":"d1","name":"big","vni":16777216})",
       400,
       "invalid_value"},
      {"bad switch tunnel IP",
       "POST",
       "/v1/switches",
       {},
       R"({"name":"h2","tunnel_ip":"x"})",
       400,
       "invalid_value"},
      {"policy bad action",
       "POST",
       "/v1/policies",
       {},
       R"({"domain_id":"d1","source_network_id":"n1","destination_network_id":"n2","action":"MAYBE"})",
       400,
       "invalid_value"},
      {"unknown route", "GET", "/v1/widgets", {}, "", 404, "no_route"},
      {"unknown route (root)", "GET", "/", {}, "", 404, "no_route"},
      {"unknown route (deep)", "GET", "/v1/domains/d1/extra", {}, "", 404, "no_route"},
      {"unknown route (POST)", "POST", "/v2/domains", {}, R"({"name":"x"})", 404, "no_route"},
      {"wrong method on collection", "DELETE", "/v1/domains", {}, "", 405, "method_not_allowed"},
      {"PATCH", "PATCH", "/v1/domains/d1", {}, R"({"name":"x"})", 405, "method_not_allowed"},
      {"POST on an item",
       "POST",
       "/v1/domains/d1",
       {},
       R"({"name":"x"})",
       405,
       "method_not_allowed"},
      {"PUT on a collection",
       "PUT",
       "/v1/networks",
       {},
       R"({"name":"x"})",
       405,
       "method_not_allowed"},
      {"POST healthz", "POST", "/healthz", {}, R"({})", 405, "method_not_allowed"},
      {"bad force value", "DELETE", "/v1/domains/d1?force=yes", {}, "", 400, "invalid_value"},
      {"force given twice",
       "DELETE",
       "/v1/domains/d1?force=true&force=false",
       {},
       "",
       400,
       "invalid_value"},
      {"unknown query parameter", "GET", "/v1/domains?colour=red", {}, "", 400, "invalid_value"},
      {"filter of another kind", "GET", "/v1/domains?network=n1", {}, "", 400, "invalid_value"},
      {"empty filter value", "GET", "/v1/endpoints?network=", {}, "", 400, "invalid_value"},
      {"empty force value", "DELETE", "/v1/domains/d1?force=", {}, "", 400, "invalid_value"},
      {"query on create",
       "POST",
       "/v1/domains?force=true",
       {},
       R"({"name":"x"})",
       400,
       "invalid_value"},
      {"wrong content type",
       "POST",
       "/v1/domains",
       {{"Content-Type", "text/plain"}},
       R"({"name":"x"})",
       415,
       "unsupported_media_type"},
      {"form content type",
       "PUT",
       "/v1/domains/d1",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       R"({"name":"x"})",
       415,
       "unsupported_media_type"},
      {"empty body POST", "POST", "/v1/domains", json_type, "", 400, "invalid_json"},
      {"empty body PUT", "PUT", "/v1/domains/d1", json_type, "", 400, "invalid_json"},
      {"missing domain",
       "POST",
       "/v1/networks",
       {},
       R"({"domain_id":"nope","name":"x"})",
       404,
       "not_found"},
      {"missing network",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"nope"})",
       404,
       "not_found"},
      {"get missing", "GET", "/v1/subnets/nope", {}, "", 404, "not_found"},
      {"replace missing",
       "PUT",
       "/v1/switches/nope",
       {},
       R"({"name":"nope","tunnel_ip":"192.0.2.7"})",
       404,
       "not_found"},
      {"delete missing", "DELETE", "/v1/policies/nope", {}, "", 404, "not_found"},
      {"filter naming nothing", "GET", "/v1/networks?domain=nope", {}, "", 404, "not_found"},
      {"duplicate domain name", "POST", "/v1/domains", {}, R"({"name":"acme"})", 409, "conflict"},
      {"duplicate id", "POST", "/v1/domains", {}, R"({"id":"d1","name":"fresh"})", 409, "conflict"},
      {"VNI taken",
       "POST",
       "/v1/networks",
       {},
       R"({"domain_id":"d1","name":"x","vni":100})",
       409,
       "conflict"},
      {"overlapping subnet",
       "POST",
       "/v1/subnets",
       {},
       R"({"network_id":"n2","cidr":"10.0.0.0/16"})",
       409,
       "conflict"},
      {"switch name taken",
       "POST",
       "/v1/switches",
       {},
       R"({"name":"host1","tunnel_ip":"192.0.2.2"})",
       409,
       "conflict"},
      {"domain not empty", "DELETE", "/v1/domains/d1", {}, "", 409, "not_empty"},
      {"network not empty", "DELETE", "/v1/networks/n1?force=false", {}, "", 409, "not_empty"},
      {"subnet in use", "DELETE", "/v1/subnets/s1", {}, "", 409, "in_use"},
      {"id mismatch on replace",
       "PUT",
       "/v1/domains/d1",
       {},
       R"({"id":"d9","name":"acme"})",
       400,
       "invalid_value"},
      {"moving a network",
       "PUT",
       "/v1/networks/n1",
       {},
       R"({"domain_id":"d9","name":"web"})",
       400,
       "invalid_value"},
      {"stale endpoint version",
       "PUT",
       "/v1/endpoints/e1",
       {},
       R"({"network_id":"n1","version":7})",
       409,
       "conflict"},
      {"endpoint version on create",
       "POST",
       "/v1/endpoints",
       {},
       R"({"network_id":"n1","version":3})",
       400,
       "invalid_value"},
  };
}

TEST(ApiErrorsTest, TableOfRefusedRequests) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.description + ": " + row.method + " " + row.path);
    const int64_t before = api.Revision();
    const Reply reply = api.Send(row.method, row.path, row.body, row.headers);
    EXPECT_EQ(reply.status, row.status) << reply.body.substr(0, 300);
    EXPECT_TRUE(IsErrorShape(reply)) << reply.body.substr(0, 300);
    EXPECT_EQ(reply.Code(), row.code) << reply.body.substr(0, 300);
    EXPECT_LT(reply.status, 500);
    if (row.path.rfind("/v1/", 0) == 0) {
      EXPECT_FALSE(reply.Header("X-Dove-Revision").empty());
    }
    if (row.status == 405) {
      EXPECT_FALSE(reply.Header("Allow").empty());
    }
    EXPECT_EQ(api.Revision(), before);
  }
}

// httplib's client always sends a Content-Type with a body, so these go on a raw socket.
TEST(ApiErrorsTest, RawRequests) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  // No Content-Type: accepted as JSON.
  const std::string body = R"({"name":"acme"})";
  Reply created =
      SendRaw(api.port(), "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(created.status, 201) << created.body;
  // JSON with a charset parameter.
  const std::string other = R"({"name":"other"})";
  created = SendRaw(api.port(),
                    "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; "
                    "charset=utf-8\r\nContent-Length: " +
                        std::to_string(other.size()) + "\r\nConnection: close\r\n\r\n" + other);
  EXPECT_EQ(created.status, 201) << created.body;

  const int64_t before = api.Revision();
  // Empty body without Content-Type.
  Reply empty = SendRaw(api.port(),
                        "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Code(), "invalid_json");
  // A method httplib does not know; a known path -> 405, an unknown one -> 404.
  // A method HTTP does not define: httplib refuses the request line, we give the shape.
  const Reply odd =
      SendRaw(api.port(), "BREW /v1/domains HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(odd.status, 400) << odd.body;
  EXPECT_TRUE(IsErrorShape(odd)) << odd.body;
  // A chunked body, of any size: refused before a byte of it is read (httplib would buffer
  // the whole of it, past the size limit), and the connection is closed.
  const Reply chunked = SendRaw(api.port(),
                                "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "f\r\n{\"name\":\"zeta\"}\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 411) << chunked.body;
  EXPECT_EQ(chunked.Code(), "length_required");
  EXPECT_EQ(chunked.Header("Connection"), "close");
  // A very long path.
  // A URI over httplib's limit: 414, in our shape.
  Reply too_long = api.Send("GET", "/v1/domains/" + std::string(20000, 'x'));
  EXPECT_EQ(too_long.status, 414) << too_long.body;
  EXPECT_EQ(too_long.Code(), "too_large");
  Reply long_path = api.Send("GET", "/v1/domains/" + std::string(6000, 'x'));
  EXPECT_EQ(long_path.status, 404);
  EXPECT_EQ(long_path.Code(), "not_found");
  EXPECT_EQ(api.Revision(), before);
}

// Byte flips, truncations and insertions of valid bodies: whatever the answer, never a 5xx
// and the controller survives.
TEST(ApiErrorsTest, RandomMutationsNeverFail) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"/v1/domains", R"({"id":"dx","name":"zeta"})"},
      {"/v1/networks", R"({"domain_id":"d1","name":"front","vni":4000})"},
      {"/v1/subnets",
       R"({"network_id":"n2","cidr":"10.5.0.0/24","gateway":"10.5.0.1","dhcp_range":{"first":"10.5.0.100","last":"10.5.0.200"},"dns_servers":["10.5.0.2"],"mtu":1400})"},
      {"/v1/endpoints",
       R"({"network_id":"n1","mac":"52:54:00:12:34:56","ips":["10.0.0.77"],"switch_name":"host1","port_name":"tap1"})"},
      {"/v1/switches",
       R"({"name":"host9","tunnel_ip":"192.0.2.9","state":"STATE_DOWN","software_version":"1.0","last_heartbeat":"2026-01-01T00:00:00Z"})"},
      {"/v1/policies",
       R"({"domain_id":"d1","source_network_id":"n1","destination_network_id":"n2","action":"ACTION_ALLOW","protocol":6,"port_range":{"first":80,"last":443},"priority":10})"},
  };
  const uint32_t seed = 20261124;
  std::mt19937 random(seed);
  static const char kSpecials[] = "{}[]\",:\\0-e.\x00\xff\x80tfn ";
  const std::string specials(kSpecials, sizeof(kSpecials) - 1);
  int statuses[6] = {};
  for (int i = 0; i < 300; ++i) {
    const auto& [path, valid] = seeds[random() % seeds.size()];
    std::string body = valid;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = random() % body.size();
      switch (random() % 4) {
        case 0:
          body[at] = static_cast<char>(body[at] ^ (1 << (random() % 8)));
          break;
        case 1:
          body.resize(at);
          break;
        case 2:
          body.insert(at, 1, specials[random() % specials.size()]);
          break;
        default:
          body[at] = specials[random() % specials.size()];
          break;
      }
    }
    const std::string method = random() % 5 == 0 ? "PUT" : "POST";
    const std::string target = method == "PUT" ? path + "/x" : path;
    const Reply reply = api.Send(method, target, body);
    ASSERT_NE(reply.status, 0) << "no answer to mutation " << i << " (seed " << seed
                               << "): " << body << "\n"
                               << api.controller().Log();
    ASSERT_LT(reply.status, 500) << "mutation " << i << " (seed " << seed << "): " << body << " -> "
                                 << reply.body;
    if (reply.status >= 400) {
      EXPECT_TRUE(IsErrorShape(reply)) << body << " -> " << reply.body;
    }
    ++statuses[reply.status / 100];
  }
  EXPECT_EQ(api.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(::kill(api.controller().pid(), 0), 0);
  std::printf("mutations: %d 2xx, %d 4xx (seed %u)\n", statuses[2], statuses[4], seed);
}

}  // namespace
}  // namespace dove::api_test
