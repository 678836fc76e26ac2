// Tolerant readers of fields in the controller's JSON objects, for display.
//
// The API prints every field (proto3 JSON with defaults), but dovectl must not crash on an
// older or newer controller that leaves one out or changes a type: a missing or mistyped
// field reads as empty (""/0/empty list). uint64 numbers may arrive as JSON strings in
// proto3 JSON; Number() accepts both.
//
//   std::string name = StringField(domain, "name");
//   for (const auto& item : Items(list_body)) ...
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dove::cli {

std::string StringField(const nlohmann::json& object, const char* key);
// A number (or numeric string) field as text: "7"; "" when missing.
std::string NumberField(const nlohmann::json& object, const char* key);
// The strings of an array field, comma-joined.
std::string JoinedField(const nlohmann::json& object, const char* key);
// The "items" array of a list answer; an empty array when there is none.
const nlohmann::json& Items(const nlohmann::json& list_body);

}  // namespace dove::cli
