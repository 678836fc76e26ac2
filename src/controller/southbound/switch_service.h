// SwitchService: the southbound gRPC service (SwitchService.Connect of switch.proto) over a
// Directory, and SouthboundServer, the grpc::Server that serves it.
//
// One bidirectional stream per switch, served with gRPC's asynchronous API by ONE thread of
// our own polling one completion queue (Serve): it reads each stream's messages, hands them to
// the Directory and starts the writes, with no thread per stream and no hand-over between
// threads on the way of a resolve. (gRPC 1.51's callback API runs the same work on at least
// two "nexting" threads that wake each other on every event: on a virtual machine those
// context switches were a quarter of the controller's CPU at 10,000 resolves/s.) The store
// writes a message asks for (an Attach that moves an endpoint, a switch record) never run on
// that thread: they go to a WorkQueue of two threads, and the stream reads its next message
// only once they are done, so its Attach is answered before anything it sends next while every
// other stream goes on. The Hello of a switch new to the store (or at a new tunnel IP) waits
// for its record the same way, on a WorkQueue of its own with 16 threads, so that a
// registration storm keeps that many creates in flight.
//
// Each stream has its own outbound queue with one write in flight at a time, so a slow switch
// only slows its own stream; a message is serialised when its write starts and freed at once
// (what waits in gRPC is its wire form). Every Directory call happens under one mutex; a
// Directory Close ends that stream only, with its status, once the messages queued before it
// are written. Messages over max_message_bytes end the stream with RESOURCE_EXHAUSTED (gRPC's
// own limit); an undecodable one fails its read, which ends the stream.
//
// Store changes: a thread of the service watches "/dove/v1/" (Store::StartWatch, polling the
// watch's eventfd) from the registry's revision at construction, so changes made through the
// REST API reach the switches that cached an endpoint, with their revisions. The same thread
// ticks the Directory (liveness) every `tick`, telling it when each stream last received a
// message (a message waiting for the mutex is a sign of life, not silence) and whether messages
// wait for the mutex as it ticks (then the controller is behind, and the interval since the
// last tick is nobody's silence), and compacts the
// store's history down to `history_revisions` behind the revision the registry reflects (in
// steps of a tenth of it; no store read to decide).
//
// The replica's store lease (directory.h, "Replicas"): granted at construction with a TTL of
// dead_after rounded up to seconds (or what the store grants, when more), and kept alive every
// TTL/3 by a thread of the service that never holds the Directory's mutex during a store call.
// The lease is lost when KeepAliveLease says it is gone (kNotFound), or when no keep-alive
// succeeded for a whole TTL (the store unreachable: the store's own copy of the lease expires
// then too). The Directory then ends every stream with UNAVAILABLE and refuses Hellos until
// the thread holds a new lease (the old one is left to expire: after a lost quorum etcd renews
// it, and a revoke would drop every session key at once). Each grant and
// loss is logged and counted (dove_southbound_lease_changes_total). A store without leases
// (GrantLease kInvalidArgument: "does not implement leases") leaves the service without one:
// it takes Hellos and writes no session keys.
//
// Ownership: the service keeps pointers to `registry` and `store`, which must outlive it.
// SouthboundServer owns the service and the grpc::Server; destroying it cancels every stream
// and stops the watch thread.
//
// Security: with SouthboundOptions::tls the server speaks TLS only and requires a client
// certificate signed by tls->client_ca_pem (gRPC refuses the handshake otherwise, so no stream
// exists). The stream's Hello.switch_name must then be a name of that certificate
// (PeerIdentity::Allows); otherwise the stream gets a Refusal (permission_denied, naming the
// claimed name and the certificate's names) and ends with PERMISSION_DENIED, and the Directory
// never sees that Hello. Without `tls` the server is plaintext and trusts the claimed name.
//
//   auto server = SouthboundServer::Start(registry, store, "127.0.0.1", 0, {});
//   if (!server) return Fail(server.error());
//   std::printf("southbound on %s\n", (*server)->address().c_str());
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "base/expected.h"
#include "controller/registry.h"
#include "controller/side_service.h"
#include "controller/southbound/directory.h"
#include "controller/southbound/peer_identity.h"
#include "controller/southbound/southbound_tls.h"
#include "controller/southbound/work_queue.h"
#include "dove/v1/switch.grpc.pb.h"
#include "store/store.h"

namespace dove::controller::southbound {

struct SouthboundOptions {
  DirectoryOptions directory;
  std::optional<SouthboundTls> tls;  // nullopt: plaintext (an explicit choice of the caller)
  size_t max_message_bytes = size_t{1024} * 1024;  // a Hello listing 50,000 cached ids fits
  std::chrono::milliseconds tick{200};
  // The store keeps at least this many revisions of history, for switches that reconnect with
  // an older last_revision (older ones get a snapshot); 0: never compact.
  int64_t history_revisions = 100000;
  // How far before its start a controller reads the store's history once, into the Directory's
  // notes (BackfillHistory), so that switches reconnecting after a restart of every controller
  // are caught up from memory (0: not read). Connected switches hear a heartbeat every second,
  // stamped with the current revision, so a restart's gap is a few revisions (lease ends, the
  // replicas' sync keys); each revision read costs etcd a replay to every replica starting.
  // A Hello from further back reads the store (EtcdStore: at most kMaxBackfillRevisions).
  int64_t history_backfill_revisions = 1000;
  // The watch thread gives the heap's free pages back to the system (malloc_trim) at most this
  // often. What a registration storm or a domain round allocates and frees (NetworkConfigs,
  // FloodLists: megabytes at 1,000 switches) otherwise stays resident, in whichever glibc
  // arena the thread that built it used. 0: never.
  std::chrono::milliseconds trim_interval{2000};
};

class SwitchService final {
 public:
  SwitchService(controller::Registry* registry, store::Store* store, SouthboundOptions options);
  ~SwitchService();
  SwitchService(const SwitchService&) = delete;
  SwitchService& operator=(const SwitchService&) = delete;

  // What to register with the grpc::ServerBuilder.
  grpc::Service* GrpcService() { return &async_; }
  // Starts the thread that serves every stream from `cq` (the builder's, after BuildAndStart).
  void Serve(grpc::ServerCompletionQueue* cq);
  // After grpc::Server::Shutdown: starts no more gRPC operations, shuts `cq` down, drains it
  // and joins the serving thread, then the write threads and the watch thread, and frees the
  // streams left. Idempotent; the destructor calls it.
  void Stop();
  // dove_southbound_sessions, dove_southbound_syncs_total{kind},
  // dove_southbound_liveness_changes_total{state}, dove_southbound_lease_held,
  // dove_southbound_lease_changes_total{change}, and each switch's last StatsSummary as the
  // dove_switch_* families of stats_families.h, added to a /metrics page.
  void AddMetrics(base::MetricsPage& page);
  // The last StatsSummary of each connected switch (Directory::Stats), copied under the lock.
  controller::SwitchCounters SwitchStats();

  // Live traces (controller/trace_api.h). The reports switches send go to `sink`, called with
  // the service's lock held: it must only hand them over (it may not call the service).
  void SetTraceSink(std::function<void(TraceArrival)> sink);
  // With order.inject: sends `order` to the switch `source_switch`. Without: sends it (to watch
  // for the marker, the packet's fields cleared) to every other switch connected to this
  // controller. The names of the switches it went to; nullopt, sending nothing, when
  // `source_switch` has no stream here (it is down, or another replica serves it).
  std::optional<std::vector<std::string>> SendTrace(const std::string& source_switch,
                                                    const v1::TraceOrder& order);

 private:
  class Stream;

  // Serving thread: waits for the next stream and the completions of every stream's operations.
  void ServeLoop();
  // Serving thread: offers a new Stream to the next switch that connects (unless stopping).
  void AwaitNextStream();
  // A stream's message was read: hands it to the Directory, then reads the next one (after the
  // endpoint writes it asks for, on the WorkQueue; switch writes are drained without waiting)
  // unless the stream is to end.
  void OnMessageRead(Stream* stream);
  // The messages of the SwitchBatch `stream` read, from index `from` on, each handed to the
  // Directory as if read alone: one that asks for endpoint writes has them made before the next
  // is handled (on the WorkQueue, which goes on with the rest). Reads on after the last.
  void ReceiveBatch(Stream* stream, int from, Clock::time_point received);
  // After a message was handed to the Directory: schedules its switch writes; when it asked for
  // a registration (a Hello) or endpoint writes, makes them on the registration threads or the
  // WorkQueue, runs `next` there once they are done (unless the stream ends) and returns false.
  // Otherwise returns `keep`: the caller goes on at once.
  bool Proceed(Stream* stream, bool keep, Output out, std::function<void()> next);
  // Without mutex_: performs a Hello's registrations and dispatches the Directory's answers
  // (directory.h, "Writes"); false when the answer ends the stream of `session`.
  bool Register(SessionId session, const std::vector<Registration>& registrations);
  // The stream ended: the Directory forgets it (on the WorkQueue: it may write).
  void OnStreamDone(Stream* stream);
  // The stream's last reference went.
  void Delete(Stream* stream);

  // Called by streams (without holding their own lock). `identity`: the peer's certificate
  // names with TLS, null without; a Hello it does not allow is refused here. `received`: when
  // the stream got the message (before waiting for mutex_), the time the directory is told.
  // Returns whether the stream reads on; `out` keeps the writes to Settle.
  bool Receive(SessionId session, const PeerIdentity* identity, const v1::SwitchMessage& message,
               Clock::time_point received, Output& out);
  void Forget(SessionId session);
  // With mutex_ held. Moves the messages out of `out` (leaving none); the rest stays for Settle.
  void Dispatch(Output& out);
  // Without mutex_: performs the endpoint writes `out` asks for (directory.h, "Writes") and
  // dispatches what the directory answers to them; switch writes are scheduled (not awaited).
  void Settle(const Output& out);
  // Has the switch records and session keys the directory wants written on the WorkQueue,
  // without waiting: one drain at a time (a request while one runs makes it look again before
  // it ends), so a storm of requests takes one write thread, never both. Without a WorkQueue
  // (not serving, or stopped) the drain runs here.
  void ScheduleSwitchWrites();
  void DrainSwitchWrites();
  // Writes the switch records the directory wants, until it wants none (one writer at a time).
  void WriteSwitches();
  void RefuseIdentity(SessionId session, const PeerIdentity& identity, const v1::Hello& hello);
  void WatchLoop();
  // The lease thread: grants the lease when none is held, keeps it alive every TTL/3.
  void LeaseLoop();
  // Tries to get a lease (no lock held during the store call); true when one is held now.
  bool GrantLease();
  // Keeps lease `id` alive once: waits for the store at most until the lease's TTL has passed
  // since its last renewal (then it is lost, whatever the store answers later).
  void KeepAlive(int64_t id);
  // The lease `id` is lost (unless lost already): the Directory closes every stream.
  void LoseLease(int64_t id, const std::string& why);
  // Waits `duration` on the lease thread, or less when stopping.
  void LeaseWait(Clock::duration duration);
  // Its own thread, once at the start: the store's recent history into the Directory's notes
  // (Hellos from before them read the store meanwhile).
  void BackfillHistory();
  // Drops store history older than history_revisions (watch thread).
  void CompactHistory();

  controller::Registry* registry_;
  std::function<void(TraceArrival)> trace_sink_;  // under mutex_
  store::Store* store_;
  SouthboundOptions options_;
  v1::SwitchService::AsyncService async_;
  grpc::ServerCompletionQueue* cq_ = nullptr;  // the server's; set by Serve
  std::thread server_thread_;
  // Held shared while starting a gRPC operation, exclusively to close it: once closed_, none
  // starts (the completion queue is about to shut down, and an operation started after that
  // is a crash in gRPC).
  std::shared_mutex gate_;
  bool closed_ = false;
  std::mutex live_mutex_;
  std::set<Stream*> live_;  // every Stream not yet deleted, for Stop
  std::unique_ptr<WorkQueue> writes_;
  std::unique_ptr<WorkQueue> registrations_;
  int64_t watch_from_;
  std::mutex mutex_;                // serialises the Directory; no store write is made under it
  std::mutex switch_writes_mutex_;  // taken before mutex_, never after
  std::mutex drain_mutex_;          // guards the two below; taken alone
  bool draining_ = false;           // a drain is posted or running
  bool drain_again_ = false;        // asked for while it ran
  Directory directory_;
  std::map<SessionId, Stream*> streams_;
  SessionId next_session_ = 1;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> unhandled_{0};  // messages received, waiting for mutex_
  // Since when the serving thread has not found its completion queue empty (Clock ticks; 0:
  // it was empty at its last look, at most kIdleProbe ago).
  std::atomic<Clock::rep> busy_since_{0};
  std::thread watcher_;
  std::thread backfiller_;         // BackfillHistory, once at the start
  Clock::time_point last_trim_{};  // the watch thread's
  Clock::time_point last_tick_{};  // the watch thread's: Directory::OnTick at most once a tick
  // The lease (see above). lease_mutex_ orders grants and losses (taken before mutex_).
  std::mutex lease_mutex_;
  std::condition_variable lease_wake_;  // Stop wakes the lease thread
  int64_t lease_ = 0;                   // held (0: none)
  int64_t lease_ttl_seconds_ = 0;       // asked, then granted
  Clock::time_point lease_renewed_{};   // the last grant or successful keep-alive
  bool leases_ = true;                  // false: the store has none
  std::string lease_error_;             // the last grant error logged (logged when it changes)
  std::atomic<uint64_t> lease_grants_{0};
  std::atomic<uint64_t> lease_losses_{0};
  std::atomic<bool> lease_held_{false};
  std::thread leaser_;
};

class SouthboundServer : public controller::SideService {
 public:
  // Listens on host:port (0: any free port). Fails with one sentence when it cannot bind.
  static Expected<std::unique_ptr<SouthboundServer>, std::string> Start(
      controller::Registry* registry, store::Store* store, const std::string& host, int port,
      SouthboundOptions options);
  ~SouthboundServer() override;

  std::string address() const override { return address_; }
  void AddMetrics(base::MetricsPage& page) const override { service_->AddMetrics(page); }
  std::optional<std::vector<std::string>> SendTrace(const std::string& source_switch,
                                                    const v1::TraceOrder& order) override {
    return service_->SendTrace(source_switch, order);
  }
  void SetTraceSink(const std::function<void(TraceArrival)>& sink) override {
    service_->SetTraceSink(sink);
  }
  controller::SwitchCounters SwitchStats() const override { return service_->SwitchStats(); }
  std::string Protocol() const override {
    return tls_ ? "TLS gRPC, client certificates required" : "plaintext gRPC";
  }
  int port() const { return port_; }

 private:
  SouthboundServer() = default;

  std::unique_ptr<SwitchService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::string address_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace dove::controller::southbound
