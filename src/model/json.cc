#include "model/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace dove::model {
namespace {

// "domainId" and "domain_id" name the same field: compare keys in snake_case.
std::string Canonical(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (std::isupper(static_cast<unsigned char>(c)) != 0) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// Finds a key given twice in one object. Runs only on text protobuf already accepted as
// JSON, so it tracks just strings, objects and arrays. Iterative: no recursion on depth.
std::string FindDuplicateKey(std::string_view json) {
  struct Frame {
    bool object;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  bool expect_key = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      const std::string_view text = json.substr(i + 1, j - i - 1);
      if (expect_key && !stack.empty() && stack.back().object) {
        if (!stack.back().keys.insert(Canonical(text)).second) return std::string(text);
        expect_key = false;
      }
      i = j;
    } else if (c == '{') {
      stack.push_back({true, {}});
      expect_key = true;
    } else if (c == '[') {
      stack.push_back({false, {}});
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      expect_key = false;
    } else if (c == ',') {
      expect_key = !stack.empty() && stack.back().object;
    }
  }
  return {};
}

std::string FirstLine(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

// Turns protobuf's status text into a ModelError. Its forms (protobuf 3.21):
//   "bogus: Cannot find field."                      unknown top-level key
//   "(port_range) bad: Cannot find field."           unknown nested key
//   "(vni): invalid value -1 for type TYPE_UINT32"   wrong type or range
//   ": Root element must be a message."              not an object
//   anything else                                    a JSON syntax error
ModelError FromStatus(std::string_view text, std::string_view type_name) {
  static constexpr std::string_view kNoField = ": Cannot find field.";
  if (auto at = text.find(kNoField); at != std::string_view::npos) {
    std::string_view where = text.substr(0, at);
    std::string path(type_name);
    if (!where.empty() && where.front() == '(') {
      const auto close = where.find(") ");
      if (close != std::string_view::npos) {
        path += "." + std::string(where.substr(1, close - 1));
        where = where.substr(close + 2);
      }
    }
    return {"unknown_field", path + " has no field \"" + std::string(where) + "\"."};
  }
  static constexpr std::string_view kInvalid = "): invalid value ";
  if (auto at = text.find(kInvalid);
      !text.empty() && text.front() == '(' && at != std::string_view::npos) {
    const std::string field(text.substr(1, at - 1));
    return {"invalid_value",
            "Field \"" + field + "\" of " + std::string(type_name) +
                " has an invalid value: " + FirstLine(text.substr(at + kInvalid.size())) + "."};
  }
  if (text.find("Root element must be a message") != std::string_view::npos) {
    return {"invalid_json",
            "The body must be a JSON object describing a " + std::string(type_name) + "."};
  }
  return {"invalid_json", "The body is not valid JSON: " + FirstLine(text)};
}

bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = code << 6 | (next & 0x3fu);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// The path of the first string field (nested ones too) that is not UTF-8, or "".
// protobuf's printer would silently drop such bytes.
std::string FindNonUtf8Field(const google::protobuf::Message& message) {
  const auto* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    using Type = google::protobuf::FieldDescriptor;
    if (field->cpp_type() == Type::CPPTYPE_STRING && field->type() == Type::TYPE_STRING) {
      const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
      for (int i = 0; i < n; ++i) {
        const std::string value = field->is_repeated()
                                      ? reflection->GetRepeatedString(message, field, i)
                                      : reflection->GetString(message, field);
        if (!IsUtf8(value)) return field->name();
      }
    } else if (field->cpp_type() == Type::CPPTYPE_MESSAGE) {
      const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
      for (int i = 0; i < n; ++i) {
        const auto& inner = field->is_repeated() ? reflection->GetRepeatedMessage(message, field, i)
                                                 : reflection->GetMessage(message, field);
        if (auto path = FindNonUtf8Field(inner); !path.empty()) {
          return field->name() + "." + path;
        }
      }
    }
  }
  return {};
}

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const FieldDescriptor* FindField(const Descriptor& type, std::string_view key) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->name() == key || field->json_name() == key) return field;
  }
  return nullptr;
}

// What one value of `field` (one element, for a repeated field) must look like in JSON, or
// "" when `value` is acceptable. Numbers may be strings and enums numbers (proto3 JSON).
std::string ExpectedShape(const FieldDescriptor& field, const nlohmann::json& value) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return value.is_string() ? "" : "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return value.is_boolean() ? "" : "true or false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return value.is_string() || value.is_number() ? "" : "an enum name";
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (field.message_type()->full_name() == "google.protobuf.Timestamp") {
        return value.is_string() ? "" : "an RFC 3339 time string";
      }
      return value.is_object() ? "" : "an object";
    default:
      return value.is_number() || value.is_string() ? "" : "a number";
  }
}

// The first value in `object` whose JSON type cannot be its field's, as an invalid_value
// error. protobuf's parser would take "ips":"10.0.0.5" as a one-element list and drop the
// nulls in "ips":[null], and reports a nested object where a string belongs as bad JSON.
// Keys that are no field are left to protobuf (unknown_field). Recursion follows the
// message types, so its depth is the schema's, not the input's.
std::optional<ModelError> CheckTypes(const nlohmann::json& object, const Descriptor& type,
                                     const std::string& path) {
  if (!object.is_object()) return std::nullopt;
  for (const auto& [key, value] : object.items()) {
    const FieldDescriptor* field = FindField(type, key);
    if (field == nullptr || value.is_null()) continue;
    const std::string where = path + field->name();
    std::vector<const nlohmann::json*> values;
    if (field->is_map()) {
      if (!value.is_object()) {
        return ModelError{"invalid_value", "Field \"" + where + "\" must be an object."};
      }
      continue;
    }
    if (field->is_repeated()) {
      if (!value.is_array()) {
        return ModelError{"invalid_value",
                          "Field \"" + where + "\" must be a list (a JSON array)."};
      }
      for (const auto& element : value) values.push_back(&element);
    } else {
      values.push_back(&value);
    }
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string at = field->is_repeated() ? where + "[" + std::to_string(i) + "]" : where;
      const std::string shape = ExpectedShape(*field, *values[i]);
      if (!shape.empty()) {
        std::string message = "Field \"" + at;
        message += "\" must be ";
        message += shape;
        message += ".";
        return ModelError{"invalid_value", std::move(message)};
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && values[i]->is_object()) {
        if (auto error = CheckTypes(*values[i], *field->message_type(), at + ".")) return error;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

ModelResult<void> ParseJsonInto(std::string_view json, google::protobuf::Message* message) {
  const std::string type_name = message->GetDescriptor()->name();
  if (json.size() > kMaxJsonBytes) {
    return Fail("too_large", "The " + type_name + " body is " + std::to_string(json.size()) +
                                 " bytes; the limit is " + std::to_string(kMaxJsonBytes) + ".");
  }
  try {
    message->Clear();
    // Types first, so a wrong one is invalid_value whatever protobuf would have said. Text
    // nlohmann cannot parse is left to protobuf, whose message names the syntax error.
    const auto tree = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!tree.is_discarded()) {
      if (auto error = CheckTypes(tree, *message->GetDescriptor(), "")) {
        return Unexpected(std::move(*error));
      }
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), message, options);
    if (!status.ok()) {
      auto error =
          FromStatus(std::string(status.message().data(), status.message().size()), type_name);
      return Unexpected(std::move(error));
    }
    if (auto key = FindDuplicateKey(json); !key.empty()) {
      return Fail("duplicate_field",
                  "Field \"" + key + "\" of " + type_name + " is given more than once.");
    }
  } catch (const std::exception& e) {
    return Fail("internal", std::string("Parsing the JSON failed: ") + e.what());
  } catch (...) {
    return Fail("internal", "Parsing the JSON failed.");
  }
  return {};
}

ModelResult<std::string> ToJson(const google::protobuf::Message& message) {
  try {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    if (auto field = FindNonUtf8Field(message); !field.empty()) {
      return Fail("internal", "Field \"" + field + "\" of " + message.GetDescriptor()->name() +
                                  " holds bytes that are not UTF-8; JSON cannot carry them.");
    }
    std::string out;
    const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
    if (!status.ok()) {
      return Fail("internal", "Printing " + message.GetDescriptor()->name() +
                                  " as JSON failed: " + status.ToString());
    }
    return out;
  } catch (...) {
    return Fail("internal", "Printing " + message.GetDescriptor()->name() + " as JSON failed.");
  }
}

}  // namespace dove::model
