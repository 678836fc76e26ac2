// The strict JSON form of the model messages (proto3 JSON mapping, as the REST API uses it).
//
// FromJson parses one JSON object into a message and refuses, with a ModelError (see
// model_error.h), what protobuf's parser would otherwise let pass or report obscurely:
//   - a body over kMaxJsonBytes                                  -> too_large
//   - not JSON, trailing bytes after the object, bad UTF-8,
//     a JSON value that is not an object                         -> invalid_json
//   - a key that is no field (nested ones too)                   -> unknown_field
//   - one field given twice in one object, by either of its
//     names ("domain_id" / "domainId"); protobuf keeps the last  -> duplicate_field
//   - a wrong type, a number out of the field's range, a
//     fraction for an integer, an unknown enum name              -> invalid_value
// As proto3 JSON allows, integers may be given as JSON strings ("5"), exponents that give an
// integer (1e3) are accepted, null means "the default", and an unknown enum *number* is kept
// (validation.h refuses it). Keys written with escapes are compared as written for
// duplicate detection.
//
// ToJson prints proto field names (snake_case), enums by name, and every field, including
// those at their default, so a client sees the whole object.
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
