// ParseRequest and ParseQuery (src/controller/http): every framing rule of RFC 9112 the server
// enforces, as a table of {bytes, expected status}, plus what a good request parses to.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controller/http/query_string.h"
#include "controller/http/request_parser.h"

namespace dove::controller::http {
namespace {

struct Refusal {
  std::string description;
  std::string bytes;
  int status;
};

std::vector<Refusal> Refusals() {
  const std::string get = "GET /v1/domains HTTP/1.1\r\nHost: x\r\n";
  const std::string post = "POST /v1/domains HTTP/1.1\r\nHost: x\r\n";
  return {
      // Content-Length
      {"Content-Length repeated with the same value",
       post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"Content-Length conflicting", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
       400},
      {"Content-Length as a list", post + "Content-Length: 2, 2\r\n\r\n{}", 400},
      {"Content-Length negative", post + "Content-Length: -1\r\n\r\n{}", 400},
      {"Content-Length with a sign", post + "Content-Length: +2\r\n\r\n{}", 400},
      {"Content-Length not numeric", post + "Content-Length: two\r\n\r\n{}", 400},
      {"Content-Length hex", post + "Content-Length: 0x2\r\n\r\n{}", 400},
      {"Content-Length empty", post + "Content-Length:\r\n\r\n{}", 400},
      {"Content-Length with a space inside", post + "Content-Length: 1 2\r\n\r\n{}", 400},
      {"Content-Length overflowing 64 bits",
       post + "Content-Length: 184467440737095516160\r\n\r\n{}", 400},
      {"Content-Length over the body limit", post + "Content-Length: 1048577\r\n\r\n", 413},
      // Transfer-Encoding
      {"Content-Length and Transfer-Encoding",
       post + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}", 400},
      {"Transfer-Encoding and Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"Transfer-Encoding chunked (refused unread)",
       post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 411},
      {"Transfer-Encoding with a bad chunk size (never read)",
       post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 411},
      {"Transfer-Encoding not ending in chunked", post + "Transfer-Encoding: gzip\r\n\r\n", 400},
      {"Transfer-Encoding chunked then gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n",
       400},
      {"Transfer-Encoding repeated",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"Transfer-Encoding in HTTP/1.0",
       "POST /v1/domains HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      // Line endings and folding
      {"bare LF after the request line", "GET /v1/domains HTTP/1.1\nHost: x\r\n\r\n", 400},
      {"bare LF after a header", "GET /v1/domains HTTP/1.1\r\nHost: x\n\r\n", 400},
      {"bare LF ending the head", get + "\n", 400},
      {"bare CR inside a header value", get + "X-A: a\rb\r\n\r\n", 400},
      {"bare CR inside the request line", "GET /v1\r/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"CR CR LF", get + "X-A: a\r\r\n\r\n", 400},
      {"obs-fold with a space", get + "X-A: a\r\n b\r\n\r\n", 400},
      {"obs-fold with a tab", get + "X-A: a\r\n\tb\r\n\r\n", 400},
      {"obs-fold of Content-Length", post + "Content-Length:\r\n 2\r\n\r\n{}", 400},
      // Request line
      {"two spaces after the method", "GET  /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a space in the target", "GET /v1/dom ains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a trailing space", "GET /v1/domains HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
      {"no version", "GET /v1/domains\r\nHost: x\r\n\r\n", 400},
      {"only a method", "GET\r\nHost: x\r\n\r\n", 400},
      {"junk", "\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\r\n\r\n", 400},
      {"a TLS hello, refused before any line end", "\x16\x03\x01\x02", 400},
      {"a method HTTP does not define", "BREW /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a lower-case method", "get /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"absolute-form target without an authority",
       "GET http:///v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a target of another scheme", "GET ftp://x/v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"authority-form target", "GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a quote in the target", "GET /v1/\"x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a control character in the target", "GET /v1/\x01x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a non-ASCII byte in the target", "GET /v1/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a fragment", "GET /v1/domains#x HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a bad escape in the path", "GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"a cut escape in the path", "GET /v1/%2 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"lower-case version", "GET /v1/domains http/1.1\r\nHost: x\r\n\r\n", 400},
      {"version with two digits", "GET /v1/domains HTTP/1.10\r\nHost: x\r\n\r\n", 400},
      {"HTTP/2.0", "GET /v1/domains HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"HTTP/0.9", "GET /v1/domains HTTP/0.9\r\nHost: x\r\n\r\n", 505},
      {"a target over the limit", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"a target over the limit, still arriving", "GET /" + std::string(9000, 'a'), 414},
      // Header fields
      {"whitespace before the colon", "GET /v1/domains HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"a header without a colon", get + "X-A\r\n\r\n", 400},
      {"an empty header name", get + ": x\r\n\r\n", 400},
      {"a header name with a slash", get + "X/A: x\r\n\r\n", 400},
      {"a NUL in a value", get + std::string("X-A: a\0b\r\n\r\n", 12), 400},
      {"DEL in a value", get + "X-A: a\x7f\r\n\r\n", 400},
      {"no Host in HTTP/1.1", "GET /v1/domains HTTP/1.1\r\n\r\n", 400},
      {"Host twice", get + "Host: y\r\n\r\n", 400},
      {"Host twice in HTTP/1.0", "GET / HTTP/1.0\r\nHost: x\r\nHost: x\r\n\r\n", 400},
      {"a head over the limit", get + "X-A: " + std::string(70000, 'a') + "\r\n\r\n", 431},
      {"a head over the limit, still arriving", get + "X-A: " + std::string(70000, 'a'), 431},
      {"too many headers",
       [&] {
         std::string many = get;
         for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
         return many + "\r\n";
       }(),
       431},
      {"more than the leading empty lines allowed", "\r\n\r\n\r\n\r\n\r\n" + get + "\r\n", 400},
  };
}

TEST(HttpRequestParserTest, RefusesBadFraming) {
  for (const Refusal& row : Refusals()) {
    SCOPED_TRACE(row.description);
    const ParseResult result = ParseRequest(row.bytes, ParseLimits{});
    ASSERT_EQ(result.status, ParseStatus::kError) << "consumed " << result.consumed;
    EXPECT_EQ(result.error_status, row.status) << result.error;
    EXPECT_FALSE(result.error.empty());
    // Every prefix is either still incomplete or refused the same way: never a request.
    for (size_t cut = 0; cut < row.bytes.size(); cut += 1 + row.bytes.size() / 50) {
      const ParseResult partial = ParseRequest(row.bytes.substr(0, cut), ParseLimits{});
      EXPECT_NE(partial.status, ParseStatus::kComplete) << "prefix of " << cut << " bytes";
    }
  }
}

TEST(HttpRequestParserTest, ParsesAGoodRequest) {
  const std::string bytes =
      "\r\nPOST /v1/domains/a%20b?name=x&force=true HTTP/1.1\r\nHost: ctl\r\n"
      "content-TYPE:  application/json \r\nX-Empty:\r\nContent-Length: 2\r\n\r\n{}";
  const ParseResult result = ParseRequest(bytes, ParseLimits{});
  ASSERT_EQ(result.status, ParseStatus::kComplete) << result.error;
  EXPECT_EQ(result.consumed, bytes.size());
  EXPECT_EQ(result.request.method, "POST");
  EXPECT_EQ(result.request.target, "/v1/domains/a%20b?name=x&force=true");
  EXPECT_EQ(result.request.path, "/v1/domains/a b");
  EXPECT_EQ(result.request.query, "name=x&force=true");
  EXPECT_EQ(result.request.Header("Content-Type"), "application/json");
  EXPECT_TRUE(result.request.HasHeader("x-empty"));
  EXPECT_EQ(result.request.Header("x-empty"), "");
  EXPECT_EQ(result.request.headers.front().first, "host");
  EXPECT_EQ(result.request.body, "{}");
  EXPECT_TRUE(result.request.keep_alive);
  EXPECT_EQ(result.request.version_minor, 1);
}

// RFC 9112 3.2.2: a server must accept absolute-form; it is served as its origin-form.
TEST(HttpRequestParserTest, AcceptsAbsoluteFormAsItsPath) {
  struct Case {
    std::string target, path, query;
  };
  for (const Case& c :
       {Case{"http://ctl:8740/v1/domains/a%20b?force=true", "/v1/domains/a b", "force=true"},
        Case{"HTTPS://ctl/healthz", "/healthz", ""}, Case{"http://[::1]:8740", "/", ""},
        Case{"http://ctl?x=1", "/", "x=1"}}) {
    const std::string bytes = "GET " + c.target + " HTTP/1.1\r\nHost: other\r\n\r\n";
    const ParseResult result = ParseRequest(bytes, ParseLimits{});
    ASSERT_EQ(result.status, ParseStatus::kComplete) << c.target << ": " << result.error;
    EXPECT_EQ(result.request.path, c.path) << c.target;
    EXPECT_EQ(result.request.query, c.query) << c.target;
    EXPECT_EQ(result.request.target.front(), '/') << c.target;
  }
}

TEST(HttpRequestParserTest, WaitsForMoreBytes) {
  const std::string bytes =
      "PUT /v1/domains/d1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  const size_t head = bytes.size() - 5;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SCOPED_TRACE(cut);
    const ParseResult partial = ParseRequest(bytes.substr(0, cut), ParseLimits{});
    ASSERT_EQ(partial.status, ParseStatus::kIncomplete) << partial.error;
    EXPECT_EQ(partial.head_complete, cut >= head);
    if (partial.head_complete) {
      EXPECT_EQ(partial.needed, bytes.size());
      EXPECT_EQ(partial.request.path, "/v1/domains/d1");
    }
  }
  EXPECT_EQ(ParseRequest(bytes, ParseLimits{}).status, ParseStatus::kComplete);
}

TEST(HttpRequestParserTest, TakesExactlyContentLengthBytes) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  const ParseResult one = ParseRequest(first + second, ParseLimits{});
  ASSERT_EQ(one.status, ParseStatus::kComplete);
  EXPECT_EQ(one.consumed, first.size());
  EXPECT_EQ(one.request.body, "hello");
  const ParseResult two = ParseRequest((first + second).substr(one.consumed), ParseLimits{});
  ASSERT_EQ(two.status, ParseStatus::kComplete);
  EXPECT_EQ(two.request.path, "/b");
  EXPECT_EQ(two.consumed, second.size());
}

TEST(HttpRequestParserTest, ConnectionPersistence) {
  struct Row {
    std::string head;
    bool keep_alive;
  };
  const std::vector<Row> rows = {
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.head);
    const ParseResult result = ParseRequest(row.head, ParseLimits{});
    ASSERT_EQ(result.status, ParseStatus::kComplete) << result.error;
    EXPECT_EQ(result.request.keep_alive, row.keep_alive);
  }
}

TEST(HttpRequestParserTest, ExpectContinue) {
  const ParseResult result = ParseRequest(
      "POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
      ParseLimits{});
  EXPECT_EQ(result.status, ParseStatus::kIncomplete);
  EXPECT_TRUE(result.head_complete);
  EXPECT_TRUE(result.expect_continue);
}

TEST(HttpRequestParserTest, LimitsAreTheCallers) {
  ParseLimits small;
  small.max_body = 4;
  EXPECT_EQ(
      ParseRequest("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", small).error_status,
      413);
  EXPECT_EQ(
      ParseRequest("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd", small).status,
      ParseStatus::kComplete);
}

TEST(QueryStringTest, Decodes) {
  auto params = ParseQuery("a=1&b=x%20y+z&c&&d=%3D&");
  ASSERT_TRUE(params) << params.error();
  const QueryParams expected = {{"a", "1"}, {"b", "x y z"}, {"c", ""}, {"d", "="}};
  EXPECT_EQ(*params, expected);
  auto repeated = ParseQuery("name=a&name=a");
  ASSERT_TRUE(repeated);
  EXPECT_EQ(repeated->size(), 2U);  // kept: the API refuses repeats, the parser reports them
  EXPECT_TRUE(ParseQuery("")->empty());
}

TEST(QueryStringTest, RefusesBadEscapes) {
  for (const char* query : {"a=%", "a=%2", "a=%zz", "%g0=1", "a=1&b=%2x"}) {
    SCOPED_TRACE(query);
    EXPECT_FALSE(ParseQuery(query));
  }
}

}  // namespace
}  // namespace dove::controller::http
