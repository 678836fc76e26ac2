#include "model/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "model/json_parser.h"

namespace dove::model {
namespace {

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
using google::protobuf::Message;
using google::protobuf::Reflection;

// What is wrong with one value, as the end of the sentence `Field "where" of Type ...`.
ModelError BadValue(const std::string& type_name, const std::string& where,
                    const std::string& what) {
  return {"invalid_value", "Field \"" + where + "\" of " + type_name + " " + what + "."};
}

// A number for a message: as written, cut after 32 characters.
std::string ShortNumber(std::string_view number) {
  static constexpr size_t kLimit = 32;
  return number.size() <= kLimit ? std::string(number)
                                 : std::string(number.substr(0, kLimit)) + "...";
}

struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;
};

// `number` (a valid RFC 8259 number) as an integer of [min, max]: written with digits only (no
// fraction, no exponent), in range. Otherwise what is wrong, to end a sentence.
Expected<Integer, std::string> ReadInteger(std::string_view number, int64_t min, uint64_t max) {
  const std::string range = "an integer in " + std::to_string(min) + ".." + std::to_string(max);
  if (number.find_first_of(".eE") != std::string_view::npos) {
    return Unexpected("must be " + range + ", written without a fraction or exponent, not " +
                      ShortNumber(number));
  }
  Integer value;
  size_t at = 0;
  if (number.front() == '-') {
    value.negative = true;
    at = 1;
  }
  bool overflow = false;
  for (; at < number.size(); ++at) {
    const auto digit = static_cast<uint64_t>(number[at] - '0');
    if (value.magnitude > (UINT64_MAX - digit) / 10) {
      overflow = true;
      break;
    }
    value.magnitude = value.magnitude * 10 + digit;
  }
  if (value.magnitude == 0) value.negative = false;  // "-0" is 0
  const uint64_t lowest = min < 0 ? static_cast<uint64_t>(-(min + 1)) + 1 : 0;
  if (overflow || (value.negative ? value.magnitude > lowest : value.magnitude > max)) {
    return Unexpected("must be " + range + ", not " + ShortNumber(number));
  }
  return value;
}

class Decoder {
 public:
  explicit Decoder(std::string type_name) : type_name_(std::move(type_name)) {}

  // Decodes the members of `object` into `message`; `prefix` is the path of `object` with a
  // trailing dot ("" at the top, "port_range." inside).
  std::optional<ModelError> DecodeObject(const JsonValue& object, Message* message,
                                         const std::string& prefix) {
    const Descriptor& type = *message->GetDescriptor();
    for (const JsonMember& member : object.members) {
      const FieldDescriptor* field = type.FindFieldByName(member.key);
      if (field == nullptr) return UnknownField(type, member.key, prefix);
      const std::string where = prefix + field->name();
      if (field->is_map()) {
        if (auto error = DecodeMap(member.value, *field, message, where)) return error;
        continue;
      }
      if (const auto* oneof = field->real_containing_oneof();
          oneof != nullptr && message->GetReflection()->HasOneof(*message, oneof)) {
        return BadValue(type_name_, where,
                        "cannot be given with another field of " + oneof->name());
      }
      if (!field->is_repeated()) {
        if (auto error = DecodeValue(member.value, *field, message, where)) return error;
        continue;
      }
      if (member.value.kind != JsonValue::Kind::kArray) {
        return BadValue(type_name_, where,
                        std::string("must be a list (a JSON array), not ") +
                            DescribeJsonKind(member.value.kind));
      }
      for (size_t i = 0; i < member.value.elements.size(); ++i) {
        const std::string at = where + "[" + std::to_string(i) + "]";
        if (auto error = DecodeValue(member.value.elements[i], *field, message, at)) {
          return error;
        }
      }
    }
    return std::nullopt;
  }

 private:
  ModelError UnknownField(const Descriptor& type, const std::string& key,
                          const std::string& prefix) const {
    std::string owner = type_name_;
    if (!prefix.empty()) owner += "." + prefix.substr(0, prefix.size() - 1);
    std::string message = owner + " has no field " + QuoteForMessage(key) + ".";
    if (const FieldDescriptor* field = type.FindFieldByCamelcaseName(key); field != nullptr) {
      message += " Field names are snake_case: \"" + field->name() + "\".";
    }
    return {"unknown_field", std::move(message)};
  }

  ModelError Unsupported(const std::string& where) const {
    return {"internal", "Field \"" + where + "\" of " + type_name_ +
                            " has a kind the JSON decoder does not support."};
  }

  ModelError WrongKind(const std::string& where, const std::string& expected,
                       const JsonValue& value) const {
    std::string what = "must be " + expected + ", not " + DescribeJsonKind(value.kind);
    if (value.kind == JsonValue::Kind::kNull) what += " (leave a field out for its default)";
    return BadValue(type_name_, where, what);
  }

  // Sets `field` of `message` (adds one element when it is repeated) from `value`.
  std::optional<ModelError> DecodeValue(const JsonValue& value, const FieldDescriptor& field,
                                        Message* message, const std::string& where) {
    const Reflection& reflection = *message->GetReflection();
    const bool repeated = field.is_repeated();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field.type() != FieldDescriptor::TYPE_STRING) return Unsupported(where);
        if (value.kind != JsonValue::Kind::kString) return WrongKind(where, "a string", value);
        if (repeated) {
          reflection.AddString(message, &field, value.text);
        } else {
          reflection.SetString(message, &field, value.text);
        }
        return std::nullopt;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (value.kind != JsonValue::Kind::kBool) return WrongKind(where, "true or false", value);
        if (repeated) {
          reflection.AddBool(message, &field, value.boolean);
        } else {
          reflection.SetBool(message, &field, value.boolean);
        }
        return std::nullopt;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        return DecodeInteger(value, field, message, where);
      case FieldDescriptor::CPPTYPE_ENUM:
        return DecodeEnum(value, field, message, where);
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return DecodeMessage(value, field, message, where);
      default:
        return Unsupported(where);
    }
  }

  std::optional<ModelError> DecodeInteger(const JsonValue& value, const FieldDescriptor& field,
                                          Message* message, const std::string& where) {
    const Reflection& reflection = *message->GetReflection();
    const bool repeated = field.is_repeated();
    int64_t min = 0;
    uint64_t max = UINT64_MAX;
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        min = INT32_MIN;
        max = INT32_MAX;
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        min = INT64_MIN;
        max = INT64_MAX;
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        max = UINT32_MAX;
        break;
      default:
        break;
    }
    const std::string expected =
        "an integer in " + std::to_string(min) + ".." + std::to_string(max) + " (a JSON number)";
    if (value.kind != JsonValue::Kind::kNumber) return WrongKind(where, expected, value);
    auto integer = ReadInteger(value.text, min, max);
    if (!integer) return BadValue(type_name_, where, integer.error());
    // In range, so the casts below are exact (a negative value only for signed types).
    const uint64_t magnitude = integer->magnitude;
    const int64_t signed_value = integer->negative ? -static_cast<int64_t>(magnitude - 1) - 1
                                                   : static_cast<int64_t>(magnitude);
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        if (repeated) {
          reflection.AddInt32(message, &field, static_cast<int32_t>(signed_value));
        } else {
          reflection.SetInt32(message, &field, static_cast<int32_t>(signed_value));
        }
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        if (repeated) {
          reflection.AddInt64(message, &field, signed_value);
        } else {
          reflection.SetInt64(message, &field, signed_value);
        }
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        if (repeated) {
          reflection.AddUInt32(message, &field, static_cast<uint32_t>(magnitude));
        } else {
          reflection.SetUInt32(message, &field, static_cast<uint32_t>(magnitude));
        }
        break;
      default:
        if (repeated) {
          reflection.AddUInt64(message, &field, magnitude);
        } else {
          reflection.SetUInt64(message, &field, magnitude);
        }
        break;
    }
    return std::nullopt;
  }

  std::optional<ModelError> DecodeEnum(const JsonValue& value, const FieldDescriptor& field,
                                       Message* message, const std::string& where) {
    const auto& type = *field.enum_type();
    std::string names;
    for (int i = 0; i < type.value_count(); ++i) {
      names += (i == 0 ? "" : ", ") + type.value(i)->name();
    }
    const std::string expected = "one of the names " + names;
    if (value.kind != JsonValue::Kind::kString) {
      return WrongKind(where, expected + " (a JSON string)", value);
    }
    const auto* named = type.FindValueByName(value.text);
    if (named == nullptr) {
      return BadValue(type_name_, where,
                      "must be " + expected + ", not " + QuoteForMessage(value.text));
    }
    if (field.is_repeated()) {
      message->GetReflection()->AddEnumValue(message, &field, named->number());
    } else {
      message->GetReflection()->SetEnumValue(message, &field, named->number());
    }
    return std::nullopt;
  }

  // A map<string, string> as a JSON object of strings: {"vm-uuid": "4f2a..."}. Keys are unique
  // (ParseJson refuses one key twice); the map's own rules (labels.h) are validation's.
  std::optional<ModelError> DecodeMap(const JsonValue& value, const FieldDescriptor& field,
                                      Message* message, const std::string& where) {
    const Descriptor& entry_type = *field.message_type();
    const FieldDescriptor* key_field = entry_type.map_key();
    const FieldDescriptor* value_field = entry_type.map_value();
    if (key_field->type() != FieldDescriptor::TYPE_STRING ||
        value_field->type() != FieldDescriptor::TYPE_STRING) {
      return Unsupported(where);
    }
    if (value.kind != JsonValue::Kind::kObject) {
      return WrongKind(where, "an object of strings ({\"key\": \"value\"})", value);
    }
    const Reflection& reflection = *message->GetReflection();
    for (const JsonMember& member : value.members) {
      const std::string at = where + "[" + QuoteForMessage(member.key) + "]";
      if (member.value.kind != JsonValue::Kind::kString) {
        return WrongKind(at, "a string", member.value);
      }
      Message* entry = reflection.AddMessage(message, &field);
      entry->GetReflection()->SetString(entry, key_field, member.key);
      entry->GetReflection()->SetString(entry, value_field, member.value.text);
    }
    return std::nullopt;
  }

  std::optional<ModelError> DecodeMessage(const JsonValue& value, const FieldDescriptor& field,
                                          Message* message, const std::string& where) {
    const Reflection& reflection = *message->GetReflection();
    const std::string& type = field.message_type()->full_name();
    if (type == google::protobuf::Timestamp::descriptor()->full_name()) {
      static constexpr const char* kShape = "an RFC 3339 time string (\"2026-01-01T00:00:00Z\")";
      if (value.kind != JsonValue::Kind::kString) return WrongKind(where, kShape, value);
      google::protobuf::Timestamp time;
      if (!google::protobuf::util::TimeUtil::FromString(value.text, &time)) {
        return BadValue(type_name_, where,
                        std::string("must be ") + kShape + ", not " + QuoteForMessage(value.text));
      }
      Message* target = field.is_repeated() ? reflection.AddMessage(message, &field)
                                            : reflection.MutableMessage(message, &field);
      target->CopyFrom(time);
      return std::nullopt;
    }
    if (type.rfind("google.protobuf.", 0) == 0) return Unsupported(where);
    if (value.kind != JsonValue::Kind::kObject) return WrongKind(where, "an object", value);
    Message* target = field.is_repeated() ? reflection.AddMessage(message, &field)
                                          : reflection.MutableMessage(message, &field);
    return DecodeObject(value, target, where + ".");
  }

  std::string type_name_;
};
}  // namespace

ModelResult<void> ParseJsonInto(std::string_view json, google::protobuf::Message* message) {
  const std::string type_name = message->GetDescriptor()->name();
  if (json.size() > kMaxJsonBytes) {
    return Fail("too_large", "The " + type_name + " body is " + std::to_string(json.size()) +
                                 " bytes; the limit is " + std::to_string(kMaxJsonBytes) + ".");
  }
  try {
    message->Clear();
    auto tree = ParseJson(json);
    if (!tree) {
      const JsonParseError& error = tree.error();
      if (error.kind == JsonParseError::Kind::kDuplicateKey) {
        return Fail("duplicate_field", "Field \"" + error.path + "\" of " + type_name +
                                           " is given more than once (" + error.message + ")");
      }
      return Fail("invalid_json", "The body is not valid JSON: " + error.message);
    }
    if (tree->kind != JsonValue::Kind::kObject) {
      return Fail("invalid_json", "The body must be a JSON object describing a " + type_name +
                                      ", not " + DescribeJsonKind(tree->kind) + ".");
    }
    if (auto error = Decoder(type_name).DecodeObject(*tree, message, "")) {
      return Unexpected(std::move(*error));
    }
  } catch (const std::exception& e) {
    return Fail("internal", std::string("Decoding the JSON failed: ") + e.what());
  } catch (...) {
    return Fail("internal", "Decoding the JSON failed.");
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
