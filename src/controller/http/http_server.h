// HttpServer: the controller's HTTP/1.1 server, one epoll thread for every socket and a fixed
// pool of workers for complete requests.
//
// Why not cpp-httplib (docs/architecture.md, "The REST server"): httplib gives each
// connection a worker for its whole life, so N idle keep-alive or slowloris connections hold
// N workers and the API stops. Here the epoll thread does all reading and writing; a worker
// only ever holds a request that has fully arrived, so a client that sends nothing, or sends
// slowly, costs a buffer and a file descriptor, never a worker.
//
// What the server guarantees:
//   - Framing: every request goes through ParseRequest (request_parser.h). A refused one is
//     answered with its status (through the error handler, for the API's error shape) and the
//     connection closed; a request is never handed to a worker unless it parsed completely.
//   - Read time: from a request's first byte, its head and body must be in within
//     request_timeout, else 408 and close. A keep-alive connection idle between requests is
//     closed silently after idle_timeout. A response the client does not read within
//     write_timeout is abandoned (connection closed).
//   - Connection cap: up to max_connections are served normally. The next
//     reserved_connections are accepted as reserve: their request is read (with a read time of
//     at most reserve_timeout) and only a path in reserved_paths (/healthz, /metrics) is
//     served; anything else gets 503 and close. Beyond both, a connection is answered 503 at
//     once and closed without reading. Every refusal is counted (Stats, AddMetrics).
//   - One request at a time per connection, answered in order; pipelined bytes wait.
//   - Expect: 100-continue is answered once the head is accepted.
//   - Streaming responses (HttpResponse::stream, stream_channel.h; GET /v1/events): after the
//     head the connection carries what the channel is given, as HTTP/1.1 chunks (HTTP/1.0: raw,
//     the body ending with the connection), until the channel closes, the client closes, or the
//     server stops. Such a connection is never idle-closed, and what the client sends on it
//     is read and discarded. A client that falls more than the channel's bound behind, or
//     leaves bytes unread for write_timeout, is dropped (closed, counted in streams_dropped);
//     the producer never waits for it. At Stop() every stream is ended (a last empty chunk,
//     when the socket takes it) and closed at once.
//   - TLS (options.tls set): the listener serves https only. Each connection's handshake
//     (TlsSession, driven by the epoll loop like every read and write) must finish within
//     min(request_timeout, idle_timeout) of its accept (reserve: reserve_timeout), else it is
//     closed (tls_handshake_timeouts); a failed handshake closes it (tls_handshake_failures).
//     A client that speaks plain HTTP to it (first byte a letter, not a TLS record) is
//     answered 426 in plain text, with a message naming https, and closed; beyond the
//     reserve a TLS connection is closed without an answer (a plain 503 would not parse).
// Ownership: the handlers are copied in; they run on worker threads, several at once, and
// must be thread-safe. They must not throw (an exception becomes a 500 from the error
// handler). Threading: Run() blocks the calling thread until Stop(); Stop() and Stats() may be
// called from any thread, at any time (Stop before Run makes Run return at once).
//
//   auto server = HttpServer::Bind("127.0.0.1", 0, HttpServerOptions{}, handler, on_error);
//   std::thread loop([&] { (*server)->Run(); });
//   ... (*server)->port() ...
//   (*server)->Stop(); loop.join();
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "base/prometheus_text.h"
#include "controller/http/http_message.h"
#include "controller/http/request_parser.h"
#include "controller/http/stream_channel.h"
#include "controller/http/tls_context.h"
#include "controller/http/tls_session.h"

namespace dove::controller::http {

struct HttpServerOptions {
  int max_connections = 256;
  int reserved_connections = 16;
  std::vector<std::string> reserved_paths = {"/healthz", "/metrics"};
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds reserve_timeout{2000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{10000};
  int workers = 8;
  ParseLimits limits;
  std::shared_ptr<TlsContext> tls;  // null: plain HTTP; else https only
};

class HttpServer {
 public:
  // Answers a complete request; runs on a worker.
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  // Answers a request the server refuses itself with `status` (400/411/413/414/431/505 for
  // framing, 408 read timeout, 503 over the cap, 500 for a handler's exception); `request` is
  // what was parsed of it (maybe nothing). Sets the body; the status is already set. Runs on
  // the epoll thread or a worker.
  using ErrorHandler =
      std::function<void(const HttpRequest& request, std::string_view message, HttpResponse&)>;

  struct Stats {
    uint64_t accepted = 0;
    uint64_t refused_over_cap = 0;  // 503: beyond the cap (reserve or not)
    uint64_t read_timeouts = 0;     // 408
    uint64_t idle_closed = 0;       // keep-alive connections closed after idle_timeout
    uint64_t write_timeouts = 0;
    uint64_t bad_framing = 0;             // refused by ParseRequest
    uint64_t open = 0;                    // connections open now
    uint64_t streams_open = 0;            // streaming responses in progress
    uint64_t streams_dropped = 0;         // streams closed because the client did not keep up
    uint64_t tls_handshake_failures = 0;  // refused handshakes, plain HTTP on the TLS port
    uint64_t tls_handshake_timeouts = 0;  // handshakes not finished in time
  };

  // Binds and listens on host:port (port 0: any free one). Unexpected: one sentence.
  static Expected<std::unique_ptr<HttpServer>, std::string> Bind(const std::string& host, int port,
                                                                 HttpServerOptions options,
                                                                 Handler handler,
                                                                 ErrorHandler on_error);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Serves until Stop(): then stops accepting, closes idle connections, lets requests already
  // handed to workers finish and their answers go out (with Connection: close), and returns.
  void Run();
  void Stop();
  Stats stats() const;
  // Adds the Stats to a /metrics page (dove_http_connections_* ...).
  void AddMetrics(base::MetricsPage& page) const;

 private:
  struct Connection;
  struct Task;
  struct Done;
  using Clock = std::chrono::steady_clock;

  HttpServer(int listen_fd, int port, HttpServerOptions options, Handler handler,
             ErrorHandler on_error);
  void Accept();
  void OnReadable(Connection& connection);
  // TLS: drives the handshake; true once established (the connection may be gone otherwise).
  bool Handshake(Connection& connection);
  // The connection's socket, through TLS when it has a session: >0 bytes moved, -1 try again
  // on the events Rearm() asks for, 0 the peer closed or the connection failed.
  ssize_t Receive(Connection& connection, char* buffer, size_t size);
  ssize_t Transmit(Connection& connection, const char* data, size_t size);
  // Registers the events the connection's state (and a blocked TLS operation) waits for.
  void Rearm(Connection& connection);
  bool Alive(int fd, uint64_t id) const;
  void OnWritable(Connection& connection);
  void Process(Connection& connection);
  void Refuse(Connection& connection, const HttpRequest& request, int status,
              std::string_view message);
  void StartWrite(Connection& connection, std::string bytes, bool close);
  void FinishWrite(Connection& connection);
  void StartDrain(Connection& connection);
  // A streaming response's head is ready: the connection carries the channel from now on.
  void StartStream(Connection& connection, std::string head, std::shared_ptr<StreamChannel> stream,
                   bool chunked);
  // Writes what the channel holds, as far as the socket takes it; closes the connection when
  // the channel closed (or overflowed: counted) and everything before was written.
  void FlushStream(Connection& connection);
  // Drops a streaming client that did not keep up (counted).
  void DropStream(int fd);
  void Close(int fd);
  void SetEvents(Connection& connection, uint32_t events);
  void CollectDone();
  void Sweep();
  void WorkerLoop();
  void Wake() const;

  int listen_fd_;
  int port_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  HttpServerOptions options_;
  Handler handler_;
  ErrorHandler on_error_;

  std::atomic<bool> stopping_{false};
  bool listening_ = true;
  Clock::time_point accept_paused_until_{};
  uint64_t next_id_ = 1;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;  // by fd; epoll thread

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Task> tasks_;
  std::vector<Done> done_;
  std::vector<std::pair<int, uint64_t>> stream_ready_;  // (fd, id) whose channel has news
  bool workers_stop_ = false;
  std::vector<std::thread> workers_;

  mutable std::mutex stats_mutex_;
  Stats stats_;
};

}  // namespace dove::controller::http
