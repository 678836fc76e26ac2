// api/openapi.json against the server: it is OpenAPI 3.0.x, documents exactly the routes the
// server knows (ApiRoutes()), and every documented operation, called on a live controller,
// answers a status the document lists, with a body whose top-level fields its schema names.
#include <fstream>
#include <set>

#include "api/api_client.h"
#include "controller/rest_api.h"
#include "dove/v1/model.pb.h"

namespace dove::api_test {
namespace {

json LoadDocument() {
  std::ifstream in(std::string(DOVE_API_DIR) + "/openapi.json");
  EXPECT_TRUE(in.good()) << DOVE_API_DIR;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

const json& Resolve(const json& document, const json& schema) {
  if (!schema.contains("$ref")) return schema;
  const std::string ref = schema["$ref"].get<std::string>();
  const std::string prefix = "#/components/schemas/";
  EXPECT_EQ(ref.rfind(prefix, 0), 0U) << ref;
  return document["components"]["schemas"][ref.substr(prefix.size())];
}

// Top-level fields of `value` against `schema`: none undocumented, every required one present;
// for arrays of objects, each item against the item schema.
void CheckBody(const json& document, const json& schema_or_ref, const json& value,
               const std::string& where) {
  const json& schema = Resolve(document, schema_or_ref);
  ASSERT_TRUE(value.is_object()) << where << ": " << value.dump();
  ASSERT_EQ(schema["type"], "object") << where;
  const json& properties = schema["properties"];
  for (const auto& [key, field] : value.items()) {
    ASSERT_TRUE(properties.contains(key)) << where << ": undocumented field " << key;
    const json& field_schema = Resolve(document, properties[key]);
    if (field_schema.contains("type") && field_schema["type"] == "array" &&
        field_schema["items"].contains("$ref")) {
      for (const json& item : field) CheckBody(document, field_schema["items"], item, where);
    }
  }
  if (schema.contains("required")) {
    for (const json& required : schema["required"]) {
      EXPECT_TRUE(value.contains(required.get<std::string>())) << where << ": missing " << required;
    }
  }
}

TEST(ApiOpenApiTest, DocumentIsOpenApi3AndMatchesRouteTable) {
  const json document = LoadDocument();
  ASSERT_TRUE(document.is_object());
  EXPECT_EQ(document["openapi"].get<std::string>().rfind("3.0.", 0), 0U);
  EXPECT_TRUE(document["info"].contains("title"));
  EXPECT_EQ(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert({path, upper});
      EXPECT_TRUE(operation.contains("responses")) << path << " " << method;
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : controller::ApiRoutes()) {
    for (const auto& method : route.methods) served.insert({route.pattern, method});
  }
  EXPECT_EQ(documented, served);
  // Every $ref names a schema or a shared response that exists.
  const std::string text = document.dump();
  for (size_t at = text.find("\"$ref\":\""); at != std::string::npos;
       at = text.find("\"$ref\":\"", at + 1)) {
    const size_t start = at + 8;
    const std::string ref = text.substr(start, text.find('"', start) - start);
    const std::string name = ref.substr(ref.rfind('/') + 1);
    if (ref.rfind("#/components/responses/", 0) == 0) {
      EXPECT_TRUE(document["components"]["responses"].contains(name)) << ref;
    } else {
      EXPECT_EQ(ref.rfind("#/components/schemas/", 0), 0u) << ref;
      EXPECT_TRUE(document["components"]["schemas"].contains(name)) << ref;
    }
  }
}

// Each enum of a model object's schema lists exactly the names of its proto enum, in order
// (a value added to model.proto, like ACTION_REJECT, must reach the document).
TEST(ApiOpenApiTest, EnumsOfModelSchemasAreTheProtoEnums) {
  const json document = LoadDocument();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  ASSERT_NE(pool->FindMessageTypeByName("dove.v1.Policy"), nullptr)
      << "model.pb.h not linked: the check below would check nothing";
  int checked = 0;
  for (const auto& [name, schema] : document["components"]["schemas"].items()) {
    const auto* message = pool->FindMessageTypeByName("dove.v1." + name);
    if (message == nullptr || !schema.contains("properties")) continue;
    for (const auto& [key, property] : schema["properties"].items()) {
      const auto* field = message->FindFieldByName(key);
      ASSERT_NE(field, nullptr) << name << "." << key << " is no field of dove.v1." << name;
      if (field->enum_type() == nullptr) {
        EXPECT_FALSE(property.contains("enum")) << name << "." << key;
        continue;
      }
      ASSERT_TRUE(property.contains("enum")) << name << "." << key << " lists no enum";
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(field->enum_type()->value(i)->name());
      }
      EXPECT_EQ(property["enum"].get<std::vector<std::string>>(), names) << name << "." << key;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3) << "Switch.state, Policy.action and Endpoint.port_kind";
}

TEST(ApiOpenApiTest, EveryDocumentedOperationAnswersAsDocumented) {
  const json document = LoadDocument();
  ApiFixture api;
  ASSERT_TRUE(api.running());
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  api.Create("networks", {{"id", "n2"}, {"domain_id", "d1"}, {"name", "db"}});
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}});
  api.Create("endpoints", {{"id", "e1"}, {"network_id", "n1"}});
  api.Create("switches", {{"id", "sw1"}, {"name", "host1"}, {"tunnel_ip", "192.0.2.1"}});
  api.Create("policies", {{"id", "p1"},
                          {"domain_id", "d1"},
                          {"source_network_id", "n1"},
                          {"destination_network_id", "n2"},
                          {"action", "ACTION_ALLOW"}});
  // Per collection: the ref to use, a body for POST, a body for PUT of that ref.
  struct Kind {
    std::string ref;
    json create;
    json replace;
  };
  const std::map<std::string, Kind> kinds = {
      {"domains", {"d1", {{"name", "beta"}}, {{"name", "acme"}}}},
      {"networks",
       {"n1", {{"domain_id", "d1"}, {"name", "app"}}, {{"domain_id", "d1"}, {"name", "web"}}}},
      {"subnets",
       {"s1",
        {{"network_id", "n2"}, {"cidr", "10.1.0.0/24"}},
        {{"network_id", "n1"}, {"cidr", "10.0.0.0/24"}, {"mtu", 1400}}}},
      {"endpoints", {"e1", {{"network_id", "n1"}}, {{"network_id", "n1"}, {"port_name", "tap1"}}}},
      {"trace", {"", {{"source", "e1"}, {"packet", "icmp to 10.0.0.9"}}, {}}},
      {"switches",
       {"sw1",
        {{"name", "host2"}, {"tunnel_ip", "192.0.2.2"}},
        {{"name", "host1"}, {"tunnel_ip", "192.0.2.1"}, {"state", "STATE_DOWN"}}}},
      {"policies",
       {"p1",
        {{"domain_id", "d1"},
         {"source_network_id", "n2"},
         {"destination_network_id", "n1"},
         {"action", "ACTION_DENY"}},
        {{"domain_id", "d1"},
         {"source_network_id", "n1"},
         {"destination_network_id", "n2"},
         {"action", "ACTION_ALLOW"},
         {"priority", 5}}}},
  };
  // Mutating operations last, deletes at the very end, policies before what they name.
  const std::vector<std::string> method_order = {"get", "post", "put", "delete"};
  std::vector<std::string> paths;
  for (const auto& [path, item] : document["paths"].items()) paths.push_back(path);
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& p) {
      for (const auto& [c, r] : std::vector<std::pair<std::string, int>>{{"policies", 0},
                                                                         {"endpoints", 1},
                                                                         {"subnets", 2},
                                                                         {"switches", 3},
                                                                         {"networks", 4},
                                                                         {"domains", 5}}) {
        if (p.find(c) != std::string::npos) return r;
      }
      return -1;
    };
    return std::make_pair(rank(a), a) < std::make_pair(rank(b), b);
  });
  int calls = 0;
  for (const std::string& method : method_order) {
    for (const std::string& path : paths) {
      const json& item = document["paths"][path];
      if (!item.contains(method)) continue;
      const json& operation = item[method];
      std::string collection;
      if (path.rfind("/v1/", 0) == 0) collection = path.substr(4, path.find('/', 4) - 4);
      if (kinds.count(collection) == 0) collection.clear();  // events, switch-stats
      std::string concrete = path;
      if (const size_t at = concrete.find("{file}"); at != std::string::npos) {
        concrete.replace(at, 6, "app.js");
      }
      std::string body;
      if (!collection.empty()) {
        const Kind& kind = kinds.at(collection);
        if (const size_t at = concrete.find("{ref}"); at != std::string::npos) {
          concrete.replace(at, 5, kind.ref);
        }
        if (method == "post") body = kind.create.dump();
        if (method == "put") body = kind.replace.dump();
        // Dependants created by the POSTs above would refuse a plain delete.
        if (method == "delete") concrete += "?force=true";
      }
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string where = upper;
      where += " ";
      where += concrete;
      // The event stream stays open: its head alone (HEAD answers as GET would, without body).
      const Reply reply = api.Send(path == "/v1/events" ? "HEAD" : upper, concrete, body);
      ++calls;
      const std::string status = std::to_string(reply.status);
      ASSERT_TRUE(operation["responses"].contains(status))
          << where << " answered undocumented " << status << ": " << reply.body;
      EXPECT_LT(reply.status, 400) << where << ": " << reply.body;
      const json& response = operation["responses"][status];
      if (!response.contains("content")) continue;
      if (response["content"].contains("application/json")) {
        CheckBody(document, response["content"]["application/json"]["schema"], reply.Json(), where);
      }
      if (response.contains("headers")) {
        for (const auto& [header, spec] : response["headers"].items()) {
          EXPECT_FALSE(reply.Header(header).empty()) << where << ": no " << header;
        }
      }
    }
  }
  // /healthz, /metrics, POST /v1/trace, /v1/events, /v1/switch-stats, /ui/, /ui/{file}, 5 per kind
  EXPECT_EQ(calls, 2 + 1 + 2 + 2 + 6 * 5);
  // An error answer matches the Error schema too.
  const Reply missing = api.Send("GET", "/v1/domains/nope");
  ASSERT_TRUE(document["paths"]["/v1/domains/{ref}"]["get"]["responses"].contains("404"));
  CheckBody(document, json{{"$ref", "#/components/schemas/Error"}}, missing.Json(), "404");
}

}  // namespace
}  // namespace dove::api_test
