// switch_sim: N simulated switches in one process against a real dove-controller, over the real
// southbound protocol (one SwitchService.Connect stream per switch, each on its own TCP
// connection, all on one completion queue served by one thread: no thread per switch). It measures
// what the southbound must sustain at scale and prints each figure beside its goal. The phases, in
// order:
//
//   registration  Hello -> SyncDone -> M Attaches acknowledged, for all N switches  goal 10 s
//   attaches      switches Attach unplaced endpoints of networks they serve (each a store
//                 write), open loop at --attach-rate: latency p50/p99 and rate, printed
//   resolve       open-loop ResolveMac/ResolveIp at R/s, p99 FROM THE SCHEDULE      goal 1 ms
//   + moves       at the same time: PUT through the REST API -> LocationUpdate at all C
//                 cachers and EndpointMoved at the old holder                    goal p99 50 ms
//   probes        resolves in a VNI the asker does not serve (must be refused, with the very
//                 answer of a VNI that does not exist), of addresses that do not exist (must be
//                 NOT_FOUND), and of another network's IP in a served VNI (policy: counted)
//   memory        controller PEAK resident (VmHWM) serving, all switches connected and caching,
//                 minus an empty controller's, per endpoint; current RSS printed  goal 1 KiB
//   cache records dove_southbound_cache_records from /metrics: equal to what the switches hold
//                 (checked), and 0 once every switch disconnected (checked)
//   failover      --replicas N > 1 only: replica N-1 killed -9 a quarter into an open-loop
//                 resolve load (--resolve-rate for --failover-seconds, asked by the switches of
//                 the other replicas); each switch that was on it reconnects, once it has seen
//                 its stream end, to the next replica of its list (s % N, s % N + 1, ...: 0) with
//                 Hello (its revision and cache); until each has SyncDone with its cache
//                 verified against the model and its attaches acknowledged          goal 5 s
//                 Printed too: the Hellos answered incrementally / with a snapshot, the
//                 survivors' resolves (found, failed, over 10 s, late sends, latency), and the
//                 switches the survivors logged DOWN until etcd expired the killed replica's
//                 lease. Then the replica is started again on its ports (its switches stay
//                 where they went) and the cache records of all replicas are compared with
//                 what the switches hold (checked)
//   restart       kill -9 with every switch connected and caching, start on the same data
//                 directory and ports, every switch reconnects (Hello with its revision and
//                 cache) until all are synced, their caches verified against the model, and
//                 their attaches acknowledged                                       goal 5 s
//
//   build/bench/switch_sim [--switches 1000] [--endpoints 100] [--endpoints-per-network 100]
//                          [--resolve-rate 10000] [--resolve-seconds 10] [--ip-percent 50]
//                          [--moves 200] [--move-rate 20] [--cachers 10] [--attaches 2000]
//                          [--attach-rate 1000]
//                          [--probes 1000] [--quick] [--controller-bin PATH]
//                          [--controller-arg ARG]... [--etcd] [--replicas N]
//                          [--failover-seconds F]
//
// Replicas (--replicas N > 1, issue 16): N dove-controller processes on one 3-member etcd and
// one prefix (bench/sim_controllers.h), each with its own API and southbound port; switch s
// connects to replica s % N (until the failover moves it), fill client i goes through replica
// i % N (bench/sim_fill.h), the PUT of move m through replica m % N (so most updates reach
// their cachers through another replica's watch), the failover kills -9 the last replica and
// starts it again, and the restart kills -9 and restarts every replica (each switch reconnects
// to the one it is on now). The report adds, per replica: resolve rate
// and latency (by the asking switch's replica), memory per endpoint (each holds the whole
// index), and the moves split by whether the last switch to hear was on the PUT's replica.
//
// Figures measured so far, and the controller's hot spots: docs/benchmarks.md.
//
// Layout: one domain (--domains D: D domains of consecutive networks, so consecutive blocks of
// switches); networks of K endpoints (one /24 subnet each, VNI allocated); switch s
// holds endpoints [s*M, (s+1)*M) and the endpoints of a network are spread over a block of
// --spread (10) consecutive switches, so a flood list has about 10 entries. The fill goes
// through the REST API (several keep-alive clients) with each endpoint's switch_name and
// port_name already set, so the attaches a switch sends are what an agent does at start; the
// --attaches unplaced ones (no switch_name, addresses from the top of their /24) are claimed by
// a switch serving their network. Every switch sends a Heartbeat each heartbeat_interval_ms
// (from Welcome) from Hello to the end, the beats spread evenly over the interval (as
// unsynchronised real switches would be). Each simulated switch keeps its cache (from FOUND
// replies, LocationUpdate, Invalidate, snapshots, and the EndpointMoved of an endpoint that
// left it: the controller keeps that switch as a cacher, dove-switch keeps the location) and
// the highest revision it applied; the model (holder_) is what the API was told.
//
// What the latencies are: resolve latency is from the moment the query is handed to the
// switch's stream to its ResolveReply; "from schedule" is from the instant the open-loop
// schedule planned it (a sender that falls behind sends at once and the schedule does not
// slip, so that figure is free of coordinated omission; late sends are counted). A move is
// authorized through the REST API (GET the endpoint for its version, PUT it with the new
// switch_name and port_name); its latency is from the PUT being sent (and, printed too, from
// the PUT's answer) to the last of the C cachers (and the old holder) hearing of it. The
// resolvers and cachers are switches that serve the endpoint's network; a move never takes
// the last endpoint of a network from a switch, so they keep serving it.
//
// Exit status: 0 when the run completed correctly, whatever the figures; 1 when an attach was
// refused or not acknowledged, a resolve of an existing endpoint was not FOUND, a move was not
// seen by every cacher, a probe was answered wrongly (or a cross-network refusal differed from
// a nonexistent VNI's), a cached location differed from the model (before or after the
// failover or the restart), the cache records differed from what the switches hold or were not
// freed, a stream broke (but those of a killed controller), a controller died (but the one the
// failover kills), a switch of the killed replica did not reconnect, or a phase made no
// progress for 60 s (120 s for the registration and the restart). Slow answers are counted
// ("over 10 s"), not failed.
#include <absl/synchronization/mutex.h>
#include <fcntl.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dove/v1/switch.grpc.pb.h"
#include "say.h"
#include "sim_controllers.h"
#include "sim_fill.h"
#include "sim_layout.h"
#include "sim_options.h"
#include "support/controller_process.h"
#include "support/temp_dir.h"

namespace dove::bench {
namespace {

using Clock = std::chrono::steady_clock;
using test_support::ControllerProcess;
using test_support::TempDir;

constexpr auto kReplyTimeout = std::chrono::seconds(10);
// How long the resolve phase's single thread sleeps at most between two looks at the completion
// queue: a reply waits at most this long to be taken (and timed), on top of its latency.
constexpr auto kPollInterval = std::chrono::microseconds(50);
constexpr int kIdlePolls = 3;
// The controller's limit on the messages of one SwitchBatch (message_check.h).
constexpr size_t kMaxBatchMessages = 1000;

// Set once the controllers (and their etcd) run, so that Die leaves no process or data
// directory behind.
ControllerSet* g_controllers = nullptr;
const std::filesystem::path* g_data_dir = nullptr;

// Ends the run: kills every controller and etcd member, removes their data, exits 1 without
// running destructors (gRPC's threads may still be calling into the switches).
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "switch_sim: %s\n", message.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  // One thread cleans up and exits; another dying meanwhile (the moves beside the resolves)
  // waits here instead of exiting in the middle of the cleanup.
  static std::mutex dying;
  dying.lock();
  std::error_code ignored;
  if (g_controllers != nullptr) {
    g_controllers->KillAll();
    g_controllers->RemoveFiles();
  }
  if (g_data_dir != nullptr) std::filesystem::remove_all(*g_data_dir, ignored);
  std::_Exit(1);
}

// SIGTERM or SIGINT (a run stopped by hand): set by the handler, acted on by a thread of its
// own, which runs Die's cleanup (the handler itself may do nothing but this store). Without it a
// stopped run left its etcd members' data behind (~780 MB each at 100,000 endpoints).
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void OnStopSignal(int signal) { g_stop_signal.store(signal); }

void DieOnStopSignals() {
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  std::thread([] {
    while (g_stop_signal.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Die("stopped by signal " + std::to_string(g_stop_signal.load()) +
        "; every controller and etcd member killed, their files removed");
  }).detach();
}

cpu_set_t CpuSet(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  return set;
}

// Pins every thread `pid` has now; the threads they start later inherit it.
void PinProcess(pid_t pid, const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  const cpu_set_t set = CpuSet(cpus);
  std::error_code ignored;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ignored)) {
    const pid_t tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
    if (::sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
      Die("cannot pin thread " + std::to_string(tid) +
          " of the controller: " + std::strerror(errno));
    }
  }
}

// -1 when `id` is not one of ours.
int EndpointIndex(std::string_view id) {
  if (id.substr(0, 3) != "ep-") return -1;
  int e = -1;
  std::from_chars(id.data() + 3, id.data() + id.size(), e);
  return e;
}

// A "Vm...:" line of /proc/PID/status in KiB: VmRSS (resident now), VmHWM (peak resident).
long StatusKib(pid_t pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + field.size(), nullptr, 10);
  }
  return -1;
}
long RssKib(pid_t pid) { return StatusKib(pid, "VmRSS:"); }
long PeakKib(pid_t pid) { return StatusKib(pid, "VmHWM:"); }

// The CPU time a process has used since it started, user + system (/proc/PID/stat's utime and
// stime, in clock ticks); 0 when it cannot be read.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t name_end = line.rfind(')');  // the command name may hold spaces
  if (name_end == std::string::npos) return 0;
  std::istringstream fields(line.substr(name_end + 2));
  std::string field;
  long long utime = 0;
  long long stime = 0;
  // Fields 3 (state) to 13 skipped, then utime (14) and stime (15).
  for (int i = 3; i <= 13; ++i) fields >> field;
  if (!(fields >> utime >> stime)) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// This process's own CPU time (every thread), user + system.
double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Samples a process's resident size every 20 ms and keeps the highest per phase, so the peak
// (VmHWM) can be told where it happened. Phases in the order they were named.
class RssWatch {
 public:
  explicit RssWatch(pid_t pid) : pid_(pid), thread_([this] { Run(); }) {}
  ~RssWatch() { Stop(); }
  RssWatch(const RssWatch&) = delete;
  RssWatch& operator=(const RssWatch&) = delete;

  void Phase(const std::string& name) {
    std::lock_guard lock(mutex_);
    peaks_.emplace_back(name, RssKib(pid_));
  }
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // (phase, highest VmRSS sampled in it, KiB).
  std::vector<std::pair<std::string, long>> Peaks() {
    std::lock_guard lock(mutex_);
    return peaks_;
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_; })) {
      if (peaks_.empty()) continue;
      lock.unlock();
      const long kib = RssKib(pid_);
      lock.lock();
      peaks_.back().second = std::max(peaks_.back().second, kib);
    }
  }

  pid_t pid_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<std::pair<std::string, long>> peaks_;
  std::thread thread_;  // last: starts once the rest is built
};

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// For a thread that sends on a schedule (open loop): wake at the planned time, not up to the
// default timer slack (50 us) after it. (The judged latency counts from the planned time
// whatever is late. A higher priority for the senders was tried: it starved the threads that
// take the replies, and the tail grew tenfold.)
void SendOnTime() { ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

// The q-quantile (0..1) of sorted nanosecond samples, in ms.
double QuantileMs(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto at = static_cast<size_t>(std::llround(q * static_cast<double>(sorted.size() - 1)));
  return static_cast<double>(sorted[std::min(at, sorted.size() - 1)]) / 1e6;
}

// ---- the controller ----------------------------------------------------------------------

// 1000 gRPC connections on each side: raise our soft fd limit (the controller inherits it).
void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  // Root may raise the hard limit too (up to fs.nr_open; not in a sandbox without
  // CAP_SYS_RESOURCE): a socket per switch, and during a failover or a restart a new one per
  // switch that moves before the ended one is freed (Release). Otherwise the hard limit it is.
  constexpr rlim_t kWanted = rlim_t{1} << 20;
  if (limit.rlim_max < kWanted) {
    const rlimit raised{.rlim_cur = kWanted, .rlim_max = kWanted};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
  }
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) Say("warning: cannot raise RLIMIT_NOFILE\n");
}

// Dies with the controller's log tail when one has exited (the others are killed).
void CheckControllerAlive() {
  if (g_controllers == nullptr) return;
  if (auto exited = g_controllers->Exited(); exited) Die(*exited);
}

// The serving controller's liveness decisions so far, from its log: a switch marked DOWN (and
// UP again) while it is connected and sending is work (LocationUpdates to its cachers, flood
// lists, a domain round) that the run did not ask for.
void SayLiveness(const char* phase) {
  if (g_controllers == nullptr) return;
  const std::string log = g_controllers->Logs();
  auto occurrences = [&](const std::string& text) {
    long long count = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++count;
    return count;
  };
  Say("%s: %s logged %lld switches DOWN (silent %lld, stream ended %lld, no "
      "Hello after its start %lld) and %lld UP so far\n",
      phase, g_controllers->size() == 1 ? "the controller has" : "the replicas have (together)",
      occurrences(" is DOWN: "), occurrences(" is DOWN: nothing heard"),
      occurrences(" is DOWN: its stream ended"), occurrences("of the controller's start"),
      occurrences(" is UP: "));
}

// ---- the simulated switches ----------------------------------------------------------------

class Sim;

// What a resolve is for: the measured load, a move's cachers, or a probe that must be refused
// or not found.
enum class Purpose { kLoad, kMove, kProbe };

// How a resolve was answered, for the probes.
enum class Answer { kFound, kNotFound, kDenied, kRefused, kOther };

// One switch: one channel (its own TCP connection), one Connect stream on the simulator's one
// completion queue, whose one thread (Sim::Poll) runs every switch's reactions: a thread per
// process, as a real switch has, instead of gRPC's callback threads handing every reply from
// one to another (on the simulator's one core those hand-overs were most of its time at
// 10,000 resolves/s). Send and the Resolve calls may come from any thread. It keeps what a switch
// keeps: the locations it cached (from FOUND replies, kept current by LocationUpdate,
// Invalidate and a snapshot), and the highest revision it applied, both handed to the stream
// that replaces it after a controller restart.
class SimSwitch final {
 public:
  enum class Op : uint8_t { kStart, kRead, kWrite, kFinish };
  struct Tag {
    SimSwitch* self;
    Op op;
  };

  SimSwitch(Sim* sim, int index) : sim_(sim), index_(index), name_(SwitchName(index)) {}

  // Opens the channel and the stream on `cq` and sends Hello (with what `previous`, the stream
  // this one replaces, had cached and applied). After SyncDone it attaches the endpoints the
  // model says it holds.
  void Start(const std::string& target, const SimSwitch* previous, grpc::CompletionQueue* cq);
  // Cancels the stream; Wait() returns once it is done.
  void Stop();
  void Wait();
  // Once ended: frees the call, the stub and the channel (its socket: the restart of 10,000
  // switches ran out of file descriptors with the ended ones kept), keeping the figures and
  // the cache. It drops what is sent to it, as before.
  void Release();
  // Its controller is about to be killed: the stream's end is expected, not a failure.
  void ExpectEnd() { stopping_ = true; }
  // The stream is over (no operation in flight): its state may go to a new one.
  bool ended() {
    std::lock_guard lock(done_mutex_);
    return done_;
  }

  void Send(v1::SwitchMessage message);
  // A resolve of endpoint e in its network's VNI.
  void Resolve(int e, bool by_ip, Purpose purpose, Clock::time_point planned);
  // A resolve of `by_ip ? ip : mac` in `vni`, for probe slot `slot`.
  void Probe(int slot, uint32_t vni, bool by_ip, const std::string& address);
  // An Attach of the (unplaced) endpoint e, measured from `planned`.
  void AttachMeasured(int e, const std::string& port, Clock::time_point planned);
  // Load resolves still unanswered; drops them when `drop`.
  size_t Outstanding(bool drop);
  // Moves the latencies out (nanoseconds: from the send, from the schedule, and the planned
  // instant, in the same order).
  void TakeLatencies(std::vector<int64_t>* sent, std::vector<int64_t>* planned,
                     std::vector<int64_t>* planned_at);
  // endpoint -> the switch name it cached.
  std::unordered_map<int, std::string> Cache() const;

  const std::string& name() const { return name_; }
  bool broken() const { return broken_.load(); }
  bool welcomed() const { return welcomed_.load(); }
  // The channel's connectivity state (grpc_connectivity_state), without connecting.
  int ChannelState() const { return static_cast<int>(channel_->GetState(false)); }

  // The completion-queue thread: an operation of this stream completed.
  void OnEvent(Op op, bool ok);

 private:
  struct Pending {
    int endpoint = 0;
    Purpose purpose = Purpose::kLoad;
    int slot = -1;     // probes
    uint32_t vni = 0;  // probes: replaced in the answer's text before it is compared
    Clock::time_point planned;
    Clock::time_point sent;
  };
  struct Attaching {
    Clock::time_point planned;
    Clock::time_point sent;
    bool measured = false;  // the attach phase, not the registration
  };

  void Handle(const v1::ControllerMessage& message);
  // With mutex_: starts writing `message` (gRPC serialises it before returning).
  void WriteLocked(const v1::SwitchMessage& message);
  // With mutex_: once the read failed and no write is in flight, asks for the status.
  void MaybeFinishLocked();
  // The call is over and no operation is in flight.
  void OnDone();
  void OnReply(const v1::ResolveReply& reply);
  void OnRefusal(const v1::Refusal& refusal);
  void AttachHeld();
  void Acknowledged(int e);

  Sim* sim_;
  int index_;
  std::string name_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SwitchService::Stub> stub_;
  // Owned apart so that Release() can free it: it holds the call, and the call its channel.
  std::unique_ptr<grpc::ClientContext> context_ = std::make_unique<grpc::ClientContext>();
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::SwitchMessage, v1::ControllerMessage>> stream_;
  Tag start_tag_{this, Op::kStart};
  Tag read_tag_{this, Op::kRead};
  Tag write_tag_{this, Op::kWrite};
  Tag finish_tag_{this, Op::kFinish};
  v1::ControllerMessage incoming_;
  grpc::Status status_;

  mutable std::mutex mutex_;
  std::deque<v1::SwitchMessage> queue_;
  bool writing_ = true;  // until the call has started: Hello waits in the queue
  int ops_ = 0;          // operations in flight
  bool read_failed_ = false;
  bool finish_started_ = false;
  std::unordered_map<uint64_t, Pending> pending_;
  std::vector<int64_t> latency_sent_;
  std::vector<int64_t> latency_planned_;
  std::vector<int64_t> planned_at_;  // each measured resolve's planned instant (steady clock)
  std::unordered_map<int, Attaching> attaching_;  // attaches not yet acknowledged
  int registration_left_ = 0;                     // of the held endpoints attached at SyncDone
  std::unordered_map<int, std::string> cache_;    // endpoint -> switch name
  std::unordered_map<int, bool> listed_;          // sent in Hello.cached_endpoint_ids
  int64_t revision_ = 0;                          // the highest revision applied

  std::atomic<bool> broken_{false};
  std::atomic<bool> welcomed_{false};
  std::atomic<bool> stopping_{false};
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

// The one move being measured: who must hear of it, and when they did.
struct MoveWatch {
  std::mutex mutex;
  std::condition_variable cv;
  int endpoint = -1;
  // Resolve step: the cachers' answers.
  int answers = 0;
  int found = 0;
  // Attach step.
  bool moving = false;
  std::string new_switch;
  Clock::time_point attach_sent;
  std::map<int, Clock::time_point> cachers;  // switch index -> when it heard (set when heard)
  std::map<int, bool> heard;
  int old_holder = -1;
  bool old_heard = false;
  Clock::time_point old_heard_at;
};

class Sim {
 public:
  // `api_ports`: each replica's REST API port (one for one controller).
  Sim(const Options& options, Layout layout, std::vector<uint32_t> vnis, std::vector<int> api_ports)
      : options_(options),
        layout_(layout),
        vnis_(std::move(vnis)),
        api_ports_(std::move(api_ports)),
        replicas_(static_cast<int>(api_ports_.size())) {
    replica_of_.resize(static_cast<size_t>(layout_.switches));
    for (int s = 0; s < layout_.switches; ++s) replica_of_[static_cast<size_t>(s)] = s % replicas_;
    const int endpoints = layout_.AllEndpoints();
    members_.resize(static_cast<size_t>(layout_.Networks()));
    home_serving_.resize(static_cast<size_t>(layout_.Networks()));
    holder_.resize(static_cast<size_t>(endpoints));
    port_.resize(static_cast<size_t>(endpoints));
    for (int e = 0; e < layout_.Endpoints(); ++e) {
      const auto n = static_cast<size_t>(layout_.NetworkOf(e));
      members_[n].push_back(e);
      holder_[static_cast<size_t>(e)] = layout_.HomeSwitch(e);
      port_[static_cast<size_t>(e)] = PortName(e);
      auto& serving = home_serving_[n];
      if (std::find(serving.begin(), serving.end(), layout_.HomeSwitch(e)) == serving.end()) {
        serving.push_back(layout_.HomeSwitch(e));
      }
    }
    // Each unplaced endpoint is claimed by one of the switches that serve its network.
    for (int e = layout_.Endpoints(); e < endpoints; ++e) {
      const auto n = static_cast<size_t>(layout_.NetworkOfAny(e));
      const auto& serving = home_serving_[n];
      members_[n].push_back(e);
      holder_[static_cast<size_t>(e)] =
          serving[static_cast<size_t>((e - layout_.Endpoints()) / layout_.Networks()) %
                  serving.size()];
      port_[static_cast<size_t>(e)] = PortName(e);
    }
    held_.resize(static_cast<size_t>(layout_.switches));
    for (int e = 0; e < layout_.Endpoints(); ++e) {
      held_[static_cast<size_t>(layout_.HomeSwitch(e))].push_back(e);
    }
    poller_ = std::thread([this] { Poll(); });
  }
  // Ends the streams still open, then the completion queue's thread.
  ~Sim() {
    for (auto& each : switches_) each->Stop();
    for (auto& each : switches_) each->Wait();
    cq_.Shutdown();
    poller_.join();
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  // The thread of the completion queue every switch's stream uses. While the resolve phase
  // runs it also sends the resolves (Pace), so a send and the reply it brings never wake
  // another thread of the simulator.
  void Poll() {
    void* tag = nullptr;
    bool ok = false;
    for (;;) {
      if (pacing_.load(std::memory_order_acquire)) {
        if (!Pace()) return;
        continue;
      }
      if (!cq_.Next(&tag, &ok)) return;
      Dispatch(tag, ok);
    }
  }

  const Options& options() const { return options_; }
  const Layout& layout() const { return layout_; }
  uint32_t VniOf(int e) const { return vnis_[static_cast<size_t>(NetworkOfEndpoint(e))]; }
  int NetworkOfEndpoint(int e) const { return layout_.NetworkOfAny(e); }
  std::string IpOf(int e) const { return Ip(layout_, e); }
  // What switch s attaches after SyncDone: the endpoints the model says it holds.
  const std::vector<int>& Held(int s) const { return held_[static_cast<size_t>(s)]; }
  const std::string& PortOf(int e) const { return port_[static_cast<size_t>(e)]; }

  // Reported by the switches. `cache` is what the switch holds once SyncDone arrived.
  void Synced(int s, const std::unordered_map<int, std::string>& cache) {
    if (resyncing_.load()) CheckResync(s, cache);
    if (synced_.fetch_add(1) + 1 == layout_.switches) all_synced_at_ = Clock::now();
  }
  void SwitchAcked() {
    if (switches_acked_.fetch_add(1) + 1 == layout_.switches) all_acked_at_ = Clock::now();
  }
  void Acked() { acks_.fetch_add(1, std::memory_order_relaxed); }
  void AttachDone(int64_t from_send_ns, int64_t from_schedule_ns) {
    std::lock_guard lock(attach_mutex_);
    attach_sent_ns_.push_back(from_send_ns);
    attach_planned_ns_.push_back(from_schedule_ns);
    last_attach_ack_ = Clock::now();
  }
  void AttachRefused(const std::string& text) {
    if (attach_refused_.fetch_add(1) < 10) Say("attach refused: %s\n", text.c_str());
  }
  void StreamBroke(const std::string& name, const grpc::Status& status) {
    if (restarting_.load() && !reconnected_.load()) return;  // the controller was killed
    if (streams_broken_.fetch_add(1) < 10) {
      Say("stream of %s ended: %d %s\n", name.c_str(), static_cast<int>(status.error_code()),
          status.error_message().c_str());
    }
  }
  void ResolveAnswered(const v1::ResolveReply& reply, int expected) {
    switch (reply.status()) {
      case v1::ResolveReply::STATUS_FOUND:
        if (EndpointIndex(reply.location().endpoint_id()) == expected) {
          found_.fetch_add(1, std::memory_order_relaxed);
        } else {
          wrong_.fetch_add(1);
        }
        break;
      case v1::ResolveReply::STATUS_NOT_FOUND:
        not_found_.fetch_add(1);
        break;
      case v1::ResolveReply::STATUS_DENIED:
        denied_.fetch_add(1);
        break;
      default:
        wrong_.fetch_add(1);
    }
    if (reply.status() != v1::ResolveReply::STATUS_FOUND &&
        not_found_.load() + denied_.load() < 5) {
      Say("resolve not found: %s\n", reply.reason().c_str());
    }
  }
  void ResolveRefused(const std::string& text) {
    if (resolve_refused_.fetch_add(1) < 5) Say("resolve refused: %s\n", text.c_str());
  }
  // A probe's answer: its kind and its text with the VNI asked replaced by "<vni>".
  void ProbeAnswered(int slot, Answer answer, std::string shape) {
    std::lock_guard lock(probe_mutex_);
    auto& result = probe_results_[static_cast<size_t>(slot)];
    if (result.first != Answer::kOther || !result.second.empty()) return;
    result = {answer, std::move(shape)};
    ++probes_answered_;
  }
  void LateReply() { late_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t NextQueryId() { return next_query_.fetch_add(1, std::memory_order_relaxed); }
  void SetHeartbeatInterval(uint32_t ms) {
    if (ms > 0) heartbeat_ms_.store(ms);
  }

  // Move reports (from any switch).
  void MoveAnswered(int /*cacher*/, int e, bool found) {
    std::lock_guard lock(watch_.mutex);
    if (e != watch_.endpoint || watch_.moving) return;
    ++watch_.answers;
    if (found) ++watch_.found;
    watch_.cv.notify_all();
  }
  void HeardLocation(int s, int e, const std::string& switch_name, bool moved_message) {
    const auto now = Clock::now();
    std::lock_guard lock(watch_.mutex);
    if (e != watch_.endpoint || !watch_.moving || switch_name != watch_.new_switch) return;
    if (moved_message) {
      if (s == watch_.old_holder && !watch_.old_heard) {
        watch_.old_heard = true;
        watch_.old_heard_at = now;
      }
    } else if (auto it = watch_.heard.find(s); it != watch_.heard.end() && !it->second) {
      it->second = true;
      watch_.cachers[s] = now;
    }
    watch_.cv.notify_all();
  }

  // A replica's memory at the points the report compares (KiB; VmHWM is the peak).
  struct Memory {
    long empty_kib = 0, empty_peak_kib = 0, filled_kib = 0, loaded_kib = 0;
    long registered_kib = 0, serving_kib = 0, serving_peak_kib = 0;
  };

  // Every phase and the report; its exit status. `controllers` serve (the restart phase
  // restarts them); `memory` holds each replica's empty, filled and loaded figures.
  int Run(ControllerSet* controllers, std::vector<Memory> memory);

  // The replica switch s is connected to: s % N from the start, the next live one in its list
  // (s % N, s % N + 1, ...) after its replica failed over. Written by the main thread only
  // while no other thread reads it (the failover's resolves are asked by the others).
  int ReplicaOf(int s) const { return replica_of_[static_cast<size_t>(s)]; }

 private:
  // Switch s connects to southbound_ports[ReplicaOf(s)].
  void Register(const std::vector<int>& southbound_ports);
  void Heartbeats();
  void StartHeartbeats();
  void StopHeartbeats();
  void Attaches();
  void Resolves();
  // Starts the open-loop schedule of `total` resolves at --resolve-rate on the completion queue's
  // thread (Pace), asked only by the switches `may_ask` marks (empty: any); returns its start.
  Clock::time_point StartSchedule(int64_t total, std::vector<char> may_ask);
  // Load resolves not answered yet, over every switch.
  size_t Outstanding();
  // A completion queue event to its stream; the pacer's wake-up alarm (no stream) is dropped.
  static void Dispatch(void* tag, bool ok);
  // The resolve phase's open-loop schedule, on the completion queue's thread: sends every
  // resolve whose planned instant has come, then takes the events that are ready without
  // waiting, then sleeps until the next planned send but at most kPollInterval. False when
  // the queue shut down.
  bool Pace();
  // One resolve of the schedule, planned for `planned`: a random endpoint, asked by another
  // switch that serves its network.
  void SendResolve(Clock::time_point planned);
  // The same, asked only by a switch schedule_.may_ask marks.
  void SendResolveFromSome(Clock::time_point planned);
  // --latency-log: the measured resolves (latency_sent_ and latency_planned_, unsorted yet, and
  // their planned instants) in planned order, times since `start`.
  void WriteLatencyLog(Clock::time_point start, const std::vector<int64_t>& planned_at) const;
  void Moves();
  // Moves started per second (--move-rate); 0: back to back.
  double MoveRate() const {
    if (options_.move_rate >= 0) return options_.move_rate;
    return options_.resolve_seconds > 0
               ? static_cast<double>(options_.moves) / static_cast<double>(options_.resolve_seconds)
               : 0;
  }
  void Probes();
  void Restart(ControllerSet* controllers);
  // The failover phase (replicas): the last replica killed -9 under the resolve load, its
  // switches reconnected to the next replica and verified, the replica started again.
  void Failover(ControllerSet* controllers);
  // A /metrics value summed over the replicas but `skip` (-1 when one lacks it).
  int64_t MetricSum(const std::string& name, int skip = -1) const;
  // The per-replica lines of the report (replicas_ > 1).
  void ReportReplicas();
  void CheckResync(int s, const std::unordered_map<int, std::string>& cache);
  // Mismatches between the switches' caches and the model (holder_), printed; `records`: how
  // many locations they hold.
  int64_t CheckCaches(const char* when, int64_t* records);
  std::vector<int> ServingSwitches(int n) const;
  int Report();
  void WaitProgress(const char* what, const std::function<bool()>& done,
                    const std::function<std::string()>& progress, std::chrono::seconds stall);

  Options options_;
  Layout layout_;
  std::vector<uint32_t> vnis_;
  // Declared before the switches: their calls go before the queue does.
  grpc::CompletionQueue cq_;
  std::thread poller_;  // Poll()
  std::vector<std::unique_ptr<SimSwitch>> switches_;
  std::vector<std::unique_ptr<SimSwitch>> ended_;  // streams of the killed controller
  // Held by the heartbeat thread while it takes a switch from switches_, and by the failover
  // while it replaces one there.
  std::mutex switches_mutex_;
  std::vector<int> replica_of_;  // switch -> the replica it is connected to
  std::vector<int> api_ports_;   // replica -> its REST API port
  int replicas_;
  std::vector<std::vector<int>> members_;       // network -> its endpoints
  std::vector<std::vector<int>> home_serving_;  // network -> switches serving it from the start
  std::vector<int> holder_;                     // endpoint -> switch index (moves change it)
  std::vector<std::string> port_;               // endpoint -> its port name
  std::vector<std::vector<int>> held_;          // switch -> endpoints it attaches at SyncDone

  std::atomic<int> synced_{0};
  std::atomic<int> switches_acked_{0};
  std::atomic<int64_t> acks_{0};
  std::atomic<int> attach_refused_{0};
  std::atomic<int> streams_broken_{0};
  Clock::time_point all_synced_at_;
  Clock::time_point all_acked_at_;
  Clock::time_point registration_start_;

  // The attach phase.
  std::mutex attach_mutex_;
  std::vector<int64_t> attach_sent_ns_;
  std::vector<int64_t> attach_planned_ns_;
  Clock::time_point last_attach_ack_;
  Clock::duration attach_time_{};
  int64_t attach_late_sends_ = 0;

  std::atomic<uint64_t> next_query_{1};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> found_{0};
  std::atomic<int64_t> not_found_{0};
  std::atomic<int64_t> denied_{0};
  std::atomic<int64_t> wrong_{0};
  std::atomic<int64_t> resolve_refused_{0};
  std::atomic<int64_t> late_{0};
  // The resolve answers counted so far, to tell the phases' apart.
  struct ResolveCounts {
    int64_t found = 0, not_found = 0, denied = 0, wrong = 0, refused = 0, unmatched = 0;
    int64_t Failed() const { return not_found + denied + wrong + refused + unmatched; }
    ResolveCounts operator-(const ResolveCounts& other) const {
      return {found - other.found, not_found - other.not_found, denied - other.denied,
              wrong - other.wrong, refused - other.refused,     unmatched - other.unmatched};
    }
  };
  ResolveCounts Counts() const {
    return {found_.load(), not_found_.load(),       denied_.load(),
            wrong_.load(), resolve_refused_.load(), late_.load()};
  }
  ResolveCounts resolve_counts_;  // the resolve phase's, once its replies were all in
  int64_t timeouts_ = 0;
  int64_t late_sends_ = 0;  // sends more than 1 ms behind the schedule
  double achieved_rate_ = 0;
  std::vector<int64_t> latency_sent_;
  std::vector<int64_t> latency_planned_;
  // By the asking switch's replica: sorted latencies and the resolves sent (by Pace only).
  std::vector<std::vector<int64_t>> replica_sent_ns_;
  std::vector<std::vector<int64_t>> replica_planned_ns_;
  std::vector<int64_t> replica_sends_;
  double send_seconds_ = 0;
  std::atomic<bool> resolving_{false};
  // The resolve phase's schedule, set by Resolves() before pacing_ and read by Pace() only.
  struct Schedule {
    Clock::time_point start;
    double period_ns = 0;
    int64_t total = 0;
    int64_t next = 0;  // the next position to send
    int64_t late_sends = 0;
    std::mt19937_64 random{1};
    std::vector<char> may_ask;  // switch -> may ask (the failover's load); empty: any
  };
  Schedule schedule_;
  std::atomic<bool> pacing_{false};
  grpc::Alarm pace_alarm_;  // wakes Poll() out of Next() to start pacing
  SimSwitch::Tag pace_tag_{nullptr, SimSwitch::Op::kStart};

  // The probes: 4 slots per probe (cross-network, nonexistent VNI, nonexistent address,
  // another network's IP in a served VNI).
  std::mutex probe_mutex_;
  std::vector<std::pair<Answer, std::string>> probe_results_;
  int64_t probes_answered_ = 0;
  int probes_run_ = 0;

  std::atomic<uint32_t> heartbeat_ms_{1000};
  std::atomic<bool> heartbeats_stop_{false};
  std::thread heartbeats_;

  MoveWatch watch_;
  std::vector<int64_t> move_ns_;
  std::vector<int64_t> moved_message_ns_;
  std::vector<int64_t> move_after_put_ns_;  // from the PUT's answer to the last one hearing
  std::vector<int64_t> put_ns_;             // the PUT itself
  int64_t cachers_total_ = 0;
  int moves_failed_ = 0;
  int moves_done_ = 0;
  int moves_under_load_ = 0;  // PUT sent while the open-loop resolves ran
  // Replicas: the moves by whether the last switch to hear (cacher or old holder) is on the
  // replica the PUT went to ("same") or on another ("other"); from the PUT sent / its answer.
  std::vector<int64_t> move_same_ns_, move_other_ns_;
  std::vector<int64_t> move_same_after_put_ns_, move_other_after_put_ns_;
  int64_t put_conflicts_ = 0;  // PUTs answered 409 (a replica's index behind), retried

  // Memory (replica 0's in the scalars, as with one controller) and cache records.
  std::vector<Memory> memory_;  // per replica
  long empty_kib_ = 0, empty_peak_kib_ = 0, filled_kib_ = 0, loaded_kib_ = 0;
  long registered_kib_ = 0, serving_kib_ = 0, serving_peak_kib_ = 0;
  int64_t records_serving_ = -1;  // dove_southbound_cache_records, all caching
  int64_t records_model_ = 0;     // what the switches hold in their caches
  int64_t records_bound_ = 0;     // each switch caching every endpoint of the networks it serves
  int64_t records_after_restart_ = -1;  // re-listed in the Hellos after the restart
  int64_t records_after_end_ = -1;      // after every switch disconnected

  // The restart phase.
  std::atomic<bool> restarting_{false};
  std::atomic<bool> reconnected_{false};
  std::unordered_map<int, std::unordered_map<int, std::string>> expected_caches_;
  std::atomic<int64_t> resync_missing_{0};    // cached before, not after
  std::atomic<int64_t> resync_wrong_{0};      // location differs from the model
  std::atomic<int64_t> cache_mismatches_{0};  // before the kill
  Clock::duration restart_ready_{};           // kill -> controller ready
  Clock::duration restart_synced_{};          // kill -> every switch synced and verified
  Clock::duration restart_acked_{};           // kill -> every switch's attaches acknowledged
  bool restart_done_ = false;
  // Switches that reconnected (the restart, the failover) compare their cache at SyncDone with
  // expected_caches_; the phase's name for the messages.
  std::atomic<bool> resyncing_{false};
  std::atomic<const char*> resync_phase_{"restart"};

  // The failover phase (replicas > 1): the last replica killed under the resolve load; the
  // rest of its figures are printed as it runs.
  bool failover_done_ = false;
  Clock::duration failover_synced_{};    // kill -> every moved switch synced, cache verified
  Clock::duration failover_acked_{};     // kill -> every moved switch's attaches acknowledged
  int64_t failover_missing_ = 0;         // cached before, not after
  int64_t failover_wrong_ = 0;           // location differs from the model
  int64_t failover_cache_wrong_ = 0;     // cached locations against the model, after it
  int64_t failover_records_ = -1;        // dove_southbound_cache_records, all replicas, after
  int64_t failover_records_model_ = -1;  // what the switches hold then

  std::function<std::string()> stall_detail_;
  std::vector<std::pair<std::string, long>> rss_peaks_;  // the serving controller's, by phase
  Clock::duration registration_time_{};
  Clock::duration sync_time_{};
};

void SimSwitch::Start(const std::string& target, const SimSwitch* previous,
                      grpc::CompletionQueue* cq) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // its own TCP connection
  // As dove-switch's channel (agent/controller_client.cc): no bandwidth-delay probes, each a
  // PING to answer and a timer on both ends.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::SwitchService::NewStub(channel_);
  stream_ = stub_->PrepareAsyncConnect(context_.get(), cq);
  v1::SwitchMessage hello;
  hello.mutable_hello()->set_switch_name(name_);
  hello.mutable_hello()->set_tunnel_ip(TunnelIp(index_));
  hello.mutable_hello()->set_software_version("switch_sim");
  hello.mutable_hello()->set_accepts_batches(true);  // as dove-switch
  if (previous != nullptr) {
    std::lock_guard lock(previous->mutex_);
    std::lock_guard mine(mutex_);
    cache_ = previous->cache_;
    revision_ = previous->revision_;
    hello.mutable_hello()->set_last_revision(revision_);
    for (const auto& [e, where] : cache_) {
      hello.mutable_hello()->add_cached_endpoint_ids(EndpointId(e));
      listed_[e] = true;
    }
  }
  Send(std::move(hello));  // queued until the call has started
  std::lock_guard lock(mutex_);
  ++ops_;
  stream_->StartCall(&start_tag_);
}

void SimSwitch::Stop() {
  stopping_ = true;
  std::lock_guard lock(mutex_);
  if (context_) context_->TryCancel();
}

void SimSwitch::Wait() {
  std::unique_lock lock(done_mutex_);
  done_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_; });
}

void SimSwitch::Release() {
  if (!ended()) return;
  std::lock_guard lock(mutex_);
  stream_.reset();
  context_.reset();
  stub_.reset();
  channel_.reset();
}

void SimSwitch::Send(v1::SwitchMessage message) {
  std::lock_guard lock(mutex_);
  if (broken_ || read_failed_) return;
  if (writing_) {
    queue_.push_back(std::move(message));
    return;
  }
  WriteLocked(message);
}

void SimSwitch::WriteLocked(const v1::SwitchMessage& message) {
  writing_ = true;
  ++ops_;
  stream_->Write(message, &write_tag_);
}

void SimSwitch::MaybeFinishLocked() {
  if (!read_failed_ || writing_ || finish_started_) return;
  finish_started_ = true;
  ++ops_;
  stream_->Finish(&status_, &finish_tag_);
}

void SimSwitch::OnEvent(Op op, bool ok) {
  if (op == Op::kRead && ok) Handle(incoming_);  // before the next read overwrites it
  bool done = false;
  {
    std::lock_guard lock(mutex_);
    --ops_;
    switch (op) {
      case Op::kStart:
        writing_ = false;
        ++ops_;
        stream_->Read(&incoming_, &read_tag_);  // fails at once if the call did not start
        if (ok && !queue_.empty()) {
          const v1::SwitchMessage next = std::move(queue_.front());
          queue_.pop_front();
          WriteLocked(next);
        }
        break;
      case Op::kRead:
        if (ok) {
          ++ops_;
          stream_->Read(&incoming_, &read_tag_);
        } else {  // the stream ended; Finish says how
          read_failed_ = true;
          queue_.clear();
        }
        break;
      case Op::kWrite:
        writing_ = false;
        if (!ok) {
          broken_ = true;
          queue_.clear();
        } else if (!queue_.empty()) {
          const v1::SwitchMessage next = std::move(queue_.front());
          queue_.pop_front();
          WriteLocked(next);
        }
        break;
      case Op::kFinish:
        break;
    }
    MaybeFinishLocked();
    done = finish_started_ && ops_ == 0;
  }
  if (done) OnDone();
}

void SimSwitch::Resolve(int e, bool by_ip, Purpose purpose, Clock::time_point planned) {
  const uint64_t query = sim_->NextQueryId();
  v1::SwitchMessage message;
  if (by_ip) {
    auto* resolve = message.mutable_resolve_ip();
    resolve->set_query_id(query);
    resolve->set_vni(sim_->VniOf(e));
    resolve->set_ip(sim_->IpOf(e));
  } else {
    auto* resolve = message.mutable_resolve_mac();
    resolve->set_query_id(query);
    resolve->set_vni(sim_->VniOf(e));
    resolve->set_mac(Mac(e));
  }
  {
    std::lock_guard lock(mutex_);
    pending_[query] = {.endpoint = e, .purpose = purpose, .planned = planned, .sent = Clock::now()};
  }
  Send(std::move(message));
}

void SimSwitch::Probe(int slot, uint32_t vni, bool by_ip, const std::string& address) {
  const uint64_t query = sim_->NextQueryId();
  v1::SwitchMessage message;
  if (by_ip) {
    message.mutable_resolve_ip()->set_query_id(query);
    message.mutable_resolve_ip()->set_vni(vni);
    message.mutable_resolve_ip()->set_ip(address);
  } else {
    message.mutable_resolve_mac()->set_query_id(query);
    message.mutable_resolve_mac()->set_vni(vni);
    message.mutable_resolve_mac()->set_mac(address);
  }
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    pending_[query] = {.endpoint = -1,
                       .purpose = Purpose::kProbe,
                       .slot = slot,
                       .vni = vni,
                       .planned = now,
                       .sent = now};
  }
  Send(std::move(message));
}

void SimSwitch::AttachMeasured(int e, const std::string& port, Clock::time_point planned) {
  {
    std::lock_guard lock(mutex_);
    attaching_[e] = {.planned = planned, .sent = Clock::now(), .measured = true};
  }
  v1::SwitchMessage attach;
  attach.mutable_attach()->set_endpoint_id(EndpointId(e));
  attach.mutable_attach()->set_port_name(port);
  Send(std::move(attach));
}

void SimSwitch::AttachHeld() {
  const std::vector<int>& held = sim_->Held(index_);
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (int e : held) attaching_[e] = {.planned = now, .sent = now, .measured = false};
    registration_left_ = static_cast<int>(held.size());
  }
  if (held.empty()) sim_->SwitchAcked();
  // One SwitchBatch of at most kMaxBatchMessages, as dove-switch re-attaches its ports.
  for (size_t start = 0; start < held.size(); start += kMaxBatchMessages) {
    v1::SwitchMessage batch;
    for (size_t i = start; i < std::min(held.size(), start + kMaxBatchMessages); ++i) {
      auto* attach = batch.mutable_batch()->add_messages()->mutable_attach();
      attach->set_endpoint_id(EndpointId(held[i]));
      attach->set_port_name(sim_->PortOf(held[i]));
    }
    Send(std::move(batch));
  }
}

void SimSwitch::Acknowledged(int e) {
  const auto now = Clock::now();
  Attaching attaching;
  bool all = false;
  {
    std::lock_guard lock(mutex_);
    auto it = attaching_.find(e);
    if (it == attaching_.end()) return;
    attaching = it->second;
    attaching_.erase(it);
    if (!attaching.measured) all = --registration_left_ == 0;
  }
  if (attaching.measured) {
    sim_->AttachDone(Nanos(now - attaching.sent), Nanos(now - attaching.planned));
  } else {
    sim_->Acked();
    if (all) sim_->SwitchAcked();
  }
}

size_t SimSwitch::Outstanding(bool drop) {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.purpose != Purpose::kLoad) {
      ++it;
      continue;
    }
    ++count;
    it = drop ? pending_.erase(it) : std::next(it);
  }
  return count;
}

void SimSwitch::TakeLatencies(std::vector<int64_t>* sent, std::vector<int64_t>* planned,
                              std::vector<int64_t>* planned_at) {
  std::lock_guard lock(mutex_);
  sent->insert(sent->end(), latency_sent_.begin(), latency_sent_.end());
  planned->insert(planned->end(), latency_planned_.begin(), latency_planned_.end());
  planned_at->insert(planned_at->end(), planned_at_.begin(), planned_at_.end());
  latency_sent_.clear();
  latency_planned_.clear();
  planned_at_.clear();
}

std::unordered_map<int, std::string> SimSwitch::Cache() const {
  std::lock_guard lock(mutex_);
  return cache_;
}

void SimSwitch::OnDone() {
  {
    std::lock_guard lock(mutex_);
    broken_ = true;
  }
  if (!stopping_) sim_->StreamBroke(name_, status_);
  std::lock_guard lock(done_mutex_);
  done_ = true;
  done_cv_.notify_all();
}

void SimSwitch::Handle(const v1::ControllerMessage& message) {
  if (message.has_batch()) {  // as dove-switch: each message in order, as if alone
    for (const auto& each : message.batch().messages()) {
      if (!each.has_batch()) Handle(each);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    revision_ = std::max(revision_, message.revision());
  }
  switch (message.body_case()) {
    case v1::ControllerMessage::kWelcome:
      welcomed_ = true;
      sim_->SetHeartbeatInterval(message.welcome().heartbeat_interval_ms());
      if (message.welcome().snapshot()) {
        std::lock_guard lock(mutex_);
        cache_.clear();  // what follows is the whole truth about the listed endpoints
      }
      break;
    case v1::ControllerMessage::kSyncDone:
      sim_->Synced(index_, Cache());
      AttachHeld();  // as an agent does for the ports it has
      break;
    case v1::ControllerMessage::kLocationUpdate: {
      const auto& location = message.location_update().location();
      const int e = EndpointIndex(location.endpoint_id());
      {
        std::lock_guard lock(mutex_);
        if (cache_.count(e) > 0 || listed_.count(e) > 0) cache_[e] = location.switch_name();
      }
      if (location.switch_name() == name_) Acknowledged(e);
      sim_->HeardLocation(index_, e, location.switch_name(), false);
      break;
    }
    case v1::ControllerMessage::kInvalidate: {
      std::lock_guard lock(mutex_);
      cache_.erase(EndpointIndex(message.invalidate().endpoint_id()));
      break;
    }
    case v1::ControllerMessage::kEndpointMoved: {
      // The switch the endpoint left keeps where it went, as dove-switch's EndpointCache does:
      // the controller records it as a cacher (the simulator's moves always leave it serving
      // the network), so it hears of the next move and counts in the cache records.
      const auto& location = message.endpoint_moved().location();
      const int e = EndpointIndex(location.endpoint_id());
      {
        std::lock_guard lock(mutex_);
        cache_[e] = location.switch_name();
      }
      sim_->HeardLocation(index_, e, location.switch_name(), true);
      break;
    }
    case v1::ControllerMessage::kResolveReply:
      OnReply(message.resolve_reply());
      break;
    case v1::ControllerMessage::kError:
      OnRefusal(message.error());
      break;
    default:  // NetworkConfig, FloodList, Heartbeat, ...: a switch would apply them
      break;
  }
}

// `text` with every occurrence of `vni` (as decimal) replaced by "<vni>".
std::string WithoutVni(std::string text, uint32_t vni) {
  const std::string number = std::to_string(vni);
  for (size_t at = text.find(number); at != std::string::npos; at = text.find(number, at + 5)) {
    text.replace(at, number.size(), "<vni>");
  }
  return text;
}

void SimSwitch::OnReply(const v1::ResolveReply& reply) {
  const auto now = Clock::now();
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(reply.query_id());
    if (it == pending_.end()) {
      sim_->LateReply();
      return;
    }
    pending = it->second;
    pending_.erase(it);
    if (pending.purpose == Purpose::kLoad) {
      latency_sent_.push_back(Nanos(now - pending.sent));
      latency_planned_.push_back(Nanos(now - pending.planned));
      planned_at_.push_back(Nanos(pending.planned.time_since_epoch()));
    }
    if (pending.purpose != Purpose::kProbe && reply.status() == v1::ResolveReply::STATUS_FOUND) {
      cache_[pending.endpoint] = reply.location().switch_name();
    }
  }
  switch (pending.purpose) {
    case Purpose::kMove:
      sim_->MoveAnswered(index_, pending.endpoint,
                         reply.status() == v1::ResolveReply::STATUS_FOUND &&
                             EndpointIndex(reply.location().endpoint_id()) == pending.endpoint);
      break;
    case Purpose::kLoad:
      sim_->ResolveAnswered(reply, pending.endpoint);
      break;
    case Purpose::kProbe: {
      Answer answer = Answer::kOther;
      if (reply.status() == v1::ResolveReply::STATUS_FOUND) answer = Answer::kFound;
      if (reply.status() == v1::ResolveReply::STATUS_NOT_FOUND) answer = Answer::kNotFound;
      if (reply.status() == v1::ResolveReply::STATUS_DENIED) answer = Answer::kDenied;
      sim_->ProbeAnswered(pending.slot, answer,
                          "reply " + std::to_string(static_cast<int>(reply.status())) + " " +
                              WithoutVni(reply.reason(), pending.vni));
      break;
    }
  }
}

void SimSwitch::OnRefusal(const v1::Refusal& refusal) {
  const std::string text = name_ + ": " + refusal.code() + ": " + refusal.message();
  if (refusal.query_id() != 0) {
    Pending pending;
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(refusal.query_id());
      if (it == pending_.end()) return;
      pending = it->second;
      pending_.erase(it);
    }
    switch (pending.purpose) {
      case Purpose::kMove:
        sim_->MoveAnswered(index_, pending.endpoint, false);
        break;
      case Purpose::kLoad:
        sim_->ResolveRefused(text);
        break;
      case Purpose::kProbe:
        sim_->ProbeAnswered(pending.slot, Answer::kRefused,
                            "refusal " + refusal.code() + " " +
                                WithoutVni(refusal.message(), pending.vni) + " [" +
                                refusal.endpoint_id() + "]");
        break;
    }
    return;
  }
  sim_->AttachRefused(text);
}

// ---- the phases ----------------------------------------------------------------------------

void Sim::WaitProgress(const char* what, const std::function<bool()>& done,
                       const std::function<std::string()>& progress, std::chrono::seconds stall) {
  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(2);
  std::string last = progress();
  auto last_change = start;
  while (!done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto now = Clock::now();
    if (now < next_report) continue;
    next_report += std::chrono::seconds(2);
    CheckControllerAlive();
    if (streams_broken_.load() > 0) Die(std::string(what) + ": a switch's stream ended");
    const std::string current = progress();
    Say("  %s: %.0f s: %s\n", what, Seconds(now - start), current.c_str());
    if (current != last) {
      last = current;
      last_change = now;
    } else if (now - last_change > stall) {
      Die(std::string(what) + ": no progress for " + std::to_string(stall.count()) + " s (" +
          current + ")" + (stall_detail_ ? "; " + stall_detail_() : std::string()));
    }
  }
}

void Sim::Register(const std::vector<int>& southbound_ports) {
  const int n = layout_.switches;
  switches_.reserve(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) switches_.push_back(std::make_unique<SimSwitch>(this, s));
  registration_start_ = Clock::now();
  for (int s = 0; s < n; ++s) {
    const std::string target =
        "127.0.0.1:" + std::to_string(southbound_ports[static_cast<size_t>(ReplicaOf(s))]);
    switches_[static_cast<size_t>(s)]->Start(target, nullptr, &cq_);
  }
  // A stalled registration says which switches wait and in what state their channel is.
  stall_detail_ = [this] {
    int welcomed = 0;
    std::map<int, int> states;  // grpc_connectivity_state -> switches not welcomed
    for (auto& each : switches_) {
      if (each->welcomed()) {
        ++welcomed;
      } else {
        ++states[each->ChannelState()];
      }
    }
    std::string text =
        std::to_string(welcomed) + " switches welcomed; channel states of the others:";
    // grpc_connectivity_state: 0 idle, 1 connecting, 2 ready, 3 transient failure, 4 shutdown.
    for (const auto& [state, count] : states) {
      text += " " + std::to_string(state) + ":" + std::to_string(count);
    }
    return text;
  };
  // From the start: a switch whose heartbeats stop is marked DOWN after dead_after.
  StartHeartbeats();
  const int64_t total = static_cast<int64_t>(layout_.Endpoints());
  WaitProgress(
      "registration", [&] { return switches_acked_.load() == n; },
      [&] {
        return std::to_string(synced_.load()) + "/" + std::to_string(n) + " synced, " +
               std::to_string(acks_.load()) + "/" + std::to_string(total) + " attaches acked";
      },
      std::chrono::seconds(120));
  sync_time_ = all_synced_at_ - registration_start_;
  registration_time_ = all_acked_at_ - registration_start_;
  Say("registration: %d switches synced in %.2f s; %lld attaches acknowledged in %.2f s\n", n,
      Seconds(sync_time_), static_cast<long long>(total), Seconds(registration_time_));
}

void Sim::StartHeartbeats() {
  heartbeats_stop_ = false;
  heartbeats_ = std::thread([this] { Heartbeats(); });
}

void Sim::StopHeartbeats() {
  heartbeats_stop_ = true;
  if (heartbeats_.joinable()) heartbeats_.join();
}

void Sim::Heartbeats() {
  // Each switch beats once per interval, the switches spread evenly over it: real switches
  // start at different times, so their heartbeats are not synchronised (a burst of N beats at
  // once would measure the burst, not the protocol).
  uint64_t sequence = 0;
  while (!heartbeats_stop_.load()) {
    const auto start = Clock::now();
    const auto interval = std::chrono::milliseconds(heartbeat_ms_.load());
    ++sequence;
    const size_t count = switches_.size();
    for (size_t i = 0; i < count && !heartbeats_stop_.load(); ++i) {
      std::this_thread::sleep_until(start + interval * static_cast<int64_t>(i) /
                                                static_cast<int64_t>(count));
      v1::SwitchMessage beat;
      beat.mutable_heartbeat()->set_sequence(sequence);
      SimSwitch* to = nullptr;
      {
        // The failover may replace a stream meanwhile; the one replaced stays alive (ended_)
        // and drops what is sent to it.
        std::lock_guard lock(switches_mutex_);
        to = switches_[i].get();
      }
      to->Send(std::move(beat));
    }
    while (!heartbeats_stop_.load() && Clock::now() < start + interval) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void Sim::Resolves() {
  const int64_t total = static_cast<int64_t>(options_.resolve_rate) * options_.resolve_seconds;
  // Sized even without resolves (--resolve-seconds 0): the report reads them per replica.
  replica_sends_.assign(static_cast<size_t>(replicas_), 0);
  replica_sent_ns_.assign(static_cast<size_t>(replicas_), {});
  replica_planned_ns_.assign(static_cast<size_t>(replicas_), {});
  if (total == 0) return;
  resolving_ = true;
  const auto start = StartSchedule(total, {});
  WaitProgress(
      "resolve", [&] { return !pacing_.load(std::memory_order_acquire); },
      [&] {
        return std::to_string(sent_.load()) + "/" + std::to_string(total) + " sent, " +
               std::to_string(found_.load()) + " found";
      },
      std::chrono::seconds(60));
  const auto send_end = Clock::now();
  resolving_ = false;
  achieved_rate_ = static_cast<double>(total) / Seconds(send_end - start);
  late_sends_ = schedule_.late_sends;
  auto outstanding = [&] { return Outstanding(); };
  // Every reply is waited for (a controller that stops answering trips the stall rule), so the
  // percentiles include the slow ones; "timeouts" are the replies slower than kReplyTimeout.
  WaitProgress(
      "resolve replies", [&] { return outstanding() == 0; },
      [&] { return std::to_string(outstanding()) + " replies outstanding"; },
      std::chrono::seconds(60));
  resolve_counts_ = Counts();
  std::vector<int64_t> planned_at;
  replica_sent_ns_.assign(static_cast<size_t>(replicas_), {});
  replica_planned_ns_.assign(static_cast<size_t>(replicas_), {});
  for (size_t s = 0; s < switches_.size(); ++s) {
    const size_t from = latency_sent_.size();
    switches_[s]->TakeLatencies(&latency_sent_, &latency_planned_, &planned_at);
    const auto r = static_cast<size_t>(ReplicaOf(static_cast<int>(s)));
    replica_sent_ns_[r].insert(replica_sent_ns_[r].end(),
                               latency_sent_.begin() + static_cast<std::ptrdiff_t>(from),
                               latency_sent_.end());
    replica_planned_ns_[r].insert(replica_planned_ns_[r].end(),
                                  latency_planned_.begin() + static_cast<std::ptrdiff_t>(from),
                                  latency_planned_.end());
  }
  for (auto& each : replica_sent_ns_) std::sort(each.begin(), each.end());
  for (auto& each : replica_planned_ns_) std::sort(each.begin(), each.end());
  send_seconds_ = Seconds(send_end - start);
  if (!options_.latency_log.empty()) WriteLatencyLog(start, planned_at);
  std::sort(latency_sent_.begin(), latency_sent_.end());
  std::sort(latency_planned_.begin(), latency_planned_.end());
  timeouts_ = latency_sent_.end() -
              std::upper_bound(latency_sent_.begin(), latency_sent_.end(), Nanos(kReplyTimeout));
  Say("resolve: %lld sent in %.2f s (%.0f/s); %zu answered, the last %.1f s after the last send\n",
      static_cast<long long>(total), Seconds(send_end - start), achieved_rate_,
      latency_sent_.size(), Seconds(Clock::now() - send_end));
  // Printed now too, so a run stopped during the moves still has them.
  Say("resolve: latency from send p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms\n",
      QuantileMs(latency_sent_, 0.5), QuantileMs(latency_sent_, 0.99),
      QuantileMs(latency_sent_, 0.999), QuantileMs(latency_sent_, 1.0));
}

Clock::time_point Sim::StartSchedule(int64_t total, std::vector<char> may_ask) {
  schedule_.start = Clock::now() + std::chrono::milliseconds(10);
  schedule_.period_ns = 1e9 / options_.resolve_rate;
  schedule_.total = total;
  schedule_.next = 0;
  schedule_.late_sends = 0;
  schedule_.may_ask = std::move(may_ask);
  pacing_.store(true, std::memory_order_release);
  pace_alarm_.Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), &pace_tag_);
  return schedule_.start;
}

size_t Sim::Outstanding() {
  size_t count = 0;
  for (auto& each : switches_) count += each->Outstanding(false);
  return count;
}

void Sim::Dispatch(void* tag, bool ok) {
  auto* event = static_cast<SimSwitch::Tag*>(tag);
  if (event->self != nullptr) event->self->OnEvent(event->op, ok);
}

bool Sim::Pace() {
  SendOnTime();
  Schedule& schedule = schedule_;
  auto planned = [&](int64_t i) {
    return schedule.start + std::chrono::nanoseconds(
                                static_cast<int64_t>(static_cast<double>(i) * schedule.period_ns));
  };
  void* tag = nullptr;
  bool ok = false;
  while (schedule.next < schedule.total) {
    auto now = Clock::now();
    for (; schedule.next < schedule.total && planned(schedule.next) <= now; ++schedule.next) {
      const auto when = planned(schedule.next);
      if (now - when > std::chrono::milliseconds(1)) ++schedule.late_sends;
      SendResolve(when);
    }
    // What is ready, without waiting: a deadline in the past still polls once, but gRPC's
    // poller handles one socket's events per poll, and one may complete nothing (a window
    // update), so the queue counts as drained only after kIdlePolls empty polls in a row.
    for (int idle = 0; idle < kIdlePolls;) {
      const auto status = cq_.AsyncNext(&tag, &ok, gpr_inf_past(GPR_CLOCK_MONOTONIC));
      if (status == grpc::CompletionQueue::SHUTDOWN) return false;
      if (status == grpc::CompletionQueue::TIMEOUT) {
        ++idle;
        continue;
      }
      idle = 0;
      Dispatch(tag, ok);
    }
    if (schedule.next == schedule.total) break;
    now = Clock::now();
    std::this_thread::sleep_until(std::min(planned(schedule.next), now + kPollInterval));
  }
  pacing_.store(false, std::memory_order_release);
  return true;
}

void Sim::SendResolve(Clock::time_point planned) {
  std::uniform_int_distribution<int> endpoint(0, layout_.Endpoints() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  auto& random = schedule_.random;
  if (!schedule_.may_ask.empty()) {
    SendResolveFromSome(planned);
    return;
  }
  const int e = endpoint(random);
  // The asker: another switch that serves the endpoint's network (only those may resolve in its
  // VNI). From the start's layout, not holder_: the moves run meanwhile, and they never take the
  // last endpoint of a network from a switch.
  const auto& serving = home_serving_[static_cast<size_t>(layout_.NetworkOf(e))];
  size_t pick = random() % serving.size();
  if (serving[pick] == layout_.HomeSwitch(e) && serving.size() > 1) {
    pick = (pick + 1 + random() % (serving.size() - 1)) % serving.size();
  }
  switches_[serving[pick]]->Resolve(e, percent(random) < options_.ip_percent, Purpose::kLoad,
                                    planned);
  ++replica_sends_[static_cast<size_t>(ReplicaOf(serving[pick]))];
  sent_.fetch_add(1, std::memory_order_relaxed);
}

void Sim::SendResolveFromSome(Clock::time_point planned) {
  std::uniform_int_distribution<int> endpoint(0, layout_.Endpoints() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  auto& random = schedule_.random;
  // A random endpoint whose network a switch that may ask serves (no moves run meanwhile:
  // holder_ is the truth), asked by one of those, not its holder when another may.
  for (int tries = 0; tries < 1000; ++tries) {
    const int e = endpoint(random);
    std::vector<int> askers;
    for (int s : ServingSwitches(layout_.NetworkOf(e))) {
      if (schedule_.may_ask[static_cast<size_t>(s)] != 0) askers.push_back(s);
    }
    if (askers.size() > 1) {
      askers.erase(std::remove(askers.begin(), askers.end(), holder_[static_cast<size_t>(e)]),
                   askers.end());
    }
    if (askers.empty()) continue;
    const int asker = askers[random() % askers.size()];
    switches_[static_cast<size_t>(asker)]->Resolve(e, percent(random) < options_.ip_percent,
                                                   Purpose::kLoad, planned);
    sent_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Die("resolve: no switch that may ask serves a network (1000 endpoints tried)");
}

void Sim::WriteLatencyLog(Clock::time_point start, const std::vector<int64_t>& planned_at) const {
  std::vector<size_t> order(planned_at.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return planned_at[a] < planned_at[b]; });
  std::FILE* file = std::fopen(options_.latency_log.c_str(), "w");
  if (file == nullptr) {
    Say("resolve: cannot write %s: %s\n", options_.latency_log.c_str(), std::strerror(errno));
    return;
  }
  const int64_t origin = Nanos(start.time_since_epoch());
  // The phase's start on the steady clock (CLOCK_MONOTONIC), to line the log up with other
  // tools' timestamps (perf record -k CLOCK_MONOTONIC).
  std::fprintf(file, "# start %.6f s (CLOCK_MONOTONIC)\n", static_cast<double>(origin) / 1e9);
  for (size_t i : order) {
    std::fprintf(file, "%.3f %.3f %.3f\n", static_cast<double>(planned_at[i] - origin) / 1e6,
                 static_cast<double>(latency_planned_[i]) / 1e6,
                 static_cast<double>(latency_sent_[i]) / 1e6);
  }
  std::fclose(file);
  Say("resolve: %zu latencies written to %s\n", order.size(), options_.latency_log.c_str());
}

// The switches that serve network n now: those holding one of its endpoints.
std::vector<int> Sim::ServingSwitches(int n) const {
  std::vector<int> serving;
  for (int e : members_[static_cast<size_t>(n)]) {
    const int s = holder_[static_cast<size_t>(e)];
    if (std::find(serving.begin(), serving.end(), s) == serving.end()) serving.push_back(s);
  }
  std::sort(serving.begin(), serving.end());
  return serving;
}

// The endpoint's version as stored (GET), or dies.
int64_t VersionOf(httplib::Client* client, const std::string& endpoint_id) {
  auto response = client->Get("/v1/endpoints/" + endpoint_id);
  if (!response) {
    CheckControllerAlive();
    Die("GET endpoint " + endpoint_id + ": " + httplib::to_string(response.error()));
  }
  if (response->status != 200) {
    Die("GET endpoint " + endpoint_id + ": " + std::to_string(response->status) + " " +
        response->body);
  }
  const size_t at = response->body.find("\"version\":");
  if (at == std::string::npos) Die("no version in the endpoint: " + response->body);
  size_t from = at + 10;
  if (from < response->body.size() && response->body[from] == '"') ++from;  // int64 as a string
  return std::strtoll(response->body.c_str() + from, nullptr, 10);
}

void Sim::Moves() {
  const int n = layout_.switches;
  if (options_.moves == 0) return;
  if (n < 3) {
    Say("moves: skipped (needs at least 3 switches)\n");
    return;
  }
  // One keep-alive client per replica: move m is PUT through replica m % replicas_.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int port : api_ports_) {
    auto& client = clients.emplace_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_read_timeout(std::chrono::seconds(120));
  }
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int> endpoint(0, layout_.Endpoints() - 1);
  std::uniform_int_distribution<int> any_switch(0, n - 1);
  auto report = Clock::now() + std::chrono::seconds(2);
  int failed_in_a_row = 0;
  const double rate = MoveRate();
  const auto first = Clock::now();
  for (int m = 0; m < options_.moves; ++m) {
    if (rate > 0) {  // the m-th move's planned start; a move that ran long delays only the next
      std::this_thread::sleep_until(
          first + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(m) / rate)));
    }
    if (failed_in_a_row == 3) {
      Say("moves: 3 failed in a row, the controller is not keeping up; stopping the moves\n");
      break;
    }
    CheckControllerAlive();
    if (streams_broken_.load() > 0) Die("moves: a switch's stream ended");
    // An endpoint whose switch keeps another endpoint of its network (so the switches that
    // serve the network, the resolvers and the cachers, stay the same).
    int e = endpoint(random);
    int from = holder_[static_cast<size_t>(e)];
    for (int tries = 0; tries < 100; ++tries) {
      int same = 0;
      for (int other : members_[static_cast<size_t>(NetworkOfEndpoint(e))]) {
        if (holder_[static_cast<size_t>(other)] == from) ++same;
      }
      if (same >= 2) break;
      e = endpoint(random);
      from = holder_[static_cast<size_t>(e)];
    }
    const int network = NetworkOfEndpoint(e);
    // Cachers: switches that serve the endpoint's network (they may resolve in its VNI).
    std::vector<int> candidates;
    int to = any_switch(random);
    while (to == from) to = any_switch(random);
    for (int s : ServingSwitches(NetworkOfEndpoint(e))) {
      if (s != from && s != to) candidates.push_back(s);
    }
    std::shuffle(candidates.begin(), candidates.end(), random);
    const int cachers = std::min(options_.cachers, static_cast<int>(candidates.size()));
    if (cachers == 0) {
      Say("move %d: no switch serves the network of %s besides its holder; skipped\n", m,
          EndpointId(e).c_str());
      continue;
    }
    candidates.resize(static_cast<size_t>(cachers));
    cachers_total_ += cachers;
    {
      std::lock_guard lock(watch_.mutex);
      watch_.endpoint = e;
      watch_.answers = 0;
      watch_.found = 0;
      watch_.moving = false;
      watch_.new_switch = SwitchName(to);
      watch_.cachers.clear();
      watch_.heard.clear();
      for (int s : candidates) watch_.heard[s] = false;
      watch_.old_holder = from;
      watch_.old_heard = false;
    }
    for (int s : candidates) {
      switches_[static_cast<size_t>(s)]->Resolve(e, false, Purpose::kMove, Clock::now());
    }
    {
      std::unique_lock lock(watch_.mutex);
      watch_.cv.wait_for(lock, kReplyTimeout, [&] { return watch_.answers == cachers; });
      if (watch_.found != cachers) {
        ++moves_failed_;
        ++failed_in_a_row;
        Say("move %d: only %d of %d cachers resolved %s (%d answered)\n", m, watch_.found, cachers,
            EndpointId(e).c_str(), watch_.answers);
        continue;
      }
    }
    // The move is authorized through the API: PUT the endpoint with the new switch_name (its
    // current version read first, so a concurrent change is a conflict, not lost). With
    // replicas, the one the PUT goes to may not have applied the endpoint's last move yet (made
    // through another): its 409 is counted and the read and PUT made again, at most 5 times.
    const int put_replica = m % replicas_;
    httplib::Client& client = *clients[static_cast<size_t>(put_replica)];
    const std::string id = EndpointId(e);
    const std::string port = "tap-moved-" + std::to_string(m);
    auto put = [&] {
      const int64_t version = VersionOf(&client, id);
      std::string body = R"({"id":")" + id + R"(","network_id":")" + NetworkId(network);
      body += R"(","switch_name":")" + SwitchName(to) + R"(","port_name":")";
      body += port;
      body += R"(","mac":")" + Mac(e) + R"(","ips":[")" + IpOf(e);
      body += R"("],"version":)" + std::to_string(version) + "}";
      {
        std::lock_guard lock(watch_.mutex);
        watch_.moving = true;
        watch_.attach_sent = Clock::now();
      }
      return client.Put("/v1/endpoints/" + id, body, "application/json");
    };
    std::optional<httplib::Result> answer;
    answer.emplace(put());
    for (int attempt = 1; replicas_ > 1 && attempt < 5 && *answer && (*answer)->status == 409;
         ++attempt) {
      ++put_conflicts_;
      answer.emplace(put());
    }
    const httplib::Result& response = *answer;
    if (resolving_.load()) ++moves_under_load_;
    const auto put_returned = Clock::now();
    if (!response) {
      CheckControllerAlive();
      Die("PUT endpoint " + id + ": " + httplib::to_string(response.error()));
    }
    if (response->status != 200) {
      Die("PUT endpoint " + id + ": " + std::to_string(response->status) + " " + response->body);
    }
    put_ns_.push_back(Nanos(put_returned - watch_.attach_sent));
    holder_[static_cast<size_t>(e)] = to;
    port_[static_cast<size_t>(e)] = port;
    std::unique_lock lock(watch_.mutex);
    const bool complete = watch_.cv.wait_for(lock, kReplyTimeout, [&] {
      return watch_.old_heard && static_cast<int>(watch_.cachers.size()) == cachers;
    });
    if (!complete) {
      ++moves_failed_;
      ++failed_in_a_row;
      Say("move %d of %s from %s to %s: %zu of %d cachers heard, old holder %s\n", m,
          EndpointId(e).c_str(), SwitchName(from).c_str(), SwitchName(to).c_str(),
          watch_.cachers.size(), cachers, watch_.old_heard ? "heard" : "did not hear");
      continue;
    }
    Clock::time_point last = watch_.old_heard_at;
    int last_switch = watch_.old_holder;
    for (const auto& [s, at] : watch_.cachers) {
      if (at > last) {
        last = at;
        last_switch = s;
      }
    }
    move_ns_.push_back(Nanos(last - watch_.attach_sent));
    move_after_put_ns_.push_back(std::max<int64_t>(0, Nanos(last - put_returned)));
    const bool same = ReplicaOf(last_switch) == put_replica;
    (same ? move_same_ns_ : move_other_ns_).push_back(move_ns_.back());
    (same ? move_same_after_put_ns_ : move_other_after_put_ns_)
        .push_back(move_after_put_ns_.back());
    moved_message_ns_.push_back(Nanos(watch_.old_heard_at - watch_.attach_sent));
    ++moves_done_;
    failed_in_a_row = 0;
    lock.unlock();
    if (Clock::now() >= report) {
      Say("  moves: %d/%d\n", m + 1, options_.moves);
      report += std::chrono::seconds(2);
    }
  }
  std::sort(move_ns_.begin(), move_ns_.end());
  std::sort(move_after_put_ns_.begin(), move_after_put_ns_.end());
  std::sort(moved_message_ns_.begin(), moved_message_ns_.end());
  std::sort(put_ns_.begin(), put_ns_.end());
  for (auto* each :
       {&move_same_ns_, &move_other_ns_, &move_same_after_put_ns_, &move_other_after_put_ns_}) {
    std::sort(each->begin(), each->end());
  }
  Say("moves: %d measured (%d of them while the resolves ran), %d failed, %.1f cachers each on "
      "average (switches serving the network)\n",
      moves_done_, moves_under_load_, moves_failed_,
      moves_done_ + moves_failed_ == 0
          ? 0.0
          : static_cast<double>(cachers_total_) / (moves_done_ + moves_failed_));
}

// The unplaced endpoints, each attached by a switch that serves its network (a store write:
// the endpoint's switch_name and port_name), open loop at --attach-rate from one sender.
void Sim::Attaches() {
  const int count = layout_.attaches;
  if (count == 0) return;
  const double period_ns = 1e9 / options_.attach_rate;
  const auto start = Clock::now() + std::chrono::milliseconds(10);
  int64_t late = 0;
  for (int a = 0; a < count; ++a) {
    const int e = layout_.Endpoints() + a;
    const auto planned =
        start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(a) * period_ns));
    std::this_thread::sleep_until(planned);
    if (Clock::now() - planned > std::chrono::milliseconds(1)) ++late;
    switches_[static_cast<size_t>(holder_[static_cast<size_t>(e)])]->AttachMeasured(e, PortOf(e),
                                                                                    planned);
  }
  auto done = [&] {
    std::lock_guard lock(attach_mutex_);
    return attach_sent_ns_.size();
  };
  WaitProgress(
      "attaches", [&] { return done() == static_cast<size_t>(count) || attach_refused_ > 0; },
      [&] { return std::to_string(done()) + "/" + std::to_string(count) + " acknowledged"; },
      std::chrono::seconds(60));
  std::lock_guard lock(attach_mutex_);
  attach_time_ = last_attach_ack_ - start;
  attach_late_sends_ = late;
  std::sort(attach_sent_ns_.begin(), attach_sent_ns_.end());
  std::sort(attach_planned_ns_.begin(), attach_planned_ns_.end());
  for (int a = 0; a < count; ++a) {
    const int e = layout_.Endpoints() + a;
    held_[static_cast<size_t>(holder_[static_cast<size_t>(e)])].push_back(e);
  }
  Say("attaches: %d unplaced endpoints attached (store writes) in %.2f s (%.0f/s), from schedule "
      "p50 %.3f p99 %.3f ms\n",
      count, Seconds(attach_time_), count / Seconds(attach_time_),
      QuantileMs(attach_planned_ns_, 0.5), QuantileMs(attach_planned_ns_, 0.99));
}

// Resolves that must not be answered: in a VNI the asker does not serve (cross-network), in a
// VNI that no network has, and for an address that does not exist in a VNI it serves; and, for
// the record, another network's IP asked in a VNI it serves (policy decides: DENIED without
// one). A cross-network resolve must be refused exactly as one in a nonexistent VNI (the same
// answer once the VNI asked is taken out of its text).
void Sim::Probes() {
  const int probes = options_.probes;
  if (probes == 0) return;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<int> endpoint(0, layout_.Endpoints() - 1);
  uint32_t unused_vni = 0;
  for (uint32_t v : vnis_) unused_vni = std::max(unused_vni, v);
  unused_vni = unused_vni < 16777215 ? unused_vni + 1 : 1;
  while (std::find(vnis_.begin(), vnis_.end(), unused_vni) != vnis_.end()) ++unused_vni;
  {
    std::lock_guard lock(probe_mutex_);
    probe_results_.assign(static_cast<size_t>(probes) * 4, {Answer::kOther, ""});
    probes_answered_ = 0;
  }
  int64_t expected = 0;
  for (int p = 0; p < probes; ++p) {
    const int e = endpoint(random);
    const int n = layout_.NetworkOf(e);
    const bool by_ip = p % 2 == 1;
    const std::string address = by_ip ? IpOf(e) : Mac(e);
    // A switch that does not serve e's network (any, when every switch serves it).
    const std::vector<int> serving = ServingSwitches(n);
    int outsider = -1;
    for (int tries = 0; tries < 100 && outsider < 0; ++tries) {
      const int s = static_cast<int>(random() % static_cast<uint64_t>(layout_.switches));
      if (!std::binary_search(serving.begin(), serving.end(), s)) outsider = s;
    }
    const int insider = serving[random() % serving.size()];
    if (outsider >= 0) {
      switches_[static_cast<size_t>(outsider)]->Probe(p * 4, VniOf(e), by_ip, address);
      switches_[static_cast<size_t>(outsider)]->Probe(p * 4 + 1, unused_vni, by_ip, address);
      expected += 2;
    }
    // Nonexistent: a MAC no endpoint has, or an IP outside every subnet.
    const std::string missing =
        by_ip ? "172.31." + std::to_string(p / 250 % 256) + "." + std::to_string(p % 250 + 1)
              : Mac(layout_.AllEndpoints() + 1000 + p);
    switches_[static_cast<size_t>(insider)]->Probe(p * 4 + 2, VniOf(e), by_ip, missing);
    ++expected;
    // Another network's endpoint of the same domain, by IP, asked in the insider's VNI.
    const int first = layout_.DomainFirst(layout_.DomainOf(n));
    const int count = layout_.DomainFirst(layout_.DomainOf(n) + 1) - first;
    if (count > 1) {
      const int other =
          first +
          (n - first + 1 + static_cast<int>(random() % static_cast<uint64_t>(count - 1))) % count;
      const int foreign = members_[static_cast<size_t>(other)][0];
      switches_[static_cast<size_t>(insider)]->Probe(p * 4 + 3, VniOf(e), true, IpOf(foreign));
      ++expected;
    }
  }
  auto answered = [&] {
    std::lock_guard lock(probe_mutex_);
    return probes_answered_;
  };
  WaitProgress(
      "probes", [&] { return answered() == expected; },
      [&] { return std::to_string(answered()) + "/" + std::to_string(expected) + " answered"; },
      std::chrono::seconds(60));
  probes_run_ = probes;
}

// What the switches cached, against the model: every cached location names the switch that
// holds the endpoint. Returns the mismatches (printed).
int64_t Sim::CheckCaches(const char* when, int64_t* records_held) {
  int64_t mismatches = 0;
  int64_t records = 0;
  for (size_t s = 0; s < switches_.size(); ++s) {
    for (const auto& [e, where] : switches_[s]->Cache()) {
      ++records;
      if (e < 0 || e >= layout_.AllEndpoints() ||
          where != SwitchName(holder_[static_cast<size_t>(e)])) {
        if (mismatches++ < 5) {
          Say("cache of %s %s: %s at %s, the model says %s\n",
              SwitchName(static_cast<int>(s)).c_str(), when, EndpointId(e).c_str(), where.c_str(),
              e >= 0 && e < layout_.AllEndpoints()
                  ? SwitchName(holder_[static_cast<size_t>(e)]).c_str()
                  : "nothing");
        }
      }
    }
  }
  *records_held = records;
  return mismatches;
}

// After the restart, at SyncDone: switch s holds everything it cached, each where the model
// says.
void Sim::CheckResync(int s, const std::unordered_map<int, std::string>& cache) {
  const auto& expected = expected_caches_.at(s);
  for (const auto& [e, where] : expected) {
    auto it = cache.find(e);
    if (it == cache.end()) {
      if (resync_missing_.fetch_add(1) < 5) {
        Say("%s: %s lost %s from its cache\n", resync_phase_.load(), SwitchName(s).c_str(),
            EndpointId(e).c_str());
      }
    } else if (it->second != SwitchName(holder_[static_cast<size_t>(e)])) {
      if (resync_wrong_.fetch_add(1) < 5) {
        Say("%s: %s has %s at %s, the model says %s\n", resync_phase_.load(), SwitchName(s).c_str(),
            EndpointId(e).c_str(), it->second.c_str(),
            SwitchName(holder_[static_cast<size_t>(e)]).c_str());
      }
    }
  }
}

// GET /metrics; the value of `name` (a line "name value"), -1 when absent.
int64_t MetricValue(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(30));
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return -1;
  const std::string& body = response->body;
  for (size_t at = body.find(name + " "); at != std::string::npos;
       at = body.find(name + " ", at + 1)) {
    if (at == 0 || body[at - 1] == '\n') {
      return std::strtoll(body.c_str() + at + name.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// kill -9 the controller with every switch connected and caching, start it again on the same
// data directory and ports, reconnect every switch (Hello with its last revision and what it
// cached) and measure until each has SyncDone with its cache verified against the model, and
// its attaches acknowledged.
void Sim::Restart(ControllerSet* controllers) {
  const int n = layout_.switches;
  StopHeartbeats();
  expected_caches_.clear();
  for (int s = 0; s < n; ++s) expected_caches_[s] = switches_[static_cast<size_t>(s)]->Cache();
  // What each switch attaches after SyncDone: what the model says it holds now.
  for (auto& each : held_) each.clear();
  for (int e = 0; e < layout_.AllEndpoints(); ++e) {
    held_[static_cast<size_t>(holder_[static_cast<size_t>(e)])].push_back(e);
  }
  restarting_ = true;
  resync_phase_ = "restart";
  resyncing_ = true;
  // The CPU the restart costs, each side's (less noisy than its wall time on a shared machine):
  // the new replicas' from their start, etcd's members' and the simulator's from here.
  double etcd_cpu_before = 0;
  if (const auto* etcd = controllers->etcd(); etcd != nullptr) {
    for (int i = 0; i < etcd->size(); ++i) etcd_cpu_before += CpuSeconds(etcd->Pid(i));
  }
  const double sim_cpu_before = SelfCpuSeconds();
  const auto kill_at = Clock::now();
  // Every replica killed, then all started again (in parallel) on the same addresses, as
  // restarted controllers are.
  if (auto restarted = controllers->Restart(SIGKILL, {.same_ports = true}); !restarted) {
    Die("restart: " + restarted.error());
  }
  for (pid_t pid : controllers->Pids()) PinProcess(pid, options_.controller_cpus);
  const auto ready_at = Clock::now();
  restart_ready_ = ready_at - kill_at;
  double replicas_cpu_ready = 0;
  for (pid_t pid : controllers->Pids()) replicas_cpu_ready += CpuSeconds(pid);
  // The old streams are over (the controller died); their state goes to the new ones.
  for (auto& each : switches_) each->Stop();
  for (auto& each : switches_) each->Wait();
  for (auto& each : switches_) each->Release();
  synced_ = 0;
  switches_acked_ = 0;
  acks_ = 0;
  reconnected_ = true;
  std::vector<std::unique_ptr<SimSwitch>> fresh;
  fresh.reserve(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) fresh.push_back(std::make_unique<SimSwitch>(this, s));
  for (int s = 0; s < n; ++s) {
    const std::string target =
        "127.0.0.1:" + std::to_string(controllers->replica(ReplicaOf(s)).southbound_port());
    fresh[static_cast<size_t>(s)]->Start(target, switches_[static_cast<size_t>(s)].get(), &cq_);
  }
  for (auto& each : switches_) ended_.push_back(std::move(each));
  switches_ = std::move(fresh);
  StartHeartbeats();
  int64_t total = 0;
  for (const auto& each : held_) total += static_cast<int64_t>(each.size());
  WaitProgress(
      "restart", [&] { return synced_.load() == n && switches_acked_.load() == n; },
      [&] {
        // Where the others are: not welcomed yet (by channel state) or caught up.
        return std::to_string(synced_.load()) + "/" + std::to_string(n) + " synced, " +
               std::to_string(acks_.load()) + "/" + std::to_string(total) + " attaches acked; " +
               stall_detail_();
      },
      std::chrono::seconds(120));
  double replicas_cpu = 0;
  for (pid_t pid : controllers->Pids()) replicas_cpu += CpuSeconds(pid);
  double etcd_cpu = 0;
  if (const auto* etcd = controllers->etcd(); etcd != nullptr) {
    for (int i = 0; i < etcd->size(); ++i) etcd_cpu += CpuSeconds(etcd->Pid(i));
  }
  etcd_cpu -= etcd_cpu_before;
  const double sim_cpu = SelfCpuSeconds() - sim_cpu_before;
  Say("restart: CPU seconds from the kill to the last attach acknowledged (%.2f s of wall time, "
      "%ld cores): %s %.2f (%.2f to ready, %.2f after), etcd %.2f, the simulator %.2f\n",
      Seconds(Clock::now() - kill_at), sysconf(_SC_NPROCESSORS_ONLN),
      replicas_ == 1 ? "the controller" : "the replicas", replicas_cpu, replicas_cpu_ready,
      replicas_cpu - replicas_cpu_ready, etcd_cpu, sim_cpu);
  // The restarted controllers' own account: switches they marked DOWN (stored UP, no Hello yet
  // within dead_after of its start) and brought back UP with their Hello.
  const std::string log = controllers->Logs();
  if (!options_.controller_logs.empty()) {
    std::ofstream out(options_.controller_logs);
    out << log;
    Say("restart: the controllers' logs written to %s%s\n", options_.controller_logs.c_str(),
        out ? "" : " (FAILED)");
  }
  auto occurrences = [&](const std::string& text) {
    int64_t count = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
      ++count;
    }
    return count;
  };
  Say("restart: %s logged %lld switches DOWN (no Hello within dead_after of its "
      "start: %lld) and %lld UP again; %lld connections logged\n",
      replicas_ == 1 ? "the controller" : "the replicas (together)",
      static_cast<long long>(occurrences(" is DOWN: ")),
      static_cast<long long>(occurrences("of the controller's start")),
      static_cast<long long>(occurrences("it is UP again")),
      static_cast<long long>(occurrences(" connected from tunnel IP ")));
  Say("restart: Hellos answered incrementally %lld, with a snapshot %lld\n",
      static_cast<long long>(MetricSum("dove_southbound_syncs_total{kind=\"incremental\"}")),
      static_cast<long long>(MetricSum("dove_southbound_syncs_total{kind=\"snapshot\"}")));
  restart_synced_ = all_synced_at_ - kill_at;
  restart_acked_ = all_acked_at_ - kill_at;
  restart_done_ = true;
  records_after_restart_ = MetricSum("dove_southbound_cache_records");
  Say("restart: kill -9 -> %s ready %.3f s, every switch synced with its cache verified "
      "%.3f s, every attach acknowledged %.3f s; %lld cached entries lost, %lld wrong; cache "
      "records %lld (%lld before)\n",
      replicas_ == 1 ? "controller" : "every replica", Seconds(restart_ready_),
      Seconds(restart_synced_), Seconds(restart_acked_),
      static_cast<long long>(resync_missing_.load()), static_cast<long long>(resync_wrong_.load()),
      static_cast<long long>(records_after_restart_),
      static_cast<long long>(failover_done_ ? failover_records_ : records_serving_));
}

// Every "switch NAME is DOWN: " line in `log`: how many, and how many name one of `moved`.
std::pair<int64_t, int64_t> DownLines(const std::string& log, const std::vector<int>& moved) {
  int64_t all = 0;
  int64_t of_moved = 0;
  const std::string marker = " is DOWN: ";
  for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
    ++all;
    const size_t name = log.rfind("switch ", at);
    if (name == std::string::npos) continue;
    const std::string who = log.substr(name + 7, at - name - 7);
    for (int s : moved) {
      if (who == SwitchName(s)) {
        ++of_moved;
        break;
      }
    }
  }
  return {all, of_moved};
}

// The failover phase: ONE replica (the last) killed -9 while the switches of the others run an
// open-loop resolve load (--resolve-rate for --failover-seconds, the kill a quarter into it).
// Each switch that was on it sees its stream end and connects to the next replica of its list
// (s % N, s % N + 1, ...: dove-switch's ControllerClient tries its controllers in order) with
// Hello (its last revision and cache); measured until each has SyncDone with its cache verified
// against the model, and its attaches acknowledged. Then, once etcd has expired the killed
// replica's lease (when the survivors would mark its switches DOWN had they not come back), the
// DOWN lines the survivors logged are counted, the replica is started again on its ports (its
// switches stay where they went) and the cache records of all replicas are compared with what
// the switches hold.
void Sim::Failover(ControllerSet* controllers) {
  if (replicas_ < 2 || options_.failover_seconds == 0) return;
  const int n = layout_.switches;
  const int victim = replicas_ - 1;
  const int next = 0;  // the replica after the last one in every list it is in
  std::vector<int> moved;
  std::vector<char> may_ask(static_cast<size_t>(n), 1);
  for (int s = 0; s < n; ++s) {
    if (ReplicaOf(s) != victim) continue;
    moved.push_back(s);
    may_ask[static_cast<size_t>(s)] = 0;
  }
  if (moved.empty()) {
    Say("failover: skipped (no switch on replica %d)\n", victim);
    return;
  }
  const auto moving = static_cast<int>(moved.size());
  expected_caches_.clear();
  for (int s : moved) expected_caches_[s] = switches_[static_cast<size_t>(s)]->Cache();
  for (auto& each : held_) each.clear();
  for (int e = 0; e < layout_.AllEndpoints(); ++e) {
    held_[static_cast<size_t>(holder_[static_cast<size_t>(e)])].push_back(e);
  }
  int64_t attaches = 0;
  for (int s : moved) attaches += static_cast<int64_t>(held_[static_cast<size_t>(s)].size());
  // The survivors' account before the kill: what they logged (the phase's DOWN lines come after
  // it), the Hellos they answered, and etcd's leases (the killed replica's is one of them).
  std::vector<size_t> logged(static_cast<size_t>(replicas_), 0);
  for (int r = 0; r < replicas_; ++r) {
    if (r != victim) logged[static_cast<size_t>(r)] = controllers->replica(r).Log().size();
  }
  const std::string incremental = "dove_southbound_syncs_total{kind=\"incremental\"}";
  const std::string snapshot = "dove_southbound_syncs_total{kind=\"snapshot\"}";
  const int64_t incremental_before = MetricSum(incremental, victim);
  const int64_t snapshot_before = MetricSum(snapshot, victim);
  // Its lease: the last "store lease ID granted, TTL T s" it logged.
  const std::string victim_log = controllers->replica(victim).Log();
  const size_t ttl_at = victim_log.rfind(" granted, TTL ");
  const size_t granted =
      ttl_at == std::string::npos ? ttl_at : victim_log.rfind("store lease ", ttl_at);
  if (granted == std::string::npos) Die("failover: the replica logged no store lease granted");
  const int64_t lease = std::strtoll(victim_log.c_str() + granted + 12, nullptr, 10);
  const std::string ttl =
      victim_log.substr(ttl_at + 14, victim_log.find(' ', ttl_at + 14) - ttl_at - 14);
  const ResolveCounts counts_before = Counts();
  const int64_t sent_before = sent_.load();
  const int64_t missing_before = resync_missing_.load();
  const int64_t wrong_before = resync_wrong_.load();
  // Counted afresh: the moved switches sync again, the others stay synced.
  synced_ = n - moving;
  switches_acked_ = n - moving;
  acks_ = 0;
  resync_phase_ = "failover";
  resyncing_ = true;

  const int64_t total = static_cast<int64_t>(options_.resolve_rate) * options_.failover_seconds;
  const auto start = StartSchedule(total, std::move(may_ask));
  std::this_thread::sleep_until(start + std::chrono::milliseconds(options_.failover_seconds) * 250);
  for (int s : moved) switches_[static_cast<size_t>(s)]->ExpectEnd();
  const auto kill_at = Clock::now();
  if (auto killed = controllers->Stop(victim, SIGKILL); !killed) {
    Die("failover: " + killed.error());
  }
  Say("failover: replica %d (%d switches) killed -9 %.2f s into %lld resolves at %d/s asked by "
      "the other replicas' switches; its switches reconnect to replica %d\n",
      victim, moving, Seconds(kill_at - start), static_cast<long long>(total),
      options_.resolve_rate, next);
  // Each connects to the next replica once it has seen its stream end (connection reset).
  std::vector<char> reconnected(moved.size(), 0);
  int left = moving;
  while (left > 0) {
    for (size_t i = 0; i < moved.size(); ++i) {
      const auto s = static_cast<size_t>(moved[i]);
      if (reconnected[i] != 0 || !switches_[s]->ended()) continue;
      auto fresh = std::make_unique<SimSwitch>(this, moved[i]);
      fresh->Start("127.0.0.1:" + std::to_string(controllers->replica(next).southbound_port()),
                   switches_[s].get(), &cq_);
      {
        std::lock_guard lock(switches_mutex_);
        ended_.push_back(std::move(switches_[s]));
        switches_[s] = std::move(fresh);
      }
      ended_.back()->Release();
      replica_of_[s] = next;
      reconnected[i] = 1;
      --left;
    }
    if (left == 0) break;
    CheckControllerAlive();
    if (Clock::now() - kill_at > std::chrono::seconds(60)) {
      Die("failover: " + std::to_string(left) +
          " streams of the killed replica did not end within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto ended = Clock::now() - kill_at;
  WaitProgress(
      "failover",
      [&] {
        return synced_.load() == n && switches_acked_.load() == n &&
               !pacing_.load(std::memory_order_acquire);
      },
      [&] {
        return std::to_string(synced_.load() - (n - moving)) + "/" + std::to_string(moving) +
               " moved switches synced, " + std::to_string(acks_.load()) + "/" +
               std::to_string(attaches) + " attaches acked, " +
               std::to_string(sent_.load() - sent_before) + "/" + std::to_string(total) +
               " resolves sent";
      },
      std::chrono::seconds(60));
  failover_synced_ = all_synced_at_ - kill_at;
  failover_acked_ = all_acked_at_ - kill_at;
  const auto send_end = Clock::now();
  WaitProgress(
      "failover resolve replies", [&] { return Outstanding() == 0; },
      [&] { return std::to_string(Outstanding()) + " replies outstanding"; },
      std::chrono::seconds(60));
  resyncing_ = false;
  failover_missing_ = resync_missing_.load() - missing_before;
  failover_wrong_ = resync_wrong_.load() - wrong_before;
  resync_missing_ = missing_before;  // the restart's count from here
  resync_wrong_ = wrong_before;
  const int64_t incremental_hellos = MetricSum(incremental, victim) - incremental_before;
  const int64_t snapshot_hellos = MetricSum(snapshot, victim) - snapshot_before;
  Say("failover: kill -9 -> every stream of it ended %.3f s, its %d switches synced on replica "
      "%d with their caches verified %.3f s, their %lld attaches acknowledged %.3f s; %lld "
      "cached entries lost, %lld wrong; Hellos answered incrementally %lld, with a snapshot "
      "%lld\n",
      Seconds(ended), moving, next, Seconds(failover_synced_), static_cast<long long>(attaches),
      Seconds(failover_acked_), static_cast<long long>(failover_missing_),
      static_cast<long long>(failover_wrong_), static_cast<long long>(incremental_hellos),
      static_cast<long long>(snapshot_hellos));

  // The survivors' resolves during the phase.
  const ResolveCounts counts = Counts() - counts_before;
  std::vector<int64_t> from_send;
  std::vector<int64_t> from_schedule;
  std::vector<int64_t> planned_at;
  for (auto& each : switches_) each->TakeLatencies(&from_send, &from_schedule, &planned_at);
  std::sort(from_send.begin(), from_send.end());
  std::sort(from_schedule.begin(), from_schedule.end());
  const auto timeouts =
      from_send.end() - std::upper_bound(from_send.begin(), from_send.end(), Nanos(kReplyTimeout));
  Say("failover: the survivors' resolves: %lld sent in %.2f s (%.0f/s, %lld sends >1 ms behind "
      "the schedule); %lld found, %lld failed (not_found %lld denied %lld wrong %lld refused "
      "%lld unmatched %lld), %lld over 10 s\n",
      static_cast<long long>(total), Seconds(send_end - start),
      static_cast<double>(total) / Seconds(send_end - start),
      static_cast<long long>(schedule_.late_sends), static_cast<long long>(counts.found),
      static_cast<long long>(counts.Failed()), static_cast<long long>(counts.not_found),
      static_cast<long long>(counts.denied), static_cast<long long>(counts.wrong),
      static_cast<long long>(counts.refused), static_cast<long long>(counts.unmatched),
      static_cast<long long>(timeouts));
  Say("failover:   latency from schedule p50 %.3f p99 %.3f max %.3f ms; from send p50 %.3f p99 "
      "%.3f max %.3f ms\n",
      QuantileMs(from_schedule, 0.5), QuantileMs(from_schedule, 0.99),
      QuantileMs(from_schedule, 1.0), QuantileMs(from_send, 0.5), QuantileMs(from_send, 0.99),
      QuantileMs(from_send, 1.0));

  // The killed replica's lease: once etcd has expired it, its session keys would be gone and
  // the survivors would mark its switches DOWN, had they not come back.
  std::string expiry = "not seen to expire within 60 s of the kill";
  for (;;) {
    auto held = controllers->EtcdLeases();
    if (!held) Die("failover: " + held.error());
    if (std::find(held->begin(), held->end(), lease) == held->end()) {
      char text[64];
      std::snprintf(text, sizeof(text), "expired by %.1f s after the kill",
                    Seconds(Clock::now() - kill_at));
      expiry = text;
      break;
    }
    CheckControllerAlive();
    if (Clock::now() - kill_at > std::chrono::seconds(60)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The survivors hear of the lease's end through their watches and would decide then: one
  // heartbeat interval more for their DOWN lines to show (an observation window: there is
  // nothing to wait for when they rightly decide nothing).
  std::this_thread::sleep_for(std::chrono::milliseconds(heartbeat_ms_.load()));
  int64_t down = 0;
  int64_t down_moved = 0;
  for (int r = 0; r < replicas_; ++r) {
    if (r == victim) continue;
    const auto [all, of_moved] =
        DownLines(controllers->replica(r).Log().substr(logged[static_cast<size_t>(r)]), moved);
    down += all;
    down_moved += of_moved;
  }
  Say("failover: the survivors logged %lld switches DOWN during the phase, %lld of them switches "
      "that moved (the killed replica's lease %lld, TTL %s s, %s)\n",
      static_cast<long long>(down), static_cast<long long>(down_moved),
      static_cast<long long>(lease), ttl.c_str(), expiry.c_str());

  // The replica back on its ports; the switches stay where they went.
  const auto back_at = Clock::now();
  if (auto started = controllers->StartAgain(victim); !started) {
    Die("failover: " + started.error());
  }
  PinProcess(controllers->replica(victim).pid(), options_.controller_cpus);
  failover_records_ = MetricSum("dove_southbound_cache_records");
  failover_cache_wrong_ = CheckCaches("after the failover", &failover_records_model_);
  Say("failover: replica %d started again (ready %.3f s); cache records %lld (all replicas), the "
      "switches hold %lld; %lld cached locations differ from the model\n",
      victim, Seconds(Clock::now() - back_at), static_cast<long long>(failover_records_),
      static_cast<long long>(failover_records_model_),
      static_cast<long long>(failover_cache_wrong_));
  failover_done_ = true;
}

int64_t Sim::MetricSum(const std::string& name, int skip) const {
  int64_t sum = 0;
  for (int r = 0; r < replicas_; ++r) {
    if (r == skip) continue;
    const int64_t value = MetricValue(api_ports_[static_cast<size_t>(r)], name);
    if (value < 0) return -1;
    sum += value;
  }
  return sum;
}

// One figure of the final table: measured / goal (below 1 meets the goal).
void Row(const char* figure, double measured, const char* unit, double goal) {
  Say("  %-44s %10.2f %-3s %10.2f %-3s %6.2f  %s\n", figure, measured, unit, goal, unit,
      measured / goal, measured <= goal ? "meets" : "MISSES");
}

void Sim::ReportReplicas() {
  const int endpoints = layout_.AllEndpoints();
  Say("replicas: %d controllers on one etcd prefix; switch s on replica s %% %d until the "
      "failover (%d switches each), fill client i through replica i %% %d, move m PUT through "
      "replica m %% %d\n",
      replicas_, replicas_, layout_.switches / replicas_, replicas_, replicas_);
  Say("  resolve by the asking switch's replica (the rate above is the total: each replica got "
      "about 1/%d of it)\n",
      replicas_);
  for (int r = 0; r < replicas_; ++r) {
    const auto index = static_cast<size_t>(r);
    Say("  replica %d: %lld sent (%.0f/s); from schedule p50 %.3f p99 %.3f max %.3f ms; from "
        "send p50 %.3f p99 %.3f ms\n",
        r, static_cast<long long>(replica_sends_[index]),
        send_seconds_ > 0 ? static_cast<double>(replica_sends_[index]) / send_seconds_ : 0.0,
        QuantileMs(replica_planned_ns_[index], 0.5), QuantileMs(replica_planned_ns_[index], 0.99),
        QuantileMs(replica_planned_ns_[index], 1.0), QuantileMs(replica_sent_ns_[index], 0.5),
        QuantileMs(replica_sent_ns_[index], 0.99));
  }
  Say("  moves by the replica of the last switch to hear (cacher or old holder) against the "
      "PUT's; %lld PUTs answered 409 and retried\n",
      static_cast<long long>(put_conflicts_));
  Say("    same replica   %4zu moves: from the PUT sent p50 %.3f p99 %.3f max %.3f ms; from its "
      "answer p50 %.3f p99 %.3f ms\n",
      move_same_ns_.size(), QuantileMs(move_same_ns_, 0.5), QuantileMs(move_same_ns_, 0.99),
      QuantileMs(move_same_ns_, 1.0), QuantileMs(move_same_after_put_ns_, 0.5),
      QuantileMs(move_same_after_put_ns_, 0.99));
  Say("    other replica  %4zu moves: from the PUT sent p50 %.3f p99 %.3f max %.3f ms; from its "
      "answer p50 %.3f p99 %.3f ms\n",
      move_other_ns_.size(), QuantileMs(move_other_ns_, 0.5), QuantileMs(move_other_ns_, 0.99),
      QuantileMs(move_other_ns_, 1.0), QuantileMs(move_other_after_put_ns_, 0.5),
      QuantileMs(move_other_after_put_ns_, 0.99));
  Say("  memory per replica (each holds the whole index; per endpoint = (serving - empty) / %d "
      "endpoints):\n",
      endpoints);
  for (int r = 0; r < replicas_; ++r) {
    const auto& each = memory_[static_cast<size_t>(r)];
    Say("    replica %d: VmHWM empty %ld serving %ld KiB, VmRSS empty %ld loaded %ld registered "
        "%ld serving %ld KiB; per endpoint peak %.0f B, now %.0f B\n",
        r, each.empty_peak_kib, each.serving_peak_kib, each.empty_kib, each.loaded_kib,
        each.registered_kib, each.serving_kib,
        static_cast<double>(each.serving_peak_kib - each.empty_peak_kib) * 1024.0 / endpoints,
        static_cast<double>(each.serving_kib - each.empty_kib) * 1024.0 / endpoints);
  }
  if (const auto* etcd = g_controllers != nullptr ? g_controllers->etcd() : nullptr;
      etcd != nullptr) {
    std::string sizes;
    for (int i = 0; i < etcd->size(); ++i) {
      std::error_code error;
      const auto bytes =
          std::filesystem::file_size(etcd->DataDir(i) / "member" / "snap" / "db", error);
      sizes += (i == 0 ? "" : ", ") + std::string("member ") + std::to_string(i) + " " +
               (error ? error.message() : std::to_string(bytes / 1024) + " KiB");
    }
    Say("  etcd database per member: %s\n", sizes.c_str());
  }
}

int Sim::Report() {
  const int endpoints = layout_.AllEndpoints();
  const double per_endpoint_peak =
      static_cast<double>(serving_peak_kib_ - empty_peak_kib_) * 1024.0 / endpoints;
  const double per_endpoint_serving =
      static_cast<double>(serving_kib_ - empty_kib_) * 1024.0 / endpoints;
  const double per_endpoint = static_cast<double>(loaded_kib_ - empty_kib_) * 1024.0 / endpoints;
  const double per_endpoint_filled =
      static_cast<double>(filled_kib_ - empty_kib_) * 1024.0 / endpoints;
  const double per_switch =
      static_cast<double>(registered_kib_ - loaded_kib_) * 1024.0 / layout_.switches;
  Say("\nswitch_sim: %d switches x %d endpoints (%d placed, %d networks of %d, spread over %d "
      "switches each, in %d domain%s) + %d unplaced attached\n",
      layout_.switches, layout_.per_switch, layout_.Endpoints(), layout_.Networks(),
      layout_.per_network, layout_.spread, layout_.domains, layout_.domains == 1 ? "" : "s",
      layout_.attaches);
  Say("registration: all SyncDone %.3f s, all %d attaches acknowledged %.3f s\n",
      Seconds(sync_time_), layout_.Endpoints(), Seconds(registration_time_));
  Say("attaches that write: %zu of %d acknowledged in %.2f s (%.0f/s, target %d/s, %lld sends "
      ">1 ms late)\n",
      attach_sent_ns_.size(), layout_.attaches, Seconds(attach_time_),
      attach_sent_ns_.empty() ? 0.0
                              : static_cast<double>(attach_sent_ns_.size()) / Seconds(attach_time_),
      options_.attach_rate, static_cast<long long>(attach_late_sends_));
  Say("  latency from send      p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(attach_sent_ns_, 0.5), QuantileMs(attach_sent_ns_, 0.99),
      QuantileMs(attach_sent_ns_, 1.0));
  Say("  latency from schedule  p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(attach_planned_ns_, 0.5), QuantileMs(attach_planned_ns_, 0.99),
      QuantileMs(attach_planned_ns_, 1.0));
  Say("resolve (%d%% ResolveIp, open loop): target %d/s for %d s, achieved %.0f/s, %lld sends >1 "
      "ms behind the schedule\n",
      options_.ip_percent, options_.resolve_rate, options_.resolve_seconds, achieved_rate_,
      static_cast<long long>(late_sends_));
  Say("  found %lld  not_found %lld  denied %lld  wrong %lld  refused %lld  over 10 s %lld  "
      "unmatched %lld\n",
      static_cast<long long>(resolve_counts_.found),
      static_cast<long long>(resolve_counts_.not_found),
      static_cast<long long>(resolve_counts_.denied), static_cast<long long>(resolve_counts_.wrong),
      static_cast<long long>(resolve_counts_.refused), static_cast<long long>(timeouts_),
      static_cast<long long>(resolve_counts_.unmatched));
  Say("  latency from send      p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
      QuantileMs(latency_sent_, 0.5), QuantileMs(latency_sent_, 0.99),
      QuantileMs(latency_sent_, 0.999), QuantileMs(latency_sent_, 1.0));
  Say("  latency from schedule  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms  (judged)\n",
      QuantileMs(latency_planned_, 0.5), QuantileMs(latency_planned_, 0.99),
      QuantileMs(latency_planned_, 0.999), QuantileMs(latency_planned_, 1.0));
  char pace[48] = "back to back";
  if (MoveRate() > 0) std::snprintf(pace, sizeof(pace), "started at %.3g/s", MoveRate());
  Say("moves through the REST API: %d measured (%d while the resolves ran; %s), %d failed\n",
      moves_done_, moves_under_load_, pace, moves_failed_);
  Say("  all cachers + old holder, from the PUT sent      p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(move_ns_, 0.5), QuantileMs(move_ns_, 0.99), QuantileMs(move_ns_, 1.0));
  Say("  all cachers + old holder, from the PUT's answer  p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(move_after_put_ns_, 0.5), QuantileMs(move_after_put_ns_, 0.99),
      QuantileMs(move_after_put_ns_, 1.0));
  Say("  the PUT itself                                  p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(put_ns_, 0.5), QuantileMs(put_ns_, 0.99), QuantileMs(put_ns_, 1.0));
  Say("  old holder's EndpointMoved, from the PUT sent   p50 %.3f  p99 %.3f  max %.3f ms\n",
      QuantileMs(moved_message_ns_, 0.5), QuantileMs(moved_message_ns_, 0.99),
      QuantileMs(moved_message_ns_, 1.0));
  // The probes: per kind, how they were answered.
  const char* kinds[] = {"cross-network (a VNI the asker does not serve)", "a VNI no network has",
                         "an address that does not exist (served VNI)",
                         "another network's IP in a served VNI (policy)"};
  int64_t identical = 0;
  int64_t pairs = 0;
  bool cross_ok = true;
  bool missing_ok = true;
  if (probes_run_ > 0) {
    std::lock_guard lock(probe_mutex_);
    Say("probes: %d of each kind           answered  not_found  denied  refused  other\n",
        probes_run_);
    for (int kind = 0; kind < 4; ++kind) {
      std::map<Answer, int64_t> counts;
      for (int p = 0; p < probes_run_; ++p) {
        const auto& [answer, shape] =
            probe_results_[(static_cast<size_t>(p) * 4) + static_cast<size_t>(kind)];
        if (!shape.empty()) ++counts[answer];
      }
      Say("  %-48s %8lld %10lld %7lld %8lld %6lld\n", kinds[kind],
          static_cast<long long>(counts[Answer::kFound]),
          static_cast<long long>(counts[Answer::kNotFound]),
          static_cast<long long>(counts[Answer::kDenied]),
          static_cast<long long>(counts[Answer::kRefused]),
          static_cast<long long>(counts[Answer::kOther]));
    }
    for (int p = 0; p < probes_run_; ++p) {
      const auto& cross = probe_results_[static_cast<size_t>(p) * 4];
      const auto& unknown = probe_results_[(static_cast<size_t>(p) * 4) + 1];
      const auto& missing = probe_results_[(static_cast<size_t>(p) * 4) + 2];
      if (!cross.second.empty()) {
        ++pairs;
        if (cross.first != Answer::kRefused) cross_ok = false;
        if (cross == unknown) {
          ++identical;
        } else if (pairs - identical <= 3) {
          Say("  differs: cross-network \"%s\" vs nonexistent VNI \"%s\"\n", cross.second.c_str(),
              unknown.second.c_str());
        }
      }
      if (missing.first != Answer::kNotFound) missing_ok = false;
    }
    Say("  cross-network answers identical to the nonexistent VNI's (VNI taken out): %lld of %lld"
        "\n",
        static_cast<long long>(identical), static_cast<long long>(pairs));
  }
  Say("controller memory: VmHWM (peak) empty %ld KiB, serving %ld KiB (all switches connected "
      "and caching)\n",
      empty_peak_kib_, serving_peak_kib_);
  Say("  VmRSS: empty %ld, filled through the API %ld, restarted and loaded %ld, registered %ld, "
      "serving %ld KiB\n",
      empty_kib_, filled_kib_, loaded_kib_, registered_kib_, serving_kib_);
  Say("  per endpoint, peak (serving HWM - empty HWM) / endpoints  %8.0f bytes (judged)\n",
      per_endpoint_peak);
  Say("  per endpoint, now (serving RSS - empty RSS) / endpoints   %8.0f bytes\n",
      per_endpoint_serving);
  Say("  per endpoint (loaded - empty) / endpoints                 %8.0f bytes\n", per_endpoint);
  Say("  per endpoint (filled - empty) / endpoints                 %8.0f bytes (before the "
      "restart)\n",
      per_endpoint_filled);
  Say("  per switch (registered - loaded) / switches              %8.0f bytes\n", per_switch);
  std::string phases;
  for (const auto& [phase, kib] : rss_peaks_) {
    phases += (phases.empty() ? "" : ", ") + phase + " " + std::to_string(kib);
  }
  Say("  VmRSS highest sample (every 20 ms) by phase: %s KiB\n", phases.c_str());
  Say("cache records (dove_southbound_cache_records): %lld serving, the switches hold %lld; "
      "after the restart %lld; after every switch disconnected %lld (%s)\n",
      static_cast<long long>(records_serving_), static_cast<long long>(records_model_),
      static_cast<long long>(records_after_restart_), static_cast<long long>(records_after_end_),
      records_after_end_ == 0 ? "freed" : "NOT freed");
  Say("  bound: every switch caching every endpoint of the networks it serves = %lld records "
      "(%s)\n",
      static_cast<long long>(records_bound_),
      records_serving_ <= records_bound_ ? "within it" : "EXCEEDED");
  Say("cached locations against the model before the restart: %lld wrong\n",
      static_cast<long long>(cache_mismatches_.load()));
  if (g_controllers != nullptr && g_controllers->etcd() != nullptr) {
    // Member 0's (every member holds the same keys).
    std::error_code error;
    const auto db = g_controllers->etcd()->DataDir(0) / "member" / "snap" / "db";
    const auto bytes = std::filesystem::file_size(db, error);
    Say("etcd database (%s, uncompacted history included): %s\n", db.c_str(),
        error ? error.message().c_str()
              : (std::to_string(bytes / 1024) + " KiB, " +
                 std::to_string(bytes / static_cast<uintmax_t>(layout_.AllEndpoints())) +
                 " bytes per endpoint")
                    .c_str());
  }

  if (replicas_ > 1) ReportReplicas();

  if (replicas_ > 1) {
    Say("\n  (rows naming no replica: resolves and moves over all replicas; the memory above "
        "and below it, replica 0's)");
  }
  Say("\n  %-44s %14s %14s %6s\n", "figure", "measured", "goal", "ratio");
  Row("registration: all attaches acknowledged", Seconds(registration_time_), "s", 10.0);
  const std::string resolve_label =
      "resolve p99 from schedule at " + std::to_string(static_cast<int>(achieved_rate_)) + "/s";
  Row(resolve_label.c_str(), QuantileMs(latency_planned_, 0.99), "ms", 1.0);
  for (int r = 0; r < replicas_ && replicas_ > 1; ++r) {
    const std::string label =
        "  replica " + std::to_string(r) + " at " +
        std::to_string(static_cast<int>(
            send_seconds_ > 0
                ? static_cast<double>(replica_sends_[static_cast<size_t>(r)]) / send_seconds_
                : 0.0)) +
        "/s";
    Row(label.c_str(), QuantileMs(replica_planned_ns_[static_cast<size_t>(r)], 0.99), "ms", 1.0);
  }
  Row("move propagated to all cachers, p99", QuantileMs(move_ns_, 0.99), "ms", 50.0);
  if (replicas_ > 1) {
    Row("  last cacher on the PUT's replica", QuantileMs(move_same_ns_, 0.99), "ms", 50.0);
    Row("  last cacher on another replica", QuantileMs(move_other_ns_, 0.99), "ms", 50.0);
  }
  Row("controller peak memory per endpoint", per_endpoint_peak, "B", 1024.0);
  for (int r = 1; r < replicas_; ++r) {
    const auto& each = memory_[static_cast<size_t>(r)];
    const std::string label = "  replica " + std::to_string(r);
    Row(label.c_str(),
        static_cast<double>(each.serving_peak_kib - each.empty_peak_kib) * 1024.0 / endpoints, "B",
        1024.0);
  }
  if (failover_done_) {
    Row("failover: kill -9 one -> moved ones verified", Seconds(failover_synced_), "s", 5.0);
    Row("  -> their attaches acknowledged", Seconds(failover_acked_), "s", 5.0);
  }
  if (restart_done_) Row("restart: kill -9 -> all reconverged", Seconds(restart_acked_), "s", 5.0);

  std::vector<std::string> failures;
  if (attach_refused_.load() > 0) failures.push_back("attaches refused");
  if (static_cast<int>(attach_sent_ns_.size()) != layout_.attaches) {
    failures.push_back("attaches not acknowledged");
  }
  if (not_found_.load() + denied_.load() + wrong_.load() + resolve_refused_.load() + late_.load() >
      0) {
    failures.push_back("resolves of existing endpoints not FOUND");
  }
  if (moves_failed_ > 0) failures.push_back("moves not seen by every cacher");
  if (streams_broken_.load() > 0) failures.push_back("streams ended");
  if (!cross_ok) failures.push_back("a cross-network resolve was not refused");
  if (identical != pairs) {
    failures.push_back("cross-network refusals distinguishable from a nonexistent VNI's");
  }
  if (!missing_ok) failures.push_back("a resolve of a nonexistent address was not NOT_FOUND");
  if (cache_mismatches_.load() > 0) failures.push_back("cached locations differ from the model");
  if (resync_missing_.load() + resync_wrong_.load() > 0) {
    failures.push_back("caches not restored after the restart");
  }
  if (failover_missing_ + failover_wrong_ > 0) {
    failures.push_back("caches not restored after the failover");
  }
  if (failover_cache_wrong_ > 0) {
    failures.push_back("cached locations differ from the model after the failover");
  }
  if (records_serving_ >= 0 && records_serving_ != records_model_) {
    failures.push_back("cache records differ from what the switches hold");
  }
  if (failover_done_ && failover_records_ != failover_records_model_) {
    failures.push_back("cache records differ from what the switches hold after the failover");
  }
  if (records_serving_ < 0) failures.push_back("no dove_southbound_cache_records in /metrics");
  if (records_after_end_ != 0) failures.push_back("cache records not freed after disconnect");
  if (records_serving_ > records_bound_)
    failures.push_back("more cache records than can be cached");
  if (failures.empty()) {
    Say("\nswitch_sim: run complete\n");
    return 0;
  }
  std::string text;
  for (const auto& failure : failures) text += (text.empty() ? "" : ", ") + failure;
  Say("\nswitch_sim: FAILED: %s\n", text.c_str());
  return 1;
}

int Run(int argc, char** argv) {
  auto parsed = ParseOptions(argc, argv);
  if (!parsed) Die(parsed.error());
  const Options options = std::move(*parsed);
  DieOnStopSignals();
  // Before any thread exists (but the signal watcher's), so every thread of the simulator
  // inherits it.
  if (!options.sim_cpus.empty()) {
    const cpu_set_t set = CpuSet(options.sim_cpus);
    if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
      Die(std::string("cannot pin the simulator: ") + std::strerror(errno));
    }
  }
  if (!options.controller_cpus.empty() || !options.sim_cpus.empty()) {
    auto list = [](const std::vector<int>& cpus) {
      std::string text;
      for (int cpu : cpus) text += (text.empty() ? "" : ",") + std::to_string(cpu);
      return text.empty() ? std::string("any") : text;
    };
    Say("pinned: the controller to CPU %s, the simulator to CPU %s\n",
        list(options.controller_cpus).c_str(), list(options.sim_cpus).c_str());
  }
  const Layout layout{.switches = options.switches,
                      .per_switch = options.endpoints,
                      .per_network = options.per_network,
                      .spread = std::min(options.spread, options.switches),
                      .attaches = options.attaches,
                      .domains = options.domains};
  if (layout.Networks() > 65536) Die("too many networks for 10.x.y.0/24 subnets");
  if (options.domains > layout.Networks()) {
    Die("--domains: at most " + std::to_string(layout.Networks()) + " (one network each)");
  }
  if (options.switches > 65000) Die("at most 65000 switches (10.255.x.y tunnel IPs)");
  if (static_cast<int64_t>(options.attaches) >
      static_cast<int64_t>(layout.Networks()) * (253 - options.per_network)) {
    Die("--attaches: at most " + std::to_string(layout.Networks() * (253 - options.per_network)) +
        " (the free addresses of the networks' /24s)");
  }
  RaiseFileLimit();

  TempDir dir("dove-switch-sim");
  g_data_dir = &dir.path();
  const auto data_dir = dir.path() / "data";
  const int replicas = options.replicas;
  auto started = ControllerSet::Start(
      ControllerSet::Options{.binary = options.controller_bin,
                             .replicas = replicas,
                             .etcd = options.etcd,
                             .data_dir = data_dir,
                             .cache_dir = options.index_cache ? dir.path() / "cache" : "",
                             .extra = options.controller_args});
  if (!started) Die(started.error());
  std::unique_ptr<ControllerSet> controllers = std::move(*started);
  g_controllers = controllers.get();
  if (const auto* etcd = controllers->etcd(); etcd != nullptr) {
    if (etcd->size() == 1) {
      Say("etcd: one member at %s\n", etcd->Endpoints().c_str());
    } else {
      Say("etcd: %d members at %s\n", etcd->size(), etcd->Endpoints().c_str());
    }
  }
  std::vector<Sim::Memory> memory(static_cast<size_t>(replicas));
  for (int r = 0; r < replicas; ++r) {
    ControllerProcess& controller = controllers->replica(r);
    PinProcess(controller.pid(), options.controller_cpus);
    if (controller.southbound_port() == 0) Die("the controller printed no southbound address");
    if (replicas == 1) {
      Say("controller pid %d: API port %d, southbound port %d\n",
          static_cast<int>(controller.pid()), controller.port(), controller.southbound_port());
    } else {
      Say("controller replica %d pid %d: API port %d, southbound port %d\n", r,
          static_cast<int>(controller.pid()), controller.port(), controller.southbound_port());
    }
    memory[static_cast<size_t>(r)].empty_kib = RssKib(controller.pid());
    memory[static_cast<size_t>(r)].empty_peak_kib = PeakKib(controller.pid());
  }

  // The fill's clients are spread over the replicas (client i through replica i % N); each
  // replica learns the others' writes from the store (and loads it all below).
  std::vector<int> fill_ports;
  const int fill_replicas =
      options.fill_replicas == 0 ? replicas : std::min(options.fill_replicas, replicas);
  fill_ports.reserve(static_cast<size_t>(fill_replicas));
  for (int r = 0; r < fill_replicas; ++r) fill_ports.push_back(controllers->replica(r).port());
  auto filled = Fill(fill_ports, layout, options.fill_clients);
  if (!filled) {
    CheckControllerAlive();
    Die("fill: " + filled.error());
  }
  std::vector<uint32_t> vnis = std::move(*filled);
  for (int r = 0; r < replicas; ++r) {
    memory[static_cast<size_t>(r)].filled_kib = RssKib(controllers->replica(r).pid());
  }
  if (replicas == 1) {
    Say("controller RSS: empty %ld KiB (peak %ld), filled through the API %ld KiB\n",
        memory[0].empty_kib, memory[0].empty_peak_kib, memory[0].filled_kib);
  } else {
    for (int r = 0; r < replicas; ++r) {
      const auto& each = memory[static_cast<size_t>(r)];
      Say("controller replica %d RSS: empty %ld KiB (peak %ld), after the fill %ld KiB (%s)\n", r,
          each.empty_kib, each.empty_peak_kib, each.filled_kib,
          r < fill_replicas ? "its share of the fill's clients, the rest from its watch"
                            : "from its watch");
    }
  }
  // Restarted on the same store: the serving controllers have loaded the endpoints but never
  // held the fill's request buffers and heap fragments, so their peak is the serving one.
  if (auto restarted = controllers->Restart(SIGTERM, {.same_ports = false}); !restarted) {
    Die(restarted.error());
  }
  std::vector<int> api_ports;
  api_ports.reserve(static_cast<size_t>(replicas));
  for (int r = 0; r < replicas; ++r) {
    ControllerProcess& controller = controllers->replica(r);
    PinProcess(controller.pid(), options.controller_cpus);
    memory[static_cast<size_t>(r)].loaded_kib = RssKib(controller.pid());
    api_ports.push_back(controller.port());
    if (replicas == 1) {
      Say("controller restarted (pid %d, southbound port %d): RSS loaded %ld KiB\n",
          static_cast<int>(controller.pid()), controller.southbound_port(),
          memory[static_cast<size_t>(r)].loaded_kib);
    } else {
      Say("controller replica %d restarted (pid %d, API port %d, southbound port %d): RSS "
          "loaded %ld KiB\n",
          r, static_cast<int>(controller.pid()), controller.port(), controller.southbound_port(),
          memory[static_cast<size_t>(r)].loaded_kib);
    }
  }

  Sim sim(options, layout, std::move(vnis), std::move(api_ports));
  const int status = sim.Run(controllers.get(), std::move(memory));
  g_controllers = nullptr;
  return status;
}

int Sim::Run(ControllerSet* controllers, std::vector<Memory> memory) {
  memory_ = std::move(memory);
  empty_kib_ = memory_[0].empty_kib;
  empty_peak_kib_ = memory_[0].empty_peak_kib;
  filled_kib_ = memory_[0].filled_kib;
  loaded_kib_ = memory_[0].loaded_kib;
  std::vector<int> southbound_ports;
  southbound_ports.reserve(static_cast<size_t>(replicas_));
  for (int r = 0; r < replicas_; ++r) {
    southbound_ports.push_back(controllers->replica(r).southbound_port());
  }
  // Samples replica 0 (the only one without replicas).
  RssWatch rss(controllers->replica(0).pid());
  rss.Phase("registration");
  Register(southbound_ports);
  for (int r = 0; r < replicas_; ++r) {
    memory_[static_cast<size_t>(r)].registered_kib = RssKib(controllers->replica(r).pid());
  }
  registered_kib_ = memory_[0].registered_kib;
  if (replicas_ == 1) {
    Say("controller RSS after registration: %ld KiB\n", registered_kib_);
  } else {
    for (int r = 0; r < replicas_; ++r) {
      Say("controller replica %d RSS after registration: %ld KiB\n", r,
          memory_[static_cast<size_t>(r)].registered_kib);
    }
  }
  SayLiveness("registration");
  rss.Phase("attaches");
  Attaches();
  SayLiveness("attaches");
  // Moves through the REST API while the open-loop resolves run.
  rss.Phase("resolves and moves");
  std::thread moves([this] { Moves(); });
  Resolves();
  SayLiveness("resolve");
  moves.join();
  SayLiveness("moves");
  rss.Phase("probes");
  Probes();
  CheckControllerAlive();
  rss.Stop();
  rss_peaks_ = rss.Peaks();
  for (int r = 0; r < replicas_; ++r) {
    auto& each = memory_[static_cast<size_t>(r)];
    each.serving_kib = RssKib(controllers->replica(r).pid());
    each.serving_peak_kib = PeakKib(controllers->replica(r).pid());
  }
  serving_kib_ = memory_[0].serving_kib;
  serving_peak_kib_ = memory_[0].serving_peak_kib;
  records_serving_ = MetricSum("dove_southbound_cache_records");
  records_bound_ = 0;
  for (int n = 0; n < layout_.Networks(); ++n) {
    records_bound_ += static_cast<int64_t>(members_[static_cast<size_t>(n)].size()) *
                      static_cast<int64_t>(ServingSwitches(n).size());
  }
  cache_mismatches_ = CheckCaches("before the restart", &records_model_);
  if (replicas_ == 1) {
    Say("serving controller: VmHWM %ld KiB, VmRSS %ld KiB; cache records %lld, the switches "
        "hold %lld\n",
        serving_peak_kib_, serving_kib_, static_cast<long long>(records_serving_),
        static_cast<long long>(records_model_));
  } else {
    for (int r = 0; r < replicas_; ++r) {
      Say("serving replica %d: VmHWM %ld KiB, VmRSS %ld KiB\n", r,
          memory_[static_cast<size_t>(r)].serving_peak_kib,
          memory_[static_cast<size_t>(r)].serving_kib);
    }
    Say("serving replicas: cache records %lld (all replicas), the switches hold %lld\n",
        static_cast<long long>(records_serving_), static_cast<long long>(records_model_));
  }
  // The failover phase (replicas): one replica killed under load, its switches move.
  Failover(controllers);
  CheckControllerAlive();
  // The restart phase: every serving controller is killed and replaced.
  Restart(controllers);
  CheckControllerAlive();
  SayLiveness("restart");
  StopHeartbeats();
  for (auto& each : switches_) each->Stop();
  for (auto& each : switches_) each->Wait();
  // Every stream ended: the controllers must have freed every cache record.
  for (int i = 0; i < 200; ++i) {
    if (MetricSum("dove_southbound_sessions") == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  records_after_end_ = MetricSum("dove_southbound_cache_records");
  const int status = Report();
  controllers->KillAll();
  return status;
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) {
  // As in dove-controller: no lock-order tracking in absl's (gRPC's) mutexes, so the
  // simulator's own 1000 streams take less of the CPU the controller is measured on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return dove::bench::Run(argc, argv);
}
