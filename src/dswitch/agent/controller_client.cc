#include "dswitch/agent/controller_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "dswitch/agent/channel_credentials.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::agent {
namespace {

using dove::v1::ControllerMessage;
using dove::v1::SwitchMessage;

constexpr auto kStopCheckPeriod = std::chrono::milliseconds(50);
// Hello lists at most this many cached endpoints (the rest are resolved again on demand); it
// keeps a Hello under the controller's 1 MiB message limit.
constexpr size_t kMaxHelloCachedIds = 50000;
// The controller's limit on the messages of one SwitchBatch.
constexpr size_t kMaxBatchMessages = 1000;

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ClientOptions& options) {
  grpc::ChannelArguments args;
  if (!options.plaintext && !options.tls.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.tls.server_name_override);
  }
  // A fresh channel per attempt with its own subchannels: gRPC's global subchannel pool would
  // otherwise carry a previous attempt's reconnect backoff (up to 120 s) into this one, and
  // our own Backoff decides when to retry.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // No bandwidth-delay probing: the stream carries small messages, and each probe is a PING
  // and its answer on both ends (a send, a wake-up of the other side), next to the resolves a
  // first packet waits for (docs/benchmarks.md, "First packet").
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  return grpc::CreateCustomChannel(address, credentials, args);
}

ResolveResult FromReply(const dove::v1::ResolveReply& reply) {
  switch (reply.status()) {
    case dove::v1::ResolveReply::STATUS_FOUND:
      if (reply.has_location()) return reply.location();
      return Unexpected(ResolveError{ResolveError::Code::kNotFound, "FOUND without a location"});
    case dove::v1::ResolveReply::STATUS_DENIED:
      return Unexpected(ResolveError{ResolveError::Code::kDenied, reply.reason()});
    default:
      return Unexpected(ResolveError{ResolveError::Code::kNotFound, reply.reason()});
  }
}

}  // namespace

ControllerClient::ControllerClient(ClientOptions options) : options_(std::move(options)) {
  state_.heartbeat_interval = options_.default_heartbeat_interval;
  if (auto credentials = ChannelCredentialsFor(options_); credentials) {
    credentials_ = std::move(*credentials);
  } else {
    state_.last_error = credentials.error();
  }
}

ControllerClient::~ControllerClient() { Stop(); }

void ControllerClient::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_ || !credentials_) return;
  started_ = true;
  worker_ = std::thread([this] { RunWorker(); });
  timer_ = std::thread([this] { RunTimer(); });
}

void ControllerClient::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (timer_.joinable()) timer_.join();
  std::vector<Completion> completions;
  {
    std::lock_guard lock(mu_);
    completions = TakeAllPending({ResolveError::Code::kStopped, "the client stopped"});
  }
  Complete(std::move(completions));
}

void ControllerClient::RunWorker() {
  Backoff backoff(options_.backoff);
  for (;;) {
    bool welcomed = false;
    for (const std::string& address : options_.controllers) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      welcomed = RunStream(address);
      if (welcomed) break;  // it worked for a while: the next round starts from the first
    }
    if (welcomed) backoff.Reset();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, backoff.Next(), [this] { return stopping_; })) return;
  }
}

bool ControllerClient::RunStream(const std::string& address) {
  {
    std::lock_guard lock(mu_);
    ++state_.attempts;
  }
  auto fail = [&](const std::string& why) {
    std::string line;
    {
      std::lock_guard lock(mu_);
      state_.last_error = address + ": " + why;
      if (last_unreachable_ != state_.last_error) {
        last_unreachable_ = state_.last_error;
        line = "controller unreachable: " + state_.last_error;
      }
    }
    if (!line.empty()) Log(line);
  };

  // Connect first, bounded: a refused connection fails in milliseconds, a silent address
  // after connect_timeout, and Stop() is noticed within kStopCheckPeriod.
  auto channel = MakeChannel(address, credentials_, options_);
  const auto deadline = Clock::now() + options_.connect_timeout;
  grpc_connectivity_state connectivity = channel->GetState(/*try_to_connect=*/true);
  while (connectivity != GRPC_CHANNEL_READY) {
    if (connectivity == GRPC_CHANNEL_TRANSIENT_FAILURE || connectivity == GRPC_CHANNEL_SHUTDOWN) {
      fail("unreachable");
      return false;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
    if (Clock::now() >= deadline) {
      fail("connect timeout");
      return false;
    }
    // gRPC takes system_clock deadlines only.
    const auto slice = std::min<Clock::duration>(deadline - Clock::now(), kStopCheckPeriod);
    channel->WaitForStateChange(connectivity, std::chrono::system_clock::now() + slice);
    connectivity = channel->GetState(/*try_to_connect=*/true);
  }

  auto stub = dove::v1::SwitchService::NewStub(channel);
  grpc::ClientContext context;
  SwitchMessage hello;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    context_ = &context;
    welcomed_ = false;
    welcome_overdue_ = false;
    controller_silent_ = false;
    stream_refusal_.clear();
    stream_started_ = Clock::now();
    hello.mutable_hello()->set_last_revision(cache_.last_revision());
    for (auto& id : cache_.EndpointIds(kMaxHelloCachedIds)) {
      hello.mutable_hello()->add_cached_endpoint_ids(std::move(id));
    }
    last_heard_ = Clock::now();
  }
  cv_.notify_all();  // the timer watches for the Welcome
  hello.mutable_hello()->set_switch_name(options_.switch_name);
  hello.mutable_hello()->set_tunnel_ip(options_.tunnel_ip);
  hello.mutable_hello()->set_software_version(options_.software_version);
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_accepts_batches(true);

  std::unique_ptr<Stream> stream = stub->Connect(&context);
  {
    std::lock_guard lock(write_mu_);
    stream_ = stream.get();
  }
  if (Write(hello)) {
    ControllerMessage message;
    while (stream->Read(&message)) Handle(message, address);
  }
  {
    std::lock_guard lock(write_mu_);
    stream_ = nullptr;
  }
  context.TryCancel();  // the controller may still think the stream open if only Write failed
  const grpc::Status status = stream->Finish();

  std::vector<Completion> completions;
  bool welcomed = false;
  std::string line;
  {
    std::lock_guard lock(mu_);
    context_ = nullptr;
    const bool had_welcome = welcomed_;
    // A controller that went silent counts as a failed attempt: the round goes on to the
    // next address instead of starting again from this one.
    welcomed = welcomed_ && !controller_silent_;
    welcomed_ = false;
    state_.controller = "none";
    if (!stream_refusal_.empty()) {
      state_.last_error = address + ": refused: " + stream_refusal_;
    } else if (welcome_overdue_) {
      state_.last_error = address + ": no Welcome within connect_timeout";
    } else if (controller_silent_) {
      state_.last_error = address + ": the controller was silent for " +
                          std::to_string(silent_after_.count()) + " ms";
    } else if (!stopping_) {
      state_.last_error =
          address + ": stream ended: " +
          (status.ok() ? std::string("by the controller")
                       : std::to_string(status.error_code()) + " " + status.error_message());
    }
    if (had_welcome && !stopping_) {
      line = "disconnected from " + state_.last_error;
    } else if (!had_welcome && stream_refusal_.empty() && !stopping_ &&
               last_unreachable_ != state_.last_error) {
      last_unreachable_ = state_.last_error;
      line = "controller unreachable: " + state_.last_error;
    }
    completions =
        TakeAllPending({ResolveError::Code::kUnavailable, "the stream to the controller ended"});
  }
  if (!line.empty()) Log(line);
  Complete(std::move(completions));
  return welcomed;
}

void ControllerClient::Handle(const ControllerMessage& message, const std::string& address) {
  if (message.has_batch()) {
    for (const auto& each : message.batch().messages()) {
      if (!each.has_batch()) Handle(each, address);  // never nested by the controller
    }
    return;
  }
  std::vector<Completion> completions;
  bool changed = false;
  std::string line;
  {
    std::lock_guard lock(mu_);
    // SyncDone changes no entry but ends a catch-up: the switch waits for it before it
    // reconciles its ports, so it is a change for on_change.
    const bool sync_done = message.body_case() == ControllerMessage::kSyncDone;
    const bool in_catch_up = cache_.syncing() || message.body_case() == ControllerMessage::kWelcome;
    CacheChanges changes;
    changed = cache_.Apply(message, &changes) || sync_done;
    if (in_catch_up) {
      catch_up_changes_.Merge(changes);
      if (sync_done) {
        if (!catch_up_changes_.empty() && options_.on_delta) {
          options_.on_delta(cache_, catch_up_changes_);
        }
        catch_up_changes_ = CacheChanges();
      }
    } else if (!changes.empty() && options_.on_delta) {
      options_.on_delta(cache_, changes);
    }
    last_heard_ = Clock::now();
    switch (message.body_case()) {
      case ControllerMessage::kWelcome: {
        const auto& welcome = message.welcome();
        welcomed_ = true;
        ++state_.connections;
        state_.controller = address;
        state_.switch_id = welcome.switch_id();
        state_.refusal.clear();
        last_unreachable_.clear();
        line = "connected to " + address + " (switch id " + welcome.switch_id() + ")";
        state_.heartbeat_interval = welcome.heartbeat_interval_ms() > 0
                                        ? std::chrono::milliseconds(welcome.heartbeat_interval_ms())
                                        : options_.default_heartbeat_interval;
        next_heartbeat_ = Clock::now() + state_.heartbeat_interval;
        silent_after_ = welcome.dead_after_ms() > 0
                            ? std::chrono::milliseconds(welcome.dead_after_ms())
                            : 3 * state_.heartbeat_interval;
        break;
      }
      case ControllerMessage::kResolveReply: {
        auto it = pending_.find(message.resolve_reply().query_id());
        if (it != pending_.end()) {
          completions.emplace_back(std::move(it->second.done), FromReply(message.resolve_reply()));
          pending_.erase(it);
        }
        break;
      }
      case ControllerMessage::kError: {
        const auto& refusal = message.error();
        state_.last_error = "refused: " + refusal.code() + ": " + refusal.message();
        if (!refusal.endpoint_id().empty()) state_.last_error += " (" + refusal.endpoint_id() + ")";
        if (!welcomed_) {  // the Hello's: the stream ends next
          stream_refusal_ = refusal.code() + ": " + refusal.message();
          state_.refusal = stream_refusal_;
        }
        if (refusal.query_id() == 0) {
          line = "refused by " + address + ": " + refusal.code() + ": " + refusal.message();
          if (!refusal.endpoint_id().empty()) line += " (" + refusal.endpoint_id() + ")";
        }
        auto it = refusal.query_id() != 0 ? pending_.find(refusal.query_id()) : pending_.end();
        if (it != pending_.end()) {
          completions.emplace_back(
              std::move(it->second.done),
              Unexpected(ResolveError{ResolveError::Code::kRefused,
                                      refusal.code() + ": " + refusal.message()}));
          pending_.erase(it);
        }
        break;
      }
      default:
        break;
    }
  }
  if (message.body_case() == ControllerMessage::kTrace) {
    const std::string refused = CheckTraceOrder(message.trace());
    if (!refused.empty() || !options_.on_trace) {
      dove::v1::TraceReport report;
      report.set_trace_id(message.trace().trace_id());
      report.set_source(message.trace().inject());
      report.set_armed(!message.trace().inject());
      report.set_error(!refused.empty() ? "the order is refused: " + refused
                                        : "this switch does not run live traces");
      (void)ReportTrace(report);
    } else {
      options_.on_trace(message.trace());
    }
  }
  // Only a Welcome changes the timer's schedule (it starts the heartbeats). Any other message
  // wakes no thread but the resolve's own: a first packet waits for one wake-up fewer.
  if (message.body_case() == ControllerMessage::kWelcome) cv_.notify_all();
  if (!line.empty()) Log(line);
  if (changed && options_.on_change) options_.on_change();
  Complete(std::move(completions));
}

void ControllerClient::RunTimer() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    std::vector<Completion> completions;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        completions.emplace_back(std::move(it->second.done),
                                 Unexpected(ResolveError{ResolveError::Code::kTimeout,
                                                         "no answer from the controller"}));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (context_ != nullptr && !welcomed_ && !welcome_overdue_ &&
        stream_started_ + options_.connect_timeout <= now) {
      welcome_overdue_ = true;
      context_->TryCancel();
    }
    // The controller answers every heartbeat: silence for dead_after means a dead stream
    // (a hung controller or a path that drops everything), so try the next one.
    if (context_ != nullptr && welcomed_ && !controller_silent_ &&
        last_heard_ + silent_after_ <= now) {
      controller_silent_ = true;
      context_->TryCancel();
    }
    bool beat = false;
    SwitchMessage heartbeat;
    if (welcomed_ && next_heartbeat_ <= now) {
      beat = true;
      heartbeat.mutable_heartbeat()->set_sequence(++heartbeat_sequence_);
      next_heartbeat_ = now + state_.heartbeat_interval;
    }
    if (beat || !completions.empty()) {
      lock.unlock();
      Complete(std::move(completions));
      if (beat) Write(heartbeat);
      lock.lock();
      continue;
    }
    auto wake = now + std::chrono::seconds(1);
    if (welcomed_) wake = std::min({wake, next_heartbeat_, last_heard_ + silent_after_});
    if (context_ != nullptr && !welcomed_ && !welcome_overdue_) {
      wake = std::min(wake, stream_started_ + options_.connect_timeout);
    }
    for (const auto& [id, pending] : pending_) wake = std::min(wake, pending.deadline);
    timer_wakes_at_ = wake;
    cv_.wait_until(lock, wake);
    timer_wakes_at_ = Clock::time_point::min();  // awake: it looks at every deadline
  }
}

void ControllerClient::Resolve(uint32_t vni, std::string_view mac, ResolveCallback done) {
  std::optional<CachedEndpoint> hit;
  {
    std::lock_guard lock(mu_);
    hit = cache_.Lookup(vni, mac);
  }
  if (hit) {
    done(std::move(hit->location));
    return;
  }
  SwitchMessage message;
  message.mutable_resolve_mac()->set_vni(vni);
  message.mutable_resolve_mac()->set_mac(std::string(mac));
  SendQuery(std::move(message), std::move(done));
}

void ControllerClient::ResolveIp(uint32_t vni, std::string_view ip, ResolveCallback done) {
  std::optional<CachedEndpoint> hit;
  {
    std::lock_guard lock(mu_);
    hit = cache_.LookupIp(vni, ip);
  }
  if (hit) {
    done(std::move(hit->location));
    return;
  }
  SwitchMessage message;
  message.mutable_resolve_ip()->set_vni(vni);
  message.mutable_resolve_ip()->set_ip(std::string(ip));
  SendQuery(std::move(message), std::move(done));
}

std::future<ResolveResult> ControllerClient::Resolve(uint32_t vni, std::string_view mac) {
  auto promise = std::make_shared<std::promise<ResolveResult>>();
  auto future = promise->get_future();
  Resolve(vni, mac, [promise](ResolveResult result) { promise->set_value(std::move(result)); });
  return future;
}

std::future<ResolveResult> ControllerClient::ResolveIp(uint32_t vni, std::string_view ip) {
  auto promise = std::make_shared<std::promise<ResolveResult>>();
  auto future = promise->get_future();
  ResolveIp(vni, ip, [promise](ResolveResult result) { promise->set_value(std::move(result)); });
  return future;
}

void ControllerClient::SendQuery(SwitchMessage message, ResolveCallback done) {
  uint64_t query_id = 0;
  ResolveError error;
  Pending pending{Clock::now() + options_.resolve_timeout, std::move(done)};
  bool wake_timer = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      error = {ResolveError::Code::kStopped, "the client stopped"};
    } else if (!welcomed_) {
      error = {ResolveError::Code::kUnavailable, "not cached and no controller connected"};
    } else {
      query_id = next_query_id_++;
      // The timer sleeps until its earliest deadline: woken only when this one is earlier
      // (rare: the timeout is long), not once per query.
      wake_timer = pending.deadline < timer_wakes_at_;
      std::swap(pending_[query_id], pending);
    }
  }
  if (query_id == 0) {
    pending.done(Unexpected(std::move(error)));
    return;
  }
  if (message.has_resolve_mac()) message.mutable_resolve_mac()->set_query_id(query_id);
  if (message.has_resolve_ip()) message.mutable_resolve_ip()->set_query_id(query_id);
  if (wake_timer) cv_.notify_all();
  if (Write(message)) return;
  std::vector<Completion> completions;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(query_id);
    if (it != pending_.end()) {
      completions.emplace_back(std::move(it->second.done),
                               Unexpected(ResolveError{ResolveError::Code::kUnavailable,
                                                       "the stream to the controller broke"}));
      pending_.erase(it);
    }
  }
  Complete(std::move(completions));
}

bool ControllerClient::Write(const SwitchMessage& message) {
  std::lock_guard lock(write_mu_);
  if (stream_ == nullptr) return false;
  return stream_->Write(message);
}

Expected<void, std::string> ControllerClient::Attach(std::string_view endpoint_id,
                                                     std::string_view port_name, uint32_t version) {
  SwitchMessage message;
  message.mutable_attach()->set_endpoint_id(std::string(endpoint_id));
  message.mutable_attach()->set_port_name(std::string(port_name));
  message.mutable_attach()->set_version(version);
  if (!Write(message)) return Unexpected(std::string("no controller connected"));
  return {};
}

Expected<void, std::string> ControllerClient::AttachAll(const std::vector<PortAttach>& attaches) {
  if (attaches.size() == 1) {
    return Attach(attaches[0].endpoint_id, attaches[0].port_name, attaches[0].version);
  }
  for (size_t start = 0; start < attaches.size(); start += kMaxBatchMessages) {
    SwitchMessage message;
    auto* batch = message.mutable_batch();
    for (size_t i = start; i < std::min(attaches.size(), start + kMaxBatchMessages); ++i) {
      auto* attach = batch->add_messages()->mutable_attach();
      attach->set_endpoint_id(attaches[i].endpoint_id);
      attach->set_port_name(attaches[i].port_name);
      attach->set_version(attaches[i].version);
    }
    if (!Write(message)) return Unexpected(std::string("no controller connected"));
  }
  return {};
}

Expected<void, std::string> ControllerClient::Detach(std::string_view endpoint_id,
                                                     uint32_t version) {
  SwitchMessage message;
  message.mutable_detach()->set_endpoint_id(std::string(endpoint_id));
  message.mutable_detach()->set_version(version);
  if (!Write(message)) return Unexpected(std::string("no controller connected"));
  return {};
}

Expected<void, std::string> ControllerClient::ReportStats(
    const std::map<std::string, uint64_t>& counters) {
  SwitchMessage message;
  message.mutable_stats()->mutable_counters()->insert(counters.begin(), counters.end());
  if (!Write(message)) return Unexpected(std::string("no controller connected"));
  return {};
}

Expected<void, std::string> ControllerClient::ReportTrace(const dove::v1::TraceReport& report) {
  SwitchMessage message;
  *message.mutable_trace_report() = report;
  if (!Write(message)) return Unexpected(std::string("no controller connected"));
  return {};
}

std::string ControllerClient::CheckTraceOrder(const dove::v1::TraceOrder& order) {
  using Order = dove::v1::TraceOrder;
  if (order.marker().size() != 16) return "the marker is not 16 bytes";
  if (order.timeout_ms() < 1 || order.timeout_ms() > 10000) {
    return "timeout_ms is not within 1..10000";
  }
  if (!order.inject()) return {};
  if (order.endpoint_id().empty()) return "an order to inject names no endpoint";
  switch (order.kind()) {
    case Order::KIND_ICMP:
    case Order::KIND_ARP:
      if (order.ip().empty()) return "an icmp or arp trace names no IP";
      break;
    case Order::KIND_TCP:
      if (order.ip().empty() || order.port() == 0 || order.port() > 65535) {
        return "a tcp trace needs an IP and a port of 1..65535";
      }
      break;
    case Order::KIND_UDP:
      if (order.ip().empty() == order.mac().empty() || order.port() > 65535) {
        return "a udp trace needs an IP or a MAC (one of them) and a port of 0..65535";
      }
      break;
    default:
      return "the order names no packet kind";
  }
  if (!order.ip().empty() && !net::IpAddress::Parse(order.ip())) return "the IP does not parse";
  if (!order.mac().empty() && !net::MacAddress::Parse(order.mac())) return "the MAC does not parse";
  return {};
}

ClientState ControllerClient::State() const {
  std::lock_guard lock(mu_);
  ClientState state = state_;
  state.cache_size = cache_.size();
  state.last_revision = cache_.last_revision();
  state.pending_queries = pending_.size();
  return state;
}

CacheDump ControllerClient::DumpCache() const {
  std::lock_guard lock(mu_);
  return cache_.Dump();
}

void ControllerClient::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

std::vector<ControllerClient::Completion> ControllerClient::TakeAllPending(
    const ResolveError& error) {
  std::vector<Completion> completions;
  for (auto& [id, pending] : pending_) {
    completions.emplace_back(std::move(pending.done), Unexpected(error));
  }
  pending_.clear();
  return completions;
}

void ControllerClient::Complete(std::vector<Completion>&& completions) {
  for (auto& [done, result] : completions) done(std::move(result));
}

}  // namespace dove::dswitch::agent
