#include "model/json_parser.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

namespace dove::model {
namespace {

// One step of the path from the top value to the one being parsed; lives on the parser's
// stack. `key` is null for an array element.
struct PathLink {
  const PathLink* parent = nullptr;
  const std::string* key = nullptr;
  size_t index = 0;
};

std::string PathText(const PathLink* link) {
  std::vector<const PathLink*> links;
  for (; link != nullptr; link = link->parent) links.push_back(link);
  std::string out;
  for (auto it = links.rbegin(); it != links.rend(); ++it) {
    if ((*it)->key == nullptr) {
      out += "[" + std::to_string((*it)->index) + "]";
    } else {
      if (!out.empty()) out += '.';
      out += *(*it)->key;
    }
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '$';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    *out += static_cast<char>(code);
  } else if (code < 0x800) {
    *out += static_cast<char>(0xc0 | (code >> 6));
    *out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    *out += static_cast<char>(0xe0 | (code >> 12));
    *out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (code >> 18));
    *out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// The length of the well-formed UTF-8 sequence (RFC 3629) starting at text[at], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[at + i]); };
  const uint8_t lead = byte(0);
  size_t length = 0;
  uint32_t code = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1fU;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0fU;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07U;
  } else {
    return 0;  // a continuation byte, an overlong two-byte lead (C0, C1), or F5..FF
  }
  if (text.size() - at < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0U) != 0x80) return 0;
    code = code << 6 | (byte(i) & 0x3fU);
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Expected<JsonValue, JsonParseError> Run() {
    JsonValue root;
    if (text_.substr(0, 3) == "\xef\xbb\xbf") {
      Fail(0, "a byte order mark; a JSON text must not start with one");
    } else {
      SkipWhitespace();
      if (pos_ == text_.size()) {
        Fail(pos_, "the body holds no JSON value");
      } else if (ParseValue(&root, 0, nullptr)) {
        SkipWhitespace();
        if (pos_ != text_.size()) {
          Fail(pos_, "unexpected " + Found(pos_) + " after the JSON value (only whitespace may " +
                         "follow it)");
        }
      }
    }
    if (error_) return Unexpected(std::move(*error_));
    if (duplicate_) return Unexpected(std::move(*duplicate_));
    return root;
  }

 private:
  // Records the first error; returns false so callers can `return Fail(...)`.
  bool Fail(size_t at, const std::string& what,
            JsonParseError::Kind kind = JsonParseError::Kind::kSyntax) {
    if (error_) return false;
    error_ = Error(at, what, kind);
    return false;
  }

  JsonParseError Error(size_t at, const std::string& what, JsonParseError::Kind kind) const {
    JsonParseError error;
    error.kind = kind;
    const std::string_view before = text_.substr(0, at);
    error.line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t newline = before.rfind('\n');
    error.column = at - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
    error.message = "line " + std::to_string(error.line) + ", column " +
                    std::to_string(error.column) + ": " + what + ".";
    return error;
  }

  // What is at `at`, for a message: "the end of the body", "'x'", "byte 0xff".
  std::string Found(size_t at) const {
    if (at >= text_.size()) return "the end of the body";
    const auto c = static_cast<uint8_t>(text_[at]);
    if (c == '\'') return "a single quote (JSON strings take double quotes)";
    if (c == '/') return "'/' (JSON has no comments)";
    if (c > 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xf];
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  bool ParseValue(JsonValue* out, size_t depth, const PathLink* path) {
    SkipWhitespace();
    if (AtEnd()) return Fail(pos_, "expected a value, found the end of the body");
    const char c = text_[pos_];
    switch (c) {
      case '{':
      case '[':
        if (depth + 1 > kMaxJsonDepth) {
          return Fail(
              pos_,
              "objects and arrays nest deeper than " + std::to_string(kMaxJsonDepth) + " levels",
              JsonParseError::Kind::kTooDeep);
        }
        return c == '{' ? ParseObject(out, depth + 1, path) : ParseArray(out, depth + 1, path);
      case '"':
        out->kind = JsonValue::Kind::kString;
        return ParseString(&out->text);
      case 't':
      case 'f':
      case 'n':
        return ParseLiteral(out);
      default:
        break;
    }
    if (c == '-' || IsDigit(c)) {
      out->kind = JsonValue::Kind::kNumber;
      return ParseNumber(&out->text);
    }
    if (c == '+') return Fail(pos_, "a number must not start with '+'");
    if (c == '.') return Fail(pos_, "a number must start with a digit, not '.'");
    if (text_.substr(pos_, 3) == "NaN" || text_.substr(pos_, 8) == "Infinity") {
      return Fail(pos_, "NaN and Infinity are not JSON numbers");
    }
    if (IsWordChar(c)) {
      return Fail(pos_, "expected a value, found " + Found(pos_) +
                            " (the literals are true, false and null, in lower case; strings " +
                            "take double quotes)");
    }
    return Fail(pos_, "expected a value, found " + Found(pos_));
  }

  bool ParseLiteral(JsonValue* out) {
    struct Literal {
      std::string_view text;
      JsonValue::Kind kind;
      bool value;
    };
    static constexpr Literal kLiterals[] = {{"true", JsonValue::Kind::kBool, true},
                                            {"false", JsonValue::Kind::kBool, false},
                                            {"null", JsonValue::Kind::kNull, false}};
    for (const auto& literal : kLiterals) {
      if (text_.substr(pos_, literal.text.size()) != literal.text) continue;
      const size_t end = pos_ + literal.text.size();
      if (end < text_.size() && IsWordChar(text_[end])) break;  // "nullx", "trueish"
      out->kind = literal.kind;
      out->boolean = literal.value;
      pos_ = end;
      return true;
    }
    return Fail(pos_, "expected a value, found " + Found(pos_) +
                          " (the literals are true, false and null; strings take double quotes)");
  }

  // number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ]
  bool ParseNumber(std::string* out) {
    const size_t start = pos_;
    if (Peek() == '-') {
      ++pos_;
      if (text_.substr(pos_, 8) == "Infinity") {
        return Fail(start, "NaN and Infinity are not JSON numbers");
      }
    }
    if (!IsDigit(Peek())) return Fail(pos_, "expected a digit, found " + Found(pos_));
    if (Peek() == '0') {
      ++pos_;
      if (IsDigit(Peek())) return Fail(start, "a number must not have leading zeros");
      if (Peek() == 'x' || Peek() == 'X') return Fail(start, "hexadecimal numbers are not JSON");
    } else {
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == '.') {
      ++pos_;
      if (!IsDigit(Peek())) {
        return Fail(pos_, "expected a digit after the decimal point, found " + Found(pos_));
      }
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) {
        return Fail(pos_, "expected a digit in the exponent, found " + Found(pos_));
      }
      while (IsDigit(Peek())) ++pos_;
    }
    *out = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  // Four hex digits at pos_ (after "\u"), or nullopt with the error recorded.
  std::optional<uint32_t> ParseHex4() {
    uint32_t code = 0;
    for (size_t i = 0; i < 4; ++i) {
      const int digit = pos_ + i < text_.size() ? HexValue(text_[pos_ + i]) : -1;
      if (digit < 0) {
        Fail(pos_ + i, "a \\u escape needs four hex digits, found " + Found(pos_ + i));
        return std::nullopt;
      }
      code = code << 4 | static_cast<uint32_t>(digit);
    }
    pos_ += 4;
    return code;
  }

  bool ParseEscape(std::string* out) {
    const size_t start = pos_;  // at the backslash
    ++pos_;
    if (AtEnd()) return Fail(start, "a string is not closed");
    const char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        *out += c;
        return true;
      case 'b':
        *out += '\b';
        return true;
      case 'f':
        *out += '\f';
        return true;
      case 'n':
        *out += '\n';
        return true;
      case 'r':
        *out += '\r';
        return true;
      case 't':
        *out += '\t';
        return true;
      case 'u':
        break;
      default: {
        const std::string what =
            c > 0x20 && c < 0x7f ? std::string("\\") + c : "a backslash before " + Found(pos_ - 1);
        return Fail(start, what +
                               " is not a JSON escape (they are \\\" \\\\ \\/ \\b \\f \\n \\r "
                               "\\t \\uXXXX)");
      }
    }
    const auto unit = ParseHex4();
    if (!unit) return false;
    uint32_t code = *unit;
    if (code >= 0xdc00 && code <= 0xdfff) {
      return Fail(start, "\\u" + std::string(text_.substr(start + 2, 4)) +
                             " is the low half of a surrogate pair without its high half");
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      if (text_.substr(pos_, 2) != "\\u") {
        return Fail(start, "\\u" + std::string(text_.substr(start + 2, 4)) +
                               " is the high half of a surrogate pair; its low half must follow");
      }
      pos_ += 2;
      const auto low = ParseHex4();
      if (!low) return false;
      if (*low < 0xdc00 || *low > 0xdfff) {
        return Fail(start, "\\u" + std::string(text_.substr(start + 2, 4)) +
                               " is the high half of a surrogate pair; its low half must follow");
      }
      code = 0x10000 + ((code - 0xd800) << 10) + (*low - 0xdc00);
    }
    AppendUtf8(code, out);
    return true;
  }

  bool ParseString(std::string* out) {
    const size_t start = pos_;  // at the opening quote
    ++pos_;
    while (true) {
      // The common case first: a run of plain printable ASCII.
      const size_t run = pos_;
      while (!AtEnd()) {
        const auto c = static_cast<uint8_t>(text_[pos_]);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++pos_;
      }
      out->append(text_.substr(run, pos_ - run));
      if (AtEnd()) return Fail(start, "a string is not closed");
      const auto c = static_cast<uint8_t>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!ParseEscape(out)) return false;
        continue;
      }
      if (c < 0x20) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        return Fail(pos_, std::string("a control character (U+00") + kHex[c >> 4] + kHex[c & 0xf] +
                              ") inside a string; it must be written as an escape");
      }
      const size_t length = Utf8SequenceLength(text_, pos_);
      if (length == 0) return Fail(pos_, "a string holds bytes that are not UTF-8");
      out->append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  bool ParseObject(JsonValue* out, size_t depth, const PathLink* path) {
    out->kind = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    std::optional<size_t> comma_at;
    while (true) {
      SkipWhitespace();
      if (Peek() != '"') {
        if (comma_at && Peek() == '}') {
          return Fail(*comma_at, "a trailing comma before '}' (JSON has none)");
        }
        if (IsWordChar(Peek())) {
          return Fail(pos_, "a key must be a string in double quotes, found " + Found(pos_));
        }
        return Fail(pos_, "expected a key (a string in double quotes), found " + Found(pos_));
      }
      const size_t key_at = pos_;
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWhitespace();
      if (Peek() != ':') {
        return Fail(
            pos_, "expected ':' after the key " + QuoteForMessage(key) + ", found " + Found(pos_));
      }
      ++pos_;
      const PathLink link{path, &key, 0};
      JsonValue value;
      if (!ParseValue(&value, depth, &link)) return false;
      key_offsets_.push_back(key_at);
      out->members.push_back({std::move(key), std::move(value)});
      SkipWhitespace();
      if (Peek() == ',') {
        comma_at = pos_++;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      return Fail(pos_, "expected ',' or '}' after a member, found " + Found(pos_));
    }
    FindDuplicate(*out, path);
    return true;
  }

  // Records the first key of `object` given twice (the one whose second occurrence comes
  // first), unless a duplicate was recorded before. Consumes this object's key offsets.
  void FindDuplicate(const JsonValue& object, const PathLink* path) {
    const size_t count = object.members.size();
    const size_t first_offset = key_offsets_.size() - count;
    if (!duplicate_ && count > 1) {
      std::vector<size_t> order(count);
      for (size_t i = 0; i < count; ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return object.members[a].key < object.members[b].key;
      });
      std::optional<size_t> second;
      for (size_t i = 1; i < count; ++i) {
        if (object.members[order[i]].key != object.members[order[i - 1]].key) continue;
        // Equal keys keep text order (stable sort): order[i] is a later occurrence.
        if (!second || order[i] < *second) second = order[i];
      }
      if (second) {
        const PathLink link{path, &object.members[*second].key, 0};
        duplicate_ = Error(key_offsets_[first_offset + *second],
                           "the key " + QuoteForMessage(object.members[*second].key) +
                               " is given twice in one object",
                           JsonParseError::Kind::kDuplicateKey);
        duplicate_->path = PathText(&link);
      }
    }
    key_offsets_.resize(first_offset);
  }

  bool ParseArray(JsonValue* out, size_t depth, const PathLink* path) {
    out->kind = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    size_t comma_at = 0;
    while (true) {
      SkipWhitespace();
      if (!out->elements.empty() && Peek() == ']') {
        return Fail(comma_at, "a trailing comma before ']' (JSON has none)");
      }
      const PathLink link{path, nullptr, out->elements.size()};
      JsonValue value;
      if (!ParseValue(&value, depth, &link)) return false;
      out->elements.push_back(std::move(value));
      SkipWhitespace();
      if (Peek() == ',') {
        comma_at = pos_++;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail(pos_, "expected ',' or ']' after an element, found " + Found(pos_));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  // Offsets of the keys of the objects being parsed, innermost last (for duplicate messages).
  std::vector<size_t> key_offsets_;
  std::optional<JsonParseError> error_;
  std::optional<JsonParseError> duplicate_;
};

}  // namespace

Expected<JsonValue, JsonParseError> ParseJson(std::string_view text) { return Parser(text).Run(); }

const char* DescribeJsonKind(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kBool:
      return "true or false";
    case JsonValue::Kind::kNumber:
      return "a number";
    case JsonValue::Kind::kString:
      return "a string";
    case JsonValue::Kind::kArray:
      return "a list";
    case JsonValue::Kind::kObject:
      return "an object";
  }
  return "a value";
}

std::string QuoteForMessage(std::string_view text) {
  static constexpr size_t kLimit = 64;
  std::string out = "\"";
  size_t at = 0;
  while (at < text.size()) {
    if (at >= kLimit) {
      out += "...";
      break;
    }
    const auto c = static_cast<uint8_t>(text[at]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++at;
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++at;
    } else if (const size_t length = Utf8SequenceLength(text, at); length > 0) {
      out.append(text.substr(at, length));
      at += length;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD for a byte that is not UTF-8
      ++at;
    }
  }
  return out + "\"";
}

}  // namespace dove::model
