// Directory: the southbound core. Which switches are connected, which switch cached which
// endpoint, who floods to whom; for each input (a switch's message, a store change, a clock
// tick) the ControllerMessages to send and to which session. No gRPC, no threads, no I/O of
// its own: the registry is what it reads and writes, the store's history what it replays for a
// reconnecting switch (switch_service.h drives it).
//
// Sessions: one per switch stream, identified by a SessionId the caller chooses (unique per
// stream). Hello binds the session to a switch name (registering the switch when unknown,
// state UP); nothing else is accepted before it (the output closes the session with
// FAILED_PRECONDITION). A tunnel IP held by another live session is refused (conflict) and the
// session closed with ALREADY_EXISTS. Every message is checked first (message_check.h): a bad
// Hello closes the session (INVALID_ARGUMENT), any other bad message gets a Refusal and the
// stream goes on.
//
// Catch-up (Hello): Welcome, a NetworkConfig per network the switch has ports on, then for the
// endpoints it says it cached only what changed after its last_revision (read from the
// store's history), then SyncDone. When that history is gone (compacted) or last_revision is
// 0 or ahead of the registry: Welcome.snapshot and a LocationUpdate for every listed endpoint
// that still exists. Either way the session is recorded as caching them.
//
// Resolve: ResolveMac in the asking VNI's network; ResolveIp domain-wide (the distributed
// router asks for destinations in other networks of the domain), FOUND when the destination's
// network is the asking one or model::MayExchange says some policy could let traffic pass
// between the two, either way (the switch enforces the policies packet by packet), DENIED
// otherwise; an IP of another domain is NOT_FOUND exactly as one nobody holds.
//
// Caches: a FOUND resolve records that the session cached the endpoint. When the endpoint
// changes (an Attach/Detach through here, or any store change that reaches OnStoreEvents)
// those sessions get a LocationUpdate (Invalidate when it is deleted, or when a policy change
// leaves none of the session's networks MayExchange-reachable to it); when it moved to another
// switch, the session of the switch it left gets EndpointMoved and is a cacher from then on (when
// it still serves a network that may reach the endpoint), so it hears of the next move too.
// Every message carries the store
// revision of the change it reflects. A change is reported once: the store event of a change
// already reported by Attach/Detach (same endpoint version) is ignored.
//
// Configurations (NetworkConfig, sent to a session for each network it has a port in): the
// network, its subnets, the domain's policies naming it, its flood list, its endpoints on the
// switch, and for the distributed router every subnet of the domain (with its network's VNI)
// and the domain's tunnel IPs (the UP switches with ports in any network of the domain, this
// one excluded). Sent again: to the sessions of a network changed; to the sessions of EVERY
// network of the domain when a subnet of the domain is created/changed/deleted or a network
// created/deleted (or its VNI changed); to the sessions of both networks a policy names (before
// and after the change). A deleted network is NetworkRemoved, and so is the last port of a
// switch in a network leaving it (it then hears nothing of it).
//
// Flood lists: a FloodList (the network's own list, whole) goes to the sessions of a network
// when its own list changes, and to the sessions of every network of the domain when the
// domain's set changes (a switch's first port in the domain or its last one leaving, a switch
// DOWN or UP, a new tunnel IP, a switch deleted): a "domain round". The domain's set travels as
// a delta: the directory keeps, per domain, the set as of its last round (the published set,
// Published()); every NetworkConfig carries that published set (not the live one), and a round
// compares the live set with it, sends each configured session the IPs added and removed (its
// own entry left out), and publishes the live set. So every configured session holds exactly the
// published set (less its own IP), whenever it was configured, with nothing kept per session. The
// delta goes once per session, on the first network of the domain (by id) it is configured for: the
// switch applies it to every config it holds of that domain. A round whose live set equals the
// published one sends nothing and is not counted. At most one round per domain per
// domain_round_interval goes at once, the changes after it within the interval are coalesced into
// one round at the first tick after it; the networks whose own lists changed hear them at once,
// without a delta. The NetworkConfigs of every network of a domain, sent again when a subnet or a
// network of the domain changes, are coalesced the same way (the network whose subnets changed is
// refreshed at once).
//
// Cost: resolve, attach and every fan-out are hash lookups plus the messages they send; the
// flood list of a network is kept as a count of endpoints per switch, and the domain's set as a
// count of endpoints per switch per domain (no scan of the endpoints). Memory per endpoint: one
// small record (version, network, domain, switch).
//
// Errors: refusals are messages (Refusal, ResolveReply NOT_FOUND/DENIED) to the asking session
// only; protocol violations are Output::close. A registry failure is a Refusal with its code.
// Every refused Hello and every change of a switch's liveness is an Output::logs line.
//
// Tenancy: a switch serves the networks that have an endpoint placed on it (Endpoint.switch_name,
// set through the API or by its own Attach). It may resolve only in a VNI it serves, list in
// Hello.cached_endpoint_ids only endpoints of a network it serves or of one that such a network
// MayExchange with (others get no location and are not recorded), and Attach only an endpoint
// placed on it, or an unplaced one of a network it serves. Anything else naming a network or an
// endpoint is refused with the same answer as for one that does not exist (a Refusal not_found
// whose text depends only on what the switch sent), counted per switch and kind (Refused()) and
// logged (the 1st, 2nd, 4th, 8th... refusal of each switch, so a flood of them cannot flood the
// log). An endpoint placed on another switch in a network this one serves is a move, authorized
// only through the API (set its switch_name): its Attach is refused (permission_denied) and changes
// nothing.
//
// Liveness: a switch is DOWN (stored state, Location.switch_down to its endpoints' cachers, left
// out of every flood list) when its stream ends, when it sends nothing for dead_after, or, after
// a controller start, when it has not said Hello within dead_after of the first tick. Any
// message brings it back UP (and tells the same switches). Switch.last_heartbeat is written
// with each state change and refreshed every heartbeat_record_interval while UP (at most
// kMaxHeartbeatWritesPerTick per tick, so a thousand switches do not write at once).
//
// Replicas (several controllers over one store): a switch is live while it has a session key
// (store_keys.h, "/dove/v1/sessions/<name>" -> SessionValue) on ANY replica. A greeted stream
// claims the key, with the replica's store lease (OnLeaseGranted); the stream's end, or its
// silence, marks the switch DOWN and deletes the key in ONE txn, only while the key is still
// this stream's (or absent): a switch that moved to another replica is not marked DOWN by the
// one it left. The key also goes when the replica's lease does (it died, or was cut from the
// store). Every replica watches the keys:
//   - another replica's key put: the switch is live there; a stream of it here is closed
//     (ABORTED, replaced), and a switch this replica held DOWN is UP again for its cachers;
//   - a key deleted with no stream of the switch here, the switch UP: it is marked DOWN, by a
//     write made only while the key is still absent and the record unwritten since the delete
//     (SwitchWrite::no_session_at): of the replicas hearing it, one writes; a Hello to any
//     replica meanwhile wins;
//   - a switch stored UP with no key (at the start: not in the keys read then; later: a record
//     put UP by another writer) is marked DOWN the same way when no key appears and no Hello
//     comes within dead_after.
// Switch records written by others (state, tunnel IP) change this replica's view of a switch
// it has no stream of, with the same messages as its own decisions (cachers, flood lists,
// domain rounds). The lease: OnLeaseLost closes every stream (UNAVAILABLE, so switches go to
// the next controller) and refuses Hellos (UNAVAILABLE) until OnLeaseGranted. A Directory
// never given a lease takes Hellos and writes no session keys (one controller, or a store
// without leases: liveness is then this process's alone, as described above).
//
// Writes: the Directory decides the store writes it needs but does not make them (a durable
// write waits for an fsync, and nothing else the caller serialises should wait with it). The
// caller performs them after releasing its lock:
//   - Output::registrations (a Hello from a switch new to the store, or at a new tunnel IP):
//     PerformRegistration() creates or readdresses the switch's record (the registry's checks,
//     unique names and tunnel IPs, decide), then OnRegistered() with the result answers the
//     Hello (Welcome and catch-up, or a Refusal). The stream's next message is read only after
//     that. Several registrations may be in flight at once, so a registration storm of new
//     switches costs round trips in parallel, not one after another under the caller's lock;
//     a stream that ends before its answer leaves the switch DOWN (unless another stream of it
//     is greeted or registering), and a newer stream of the same switch replaces a registering
//     one as it does a greeted one;
//   - Output::endpoint_writes (an Attach or Detach): PerformEndpointWrite(), then
//     OnEndpointWritten() with the result, which answers the switch that asked (a stale
//     version, because the endpoint changed meanwhile, is refused as a conflict) and fans the
//     change out (the store event of the same change, arriving through OnStoreEvents before or
//     after, is recognised by its version and not reported twice);
//   - switch records (state, last_heartbeat, software version), when Output::switch_writes is
//     set: TakeSwitchWrites() gives the latest wanted record of each switch (later decisions
//     replace earlier ones), PerformSwitchWrite() writes one, OnSwitchWritten() logs a failure
//     and asks again when the switch's state changed while it was written. One writer at a
//     time (the caller's own mutex), so a switch's records reach the store in decision order.
// The in-memory view (liveness, what is placed where) changes at decision time, so messages are
// never held back by a write.
//
// Threading: not thread-safe; the caller serialises every call (one mutex). `registry` and
// `store` (may be null: every Hello then gets a snapshot) must outlive the Directory.
//
//   Directory directory(registry, store, {.controller_id = "c1"});
//   Output out = directory.OnMessage(1, hello, now);  // Welcome, NetworkConfig..., SyncDone
//   for (auto& [session, message] : out.messages) Send(session, message);
//   // unlocked:
//   for (auto& write : out.endpoint_writes) {
//     auto saved = PerformEndpointWrite(registry, write);
//     Send(directory.OnEndpointWritten(write, saved));   // locked again
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "controller/registry.h"
#include "controller/side_service.h"
#include "controller/southbound/change_history.h"
#include "controller/southbound/session_set.h"
#include "controller/string_pool.h"
#include "dove/v1/switch.pb.h"
#include "model/router_mac.h"
#include "store/store.h"

namespace dove::controller::southbound {

using SessionId = uint64_t;
using Clock = std::chrono::steady_clock;

struct DirectoryOptions {
  std::string controller_id = "dove-controller";
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds dead_after{3000};
  // How often an UP switch's Switch.last_heartbeat is written to the store.
  std::chrono::milliseconds heartbeat_record_interval{30000};
  // At most one domain round (a FloodList of every network of a domain to each of its
  // sessions, when the domain's tunnel IP set changed; or its NetworkConfigs, when its subnets
  // or networks changed) per domain per interval: further changes within it are coalesced into
  // one round at the first tick after it. A network's own flood list (with the domain set as it
  // is) or configuration still goes at once. 0: every change at once.
  std::chrono::milliseconds domain_round_interval{100};
  // ... or this much per switch with ports in the domain, when longer: a round is one message
  // to each of them, so a large domain's rounds cost at most ~1 message per this interval
  // (1000 switches: one round per second; 0: the fixed interval only).
  std::chrono::microseconds domain_round_per_switch{1000};
  // Store changes kept in memory (as ids, change_history.h) for the catch-up of Hellos once
  // StartHistory was called: a Hello whose last revision is older than them reads the store.
  size_t history_notes = 200000;
};

inline constexpr size_t kMaxHeartbeatWritesPerTick = 20;
// OnTick's mass-silence guard: more than max(5, a tenth of the live switches) silent at once is
// taken for the controller's backlog, for at most 10 x dead_after in a row.
inline constexpr size_t kMassSilenceMinimum = 5;
inline constexpr size_t kMassSilenceShare = 10;
inline constexpr int kMassSilenceDeadAfters = 10;

// One message for one session.
struct Outbound {
  SessionId session = 0;
  v1::ControllerMessage message;
  // When not empty: the message in its wire form, and `message` holds only its revision. A fan-out
  // built for every switch of a domain at once (a round's FloodList deltas: a thousand messages of
  // up to a thousand addresses each) is held this way, a few times smaller than as messages; so is
  // a switch's first NetworkConfig of a domain (its routes appended as encoded once per domain).
  std::string encoded{};
};

// The stream of `session` must end with this status (after the messages before it are sent).
// `code` is a grpc::StatusCode value (kept as int so this header needs no gRPC).
struct Close {
  SessionId session = 0;
  int code = 0;
  std::string message;
};

// An endpoint's new placement, decided by an Attach or a Detach of `session`. `endpoint.version`
// is the version it replaces: the write is refused (conflict) when the endpoint changed since.
struct EndpointWrite {
  enum class Kind : uint8_t { kAttach, kDetach };
  Kind kind = Kind::kAttach;
  SessionId session = 0;
  v1::Endpoint endpoint;
};

// The record a switch should have in the store, and its session key (see "Replicas"). Fields
// left empty keep the stored value.
struct SwitchWrite {
  // What becomes of the switch's session key: kKeep leaves it; kClaim puts session_value with
  // `lease` (this replica serves the switch); kRelease deletes it, only while it still holds
  // session_value (with the DOWN record, in one txn).
  enum class SessionOp : uint8_t { kKeep, kClaim, kRelease };

  std::string switch_name;
  bool up = true;
  std::optional<std::chrono::system_clock::time_point> last_heartbeat{};
  std::optional<std::string> software_version{};
  bool record = true;  // false: the session key only (a Hello that changed nothing else)
  SessionOp session = SessionOp::kKeep;
  std::string session_value{};
  int64_t lease = 0;  // kClaim: the replica's lease (0: none, the key stays until deleted)
  // > 0: a DOWN decided on the store's news that the switch had no session key at this
  // revision: written only while it still has none and its record was not written after it
  // (so of all replicas hearing the news ONE marks it DOWN, and none when it said Hello to a
  // replica meanwhile).
  int64_t no_session_at = 0;
};

// A Hello waiting for its switch's record: created (a switch new to the store) or replaced (a
// new tunnel IP) before the Hello is answered, since the registry's checks decide the answer.
struct Registration {
  SessionId session = 0;
  v1::Hello hello;
  v1::Switch record;                   // what to write: UP, the Hello's tunnel IP and version
  std::optional<v1::Switch> before{};  // the stored record it replaces (nullopt: a new switch)
};

using controller::TraceArrival;

struct Output {
  std::vector<Outbound> messages;
  std::vector<Close> closes;
  std::vector<std::string> logs{};               // lines for the controller's log, without a prefix
  std::vector<EndpointWrite> endpoint_writes{};  // to perform outside the caller's lock
  bool switch_writes = false;                    // TakeSwitchWrites() has work
  std::vector<Registration> registrations{};     // to perform outside the caller's lock
  std::vector<TraceArrival> trace_reports{};     // to hand to the trace API
};

// A session key's value: "controller=<controller_id> instance=<Directory::Instance()>
// stream=<n>", unique per stream and per process.
std::string SessionValue(const std::string& controller_id, const std::string& instance,
                         uint64_t stream);

// Appends `from`'s messages, closes, logs and writes to `to`, in order.
void Append(Output& to, Output&& from);

// Performs a write the Directory decided (no Directory call; safe without the caller's lock).
controller::ModelResult<v1::Endpoint> PerformEndpointWrite(controller::Registry& registry,
                                                           const EndpointWrite& write);
controller::ModelResult<v1::Switch> PerformRegistration(controller::Registry& registry,
                                                        const Registration& registration);
// A switch deleted meanwhile is not an error (nothing to write); nor is a guarded write whose
// condition no longer holds (the switch was served by another replica meanwhile): the
// message then says why nothing was written, starting with "not written:". `store` is the
// registry's (the session key is written in the same txn as the record).
Expected<void, std::string> PerformSwitchWrite(controller::Registry& registry, store::Store* store,
                                               const SwitchWrite& write);
// PerformSwitchWrite of each of `writes` (at most one per switch, as TakeSwitchWrites gives
// them), the results in the same order; the session keys claimed alone (a Hello that changed
// nothing else: what a reconnect storm is made of) go kMaxClaimsPerTxn to a transaction, one
// round trip and one fsync for all of them; then the records written without a condition (the
// heartbeat records, every switch's once per heartbeat_record_interval; a Hello's UP with its
// key) kMaxRecordsPerTxn to a transaction (Registry::ReplaceAll). A batch the store refuses is
// tried again one write at a time, so each result is that write's own.
inline constexpr size_t kMaxClaimsPerTxn = 100;  // etcd refuses more than 128 ops per txn
// Each record is 3 compares (its revision, its name's and tunnel IP's claims) and up to 2 ops.
inline constexpr size_t kMaxRecordsPerTxn = 32;
// A session key claimed alone (no record): what PerformSwitchWrites batches.
inline bool ClaimsAlone(const SwitchWrite& write) {
  return !write.record && write.session == SwitchWrite::SessionOp::kClaim;
}
std::vector<Expected<void, std::string>> PerformSwitchWrites(controller::Registry& registry,
                                                             store::Store* store,
                                                             std::span<const SwitchWrite> writes);

// How the last Hellos were answered, for /metrics and tests.
struct SyncCounts {
  uint64_t incremental = 0;  // caught up from last_revision
  uint64_t snapshot = 0;     // full snapshot
};

// The domain's distributed-router MAC (model/router_mac.h).
using model::RouterMacOf;

class Directory {
 public:
  Directory(controller::Registry* registry, store::Store* store, DirectoryOptions options);

  // Every SwitchMessage of a session, in order. A SwitchBatch is checked as a whole, then its
  // messages handled in turn; the endpoint writes one asks for are in the Output, not yet made,
  // when the next is handled, so SwitchService hands a batch's messages over one at a time
  // instead, each after the writes of the one before (SwitchService::ReceiveBatch).
  Output OnMessage(SessionId session, const v1::SwitchMessage& message, Clock::time_point now);
  // The stream ended (either side). Forgets the session and what it cached; when it was its
  // switch's current stream, the switch is DOWN (its cachers and flood lists are told).
  Output OnDisconnect(SessionId session, Clock::time_point now = Clock::now());
  // Changes of the store under "/dove/v1/", in revision order.
  Output OnStoreEvents(const std::vector<store::Event>& events);
  // The caller's store watch delivers every change from `revision` on: from now on, Hellos
  // are caught up from the changes OnStoreEvents noted (change_history.h), not by reading the
  // store's history, as far back as they reach. Called again after a gap in the watch (the
  // notes are dropped).
  void StartHistory(int64_t revision);
  // The store's history before StartHistory's revision, as Changes(prefix, from) gave it (later
  // events are ignored): a switch reconnecting to a controller that has just started, with a
  // last revision at or after `from`, is caught up from memory too.
  void BackfillHistory(int64_t from, const std::vector<store::Event>& events);
  // The store dropped its history before `revision` (compaction): so do the notes.
  void TrimHistory(int64_t revision);
  int64_t HistoryFrom() const { return history_.from(); }
  // The replica holds store lease `lease` (> 0): Hellos are taken, session keys go with it
  // (the keys of the streams open, if any, are claimed again with it).
  Output OnLeaseGranted(int64_t lease);
  // The replica lost its lease (`why`: expired, or the store unreachable longer than its
  // TTL): every stream is closed with UNAVAILABLE, without any store write (its keys are gone
  // or going with the lease), and Hellos are refused with UNAVAILABLE until OnLeaseGranted.
  Output OnLeaseLost(const std::string& why);
  // When the caller last received a message of `session` that the directory may not have
  // handled yet (it waits for the caller's lock); nullopt when unknown.
  using LastReceived = std::function<std::optional<Clock::time_point>(SessionId)>;
  // Marks DOWN (in the registry) the switches whose last message is older than dead_after, and
  // the switches stored UP that have not said Hello within dead_after of the first tick; their
  // endpoints stay where they are, the switches that cached one get a LocationUpdate with
  // switch_down set, and the flood lists of their networks leave them out. A heartbeat (or a
  // new Hello) brings the switch back UP, and tells them again. Refreshes last_heartbeat.
  // `last_received` (optional) is asked about a session only when its last handled message is
  // older than dead_after: a message received since, still queued behind the caller's lock, is
  // a sign of life, so a controller that falls behind does not take its backlog for silence
  // (each such DOWN and UP again costs LocationUpdates to the cachers of the switch's endpoints,
  // its networks' flood lists and a round to every switch of its domains).
  // `behind`: the caller holds messages received and not yet handled (they wait for its lock),
  // so it may not even have read the streams it has not heard from: the time since the previous
  // tick counts as nobody's silence (nor toward the Hello deadline after a start). A switch
  // that really went quiet is then marked DOWN dead_after of not-behind time after its last
  // message: late while the controller is saturated, instead of every switch flapping.
  // Likewise when more than max(kMassSilenceMinimum, 1/kMassSilenceShare of the live switches)
  // are silent at one tick (a controller that cannot read its streams, CPU-starved or busy
  // outside the caller's lock, looks exactly like that): that tick's interval is nobody's
  // silence and nobody goes DOWN, for at most kMassSilenceDeadAfters x dead_after in a row;
  // a real failure of that many switches is then found that much later. The same holds for
  // switches whose session key ended with no Hello anywhere since (see "Replicas"): more than
  // max(kMassSilenceMinimum, 1/kMassSilenceShare of the known switches) due at one tick are
  // held back, as long, counted from the last tick at which the held ones had shrunk by a
  // tenth (so a long storm whose Hellos keep coming in is held all along); and once held, the
  // ones still due are held while the others keep coming in (one of them confirmed within the
  // last dead_after): a storm's last stragglers are DOWN only dead_after after the storm's
  // last Hello, not the moment they are few.
  Output OnTick(Clock::time_point now, const LastReceived& last_received = nullptr,
                bool behind = false);

  // The answers to a performed write: see "Writes" above.
  Output OnEndpointWritten(const EndpointWrite& write,
                           const controller::ModelResult<v1::Endpoint>& saved);
  Output OnRegistered(const Registration& registration,
                      const controller::ModelResult<v1::Switch>& saved, Clock::time_point now);
  std::vector<SwitchWrite> TakeSwitchWrites();
  Output OnSwitchWritten(const SwitchWrite& write, const Expected<void, std::string>& done);

  // For tests and metrics.
  bool IsLive(const std::string& switch_name) const;
  // Whether this replica's view has the switch DOWN (false for an unknown switch).
  bool IsDown(const std::string& switch_name) const;
  // Whether Hellos are taken (no lease lost, or a new one granted since).
  bool TakesHellos() const { return !lease_lost_; }
  // This Directory's part of its session values: controller_id and random hex digits.
  const std::string& Instance() const { return instance_; }
  std::set<SessionId> CachersOf(const std::string& endpoint_id) const;
  size_t SessionCount() const { return sessions_.size(); }
  // Cache records ("who cached what"): one per (session, endpoint) the session resolved FOUND
  // or listed in its Hello, however often it asked; freed when the endpoint is deleted or the
  // session ends, so bounded by the sessions times the endpoints they may reach.
  size_t CacheRecords() const;
  SyncCounts Syncs() const { return syncs_; }
  // Liveness decisions so far: switches marked DOWN, and UP again (for /metrics and tests).
  struct LivenessCounts {
    uint64_t down = 0;
    uint64_t up = 0;
  };
  LivenessCounts LivenessChanges() const { return liveness_changes_; }
  // Ticks whose DOWN decisions the mass-silence guard held back (OnTick).
  uint64_t MassSilenceTicks() const { return mass_silence_ticks_; }
  // The session of the switch `switch_name` on this controller, when it said Hello here.
  std::optional<SessionId> SessionOfSwitch(const std::string& switch_name) const {
    return SessionOf(switch_name);
  }
  // Every session that said Hello here, with its switch's name.
  std::vector<std::pair<SessionId, std::string>> HelloedSessions() const;
  // The last StatsSummary of each connected switch, by switch name.
  const std::map<std::string, v1::StatsSummary>& Stats() const { return stats_; }
  // Refused southbound requests, by switch name then kind ("resolve", "attach", "detach",
  // "subscribe"): what a switch asked about a network or an endpoint it does not serve.
  const std::map<std::string, std::map<std::string, uint64_t>>& Refused() const { return refused_; }

 private:
  struct Session {
    std::string switch_name;    // empty until Hello
    std::string session_value;  // its session key's value (SessionValue), set at Hello
    std::string tunnel_ip;
    bool live = false;
    Clock::time_point last_heartbeat;
    Clock::time_point recorded_heartbeat;  // when last_heartbeat was last written (min: never)
    Clock::duration stalled_at_heard{};    // stalled_ when last_heartbeat was set
    std::set<std::string> networks;        // network ids whose NetworkConfig it was sent
    // The endpoints it caches: the keys of known_ (which outlive every reference here: an
    // endpoint's record goes only after its cachers let go), sorted by address. 8 bytes a
    // record.
    std::vector<const std::string*> cached;
  };
  // What the directory last reported of an endpoint, and who cached it: 40 bytes, its strings
  // held in names_. An endpoint cached before the store watch reported it has a record with
  // only its cachers until then.
  struct Known {
    uint32_t version = 0;
    const std::string* network_id = nullptr;
    const std::string* domain_id = nullptr;    // of the network when recorded (nullptr: unknown)
    const std::string* switch_name = nullptr;  // nullptr: placed on no switch
    SessionSet cachers;  // the sessions caching it (8 bytes; a block only when not empty)
  };
  // An endpoint's placement as SetKnown takes it, and as a forgotten Known is handed back.
  struct Placement {
    uint32_t version = 0;
    std::string network_id;
    std::string domain_id;  // filled in by SetKnown
    std::string switch_name;
  };
  // What SetKnown changed: the set of switches with ports in the network (its flood list), in
  // the domain (the domain's tunnel IPs).
  struct PortsChanged {
    bool network = false;
    bool domain = false;
  };
  struct KnownSubnet {
    std::string network_id;
    std::string domain_id;
  };
  struct KnownPolicy {  // the networks it names
    std::string source_network_id;
    std::string destination_network_id;
  };
  struct KnownSwitch {
    std::string name;
    std::string tunnel_ip;
    bool down = false;
  };
  struct KnownNetwork {
    uint32_t vni = 0;
    std::string domain_id;
  };
  struct DomainRoundState {
    std::optional<Clock::time_point> last;  // of the last round sent
    bool pending = false;                   // a change since, its round held back
  };
  using Rounds = std::unordered_map<std::string, DomainRoundState>;  // domain id ->
  // Whether a round of the domain may go now (recorded as sent), or is held back (pending).
  bool MayRoundNow(Rounds& rounds, const std::string& domain_id);
  // The domain's round interval: domain_round_interval, or domain_round_per_switch times its
  // switches when longer.
  Clock::duration RoundInterval(const std::string& domain_id) const;
  // How long the session has been silent, the time the caller was behind left out.
  Clock::duration Silence(const Session& session, Clock::time_point now) const;
  // The held-back rounds whose interval has passed (recorded as sent); forgets quiet domains.
  std::vector<std::string> DueRounds(Rounds& rounds);

  // OnMessage after the checks: the handler of the message's kind.
  Output Handle(SessionId id, const v1::SwitchMessage& message, Clock::time_point now);
  // A sign of life from a greeted session: UP again (told to cachers) when it was DOWN.
  void Revive(SessionId id, Clock::time_point now, Output& out);
  Output OnHello(SessionId id, const v1::Hello& hello, Clock::time_point now);
  // The rest of a Hello once the switch's record is as the Hello says: binds the session,
  // claims its key, answers with the Welcome and the catch-up. `stored`: the record before the
  // Hello; `registered`: the record its registration just wrote (nullptr: none was needed).
  void Greet(SessionId id, const v1::Hello& hello, const std::optional<v1::Switch>& stored,
             const v1::Switch* registered, Clock::time_point now, Output& out);
  // Whether a Hello of the switch waits for its registration (OnRegistered).
  bool Registering(const std::string& switch_name) const;
  // Forgets a registering session (both maps); nothing when it is not registering.
  void StopRegistering(SessionId id);
  // A refused Hello: the Refusal, the stream's end with `status`, the session forgotten.
  void RefuseHello(SessionId id, const v1::Hello& hello, int status, std::string code,
                   std::string text, Output& out);
  // Everything after Welcome (out.messages[welcome_at], whose snapshot flag it sets).
  void CatchUp(SessionId id, size_t welcome_at, const v1::Hello& hello, int64_t revision,
               Output& out);
  // What changed after `from` up to `revision` (CatchUp), from the notes when they reach back
  // (`sync_revision` is then the last one noted: later changes reach the session through
  // OnStoreEvents), else from the store's history (`sync_revision` = `revision`); nullopt: a
  // snapshot is needed.
  std::optional<ChangeHistory::Changes> ChangedSince(int64_t from, int64_t revision,
                                                     int64_t* sync_revision);
  // The notes a store event makes (before OnStoreEvents applies it: a deleted switch's name
  // is looked up in switches_).
  template <typename Emit>
  void NotesOf(const store::Event& event, Emit emit) const;
  Output OnAttach(SessionId id, const v1::Attach& attach);
  Output OnDetach(SessionId id, const v1::Detach& detach);
  Output OnResolveMac(SessionId id, const v1::ResolveMac& resolve);
  Output OnResolveIp(SessionId id, const v1::ResolveIp& resolve);
  // The network of a resolve's VNI; otherwise a not_found Refusal with the query id in `out`.
  // A VNI the switch does not serve is refused the same way (and counted).
  std::optional<v1::Network> NetworkOfQuery(SessionId id, uint32_t vni, uint64_t query_id,
                                            int64_t revision, Output& out);
  Output OnHeartbeat(SessionId id, const v1::Heartbeat& heartbeat, Clock::time_point now);
  // Forgets a session (its caches, configurations, name binding); no state change.
  void Drop(SessionId id);
  // Whether an endpoint of `network_id` is placed on switch `switch_name`.
  bool Serves(const std::string& switch_name, const std::string& network_id) const;
  // Counts a refusal of `kind` for the session's switch; logs it when the count is a power of 2.
  void CountRefusal(const Session& session, const std::string& kind, const std::string& what,
                    Output& out);
  // The answer to a request naming something the switch may not see, or that does not exist.
  static v1::ControllerMessage Unknown(int64_t revision, const std::string& what, uint64_t query_id,
                                       std::string endpoint_id);
  // DOWN or UP: the store (state, last_heartbeat at `heartbeat`), the cachers of its endpoints,
  // the flood lists of its networks, a log line saying `why`.
  void SetLiveness(const std::string& switch_name, bool up,
                   std::optional<Clock::time_point> heartbeat, Clock::time_point now,
                   const std::string& why, Output& out);

  // Fan-out of one endpoint's new state (put) at `revision`.
  void EndpointChanged(const v1::Endpoint& endpoint, int64_t revision, Output& out);
  void EndpointDeleted(const std::string& endpoint_id, int64_t revision, Output& out);
  // A switch left without a port in the network: NetworkRemoved to it, and it stops hearing of
  // the network (its configuration, flood lists); nothing when it still has one.
  void Unconfigure(const std::string& switch_name, const std::string& network_id, int64_t revision,
                   Output& out);
  // Records `next` for `id` (nullopt: forget it); what changed in the sets of switches with
  // ports in its network and its domain. `next->domain_id` is filled in here.
  PortsChanged SetKnown(const std::string& id, std::optional<Placement> next);
  // The flood lists a change of `id`'s placement calls for: the domain's, or the network's.
  void SendPortsChanged(const PortsChanged& changed, const std::string& network_id,
                        const std::string& domain_id, int64_t revision, Output& out);
  void SwitchChanged(const v1::Switch& record, int64_t revision, Output& out);
  // A put (`value`) or delete of the session key of `switch_name` at `revision`.
  void SessionChanged(const std::string& switch_name, const std::string* value, int64_t revision,
                      Output& out);
  // Marks DOWN a switch this replica has no stream of, on the news that it had no session key
  // at `revision` (the write is guarded: SwitchWrite::no_session_at).
  void MarkDownUnserved(const std::string& switch_name, int64_t revision, const std::string& why,
                        Output& out);
  // Asks for the session key of the session's switch to be put (with the lease).
  void Claim(const Session& session, Output& out);
  // Makes the switch's wanted DOWN write (made by SetLiveness) delete its session key, while it
  // still holds `value`.
  void Release(const std::string& switch_name, const std::string& value);
  void SendConfig(SessionId id, const std::string& network_id, int64_t revision, Output& out);
  void RefreshNetwork(const std::string& network_id, int64_t revision, Output& out);
  // The domain's routes (its subnets) as the registry has them now against those published:
  // when they differ, ONE DomainRoutes with the change to every session holding a network of
  // the domain, and the live set published (true); false: nothing changed, nothing sent.
  bool SendDomainRoutes(const std::string& domain_id, int64_t revision, Output& out);
  // The domain of a known network; "" when unknown.
  std::string DomainOf(const std::string& network_id) const;
  // Records a network (its VNI and domain); false when it was known with the same VNI.
  bool SetNetwork(const std::string& network_id, uint32_t vni, const std::string& domain_id);
  void ForgetNetwork(const std::string& network_id);
  // Invalidates the cached endpoints of `network_ids` (those a changed policy names) that the
  // caching session may no longer hold (CacheAllowed).
  void RecheckCaches(const std::set<std::string>& network_ids, int64_t revision, Output& out);
  // Whether the session may cache an endpoint of `endpoint_network`: one of the networks it
  // serves is that network or MayExchange with it.
  bool CacheAllowed(const Session& session, const std::string& endpoint_network) const;
  void Cache(SessionId id, const std::string& endpoint_id);

  v1::Location LocationOf(const v1::Endpoint& endpoint) const;
  // The config without the domain's routes and tunnel IPs (SendConfig appends them in their
  // wire form); without `with_domain` it says domain_omitted.
  std::optional<v1::NetworkConfig> ConfigOf(const std::string& network_id,
                                            const std::string& switch_name, bool with_domain);
  // The domain's routes by cidr: as the registry has them now, and as last published (the
  // live ones when never), which every switch holding a network of the domain holds.
  using RouteSet = std::map<std::string, v1::RoutedSubnet>;
  RouteSet LiveRoutes(const std::string& domain_id) const;
  const RouteSet& PublishedRoutes(const std::string& domain_id);
  // PublishedRoutes as NetworkConfig.domain_subnets fields in their wire form, kept per domain
  // until the published routes change: every switch's first config of the domain carries the
  // same bytes (1,000 routes: ~60 KB, once built, not 1,000 messages copied and encoded per
  // switch).
  const std::string& PublishedRoutesWire(const std::string& domain_id);
  // Whether the session was sent the config of a network of the domain other than
  // `except_network` (so it holds the domain's routes and tunnel IPs).
  bool HoldsDomain(const Session& session, const std::string& domain_id,
                   const std::string& except_network) const;
  // The UP switches with ports in the network, sorted.
  std::vector<std::string> FloodTunnelIps(const std::string& network_id,
                                          const std::string& except_switch) const;
  // The UP switches with ports in any network of the domain: (tunnel IP, name), sorted.
  std::vector<std::pair<std::string, std::string>> DomainMembers(
      const std::string& domain_id) const;
  // The domain's set as last published (by its last round; the live one when never), that
  // every switch configured for a network of the domain holds: tunnel IP -> switch name.
  using DomainSet = std::map<std::string, std::string>;
  const DomainSet& Published(const std::string& domain_id);
  // A LocationUpdate (switch_down as stored) to the cachers of every endpoint on the switch.
  void TellCachersOfSwitch(const std::string& switch_name, int64_t revision, Output& out);
  // A round's change of the domain set: the published set before and after, and the IPs
  // whose presence or switch differ (sorted).
  struct DomainDelta {
    DomainSet before;
    DomainSet after;
    std::vector<std::string> changed;
  };
  // A FloodList of the network to session `id`; with `delta`, it carries the change of the
  // domain set that session holds (its own entry left out).
  void SendFloodList(SessionId id, const std::string& network_id, int64_t revision, Output& out,
                     const DomainDelta* delta);
  // A FloodList of the network, without a delta, to each of its sessions.
  void SendFloodLists(const std::string& network_id, int64_t revision, Output& out);
  // The domain's round: the live set against the published one; when they differ, ONE
  // FloodList with the delta to every session configured for a network of the domain (on the
  // first such network by id; the switch applies it to all its configs of the domain), and the
  // live set published (true). false: nothing changed, nothing sent.
  bool SendDomainRound(const std::string& domain_id, int64_t revision, Output& out);
  // The domain's set changed: its round now (true), or, within domain_round_interval of the last
  // one, at the first tick after it (false; also when the live set turns out unchanged, no
  // round spent). The networks whose own lists changed are the caller's to send.
  bool DomainRound(const std::string& domain_id, int64_t revision, Output& out);
  // The same for the domain's routes (a subnet or a network of the domain changed):
  // SendDomainRoutes now (true) or at the first tick after the interval (false).
  bool DomainRoutesRound(const std::string& domain_id, int64_t revision, Output& out);
  // A switch came UP, went DOWN or changed its tunnel IP: the rounds of its domains, and the
  // flood lists of its networks whose domain round is held back.
  void SwitchPresenceChanged(const std::string& switch_name, int64_t revision, Output& out);
  // The domains in which the switch has a port.
  std::vector<std::string> DomainsOfSwitch(const std::string& switch_name) const;
  // Sets the switch's state in memory and asks for its record to be written (state, and
  // last_heartbeat at the system time of `heartbeat` unless nullopt), in `out`.
  void WriteSwitch(const std::string& switch_name, bool up,
                   std::optional<Clock::time_point> heartbeat, Clock::time_point now, Output& out);
  std::optional<SessionId> SessionOf(const std::string& switch_name) const;
  // The VNI of a known network; 0 when unknown (deleted meanwhile).
  uint32_t VniOf(const std::string& network_id) const;
  static v1::ControllerMessage Refuse(int64_t revision, std::string code, std::string message,
                                      uint64_t query_id, std::string endpoint_id);

  controller::Registry* registry_;
  store::Store* store_;
  DirectoryOptions options_;
  std::map<SessionId, Session> sessions_;
  std::unordered_map<std::string, SessionId> by_name_;               // bound sessions
  std::unordered_map<std::string, std::set<SessionId>> configured_;  // network id -> sessions
  StringPool names_;                                                 // Known's strings
  std::unordered_map<std::string, Known> known_;                     // endpoint id ->
  std::unordered_map<std::string, std::map<std::string, uint32_t>>
      ports_;  // network -> switch -> endpoints
  std::unordered_map<std::string, std::map<std::string, uint32_t>>
      domain_ports_;  // domain -> switch -> endpoints (in any network of the domain)
  // switch -> the networks it has ports in (the keys of ports_ that name it), so a switch's
  // presence change finds its networks in O(its networks).
  std::unordered_map<std::string, std::set<std::string>> switch_networks_;
  std::unordered_map<std::string, std::set<std::string>> domain_networks_;  // domain -> networks
  std::unordered_map<std::string, KnownSwitch> switches_;                   // switch id ->
  std::unordered_map<std::string, std::string> switch_ids_;                 // switch name -> id
  std::unordered_map<std::string, KnownNetwork> networks_;                  // network id ->
  std::unordered_map<std::string, KnownSubnet> subnets_;                    // subnet id ->
  std::unordered_map<std::string, KnownPolicy> policies_;                   // policy id ->
  std::map<std::string, v1::StatsSummary> stats_;                           // switch name ->
  std::map<std::string, std::map<std::string, uint64_t>> refused_;  // switch name -> kind ->
  // Switches stored UP with no session key: DOWN unless a key or a Hello comes in dead_after.
  struct Unconfirmed {
    std::optional<Clock::time_point> since{};  // nullopt: since the first tick (at start)
    Clock::duration stalled_at{};              // stalled_ then
    int64_t no_session_at = 0;                 // the revision at which it had no key
    bool session_ended = false;                // its key was deleted (its replica's lease ended)
  };
  std::map<std::string, Unconfirmed> unconfirmed_;  // switch name ->
  // An Unconfirmed's `since` for one found now: nullopt (the first tick) before that tick.
  std::optional<Clock::time_point> UnconfirmedSince() const;
  // Other replicas' session keys: switch name -> value.
  std::unordered_map<std::string, std::string> remote_sessions_;
  std::string instance_;
  int64_t lease_ = 0;
  bool lease_lost_ = false;
  std::map<std::string, SwitchWrite> switch_writes_;  // switch name -> record wanted, unwritten
  std::map<SessionId, std::string> registering_;      // Hellos waiting for OnRegistered -> name
  // The same by switch name (at most one per name: a newer stream replaces a registering one),
  // so that a registration storm's Hellos and store events do not scan every pending one.
  std::unordered_map<std::string, SessionId> registering_by_name_;
  std::optional<Clock::time_point> first_tick_;
  // The latest time a call was given (OnMessage, OnDisconnect, OnTick): OnStoreEvents has none.
  Clock::time_point clock_{};
  Rounds domain_rounds_;                                        // FloodList rounds
  std::unordered_map<std::string, DomainSet> published_;        // domain id -> its published set
  Rounds config_rounds_;                                        // DomainRoutes rounds
  std::unordered_map<std::string, RouteSet> published_routes_;  // domain id -> its routes
  std::unordered_map<std::string, std::string> published_routes_wire_;  // PublishedRoutesWire
  SyncCounts syncs_;
  ChangeHistory history_;
  LivenessCounts liveness_changes_;
  std::optional<Clock::time_point> last_tick_;
  Clock::duration stalled_{};
  std::optional<Clock::time_point> mass_silence_since_;  // first tick of the current one
  // The same for unconfirmed_: its start, or the last tick it had shrunk by a tenth since, and
  // how many were due then.
  std::optional<Clock::time_point> mass_unconfirmed_since_;
  size_t mass_unconfirmed_due_ = 0;
  // When a switch of unconfirmed_ last came in (its Hello here, its key from another replica).
  std::optional<Clock::time_point> unconfirmed_progress_at_;
  uint64_t mass_silence_ticks_ = 0;  // total time between ticks while the caller was behind
};

}  // namespace dove::controller::southbound
