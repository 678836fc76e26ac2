// ControllerClient: the switch's side of SwitchService.Connect (proto/dove/v1/switch.proto).
//
// Owns one stream to one controller at a time, and the EndpointCache it fills. Start() spawns
// the background work: connect to the first reachable address of ClientOptions::controllers,
// send Hello with the cache's last_revision() and the ids of the endpoints it caches (so the
// controller sends only what changed since, and keeps pushing their updates), apply every
// ControllerMessage to the cache in stream order, send Heartbeats at the interval the Welcome gave.
// When the stream ends (or no address connects) it waits a Backoff delay (reset after each Welcome)
// and starts a new round from the first address. Meanwhile the cache keeps serving: a switch
// without a controller
// ("headless") still forwards to every endpoint it already knows.
//
// Resolve / ResolveIp answer from the cache when the endpoint is there (the callback runs
// before the call returns); otherwise they send ResolveMac / ResolveIp with a fresh query id
// and the callback runs when the ResolveReply or a Refusal with that id arrives, after
// resolve_timeout (kTimeout), when the stream breaks (kUnavailable) or at Stop() (kStopped).
// Without a controller a miss fails at once with kUnavailable. Every callback runs exactly once.
// A FOUND reply is cached, so the next Resolve of it is a hit.
//
// Attach / Detach send the message when a controller is connected (error text otherwise); a
// Refusal of them shows in State().last_error. AttachAll sends several Attaches as one
// SwitchBatch (the ports re-attached after a reconnect: one message for the controller to read,
// not one per port).
//
// Batches: the Hello says accepts_batches, and a ControllerBatch is handled as its messages
// one after the other (a nested batch, which the controller never sends, is ignored).
//
// A refused Hello: the controller sends a Refusal, then ends the stream. Its reason stays in
// State().refusal and State().last_error ("ADDR: refused: code: message") until a Welcome,
// and goes to ClientOptions::log, as do connections, disconnections and unreachable rounds.
//
// Threading: every public method is thread-safe. Callbacks run on the caller's thread (cache
// hit, immediate failure), the stream's reader thread (replies, refusals, a broken stream) or
// the timer thread (timeouts, Stop); they must not block and must not call Stop().
// ClientOptions::on_delta runs on the reader thread with the client's lock held (the
// cache it reads cannot change meanwhile): it must not call the client at all.
// Internally: one worker thread connects and reads the stream (gRPC's synchronous API);
// writes (Hello, Heartbeat, Resolve*, Attach, Detach) from any thread are serialized by a
// mutex; one timer thread sends heartbeats and expires queries. Why the synchronous API and
// not grpc::ClientBidiReactor: the traffic is a control plane (a few messages per second),
// one reader thread per client is cheap, and plain blocking Read/Write with a write mutex
// leaves no reactor lifetime (OnDone vs. destruction) or single-outstanding-write queue to
// get wrong; reconnection is a plain loop. A blocked Write (HTTP/2 flow control) delays other
// writers, never the reader.
//
// A controller that accepts the stream but sends no Welcome within connect_timeout is given up
// like an unreachable one (the next address is tried); so is one that, after its Welcome, sends
// nothing (not even the answer to a Heartbeat) for the Welcome's dead_after_ms: the round
// goes on with the next address.
//
// Security: TLS with the switch's certificate unless ClientOptions::plaintext (see
// client_options.h). The TLS files are read once, in the constructor; when one cannot be read
// the client never connects: State().last_error says which file and why, Start() starts
// nothing, and every Resolve miss fails with kUnavailable. A controller whose certificate the
// CA did not sign is unreachable (the handshake fails; the next address is tried).
//
// Not yet: retrying queries across a reconnect.
//
//   ControllerClient client({.controllers = {"ctl:8741"}, .switch_name = "host-17",
//                            .tunnel_ip = "192.0.2.17", .plaintext = true});
//   client.Start();
//   auto where = client.Resolve(100, "52:54:00:12:34:56").get();
//   if (where) Encapsulate(frame, where->tunnel_ip());
//   std::cout << client.State().controller;  // "ctl:8741" or "none"
#pragma once

#include <grpcpp/security/credentials.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "dove/v1/switch.grpc.pb.h"
#include "dswitch/agent/client_options.h"
#include "dswitch/agent/endpoint_cache.h"
#include "dswitch/agent/resolve_result.h"

namespace dove::dswitch::agent {

// A snapshot of the client for logs, status commands and tests.
struct ClientState {
  std::string controller = "none";  // the address of the welcoming controller, or "none"
  std::string switch_id;            // from the last Welcome
  uint64_t attempts = 0;            // connection attempts so far (one per address tried)
  uint64_t connections = 0;         // Welcomes received so far
  std::string last_error;           // the last failure or refusal, "" when none yet
  // Why the controller refused this switch's last Hello ("code: message", e.g. a certificate
  // that does not name it, its tunnel IP held by another switch, a protocol version it does
  // not speak); "" once a Welcome came.
  std::string refusal;
  size_t cache_size = 0;      // cached remote endpoints
  int64_t last_revision = 0;  // the cache's last_revision()
  std::chrono::milliseconds heartbeat_interval{0};
  size_t pending_queries = 0;  // resolves sent and not answered yet
};

class ControllerClient {
 public:
  using ResolveCallback = std::function<void(ResolveResult)>;

  explicit ControllerClient(ClientOptions options);
  ~ControllerClient();  // Stop()s
  ControllerClient(const ControllerClient&) = delete;
  ControllerClient& operator=(const ControllerClient&) = delete;

  // Starts the background threads; once. Before Start() Resolve misses fail kUnavailable.
  // Does nothing when the TLS files could not be read (State().last_error says why).
  void Start();
  // Ends the stream, joins the threads, fails pending resolves with kStopped. Idempotent.
  void Stop();

  void Resolve(uint32_t vni, std::string_view mac, ResolveCallback done);
  void ResolveIp(uint32_t vni, std::string_view ip, ResolveCallback done);
  std::future<ResolveResult> Resolve(uint32_t vni, std::string_view mac);
  std::future<ResolveResult> ResolveIp(uint32_t vni, std::string_view ip);

  Expected<void, std::string> Attach(std::string_view endpoint_id, std::string_view port_name,
                                     uint32_t version);
  struct PortAttach {
    std::string endpoint_id;
    std::string port_name;
    uint32_t version = 0;
  };
  // In order, in SwitchBatches of at most 1,000 (the controller's limit); one Attach alone.
  Expected<void, std::string> AttachAll(const std::vector<PortAttach>& attaches);
  Expected<void, std::string> Detach(std::string_view endpoint_id, uint32_t version);
  // Sends a StatsSummary (counter names [a-z0-9_]{1,64}, at most 256; a bad one is refused and
  // shows in State().last_error). The controller shows the last one on its /metrics.
  Expected<void, std::string> ReportStats(const std::map<std::string, uint64_t>& counters);
  // Sends what the switch did in a live trace (v1::TraceReport).
  Expected<void, std::string> ReportTrace(const dove::v1::TraceReport& report);
  // Why `order` cannot be run (one sentence), or empty: a marker of 16 bytes, a timeout of
  // 1..10,000 ms, and with inject an endpoint, a kind, and the destination its kind needs.
  static std::string CheckTraceOrder(const dove::v1::TraceOrder& order);

  ClientState State() const;
  CacheDump DumpCache() const;

 private:
  using Stream = grpc::ClientReaderWriter<dove::v1::SwitchMessage, dove::v1::ControllerMessage>;
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Clock::time_point deadline;
    ResolveCallback done;
  };
  using Completion = std::pair<ResolveCallback, ResolveResult>;

  void RunWorker();
  void RunTimer();
  // Connects to `address` and runs the stream until it ends; returns whether a Welcome came.
  bool RunStream(const std::string& address);
  void Handle(const dove::v1::ControllerMessage& message, const std::string& address);
  void Log(const std::string& line) const;
  // Sends a miss to the controller (`message` has its query id set by this).
  void SendQuery(dove::v1::SwitchMessage message, ResolveCallback done);
  bool Write(const dove::v1::SwitchMessage& message);
  // Removes every pending query, to be failed with `error` (call with mu_ held).
  std::vector<Completion> TakeAllPending(const ResolveError& error);
  static void Complete(std::vector<Completion>&& completions);

  const ClientOptions options_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;  // null: TLS files unreadable

  mutable std::mutex mu_;  // guards everything below up to write_mu_
  std::condition_variable cv_;
  EndpointCache cache_;
  // What the current catch-up changed so far (kept across a stream cut before SyncDone).
  CacheChanges catch_up_changes_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_query_id_ = 1;
  bool started_ = false;
  bool stopping_ = false;
  bool welcomed_ = false;                   // a Welcome came on the current stream
  Clock::time_point stream_started_{};      // of the current stream
  bool welcome_overdue_ = false;            // the timer cancelled it: no Welcome in time
  grpc::ClientContext* context_ = nullptr;  // the current stream's, to cancel it
  ClientState state_;
  Clock::time_point next_heartbeat_{};
  // When the timer thread will wake by itself; min() while it is awake (it then sees every
  // deadline before it sleeps again).
  Clock::time_point timer_wakes_at_ = Clock::time_point::min();
  Clock::time_point last_heard_{};                // the last message from the controller
  std::chrono::milliseconds silent_after_{3000};  // Welcome.dead_after_ms
  bool controller_silent_ = false;                // the timer cancelled it: silence
  uint64_t heartbeat_sequence_ = 0;
  std::string stream_refusal_;    // the Refusal of the current stream's Hello, if any
  std::string last_unreachable_;  // the last "unreachable" line logged ("" after a Welcome)

  std::mutex write_mu_;       // serializes writes; guards stream_
  Stream* stream_ = nullptr;  // the current stream, null between streams

  std::thread worker_;
  std::thread timer_;
};

}  // namespace dove::dswitch::agent
