// The REST server's HTTP layer against a real dove-controller on raw sockets: every framing
// refusal (status, error shape, connection closed, nothing changed), repeated query
// parameters, 415, 413, 408 after the read time, the connection cap's 503 and its reserve for
// /healthz and /metrics, pipelining, and 100 slowloris connections that do not slow a normal
// client (latencies printed, never asserted).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/api_client.h"
#include "api/raw_connection.h"

namespace dove::api_test {
namespace {

using std::chrono::milliseconds;

struct FramingRow {
  std::string description;
  std::string bytes;
  int status;
  std::string code;
};

std::vector<FramingRow> FramingRows() {
  const std::string body = R"({"name":"smuggled"})";
  const std::string post =
      "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\n";
  const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return {
      {"Content-Length twice, same value", post + length + length + "\r\n" + body, 400,
       "malformed_request"},
      {"Content-Length conflicting", post + length + "Content-Length: 3\r\n\r\n" + body, 400,
       "malformed_request"},
      {"Content-Length as a list", post + "Content-Length: 19, 19\r\n\r\n" + body, 400,
       "malformed_request"},
      {"Content-Length with Transfer-Encoding",
       post + length + "Transfer-Encoding: chunked\r\n\r\n" + body, 400, "malformed_request"},
      {"Content-Length negative", post + "Content-Length: -19\r\n\r\n" + body, 400,
       "malformed_request"},
      {"Content-Length not numeric", post + "Content-Length: 1e1\r\n\r\n" + body, 400,
       "malformed_request"},
      {"Content-Length overflowing", post + "Content-Length: 99999999999999999999999\r\n\r\n", 400,
       "malformed_request"},
      {"Transfer-Encoding gzip", post + "Transfer-Encoding: gzip\r\n\r\n" + body, 400,
       "malformed_request"},
      {"chunked with a bad chunk size (refused before any chunk is read)",
       post + "Transfer-Encoding: chunked\r\n\r\nxyz\r\n" + body + "\r\n0\r\n\r\n", 411,
       "length_required"},
      {"obs-fold", post + "X-Note: a\r\n b\r\n" + length + "\r\n" + body, 400, "malformed_request"},
      {"bare LF line ends", "POST /v1/domains HTTP/1.1\nHost: x\nContent-Length: 19\n\n" + body,
       400, "malformed_request"},
      {"bare CR in a header", post + "X-Note: a\rb\r\n" + length + "\r\n" + body, 400,
       "malformed_request"},
      {"two spaces in the request line", "GET  /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400,
       "malformed_request"},
      {"junk request line", "hello there\r\n\r\n", 400, "malformed_request"},
      {"binary junk", "\x16\x03\x01\x02\x03", 400, "malformed_request"},
      {"absolute-form target without an authority",
       "GET http:///v1/domains HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request"},
      {"a space before a header's colon", "GET /v1/domains HTTP/1.1\r\nHost : x\r\n\r\n", 400,
       "malformed_request"},
      {"no Host", "GET /v1/domains HTTP/1.1\r\n\r\n", 400, "malformed_request"},
      {"HTTP/2.0", "GET /v1/domains HTTP/2.0\r\nHost: x\r\n\r\n", 505, "unsupported_version"},
      {"a head over 64 KiB",
       "GET /v1/domains HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n", 431,
       "too_large"},
  };
}

TEST(ApiHttpTest, BadFramingIs400AndClosesTheConnection) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const int64_t before = api.Revision();
  for (const FramingRow& row : FramingRows()) {
    SCOPED_TRACE(row.description);
    RawConnection connection(api.port());
    ASSERT_TRUE(connection.connected());
    connection.Send(row.bytes);
    const Reply reply = connection.ReadResponse();
    EXPECT_EQ(reply.status, row.status) << reply.body;
    EXPECT_TRUE(IsErrorShape(reply)) << reply.body;
    EXPECT_EQ(reply.Code(), row.code) << reply.body;
    EXPECT_EQ(reply.Header("Connection"), "close");
    EXPECT_TRUE(connection.ClosedByServer());
  }
  EXPECT_EQ(api.Revision(), before);  // nothing smuggled in was created
  EXPECT_EQ(api.Send("GET", "/v1/domains?name=smuggled").Json()["items"].size(), 0U);
  const std::string page = api.Send("GET", "/metrics").body;
  EXPECT_NE(page.find("dove_http_bad_framing_total " + std::to_string(FramingRows().size())),
            std::string::npos)
      << page;
}

TEST(ApiHttpTest, RepeatedQueryParametersAreRefused) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  api.Create("domains", {{"name", "acme"}});
  for (const std::string path :
       {"/v1/domains?name=acme&name=acme", "/v1/domains?name=acme&name=other",
        "/v1/domains?name=acme&name=", "/v1/domains/acme?force=true&force=true",
        "/v1/domains?name=%zz"}) {
    SCOPED_TRACE(path);
    const std::string method = path.find("force") != std::string::npos ? "DELETE" : "GET";
    const Reply reply = api.Send(method, path);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.Code(), "invalid_value") << reply.body;
  }
  EXPECT_EQ(api.Send("GET", "/v1/domains/acme").status, 200);  // the DELETE did not happen
  EXPECT_EQ(api.Send("GET", "/v1/domains?name=acme").status, 200);
}

TEST(ApiHttpTest, MediaTypeAndSize) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const int64_t before = api.Revision();
  const Reply text = Send(api.port(), "POST", "/v1/domains", R"({"name":"a"})", {}, "text/plain");
  EXPECT_EQ(text.status, 415) << text.body;
  EXPECT_EQ(text.Code(), "unsupported_media_type");
  const Reply form =
      Send(api.port(), "POST", "/v1/domains", "name=a", {}, "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415) << form.body;
  // Over 1 MiB, sent in full: 413 and closed (the rest is read and dropped, not reset).
  RawConnection big(api.port());
  const std::string body(size_t{1} << 21, ' ');
  big.Send(
      "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  const Reply too_large = big.ReadResponse();
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_EQ(too_large.Code(), "too_large");
  EXPECT_TRUE(IsErrorShape(too_large));
  big.Send(body);  // the server drops it; the connection then closes
  EXPECT_TRUE(big.ClosedByServer());
  EXPECT_EQ(api.Revision(), before);
}

TEST(ApiHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  RawConnection connection(api.port());
  const std::string body = R"({"name":"first"})";
  connection.Send("POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body +
                  "GET /v1/domains/first HTTP/1.1\r\nHost: x\r\n\r\n"
                  "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const Reply created = connection.ReadResponse();
  EXPECT_EQ(created.status, 201) << created.body;
  const Reply got = connection.ReadResponse();
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Json()["name"], "first");
  // HEAD: the length of the GET body, no body, and the close asked for.
  const Reply head = connection.ReadResponse(std::chrono::seconds(10), /*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_GT(std::stoul(head.Header("Content-Length")), 0U);
  EXPECT_EQ(head.Header("Connection"), "close");
  EXPECT_TRUE(connection.ClosedByServer());
}

TEST(ApiHttpTest, SlowRequestsGet408AfterTheReadTime) {
  ApiFixture api({"--http-read-timeout-ms", "300"});
  ASSERT_TRUE(api.running());
  const int64_t before = api.Revision();
  RawConnection head(api.port());
  head.Send("GET /v1/domains HTTP/1.1\r\nHo");
  RawConnection body(api.port());
  body.Send("POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{\"na");
  for (RawConnection* connection : {&head, &body}) {
    const auto start = std::chrono::steady_clock::now();
    const Reply reply = connection->ReadResponse();
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(reply.status, 408) << reply.body;
    EXPECT_EQ(reply.Code(), "request_timeout");
    EXPECT_TRUE(IsErrorShape(reply));
    EXPECT_TRUE(connection->ClosedByServer());
    EXPECT_LT(waited, std::chrono::seconds(5));  // bounded, not the 10 s default
  }
  const std::string page = api.Send("GET", "/metrics").body;
  EXPECT_NE(page.find("dove_http_read_timeouts_total 2"), std::string::npos) << page;
  EXPECT_EQ(api.Revision(), before);
}

TEST(ApiHttpTest, ConnectionCapRefusesWith503AndKeepsHealthAndMetrics) {
  ApiFixture api({"--http-max-connections", "4"});
  ASSERT_TRUE(api.running());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawConnection>(api.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  // Let the server accept them all before the next one comes.
  std::this_thread::sleep_for(milliseconds(200));
  RawConnection over(api.port());
  over.Send("GET /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n");
  const Reply refused = over.ReadResponse();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Code(), "overloaded");
  EXPECT_TRUE(IsErrorShape(refused));
  EXPECT_EQ(refused.Header("Connection"), "close");
  EXPECT_TRUE(over.ClosedByServer());
  // The reserve answers /healthz and /metrics over the cap.
  const Reply health = Send(api.port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  const Reply metrics = Send(api.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("dove_http_connections_refused_total 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                "dove_http_requests_total{route=\"/v1/domains\",method=\"GET\",status=\"503\"} 1"),
            std::string::npos)
      << metrics.body;
  // Beyond the reserve (16): 503 at once, without reading the request.
  for (int i = 0; i < 16; ++i) idle.push_back(std::make_unique<RawConnection>(api.port()));
  std::this_thread::sleep_for(milliseconds(200));
  RawConnection beyond(api.port());
  const Reply at_once = beyond.ReadResponse(std::chrono::seconds(1));
  EXPECT_EQ(at_once.status, 503) << at_once.body;
  EXPECT_EQ(at_once.Code(), "overloaded");
  // Once the idle connections go, the API serves again.
  idle.clear();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(api.Send("GET", "/v1/domains").status, 200);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(p * static_cast<double>(values.size())))];
}

// A normal keep-alive client: `count` requests (creates and reads); latencies in ms.
std::vector<double> NormalClient(int port, int count, const std::string& prefix) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(20);
  std::vector<double> latencies;
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    httplib::Result result =
        i % 4 == 0
            ? client.Post("/v1/domains", R"({"name":")" + prefix + std::to_string(i) + R"("})",
                          "application/json")
            : client.Get("/v1/domains?name=" + prefix + "0");
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(result) << "request " << i << " got no answer";
    if (!result) break;
    EXPECT_GE(result->status, 200) << result->body;
    EXPECT_LT(result->status, 300) << result->body;
    latencies.push_back(elapsed.count());
  }
  return latencies;
}

TEST(ApiHttpTest, SlowlorisConnectionsDoNotStallANormalClient) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const int requests = 400;
  const std::vector<double> alone = NormalClient(api.port(), requests, "alone");
  // 100 connections that send part of a request and then nothing: half stop in the head,
  // half in the body. More than the old server's 8 workers ten times over.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawConnection>(api.port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send(i % 2 == 0 ? "POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Le"
                                 : "POST /v1/domains HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Length: 100\r\n\r\n{\"name\":");
  }
  const std::vector<double> loaded = NormalClient(api.port(), requests, "loaded");
  ASSERT_EQ(loaded.size(), static_cast<size_t>(requests));
  int still_open = 0;
  for (const auto& connection : slow) still_open += connection->OpenAndSilent() ? 1 : 0;
  EXPECT_EQ(still_open, 100);  // within the 10 s read time nobody was cut off or answered
  std::printf(
      "normal client, %d requests: alone p50 %.3f ms p99 %.3f ms; with 100 slowloris "
      "connections p50 %.3f ms p99 %.3f ms\n",
      requests, Percentile(alone, 0.5), Percentile(alone, 0.99), Percentile(loaded, 0.5),
      Percentile(loaded, 0.99));
  const std::string page = api.Send("GET", "/metrics").body;
  EXPECT_NE(page.find("dove_http_connections_open 10"), std::string::npos) << page;
}

}  // namespace
}  // namespace dove::api_test
