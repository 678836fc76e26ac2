// The strict JSON form of the model messages, as the REST API reads and writes it.
//
// FromJson reads one JSON object into a message. The text goes through ParseJson
// (json_parser.h: RFC 8259 and nothing else); the tree is then decoded by the message's
// descriptor, and protobuf's own (lenient) JSON parser is never used. Refused, with a
// ModelError (model_error.h), checked in this order:
//   - a body over kMaxJsonBytes                                      -> too_large
//   - anything that is not RFC 8259 JSON (json_parser.h lists what: single quotes, unquoted
//     keys, trailing commas, comments, NaN, leading zeros, bad escapes, bad UTF-8, trailing
//     bytes, ...) or nests deeper than kMaxJsonDepth; the message
//     names line and column                                          -> invalid_json
//   - one key twice in one object, at any depth, compared after
//     unescaping ("\u006eame" is "name"); the message names the
//     key's path, line and column                                    -> duplicate_field
//   - a JSON value that is not an object                             -> invalid_json
//   - then the members in text order, the first bad one:
//     a key that is no field's proto name (snake_case; the camelCase
//     json_name is not an alias), nested objects too                -> unknown_field
//     a value of the wrong JSON type: a number given as a string
//     ("7"), null for any field, an enum by number, a string where
//     a list belongs, an integer with a fraction or an exponent
//     (1.0, 1e3), a number outside the field's range, an unknown
//     enum name, a timestamp that is not RFC 3339, two fields of
//     one oneof                                                      -> invalid_value
// Every invalid_value message names the field by its path ("port_range.first", "ips[2]") and
// the type it expects. Accepted: exactly the JSON types of the proto3 JSON mapping's canonical
// form: strings, true/false, integers as JSON numbers written with digits only ("-0" is 0),
// enums by name, google.protobuf.Timestamp as an RFC 3339 string, messages as objects,
// repeated fields as arrays; a field left out takes its default.
//
// ToJson prints proto field names (snake_case), enums by name, and every field, including
// those at their default, so a client sees the whole object; what it prints FromJson reads
// back to the same message.
//
// Neither throws; both are thread-safe on distinct messages.
//
//   auto network = FromJson<v1::Network>(R"({"id":"n1","domain_id":"d1","vni":7})");
//   if (!network) return Reply(400, network.error());
#pragma once

#include <google/protobuf/message.h>

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

#include "model/model_error.h"

namespace dove::model {

inline constexpr size_t kMaxJsonBytes = size_t{1} << 20;

// Parses `json` into `*message` (cleared first). On error `*message` is unspecified.
ModelResult<void> ParseJsonInto(std::string_view json, google::protobuf::Message* message);

// The JSON text of `message`. Fails only with "internal" (e.g. a string field set from C++
// with bytes that are not UTF-8).
ModelResult<std::string> ToJson(const google::protobuf::Message& message);

template <typename T>
requires std::derived_from<T, google::protobuf::Message> ModelResult<T> FromJson(
    std::string_view json) {
  T message;
  if (auto parsed = ParseJsonInto(json, &message); !parsed) return Unexpected(parsed.error());
  return message;
}

}  // namespace dove::model
