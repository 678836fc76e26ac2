#include "cli/controller_url.h"

#include <gtest/gtest.h>

namespace dove::cli {
namespace {

struct UrlCase {
  const char* text;
  const char* host;
  int port;
  const char* normalised;
};

TEST(ControllerUrlTest, AcceptsTheDocumentedForms) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:8740", "127.0.0.1", 8740, "http://127.0.0.1:8740"},
      {"http://ctl.example:9000/", "ctl.example", 9000, "http://ctl.example:9000"},
      {"10.0.0.5:9000", "10.0.0.5", 9000, "http://10.0.0.5:9000"},
      {"ctl1", "ctl1", 8740, "http://ctl1:8740"},
      {"http://ctl1", "ctl1", 8740, "http://ctl1:8740"},
      {"[::1]:8741", "::1", 8741, "http://[::1]:8741"},
      {"http://[2001:db8::1]", "2001:db8::1", 8740, "http://[2001:db8::1]:8740"},
      {"localhost:1", "localhost", 1, "http://localhost:1"},
      {"localhost:65535", "localhost", 65535, "http://localhost:65535"},
      {"https://ctl:8743", "ctl", 8743, "https://ctl:8743"},
      {"https://[::1]/", "::1", 8740, "https://[::1]:8740"},
  };
  for (const auto& c : cases) {
    auto url = ParseControllerUrl(c.text);
    ASSERT_TRUE(url) << c.text << ": " << url.error();
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->ToString(), c.normalised) << c.text;
    EXPECT_EQ(url->tls, std::string_view(c.normalised).starts_with("https://")) << c.text;
  }
}

TEST(ControllerUrlTest, RefusesWhatItCannotUse) {
  for (const char* text : {"", "ftp://ctl", "HTTPS://ctl", "https//ctl", "ctl:", "ctl:0",
                           "ctl:65536", "ctl:80x", "ctl:-1", "http://ctl:8740/v1", "user@ctl:8740",
                           "::1", "[::1", "[::1]x", "http://", ":8740", "ctl:8740?x=1"}) {
    EXPECT_FALSE(ParseControllerUrl(text)) << text;
  }
}

}  // namespace
}  // namespace dove::cli
