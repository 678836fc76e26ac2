// ParseJson: RFC 8259 JSON and nothing else, the one parser every REST request body goes
// through (json.h decodes the tree it returns into a model message).
//
// It accepts exactly the grammar of RFC 8259 (any value at the top, whitespace around it) and
// refuses, naming the line and column (columns count bytes, from 1):
//   - anything outside the grammar: single quotes, keys not in double quotes, trailing commas,
//     comments, NaN and Infinity, a leading '+', leading zeros, ".5", "5.", "1e", hex numbers,
//     literals in another case ("True", "NULL"), an empty text, a byte order mark, and anything
//     but whitespace (space, tab, CR, LF) after the value;
//   - in a string: a raw control character (U+0000..U+001F), an escape other than \" \\ \/ \b
//     \f \n \r \t \uXXXX, a \u escape of half a surrogate pair, bytes that are not UTF-8
//     (overlong forms, encoded surrogates, code points beyond U+10FFFF, truncated sequences);
//   - objects or arrays nested deeper than kMaxJsonDepth                      (kTooDeep);
//   - one key twice in one object, at any depth, compared after unescaping: "\u006eame" and
//     "name" are the same key                                                 (kDuplicateKey).
// A duplicate is reported only for a text that is otherwise well-formed, so a malformed text
// is always kSyntax or kTooDeep whatever else it holds.
//
// Numbers keep their text as written (a valid RFC 8259 number), so no precision is lost before
// a decoder checks a range: "18446744073709551616" stays exact. Strings hold the decoded UTF-8.
//
// Cost: linear in the text; recursion depth bounded by kMaxJsonDepth; duplicate keys found by
// sorting each object's keys (n log n, no hashing an attacker could collide). The tree takes
// up to ~45 bytes per byte of text in the worst case (measured: a 1 MiB list of 0s is a 45 MiB
// tree, parsed in 47 ms; a list of address strings 12 MiB, 9 ms), so callers bound the text
// (json.h: kMaxJsonBytes). Throws nothing but std::bad_alloc; thread-safe (no shared state).
//
//   auto value = ParseJson(R"({"name":"web","vni":7})");
//   if (!value) return Fail("invalid_json", value.error().message);
//   for (const JsonMember& member : value->members) Use(member.key, member.value);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace dove::model {

// Objects and arrays nest at most this deep (the top-level object is depth 1). The model's
// messages need 2; the limit bounds the parser's recursion, not what the API can express.
inline constexpr size_t kMaxJsonDepth = 32;

struct JsonMember;

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;             // kBool
  std::string text;                 // kString: the decoded UTF-8; kNumber: the number as written
  std::vector<JsonValue> elements;  // kArray, in order
  std::vector<JsonMember> members;  // kObject, in text order; keys are distinct
};

struct JsonMember {
  std::string key;  // decoded (escapes resolved), UTF-8
  JsonValue value;
};

struct JsonParseError {
  enum class Kind { kSyntax, kTooDeep, kDuplicateKey };
  Kind kind = Kind::kSyntax;
  size_t line = 0;    // 1-based, of the offending byte (kDuplicateKey: of the second key)
  size_t column = 0;  // 1-based, in bytes
  // One sentence starting "line L, column C: ", e.g. "line 1, column 14: a trailing comma
  // before '}' (JSON has none)."
  std::string message;
  // kDuplicateKey: where the key is, dotted from the top ("port_range.first", "ips[2].name").
  std::string path;
};

Expected<JsonValue, JsonParseError> ParseJson(std::string_view text);

// How a message names a kind to a person: "null", "true or false", "a number", "a string",
// "a list", "an object".
const char* DescribeJsonKind(JsonValue::Kind kind);

// `text` in double quotes for an error message: '"' and '\' escaped, control characters as
// \u00XX, cut (at a UTF-8 boundary, marked "...") after 64 bytes so an error never echoes a
// whole body.
std::string QuoteForMessage(std::string_view text);

}  // namespace dove::model
