#include "controller/southbound/switch_service.h"

#include <google/protobuf/unknown_field_set.h>
#include <malloc.h>
#include <poll.h>

#include <algorithm>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <span>
#include <utility>

#include "base/log.h"
#include "controller/southbound/message_check.h"
#include "controller/southbound/stats_families.h"
#include "controller/southbound/wire.h"
#include "controller/store_keys.h"
#include "net/listen_address.h"
#include "store/watch.h"

namespace dove::controller::southbound {
namespace {

constexpr std::string_view kWatchPrefix = "/dove/v1/";

// A line of the directory's: a switch's lifecycle (info), or what it refused or could not do
// (warning).
void LogDirectoryLine(const std::string& line) {
  const bool trouble = line.starts_with("refused") || line.starts_with("cannot");
  DOVE_LOG_AT(trouble ? base::LogLevel::kWarning : base::LogLevel::kInfo) << "southbound: " << line;
}

constexpr int kReadChunkBytes = 1024;
constexpr int kMaxReadChunkBytes = 2048;
// Threads for the store writes streams ask for: one switch's fsync need not wait for another's
// Settle (an Attach and a switch record write, say).
constexpr size_t kWriteThreads = 2;
// Threads for the registrations of new switches (a record created, a round trip each, before
// the Hello is answered): a registration storm keeps this many in flight, which the registry
// pipelines (one etcd commit for many).
constexpr size_t kRegistrationThreads = 16;
// Streams offered to connecting switches at once (each accepted one offers the next): an
// accept completes on the serving thread's queue behind every event already in it, so with one
// offer a reconnect storm was accepted one stream per trip through that queue.
constexpr int kAcceptsAhead = 64;
// A ControllerBatch holds at most kMaxBatchMessages messages (as a SwitchBatch) and this many
// bytes (a switch's gRPC reads messages of up to 4 MiB by default); a bigger message goes alone.
constexpr size_t kMaxBatchBytes = size_t{1} << 20;
// What a message adds to a batch beyond its own bytes: its tag and length, at most.
constexpr size_t kBatchEntryBytes = 6;
// How often the serving thread looks whether its completion queue is empty.
constexpr auto kIdleProbe = std::chrono::milliseconds(10);

}  // namespace

// One switch's stream on the completion queue: one read in flight, one write in flight, its
// own outbound queue. Every gRPC operation it starts holds a reference (ops_), and so do the
// jobs that continue it on the WorkQueue; the last reference deletes it.
class SwitchService::Stream {
 public:
  enum class Op : uint8_t { kAccept, kRead, kWrite, kFinish, kDone };
  struct Tag {
    Stream* stream;
    Op op;
  };

  explicit Stream(SwitchService* service) : service_(service) {
    context_.AsyncNotifyWhenDone(&done_tag_);  // before the call starts, as gRPC requires
  }

  // Under the service's gate (Serve, then the serving thread): offers this stream to the next
  // switch that connects.
  void Request() {
    service_->async_.RequestConnect(&context_, &rw_, service_->cq_, service_->cq_, &accept_tag_);
  }

  // Serving thread, once the call arrived: the stream now also waits for the call's end.
  void Accepted(SessionId session) {
    session_ = session;
    if (service_->options_.tls) {
      // gRPC verified the certificate in the handshake; an absent context means no
      // certificate, and an empty identity allows no name.
      const auto auth = context_.auth_context();
      identity_ = auth ? PeerIdentity::Of(*auth) : PeerIdentity{};
    }
    Acquire();  // the done notification, registered at construction
  }

  SessionId session() const { return session_; }
  const PeerIdentity* identity() const { return identity_ ? &*identity_ : nullptr; }
  const v1::SwitchMessage& incoming() const { return incoming_; }

  // Starts the next read unless the stream is finishing.
  void StartRead() {
    std::shared_lock gate(service_->gate_);
    std::lock_guard lock(mutex_);
    if (service_->closed_ || finish_requested_) return;
    ++ops_;
    rw_.Read(&incoming_, &read_tag_);
  }

  void MarkReceived(Clock::time_point received) {
    last_received_.store(received.time_since_epoch().count(), std::memory_order_relaxed);
  }

  // When the stream last received a message (maybe still waiting for the service's mutex);
  // nullopt before the first. Any thread.
  std::optional<Clock::time_point> LastReceived() const {
    const auto ticks = last_received_.load(std::memory_order_relaxed);
    if (ticks == 0) return std::nullopt;
    return Clock::time_point(Clock::duration(ticks));
  }

  // Writes a message at once when no write is in flight, or else queues it in its wire form
  // (a few times smaller than the message: a reconnect storm queues a thousand catch-ups);
  // drops it once the stream is finishing.
  void Send(const v1::ControllerMessage& message) {
    std::shared_lock gate(service_->gate_);
    std::lock_guard lock(mutex_);
    if (finish_requested_) return;
    if (writing_) {
      queue_.push_back({.revision = message.revision(), .encoded = message.SerializeAsString()});
      return;
    }
    WriteLocked(message);
  }
  // The same for a message in its wire form (Outbound::encoded) whose revision is `revision`,
  // queued as such.
  void SendEncoded(int64_t revision, std::string encoded) {
    std::shared_lock gate(service_->gate_);
    std::lock_guard lock(mutex_);
    if (finish_requested_) return;
    queue_.push_back({.revision = revision, .encoded = std::move(encoded)});
    if (!writing_) WriteQueuedLocked();
  }

  // Serving thread, at the Hello: the switch reads ControllerMessage.batch, so what queues
  // behind a write goes in one.
  void AllowBatches() {
    std::lock_guard lock(mutex_);
    batches_ = true;
  }

  // Ends the stream with `status` once the queued messages are written.
  void Close(grpc::Status status) {
    std::shared_lock gate(service_->gate_);
    std::lock_guard lock(mutex_);
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = std::move(status);
    if (!writing_) FinishLocked();  // else the last write's completion finishes
  }

  // Serving thread: a write completed.
  void OnWriteDone(bool ok) {
    std::shared_lock gate(service_->gate_);
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) {
      queue_.clear();
      if (!finish_requested_) {
        finish_requested_ = true;
        final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
    }
    if (!queue_.empty()) {
      WriteQueuedLocked();
    } else if (finish_requested_) {
      FinishLocked();
    }
  }

  void Acquire() {
    std::lock_guard lock(mutex_);
    ++ops_;
  }
  // Drops a reference; the last one deletes the stream.
  void Release() {
    bool last = false;
    {
      std::lock_guard lock(mutex_);
      last = --ops_ == 0;
    }
    if (last) service_->Delete(this);
  }

 private:
  // With mutex_ and the gate held. gRPC serialises the message before Write returns, so the
  // caller's object can go at once: only its wire form waits for the socket.
  void WriteLocked(const v1::ControllerMessage& message) {
    if (service_->closed_) {
      queue_.clear();
      return;
    }
    writing_ = true;
    ++ops_;
    // No buffer hint for the messages queued behind it: gRPC 1.51 may then complete the write
    // only once something else makes the connection write, and the next one waits for that
    // completion (tried: an idle switch's stream stalled, ReplicasTest in CI).
    rw_.Write(message, &write_tag_);
  }

  // With mutex_ and the gate held, the queue not empty: writes its first message or, to a
  // switch that takes batches, as many of the first ones as fit in one ControllerBatch. The
  // typed stream writes messages, so the wire forms ride as the unknown fields of one that
  // lives only until then: protobuf serialises unknown fields byte for byte, so what was
  // encoded once (a domain's routes: ~1,000 RoutedSubnets in a switch's first config) is
  // copied, not decoded into objects, encoded again and freed: the replicas' CPU from ready to
  // the last attach acknowledged in a restart at 1,000 x 100 fell from 7.5 to 4.6 s (two runs
  // each, docs/benchmarks.md). The switch parses the same bytes as if the message had been
  // written typed.
  void WriteQueuedLocked() {
    // How many of the first messages go in this write.
    size_t count = 1;
    size_t bytes = 0;
    if (batches_) {
      count = 0;
      for (const auto& queued : queue_) {
        if (count == kMaxBatchMessages ||
            bytes + queued.encoded.size() + kBatchEntryBytes > kMaxBatchBytes) {
          break;
        }
        bytes += queued.encoded.size() + kBatchEntryBytes;
        ++count;
      }
      count = std::max<size_t>(count, 1);
    }
    v1::ControllerMessage message;
    google::protobuf::UnknownFieldSet* fields =
        message.GetReflection()->MutableUnknownFields(&message);
    if (count == 1) {
      // Its top-level fields (the revision, the body still encoded): encoded here from a valid
      // message.
      fields->ParseFromString(queue_.front().encoded);
      queue_.pop_front();
    } else {
      std::string* batch = fields->AddLengthDelimited(v1::ControllerMessage::kBatchFieldNumber);
      batch->reserve(bytes);
      for (size_t i = 0; i < count; ++i) {
        AppendLengthDelimited(v1::ControllerBatch::kMessagesFieldNumber, queue_.front().encoded,
                              batch);
        message.set_revision(queue_.front().revision);  // the last one's
        queue_.pop_front();
      }
    }
    WriteLocked(message);
  }

  // With mutex_ and the gate held; once.
  void FinishLocked() {
    if (finish_started_ || service_->closed_) return;
    finish_started_ = true;
    ++ops_;
    rw_.Finish(final_status_, &finish_tag_);
  }

  SwitchService* service_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::ControllerMessage, v1::SwitchMessage> rw_{&context_};
  Tag accept_tag_{this, Op::kAccept};
  Tag read_tag_{this, Op::kRead};
  Tag write_tag_{this, Op::kWrite};
  Tag finish_tag_{this, Op::kFinish};
  Tag done_tag_{this, Op::kDone};
  SessionId session_ = 0;
  std::optional<PeerIdentity> identity_;  // with TLS: the client certificate's names
  v1::SwitchMessage incoming_;            // the read in flight's; handled before the next read
  std::atomic<Clock::rep> last_received_{0};
  std::mutex mutex_;
  int ops_ = 1;  // the accept, requested at construction
  // A message waiting for the write in flight: its wire form and its revision (a batch carries
  // its last message's).
  struct Queued {
    int64_t revision = 0;
    std::string encoded;
  };
  // A list: empty, it allocates nothing (a deque allocates ~600 bytes at once, for every
  // connected switch).
  std::list<Queued> queue_;
  bool writing_ = false;
  bool batches_ = false;  // the switch's Hello said accepts_batches
  bool finish_requested_ = false;
  bool finish_started_ = false;
  grpc::Status final_status_;
};

SwitchService::SwitchService(controller::Registry* registry, store::Store* store,
                             SouthboundOptions options)
    : registry_(registry),
      store_(store),
      options_(std::move(options)),
      watch_from_(registry->Revision() + 1),
      directory_(registry, store, options_.directory) {
  // The lease's TTL: dead_after in whole seconds, rounded up (at least 1).
  const auto dead_after_ms = std::max<int64_t>(1, options_.directory.dead_after.count());
  lease_ttl_seconds_ = (dead_after_ms + 999) / 1000;
  {
    std::lock_guard lock(mutex_);
    directory_.StartHistory(watch_from_);  // WatchLoop delivers every change from it on
  }
  // A first lease before any stream can arrive; without one, Hellos wait for the lease thread.
  if (!GrantLease() && leases_) {
    std::lock_guard lock(mutex_);
    Output out = directory_.OnLeaseLost("none granted yet: " + lease_error_);
    Dispatch(out);
  }
  watcher_ = std::thread([this] { WatchLoop(); });
  // On a thread of its own: reading etcd's older history replays it (and waits for this
  // store's own writes first), and the watch must not wait for that.
  backfiller_ = std::thread([this] { BackfillHistory(); });
  if (leases_) leaser_ = std::thread([this] { LeaseLoop(); });
}

bool SwitchService::GrantLease() {
  // A lost lease is not revoked: when the store lost its quorum, etcd renews every lease once
  // it has a leader again, and revoking would delete every session key at once (every switch
  // then DOWN for its cachers until it says Hello again). Left alone, it expires a TTL later,
  // taking only the keys of the switches that did not come back meanwhile (a switch's new
  // Hello puts its key with the new lease).
  auto granted = store_->GrantLease(lease_ttl_seconds_);
  std::unique_lock lease(lease_mutex_);
  if (!granted) {
    if (granted.error().code == store::StoreError::kInvalidArgument) {
      leases_ = false;
      DOVE_LOG(kInfo) << "southbound: "
                      << "the store has no leases (" + granted.error().Describe() +
                             "): switch liveness is this controller's alone (no session keys)";
      return false;
    }
    if (lease_error_ != granted.error().Describe()) {
      lease_error_ = granted.error().Describe();
      DOVE_LOG(kWarning) << "southbound: "
                         << "cannot get a store lease (retrying): " + lease_error_;
    }
    return false;
  }
  lease_error_.clear();
  lease_ = granted->id;
  lease_ttl_seconds_ = granted->ttl_seconds;
  lease_renewed_ = Clock::now();
  lease_held_ = true;
  ++lease_grants_;
  DOVE_LOG(kInfo) << "southbound: "
                  << "store lease " + std::to_string(granted->id) + " granted, TTL " +
                         std::to_string(granted->ttl_seconds) + " s";
  Output out;
  {
    std::lock_guard lock(mutex_);
    out = directory_.OnLeaseGranted(granted->id);
    Dispatch(out);
  }
  lease.unlock();
  Settle(out);  // the keys of the streams open, claimed with the new lease
  return true;
}

void SwitchService::LeaseLoop() {
  while (!stopping_.load()) {
    int64_t id = 0;
    Clock::duration period{};
    {
      std::lock_guard lease(lease_mutex_);
      id = lease_;
      period = std::chrono::seconds(lease_ttl_seconds_) / 3;
    }
    if (id == 0) {
      if (!GrantLease()) LeaseWait(std::min<Clock::duration>(period, std::chrono::seconds(1)));
      continue;
    }
    LeaseWait(period);
    if (!stopping_.load()) KeepAlive(id);
  }
}

void SwitchService::KeepAlive(int64_t id) {
  Clock::time_point deadline;
  {
    std::lock_guard lease(lease_mutex_);
    deadline = lease_renewed_ + std::chrono::seconds(lease_ttl_seconds_);
  }
  // On its own thread, so that a store that does not answer (etcd cut off: each call waits
  // for its deadline) cannot hold the lease past its TTL.
  auto call =
      std::async(std::launch::async, [store = store_, id] { return store->KeepAliveLease(id); });
  while (call.wait_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(100))) !=
         std::future_status::ready) {
    if (Clock::now() >= deadline) {
      LoseLease(id, "no keep-alive confirmed within its TTL: the store is unreachable");
      break;
    }
  }
  auto kept = call.get();
  if (kept) {
    std::lock_guard lease(lease_mutex_);
    if (lease_ == id) lease_renewed_ = Clock::now();
    return;
  }
  if (kept.error().code == store::StoreError::kNotFound) {
    LoseLease(id, "it expired: " + kept.error().Describe());
  } else if (Clock::now() >= deadline) {
    LoseLease(id, "the store unreachable for its whole TTL: " + kept.error().Describe());
  } else {
    DOVE_LOG(kWarning) << "southbound: "
                       << "store lease " + std::to_string(id) + ": keep-alive failed (" +
                              kept.error().Describe() + "); trying again";
  }
}

void SwitchService::LoseLease(int64_t id, const std::string& why) {
  std::lock_guard lease(lease_mutex_);
  if (lease_ != id) return;
  lease_ = 0;
  lease_held_ = false;
  ++lease_losses_;
  DOVE_LOG(kWarning) << "southbound: "
                     << "store lease " + std::to_string(id) + " lost: " + why;
  std::lock_guard lock(mutex_);
  Output out = directory_.OnLeaseLost(why);
  Dispatch(out);
}

void SwitchService::LeaseWait(Clock::duration duration) {
  std::unique_lock lease(lease_mutex_);
  lease_wake_.wait_for(lease, duration, [this] { return stopping_.load(); });
}

SwitchService::~SwitchService() { Stop(); }

void SwitchService::Serve(grpc::ServerCompletionQueue* cq) {
  cq_ = cq;
  writes_ = std::make_unique<WorkQueue>(kWriteThreads);
  registrations_ = std::make_unique<WorkQueue>(kRegistrationThreads);
  for (int i = 0; i < kAcceptsAhead; ++i) AwaitNextStream();
  server_thread_ = std::thread([this] { ServeLoop(); });
}

void SwitchService::Stop() {
  {
    std::unique_lock gate(gate_);
    closed_ = true;
  }
  if (cq_ != nullptr) {
    cq_->Shutdown();
    server_thread_.join();
    cq_ = nullptr;
  }
  if (registrations_) registrations_->Stop();  // before writes_: they schedule switch writes
  if (writes_) writes_->Stop();                // the streams' last jobs (Forget) run first
  {
    std::lock_guard lease(lease_mutex_);
    stopping_ = true;
  }
  lease_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (backfiller_.joinable()) backfiller_.join();
  if (leaser_.joinable()) leaser_.join();
  std::set<Stream*> left;
  {
    std::lock_guard lock(live_mutex_);
    left.swap(live_);
  }
  for (Stream* stream : left) delete stream;
}

void SwitchService::ServeLoop() {
  void* tag = nullptr;
  bool ok = false;
  // busy_since_: the start of the stretch in which the queue was never seen empty (0: it was
  // empty at the last look). It is looked at without waiting every kIdleProbe, and a wait
  // that ends without an event (after kIdleProbe) is a look too. A thread that never finds
  // it empty is behind, and the streams it has not read are not silent (WatchLoop's tick).
  Clock::time_point probed{};
  while (true) {
    const Clock::time_point now = Clock::now();
    const bool probe = now - probed >= kIdleProbe;
    if (probe) probed = now;
    const auto next = cq_->AsyncNext(
        &tag, &ok,
        probe ? gpr_time_0(GPR_CLOCK_MONOTONIC)
              : gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                             gpr_time_from_millis(kIdleProbe.count(), GPR_TIMESPAN)));
    if (next == grpc::CompletionQueue::SHUTDOWN) break;
    if (next == grpc::CompletionQueue::TIMEOUT) {
      busy_since_.store(0, std::memory_order_relaxed);
      continue;
    }
    if (busy_since_.load(std::memory_order_relaxed) == 0) {
      busy_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    }
    auto* event = static_cast<Stream::Tag*>(tag);
    Stream* stream = event->stream;
    switch (event->op) {
      case Stream::Op::kAccept:
        if (ok) {
          AwaitNextStream();
          SessionId session = 0;
          {
            std::lock_guard lock(mutex_);
            session = next_session_++;
            streams_[session] = stream;
          }
          stream->Accepted(session);
          stream->StartRead();
        }
        break;
      case Stream::Op::kRead:
        if (ok) {
          OnMessageRead(stream);
        } else {  // the switch closed its side, or the stream broke
          stream->Close(grpc::Status::OK);
        }
        break;
      case Stream::Op::kWrite:
        stream->OnWriteDone(ok);
        break;
      case Stream::Op::kFinish:
        break;
      case Stream::Op::kDone:
        OnStreamDone(stream);
        break;
    }
    stream->Release();  // the operation that completed
  }
}

void SwitchService::AwaitNextStream() {
  std::shared_lock gate(gate_);
  if (closed_) return;
  auto* stream = new Stream(this);  // deleted by its last Release, or by Stop
  {
    std::lock_guard lock(live_mutex_);
    live_.insert(stream);
  }
  stream->Request();
}

void SwitchService::Delete(Stream* stream) {
  {
    std::lock_guard lock(live_mutex_);
    live_.erase(stream);
  }
  delete stream;
}

void SwitchService::OnMessageRead(Stream* stream) {
  const Clock::time_point received = Clock::now();
  stream->MarkReceived(received);
  const v1::SwitchMessage& incoming = stream->incoming();
  if (incoming.has_hello() && incoming.hello().accepts_batches()) stream->AllowBatches();
  // A batch the checks let through: its messages one at a time, as if each had been read
  // alone. (One they refuse goes to the Directory whole, which refuses it.)
  if (incoming.has_batch() && !CheckSwitchMessage(incoming)) {
    ReceiveBatch(stream, 0, received);
    return;
  }
  Output out;
  const bool keep = Receive(stream->session(), stream->identity(), incoming, received, out);
  if (Proceed(stream, keep, std::move(out), [stream] { stream->StartRead(); })) {
    stream->StartRead();
  }
}

void SwitchService::ReceiveBatch(Stream* stream, int from, Clock::time_point received) {
  const auto& messages = stream->incoming().batch().messages();
  for (int i = from; i < messages.size(); ++i) {
    Output out;
    const bool keep = Receive(stream->session(), stream->identity(), messages[i], received, out);
    if (!Proceed(stream, keep, std::move(out),
                 [this, stream, i, received] { ReceiveBatch(stream, i + 1, received); })) {
      return;
    }
  }
  stream->StartRead();
}

bool SwitchService::Proceed(Stream* stream, bool keep, Output out, std::function<void()> next) {
  // Switch records and session keys are written by the drain on the WorkQueue, without holding
  // the stream: nothing the switch sends next depends on them, and a reconnect storm's
  // thousand writes, one round trip each, would otherwise hold every stream (its Attaches and
  // heartbeats unread) until the last of them.
  if (out.switch_writes) ScheduleSwitchWrites();
  out.switch_writes = false;
  if (!out.registrations.empty()) {
    // A Hello waiting for its switch's record (only a Hello registers, and a Hello asks for
    // no other write): answered on the registration threads, the stream read on after that.
    stream->Acquire();
    const bool posted = registrations_->Post(
        [this, stream, next = std::move(next), registrations = std::move(out.registrations)] {
          if (Register(stream->session(), registrations)) next();
          stream->Release();
        });
    if (!posted) stream->Release();
    return false;
  }
  if (out.endpoint_writes.empty()) return keep;
  // Endpoint writes (fsyncs) go to the WorkQueue; the stream goes on once they are done, so
  // the switch's next message finds its Attach or Detach applied.
  stream->Acquire();
  const bool posted =
      writes_->Post([this, stream, keep, next = std::move(next), out = std::move(out)] {
        Settle(out);
        if (keep) next();
        stream->Release();
      });
  if (!posted) stream->Release();
  return false;
}

bool SwitchService::Register(SessionId session, const std::vector<Registration>& registrations) {
  bool keep = true;
  for (const auto& registration : registrations) {
    auto saved = PerformRegistration(*registry_, registration);
    Output answered;
    {
      std::lock_guard lock(mutex_);
      answered = directory_.OnRegistered(registration, saved, Clock::now());
      Dispatch(answered);
    }
    for (const auto& close : answered.closes) {
      if (close.session == session) keep = false;
    }
    if (answered.switch_writes) ScheduleSwitchWrites();
  }
  return keep;
}

void SwitchService::OnStreamDone(Stream* stream) {
  stream->Acquire();
  const SessionId session = stream->session();
  const bool posted = writes_->Post([this, stream, session] {
    Forget(session);
    stream->Release();
  });
  if (!posted) {
    Forget(session);
    stream->Release();
  }
}

bool SwitchService::Receive(SessionId session, const PeerIdentity* identity,
                            const v1::SwitchMessage& message, Clock::time_point received,
                            Output& out) {
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
  if (out.switch_writes) ScheduleSwitchWrites();
}

void SwitchService::ScheduleSwitchWrites() {
  {
    std::lock_guard drain(drain_mutex_);
    if (draining_) {
      drain_again_ = true;  // the running drain looks once more before it ends
      return;
    }
    draining_ = true;
  }
  const bool posted = writes_ && writes_->Post([this] { DrainSwitchWrites(); });
  if (!posted) DrainSwitchWrites();  // not serving, or stopped: here
}

void SwitchService::DrainSwitchWrites() {
  while (true) {
    WriteSwitches();
    std::lock_guard drain(drain_mutex_);
    if (!drain_again_) {
      draining_ = false;
      return;
    }
    drain_again_ = false;
  }
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
    // The session keys claimed alone first (one transaction per chunk; PerformSwitchWrites),
    // then the records, a round trip each. One write per switch: the order between them is
    // free.
    std::stable_partition(writes.begin(), writes.end(), ClaimsAlone);
    // In chunks, so the answers to the first writes do not wait for the last ones.
    for (size_t start = 0; start < writes.size(); start += kMaxClaimsPerTxn) {
      const size_t end = std::min(writes.size(), start + kMaxClaimsPerTxn);
      const std::span<const SwitchWrite> chunk(writes.data() + start, end - start);
      const auto done = PerformSwitchWrites(*registry_, store_, chunk);
      std::lock_guard lock(mutex_);
      for (size_t i = 0; i < chunk.size(); ++i) {
        auto answered = directory_.OnSwitchWritten(chunk[i], done[i]);
        Dispatch(answered);
      }
    }
  }
}

void SwitchService::SetTraceSink(std::function<void(TraceArrival)> sink) {
  std::lock_guard lock(mutex_);
  trace_sink_ = std::move(sink);
}

std::optional<std::vector<std::string>> SwitchService::SendTrace(const std::string& source_switch,
                                                                 const v1::TraceOrder& order) {
  std::lock_guard lock(mutex_);
  const auto source = directory_.SessionOfSwitch(source_switch);
  if (!source || !streams_.contains(*source)) return std::nullopt;
  Output out;
  std::vector<std::string> sent;
  const auto send = [&](SessionId session, v1::TraceOrder message) {
    Outbound outbound;
    outbound.session = session;
    *outbound.message.mutable_trace() = std::move(message);
    out.messages.push_back(std::move(outbound));
  };
  if (order.inject()) {
    send(*source, order);
    sent.push_back(source_switch);
  } else {
    // The watchers only look for the marker: what is sent is none of their business.
    v1::TraceOrder watch;
    watch.set_trace_id(order.trace_id());
    watch.set_marker(order.marker());
    watch.set_timeout_ms(order.timeout_ms());
    watch.set_deliver(order.deliver());
    for (const auto& [session, name] : directory_.HelloedSessions()) {
      if (session == *source) continue;
      send(session, watch);
      sent.push_back(name);
    }
  }
  Dispatch(out);
  return sent;
}

void SwitchService::Dispatch(Output& out) {
  for (const auto& line : out.logs) LogDirectoryLine(line);
  for (auto& arrival : out.trace_reports) {
    if (trace_sink_) trace_sink_(std::move(arrival));
  }
  out.trace_reports.clear();
  // Freed one by one once sent (written at once, or queued in its wire form): a NetworkConfig
  // carrying a domain's routes is ~200 KB as a message, and a thousand Hellos at once would
  // otherwise hold each until its Receive returns.
  for (auto& outbound : out.messages) {
    if (auto it = streams_.find(outbound.session); it != streams_.end()) {
      if (outbound.encoded.empty()) {
        it->second->Send(outbound.message);
      } else {
        it->second->SendEncoded(outbound.message.revision(), std::move(outbound.encoded));
      }
    }
    outbound.message = v1::ControllerMessage();
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
  DOVE_LOG(kWarning) << "southbound: "
                     << "refused a Hello: " + why;
  auto it = streams_.find(session);
  if (it == streams_.end()) return;
  v1::ControllerMessage refusal;
  refusal.set_revision(registry_->Revision());
  refusal.mutable_error()->set_code("permission_denied");
  refusal.mutable_error()->set_message(why);
  it->second->Send(refusal);
  it->second->Close(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, why));
}

void SwitchService::BackfillHistory() {
  if (options_.history_backfill_revisions <= 0 || watch_from_ <= 1) return;
  const Clock::time_point started = Clock::now();
  int64_t from = std::max<int64_t>(1, watch_from_ - options_.history_backfill_revisions);
  auto events = store_->Changes(controller::kKeyPrefix, from);
  if (!events && events.error().code == store::StoreError::kCompacted) {
    // Compacted past it: from where the history starts, if that is still before the watch.
    auto compacted = store_->CompactedRevision();
    if (!compacted || *compacted + 1 >= watch_from_) return;
    from = std::max(from, *compacted + 1);
    events = store_->Changes(controller::kKeyPrefix, from);
  }
  if (!events) {
    DOVE_LOG(kWarning) << "southbound: "
                       << "store history before revision " + std::to_string(watch_from_) +
                              " not read (Hellos from before it read the store): " +
                              events.error().Describe();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    directory_.BackfillHistory(from, *events);
  }
  DOVE_LOG(kInfo) << "southbound: "
                  << "store history from revision " + std::to_string(from) +
                         " read for the catch-ups in " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            Clock::now() - started)
                                            .count()) +
                         " ms";
}

void SwitchService::WatchLoop() {
  std::unique_ptr<store::Watch> watch;
  int64_t from = watch_from_;
  while (!stopping_.load()) {
    if (!watch) {
      auto started = store_->StartWatch(std::string(kWatchPrefix), from);
      if (!started) {
        DOVE_LOG(kWarning) << "southbound: "
                           << "cannot watch the store: " + started.error().Describe();
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
        DOVE_LOG(kWarning) << "southbound: "
                           << "store watch: the registry did not reach revision " +
                                  std::to_string(last) + " within 5 s; going on";
      }
    }
    Output ticked;
    bool switch_writes = false;  // asked for by the store's changes (another replica's news)
    {
      std::lock_guard lock(mutex_);
      if (events) {
        from = watch->next_revision();
        if (!events->empty()) {
          auto changed = directory_.OnStoreEvents(*events);
          Dispatch(changed);
          switch_writes = changed.switch_writes;
        }
      } else if (events.error().code == store::StoreError::kClosed) {
        return;
      } else {
        // Compacted history: carry on from now; switches that missed it learn on reconnect.
        DOVE_LOG(kWarning) << "southbound: "
                           << "store watch: " + events.error().Describe() +
                                  "; resuming from the current revision";
        from = registry_->Revision() + 1;
        watch.reset();
        directory_.StartHistory(from);  // the changes in the gap were never noted
      }
      // Messages waiting for mutex_ now, or a serving thread that has not found its queue
      // empty for a whole tick: the controller is the bottleneck, and streams whose messages
      // it has not even read yet are not silent (Directory::OnTick). A sample per tick: under a
      // steady load short of saturation only some ticks find it behind, so a dead switch is
      // found after about dead_after / (1 - share of ticks behind).
      // Once a tick, not at every change watched: a tick visits every session (a reconnect
      // storm's writes wake this thread a hundred times a second).
      const Clock::time_point now = Clock::now();
      if (now - last_tick_ >= options_.tick) {
        last_tick_ = now;
        const Clock::rep busy = busy_since_.load(std::memory_order_relaxed);
        const bool behind =
            unhandled_.load(std::memory_order_relaxed) > 0 ||
            (busy != 0 && now - Clock::time_point(Clock::duration(busy)) > options_.tick);
        ticked = directory_.OnTick(
            now,
            [this](SessionId session) {
              auto it = streams_.find(session);  // mutex_ held: streams leave before they die
              return it == streams_.end() ? std::nullopt : it->second->LastReceived();
            },
            behind);
        Dispatch(ticked);
      }
    }
    // Writes and compaction without the lock: resolves and heartbeats go on meanwhile.
    ticked.switch_writes = ticked.switch_writes || switch_writes;
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
  // From the revision the registry reflects (what the watch delivered), not the store's
  // current one: this runs at every change watched, and on etcd each CurrentRevision is a
  // quorum read. The window kept is then at least `keep` revisions, never less.
  auto compacted = store_->CompactedRevision();
  if (!compacted) return;
  const int64_t current = registry_->Revision();
  // In steps of a tenth of the window, so the delete runs rarely.
  const int64_t keep = options_.history_revisions;
  if (current - *compacted < keep + std::max<int64_t>(1, keep / 10)) return;
  if (auto done = store_->Compact(current - keep); !done) {
    DOVE_LOG(kWarning) << "southbound: "
                       << "store compaction: " + done.error().Describe();
    return;
  }
  std::lock_guard lock(mutex_);
  directory_.TrimHistory(current - keep);
}

controller::SwitchCounters SwitchService::SwitchStats() {
  std::lock_guard lock(mutex_);
  controller::SwitchCounters stats;
  for (const auto& [name, summary] : directory_.Stats()) {
    stats[name].insert(summary.counters().begin(), summary.counters().end());
  }
  return stats;
}

void SwitchService::AddMetrics(base::MetricsPage& page) {
  std::lock_guard lock(mutex_);
  page.Gauge("dove_southbound_sessions", "Switch streams open.").Add({}, directory_.SessionCount());
  page.Gauge("dove_southbound_cache_records",
             "Who cached what: one per (switch stream, endpoint) it resolved or listed in its "
             "Hello; freed when the stream ends.")
      .Add({}, directory_.CacheRecords());
  const Directory::LivenessCounts liveness = directory_.LivenessChanges();
  auto changes = page.Counter("dove_southbound_liveness_changes_total",
                              "Switches marked DOWN (silent for dead_after, stream ended, no "
                              "Hello after a start) and UP again.",
                              {"state"});
  changes.Add({"down"}, liveness.down);
  changes.Add({"up"}, liveness.up);
  page.Gauge("dove_southbound_lease_held",
             "Whether this controller holds its store lease (1), so takes Hellos.")
      .Add({}, lease_held_.load() ? 1 : 0);
  auto leases = page.Counter("dove_southbound_lease_changes_total",
                             "Store leases granted to this controller, and lost (expired, or the "
                             "store unreachable for a TTL: every stream then ended).",
                             {"change"});
  leases.Add({"granted"}, lease_grants_.load());
  leases.Add({"lost"}, lease_losses_.load());
  const SyncCounts syncs = directory_.Syncs();
  auto synced = page.Counter("dove_southbound_syncs_total",
                             "Hellos answered, by how the switch caught up.", {"kind"});
  synced.Add({"incremental"}, syncs.incremental);
  synced.Add({"snapshot"}, syncs.snapshot);
  auto refused = page.Counter("dove_southbound_refused_total",
                              "Requests refused because they named a network or an endpoint the "
                              "switch does not serve (or that does not exist), by switch and kind.",
                              {"switch", "kind"});
  for (const auto& [name, kinds] : directory_.Refused()) {
    for (const auto& [kind, count] : kinds) refused.Add({name, kind}, count);
  }
  AddSwitchStats(page, directory_.Stats());
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
  // Each connection keeps a read buffer allocated while it waits for data; gRPC starts it at
  // 8 KiB and grows it (up to 4 MB) when reads fill it. A switch sends small messages (a Hello
  // listing its cache is the largest: read in more chunks), so the buffer starts at 1 KiB and
  // each chunk is at most 2 KiB: 6 KiB less per connected switch than the 8 KiB it otherwise
  // reaches after the registration's burst of Attaches.
  builder.AddChannelArgument(GRPC_ARG_TCP_READ_CHUNK_SIZE, kReadChunkBytes);
  builder.AddChannelArgument(GRPC_ARG_TCP_MAX_READ_CHUNK_SIZE, kMaxReadChunkBytes);
  // Small messages: no bandwidth-delay probes (a PING and its answer next to the resolves; the
  // switch turns them off too, dove-switch's controller_client.cc).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.RegisterService(server->service_->GrpcService());
  server->cq_ = builder.AddCompletionQueue();
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || bound == 0) {
    if (server->server_) server->server_->Shutdown(std::chrono::system_clock::now());
    server->cq_->Shutdown();  // never served: drain it, as gRPC requires before its end
    void* tag = nullptr;
    bool ok = false;
    while (server->cq_->Next(&tag, &ok)) {
    }
    server->service_->Stop();
    return Unexpected<std::string>(
        "cannot listen on " + requested + " (address in use, not local, or not permitted" +
        (tls ? "; or the TLS certificate, key or client CA is not valid PEM)" : ")"));
  }
  server->service_->Serve(server->cq_.get());
  server->port_ = bound;
  server->tls_ = tls;
  server->address_ = net::FormatHostPort(host, bound);
  DOVE_LOG(kInfo)
      << "southbound: "
      << (tls ? "TLS; switches need a client certificate naming them"
              : "plaintext (--southbound-plaintext): any client may claim any switch name");
  return server;
}

SouthboundServer::~SouthboundServer() {
  if (server_) {
    // Cancels the streams still open; the serving thread takes their last completions.
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  if (service_) service_->Stop();  // shuts the completion queue down and drains it
  server_.reset();
}

}  // namespace dove::controller::southbound
