// Shared by the api tests: start a controller on a fresh data dir, send any request to it
// (httplib::Client for ordinary ones, a raw socket for the ones httplib would "fix", such as a
// body without Content-Type), read answers as JSON.
//
//   ApiFixture api;                    // TempDir + controller on 127.0.0.1:0
//   auto reply = api.Send("POST", "/v1/domains", R"({"name":"acme"})");
//   EXPECT_EQ(reply.status, 201);
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/controller_process.h"
#include "support/temp_dir.h"

namespace dove::api_test {

using nlohmann::json;
using test_support::ControllerProcess;
using test_support::TempDir;

struct Reply {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
  httplib::Headers headers;

  json Json() const { return json::parse(body, nullptr, /*allow_exceptions=*/false); }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // The error code of an error body, "" when the body is not our error shape.
  std::string Code() const {
    const json value = Json();
    if (!value.is_object() || !value.contains("error") || !value["error"].is_object()) return "";
    const json& error = value["error"];
    if (!error.contains("code") || !error["code"].is_string()) return "";
    return error["code"].get<std::string>();
  }
};

// The exact error shape: {"error":{"code":string,"message":non-empty string}} and nothing else.
inline bool IsErrorShape(const Reply& reply) {
  const json value = reply.Json();
  if (!value.is_object() || value.size() != 1 || !value.contains("error")) return false;
  const json& error = value["error"];
  return error.is_object() && error.size() == 2 && error.contains("code") &&
         error["code"].is_string() && error.contains("message") && error["message"].is_string() &&
         !error["message"].get<std::string>().empty() &&
         reply.Header("Content-Type").rfind("application/json", 0) == 0;
}

inline Reply Send(int port, const std::string& method, const std::string& path,
                  const std::string& body = "", httplib::Headers headers = {},
                  const std::string& content_type = "application/json") {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(20);
  httplib::Request request;
  request.method = method;
  request.path = path;
  request.headers = std::move(headers);
  request.body = body;
  if (!body.empty() && !content_type.empty() && !request.has_header("Content-Type")) {
    request.set_header("Content-Type", content_type);
  }
  auto result = client.send(request);
  Reply reply;
  if (!result) return reply;
  reply.status = result->status;
  reply.body = result->body;
  reply.headers = result->headers;
  return reply;
}

// One HTTP/1.1 response as received: status, headers, body (status 0 when it is none).
inline Reply ParseReply(const std::string& text) {
  Reply reply;
  if (text.rfind("HTTP/1.1 ", 0) != 0 || text.size() < 12) return reply;
  reply.status = std::stoi(text.substr(9, 3));
  const size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos) return reply;
  size_t line = text.find("\r\n") + 2;
  while (line < head_end) {
    const size_t end = text.find("\r\n", line);
    const std::string header = text.substr(line, end - line);
    const size_t colon = header.find(':');
    if (colon != std::string::npos) {
      size_t value = colon + 1;
      while (value < header.size() && header[value] == ' ') ++value;
      reply.headers.emplace(header.substr(0, colon), header.substr(value));
    }
    line = end + 2;
  }
  reply.body = text.substr(head_end + 4);
  return reply;
}

// Writes `raw` on a fresh connection and reads until the server closes it; the status of the
// first response line (0 when none).
inline Reply SendRaw(int port, const std::string& raw) {
  Reply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return reply;
  }
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  // Until the server closes or the whole response (by its Content-Length) is in: after a
  // request line it cannot parse, httplib keeps the connection open until its read timeout.
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    const size_t head_end = text.find("\r\n\r\n");
    const size_t length_at = text.find("Content-Length: ");
    if (head_end != std::string::npos && length_at != std::string::npos && length_at < head_end &&
        text.size() >= head_end + 4 + std::stoul(text.substr(length_at + 16))) {
      break;
    }
  }
  ::close(fd);
  return ParseReply(text);
}

// Runs dove-controller with exactly `args` (nothing added) to its exit, stdin from /dev/null,
// `env` ("NAME=value ...") before it; its exit code (-1 when killed) and stdout+stderr. For
// runs expecting a quick exit (flag errors, --help); one that serves instead is stopped after
// 60 s (exit code 124, from timeout(1)).
inline std::pair<int, std::string> RunController(const TempDir& dir,
                                                 const std::vector<std::string>& args,
                                                 const std::string& env = "") {
  std::string command = env + " timeout 60 " + test_support::kControllerBinary;
  for (const auto& arg : args) command += " '" + arg + "'";
  const std::string out = (dir.path() / "out.txt").string();
  command += " >" + out + " 2>&1 </dev/null";
  const int status = std::system(command.c_str());
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

// A controller on a data dir of its own, for one test.
class ApiFixture {
 public:
  explicit ApiFixture(std::vector<std::string> extra_args = {}) : dir_("dove-api") {
    Start(std::move(extra_args));
  }

  void Start(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--data-dir", data_dir()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto started = ControllerProcess::Start(args);
    if (!started) {
      ADD_FAILURE() << started.error();
      return;
    }
    controller_ = std::move(*started);
  }

  // SIGTERM and wait; the wait status (-1 on timeout).
  int Stop() {
    controller_->Signal(SIGTERM);
    const auto status = controller_->WaitForExit(std::chrono::seconds(20));
    return status ? *status : -1;
  }

  std::string data_dir() const { return (dir_.path() / "data").string(); }
  ControllerProcess& controller() { return *controller_; }
  bool running() const { return controller_ != nullptr; }
  int port() const { return controller_->port(); }

  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             httplib::Headers headers = {}) const {
    return api_test::Send(port(), method, path, body, std::move(headers));
  }
  json Create(const std::string& collection, const json& object) const {
    const Reply reply = Send("POST", "/v1/" + collection, object.dump());
    EXPECT_EQ(reply.status, 201) << collection << " " << object.dump() << " -> " << reply.body;
    return reply.Json();
  }
  int64_t Revision() const {
    const Reply reply = Send("GET", "/healthz");
    const json value = reply.Json();
    if (reply.status != 200 || !value.contains("revision")) return -1;
    return value["revision"].get<int64_t>();
  }

  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<ControllerProcess> controller_;
};

}  // namespace dove::api_test
