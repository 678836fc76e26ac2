#include "cli/exit_code.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"

namespace dove::cli {
namespace {

TEST(ExitCodeTest, FromStatus) {
  EXPECT_EQ(ExitCodeForStatus(200), ExitCode::kOk);
  EXPECT_EQ(ExitCodeForStatus(201), ExitCode::kOk);
  EXPECT_EQ(ExitCodeForStatus(400), ExitCode::kRefused);
  EXPECT_EQ(ExitCodeForStatus(409), ExitCode::kRefused);
  EXPECT_EQ(ExitCodeForStatus(413), ExitCode::kRefused);
  EXPECT_EQ(ExitCodeForStatus(404), ExitCode::kNotFound);
  EXPECT_EQ(ExitCodeForStatus(401), ExitCode::kAuth);
  EXPECT_EQ(ExitCodeForStatus(403), ExitCode::kAuth);
  EXPECT_EQ(ExitCodeForStatus(500), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForStatus(503), ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeForStatus(302), ExitCode::kUnavailable);
}

TEST(ExitCodeTest, TheNumbersAreTheContract) {
  EXPECT_EQ(static_cast<int>(ExitCode::kOk), 0);
  EXPECT_EQ(static_cast<int>(ExitCode::kRefused), 1);
  EXPECT_EQ(static_cast<int>(ExitCode::kUsage), 2);
  EXPECT_EQ(static_cast<int>(ExitCode::kNotFound), 3);
  EXPECT_EQ(static_cast<int>(ExitCode::kUnavailable), 4);
  EXPECT_EQ(static_cast<int>(ExitCode::kAuth), 5);
}

TEST(ExitCodeTest, FromApiErrors) {
  EXPECT_EQ(ExitCodeFor(ApiError{ApiError::Kind::kUnreachable, 0, "unreachable", ""}),
            ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeFor(ApiError{ApiError::Kind::kBadResponse, 200, "bad_response", ""}),
            ExitCode::kUnavailable);
  EXPECT_EQ(ExitCodeFor(ApiError{ApiError::Kind::kStatus, 409, "conflict", ""}),
            ExitCode::kRefused);
  EXPECT_EQ(ExitCodeFor(ApiError{ApiError::Kind::kStatus, 404, "not_found", ""}),
            ExitCode::kNotFound);
}

TEST(ErrorFromStatusTest, ReadsTheErrorBody) {
  const ApiError error =
      ErrorFromStatus(409, R"({"error":{"code":"conflict","message":"domain acme exists"}})");
  EXPECT_EQ(error.kind, ApiError::Kind::kStatus);
  EXPECT_EQ(error.status, 409);
  EXPECT_EQ(error.code, "conflict");
  EXPECT_EQ(error.message, "domain acme exists");
}

TEST(ErrorFromStatusTest, CopesWithoutOne) {
  for (const char* body : {"", "oops", "[]", R"({"error":"x"})", R"({"error":{"code":7}})"}) {
    const ApiError error = ErrorFromStatus(502, body);
    EXPECT_EQ(error.code, "http_502") << body;
    EXPECT_EQ(error.message, "the controller answered HTTP 502") << body;
  }
}

TEST(UrlPartsTest, PercentEncodingKeepsTheUrlShape) {
  EXPECT_EQ(PathSegment("acme"), "/acme");
  EXPECT_EQ(PathSegment("a/b c"), "/a%2Fb%20c");
  EXPECT_EQ(PercentEncode("x-y_z.~"), "x-y_z.~");
  EXPECT_EQ(Query({}), "");
  EXPECT_EQ(Query({{"domain", ""}}), "");
  EXPECT_EQ(Query({{"domain", "acme"}, {"name", ""}, {"switch", "s&1"}}),
            "?domain=acme&switch=s%261");
}

}  // namespace
}  // namespace dove::cli
