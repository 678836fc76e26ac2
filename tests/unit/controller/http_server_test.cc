// HttpServer (src/controller/http/http_server.h) in process, with handlers of the test's own:
// idle connections never hold a worker, Stop lets a request already with a worker finish and
// be answered, a throwing handler becomes the error handler's 500, the read time gives 408.
#include "controller/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace dove::controller::http {
namespace {

using std::chrono::milliseconds;

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sends until it closes or `wait` passes.
std::string ReadAll(int fd, milliseconds wait) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  return text;
}

std::string Exchange(int port, const std::string& request, milliseconds wait) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string text = ReadAll(fd, wait);
  ::close(fd);
  return text;
}

class ServerFixture {
 public:
  ServerFixture(HttpServerOptions options, HttpServer::Handler handler) {
    auto bound =
        HttpServer::Bind("127.0.0.1", 0, std::move(options), std::move(handler),
                         [](const HttpRequest&, std::string_view message, HttpResponse& response) {
                           response.SetContent(std::string(message), "text/plain");
                         });
    EXPECT_TRUE(bound) << (bound ? "" : bound.error());
    if (!bound) return;
    server_ = std::move(*bound);
    loop_ = std::thread([this] { server_->Run(); });
  }
  ~ServerFixture() { StopAndJoin(); }
  ServerFixture(const ServerFixture&) = delete;
  ServerFixture& operator=(const ServerFixture&) = delete;

  void StopAndJoin() {
    if (server_) server_->Stop();
    if (loop_.joinable()) loop_.join();
  }
  HttpServer& server() { return *server_; }
  int port() const { return server_->port(); }

 private:
  std::unique_ptr<HttpServer> server_;
  std::thread loop_;
};

TEST(HttpServerTest, IdleConnectionsHoldNoWorker) {
  HttpServerOptions options;
  options.workers = 2;
  ServerFixture fixture(options, [](const HttpRequest& request, HttpResponse& response) {
    response.SetContent("hello " + request.path, "text/plain");
  });
  std::vector<int> idle;
  idle.reserve(20);
  for (int i = 0; i < 20; ++i) idle.push_back(Connect(fixture.port()));  // 10x the workers
  for (int i = 0; i < 10; ++i) {
    const int fd = idle[static_cast<size_t>(i)];
    ::send(fd, "GET /a HTTP/1.1\r\nHo", 19, MSG_NOSIGNAL);  // and a partial request on half
  }
  const std::string text =
      Exchange(fixture.port(), "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
               milliseconds(3000));
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << text;
  EXPECT_NE(text.find("hello /b"), std::string::npos) << text;
  EXPECT_GE(fixture.server().stats().open, 20U);
  for (const int fd : idle) ::close(fd);
}

TEST(HttpServerTest, StopFinishesARequestAlreadyWithAWorker) {
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  ServerFixture fixture(HttpServerOptions{}, [&](const HttpRequest&, HttpResponse& response) {
    entered = true;
    while (!release.load()) std::this_thread::sleep_for(milliseconds(5));
    response.SetContent("done", "text/plain");
  });
  const int fd = Connect(fixture.port());
  ::send(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 31, MSG_NOSIGNAL);
  const int idle = Connect(fixture.port());
  while (!entered.load()) std::this_thread::sleep_for(milliseconds(5));
  std::thread stopper([&] { fixture.StopAndJoin(); });
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(ReadAll(idle, milliseconds(1000)), "");  // idle: closed at once, no answer
  release = true;
  const std::string text = ReadAll(fd, milliseconds(3000));
  stopper.join();
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << text;
  EXPECT_NE(text.find("Connection: close\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\n\r\ndone"), std::string::npos) << text;
  ::close(fd);
  ::close(idle);
}

TEST(HttpServerTest, AThrowingHandlerIsA500) {
  ServerFixture fixture(HttpServerOptions{}, [](const HttpRequest&, HttpResponse&) {
    throw std::runtime_error("boom");
  });
  const std::string text = Exchange(
      fixture.port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", milliseconds(3000));
  EXPECT_EQ(text.rfind("HTTP/1.1 500 ", 0), 0U) << text;
  EXPECT_NE(text.find("boom"), std::string::npos) << text;
}

TEST(HttpServerTest, ReadTimeIs408AndIdleIsClosedSilently) {
  HttpServerOptions options;
  options.request_timeout = milliseconds(200);
  options.idle_timeout = milliseconds(300);
  ServerFixture fixture(options, [](const HttpRequest&, HttpResponse& response) {
    response.SetContent("x", "text/plain");
  });
  const auto start = std::chrono::steady_clock::now();
  const std::string partial =
      Exchange(fixture.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc",
               milliseconds(3000));
  EXPECT_EQ(partial.rfind("HTTP/1.1 408 ", 0), 0U) << partial;
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
  const std::string silent = Exchange(fixture.port(), "", milliseconds(3000));
  EXPECT_EQ(silent, "");
  const HttpServer::Stats stats = fixture.server().stats();
  EXPECT_EQ(stats.read_timeouts, 1U);
  EXPECT_EQ(stats.idle_closed, 1U);
}

}  // namespace
}  // namespace dove::controller::http
