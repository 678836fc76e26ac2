// ApiClient and Resolver against an in-process httplib::Server playing the controller: what
// goes on the wire (paths, query encoding, the bearer token) and how answers are decoded.
#include "cli/api_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "cli/resolver.h"

namespace dove::cli {
namespace {

class ApiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/v1/domains/acme",
                [this](const httplib::Request& request, httplib::Response& response) {
                  last_authorization_ = request.get_header_value("Authorization");
                  response.set_content(R"({"id":"d1","name":"acme"})", "application/json");
                });
    server_.Get("/v1/domains/nosuch", [](const httplib::Request&, httplib::Response& response) {
      response.status = 404;
      response.set_content(R"({"error":{"code":"not_found","message":"domain nosuch not found"}})",
                           "application/json");
    });
    server_.Get("/v1/domains", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(R"({"items":[{"id":"d1","name":"acme"}],"revision":3})",
                           "application/json");
    });
    server_.Get(
        "/v1/networks", [this](const httplib::Request& request, httplib::Response& response) {
          last_target_ = request.target;
          if (request.get_param_value("name") == "web" || !request.has_param("name")) {
            response.set_content(R"({"items":[{"id":"n1","domain_id":"d1","name":"web","vni":7}]})",
                                 "application/json");
          } else {
            response.set_content(R"({"items":[],"revision":3})", "application/json");
          }
        });
    server_.Get("/v1/broken", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("not json", "text/plain");
    });
    server_.Post("/v1/domains", [](const httplib::Request& request, httplib::Response& response) {
      response.status = 201;
      response.set_content(request.body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }

  ApiClient::Options Options(std::string token = "") {
    return {ControllerUrl{"127.0.0.1", port_}, std::move(token), std::chrono::seconds(5)};
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string last_authorization_;
  std::string last_target_;
};

TEST_F(ApiClientTest, SendsTheBearerTokenOnlyWhenSet) {
  ApiClient with_token(Options("s3cret"));
  ASSERT_TRUE(with_token.Get("/v1/domains/acme"));
  EXPECT_EQ(last_authorization_, "Bearer s3cret");
  ApiClient without(Options());
  ASSERT_TRUE(without.Get("/v1/domains/acme"));
  EXPECT_EQ(last_authorization_, "");
}

TEST_F(ApiClientTest, DecodesObjectsAndErrors) {
  ApiClient client(Options());
  auto domain = client.Get("/v1/domains/acme");
  ASSERT_TRUE(domain);
  EXPECT_EQ(domain->status, 200);
  EXPECT_EQ(domain->body["name"], "acme");

  auto missing = client.Get("/v1/domains/nosuch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ApiError::Kind::kStatus);
  EXPECT_EQ(missing.error().code, "not_found");
  EXPECT_EQ(ExitCodeFor(missing.error()), ExitCode::kNotFound);

  auto broken = client.Get("/v1/broken");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind, ApiError::Kind::kBadResponse);
  EXPECT_EQ(ExitCodeFor(broken.error()), ExitCode::kUnavailable);

  auto created = client.Post("/v1/domains", {{"name", "globex"}});
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(created->body["name"], "globex");
}

TEST_F(ApiClientTest, ResolverFindsNetworksByDomainSlashName) {
  ApiClient client(Options());
  Resolver resolver(&client);
  auto web = resolver.Network("acme/web");
  ASSERT_TRUE(web);
  EXPECT_EQ((*web)["id"], "n1");
  EXPECT_EQ(last_target_, "/v1/networks?domain=acme&name=web");

  auto missing = resolver.Network("acme/nosuch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "not_found");
  EXPECT_EQ(ExitCodeFor(missing.error()), ExitCode::kNotFound);

  EXPECT_FALSE(resolver.Network("acme/"));
  EXPECT_FALSE(resolver.Network("/web"));
}

TEST_F(ApiClientTest, ResolverNamesIdsForTables) {
  ApiClient client(Options());
  Resolver resolver(&client);
  EXPECT_EQ(resolver.DomainName("d1"), "acme");
  EXPECT_EQ(resolver.NetworkName("n1"), "acme/web");
  EXPECT_EQ(resolver.NetworkName("unknown-id"), "unknown-id");
}

}  // namespace
}  // namespace dove::cli
