// A grammar walker over api/openapi.json: every documented operation is called on a live
// controller, and every field of every request-body schema (nested objects too) is mutated.
// Nothing here names a path or a field: a path or field added to the document is covered.
//
//   1. The collections (paths whose POST takes a body) are ordered so that one whose example
//      names another's example id comes after it (document order otherwise).
//   2. For each operation with a body, POSTs first in that order, then PUTs, per field: a wrong
//      JSON type, a number as a string, null, an enum by number, a fraction or exponent for an
//      integer, a number out of the schema's range, an unknown key, the camelCase alias, the
//      key twice (also written with a \u escape), and malformed JSON (single quotes, an
//      unquoted key, a trailing comma, a comment, NaN, a leading zero, '+', an invalid escape,
//      a raw control character, bytes that are not UTF-8, a lone surrogate, a missing colon);
//      then per body a few whole-body breakages. Each must be 400 with the code
//      docs/rest-api.md gives for it, a code the operation's 400 description lists, in the
//      error shape, and leave the store's revision unchanged. Then the valid body built from
//      the schema's examples: POST 201, PUT 200.
//   3. Every other operation (GET, DELETE) with the example ids: never 400, never 5xx.
// Prints how many requests each path received.
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "api/api_client.h"

namespace dove::api_test {
namespace {

// Keys in document order: the order of the paths decides which collection is created first.
using Json = nlohmann::ordered_json;

Json LoadDocument() {
  std::ifstream in(std::string(DOVE_API_DIR) + "/openapi.json");
  EXPECT_TRUE(in.good()) << DOVE_API_DIR;
  return Json::parse(in, nullptr, /*allow_exceptions=*/false);
}

const Json& Resolve(const Json& document, const Json& schema) {
  if (!schema.contains("$ref")) return schema;
  const std::string ref = schema["$ref"].get<std::string>();
  return document["components"]["schemas"][ref.substr(ref.rfind('/') + 1)];
}

// The valid example of `schema`: its own "example", or for an object one built from the
// examples of its properties (a property without one fails the test: the document must give
// every request-body field an example).
Json Example(const Json& document, const Json& schema_or_ref, const std::string& where) {
  const Json& schema = Resolve(document, schema_or_ref);
  if (schema.contains("example")) return schema["example"];
  if (schema.value("type", "") != "object") {
    ADD_FAILURE() << where << ": no example in api/openapi.json";
    return nullptr;
  }
  Json object = Json::object();
  for (const auto& [key, property] : schema["properties"].items()) {
    std::string at = where;
    at += '.';
    at += key;
    object[key] = Example(document, property, at);
  }
  return object;
}

// One body field: its path from the top and its resolved schema.
struct Field {
  std::vector<std::string> path;
  const Json* schema;
  std::string Name() const {
    std::string name;
    for (const auto& part : path) name += (name.empty() ? "" : ".") + part;
    return name;
  }
};

void CollectFields(const Json& document, const Json& schema_or_ref,
                   const std::vector<std::string>& path, std::vector<Field>* fields) {
  const Json& schema = Resolve(document, schema_or_ref);
  for (const auto& [key, property] : schema["properties"].items()) {
    std::vector<std::string> at = path;
    at.push_back(key);
    const Json& resolved = Resolve(document, property);
    fields->push_back({at, &resolved});
    // A map (additionalProperties, no properties) is one field; a message is walked into.
    if (resolved.value("type", "") == "object" && resolved.contains("properties")) {
      CollectFields(document, resolved, at, fields);
    }
  }
}

// Replaces the member `path` of `object` by `fragment` (any text: several members, none, or
// malformed ones); the result is a JSON text only if the fragment is.
std::string Render(const Json& object, const std::vector<std::string>& path, size_t depth,
                   const std::string& fragment) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : object.items()) {
    std::string member;
    if (depth < path.size() && key == path[depth]) {
      member = depth + 1 == path.size()
                   ? fragment
                   : Json(key).dump() + ":" + Render(value, path, depth + 1, fragment);
    } else {
      member = Json(key).dump() + ":" + value.dump();
    }
    if (member.empty()) continue;
    if (!first) out += ',';
    first = false;
    out += member;
  }
  return out + "}";
}

struct Mutation {
  std::string description;
  std::string fragment;  // replaces "key":value
  std::string code;      // the documented error code
};

std::string CamelCase(const std::string& key) {
  std::string out;
  bool upper = false;
  for (char c : key) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

// docs/rest-api.md, "Request bodies": which code each breakage gets.
std::vector<Mutation> Mutations(const std::string& key, const Json& schema, const Json& valid) {
  const std::string k = Json(key).dump();
  const std::string v = valid.dump();
  const std::string type = schema.value("type", "");
  std::vector<Mutation> out;
  const auto add = [&](std::string description, std::string fragment, std::string code) {
    out.push_back({std::move(description), std::move(fragment), std::move(code)});
  };
  // Wrong JSON types: every JSON type but the schema's.
  const std::map<std::string, std::string> values_of_type = {{"string", "\"7\""},
                                                             {"integer", "7"},
                                                             {"boolean", "true"},
                                                             {"array", "[]"},
                                                             {"object", "{}"}};
  for (const auto& [other, text] : values_of_type) {
    if (other == type) continue;
    std::string fragment = k;
    fragment += ':';
    fragment += text;
    add("wrong type " + other, fragment, "invalid_value");
  }
  add("null", k + ":null", "invalid_value");
  if (type == "integer") {
    add("number as string", k + ":\"" + v + "\"", "invalid_value");
    add("fraction", k + ":" + v + ".5", "invalid_value");
    add("fraction zero", k + ":" + v + ".0", "invalid_value");
    add("exponent", k + ":" + v + "e0", "invalid_value");
    if (schema.contains("minimum")) {
      add("below minimum", k + ":" + std::to_string(schema["minimum"].get<int64_t>() - 1),
          "invalid_value");
    }
    if (schema.contains("maximum")) {
      add("above maximum", k + ":" + std::to_string(schema["maximum"].get<int64_t>() + 1),
          "invalid_value");
    }
    add("beyond uint64", k + ":18446744073709551616", "invalid_value");
    add("leading zero", k + ":0" + v, "invalid_json");
    add("leading plus", k + ":+" + v, "invalid_json");
    add("NaN", k + ":NaN", "invalid_json");
    add("hex", k + ":0x10", "invalid_json");
  }
  if (type == "string" && schema.contains("enum")) {
    add("enum by number", k + ":1", "invalid_value");
    add("unknown enum name", k + ":\"NOT_A_NAME\"", "invalid_value");
  }
  if (type == "string" && schema.value("format", "") == "date-time") {
    add("not RFC 3339", k + ":\"yesterday\"", "invalid_value");
  }
  if (type == "string") {
    add("single-quoted value", k + ":'x'", "invalid_json");
    add("invalid escape", k + ":\"a\\x41\"", "invalid_json");
    add("raw control character", k + ":\"a\tb\"", "invalid_json");
    add("bad UTF-8", k + ":\"\xc3\x28\"", "invalid_json");
    add("overlong UTF-8", k + ":\"\xc0\xaf\"", "invalid_json");
    add("lone surrogate", k + ":\"\\ud800\"", "invalid_json");
    add("unclosed string", k + ":\"abc", "invalid_json");
  }
  if (type == "array") {
    add("bare element", k + ":" + (valid.empty() ? "\"x\"" : valid[0].dump()), "invalid_value");
    add("null element", k + ":[null]", "invalid_value");
    add("wrong element type", k + ":[5]", "invalid_value");
    add("trailing comma in list", k + ":[" + (valid.empty() ? "\"x\"" : valid[0].dump()) + ",]",
        "invalid_json");
  }
  if (type == "object" && schema.contains("additionalProperties") &&
      schema["additionalProperties"].is_object()) {  // map<string, string>
    add("map value a number", k + ":{\"a\":1}", "invalid_value");
    add("map value null", k + ":{\"a\":null}", "invalid_value");
    add("map key twice", k + ":{\"a\":\"1\",\"a\":\"2\"}", "duplicate_field");
  }
  add("unknown key", k + ":" + v + "," + Json(key + "_unknown").dump() + ":" + v, "unknown_field");
  if (CamelCase(key) != key)
    add("camelCase alias", Json(CamelCase(key)).dump() + ":" + v, "unknown_field");
  add("duplicate key", k + ":" + v + "," + k + ":" + v, "duplicate_field");
  {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string escaped = "\"\\u00";
    escaped += kHex[static_cast<unsigned char>(key[0]) >> 4];
    escaped += kHex[key[0] & 0xf];
    escaped += key.substr(1) + "\"";
    add("duplicate key after unescaping", k + ":" + v + "," + escaped + ":" + v, "duplicate_field");
  }
  add("single-quoted key", "'" + key + "':" + v, "invalid_json");
  add("unquoted key", key + ":" + v, "invalid_json");
  add("missing colon", k + " " + v, "invalid_json");
  add("trailing comma", k + ":" + v + ",", "invalid_json");
  add("block comment", "/* c */" + k + ":" + v, "invalid_json");
  add("line comment", k + ":" + v + " // c\n", "invalid_json");
  return out;
}

struct Operation {
  std::string path;
  std::string method;  // upper case
  const Json* spec;
};

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

class GrammarWalker {
 public:
  GrammarWalker(const Json& document, ApiFixture& api) : document_(document), api_(api) {}

  void Run() {
    std::vector<Operation> operations;
    for (const auto& [path, item] : document_["paths"].items()) {
      for (const auto& [method, spec] : item.items()) {
        if (method != "parameters") operations.push_back({path, Upper(method), &spec});
      }
    }
    for (const Operation* operation : CollectionsInOrder(operations)) MutateBodies(*operation);
    for (const Operation& operation : operations) {
      if (operation.method != "POST" && operation.spec->contains("requestBody")) {
        MutateBodies(operation);
      }
    }
    // Reads first, then deletes in reverse document order (dependants before what they use).
    for (const Operation& operation : operations) {
      if (!operation.spec->contains("requestBody") && operation.method != "DELETE") {
        CallPlain(operation);
      }
    }
    for (auto it = operations.rbegin(); it != operations.rend(); ++it) {
      if (it->method == "DELETE") CallPlain(*it);
    }
    size_t total = 0;
    for (const auto& [key, count] : requests_) {
      std::printf("grammar walker: %-22s %-6s %5zu requests\n", key.first.c_str(),
                  key.second.c_str(), count);
      total += count;
    }
    std::printf("grammar walker: %zu requests in all\n", total);
  }

 private:
  const Json& BodySchema(const Operation& operation) const {
    return Resolve(document_,
                   (*operation.spec)["requestBody"]["content"]["application/json"]["schema"]);
  }

  // The path with {ref} filled by the example id of the collection's schema.
  std::string Target(const Operation& operation) const {
    std::string path = operation.path;
    // Other path parameters: their example.
    for (const Json& parameter : operation.spec->value("parameters", Json::array())) {
      const std::string name = "{" + parameter.value("name", "") + "}";
      if (parameter.value("in", "") != "path" || !parameter.contains("example")) continue;
      if (const size_t at = path.find(name); at != std::string::npos) {
        path.replace(at, name.size(), parameter["example"].get<std::string>());
      }
    }
    const size_t at = path.find("{ref}");
    if (at == std::string::npos) return path;
    const std::string collection = path.substr(0, at - 1);
    const auto example = examples_.find(collection);
    if (example == examples_.end()) {
      ADD_FAILURE() << operation.path << ": no collection " << collection << " with a POST body";
      return path;
    }
    return path.replace(at, 5, example->second.value("id", "x"));
  }

  Reply Call(const Operation& operation, const std::string& target, const std::string& body) {
    ++requests_[{operation.path, operation.method}];
    // A stream (text/event-stream) never ends: its head is asked for instead (HEAD).
    const Json& ok = (*operation.spec)["responses"].value("200", Json::object());
    if (operation.method == "GET" && ok.contains("content") &&
        ok["content"].contains("text/event-stream")) {
      return api_.Send("HEAD", target, body);
    }
    return api_.Send(operation.method, target, body);
  }

  // Step 1: the POSTs with a body, each after those whose example ids its example names.
  std::vector<const Operation*> CollectionsInOrder(const std::vector<Operation>& operations) {
    std::vector<const Operation*> pending;
    for (const Operation& operation : operations) {
      if (operation.method == "POST" && operation.spec->contains("requestBody")) {
        examples_[operation.path] = Example(document_, BodySchema(operation), operation.path);
        pending.push_back(&operation);
      }
    }
    std::vector<const Operation*> order;
    while (!pending.empty()) {
      std::vector<const Operation*> later;
      for (const Operation* operation : pending) {
        const std::string text = examples_[operation->path].dump();
        bool waits = false;
        for (const Operation* other : pending) {
          const Json& id = examples_[other->path]["id"];
          waits = waits || (other != operation && id.is_string() &&
                            text.find(Json(id).dump()) != std::string::npos);
        }
        (waits ? later : order).push_back(operation);
      }
      if (later.size() == pending.size()) {
        ADD_FAILURE() << "the examples of api/openapi.json name each other's ids in a cycle";
        return order;
      }
      pending = later;
    }
    return order;
  }

  // `code` for `body`; a syntax error (invalid_json, unless the JSON is only not an object)
  // names line and column.
  void Refused(const Operation& operation, const std::string& target, const std::string& body,
               const std::string& code, const std::string& description,
               bool not_an_object = false) {
    SCOPED_TRACE(operation.method + " " + operation.path + ": " + description + ": " + body);
    const std::string documented = (*operation.spec)["responses"]["400"].value("description", "");
    EXPECT_NE(documented.find(code), std::string::npos)
        << "the 400 of " << operation.method << " " << operation.path << " does not list " << code;
    const int64_t before = api_.Revision();
    const Reply reply = Call(operation, target, body);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.Code(), code) << reply.body;
    EXPECT_TRUE(IsErrorShape(reply)) << reply.body;
    if (code == "invalid_json" && !not_an_object) {
      EXPECT_NE(reply.body.find("line "), std::string::npos) << reply.body;
      EXPECT_NE(reply.body.find(", column "), std::string::npos) << reply.body;
    }
    EXPECT_EQ(api_.Revision(), before);
  }

  // Step 2.
  void MutateBodies(const Operation& operation) {
    const Json& schema = BodySchema(operation);
    const Json valid = Example(document_, schema, operation.path);
    const std::string target = Target(operation);
    std::vector<Field> fields;
    CollectFields(document_, schema, {}, &fields);
    ASSERT_FALSE(fields.empty()) << operation.path;
    for (const Field& field : fields) {
      Json value = valid;
      for (const auto& part : field.path) value = value[part];
      for (const Mutation& mutation : Mutations(field.path.back(), *field.schema, value)) {
        Refused(operation, target, Render(valid, field.path, 0, mutation.fragment), mutation.code,
                field.Name() + ": " + mutation.description);
      }
    }
    const std::string text = valid.dump();
    const struct {
      const char* description;
      std::string body;
      const char* code;
      bool not_an_object = false;
    } whole[] = {
        {"truncated", text.substr(0, text.size() - 1), "invalid_json"},
        {"trailing bytes", text + " x", "invalid_json"},
        {"two objects", text + text, "invalid_json"},
        {"byte order mark", "\xef\xbb\xbf" + text, "invalid_json"},
        {"an array", "[" + text + "]", "invalid_json", true},
        {"a string", Json(text).dump(), "invalid_json", true},
        {"nested too deep", std::string(40, '[') + std::string(40, ']'), "invalid_json"},
        {"unknown key at the top", "{\"no_such_field\":1," + text.substr(1), "unknown_field"},
    };
    for (const auto& c : whole) {
      Refused(operation, target, c.body, c.code, c.description, c.not_an_object);
    }
    const Reply reply = Call(operation, target, text);
    // A POST creates (201), but for the trace, which only answers.
    EXPECT_EQ(reply.status, operation.method == "POST" && operation.path != "/v1/trace" ? 201 : 200)
        << operation.method << " " << target << " " << text << " -> " << reply.body;
  }

  // Step 3.
  void CallPlain(const Operation& operation) {
    const Reply reply = Call(operation, Target(operation), "");
    EXPECT_NE(reply.status, 400) << operation.method << " " << operation.path << " -> "
                                 << reply.body;
    EXPECT_LT(reply.status, 500) << operation.method << " " << operation.path << " -> "
                                 << reply.body;
    EXPECT_NE(reply.status, 0) << operation.method << " " << operation.path;
  }

  const Json& document_;
  ApiFixture& api_;
  std::map<std::string, Json> examples_;  // collection path -> its valid body
  std::map<std::pair<std::string, std::string>, size_t> requests_;
};

TEST(ApiGrammarTest, EveryBodyFieldOfEveryOperation) {
  const Json document = LoadDocument();
  ASSERT_TRUE(document.is_object());
  ApiFixture api;
  ASSERT_TRUE(api.running());
  GrammarWalker(document, api).Run();
}

}  // namespace
}  // namespace dove::api_test
