// The small pure pieces of the HTTP layer: the token check, route labels, Prometheus label
// escaping. (--listen parsing: tests/unit/net/listen_address_test.cc.)
#include <gtest/gtest.h>

#include "controller/bearer_token.h"
#include "controller/http_metrics.h"
#include "controller/rest_api.h"

namespace dove::controller {
namespace {

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

TEST(HttpMetricsTest, AddsItsFamiliesToThePage) {
  HttpMetrics metrics;
  metrics.Observe("/v1/domains", "POST", 201, 0.0001);
  metrics.Observe("/v1/domains", "POST", 201, 7.0);
  base::MetricsPage metrics_page;
  metrics.AddTo(metrics_page, ObjectCounts{.domains = 2}, 5,
                RegistryStats{.retries = 3, .undecodable = 1});
  EXPECT_TRUE(metrics_page.errors().empty()) << metrics_page.errors().front();
  const std::string page = metrics_page.Text();
  EXPECT_NE(page.find("dove_objects{kind=\"domain\"} 2\n"), std::string::npos);
  EXPECT_NE(page.find("# TYPE dove_registry_write_retries_total counter\n"
                      "dove_registry_write_retries_total 3\n"),
            std::string::npos);
  EXPECT_NE(page.find("dove_registry_undecodable_changes_total 1\n"), std::string::npos);
  EXPECT_NE(page.find("dove_registry_watch_errors_total 0\n"), std::string::npos);
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
