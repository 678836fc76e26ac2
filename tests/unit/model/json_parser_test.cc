#include "model/json_parser.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace dove::model {
namespace {

using Kind = JsonValue::Kind;
using ErrorKind = JsonParseError::Kind;

// Every text here is one refusal class of RFC 8259 (json_parser.h); each must be refused with
// the kind, position and words given, and nothing about it may be accepted.
struct RefusalCase {
  const char* description;
  std::string text;
  ErrorKind kind;
  size_t line;
  size_t column;
  const char* message_part;
};

void PrintTo(const RefusalCase& c, std::ostream* out) { *out << c.description; }

class JsonParserRefusalTest : public testing::TestWithParam<RefusalCase> {};

TEST_P(JsonParserRefusalTest, RefusesNamingLineAndColumn) {
  const auto& c = GetParam();
  auto value = ParseJson(c.text);
  ASSERT_FALSE(value) << c.text;
  EXPECT_EQ(value.error().kind, c.kind) << value.error().message;
  EXPECT_EQ(value.error().line, c.line) << value.error().message;
  EXPECT_EQ(value.error().column, c.column) << value.error().message;
  const std::string prefix =
      "line " + std::to_string(c.line) + ", column " + std::to_string(c.column) + ": ";
  EXPECT_EQ(value.error().message.rfind(prefix, 0), 0U) << value.error().message;
  EXPECT_NE(value.error().message.find(c.message_part), std::string::npos) << value.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonParserRefusalTest,
    testing::Values(
        RefusalCase{"empty", "", ErrorKind::kSyntax, 1, 1, "no JSON value"},
        RefusalCase{"whitespace only", " \n\t", ErrorKind::kSyntax, 2, 2, "no JSON value"},
        RefusalCase{"bom", "\xef\xbb\xbf{}", ErrorKind::kSyntax, 1, 1, "byte order mark"},
        RefusalCase{"single quoted string", "{\"a\":'b'}", ErrorKind::kSyntax, 1, 6,
                    "single quote"},
        RefusalCase{"single quoted key", "{'a':1}", ErrorKind::kSyntax, 1, 2, "single quote"},
        RefusalCase{"unquoted key", "{a:1}", ErrorKind::kSyntax, 1, 2, "key must be a string"},
        RefusalCase{"trailing comma object", "{\"a\":1,}", ErrorKind::kSyntax, 1, 7,
                    "trailing comma before '}'"},
        RefusalCase{"trailing comma array", "[1,2,\n]", ErrorKind::kSyntax, 1, 5,
                    "trailing comma before ']'"},
        RefusalCase{"leading comma", "[,1]", ErrorKind::kSyntax, 1, 2, "expected a value"},
        RefusalCase{"double comma", "[1,,2]", ErrorKind::kSyntax, 1, 4, "expected a value"},
        RefusalCase{"missing comma", "[1 2]", ErrorKind::kSyntax, 1, 4, "expected ',' or ']'"},
        RefusalCase{"missing colon", "{\"a\" 1}", ErrorKind::kSyntax, 1, 6, "expected ':'"},
        RefusalCase{"line comment", "[1]// c", ErrorKind::kSyntax, 1, 4, "no comments"},
        RefusalCase{"block comment", "[/**/1]", ErrorKind::kSyntax, 1, 2, "no comments"},
        RefusalCase{"hash comment", "# c\n{}", ErrorKind::kSyntax, 1, 1, "expected a value"},
        RefusalCase{"nan", "[NaN]", ErrorKind::kSyntax, 1, 2, "NaN"},
        RefusalCase{"infinity", "[Infinity]", ErrorKind::kSyntax, 1, 2, "Infinity"},
        RefusalCase{"minus infinity", "[-Infinity]", ErrorKind::kSyntax, 1, 2, "Infinity"},
        RefusalCase{"leading zero", "[01]", ErrorKind::kSyntax, 1, 2, "leading zeros"},
        RefusalCase{"negative leading zero", "[-00]", ErrorKind::kSyntax, 1, 2, "leading zeros"},
        RefusalCase{"leading plus", "[+1]", ErrorKind::kSyntax, 1, 2, "'+'"},
        RefusalCase{"leading point", "[.5]", ErrorKind::kSyntax, 1, 2, "'.'"},
        RefusalCase{"trailing point", "[5.]", ErrorKind::kSyntax, 1, 4, "decimal point"},
        RefusalCase{"empty exponent", "[1e]", ErrorKind::kSyntax, 1, 4, "exponent"},
        RefusalCase{"signed empty exponent", "[1e+]", ErrorKind::kSyntax, 1, 5, "exponent"},
        RefusalCase{"lone minus", "[-]", ErrorKind::kSyntax, 1, 3, "expected a digit"},
        RefusalCase{"hex", "[0x1F]", ErrorKind::kSyntax, 1, 2, "hexadecimal"},
        RefusalCase{"True", "[True]", ErrorKind::kSyntax, 1, 2, "lower case"},
        RefusalCase{"nul", "[nul]", ErrorKind::kSyntax, 1, 2, "literals"},
        RefusalCase{"nullx", "[nullx]", ErrorKind::kSyntax, 1, 2, "literals"},
        RefusalCase{"undefined", "[undefined]", ErrorKind::kSyntax, 1, 2, "literals"},
        RefusalCase{"unclosed string", "[\"abc", ErrorKind::kSyntax, 1, 2, "not closed"},
        RefusalCase{"unclosed object", "{\"a\":1", ErrorKind::kSyntax, 1, 7, "end of the body"},
        RefusalCase{"unclosed array", "[1", ErrorKind::kSyntax, 1, 3, "end of the body"},
        RefusalCase{"extra close", "{}}", ErrorKind::kSyntax, 1, 3, "after the JSON value"},
        RefusalCase{"two values", "1 2", ErrorKind::kSyntax, 1, 3, "after the JSON value"},
        RefusalCase{"nul byte after", std::string("{}\0", 3), ErrorKind::kSyntax, 1, 3,
                    "byte 0x00"},
        RefusalCase{"vertical tab is no whitespace", "\v{}", ErrorKind::kSyntax, 1, 1, "byte 0x0b"},
        RefusalCase{"nbsp is no whitespace", "{}\xc2\xa0", ErrorKind::kSyntax, 1, 3, "byte 0xc2"},
        RefusalCase{"escape x", R"(["\x41"])", ErrorKind::kSyntax, 1, 3, "\\x is not a JSON"},
        RefusalCase{"escape quote", R"(["\'"])", ErrorKind::kSyntax, 1, 3, "not a JSON escape"},
        RefusalCase{"escape u short", R"(["\u12"])", ErrorKind::kSyntax, 1, 7, "four hex"},
        RefusalCase{"escape U", R"(["\U0041"])", ErrorKind::kSyntax, 1, 3, "not a JSON escape"},
        RefusalCase{"escape newline", "[\"\\\n\"]", ErrorKind::kSyntax, 1, 3, "a backslash before"},
        RefusalCase{"lone high surrogate", R"(["\ud83d"])", ErrorKind::kSyntax, 1, 3, "high half"},
        RefusalCase{"high then not low", R"(["\ud83d\u0041"])", ErrorKind::kSyntax, 1, 3,
                    "high half"},
        RefusalCase{"lone low surrogate", R"(["\ude00"])", ErrorKind::kSyntax, 1, 3, "low half"},
        RefusalCase{"raw tab in string", "[\"a\tb\"]", ErrorKind::kSyntax, 1, 4, "U+0009"},
        RefusalCase{"raw newline in string", "[\"a\nb\"]", ErrorKind::kSyntax, 1, 4, "U+000A"},
        RefusalCase{"raw nul in string", std::string("[\"\0\"]", 5), ErrorKind::kSyntax, 1, 3,
                    "U+0000"},
        RefusalCase{"continuation byte", "[\"\x80\"]", ErrorKind::kSyntax, 1, 3, "not UTF-8"},
        RefusalCase{"overlong two bytes", "[\"\xc1\xbf\"]", ErrorKind::kSyntax, 1, 3, "not UTF-8"},
        RefusalCase{"overlong three bytes", "[\"\xe0\x80\xaf\"]", ErrorKind::kSyntax, 1, 3,
                    "not UTF-8"},
        RefusalCase{"encoded surrogate", "[\"\xed\xb0\x80\"]", ErrorKind::kSyntax, 1, 3,
                    "not UTF-8"},
        RefusalCase{"beyond U+10FFFF", "[\"\xf4\x90\x80\x80\"]", ErrorKind::kSyntax, 1, 3,
                    "not UTF-8"},
        RefusalCase{"f5 lead", "[\"\xf5\x80\x80\x80\"]", ErrorKind::kSyntax, 1, 3, "not UTF-8"},
        RefusalCase{"truncated sequence", "[\"\xe2\x82\"]", ErrorKind::kSyntax, 1, 3, "not UTF-8"},
        RefusalCase{"sequence cut by the end", "[\"\xe2\x82", ErrorKind::kSyntax, 1, 3,
                    "not UTF-8"},
        RefusalCase{"bad utf-8 in a key", "{\"\xff\":1}", ErrorKind::kSyntax, 1, 3, "not UTF-8"},
        RefusalCase{"too deep", std::string(kMaxJsonDepth + 1, '['), ErrorKind::kTooDeep, 1,
                    kMaxJsonDepth + 1, "nest deeper"},
        RefusalCase{"duplicate", "{\"a\":1,\"b\":2,\n\"a\":3}", ErrorKind::kDuplicateKey, 2, 1,
                    "\"a\" is given twice"},
        RefusalCase{"duplicate after unescaping", R"({"name":1,"\u006eame":2})",
                    ErrorKind::kDuplicateKey, 1, 11, "\"name\" is given twice"},
        RefusalCase{"duplicate escaped slash", R"({"a/b":1,"a\/b":2})", ErrorKind::kDuplicateKey, 1,
                    10, "given twice"},
        RefusalCase{"duplicate empty key", R"({"":1,"":2})", ErrorKind::kDuplicateKey, 1, 7,
                    "given twice"},
        RefusalCase{"duplicate nested", R"([{"x":{"k":1,"k":2}}])", ErrorKind::kDuplicateKey, 1, 14,
                    "given twice"},
        // A duplicate never hides a syntax error: the syntax error is what is reported.
        RefusalCase{"duplicate then syntax", R"({"a":1,"a":2,})", ErrorKind::kSyntax, 1, 13,
                    "trailing comma"}),
    [](const testing::TestParamInfo<RefusalCase>& param_info) {
      std::string name;
      for (char c : std::string(param_info.param.description)) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

TEST(JsonParserTest, AcceptsTheWholeGrammar) {
  const char* texts[] = {
      "{}",
      "[]",
      "0",
      "-0",
      "1",
      "-1",
      "1.5",
      "-0.0e-0",
      "1E+2",
      "123456789012345678901234567890",
      "1e999",
      "true",
      "false",
      "null",
      R"("")",
      " \t\r\n{ \"a\" : [ 1 , 2 ] } \r\n",
      R"(["\"\\\/\b\f\n\r\t\u0000\u00e9\uFFFF\ud83d\ude00"])",
      "[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]",
      R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})",
      R"(["a","a"])",
      "[\"\x7f\"]",
  };
  for (const char* text : texts) {
    auto value = ParseJson(text);
    EXPECT_TRUE(value) << text << ": " << value.error().message;
  }
  EXPECT_TRUE(ParseJson(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')));
}

TEST(JsonParserTest, BuildsTheTree) {
  auto value =
      ParseJson(R"({"s":"a\u00e9\ud83d\ude00\n","n":-12.50e+3,"big":18446744073709551616,"b":true,)"
                R"("z":null,"l":[1,"x",[],{}],"o":{"k":false}})");
  ASSERT_TRUE(value) << value.error().message;
  ASSERT_EQ(value->kind, Kind::kObject);
  ASSERT_EQ(value->members.size(), 7U);
  EXPECT_EQ(value->members[0].key, "s");
  EXPECT_EQ(value->members[0].value.kind, Kind::kString);
  EXPECT_EQ(value->members[0].value.text, "a\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(value->members[1].value.kind, Kind::kNumber);
  EXPECT_EQ(value->members[1].value.text, "-12.50e+3");  // as written
  EXPECT_EQ(value->members[2].value.text, "18446744073709551616");
  EXPECT_EQ(value->members[3].value.kind, Kind::kBool);
  EXPECT_TRUE(value->members[3].value.boolean);
  EXPECT_EQ(value->members[4].value.kind, Kind::kNull);
  const JsonValue& list = value->members[5].value;
  ASSERT_EQ(list.kind, Kind::kArray);
  ASSERT_EQ(list.elements.size(), 4U);
  EXPECT_EQ(list.elements[1].text, "x");
  EXPECT_EQ(list.elements[2].kind, Kind::kArray);
  EXPECT_EQ(list.elements[3].kind, Kind::kObject);
  EXPECT_EQ(value->members[6].value.members.at(0).key, "k");
  EXPECT_FALSE(value->members[6].value.members.at(0).value.boolean);
}

TEST(JsonParserTest, KeysAreDecoded) {
  auto value = ParseJson(R"({"\u006eame":1,"a\"b":2})");
  ASSERT_TRUE(value);
  EXPECT_EQ(value->members[0].key, "name");
  EXPECT_EQ(value->members[1].key, "a\"b");
}

TEST(JsonParserTest, DuplicatePathNamesWhereTheKeyIs) {
  auto value = ParseJson(R"({"ips":[{"x":1},{"x":1,"name":2,"name":3}]})");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().kind, ErrorKind::kDuplicateKey);
  EXPECT_EQ(value.error().path, "ips[1].name");
  value = ParseJson(R"({"port_range":{"first":1,"first":2}})");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().path, "port_range.first");
}

TEST(JsonParserTest, ColumnsCountBytesAfterTheLastNewline) {
  auto value = ParseJson("{\n  \"caf\xc3\xa9\": x}");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().line, 2U);
  EXPECT_EQ(value.error().column, 12U);
  value = ParseJson("[1,\r\n2,\n\n  ]");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().line, 2U);  // the trailing comma
  EXPECT_EQ(value.error().column, 2U);
}

TEST(JsonParserTest, QuoteForMessageEscapesAndCuts) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c\n"), R"("a\"b\\c\u000a")");
  EXPECT_EQ(QuoteForMessage("\xff"), "\"\xef\xbf\xbd\"");
  const std::string quoted = QuoteForMessage(std::string(100, 'x'));
  EXPECT_EQ(quoted, "\"" + std::string(64, 'x') + "...\"");
  // Cut at a UTF-8 boundary: 63 ASCII bytes then a 2-byte character is kept whole.
  EXPECT_EQ(QuoteForMessage(std::string(63, 'x') + "\xc3\xa9" + "yz"),
            "\"" + std::string(63, 'x') + "\xc3\xa9...\"");
}

TEST(JsonParserTest, DescribesKinds) {
  EXPECT_STREQ(DescribeJsonKind(Kind::kNull), "null");
  EXPECT_STREQ(DescribeJsonKind(Kind::kArray), "a list");
  EXPECT_STREQ(DescribeJsonKind(Kind::kObject), "an object");
}

}  // namespace
}  // namespace dove::model
