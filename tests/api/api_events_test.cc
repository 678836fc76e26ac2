// GET /v1/events (server-sent events), GET /v1/switch-stats and the topology page's files on a
// real dove-controller: the token guards the data but not the page, a change reaches an open
// stream within a second, a client that stops reading is dropped without holding up writes or
// the other clients, and streams end when the controller stops.
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "api/api_client.h"
#include "api/test_switch.h"

namespace dove::api_test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kToken = "events-test-token";

std::string TokenFile(const TempDir& dir) {
  const std::string path = (dir.path() / "token").string();
  std::ofstream(path) << kToken << "\n";
  return path;
}

httplib::Headers Auth() { return {{"Authorization", std::string("Bearer ") + kToken}}; }

// One GET /v1/events on a raw socket, read as it comes: the head, then the chunked body cut
// into server-sent events. `receive_buffer` > 0 shrinks the socket's receive buffer (a client
// that reads nothing then holds little in its kernel).
class EventReader {
 public:
  struct Event {
    std::string name;
    json data;
  };

  EventReader(int port, const std::string& token, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    std::string request = "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    request += "\r\n";
    ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
  }
  ~EventReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Reads until the head is in; the status (0: none within `timeout`).
  int Status(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (head_.empty() && Fill(deadline)) {
    }
    return head_.size() > 12 ? std::stoi(head_.substr(9, 3)) : 0;
  }
  const std::string& head() const { return head_; }

  // The next event (comments skipped); nullopt when none came within `timeout` or the stream
  // ended (ended() says which).
  std::optional<Event> Next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      if (auto event = Cut()) return event;
      if (!Fill(deadline)) return std::nullopt;
    }
  }
  bool ended() const { return ended_; }
  // Whether the body ended with the last (empty) chunk.
  bool last_chunk() const { return last_chunk_; }

 private:
  // One read into the buffers; false on timeout or end.
  bool Fill(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (ended_) return false;
    pollfd poll_fd{fd_, POLLIN, 0};  // polled once even when the time is up (Next(0ms))
    if (::poll(&poll_fd, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) {
      return false;
    }
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      ended_ = true;
      return false;
    }
    raw_.append(buffer, static_cast<size_t>(n));
    if (head_.empty()) {
      const size_t end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      head_ = raw_.substr(0, end + 4);
      raw_.erase(0, end + 4);
    }
    // Chunks: "<hex>\r\n<data>\r\n"; the last is "0\r\n\r\n".
    while (true) {
      const size_t line = raw_.find("\r\n");
      if (line == std::string::npos) break;
      const size_t size = std::stoul(raw_.substr(0, line), nullptr, 16);
      if (size == 0) {
        last_chunk_ = true;
        break;
      }
      if (raw_.size() < line + 2 + size + 2) break;
      body_ += raw_.substr(line + 2, size);
      raw_.erase(0, line + 2 + size + 2);
    }
    return true;
  }

  std::optional<Event> Cut() {
    while (true) {
      const size_t end = body_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      const std::string block = body_.substr(0, end);
      body_.erase(0, end + 2);
      Event event;
      std::string data;
      size_t at = 0;
      while (at < block.size()) {
        size_t stop = block.find('\n', at);
        if (stop == std::string::npos) stop = block.size();
        const std::string line = block.substr(at, stop - at);
        if (line.rfind("event: ", 0) == 0) event.name = line.substr(7);
        if (line.rfind("data: ", 0) == 0) data += line.substr(6);
        at = stop + 1;
      }
      if (data.empty()) continue;  // a comment: the keepalive
      event.data = json::parse(data, nullptr, /*allow_exceptions=*/false);
      return event;
    }
  }

  int fd_ = -1;
  std::string raw_;
  std::string head_;
  std::string body_;
  bool ended_ = false;
  bool last_chunk_ = false;
};

// The next "change" event, skipping others; nullopt when none within `timeout`.
std::optional<EventReader::Event> NextChange(EventReader& reader,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto event =
        reader.Next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!event) return std::nullopt;
    if (event->name == "change") return event;
  }
  return std::nullopt;
}

uint64_t Metric(const ApiFixture& api, const std::string& name) {
  const Reply reply = api.Send("GET", "/metrics", "", Auth());
  const size_t at = reply.body.find("\n" + name + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(reply.body.substr(at + name.size() + 2));
}

TEST(ApiEventsTest, DataNeedsTheTokenThePageDoesNot) {
  TempDir secrets("dove-token");
  ApiFixture api({"--token-file", TokenFile(secrets)});
  ASSERT_TRUE(api.running());
  for (const std::string& token : {std::string(), std::string("wrong")}) {
    EventReader refused(api.port(), token);
    EXPECT_EQ(refused.Status(), 401) << "token '" << token << "'";
    EXPECT_NE(refused.head().find("WWW-Authenticate: Bearer"), std::string::npos);
    EXPECT_EQ(refused.head().find("text/event-stream"), std::string::npos);
  }
  EXPECT_EQ(api.Send("GET", "/v1/switch-stats").status, 401);
  const Reply stats = api.Send("GET", "/v1/switch-stats", "", Auth());
  EXPECT_EQ(stats.status, 200);
  EXPECT_EQ(stats.Json(), (json{{"items", json::array()}}));

  EventReader allowed(api.port(), kToken);
  ASSERT_EQ(allowed.Status(), 200) << allowed.head();
  EXPECT_NE(allowed.head().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(allowed.head().find("Transfer-Encoding: chunked"), std::string::npos);
  auto hello = allowed.Next();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->name, "hello");
  EXPECT_EQ(hello->data, (json{{"revision", 0}}));

  // The page's files: no token needed, no data in them, kept to themselves.
  const Reply page = api.Send("GET", "/ui/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<script src=\"app.js\""), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  const Reply script = api.Send("GET", "/ui/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(script.body.find("/v1/events"), std::string::npos);
  EXPECT_EQ(api.Send("GET", "/ui/style.css").status, 200);
  const Reply missing = api.Send("GET", "/ui/nope.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(IsErrorShape(missing)) << missing.body;
  EXPECT_EQ(api.Send("GET", "/ui/a/b").status, 401);  // no such route: the token rule applies
  EXPECT_EQ(api.Send("POST", "/ui/", "{}").status, 401);
  EXPECT_EQ(api.Send("POST", "/ui/", "{}", Auth()).status, 405);
}

TEST(ApiEventsTest, AChangeArrivesWithinASecond) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  EventReader reader(api.port(), "");
  ASSERT_EQ(reader.Status(), 200);
  auto hello = reader.Next();
  ASSERT_TRUE(hello);
  ASSERT_EQ(hello->name, "hello");
  EXPECT_EQ(hello->data["revision"], api.Revision());

  auto started = Clock::now();
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  auto change = NextChange(reader, 1s);
  ASSERT_TRUE(change) << "no change event within 1 s of the write";
  const auto latency = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  std::printf("event latency (write answered + event read): %.1f ms\n", latency);
  EXPECT_EQ(change->data["kind"], "networks");
  EXPECT_EQ(change->data["op"], "put");
  EXPECT_EQ(change->data["id"], "n1");
  EXPECT_EQ(change->data["object"]["name"], "web");
  EXPECT_GT(change->data["object"]["vni"].get<int>(), 0);  // what the controller allocated
  EXPECT_EQ(change->data["revision"], api.Revision());

  // A delete with force: the network and its subnet, each an event, in revision order.
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}});
  ASSERT_TRUE(NextChange(reader, 1s));
  ASSERT_EQ(api.Send("DELETE", "/v1/networks/n1?force=true").status, 200);
  std::set<std::string> deleted;
  for (int i = 0; i < 2; ++i) {
    auto gone = NextChange(reader, 1s);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->data["op"], "delete");
    EXPECT_FALSE(gone->data.contains("object"));
    deleted.insert(gone->data["kind"].get<std::string>() + "/" +
                   gone->data["id"].get<std::string>());
  }
  EXPECT_EQ(deleted, (std::set<std::string>{"networks/n1", "subnets/s1"}));
}

TEST(ApiEventsTest, SwitchCountersAndStateArrive) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  EventReader reader(api.port(), "");
  ASSERT_EQ(reader.Status(), 200);
  ASSERT_TRUE(reader.Next());  // hello
  {
    TestSwitch sw(api.controller().southbound_port());
    ASSERT_TRUE(sw.Hello("h1", "192.0.2.1"));
    auto registered = NextChange(reader, 2s);
    ASSERT_TRUE(registered);
    EXPECT_EQ(registered->data["kind"], "switches");
    EXPECT_EQ(registered->data["object"]["state"], "STATE_UP");
    v1::SwitchMessage stats;
    (*stats.mutable_stats()->mutable_counters())["drop_port_security"] = 7;
    (*stats.mutable_stats()->mutable_counters())["port_frames_received"] = 42;
    ASSERT_TRUE(sw.Write(stats));
    std::optional<EventReader::Event> event;
    do {
      event = reader.Next(2s);
    } while (event && event->name != "stats");
    ASSERT_TRUE(event) << "no stats event";
    EXPECT_EQ(
        event->data["items"],
        (json::array({{{"switch_name", "h1"},
                       {"counters", {{"drop_port_security", 7}, {"port_frames_received", 42}}}}})));
    const Reply listed = api.Send("GET", "/v1/switch-stats");
    EXPECT_EQ(listed.Json()["items"], event->data["items"]);
  }
  // The stream ended: the switch is DOWN, and its counters go.
  bool down = false;
  bool removed = false;
  const auto deadline = Clock::now() + 5s;
  while (!(down && removed) && Clock::now() < deadline) {
    auto event = reader.Next(1s);
    if (!event) continue;
    if (event->name == "change" && event->data["kind"] == "switches") {
      down = event->data["object"]["state"] == "STATE_DOWN";
    }
    if (event->name == "stats") removed = event->data["removed"] == json::array({"h1"});
  }
  EXPECT_TRUE(down);
  EXPECT_TRUE(removed);
}

// A client that stops reading is dropped once it is --event-buffer-bytes behind; meanwhile every
// write is answered as fast as without it and the other client hears every change in time.
TEST(ApiEventsTest, ASlowClientIsDroppedAndStallsNothing) {
  ApiFixture api({"--event-buffer-bytes", "16384"});
  ASSERT_TRUE(api.running());
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/16"}});
  EventReader slow(api.port(), "", /*receive_buffer=*/4096);
  ASSERT_EQ(slow.Status(), 200);  // then it reads nothing more
  EventReader reader(api.port(), "");
  ASSERT_EQ(reader.Status(), 200);
  ASSERT_TRUE(reader.Next());  // hello
  EXPECT_EQ(Metric(api, "dove_http_streams_open"), 2U);

  // Each endpoint event is ~330 bytes: 1500 of them are ~500 KB, well past what the slow
  // client's kernel buffers (a 64 KiB send buffer, a 4 KiB receive buffer) and its channel hold.
  constexpr int kWrites = 1500;
  double slowest_ms = 0;
  int heard = 0;
  const auto started = Clock::now();
  for (int i = 0; i < kWrites; ++i) {
    const auto before = Clock::now();
    const Reply reply = api.Send("POST", "/v1/endpoints", json{{"network_id", "n1"}}.dump());
    ASSERT_EQ(reply.status, 201) << reply.body;
    slowest_ms = std::max(slowest_ms,
                          std::chrono::duration<double, std::milli>(Clock::now() - before).count());
    while (auto event = reader.Next(0ms)) heard += event->name == "change" ? 1 : 0;
  }
  while (heard < kWrites) {
    auto event = NextChange(reader, 2s);
    ASSERT_TRUE(event) << "the reading client heard only " << heard << " of " << kWrites;
    ++heard;
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("%d writes in %.2f s, slowest %.1f ms; the reading client heard all of them\n",
              kWrites, total_s, slowest_ms);
  EXPECT_LT(slowest_ms, 1000.0);
  EXPECT_EQ(Metric(api, "dove_http_streams_dropped_total"), 1U);
  EXPECT_EQ(Metric(api, "dove_http_streams_open"), 1U);
  EXPECT_EQ(Metric(api, "dove_events_subscribers"), 1U);
}

TEST(ApiEventsTest, StreamsEndWhenTheControllerStops) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  EventReader reader(api.port(), "");
  ASSERT_EQ(reader.Status(), 200);
  ASSERT_TRUE(reader.Next());
  const auto started = Clock::now();
  api.controller().Signal(SIGTERM);
  EXPECT_FALSE(reader.Next(5s));
  EXPECT_TRUE(reader.ended()) << "the stream is still open 5 s after SIGTERM";
  EXPECT_TRUE(reader.last_chunk());
  EXPECT_EQ(api.Stop(), 0);
  EXPECT_LT(Clock::now() - started, 3s);
}

TEST(ApiEventsTest, HeadAndQueryParameters) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const Reply head = api.Send("HEAD", "/v1/events");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Type"), "text/event-stream; charset=utf-8");
  const Reply query = api.Send("GET", "/v1/events?since=3");
  EXPECT_EQ(query.status, 400);
  EXPECT_EQ(query.Code(), "invalid_value");
  EXPECT_EQ(Metric(api, "dove_http_streams_open"), 0U);
}

}  // namespace
}  // namespace dove::api_test
