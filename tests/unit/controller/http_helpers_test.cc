// The small pure pieces of the HTTP layer: --listen parsing, the token check, route labels,
// Prometheus label escaping.
#include <gtest/gtest.h>

#include "controller/bearer_token.h"
#include "controller/http_metrics.h"
#include "controller/listen_address.h"
#include "controller/rest_api.h"

namespace dove::controller {
namespace {

TEST(ListenAddressTest, ParsesIpv4Ipv6AndLocalhost) {
  auto v4 = ParseListenAddress("127.0.0.1:8740");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8740);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(ParseListenAddress("localhost:1"));
  EXPECT_TRUE(ParseListenAddress(kDefaultListen));
}

TEST(ListenAddressTest, RefusesMalformed) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":8740", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
        "::1:8740", "[::1:8740", "[1.2.3.4]:1", "example.com:80", "300.0.0.1:80"}) {
    auto parsed = ParseListenAddress(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().find("invalid listen address"), std::string::npos);
    }
  }
}

TEST(ListenAddressTest, LoopbackAndFormat) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.9.9.9"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("localhost"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("::"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_EQ(FormatHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(FormatHostPort("10.0.0.1", 80), "10.0.0.1:80");
}

TEST(BearerTokenTest, Compare) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(BearerMatches("Bearer secret", "secret"));
  EXPECT_TRUE(BearerMatches("bearer secret", "secret"));
  EXPECT_FALSE(BearerMatches("Basic secret", "secret"));
  EXPECT_FALSE(BearerMatches("Bearer wrong", "secret"));
  EXPECT_FALSE(BearerMatches("", "secret"));
  EXPECT_FALSE(BearerMatches("Bearer", "secret"));
}

TEST(RouteTest, RouteOfNamesPatterns) {
  EXPECT_EQ(RouteOf("/v1/domains"), "/v1/domains");
  EXPECT_EQ(RouteOf("/v1/domains/acme"), "/v1/domains/{ref}");
  EXPECT_EQ(RouteOf("/v1/endpoints/e1"), "/v1/endpoints/{ref}");
  EXPECT_EQ(RouteOf("/healthz"), "/healthz");
  EXPECT_EQ(RouteOf("/metrics"), "/metrics");
  EXPECT_EQ(RouteOf("/v1/domains/"), "unmatched");
  EXPECT_EQ(RouteOf("/v1/domains/a/b"), "unmatched");
  EXPECT_EQ(RouteOf("/v1/widgets"), "unmatched");
  EXPECT_EQ(RouteOf("/"), "unmatched");
  for (const ApiRoute& route : ApiRoutes()) {
    EXPECT_EQ(RouteOf(route.pattern == "/healthz" || route.pattern == "/metrics"
                          ? route.pattern
                          : route.pattern.substr(0, route.pattern.find("{ref}")) +
                                (route.pattern.find("{ref}") != std::string::npos ? "x" : "")),
              route.pattern);
  }
}

TEST(HttpMetricsTest, EscapesAndRenders) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  HttpMetrics metrics;
  metrics.Observe("/v1/domains", "POST", 201, 0.0001);
  metrics.Observe("/v1/domains", "POST", 201, 7.0);
  const std::string page = metrics.Render(ObjectCounts{.domains = 2}, 5);
  EXPECT_NE(page.find("dove_objects{kind=\"domain\"} 2\n"), std::string::npos);
  EXPECT_NE(page.find("dove_store_revision 5\n"), std::string::npos);
  EXPECT_NE(
      page.find("dove_http_requests_total{route=\"/v1/domains\",method=\"POST\",status=\"201\"} 2"),
      std::string::npos);
  EXPECT_NE(page.find("le=\"0.0005\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("le=\"5\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("le=\"+Inf\"} 2\n"), std::string::npos);
}

}  // namespace
}  // namespace dove::controller
