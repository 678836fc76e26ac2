// Fuzzes ParseJson (model/json_parser.h) against a reference recognizer of RFC 8259 written
// here independently (UTF-8 by the ranges of Unicode's table 3-7, not by decoding), and checks:
//   - the verdict agrees: accepted, kSyntax, kTooDeep or kDuplicateKey exactly when the
//     reference says so (a malformed or duplicate-key text is never accepted);
//   - an error names a line and column inside the text and its message starts with them;
//   - an accepted text's tree holds only valid UTF-8 strings, RFC 8259 number texts, distinct
//     keys per object and depth <= kMaxJsonDepth; printed again (Print below) and re-parsed it
//     gives the same tree, and printing that gives the same text;
//   - from an accepted non-empty object or array: the first key repeated with every ASCII byte
//     written as \u00XX is kDuplicateKey with that key as the path; a trailing comma is kSyntax.
// Any disagreement aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "model/json_parser.h"

namespace {

using dove::model::JsonMember;
using dove::model::JsonParseError;
using dove::model::JsonValue;
using dove::model::kMaxJsonDepth;
using dove::model::ParseJson;

void Check(bool condition) {
  if (!condition) std::abort();
}

// ---- The reference recognizer. ----

enum class Verdict { kOk, kSyntax, kTooDeep, kDuplicate };

// The length of the UTF-8 sequence at text[at] by Unicode table 3-7, or 0.
size_t ReferenceUtf8(std::string_view text, size_t at) {
  struct Row {
    uint8_t lead_min, lead_max, second_min, second_max;
    size_t length;
  };
  static constexpr Row kRows[] = {
      {0x00, 0x7f, 0, 0, 1},       {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
      {0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
      {0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
  };
  const auto lead = static_cast<uint8_t>(text[at]);
  for (const Row& row : kRows) {
    if (lead < row.lead_min || lead > row.lead_max) continue;
    if (row.length == 1) return 1;
    if (text.size() - at < row.length) return 0;
    const auto second = static_cast<uint8_t>(text[at + 1]);
    if (second < row.second_min || second > row.second_max) return 0;
    for (size_t i = 2; i < row.length; ++i) {
      const auto next = static_cast<uint8_t>(text[at + i]);
      if (next < 0x80 || next > 0xbf) return 0;
    }
    return row.length;
  }
  return 0;
}

bool ValidUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const size_t length = ReferenceUtf8(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

class Reference {
 public:
  explicit Reference(std::string_view text) : text_(text) {}

  Verdict Run() {
    Space();
    if (!Value(0)) return verdict_;
    Space();
    if (at_ != text_.size()) return Verdict::kSyntax;
    return duplicate_ ? Verdict::kDuplicate : Verdict::kOk;
  }

 private:
  bool Stop(Verdict verdict) {
    verdict_ = verdict;
    return false;
  }
  char Next() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  bool Eat(char c) {
    if (at_ >= text_.size() || text_[at_] != c) return false;
    ++at_;
    return true;
  }
  void Space() {
    while (at_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[at_]) != std::string_view::npos) {
      ++at_;
    }
  }
  bool Digits() {
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
    return at_ > start;
  }

  bool Value(size_t depth) {
    if (at_ >= text_.size()) return Stop(Verdict::kSyntax);
    const char c = text_[at_];
    if (c == '{' || c == '[') {
      if (depth == kMaxJsonDepth) return Stop(Verdict::kTooDeep);
      return c == '{' ? Object(depth + 1) : Array(depth + 1);
    }
    if (c == '"') {
      std::string ignored;
      return String(&ignored);
    }
    for (std::string_view literal : {"true", "false", "null"}) {
      if (text_.substr(at_, literal.size()) == literal) {
        at_ += literal.size();
        return true;
      }
    }
    return Number();
  }

  bool Number() {
    Eat('-');
    if (Eat('0')) {
      // nothing more in the integer part
    } else if (Next() >= '1' && Next() <= '9') {
      Digits();
    } else {
      return Stop(Verdict::kSyntax);
    }
    if (Eat('.') && !Digits()) return Stop(Verdict::kSyntax);
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return Stop(Verdict::kSyntax);
    }
    return true;
  }

  bool Hex4(uint32_t* unit) {
    if (text_.size() - at_ < 4) return Stop(Verdict::kSyntax);
    *unit = 0;
    for (size_t i = 0; i < 4; ++i) {
      const char c = text_[at_ + i];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Stop(Verdict::kSyntax);
      }
      *unit = *unit * 16 + digit;
    }
    at_ += 4;
    return true;
  }

  static void Append(uint32_t code, std::string* out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
  }

  bool String(std::string* out) {
    ++at_;  // '"'
    while (true) {
      if (at_ >= text_.size()) return Stop(Verdict::kSyntax);
      const auto c = static_cast<uint8_t>(text_[at_]);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c < 0x20) return Stop(Verdict::kSyntax);
      if (c != '\\') {
        const size_t length = ReferenceUtf8(text_, at_);
        if (length == 0) return Stop(Verdict::kSyntax);
        out->append(text_.substr(at_, length));
        at_ += length;
        continue;
      }
      ++at_;
      const char escape = Next();
      ++at_;
      const std::string_view simple = "\"\\/bfnrt";
      const std::string_view meaning = "\"\\/\b\f\n\r\t";
      if (const size_t i = simple.find(escape); escape != '\0' && i != std::string_view::npos) {
        out->push_back(meaning[i]);
        continue;
      }
      if (escape != 'u') return Stop(Verdict::kSyntax);
      uint32_t unit = 0;
      if (!Hex4(&unit)) return false;
      if (unit >= 0xdc00 && unit <= 0xdfff) return Stop(Verdict::kSyntax);
      if (unit >= 0xd800 && unit <= 0xdbff) {
        uint32_t low = 0;
        if (!Eat('\\') || !Eat('u')) return Stop(Verdict::kSyntax);
        if (!Hex4(&low)) return false;
        if (low < 0xdc00 || low > 0xdfff) return Stop(Verdict::kSyntax);
        unit = 0x10000 + (unit - 0xd800) * 0x400 + (low - 0xdc00);
      }
      Append(unit, out);
    }
  }

  bool Object(size_t depth) {
    ++at_;  // '{'
    Space();
    if (Eat('}')) return true;
    std::set<std::string> keys;
    while (true) {
      Space();
      if (Next() != '"') return Stop(Verdict::kSyntax);
      std::string key;
      if (!String(&key)) return false;
      if (!keys.insert(key).second) duplicate_ = true;
      Space();
      if (!Eat(':')) return Stop(Verdict::kSyntax);
      Space();
      if (!Value(depth)) return false;
      Space();
      if (Eat('}')) return true;
      if (!Eat(',')) return Stop(Verdict::kSyntax);
    }
  }

  bool Array(size_t depth) {
    ++at_;  // '['
    Space();
    if (Eat(']')) return true;
    while (true) {
      Space();
      if (!Value(depth)) return false;
      Space();
      if (Eat(']')) return true;
      if (!Eat(',')) return Stop(Verdict::kSyntax);
    }
  }

  std::string_view text_;
  size_t at_ = 0;
  bool duplicate_ = false;
  Verdict verdict_ = Verdict::kSyntax;
};

// ---- Printing and comparing trees. ----

void PrintString(std::string_view text, bool escape_ascii, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte < 0x20 || (escape_ascii && byte < 0x80)) {
      *out += "\\u00";
      out->push_back(kHex[byte >> 4]);
      out->push_back(kHex[byte & 0xf]);
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void Print(const JsonValue& value, std::string* out) {
  switch (value.kind) {
    case JsonValue::Kind::kNull:
      *out += "null";
      return;
    case JsonValue::Kind::kBool:
      *out += value.boolean ? "true" : "false";
      return;
    case JsonValue::Kind::kNumber:
      *out += value.text;
      return;
    case JsonValue::Kind::kString:
      PrintString(value.text, false, out);
      return;
    case JsonValue::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < value.elements.size(); ++i) {
        if (i > 0) out->push_back(',');
        Print(value.elements[i], out);
      }
      out->push_back(']');
      return;
    case JsonValue::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < value.members.size(); ++i) {
        if (i > 0) out->push_back(',');
        PrintString(value.members[i].key, false, out);
        out->push_back(':');
        Print(value.members[i].value, out);
      }
      out->push_back('}');
      return;
  }
}

bool Equal(const JsonValue& a, const JsonValue& b) {
  if (a.kind != b.kind || a.boolean != b.boolean || a.text != b.text ||
      a.elements.size() != b.elements.size() || a.members.size() != b.members.size()) {
    return false;
  }
  for (size_t i = 0; i < a.elements.size(); ++i) {
    if (!Equal(a.elements[i], b.elements[i])) return false;
  }
  for (size_t i = 0; i < a.members.size(); ++i) {
    if (a.members[i].key != b.members[i].key || !Equal(a.members[i].value, b.members[i].value)) {
      return false;
    }
  }
  return true;
}

// Strings are UTF-8, numbers RFC 8259 numbers, keys distinct; returns the depth of `value`.
size_t CheckTree(const JsonValue& value) {
  size_t depth = 0;
  switch (value.kind) {
    case JsonValue::Kind::kString:
      Check(ValidUtf8(value.text));
      break;
    case JsonValue::Kind::kNumber:
      Check(!value.text.empty() && Reference(value.text).Run() == Verdict::kOk &&
            value.text.find_first_not_of("-+.eE0123456789") == std::string::npos);
      break;
    case JsonValue::Kind::kArray:
      for (const JsonValue& element : value.elements) depth = std::max(depth, CheckTree(element));
      return depth + 1;
    case JsonValue::Kind::kObject: {
      std::set<std::string> keys;
      for (const JsonMember& member : value.members) {
        Check(ValidUtf8(member.key));
        Check(keys.insert(member.key).second);
        depth = std::max(depth, CheckTree(member.value));
      }
      return depth + 1;
    }
    default:
      Check(value.text.empty());
      break;
  }
  Check(value.elements.empty() && value.members.empty());
  return 0;
}

void CheckError(std::string_view text, const JsonParseError& error) {
  Check(error.line >= 1 && error.column >= 1);
  size_t line_start = 0;
  for (size_t line = 1; line < error.line; ++line) {
    line_start = text.find('\n', line_start);
    Check(line_start != std::string_view::npos);
    ++line_start;
  }
  Check(line_start + error.column - 1 <= text.size());
  Check(text.substr(line_start, error.column - 1).find('\n') == std::string_view::npos);
  const std::string prefix =
      "line " + std::to_string(error.line) + ", column " + std::to_string(error.column) + ": ";
  Check(error.message.rfind(prefix, 0) == 0 && error.message.size() > prefix.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = ParseJson(text);
  const Verdict reference = Reference(text).Run();
  if (!parsed) {
    CheckError(text, parsed.error());
    switch (parsed.error().kind) {
      case JsonParseError::Kind::kSyntax:
        Check(reference == Verdict::kSyntax);
        break;
      case JsonParseError::Kind::kTooDeep:
        Check(reference == Verdict::kTooDeep);
        break;
      case JsonParseError::Kind::kDuplicateKey:
        Check(reference == Verdict::kDuplicate);
        break;
    }
    return 0;
  }
  Check(reference == Verdict::kOk);
  Check(CheckTree(*parsed) <= kMaxJsonDepth);

  std::string printed;
  Print(*parsed, &printed);
  const auto again = ParseJson(printed);
  Check(again.has_value() && Equal(*again, *parsed));
  std::string printed_again;
  Print(*again, &printed_again);
  Check(printed_again == printed);

  if (parsed->kind == JsonValue::Kind::kObject && !parsed->members.empty()) {
    const JsonMember& first = parsed->members.front();
    std::string doubled = "{";
    PrintString(first.key, false, &doubled);
    doubled += ":null,";
    PrintString(first.key, true, &doubled);
    doubled += ':';
    Print(first.value, &doubled);
    for (size_t i = 1; i < parsed->members.size(); ++i) {
      doubled += ',';
      PrintString(parsed->members[i].key, false, &doubled);
      doubled += ':';
      Print(parsed->members[i].value, &doubled);
    }
    doubled += '}';
    const auto refused = ParseJson(doubled);
    Check(!refused && refused.error().kind == JsonParseError::Kind::kDuplicateKey &&
          refused.error().path == first.key);
  }
  const bool has_items = (parsed->kind == JsonValue::Kind::kObject && !parsed->members.empty()) ||
                         (parsed->kind == JsonValue::Kind::kArray && !parsed->elements.empty());
  if (has_items) {
    std::string trailing = printed;
    trailing.insert(trailing.size() - 1, ",");
    const auto refused = ParseJson(trailing);
    Check(!refused && refused.error().kind == JsonParseError::Kind::kSyntax);
  }
  return 0;
}
