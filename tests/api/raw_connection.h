// RawConnection: one TCP connection to the controller driven byte by byte, for the HTTP
// framing, timeout and connection-cap tests (a client library would fix or refuse what these
// tests must send).
//
//   RawConnection c(api.port());
//   c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
//   Reply reply = c.ReadResponse();   // one response, by its Content-Length
//   EXPECT_TRUE(c.ClosedByServer());  // EOF within the wait
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "api/api_client.h"

namespace dove::api_test {

class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // One response (status 0 when none came within `wait` or the connection closed first).
  // head_only: the answer to a HEAD request (a Content-Length but no body).
  Reply ReadResponse(std::chrono::milliseconds wait = std::chrono::seconds(10),
                     bool head_only = false) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t at = buffer_.find("Content-Length: ");
        if (at != std::string::npos && at < head_end && !head_only) {
          length = std::stoul(buffer_.substr(at + 16));
        }
        if (buffer_.size() >= head_end + 4 + length) {
          Reply reply = ParseReply(buffer_.substr(0, head_end + 4 + length));
          buffer_.erase(0, head_end + 4 + length);
          return reply;
        }
      }
      if (!Fill(deadline)) return Reply{};
    }
  }

  // True when the server closes the connection (EOF) within `wait` and sent nothing more.
  bool ClosedByServer(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (Fill(deadline)) {
    }
    return eof_ && buffer_.empty();
  }

  // True when the server closes the connection (EOF) within `wait`, whatever it sent before
  // (a TLS alert, say).
  bool EndsWithin(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (Fill(deadline)) {
    }
    return eof_;
  }

  // True when the connection is still open: no EOF and nothing to read right now.
  bool OpenAndSilent() {
    char byte = 0;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

 private:
  // Reads what arrives before `deadline`; false on EOF, error or timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_ || fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace dove::api_test
