#include "controller/http/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace dove::controller::http {
namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr auto kSweepInterval = std::chrono::milliseconds(50);
constexpr auto kDrainTime = std::chrono::milliseconds(2000);
constexpr size_t kDrainBytes = size_t{4} << 20;
constexpr auto kStopGrace = std::chrono::seconds(10);
// A stream's socket send buffer: what a client that stopped reading holds in the kernel,
// beyond its channel's own bound (loopback would otherwise let it grow to megabytes).
constexpr int kStreamSocketBuffer = 64 * 1024;
// The first byte of every TLS connection: a handshake record.
constexpr unsigned char kTlsHandshakeRecord = 0x16;
constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace

struct HttpServer::Connection {
  enum class State { kReading, kHandling, kWriting, kDraining, kStreaming };
  int fd = -1;
  uint64_t id = 0;
  State state = State::kReading;
  std::string in;
  std::string out;
  size_t out_sent = 0;
  bool close_after_write = false;
  bool request_started = false;  // a byte of the current request arrived
  bool over_cap = false;         // accepted into the reserve
  bool continue_sent = false;
  size_t needed = 0;  // the current request's total length, once its head is in
  size_t drained = 0;
  bool registered = true;  // in the epoll set (not while a worker holds its request)
  Clock::time_point deadline;
  std::shared_ptr<StreamChannel> stream;  // kStreaming: the body's source
  bool chunked = true;                    // kStreaming: HTTP/1.1 chunks (else raw until close)
  std::unique_ptr<TlsSession> tls;        // https: the session, from accept on
  uint32_t events = 0;                    // registered in epoll (when `registered`)
};

struct HttpServer::Task {
  int fd;
  uint64_t id;
  HttpRequest request;
};

struct HttpServer::Done {
  int fd;
  uint64_t id;
  std::string bytes;
  bool close;
  std::shared_ptr<StreamChannel> stream{};  // a streaming response: `bytes` is its head
  bool chunked = true;
};

Expected<std::unique_ptr<HttpServer>, std::string> HttpServer::Bind(const std::string& host,
                                                                    int port,
                                                                    HttpServerOptions options,
                                                                    Handler handler,
                                                                    ErrorHandler on_error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int error = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); error != 0) {
    return Unexpected<std::string>("cannot resolve " + host + ": " + ::gai_strerror(error));
  }
  int fd = -1;
  std::string why = "no address";
  for (addrinfo* each = found; each != nullptr; each = each->ai_next) {
    fd = ::socket(each->ai_family, each->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  each->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd, each->ai_addr, each->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    why = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Unexpected<std::string>(why);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int actual = bound.ss_family == AF_INET6
                         ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                         : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<HttpServer> server(
      new HttpServer(fd, actual, std::move(options), std::move(handler), std::move(on_error)));
  if (server->epoll_fd_ < 0 || server->wake_fd_ < 0) {
    return Unexpected<std::string>(std::string("epoll: ") + std::strerror(errno));
  }
  return server;
}

HttpServer::HttpServer(int listen_fd, int port, HttpServerOptions options, Handler handler,
                       ErrorHandler on_error)
    : listen_fd_(listen_fd),
      port_(port),
      options_(std::move(options)),
      handler_(std::move(handler)),
      on_error_(std::move(on_error)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listen_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
  event.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
}

HttpServer::~HttpServer() {
  {
    const std::lock_guard lock(queue_mutex_);
    workers_stop_ = true;
  }
  queue_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
  for (auto& [fd, connection] : connections_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void HttpServer::Stop() {
  stopping_ = true;
  Wake();
}

void HttpServer::Wake() const {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof(one));
}

HttpServer::Stats HttpServer::stats() const {
  const std::lock_guard lock(stats_mutex_);
  return stats_;
}

void HttpServer::AddMetrics(base::MetricsPage& page) const {
  const Stats now = stats();
  const auto gauge = [&page](const char* name, const char* help, uint64_t value) {
    page.Gauge(name, help).Add({}, value);
  };
  const auto counter = [&page](const char* name, const char* help, uint64_t value) {
    page.Counter(name, help).Add({}, value);
  };
  gauge("dove_http_connections_open", "REST API connections open now.", now.open);
  counter("dove_http_connections_accepted_total", "REST API connections accepted.", now.accepted);
  counter("dove_http_connections_refused_total",
          "Connections answered 503 because the connection cap was reached.", now.refused_over_cap);
  counter("dove_http_read_timeouts_total",
          "Requests answered 408 because head and body did not arrive within the read time.",
          now.read_timeouts);
  counter("dove_http_idle_closed_total", "Keep-alive connections closed after the idle time.",
          now.idle_closed);
  counter("dove_http_write_timeouts_total",
          "Connections closed because the client did not read its answer.", now.write_timeouts);
  counter("dove_http_bad_framing_total",
          "Requests refused by the HTTP parser (malformed framing or over a limit).",
          now.bad_framing);
  gauge("dove_http_streams_open", "Event streams (GET /v1/events) open now.", now.streams_open);
  counter("dove_http_streams_dropped_total",
          "Event streams closed because the client fell behind (buffer full or nothing read "
          "within the write time).",
          now.streams_dropped);
  counter("dove_http_tls_handshake_failures_total",
          "https connections closed because their TLS handshake failed (including plain HTTP "
          "sent to the https port).",
          now.tls_handshake_failures);
  counter("dove_http_tls_handshake_timeouts_total",
          "https connections closed because their TLS handshake did not finish within the read "
          "time.",
          now.tls_handshake_timeouts);
}

void HttpServer::Run() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  Clock::time_point last_sweep = Clock::now();
  Clock::time_point stop_deadline{};
  std::vector<epoll_event> events(256);
  while (true) {
    if (stopping_.load() && listening_) {
      listening_ = false;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = -1;
      stop_deadline = Clock::now() + kStopGrace;
      // Idle connections and unfinished requests go now; handed-over ones finish first.
      std::vector<int> idle;
      for (auto& [fd, connection] : connections_) {
        if (connection->state == Connection::State::kStreaming && connection->chunked &&
            connection->out_sent == connection->out.size()) {
          // The stream's end, when the socket takes it at once; the client reconnects.
          [[maybe_unused]] const ssize_t sent =
              Transmit(*connection, kLastChunk.data(), kLastChunk.size());
        }
        if (connection->state == Connection::State::kReading ||
            connection->state == Connection::State::kDraining ||
            connection->state == Connection::State::kStreaming) {
          idle.push_back(fd);
        }
      }
      for (const int fd : idle) Close(fd);
    }
    if (!listening_ && (connections_.empty() || Clock::now() > stop_deadline)) break;
    const int count = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                   static_cast<int>(kSweepInterval.count()));
    for (int i = 0; i < count; ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      const uint32_t flags = events[static_cast<size_t>(i)].events;
      if (fd == listen_fd_) {
        Accept();
        continue;
      }
      if (fd == wake_fd_) {
        uint64_t value = 0;
        [[maybe_unused]] const ssize_t read = ::read(wake_fd_, &value, sizeof(value));
        CollectDone();
        continue;
      }
      auto it = connections_.find(fd);
      if (it == connections_.end()) continue;
      Connection& connection = *it->second;
      const uint64_t id = connection.id;
      if (connection.state == Connection::State::kStreaming) {
        // A TLS write may wait for the socket to be readable.
        if ((flags & EPOLLOUT) != 0 || (connection.tls && connection.tls->write_wants() != 0)) {
          FlushStream(connection);
        }
        if ((flags & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0 && Alive(fd, id)) {
          OnReadable(connection);  // discards what the client sends; closes at its end
        }
      } else if (connection.state == Connection::State::kWriting) {
        OnWritable(connection);  // an error or hang-up shows as a failed send
      } else {
        OnReadable(connection);  // EPOLLOUT here: a TLS handshake or read waits to write
      }
    }
    if (Clock::now() - last_sweep >= kSweepInterval) {
      last_sweep = Clock::now();
      Sweep();
    }
  }
  std::vector<int> left;
  for (auto& [fd, connection] : connections_) left.push_back(fd);
  for (const int fd : left) Close(fd);
  {
    const std::lock_guard lock(queue_mutex_);
    workers_stop_ = true;
  }
  queue_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void HttpServer::Accept() {
  if (Clock::now() < accept_paused_until_) return;
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the pending connection stays queued; try again after a sweep
        // rather than spin on a listen socket that stays readable.
        accept_paused_until_ = Clock::now() + kSweepInterval;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      }
      return;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    const auto open = static_cast<int>(connections_.size());
    {
      const std::lock_guard lock(stats_mutex_);
      ++stats_.accepted;
    }
    if (open >= options_.max_connections + options_.reserved_connections && options_.tls) {
      ::close(fd);  // a plain-text 503 means nothing to a TLS client
      const std::lock_guard lock(stats_mutex_);
      ++stats_.refused_over_cap;
      continue;
    }
    if (open >= options_.max_connections + options_.reserved_connections) {
      HttpResponse response;
      response.status = 503;
      on_error_(HttpRequest{}, "the controller has too many connections open; try again later",
                response);
      const std::string bytes = SerializeResponse(response, false, true);
      [[maybe_unused]] const ssize_t sent =
          ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(fd, SHUT_WR);
      ::close(fd);
      const std::lock_guard lock(stats_mutex_);
      ++stats_.refused_over_cap;
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->id = next_id_++;
    connection->over_cap = open >= options_.max_connections;
    // A TLS client says its hello at once: its handshake has the read time, no idle time.
    const auto first_wait = options_.tls ? std::min(options_.request_timeout, options_.idle_timeout)
                                         : options_.idle_timeout;
    connection->deadline =
        Clock::now() +
        (connection->over_cap ? std::min(options_.reserve_timeout, first_wait) : first_wait);
    if (options_.tls) connection->tls = std::make_unique<TlsSession>(*options_.tls, fd);
    connection->registered = false;
    Rearm(*connection);
    connections_[fd] = std::move(connection);
    const std::lock_guard lock(stats_mutex_);
    stats_.open = connections_.size();
  }
}

// events 0 takes the socket out of the epoll set: a hang-up is reported even without asking
// and would wake the loop again and again while a worker holds the request.
void HttpServer::SetEvents(Connection& connection, uint32_t events) {
  if (events == 0) {
    if (connection.registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.fd, nullptr);
    connection.registered = false;
    return;
  }
  if (connection.registered && connection.events == events) return;
  connection.events = events;
  epoll_event event{};
  event.events = events;
  event.data.fd = connection.fd;
  ::epoll_ctl(epoll_fd_, connection.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, connection.fd,
              &event);
  connection.registered = true;
}

void HttpServer::Close(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT when not registered: harmless
  ::close(fd);
  bool stream = false;
  if (auto it = connections_.find(fd); it != connections_.end() && it->second->stream) {
    it->second->stream->Close();
    stream = true;
  }
  connections_.erase(fd);
  const std::lock_guard lock(stats_mutex_);
  stats_.open = connections_.size();
  if (stream) --stats_.streams_open;
}

void HttpServer::Rearm(Connection& connection) {
  uint32_t read = EPOLLIN | EPOLLRDHUP;
  uint32_t write = EPOLLOUT;
  if (connection.tls) {
    read |= connection.tls->read_wants();
    if (connection.tls->write_wants() != 0) write = connection.tls->write_wants();
  }
  switch (connection.state) {
    case Connection::State::kReading:
    case Connection::State::kDraining:
      SetEvents(connection, read);
      return;
    case Connection::State::kWriting:
      SetEvents(connection, write);
      return;
    case Connection::State::kStreaming:
      SetEvents(connection, read | (connection.out_sent < connection.out.size() ? write : 0U));
      return;
    case Connection::State::kHandling:
      break;
  }
  SetEvents(connection, 0);
}

bool HttpServer::Alive(int fd, uint64_t id) const {
  const auto it = connections_.find(fd);
  return it != connections_.end() && it->second->id == id;
}

ssize_t HttpServer::Receive(Connection& connection, char* buffer, size_t size) {
  if (connection.tls) {
    const TlsSession::Result got = connection.tls->Read(buffer, size);
    if (got.kind == TlsSession::Result::kData) return static_cast<ssize_t>(got.bytes);
    return got.kind == TlsSession::Result::kBlocked ? -1 : 0;
  }
  const ssize_t n = ::recv(connection.fd, buffer, size, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return -1;
  return std::max<ssize_t>(n, 0);
}

ssize_t HttpServer::Transmit(Connection& connection, const char* data, size_t size) {
  if (connection.tls) {
    const TlsSession::Result sent = connection.tls->Write(data, size);
    if (sent.kind == TlsSession::Result::kData) return static_cast<ssize_t>(sent.bytes);
    return sent.kind == TlsSession::Result::kBlocked ? -1 : 0;
  }
  while (true) {
    const ssize_t n = ::send(connection.fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    return std::max<ssize_t>(n, 0);
  }
}

bool HttpServer::Handshake(Connection& connection) {
  if (!connection.request_started) {
    // Nothing of the handshake arrived yet: is it one, or plain HTTP sent to the https port?
    unsigned char first = 0;
    const ssize_t n = ::recv(connection.fd, &first, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    if (n <= 0) {
      Close(connection.fd);
      return false;
    }
    connection.request_started = true;
    if (first != kTlsHandshakeRecord) {
      {
        const std::lock_guard lock(stats_mutex_);
        ++stats_.tls_handshake_failures;
      }
      if (first < 'A' || first > 'Z') {
        Close(connection.fd);
        return false;
      }
      connection.tls.reset();  // the answer goes out in plain text
      HttpResponse response;
      response.status = 426;
      on_error_(HttpRequest{}, "this port serves https only: use an https:// URL", response);
      response.SetHeader("Upgrade", "TLS/1.2, HTTP/1.1");
      StartWrite(connection, SerializeResponse(response, false, true), true);
      return false;
    }
  }
  const TlsSession::Result step = connection.tls->Handshake();
  if (step.kind == TlsSession::Result::kBlocked) {
    Rearm(connection);
    return false;
  }
  if (step.kind != TlsSession::Result::kData) {
    {
      const std::lock_guard lock(stats_mutex_);
      ++stats_.tls_handshake_failures;
    }
    Close(connection.fd);
    return false;
  }
  // Established: from now on the connection is idle until its first request byte.
  connection.request_started = false;
  connection.deadline = Clock::now() + (connection.over_cap ? std::min(options_.reserve_timeout,
                                                                       options_.idle_timeout)
                                                            : options_.idle_timeout);
  Rearm(connection);
  return true;
}

void HttpServer::OnReadable(Connection& connection) {
  if (connection.state == Connection::State::kHandling) return;  // the worker has it
  if (connection.tls && !connection.tls->established() && !Handshake(connection)) return;
  const int fd = connection.fd;
  const uint64_t id = connection.id;
  const bool tls = connection.tls != nullptr;
  char buffer[kReadChunk];
  while (true) {
    const ssize_t n = Receive(connection, buffer, sizeof(buffer));
    if (n < 0) {
      Rearm(connection);
      return;
    }
    if (n == 0) {
      // The client closed (or reset) while no request of it is with a worker.
      Close(fd);
      return;
    }
    if (connection.state == Connection::State::kDraining) {
      connection.drained += static_cast<size_t>(n);
      if (connection.drained > kDrainBytes) {
        Close(fd);
        return;
      }
    } else if (connection.state == Connection::State::kReading) {
      connection.in.append(buffer, static_cast<size_t>(n));
      Process(connection);
    }  // kStreaming: nothing is expected
    // TLS: OpenSSL may hold decrypted bytes the socket will not signal again.
    if (!tls || !Alive(fd, id)) return;
    if (connection.state == Connection::State::kHandling ||
        connection.state == Connection::State::kWriting || !connection.tls->pending()) {
      Rearm(connection);
      return;
    }
  }
}

void HttpServer::Process(Connection& connection) {
  if (connection.in.empty()) return;
  const Clock::time_point now = Clock::now();
  if (!connection.request_started) {
    connection.request_started = true;
    connection.deadline =
        now + (connection.over_cap ? std::min(options_.reserve_timeout, options_.request_timeout)
                                   : options_.request_timeout);
  }
  if (connection.needed != 0 && connection.in.size() < connection.needed) return;
  ParseResult parsed = ParseRequest(connection.in, options_.limits);
  if (parsed.status == ParseStatus::kError) {
    {
      const std::lock_guard lock(stats_mutex_);
      ++stats_.bad_framing;
    }
    Refuse(connection, parsed.request, parsed.error_status, parsed.error);
    return;
  }
  const bool reserved_path =
      std::find(options_.reserved_paths.begin(), options_.reserved_paths.end(),
                parsed.request.path) != options_.reserved_paths.end();
  if (parsed.head_complete && connection.over_cap && !reserved_path) {
    {
      const std::lock_guard lock(stats_mutex_);
      ++stats_.refused_over_cap;
    }
    Refuse(connection, parsed.request, 503,
           "the controller has too many connections open; try again later");
    return;
  }
  if (parsed.status == ParseStatus::kIncomplete) {
    if (parsed.head_complete) {
      connection.needed = parsed.needed;
      if (parsed.expect_continue && !connection.continue_sent) {
        connection.continue_sent = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        const ssize_t sent = Transmit(connection, kContinue.data(), kContinue.size());
        if (sent != static_cast<ssize_t>(kContinue.size())) Close(connection.fd);
      }
    }
    return;
  }
  connection.in.erase(0, parsed.consumed);
  connection.state = Connection::State::kHandling;
  connection.needed = 0;
  Rearm(connection);  // out of the epoll set while a worker holds the request
  {
    const std::lock_guard lock(queue_mutex_);
    tasks_.push_back(Task{connection.fd, connection.id, std::move(parsed.request)});
  }
  queue_ready_.notify_one();
}

void HttpServer::Refuse(Connection& connection, const HttpRequest& request, int status,
                        std::string_view message) {
  HttpResponse response;
  response.status = status;
  on_error_(request, message, response);
  StartWrite(connection, SerializeResponse(response, request.method == "HEAD", true), true);
}

void HttpServer::StartWrite(Connection& connection, std::string bytes, bool close) {
  connection.state = Connection::State::kWriting;
  connection.out = std::move(bytes);
  connection.out_sent = 0;
  connection.close_after_write = close;
  connection.deadline = Clock::now() + options_.write_timeout;
  Rearm(connection);
  OnWritable(connection);
}

void HttpServer::OnWritable(Connection& connection) {
  while (connection.out_sent < connection.out.size()) {
    const ssize_t n = Transmit(connection, connection.out.data() + connection.out_sent,
                               connection.out.size() - connection.out_sent);
    if (n < 0) {
      Rearm(connection);  // TLS: the write may wait for the socket to be readable
      return;
    }
    if (n == 0) {
      Close(connection.fd);
      return;
    }
    connection.out_sent += static_cast<size_t>(n);
  }
  FinishWrite(connection);
}

void HttpServer::FinishWrite(Connection& connection) {
  connection.out.clear();
  connection.out_sent = 0;
  if (connection.close_after_write || stopping_.load()) {
    StartDrain(connection);
    return;
  }
  connection.state = Connection::State::kReading;
  connection.request_started = false;
  connection.continue_sent = false;
  connection.needed = 0;
  connection.deadline = Clock::now() + options_.idle_timeout;
  Rearm(connection);
  const int fd = connection.fd;
  const uint64_t id = connection.id;
  Process(connection);  // a pipelined request may be waiting
  // TLS: a pipelined request may wait inside OpenSSL, where epoll does not see it.
  if (Alive(fd, id) && connection.state == Connection::State::kReading && connection.tls &&
      connection.tls->pending()) {
    OnReadable(connection);
  }
}

// After the last answer: no more writing, and what the client still sends is read and thrown
// away for a moment, so that closing with unread bytes does not reset the connection before
// the client has read the answer.
void HttpServer::StartDrain(Connection& connection) {
  if (connection.tls) connection.tls->Shutdown();
  ::shutdown(connection.fd, SHUT_WR);
  if (stopping_.load()) {
    Close(connection.fd);
    return;
  }
  connection.state = Connection::State::kDraining;
  connection.in.clear();
  connection.in.shrink_to_fit();
  connection.deadline = Clock::now() + kDrainTime;
  Rearm(connection);
}

void HttpServer::CollectDone() {
  std::vector<Done> done;
  std::vector<std::pair<int, uint64_t>> ready;
  {
    const std::lock_guard lock(queue_mutex_);
    done.swap(done_);
    ready.swap(stream_ready_);
  }
  for (Done& each : done) {
    auto it = connections_.find(each.fd);
    if (it == connections_.end() || it->second->id != each.id) {
      if (each.stream) each.stream->Close();
      continue;
    }
    if (each.stream) {
      StartStream(*it->second, std::move(each.bytes), std::move(each.stream), each.chunked);
    } else {
      StartWrite(*it->second, std::move(each.bytes), each.close);
    }
  }
  for (const auto& [fd, id] : ready) {
    auto it = connections_.find(fd);
    if (it == connections_.end() || it->second->id != id ||
        it->second->state != Connection::State::kStreaming) {
      continue;
    }
    FlushStream(*it->second);
  }
}

void HttpServer::StartStream(Connection& connection, std::string head,
                             std::shared_ptr<StreamChannel> stream, bool chunked) {
  connection.state = Connection::State::kStreaming;
  connection.stream = std::move(stream);
  connection.chunked = chunked;
  connection.out = std::move(head);
  connection.out_sent = 0;
  connection.in.clear();
  connection.deadline = Clock::now() + options_.write_timeout;
  ::setsockopt(connection.fd, SOL_SOCKET, SO_SNDBUF, &kStreamSocketBuffer,
               sizeof(kStreamSocketBuffer));
  {
    const std::lock_guard lock(stats_mutex_);
    ++stats_.streams_open;
  }
  const int fd = connection.fd;
  const uint64_t id = connection.id;
  // Runs under the channel's lock, on the producer's thread: queue_mutex_ is taken after it,
  // never before it (the epoll thread takes no channel lock while holding queue_mutex_).
  connection.stream->Attach([this, fd, id] {
    {
      const std::lock_guard lock(queue_mutex_);
      stream_ready_.emplace_back(fd, id);
    }
    Wake();
  });
  FlushStream(connection);  // registers the events
}

void HttpServer::FlushStream(Connection& connection) {
  StreamChannel& stream = *connection.stream;
  while (true) {
    if (connection.out_sent == connection.out.size()) {
      connection.out.clear();
      connection.out_sent = 0;
      std::string data = stream.Take();
      if (data.empty()) break;
      if (connection.chunked) {
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        connection.out = size;
        connection.out += data;
        connection.out += "\r\n";
      } else {
        connection.out = std::move(data);
      }
    }
    const ssize_t n = Transmit(connection, connection.out.data() + connection.out_sent,
                               connection.out.size() - connection.out_sent);
    if (n < 0) break;
    if (n == 0) {
      Close(connection.fd);
      return;
    }
    connection.out_sent += static_cast<size_t>(n);
    connection.deadline = Clock::now() + options_.write_timeout;  // the client reads
  }
  const size_t unsent = connection.out.size() - connection.out_sent;
  stream.Unsent(unsent);
  if (stream.overflowed()) {
    DropStream(connection.fd);
    return;
  }
  if (unsent == 0 && (stream.closed() || stopping_.load())) {  // stopping: a late stream ends
    if (connection.chunked) {
      [[maybe_unused]] const ssize_t sent =
          Transmit(connection, kLastChunk.data(), kLastChunk.size());
    }
    Close(connection.fd);
    return;
  }
  Rearm(connection);
}

void HttpServer::DropStream(int fd) {
  {
    const std::lock_guard lock(stats_mutex_);
    ++stats_.streams_dropped;
  }
  Close(fd);
}

void HttpServer::Sweep() {
  const Clock::time_point now = Clock::now();
  if (listening_ && accept_paused_until_ != Clock::time_point{} && now >= accept_paused_until_) {
    accept_paused_until_ = Clock::time_point{};
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listen_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
  }
  std::vector<int> expired;
  std::vector<int> slow_streams;
  for (auto& [fd, connection] : connections_) {
    if (connection->state == Connection::State::kStreaming) {
      if (connection->out_sent < connection->out.size() && now >= connection->deadline) {
        slow_streams.push_back(fd);
      }
    } else if (connection->state != Connection::State::kHandling && now >= connection->deadline) {
      expired.push_back(fd);
    }
  }
  for (const int fd : slow_streams) DropStream(fd);
  for (const int fd : expired) {
    Connection& connection = *connections_.at(fd);
    if (connection.tls && !connection.tls->established()) {
      {
        const std::lock_guard lock(stats_mutex_);
        ++stats_.tls_handshake_timeouts;
      }
      Close(fd);
      continue;
    }
    if (connection.state == Connection::State::kReading && connection.request_started) {
      {
        const std::lock_guard lock(stats_mutex_);
        ++stats_.read_timeouts;
      }
      // What of the request arrived, for the answer's route label (maybe nothing).
      ParseResult parsed = ParseRequest(connection.in, options_.limits);
      Refuse(connection, parsed.request, 408,
             "the request did not arrive in time (head and body within " +
                 std::to_string((connection.over_cap
                                     ? std::min(options_.reserve_timeout, options_.request_timeout)
                                     : options_.request_timeout)
                                    .count()) +
                 " ms)");
      continue;
    }
    {
      const std::lock_guard lock(stats_mutex_);
      if (connection.state == Connection::State::kReading) ++stats_.idle_closed;
      if (connection.state == Connection::State::kWriting) ++stats_.write_timeouts;
    }
    Close(fd);
  }
}

void HttpServer::WorkerLoop() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return workers_stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    HttpResponse response;
    try {
      handler_(task.request, response);
    } catch (const std::exception& error) {
      response = HttpResponse{};
      response.status = 500;
      on_error_(task.request, std::string("the controller failed: ") + error.what(), response);
    } catch (...) {
      response = HttpResponse{};
      response.status = 500;
      on_error_(task.request, "the controller failed: unknown exception", response);
    }
    const bool close = !task.request.keep_alive || stopping_.load() ||
                       EqualsIgnoreCase(response.Header("Connection"), "close");
    Done done{task.fd, task.id, "", close};
    if (response.stream && task.request.method != "HEAD" && !stopping_.load()) {
      done.chunked = task.request.version_minor >= 1;
      done.bytes = SerializeStreamHead(response, done.chunked);
      done.stream = std::move(response.stream);
    } else {
      if (response.stream) response.stream->Close();
      done.bytes = SerializeResponse(response, task.request.method == "HEAD", close);
    }
    {
      const std::lock_guard lock(queue_mutex_);
      done_.push_back(std::move(done));
    }
    Wake();
  }
}

}  // namespace dove::controller::http
