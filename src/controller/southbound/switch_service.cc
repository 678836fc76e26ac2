#include "controller/southbound/switch_service.h"

#include <malloc.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <utility>

#include "net/listen_address.h"
#include "store/watch.h"

namespace dove::controller::southbound {
namespace {

constexpr std::string_view kWatchPrefix = "/dove/v1/";

void Log(const std::string& line) {
  std::fprintf(stderr, "dove-controller: southbound: %s\n", line.c_str());
  std::fflush(stderr);
}

constexpr int kReadChunkBytes = 1024;

}  // namespace

// One switch's stream: reads one message at a time, writes one at a time from its queue.
class SwitchService::Stream final
    : public grpc::ServerBidiReactor<v1::SwitchMessage, v1::ControllerMessage> {
 public:
  Stream(SwitchService* service, SessionId session, std::optional<PeerIdentity> identity)
      : service_(service), session_(session), identity_(std::move(identity)) {}

  void Begin() { StartRead(&incoming_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the switch closed its side, or the stream broke
      Close(grpc::Status::OK);
      return;
    }
    const Clock::time_point received = Clock::now();
    last_received_.store(received.time_since_epoch().count(), std::memory_order_relaxed);
    const PeerIdentity* identity = identity_ ? &*identity_ : nullptr;
    if (service_->Receive(session_, identity, incoming_, received)) StartRead(&incoming_);
  }

  // When the stream last received a message (maybe still waiting for the service's mutex);
  // nullopt before the first. Any thread.
  std::optional<Clock::time_point> LastReceived() const {
    const auto ticks = last_received_.load(std::memory_order_relaxed);
    if (ticks == 0) return std::nullopt;
    return Clock::time_point(Clock::duration(ticks));
  }

  // Queues a message; drops it once the stream is finishing.
  void Send(v1::ControllerMessage message) {
    const v1::ControllerMessage* next = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (finish_requested_) return;
      queue_.push_back(std::move(message));
      if (writing_) return;
      writing_ = true;
      next = &queue_.front();  // deque: stays put while later ones are pushed
    }
    StartWrite(next);
  }

  // Ends the stream with `status` once the queued messages are written.
  void Close(grpc::Status status) {
    {
      std::lock_guard lock(mutex_);
      if (finish_requested_) return;
      finish_requested_ = true;
      final_status_ = std::move(status);
      if (writing_) return;  // OnWriteDone finishes
    }
    Finish(final_status_);
  }

  void OnWriteDone(bool ok) override {
    const v1::ControllerMessage* next = nullptr;
    bool finish = false;
    {
      std::lock_guard lock(mutex_);
      queue_.pop_front();
      if (!ok) {
        queue_.clear();
        if (!finish_requested_) {
          finish_requested_ = true;
          final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
        }
      }
      if (!queue_.empty()) {
        next = &queue_.front();
      } else {
        writing_ = false;
        finish = finish_requested_;
      }
    }
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(final_status_);
    }
  }

  void OnDone() override {
    service_->Forget(session_);
    delete this;
  }

 private:
  SwitchService* service_;
  SessionId session_;
  const std::optional<PeerIdentity> identity_;  // with TLS: the client certificate's names
  v1::SwitchMessage incoming_;
  std::atomic<Clock::rep> last_received_{0};
  std::mutex mutex_;
  std::deque<v1::ControllerMessage> queue_;
  bool writing_ = false;
  bool finish_requested_ = false;
  grpc::Status final_status_;
};

SwitchService::SwitchService(controller::Registry* registry, store::Store* store,
                             SouthboundOptions options)
    : registry_(registry),
      store_(store),
      options_(std::move(options)),
      watch_from_(registry->Revision() + 1),
      directory_(registry, store, options_.directory) {
  watcher_ = std::thread([this] { WatchLoop(); });
}

SwitchService::~SwitchService() { Stop(); }

void SwitchService::Stop() {
  stopping_ = true;
  if (watcher_.joinable()) watcher_.join();
}

grpc::ServerBidiReactor<v1::SwitchMessage, v1::ControllerMessage>* SwitchService::Connect(
    grpc::CallbackServerContext* context) {
  std::optional<PeerIdentity> identity;
  if (options_.tls) {
    // gRPC verified the certificate in the handshake; an absent context means no certificate,
    // and an empty identity allows no name.
    const auto auth = context->auth_context();
    identity = auth ? PeerIdentity::Of(*auth) : PeerIdentity{};
  }
  Stream* stream = nullptr;
  {
    std::lock_guard lock(mutex_);
    const SessionId session = next_session_++;
    stream = new Stream(this, session, std::move(identity));  // deletes itself in OnDone
    streams_[session] = stream;
  }
  stream->Begin();
  return stream;
}

bool SwitchService::Receive(SessionId session, const PeerIdentity* identity,
                            const v1::SwitchMessage& message, Clock::time_point received) {
  Output out;
  bool keep = true;
  unhandled_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    unhandled_.fetch_sub(1, std::memory_order_relaxed);
    if (identity != nullptr && message.has_hello() &&
        !identity->Allows(message.hello().switch_name())) {
      RefuseIdentity(session, *identity, message.hello());
      return false;
    }
    // Heard at its reception, not when the lock came free: waiting here is not silence.
    out = directory_.OnMessage(session, message, received);
    Dispatch(out);
    for (const auto& close : out.closes) {
      if (close.session == session) keep = false;
    }
  }
  // The stream reads its next message only after this returns: its Attach is answered before
  // anything it sends next, while every other stream goes on.
  Settle(out);
  return keep;
}

void SwitchService::Forget(SessionId session) {
  Output out;
  {
    std::lock_guard lock(mutex_);
    streams_.erase(session);
    out = directory_.OnDisconnect(session, Clock::now());
    Dispatch(out);
  }
  Settle(out);
}

void SwitchService::Settle(const Output& out) {
  for (const auto& write : out.endpoint_writes) {
    auto saved = PerformEndpointWrite(*registry_, write);
    std::lock_guard lock(mutex_);
    auto answered = directory_.OnEndpointWritten(write, saved);
    Dispatch(answered);
  }
  if (out.switch_writes) WriteSwitches();
}

void SwitchService::WriteSwitches() {
  std::lock_guard writing(switch_writes_mutex_);
  while (true) {
    std::vector<SwitchWrite> writes;
    {
      std::lock_guard lock(mutex_);
      writes = directory_.TakeSwitchWrites();
    }
    if (writes.empty()) return;
    for (const auto& write : writes) {
      const auto done = PerformSwitchWrite(*registry_, write);
      std::lock_guard lock(mutex_);
      auto answered = directory_.OnSwitchWritten(write, done);
      Dispatch(answered);
    }
  }
}

void SwitchService::Dispatch(Output& out) {
  for (const auto& line : out.logs) Log(line);
  // Moved, not copied: a NetworkConfig carrying a domain's routes is ~200 KB as a message, and
  // a thousand Hellos at once would otherwise hold each twice until its Receive returns.
  for (auto& outbound : out.messages) {
    if (auto it = streams_.find(outbound.session); it != streams_.end()) {
      it->second->Send(std::move(outbound.message));
    }
  }
  out.messages.clear();
  for (const auto& close : out.closes) {
    if (auto it = streams_.find(close.session); it != streams_.end()) {
      it->second->Close(grpc::Status(static_cast<grpc::StatusCode>(close.code), close.message));
    }
  }
}

void SwitchService::RefuseIdentity(SessionId session, const PeerIdentity& identity,
                                   const v1::Hello& hello) {
  const std::string why = identity.RefusalFor(hello.switch_name());
  Log("refused a Hello: " + why);
  auto it = streams_.find(session);
  if (it == streams_.end()) return;
  v1::ControllerMessage refusal;
  refusal.set_revision(registry_->Revision());
  refusal.mutable_error()->set_code("permission_denied");
  refusal.mutable_error()->set_message(why);
  it->second->Send(std::move(refusal));
  it->second->Close(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, why));
}

void SwitchService::WatchLoop() {
  std::unique_ptr<store::Watch> watch;
  int64_t from = watch_from_;
  while (!stopping_.load()) {
    if (!watch) {
      auto started = store_->StartWatch(std::string(kWatchPrefix), from);
      if (!started) {
        Log("cannot watch the store: " + started.error().Describe());
        std::this_thread::sleep_for(options_.tick);
        continue;
      }
      watch = std::move(*started);
    }
    pollfd poll_fd{watch->fd(), POLLIN, 0};
    ::poll(&poll_fd, 1, static_cast<int>(options_.tick.count()));
    auto events = watch->Poll();
    if (events && !events->empty()) {
      // The store notifies at commit; the registry shows the change a moment later (after
      // its index update, outside the store write). Read it only once it does.
      int64_t last = 0;
      for (const auto& event : *events) last = std::max(last, event.kv.mod_revision);
      if (!registry_->WaitForRevision(last, std::chrono::seconds(5))) {
        Log("store watch: the registry did not reach revision " + std::to_string(last) +
            " within 5 s; going on");
      }
    }
    Output ticked;
    {
      std::lock_guard lock(mutex_);
      if (events) {
        from = watch->next_revision();
        if (!events->empty()) {
          auto changed = directory_.OnStoreEvents(*events);
          Dispatch(changed);
        }
      } else if (events.error().code == store::StoreError::kClosed) {
        return;
      } else {
        // Compacted history: carry on from now; switches that missed it learn on reconnect.
        Log("store watch: " + events.error().Describe() + "; resuming from the current revision");
        from = registry_->Revision() + 1;
        watch.reset();
      }
      // Messages waiting for mutex_ now: the directory is the bottleneck, and streams whose
      // messages gRPC has not even handed over yet are not silent (Directory::OnTick). A
      // sample per tick: under a steady load short of saturation only some ticks find a
      // waiter, so a dead switch is found after about dead_after / (1 - share of ticks behind).
      // Waiting 100 ms or more instead (tried) is not enough: with 1000 streams and a few
      // gRPC threads, each message waits little while most streams are not read at all.
      const bool behind = unhandled_.load(std::memory_order_relaxed) > 0;
      ticked = directory_.OnTick(
          Clock::now(),
          [this](SessionId session) {
            auto it = streams_.find(session);  // mutex_ held: streams leave before they die
            return it == streams_.end() ? std::nullopt : it->second->LastReceived();
          },
          behind);
      Dispatch(ticked);
    }
    // Writes and compaction without the lock: resolves and heartbeats go on meanwhile.
    Settle(ticked);
    CompactHistory();
    if (options_.trim_interval.count() > 0 && Clock::now() - last_trim_ >= options_.trim_interval) {
      ::malloc_trim(0);
      last_trim_ = Clock::now();
    }
  }
}

void SwitchService::CompactHistory() {
  if (options_.history_revisions <= 0) return;
  auto compacted = store_->CompactedRevision();
  auto current = store_->CurrentRevision();
  if (!compacted || !current) return;
  // In steps of a tenth of the window, so the delete runs rarely.
  const int64_t keep = options_.history_revisions;
  if (*current - *compacted < keep + std::max<int64_t>(1, keep / 10)) return;
  if (auto done = store_->Compact(*current - keep); !done) {
    Log("store compaction: " + done.error().Describe());
  }
}

std::string SwitchService::MetricsText() {
  std::lock_guard lock(mutex_);
  std::string text;
  text += "# HELP dove_southbound_sessions Switch streams open.\n";
  text += "# TYPE dove_southbound_sessions gauge\n";
  text += "dove_southbound_sessions " + std::to_string(directory_.SessionCount()) + "\n";
  text +=
      "# HELP dove_southbound_cache_records Who cached what: one per (switch stream, endpoint) "
      "it resolved or listed in its Hello; freed when the stream ends.\n";
  text += "# TYPE dove_southbound_cache_records gauge\n";
  text += "dove_southbound_cache_records " + std::to_string(directory_.CacheRecords()) + "\n";
  const Directory::LivenessCounts liveness = directory_.LivenessChanges();
  text +=
      "# HELP dove_southbound_liveness_changes_total Switches marked DOWN (silent for dead_after, "
      "stream ended, no Hello after a start) and UP again.\n";
  text += "# TYPE dove_southbound_liveness_changes_total counter\n";
  text += "dove_southbound_liveness_changes_total{state=\"down\"} " +
          std::to_string(liveness.down) + "\n";
  text +=
      "dove_southbound_liveness_changes_total{state=\"up\"} " + std::to_string(liveness.up) + "\n";
  const SyncCounts syncs = directory_.Syncs();
  text += "# HELP dove_southbound_syncs_total Hellos answered, by how the switch caught up.\n";
  text += "# TYPE dove_southbound_syncs_total counter\n";
  text += "dove_southbound_syncs_total{kind=\"incremental\"} " + std::to_string(syncs.incremental) +
          "\n";
  text += "dove_southbound_syncs_total{kind=\"snapshot\"} " + std::to_string(syncs.snapshot) + "\n";
  text +=
      "# HELP dove_southbound_refused_total Requests refused because they named a network or "
      "an endpoint the switch does not serve (or that does not exist), by switch and kind.\n";
  text += "# TYPE dove_southbound_refused_total counter\n";
  for (const auto& [name, kinds] : directory_.Refused()) {
    for (const auto& [kind, count] : kinds) {
      text += "dove_southbound_refused_total{switch=\"";
      text += name;
      text += "\",kind=\"";
      text += kind;
      text += "\"} ";
      text += std::to_string(count);
      text += "\n";
    }
  }
  text += "# HELP dove_switch_counter The last statistics summary each connected switch sent.\n";
  text += "# TYPE dove_switch_counter gauge\n";
  for (const auto& [name, summary] : directory_.Stats()) {
    std::map<std::string, uint64_t> sorted(summary.counters().begin(), summary.counters().end());
    for (const auto& [counter, value] : sorted) {
      text += "dove_switch_counter{switch=\"";
      text += name;
      text += "\",name=\"";
      text += counter;
      text += "\"} ";
      text += std::to_string(value);
      text += "\n";
    }
  }
  return text;
}

Expected<std::unique_ptr<SouthboundServer>, std::string> SouthboundServer::Start(
    controller::Registry* registry, store::Store* store, const std::string& host, int port,
    SouthboundOptions options) {
  auto server = std::unique_ptr<SouthboundServer>(new SouthboundServer());
  const int max_bytes = static_cast<int>(options.max_message_bytes);
  grpc::ServerBuilder builder;
  const std::string requested = net::FormatHostPort(host, port);
  int bound = 0;
  const bool tls = options.tls.has_value();
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options.tls->client_ca_pem;
    ssl.pem_key_cert_pairs.push_back({options.tls->key_pem, options.tls->cert_chain_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  server->service_ = std::make_unique<SwitchService>(registry, store, std::move(options));
  builder.AddListeningPort(requested, credentials, &bound);
  builder.SetMaxReceiveMessageSize(max_bytes);
  // Each connection keeps a read buffer of this size allocated while it waits for data; gRPC
  // grows it (up to 4 MB) when reads fill it, and lets it shrink back with small reads. A
  // switch sends small messages (a Hello listing its cache is the largest), so start at 1 KiB
  // instead of gRPC's 8 KiB: 7 KiB less per connected switch.
  builder.AddChannelArgument(GRPC_ARG_TCP_READ_CHUNK_SIZE, kReadChunkBytes);
  // Small messages: no bandwidth-delay probes (a PING and its answer next to the resolves; the
  // switch turns them off too, dove-switch's controller_client.cc).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || bound == 0) {
    server->service_->Stop();
    return Unexpected<std::string>(
        "cannot listen on " + requested + " (address in use, not local, or not permitted" +
        (tls ? "; or the TLS certificate, key or client CA is not valid PEM)" : ")"));
  }
  server->port_ = bound;
  server->tls_ = tls;
  server->address_ = net::FormatHostPort(host, bound);
  Log(tls ? "TLS; switches need a client certificate naming them"
          : "plaintext (--southbound-plaintext): any client may claim any switch name");
  return server;
}

SouthboundServer::~SouthboundServer() {
  if (server_) {
    // Cancels the streams still open; their reactors finish and delete themselves.
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }
  if (service_) service_->Stop();
}

}  // namespace dove::controller::southbound
