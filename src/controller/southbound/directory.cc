#include "controller/southbound/directory.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <iterator>
#include <utility>

#include "controller/random_ids.h"
#include "controller/southbound/message_check.h"
#include "controller/southbound/wire.h"
#include "controller/store_keys.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::controller::southbound {
namespace {

// grpc::StatusCode values (see Close).
constexpr int kInvalidArgument = 3;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;
constexpr int kUnavailable = 14;

// A sorted vector as a set: most of the directory's sets (the cachers of an endpoint, the
// endpoints a session caches) hold a handful, where a node per element would cost 48-80 bytes.
// (std::less: the sets of pointers are ordered by address.)
template <typename T>
void InsertSorted(std::vector<T>& set, const T& value) {
  auto at = std::lower_bound(set.begin(), set.end(), value, std::less<T>());
  if (at == set.end() || *at != value) set.insert(at, value);
}

template <typename T>
void EraseSorted(std::vector<T>& set, const T& value) {
  auto at = std::lower_bound(set.begin(), set.end(), value, std::less<T>());
  if (at != set.end() && *at == value) set.erase(at);
  if (set.size() * 4 < set.capacity()) set.shrink_to_fit();  // an emptied set frees its block
}

std::string CanonicalIp(const std::string& text) {
  auto ip = net::IpAddress::Parse(text);
  return ip ? ip->ToString() : text;
}

std::string CanonicalMac(const std::string& text) {
  auto mac = net::MacAddress::Parse(text);
  return mac ? mac->ToString() : text;
}

v1::ControllerMessage At(int64_t revision) {
  v1::ControllerMessage message;
  message.set_revision(revision);
  return message;
}

// The kind ("endpoints", ...) and id of a registry key; nullopt for any other key.
struct KeyParts {
  std::string kind;
  std::string id;
};
std::optional<KeyParts> SplitKey(const std::string& key) {
  auto parsed = controller::ParseKey(key);
  if (!parsed) return std::nullopt;
  return KeyParts{std::string(parsed->kind), std::string(parsed->id)};
}

void SetWallTime(google::protobuf::Timestamp* out, std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  out->set_seconds(seconds.count());
  out->set_nanos(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
}

// The wall-clock time of `when` (a steady-clock time of this process, `now` being the present).
std::chrono::system_clock::time_point WallTimeOf(Clock::time_point when, Clock::time_point now) {
  return std::chrono::system_clock::now() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(now - when);
}

// The steady-clock time of a stored wall-clock time (`now` being the present), when it is within
// `horizon` of it; else the epoch (long ago, or in the future: treated as never).
Clock::time_point RecordedAt(const google::protobuf::Timestamp& stored, Clock::time_point now,
                             Clock::duration horizon) {
  const auto wall = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(stored.seconds()) + std::chrono::nanoseconds(stored.nanos())));
  const auto age = std::chrono::system_clock::now() - wall;
  if (age < std::chrono::system_clock::duration::zero() || age >= horizon) return {};
  return now - std::chrono::duration_cast<Clock::duration>(age);
}

std::string Milliseconds(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) +
         " ms";
}

// Takes one endpoint of `switch_name` off `counts[key]`; true when it was its last one.
bool Decrement(std::unordered_map<std::string, std::map<std::string, uint32_t>>& counts,
               const std::string& key, const std::string& switch_name) {
  auto per_switch = counts.find(key);
  if (per_switch == counts.end()) return false;
  bool last = false;
  auto count = per_switch->second.find(switch_name);
  if (count != per_switch->second.end() && --count->second == 0) {
    per_switch->second.erase(count);
    last = true;
  }
  if (per_switch->second.empty()) counts.erase(per_switch);
  return last;
}

}  // namespace

std::string SessionValue(const std::string& controller_id, const std::string& instance,
                         uint64_t stream) {
  return "controller=" + controller_id + " instance=" + instance +
         " stream=" + std::to_string(stream);
}

Directory::Directory(controller::Registry* registry, store::Store* store, DirectoryOptions options)
    : registry_(registry),
      store_(store),
      options_(std::move(options)),
      instance_(controller::RandomIds().NewId()),
      history_(options_.history_notes) {
  // The session keys first: a switch stored UP is unconfirmed only when it has none now.
  int64_t sessions_at = 0;
  if (store_ != nullptr) {
    if (auto sessions = store_->Range(controller::kSessionsPrefix); sessions) {
      sessions_at = sessions->revision;
      for (const auto& kv : sessions->kvs) {
        remote_sessions_[kv.key.substr(controller::kSessionsPrefix.size())] = kv.value;
      }
    }
  }
  if (auto networks = registry_->List<v1::Network>({}); networks) {
    for (const auto& network : *networks) {
      SetNetwork(network.id(), network.vni(), network.domain_id());
    }
  }
  if (auto subnets = registry_->List<v1::Subnet>({}); subnets) {
    for (const auto& subnet : *subnets) {
      subnets_[subnet.id()] = {subnet.network_id(), DomainOf(subnet.network_id())};
    }
  }
  if (auto policies = registry_->List<v1::Policy>({}); policies) {
    for (const auto& policy : *policies) {
      policies_[policy.id()] = {policy.source_network_id(), policy.destination_network_id()};
    }
  }
  if (auto switches = registry_->List<v1::Switch>({}); switches) {
    for (const auto& record : *switches) {
      switches_[record.id()] = {record.name(), CanonicalIp(record.tunnel_ip()),
                                record.state() == v1::Switch::STATE_DOWN};
      switch_ids_[record.name()] = record.id();
      if (record.state() == v1::Switch::STATE_UP && remote_sessions_.count(record.name()) == 0) {
        unconfirmed_[record.name()] = {.since = std::nullopt, .no_session_at = sessions_at};
      }
    }
  }
  registry_->ForEach<v1::Endpoint>([this](const v1::Endpoint& endpoint) {
    SetKnown(endpoint.id(),
             Placement{endpoint.version(), endpoint.network_id(), "", endpoint.switch_name()});
  });
}

bool Directory::IsLive(const std::string& switch_name) const {
  auto id = SessionOf(switch_name);
  return id.has_value() && sessions_.at(*id).live;
}

bool Directory::Registering(const std::string& switch_name) const {
  return registering_by_name_.count(switch_name) != 0;
}

void Directory::StopRegistering(SessionId id) {
  auto it = registering_.find(id);
  if (it == registering_.end()) return;
  if (auto named = registering_by_name_.find(it->second);
      named != registering_by_name_.end() && named->second == id) {
    registering_by_name_.erase(named);
  }
  registering_.erase(it);
}

bool Directory::IsDown(const std::string& switch_name) const {
  auto id = switch_ids_.find(switch_name);
  if (id == switch_ids_.end()) return false;
  auto record = switches_.find(id->second);
  return record != switches_.end() && record->second.down;
}

std::set<SessionId> Directory::CachersOf(const std::string& endpoint_id) const {
  auto it = known_.find(endpoint_id);
  if (it == known_.end()) return {};
  return std::set<SessionId>(it->second.cachers.begin(), it->second.cachers.end());
}

std::optional<SessionId> Directory::SessionOf(const std::string& switch_name) const {
  if (switch_name.empty()) return std::nullopt;
  auto it = by_name_.find(switch_name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

v1::ControllerMessage Directory::Refuse(int64_t revision, std::string code, std::string message,
                                        uint64_t query_id, std::string endpoint_id) {
  auto out = At(revision);
  auto* refusal = out.mutable_error();
  refusal->set_code(std::move(code));
  refusal->set_message(std::move(message));
  refusal->set_query_id(query_id);
  refusal->set_endpoint_id(std::move(endpoint_id));
  return out;
}

Output Directory::OnMessage(SessionId id, const v1::SwitchMessage& message, Clock::time_point now) {
  clock_ = std::max(clock_, now);
  const auto existing = sessions_.find(id);
  const bool greeted = existing != sessions_.end() && !existing->second.switch_name.empty();
  if (message.has_hello() && greeted) {
    return {.messages = {},
            .closes = {{id, kFailedPrecondition, "a second hello on the same stream"}},
            .logs = {"ended the stream of switch " + existing->second.switch_name +
                     ": a second hello on the same stream"}};
  }
  if (!message.has_hello() && !greeted) {
    return {.messages = {},
            .closes = {{id, kFailedPrecondition, "the first message of a stream must be hello"}},
            .logs = {"ended a stream: its first message was not a hello"}};
  }
  if (auto violation = CheckSwitchMessage(message)) {
    Output out;
    const int64_t revision = registry_->Revision();
    if (message.has_hello()) {
      out.logs.push_back("refused the Hello of switch " + message.hello().switch_name() + ": " +
                         violation->code + ": " + violation->message);
      out.messages.push_back({id, Refuse(revision, violation->code, violation->message, 0, "")});
      out.closes.push_back(
          {id, violation->code == "failed_precondition" ? kFailedPrecondition : kInvalidArgument,
           violation->message});
      return out;
    }
    uint64_t query = 0;
    std::string endpoint;
    if (message.has_resolve_mac()) query = message.resolve_mac().query_id();
    if (message.has_resolve_ip()) query = message.resolve_ip().query_id();
    if (message.has_attach()) endpoint = message.attach().endpoint_id();
    if (message.has_detach()) endpoint = message.detach().endpoint_id();
    out.messages.push_back(
        {id, Refuse(revision, violation->code, violation->message, query, std::move(endpoint))});
    return out;
  }
  // Any message is a sign of life, not only a Heartbeat (which may queue behind others).
  Output revived;
  if (greeted && !message.has_heartbeat()) Revive(id, now, revived);
  Output out = Handle(id, message, now);
  if (revived.messages.empty() && revived.logs.empty() && !revived.switch_writes) return out;
  Append(revived, std::move(out));
  return revived;
}

void Append(Output& to, Output&& from) {
  auto append = [](auto& into, auto& items) {
    into.insert(into.end(), std::make_move_iterator(items.begin()),
                std::make_move_iterator(items.end()));
  };
  append(to.messages, from.messages);
  append(to.closes, from.closes);
  append(to.logs, from.logs);
  append(to.endpoint_writes, from.endpoint_writes);
  append(to.registrations, from.registrations);
  append(to.trace_reports, from.trace_reports);
  to.switch_writes = to.switch_writes || from.switch_writes;
}

void Directory::Revive(SessionId id, Clock::time_point now, Output& out) {
  Session& session = sessions_[id];
  session.last_heartbeat = now;
  session.stalled_at_heard = stalled_;
  if (session.live) return;
  session.live = true;
  session.recorded_heartbeat = now;
  SetLiveness(session.switch_name, true, now, now, "heard from again", out);
  Claim(session, out);  // its DOWN released the key
}

Output Directory::Handle(SessionId id, const v1::SwitchMessage& message, Clock::time_point now) {
  const auto existing = sessions_.find(id);
  switch (message.body_case()) {
    case v1::SwitchMessage::kHello:
      return OnHello(id, message.hello(), now);
    case v1::SwitchMessage::kHeartbeat:
      return OnHeartbeat(id, message.heartbeat(), now);
    case v1::SwitchMessage::kAttach:
      return OnAttach(id, message.attach());
    case v1::SwitchMessage::kDetach:
      return OnDetach(id, message.detach());
    case v1::SwitchMessage::kResolveMac:
      return OnResolveMac(id, message.resolve_mac());
    case v1::SwitchMessage::kResolveIp:
      return OnResolveIp(id, message.resolve_ip());
    case v1::SwitchMessage::kStats:
      stats_[existing->second.switch_name] = message.stats();
      return {};
    case v1::SwitchMessage::kTraceReport: {
      Output out;
      out.trace_reports.push_back({.switch_name = existing->second.switch_name,
                                   .tunnel_ip = existing->second.tunnel_ip,
                                   .report = message.trace_report()});
      return out;
    }
    case v1::SwitchMessage::kBatch: {
      // In order, each as if it had come alone (checked, refused or answered on its own).
      Output out;
      for (const auto& each : message.batch().messages()) {
        Append(out, OnMessage(id, each, now));
        for (const auto& close : out.closes) {
          if (close.session == id) return out;  // nothing more is handled on a closing stream
        }
      }
      return out;
    }
    case v1::SwitchMessage::BODY_NOT_SET:
      break;
  }
  return {};  // unreachable: CheckSwitchMessage refuses a message without a body
}

std::vector<std::pair<SessionId, std::string>> Directory::HelloedSessions() const {
  std::vector<std::pair<SessionId, std::string>> sessions;
  for (const auto& [id, session] : sessions_) {
    if (!session.switch_name.empty()) sessions.emplace_back(id, session.switch_name);
  }
  return sessions;
}

Output Directory::OnDisconnect(SessionId id, Clock::time_point now) {
  clock_ = std::max(clock_, now);
  Output out;
  StopRegistering(id);  // OnRegistered finds it gone
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return out;
  const std::string name = it->second.switch_name;
  const bool current = !name.empty() && SessionOf(name) == id;
  const bool was_live = it->second.live;
  const Clock::time_point heard = it->second.last_heartbeat;
  const std::string value = it->second.session_value;
  Drop(id);
  if (!current) return out;
  if (was_live) {
    SetLiveness(name, false, heard, now, "its stream ended", out);
    Release(name, value);
  } else {
    out.logs.push_back("switch " + name + " disconnected (DOWN already)");
  }
  return out;
}

void Directory::Drop(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Session& session = it->second;
  for (const std::string* endpoint_id : session.cached) {
    auto known = known_.find(*endpoint_id);
    if (known != known_.end()) known->second.cachers.Erase(id);
  }
  for (const auto& network_id : session.networks) {
    auto configured = configured_.find(network_id);
    if (configured == configured_.end()) continue;
    configured->second.erase(id);
    if (configured->second.empty()) configured_.erase(configured);
  }
  if (!session.switch_name.empty()) {
    auto bound = by_name_.find(session.switch_name);
    if (bound != by_name_.end() && bound->second == id) {
      by_name_.erase(bound);
      stats_.erase(session.switch_name);
    }
  }
  sessions_.erase(it);
}

size_t Directory::CacheRecords() const {
  size_t records = 0;
  for (const auto& [id, session] : sessions_) records += session.cached.size();
  return records;
}

void Directory::Cache(SessionId id, const std::string& endpoint_id) {
  // An endpoint the registry has and the store watch has not reported yet gets an empty
  // record here; SetKnown fills it in when the watch does.
  auto known = known_.try_emplace(endpoint_id).first;
  known->second.cachers.Insert(id);
  InsertSorted(sessions_[id].cached, &known->first);
}

void Directory::WriteSwitch(const std::string& switch_name, bool up,
                            std::optional<Clock::time_point> heartbeat, Clock::time_point now,
                            Output& out) {
  auto id = switch_ids_.find(switch_name);
  if (id != switch_ids_.end()) switches_[id->second].down = !up;
  SwitchWrite& wanted = switch_writes_[switch_name];
  wanted.switch_name = switch_name;
  wanted.up = up;
  wanted.record = true;
  wanted.no_session_at = 0;
  if (heartbeat) wanted.last_heartbeat = WallTimeOf(*heartbeat, now);
  out.switch_writes = true;
}

void Directory::Claim(const Session& session, Output& out) {
  // Without a lease (none granted: one controller, or a store without leases) no key: it would
  // outlive the process, and a restarted controller would take its switches for live.
  if (session.session_value.empty() || lease_ == 0) return;
  auto [it, inserted] = switch_writes_.try_emplace(session.switch_name);
  SwitchWrite& wanted = it->second;
  if (inserted) {
    wanted.switch_name = session.switch_name;
    wanted.record = false;
  }
  wanted.up = true;
  wanted.session = SwitchWrite::SessionOp::kClaim;
  wanted.session_value = session.session_value;
  wanted.lease = lease_;
  wanted.no_session_at = 0;
  out.switch_writes = true;
}

void Directory::Release(const std::string& switch_name, const std::string& value) {
  auto it = switch_writes_.find(switch_name);
  // No key without a lease (Claim): the DOWN is then written without a condition.
  if (it == switch_writes_.end() || value.empty() || lease_ == 0) return;
  it->second.session = SwitchWrite::SessionOp::kRelease;
  it->second.session_value = value;
  it->second.lease = 0;
}

void Directory::SetLiveness(const std::string& switch_name, bool up,
                            std::optional<Clock::time_point> heartbeat, Clock::time_point now,
                            const std::string& why, Output& out) {
  WriteSwitch(switch_name, up, heartbeat, now, out);
  ++(up ? liveness_changes_.up : liveness_changes_.down);
  const int64_t revision = registry_->Revision();
  TellCachersOfSwitch(switch_name, revision, out);
  SwitchPresenceChanged(switch_name, revision, out);
  out.logs.push_back("switch " + switch_name + (up ? " is UP: " : " is DOWN: ") + why);
}

bool Directory::Serves(const std::string& switch_name, const std::string& network_id) const {
  auto ports = ports_.find(network_id);
  return ports != ports_.end() && ports->second.count(switch_name) != 0;
}

void Directory::CountRefusal(const Session& session, const std::string& kind,
                             const std::string& what, Output& out) {
  auto& counts = refused_[session.switch_name];
  ++counts[kind];
  uint64_t total = 0;
  for (const auto& [each, count] : counts) total += count;
  if ((total & (total - 1)) != 0) return;  // logged at 1, 2, 4, 8...
  out.logs.push_back("refused " + kind + " from switch " + session.switch_name + ": " + what +
                     " (refusal " + std::to_string(total) +
                     " of this switch; logged at powers of two)");
}

v1::ControllerMessage Directory::Unknown(int64_t revision, const std::string& what,
                                         uint64_t query_id, std::string endpoint_id) {
  return Refuse(revision, "not_found", what + " is unknown to this switch", query_id,
                std::move(endpoint_id));
}

Output Directory::OnHeartbeat(SessionId id, const v1::Heartbeat& heartbeat, Clock::time_point now) {
  Output out;
  Revive(id, now, out);
  auto reply = At(registry_->Revision());
  reply.mutable_heartbeat()->set_sequence(heartbeat.sequence());
  out.messages.push_back({id, std::move(reply)});
  return out;
}

void Directory::RefuseHello(SessionId id, const v1::Hello& hello, int status, std::string code,
                            std::string text, Output& out) {
  out.logs.push_back("refused the Hello of switch " + hello.switch_name() + ": " + code + ": " +
                     text);
  out.messages.push_back({id, Refuse(registry_->Revision(), std::move(code), text, 0, "")});
  out.closes.push_back({id, status, std::move(text)});
  sessions_.erase(id);
}

Output Directory::OnHello(SessionId id, const v1::Hello& hello, Clock::time_point now) {
  Output out;
  if (lease_lost_) {
    RefuseHello(id, hello, kUnavailable, "unavailable",
                "this controller holds no store lease (it lost it, or cannot reach the store); "
                "connect to another controller",
                out);
    return out;
  }
  const std::string tunnel_ip = CanonicalIp(hello.tunnel_ip());
  for (const auto& [other_id, other] : sessions_) {
    if (other_id == id || !other.live) continue;
    if (other.tunnel_ip == tunnel_ip && other.switch_name != hello.switch_name()) {
      RefuseHello(id, hello, kAlreadyExists, "conflict",
                  "tunnel IP " + tunnel_ip + " is held by the live switch " + other.switch_name,
                  out);
      return out;
    }
  }
  // The same switch on a new stream: the old stream is replaced, greeted or still registering.
  if (auto previous = SessionOf(hello.switch_name()); previous && *previous != id) {
    out.closes.push_back({*previous, kAborted, "replaced by a newer stream of the same switch"});
    Drop(*previous);
  }
  if (auto named = registering_by_name_.find(hello.switch_name());
      named != registering_by_name_.end() && named->second != id) {
    out.closes.push_back(
        {named->second, kAborted, "replaced by a newer stream of the same switch"});
    StopRegistering(named->second);
  }
  auto stored = registry_->Get<v1::Switch>(hello.switch_name());
  // A new switch or a new tunnel IP is written before the answer: the registry's checks
  // (unique names and tunnel IPs) decide it (OnRegistered). Anything else (UP again, a new
  // version) after the answer.
  if (!stored || CanonicalIp(stored->tunnel_ip()) != tunnel_ip) {
    Registration registration{.session = id, .hello = hello, .record = {}, .before = {}};
    if (stored) {
      registration.record = *stored;
      registration.before = *stored;
    }
    registration.record.set_name(hello.switch_name());
    registration.record.set_tunnel_ip(tunnel_ip);
    registration.record.set_state(v1::Switch::STATE_UP);
    registration.record.set_software_version(hello.software_version());
    SetWallTime(registration.record.mutable_last_heartbeat(), std::chrono::system_clock::now());
    registering_[id] = hello.switch_name();
    registering_by_name_[hello.switch_name()] = id;
    out.registrations.push_back(std::move(registration));
    return out;
  }
  Greet(id, hello, *stored, nullptr, now, out);
  return out;
}

Output Directory::OnRegistered(const Registration& registration,
                               const controller::ModelResult<v1::Switch>& saved,
                               Clock::time_point now) {
  clock_ = std::max(clock_, now);
  Output out;
  const SessionId id = registration.session;
  const std::string& name = registration.hello.switch_name();
  const auto pending = registering_.find(id);
  if (pending == registering_.end()) {
    // Its stream ended (or was replaced, or the lease lost) while the record was written: the
    // record says UP, and nobody serves the switch unless another stream of it does.
    if (saved && !SessionOf(name) && !Registering(name)) {
      out.logs.push_back("switch " + name + " is DOWN: its stream ended while it was registered");
      WriteSwitch(name, false, std::nullopt, now, out);
    }
    return out;
  }
  StopRegistering(id);  // (OnLeaseLost ends every registering stream)
  if (saved) {
    switch_writes_.erase(name);  // older decisions, replaced by this write
    Greet(id, registration.hello, registration.before, &*saved, now, out);
    return out;
  }
  // Lost to another stream of the same switch (on another replica, or one that ended) that
  // registered it as this Hello says: greeted as if it had been stored.
  auto stored = registry_->Get<v1::Switch>(name);
  if (stored && CanonicalIp(stored->tunnel_ip()) == CanonicalIp(registration.hello.tunnel_ip())) {
    Greet(id, registration.hello, *stored, nullptr, now, out);
    return out;
  }
  RefuseHello(id, registration.hello,
              saved.error().code == "conflict" ? kAlreadyExists : kInvalidArgument,
              saved.error().code, saved.error().message, out);
  return out;
}

void Directory::Greet(SessionId id, const v1::Hello& hello, const std::optional<v1::Switch>& stored,
                      const v1::Switch* registered, Clock::time_point now, Output& out) {
  const std::string tunnel_ip = CanonicalIp(hello.tunnel_ip());
  // DOWN as stored, or as decided here (its write may not be made yet).
  const auto known = switch_ids_.find(hello.switch_name());
  const bool was_down = (stored && stored->state() != v1::Switch::STATE_UP) ||
                        (known != switch_ids_.end() && switches_[known->second].down);
  // Written only when something changed, so a reconnect storm costs no store writes.
  const bool changed = registered != nullptr || !stored || was_down ||
                       stored->software_version() != hello.software_version() ||
                       switch_writes_.count(hello.switch_name()) != 0;
  const v1::Switch& record = registered != nullptr ? *registered : *stored;
  // The store's event of a registration may come in before its answer (SwitchChanged then
  // told the cachers and flood lists already).
  const auto seen = switches_.find(record.id());
  const bool told =
      seen != switches_.end() && seen->second.tunnel_ip == tunnel_ip && !seen->second.down;
  if (registered == nullptr && changed) {
    SwitchWrite& wanted = switch_writes_[hello.switch_name()];
    wanted.switch_name = hello.switch_name();
    wanted.up = true;
    wanted.record = true;
    wanted.last_heartbeat = std::chrono::system_clock::now();
    wanted.software_version = hello.software_version();
    wanted.no_session_at = 0;
    out.switch_writes = true;
  }
  switches_[record.id()] = {record.name(), tunnel_ip, false};
  switch_ids_[record.name()] = record.id();
  Session& bound = sessions_[id];
  bound.switch_name = hello.switch_name();
  bound.tunnel_ip = tunnel_ip;
  bound.live = true;
  bound.last_heartbeat = now;
  bound.stalled_at_heard = stalled_;
  // Unchanged: its stored last_heartbeat is as old as the record says, and is due again a
  // heartbeat_record_interval after it, not now (a restart's thousand Hellos would otherwise
  // queue a thousand record writes at once, ahead of the session keys that keep their switches
  // from being marked DOWN).
  bound.recorded_heartbeat =
      changed ? now : RecordedAt(stored->last_heartbeat(), now, options_.heartbeat_record_interval);
  bound.session_value = SessionValue(options_.controller_id, instance_, id);
  by_name_[bound.switch_name] = id;
  if (unconfirmed_.erase(bound.switch_name) != 0) unconfirmed_progress_at_ = now;
  Claim(bound, out);
  const bool readdressed = registered != nullptr && !told;
  const bool revived = stored && was_down;
  out.logs.push_back("switch " + record.name() + " connected from tunnel IP " + tunnel_ip +
                     (revived ? "; it is UP again" : ""));
  // A switch new to the store, at a new address, or back from DOWN: its endpoints' cachers and
  // the flood lists of its networks learn it (endpoints may have been placed on it through the
  // API before it ever connected).
  if (revived) ++liveness_changes_.up;
  if (readdressed || revived) {
    TellCachersOfSwitch(record.name(), registry_->Revision(), out);
    SwitchPresenceChanged(record.name(), registry_->Revision(), out);
  }
  auto welcome = At(registry_->Revision());
  welcome.mutable_welcome()->set_switch_id(record.id());
  welcome.mutable_welcome()->set_controller_id(options_.controller_id);
  welcome.mutable_welcome()->set_heartbeat_interval_ms(
      static_cast<uint32_t>(options_.heartbeat_interval.count()));
  welcome.mutable_welcome()->set_dead_after_ms(static_cast<uint32_t>(options_.dead_after.count()));
  const size_t welcome_at = out.messages.size();
  out.messages.push_back({id, std::move(welcome)});
  CatchUp(id, welcome_at, hello, registry_->Revision(), out);
}

template <typename Emit>
void Directory::NotesOf(const store::Event& event, Emit emit) const {
  using Kind = ChangeHistory::Kind;
  auto key = SplitKey(event.kv.key);
  if (!key) return;
  if (key->kind == "endpoints") {
    emit(Kind::kEndpoint, std::string(key->id));
  } else if (key->kind == "switches") {
    // Its name as known, and as the record now says (a rename is a change of both).
    auto known = switches_.find(key->id);
    if (known != switches_.end()) emit(Kind::kSwitch, known->second.name);
    v1::Switch record;
    if (event.type == store::Event::kPut && record.ParseFromString(event.kv.value) &&
        (known == switches_.end() || known->second.name != record.name())) {
      emit(Kind::kSwitch, record.name());
    }
  } else if (key->kind == "policies") {
    emit(Kind::kPolicy, std::string());
  } else if (key->kind == "networks" && event.type == store::Event::kDelete) {
    emit(Kind::kNetworkRemoved, std::string(key->id));
  }
}

void Directory::StartHistory(int64_t revision) { history_.Start(revision); }

void Directory::BackfillHistory(int64_t from, const std::vector<store::Event>& events) {
  if (!history_.started() || from >= history_.from()) return;
  std::vector<ChangeHistory::Older> older;
  for (const auto& event : events) {
    const int64_t revision = event.kv.mod_revision;
    if (revision >= history_.from()) break;
    NotesOf(event, [&](ChangeHistory::Kind kind, std::string id) {
      older.push_back({revision, kind, std::move(id)});
    });
  }
  history_.Prepend(from, std::move(older));
}

void Directory::TrimHistory(int64_t revision) { history_.TrimBefore(revision); }

std::optional<ChangeHistory::Changes> Directory::ChangedSince(int64_t from, int64_t revision,
                                                              int64_t* sync_revision) {
  *sync_revision = revision;
  if (from <= 0 || from > revision) return std::nullopt;
  if (auto noted = history_.After(from)) {
    *sync_revision = std::min(revision, history_.last());
    return noted;
  }
  if (store_ == nullptr) return std::nullopt;
  auto events = store_->Changes(controller::kKeyPrefix, from + 1);
  if (!events) return std::nullopt;
  ChangeHistory::Changes changes;
  for (const auto& event : *events) {
    if (event.kv.mod_revision > revision) break;
    NotesOf(event, [&](ChangeHistory::Kind kind, std::string id) {
      switch (kind) {
        case ChangeHistory::Kind::kEndpoint:
          changes.endpoints.insert(std::move(id));
          break;
        case ChangeHistory::Kind::kSwitch:
          changes.switches.insert(std::move(id));
          break;
        case ChangeHistory::Kind::kPolicy:
          changes.policies = true;
          break;
        case ChangeHistory::Kind::kNetworkRemoved:
          changes.removed_networks.push_back(std::move(id));
          break;
      }
    });
  }
  return changes;
}

void Directory::CatchUp(SessionId id, size_t welcome_at, const v1::Hello& hello, int64_t revision,
                        Output& out) {
  Session& session = sessions_[id];
  // What changed after last_revision, up to the revision the registry reflects (later events
  // reach the session through OnStoreEvents).
  int64_t sync_revision = revision;
  const auto changed_since = ChangedSince(hello.last_revision(), revision, &sync_revision);
  const bool incremental = changed_since.has_value();
  const ChangeHistory::Changes none;
  const ChangeHistory::Changes& changed = incremental ? *changed_since : none;
  if (incremental) {
    ++syncs_.incremental;
  } else {
    ++syncs_.snapshot;
  }
  out.messages[welcome_at].message.mutable_welcome()->set_snapshot(!incremental);

  // The networks it has ports on, whole: small, and they carry the flood lists. Taken from the
  // directory's own switch -> networks index (what Serves() decides by), not by copying the
  // switch's every endpoint out of the registry: a reconnect storm is 1,000 of these at once.
  std::set<std::string> networks;
  if (auto served = switch_networks_.find(session.switch_name); served != switch_networks_.end()) {
    networks = served->second;
  }
  for (const auto& network_id : changed.removed_networks) {
    if (networks.count(network_id) != 0) continue;
    auto message = At(revision);
    message.mutable_network_removed()->set_network_id(network_id);
    out.messages.push_back({id, std::move(message)});
  }
  for (const auto& network_id : networks) SendConfig(id, network_id, revision, out);

  std::set<std::string> listed(hello.cached_endpoint_ids().begin(),
                               hello.cached_endpoint_ids().end());
  for (const auto& endpoint_id : listed) {
    auto endpoint = registry_->Get<v1::Endpoint>(endpoint_id);
    const bool allowed = endpoint && CacheAllowed(session, endpoint->network_id());
    if (!allowed) {
      CountRefusal(session, "subscribe", "cached endpoint " + endpoint_id, out);
      if (incremental) {
        auto message = At(revision);
        message.mutable_invalidate()->set_endpoint_id(endpoint_id);
        out.messages.push_back({id, std::move(message)});
      }
      continue;
    }
    Cache(id, endpoint_id);
    // After sync_revision (the notes' end, when the registry is ahead of the watch): what this
    // directory wrote itself (an Attach, a switch's record) was fanned out when written, before
    // this session cached it, and its store event will not be reported again: sent now.
    const bool unnoted =
        sync_revision < revision &&
        (registry_->ModRevision<v1::Endpoint>(endpoint_id) > sync_revision ||
         registry_->ModRevision<v1::Switch>(endpoint->switch_name()) > sync_revision);
    const bool update = !incremental || changed.policies || unnoted ||
                        changed.endpoints.count(endpoint_id) != 0 ||
                        changed.switches.count(endpoint->switch_name()) != 0;
    if (!update) continue;
    auto message = At(revision);
    *message.mutable_location_update()->mutable_location() = LocationOf(*endpoint);
    out.messages.push_back({id, std::move(message)});
  }
  // Everything up to sync_revision has been sent (or is in the messages above); what changed
  // after it reaches the session through OnStoreEvents, as it is a cacher now.
  auto done = At(sync_revision);
  done.mutable_sync_done();
  out.messages.push_back({id, std::move(done)});
}

bool Directory::CacheAllowed(const Session& session, const std::string& endpoint_network) const {
  auto target = networks_.find(endpoint_network);
  if (target == networks_.end()) return false;
  // Only on behalf of a network the switch serves (has a port in) and that may exchange
  // traffic with the endpoint's (ResolveIp's rule).
  for (const auto& network_id : session.networks) {
    if (!Serves(session.switch_name, network_id)) continue;
    if (network_id == endpoint_network) return true;
    auto network = networks_.find(network_id);
    if (network == networks_.end() || network->second.domain_id != target->second.domain_id) {
      continue;
    }
    if (registry_->MayExchange(network_id, endpoint_network)) return true;
  }
  return false;
}

Output Directory::OnAttach(SessionId id, const v1::Attach& attach) {
  Output out;
  const Session& session = sessions_[id];
  auto stored = registry_->Get<v1::Endpoint>(attach.endpoint_id());
  // Placed here (through the API, or by an earlier attach), or a network this switch serves;
  // anything else is answered as if the endpoint did not exist.
  const bool placed_here = stored && stored->switch_name() == session.switch_name;
  if (!stored || (!placed_here && !Serves(session.switch_name, stored->network_id()))) {
    if (stored || stored.error().code == "not_found") {
      CountRefusal(session, "attach", "endpoint " + attach.endpoint_id(), out);
      out.messages.push_back({id, Unknown(registry_->Revision(), "endpoint " + attach.endpoint_id(),
                                          0, attach.endpoint_id())});
    } else {
      out.messages.push_back({id, Refuse(registry_->Revision(), stored.error().code,
                                         stored.error().message, 0, attach.endpoint_id())});
    }
    return out;
  }
  if (attach.version() != 0 && attach.version() != stored->version()) {
    out.messages.push_back({id, Refuse(registry_->Revision(), "conflict",
                                       "stale version " + std::to_string(attach.version()) +
                                           " of endpoint " + attach.endpoint_id() +
                                           " (stored: " + std::to_string(stored->version()) + ")",
                                       0, attach.endpoint_id())});
    return out;
  }
  if (stored->switch_name() == session.switch_name && stored->port_name() == attach.port_name()) {
    // Already there (a switch re-attaching its ports after a restart): acknowledged, no write.
    const int64_t revision = registry_->Revision();
    if (session.networks.count(stored->network_id()) == 0) {
      SendConfig(id, stored->network_id(), revision, out);
    }
    auto ack = At(revision);
    *ack.mutable_location_update()->mutable_location() = LocationOf(*stored);
    out.messages.push_back({id, std::move(ack)});
    return out;
  }
  if (!placed_here && !stored->switch_name().empty()) {
    // A move: authorized only through the API (the endpoint's switch_name names this switch).
    CountRefusal(session, "attach", "move of endpoint " + attach.endpoint_id(), out);
    out.messages.push_back(
        {id, Refuse(registry_->Revision(), "permission_denied",
                    "endpoint " + attach.endpoint_id() + " is placed on switch " +
                        stored->switch_name() +
                        "; a move is authorized through the API (set its switch_name to " +
                        session.switch_name + ")",
                    0, attach.endpoint_id())});
    return out;
  }
  EndpointWrite write{.kind = EndpointWrite::Kind::kAttach, .session = id, .endpoint = *stored};
  write.endpoint.set_switch_name(session.switch_name);
  write.endpoint.set_port_name(attach.port_name());
  out.endpoint_writes.push_back(std::move(write));
  return out;
}

Output Directory::OnDetach(SessionId id, const v1::Detach& detach) {
  Output out;
  const Session& session = sessions_[id];
  auto stored = registry_->Get<v1::Endpoint>(detach.endpoint_id());
  if (!stored || stored->switch_name() != session.switch_name) {
    CountRefusal(session, "detach", "endpoint " + detach.endpoint_id(), out);
    out.messages.push_back(
        {id, Refuse(registry_->Revision(), "not_found",
                    "endpoint " + detach.endpoint_id() + " is not on switch " + session.switch_name,
                    0, detach.endpoint_id())});
    return out;
  }
  if (detach.version() != 0 && detach.version() != stored->version()) {
    out.messages.push_back({id, Refuse(registry_->Revision(), "conflict",
                                       "stale version " + std::to_string(detach.version()) +
                                           " of endpoint " + detach.endpoint_id(),
                                       0, detach.endpoint_id())});
    return out;
  }
  EndpointWrite write{.kind = EndpointWrite::Kind::kDetach, .session = id, .endpoint = *stored};
  write.endpoint.clear_switch_name();
  // A TAP's name was the switch's choice; a packet port's is the interface the API named.
  if (stored->port_kind() != v1::PORT_KIND_PACKET) write.endpoint.clear_port_name();
  out.endpoint_writes.push_back(std::move(write));
  return out;
}

Output Directory::OnEndpointWritten(const EndpointWrite& write,
                                    const controller::ModelResult<v1::Endpoint>& saved) {
  Output out;
  const std::string& endpoint_id = write.endpoint.id();
  if (!saved) {
    out.messages.push_back({write.session, Refuse(registry_->Revision(), saved.error().code,
                                                  saved.error().message, 0, endpoint_id)});
    return out;
  }
  if (write.kind == EndpointWrite::Kind::kDetach && sessions_.count(write.session) != 0) {
    // The switch it left hears of it too: the acknowledgement carries the new version.
    auto ack = At(registry_->Revision());
    *ack.mutable_location_update()->mutable_location() = LocationOf(*saved);
    out.messages.push_back({write.session, std::move(ack)});
  }
  EndpointChanged(*saved, registry_->Revision(), out);
  return out;
}

std::vector<SwitchWrite> Directory::TakeSwitchWrites() {
  std::vector<SwitchWrite> writes;
  writes.reserve(switch_writes_.size());
  for (auto& [name, write] : switch_writes_) writes.push_back(std::move(write));
  switch_writes_.clear();
  return writes;
}

Output Directory::OnSwitchWritten(const SwitchWrite& write,
                                  const Expected<void, std::string>& done) {
  Output out;
  if (!done && done.error().starts_with("not written:")) {
    // Served by another replica meanwhile: its session key's event tells this view.
    out.logs.push_back("switch " + write.switch_name + " " + done.error());
    return out;
  }
  if (!done) {
    out.logs.push_back("cannot record the state of switch " + write.switch_name +
                       " in the store: " + done.error());
  }
  // Its state changed again while this was written by a write decided before (another
  // thread's): the newest decision must be what the store keeps.
  auto id = switch_ids_.find(write.switch_name);
  if (id == switch_ids_.end() || switch_writes_.count(write.switch_name) != 0) return out;
  const bool up = !switches_[id->second].down;
  if (up != write.up) {
    switch_writes_[write.switch_name] = {.switch_name = write.switch_name, .up = up};
    out.switch_writes = true;
  }
  return out;
}

controller::ModelResult<v1::Endpoint> PerformEndpointWrite(controller::Registry& registry,
                                                           const EndpointWrite& write) {
  return registry.Replace(write.endpoint.id(), write.endpoint);
}

controller::ModelResult<v1::Switch> PerformRegistration(controller::Registry& registry,
                                                        const Registration& registration) {
  if (!registration.before) return registry.Create(registration.record);
  return registry.Replace(registration.record.id(), registration.record);
}

namespace {

// The record a SwitchWrite stores (the stored one with its state, heartbeat and version set)
// and the guards to try in order (an empty guard: no condition). nullopt: the switch is gone.
struct RecordPlan {
  v1::Switch record;
  std::vector<controller::WriteGuard> guards;
};

Expected<std::optional<RecordPlan>, std::string> PlanRecord(controller::Registry& registry,
                                                            const SwitchWrite& write) {
  using SessionOp = SwitchWrite::SessionOp;
  const std::string session_key = controller::SessionKey(write.switch_name);
  auto stored = registry.Get<v1::Switch>(write.switch_name);
  if (!stored) {
    if (stored.error().code == "not_found") return std::optional<RecordPlan>();
    return Unexpected(stored.error().message);
  }
  RecordPlan plan{.record = std::move(*stored), .guards = {}};
  plan.record.set_state(write.up ? v1::Switch::STATE_UP : v1::Switch::STATE_DOWN);
  if (write.last_heartbeat)
    SetWallTime(plan.record.mutable_last_heartbeat(), *write.last_heartbeat);
  if (write.software_version) plan.record.set_software_version(*write.software_version);
  const auto absent = store::Compare::Version(session_key, store::Compare::kEqual, 0);
  switch (write.session) {
    case SessionOp::kKeep:
      plan.guards.push_back({});
      break;
    case SessionOp::kClaim:
      plan.guards.push_back(
          {.compares = {}, .ops = {store::Op::Put(session_key, write.session_value, write.lease)}});
      break;
    case SessionOp::kRelease:
      // This stream's key, deleted with the DOWN; or none at all (its claim not written yet).
      plan.guards.push_back({.compares = {store::Compare::Value(session_key, store::Compare::kEqual,
                                                                write.session_value)},
                             .ops = {store::Op::Delete(session_key)}});
      plan.guards.push_back({.compares = {absent}, .ops = {}});
      break;
  }
  if (write.no_session_at > 0) {
    const auto unwritten =
        store::Compare::ModRevision(controller::KeyOf<v1::Switch>(plan.record.id()),
                                    store::Compare::kLess, write.no_session_at + 1);
    plan.guards = {{.compares = {absent, unwritten}, .ops = {}}};
  }
  return std::optional<RecordPlan>(std::move(plan));
}

// What PerformSwitchWrite answers for a record write that ended with `saved`, its last guard
// tried: nothing to say when written or when the switch is gone.
Expected<void, std::string> Answer(const controller::ModelResult<v1::Switch>& saved) {
  if (saved || saved.error().code == "not_found") return {};
  return Unexpected(saved.error().message);
}

}  // namespace

Expected<void, std::string> PerformSwitchWrite(controller::Registry& registry, store::Store* store,
                                               const SwitchWrite& write) {
  if (!write.record) {  // the session key alone
    if (write.session != SwitchWrite::SessionOp::kClaim || store == nullptr) return {};
    auto put = store->Txn({.compares = {},
                           .success = {store::Op::Put(controller::SessionKey(write.switch_name),
                                                      write.session_value, write.lease)},
                           .failure = {}});
    if (!put) return Unexpected("its session key: " + put.error().Describe());
    return {};
  }
  auto plan = PlanRecord(registry, write);
  if (!plan) return Unexpected(plan.error());
  if (!*plan) return {};
  for (const auto& guard : (*plan)->guards) {
    auto saved = registry.ReplaceIf(write.switch_name, (*plan)->record, guard);
    if (saved || saved.error().code != "guard_failed") return Answer(saved);
  }
  return Unexpected(std::string(
      write.no_session_at > 0
          ? "not written: DOWN: it has a session key again, or another controller wrote its "
            "record first"
          : "not written: DOWN: its session key is another controller's (it moved there)"));
}

std::vector<Expected<void, std::string>> PerformSwitchWrites(controller::Registry& registry,
                                                             store::Store* store,
                                                             std::span<const SwitchWrite> writes) {
  std::vector<Expected<void, std::string>> results(writes.size());
  std::vector<size_t> claims;  // indexes of the session keys claimed alone
  auto flush = [&] {
    if (claims.empty()) return;
    store::TxnRequest batch;
    for (size_t i : claims) {
      batch.success.push_back(store::Op::Put(controller::SessionKey(writes[i].switch_name),
                                             writes[i].session_value, writes[i].lease));
    }
    if (claims.size() == 1 || !store->Txn(batch)) {
      for (size_t i : claims) results[i] = PerformSwitchWrite(registry, store, writes[i]);
    }
    claims.clear();
  };
  // The claims first: each is a switch another replica marks DOWN if its key is not back
  // within dead_after of the old one's end, and a record write (a round trip each) before it
  // would hold it back.
  for (size_t i = 0; i < writes.size(); ++i) {
    const SwitchWrite& write = writes[i];
    if (store != nullptr && ClaimsAlone(write)) {
      claims.push_back(i);
      if (claims.size() == kMaxClaimsPerTxn) flush();
    }
  }
  flush();
  // Then the records whose one guard has no condition (heartbeats, a Hello's UP with its key):
  // kMaxRecordsPerTxn to a transaction (ReplaceAll makes them one at a time when one of them
  // does not hold). The others (a DOWN, conditional) one at a time.
  std::vector<controller::Replacement<v1::Switch>> batch;
  std::vector<size_t> batched;  // indexes of batch's writes
  auto write_batch = [&] {
    const auto saved =
        registry.ReplaceAll(std::span<const controller::Replacement<v1::Switch>>(batch));
    for (size_t k = 0; k < batched.size(); ++k) results[batched[k]] = Answer(saved[k]);
    batch.clear();
    batched.clear();
  };
  for (size_t i = 0; i < writes.size(); ++i) {
    const SwitchWrite& write = writes[i];
    if (store != nullptr && ClaimsAlone(write)) continue;
    if (!write.record) {
      results[i] = PerformSwitchWrite(registry, store, write);
      continue;
    }
    auto plan = PlanRecord(registry, write);
    if (!plan || !*plan) {
      results[i] = plan ? Expected<void, std::string>() : Unexpected(plan.error());
      continue;
    }
    const auto& guards = (*plan)->guards;
    if (guards.size() != 1 || !guards.front().compares.empty()) {
      results[i] = PerformSwitchWrite(registry, store, write);
      continue;
    }
    batch.push_back(
        {.ref = write.switch_name, .object = std::move((*plan)->record), .guard = guards.front()});
    batched.push_back(i);
    if (batch.size() == kMaxRecordsPerTxn) write_batch();
  }
  if (!batch.empty()) write_batch();
  return results;
}

std::optional<v1::Network> Directory::NetworkOfQuery(SessionId id, uint32_t vni, uint64_t query_id,
                                                     int64_t revision, Output& out) {
  const Session& session = sessions_[id];
  auto network = registry_->FindNetworkByVni(vni);
  if (network && Serves(session.switch_name, network->id())) return std::move(*network);
  // Unknown, or not served here: the same answer, so the switch learns nothing of the VNI.
  CountRefusal(session, "resolve", "VNI " + std::to_string(vni), out);
  out.messages.push_back({id, Unknown(revision, "VNI " + std::to_string(vni), query_id, "")});
  return std::nullopt;
}

Output Directory::OnResolveMac(SessionId id, const v1::ResolveMac& resolve) {
  Output out;
  const int64_t revision = registry_->Revision();
  auto network = NetworkOfQuery(id, resolve.vni(), resolve.query_id(), revision, out);
  if (!network) return out;
  auto reply = At(revision);
  auto* answer = reply.mutable_resolve_reply();
  answer->set_query_id(resolve.query_id());
  auto found = registry_->FindEndpointByMac(network->id(), resolve.mac());
  if (!found) {
    answer->set_status(v1::ResolveReply::STATUS_NOT_FOUND);
    answer->set_reason("no endpoint with MAC " + CanonicalMac(resolve.mac()) + " in network " +
                       network->id());
  } else {
    answer->set_status(v1::ResolveReply::STATUS_FOUND);
    *answer->mutable_location() = LocationOf(*found);
    Cache(id, found->id());
  }
  out.messages.push_back({id, std::move(reply)});
  return out;
}

Output Directory::OnResolveIp(SessionId id, const v1::ResolveIp& resolve) {
  Output out;
  const int64_t revision = registry_->Revision();
  auto network = NetworkOfQuery(id, resolve.vni(), resolve.query_id(), revision, out);
  if (!network) return out;
  auto reply = At(revision);
  auto* answer = reply.mutable_resolve_reply();
  answer->set_query_id(resolve.query_id());
  const std::string ip = CanonicalIp(resolve.ip());
  auto found = registry_->FindEndpointByIp(network->domain_id(), ip);
  if (!found) {
    answer->set_status(v1::ResolveReply::STATUS_NOT_FOUND);
    answer->set_reason("no endpoint holds " + ip + " in domain " + network->domain_id());
    out.messages.push_back({id, std::move(reply)});
    return out;
  }
  // Domain-wide: FOUND when some policy could let traffic pass between the two networks,
  // either way, whatever its protocol and port (model::MayExchange); the switch enforces the
  // policies packet by packet.
  if (found->network_id() != network->id() &&
      !registry_->MayExchange(network->id(), found->network_id())) {
    answer->set_status(v1::ResolveReply::STATUS_DENIED);
    answer->set_reason("no policy allows traffic between network " + network->id() +
                       " and network " + found->network_id() + ", either way");
    out.messages.push_back({id, std::move(reply)});
    return out;
  }
  answer->set_status(v1::ResolveReply::STATUS_FOUND);
  *answer->mutable_location() = LocationOf(*found);
  Cache(id, found->id());
  out.messages.push_back({id, std::move(reply)});
  return out;
}

uint32_t Directory::VniOf(const std::string& network_id) const {
  auto network = networks_.find(network_id);
  return network == networks_.end() ? 0 : network->second.vni;
}

v1::Location Directory::LocationOf(const v1::Endpoint& endpoint) const {
  v1::Location location;
  location.set_endpoint_id(endpoint.id());
  location.set_network_id(endpoint.network_id());
  location.set_vni(VniOf(endpoint.network_id()));
  location.set_mac(endpoint.mac());
  for (const auto& ip : endpoint.ips()) location.add_ips(ip);
  location.set_switch_name(endpoint.switch_name());
  location.set_port_name(endpoint.port_name());
  location.set_port_kind(endpoint.port_kind());
  location.set_version(endpoint.version());
  if (auto id = switch_ids_.find(endpoint.switch_name()); id != switch_ids_.end()) {
    const KnownSwitch& record = switches_.at(id->second);
    location.set_tunnel_ip(record.tunnel_ip);
    location.set_switch_down(record.down);
  }
  return location;
}

std::vector<std::string> Directory::FloodTunnelIps(const std::string& network_id,
                                                   const std::string& except_switch) const {
  std::vector<std::string> ips;
  auto ports = ports_.find(network_id);
  if (ports == ports_.end()) return ips;
  for (const auto& [name, count] : ports->second) {
    if (name == except_switch) continue;
    auto id = switch_ids_.find(name);
    if (id == switch_ids_.end()) continue;
    const KnownSwitch& record = switches_.at(id->second);
    if (!record.down) ips.push_back(record.tunnel_ip);
  }
  std::sort(ips.begin(), ips.end());
  return ips;
}

std::vector<std::pair<std::string, std::string>> Directory::DomainMembers(
    const std::string& domain_id) const {
  std::vector<std::pair<std::string, std::string>> members;
  auto ports = domain_ports_.find(domain_id);
  if (ports == domain_ports_.end()) return members;
  for (const auto& [name, count] : ports->second) {
    auto id = switch_ids_.find(name);
    if (id == switch_ids_.end()) continue;
    const KnownSwitch& record = switches_.at(id->second);
    if (!record.down) members.emplace_back(record.tunnel_ip, name);
  }
  std::sort(members.begin(), members.end());
  return members;
}

const Directory::DomainSet& Directory::Published(const std::string& domain_id) {
  auto [it, added] = published_.try_emplace(domain_id);
  // Never published: no switch holds a set of this domain yet, the live one is the first.
  if (added) {
    for (auto& [ip, name] : DomainMembers(domain_id)) it->second.emplace(std::move(ip), name);
  }
  return it->second;
}

std::optional<v1::NetworkConfig> Directory::ConfigOf(const std::string& network_id,
                                                     const std::string& switch_name,
                                                     bool with_domain) {
  auto network = registry_->Get<v1::Network>(network_id);
  if (!network) return std::nullopt;
  v1::NetworkConfig config;
  *config.mutable_network() = *network;
  if (auto subnets = registry_->List<v1::Subnet>({.network = network_id}); subnets) {
    for (const auto& subnet : *subnets) *config.add_subnets() = subnet;
  }
  config.set_router_mac(RouterMacOf(network->domain_id()));
  if (auto policies = registry_->List<v1::Policy>({.domain = network->domain_id()}); policies) {
    for (const auto& policy : *policies) {
      if (policy.source_network_id() == network_id ||
          policy.destination_network_id() == network_id) {
        *config.add_policies() = policy;
      }
    }
  }
  for (auto& ip : FloodTunnelIps(network_id, switch_name)) config.add_flood_tunnel_ips(ip);
  // The distributed router's view of the domain, once per stream (domain_omitted): appended by
  // SendConfig.
  if (!with_domain) config.set_domain_omitted(true);
  // Both filters: only the network's endpoints on this switch are copied, not the switch's
  // every endpoint once per network it serves (10 x 100 copies per Hello at 1000 x 100).
  if (auto local =
          registry_->List<v1::Endpoint>({.network = network_id, .switch_name = switch_name});
      local) {
    for (const auto& endpoint : *local) *config.add_local_endpoints() = LocationOf(endpoint);
  }
  return config;
}

Directory::RouteSet Directory::LiveRoutes(const std::string& domain_id) const {
  RouteSet routes;
  auto subnets = registry_->List<v1::Subnet>({.domain = domain_id});
  if (!subnets) return routes;
  for (const auto& subnet : *subnets) {
    v1::RoutedSubnet routed;
    routed.set_cidr(subnet.cidr());
    routed.set_gateway(subnet.gateway());
    routed.set_network_id(subnet.network_id());
    uint32_t vni = VniOf(subnet.network_id());
    if (vni == 0) {  // not heard of yet (the registry is ahead of the store events)
      if (auto owner = registry_->Get<v1::Network>(subnet.network_id()); owner) {
        vni = owner->vni();
      }
    }
    routed.set_vni(vni);
    routes.emplace(subnet.cidr(), std::move(routed));
  }
  return routes;
}

const std::string& Directory::PublishedRoutesWire(const std::string& domain_id) {
  auto it = published_routes_wire_.find(domain_id);
  if (it != published_routes_wire_.end()) return it->second;
  std::string wire;
  for (const auto& [cidr, routed] : PublishedRoutes(domain_id)) {
    AppendLengthDelimited(v1::NetworkConfig::kDomainSubnetsFieldNumber, routed.SerializeAsString(),
                          &wire);
  }
  return published_routes_wire_.emplace(domain_id, std::move(wire)).first->second;
}

const Directory::RouteSet& Directory::PublishedRoutes(const std::string& domain_id) {
  auto it = published_routes_.find(domain_id);
  if (it == published_routes_.end()) {
    it = published_routes_.emplace(domain_id, LiveRoutes(domain_id)).first;
  }
  return it->second;
}

bool Directory::HoldsDomain(const Session& session, const std::string& domain_id,
                            const std::string& except_network) const {
  for (const auto& network_id : session.networks) {
    if (network_id != except_network && DomainOf(network_id) == domain_id) return true;
  }
  return false;
}

void Directory::SendConfig(SessionId id, const std::string& network_id, int64_t revision,
                           Output& out) {
  Session& session = sessions_[id];
  // The domain's routes and tunnel IPs ride only when the switch holds no other network of the
  // domain on this stream (NetworkConfig.domain_omitted).
  const std::string domain_id = DomainOf(network_id);
  const bool with_domain = !HoldsDomain(session, domain_id, network_id);
  if (with_domain && session.networks.count(network_id) == 0) {
    // The switch's first network of the domain: a routes round held back by the interval goes
    // now, so that it starts from the domain's routes as they are (and the domain's other
    // switches hear the same change). A refresh of a network it holds waits for the round.
    if (auto round = config_rounds_.find(domain_id);
        round != config_rounds_.end() && round->second.pending) {
      round->second.pending = false;
      SendDomainRoutes(domain_id, revision, out);
    }
  }
  auto config = ConfigOf(network_id, session.switch_name, with_domain);
  if (!config) return;
  session.networks.insert(network_id);
  configured_[network_id].insert(id);
  auto message = At(revision);
  if (!with_domain) {
    *message.mutable_network_config() = std::move(*config);
    out.messages.push_back({id, std::move(message)});
    return;
  }
  // In its wire form: the config, the domain's routes as encoded once for the domain, and its
  // published tunnel IPs but the switch's own (the same fields the message would carry).
  std::string body = config->SerializeAsString();
  const std::string& config_domain = config->network().domain_id();
  body += PublishedRoutesWire(config_domain);
  for (const auto& [ip, name] : Published(config_domain)) {
    if (name == session.switch_name) continue;
    AppendLengthDelimited(v1::NetworkConfig::kDomainTunnelIpsFieldNumber, ip, &body);
  }
  Outbound outbound{.session = id, .message = At(revision), .encoded = message.SerializeAsString()};
  AppendLengthDelimited(v1::ControllerMessage::kNetworkConfigFieldNumber, body, &outbound.encoded);
  out.messages.push_back(std::move(outbound));
}

void Directory::RefreshNetwork(const std::string& network_id, int64_t revision, Output& out) {
  auto configured = configured_.find(network_id);
  if (configured == configured_.end()) return;
  const std::set<SessionId> sessions = configured->second;
  for (SessionId id : sessions) SendConfig(id, network_id, revision, out);
}

bool Directory::SendDomainRoutes(const std::string& domain_id, int64_t revision, Output& out) {
  RouteSet live = LiveRoutes(domain_id);
  const RouteSet& before = PublishedRoutes(domain_id);
  v1::DomainRoutes change;
  change.set_domain_id(domain_id);
  for (const auto& [cidr, routed] : before) {
    if (live.count(cidr) == 0) change.add_removed(cidr);
  }
  for (const auto& [cidr, routed] : live) {
    auto held = before.find(cidr);
    if (held == before.end() || held->second.SerializeAsString() != routed.SerializeAsString()) {
      *change.add_added() = routed;
    }
  }
  if (change.added().empty() && change.removed().empty()) return false;
  published_routes_[domain_id] = std::move(live);
  published_routes_wire_.erase(domain_id);
  // Once per session holding a network of the domain.
  std::set<SessionId> holders;
  if (auto networks = domain_networks_.find(domain_id); networks != domain_networks_.end()) {
    for (const auto& network_id : networks->second) {
      auto configured = configured_.find(network_id);
      if (configured == configured_.end()) continue;
      holders.insert(configured->second.begin(), configured->second.end());
    }
  }
  for (SessionId id : holders) {
    auto message = At(revision);
    *message.mutable_domain_routes() = change;
    out.messages.push_back({id, std::move(message)});
  }
  return true;
}

std::string Directory::DomainOf(const std::string& network_id) const {
  auto network = networks_.find(network_id);
  return network == networks_.end() ? std::string() : network->second.domain_id;
}

bool Directory::SetNetwork(const std::string& network_id, uint32_t vni,
                           const std::string& domain_id) {
  auto [it, added] = networks_.try_emplace(network_id, KnownNetwork{vni, domain_id});
  const bool changed = added || it->second.vni != vni;
  it->second = {vni, domain_id};
  domain_networks_[domain_id].insert(network_id);
  return changed;
}

void Directory::ForgetNetwork(const std::string& network_id) {
  auto network = networks_.find(network_id);
  if (network == networks_.end()) return;
  auto of_domain = domain_networks_.find(network->second.domain_id);
  if (of_domain != domain_networks_.end()) {
    of_domain->second.erase(network_id);
    if (of_domain->second.empty()) {
      // No network left, so no switch configured for one: nobody holds its set any more.
      published_.erase(of_domain->first);
      published_routes_.erase(of_domain->first);
      published_routes_wire_.erase(of_domain->first);
      domain_networks_.erase(of_domain);
    }
  }
  networks_.erase(network);
}

void Directory::SendFloodList(SessionId id, const std::string& network_id, int64_t revision,
                              Output& out, const DomainDelta* delta) {
  auto network = networks_.find(network_id);
  if (network == networks_.end()) return;
  const std::string& switch_name = sessions_.at(id).switch_name;
  auto message = At(revision);
  auto* list = message.mutable_flood_list();
  list->set_vni(network->second.vni);
  for (auto& ip : FloodTunnelIps(network_id, switch_name)) list->add_tunnel_ips(ip);
  if (delta != nullptr) {
    // The set this switch holds leaves out its own entry: so does its delta.
    for (const std::string& ip : delta->changed) {
      auto before = delta->before.find(ip);
      auto after = delta->after.find(ip);
      const bool had = before != delta->before.end() && before->second != switch_name;
      const bool has = after != delta->after.end() && after->second != switch_name;
      if (has && !had) list->add_domain_tunnel_ips_added(ip);
      if (had && !has) list->add_domain_tunnel_ips_removed(ip);
    }
    out.messages.push_back({id, At(revision), message.SerializeAsString()});
    return;
  }
  out.messages.push_back({id, std::move(message)});
}

void Directory::SendFloodLists(const std::string& network_id, int64_t revision, Output& out) {
  auto configured = configured_.find(network_id);
  if (configured == configured_.end()) return;
  for (SessionId id : configured->second) SendFloodList(id, network_id, revision, out, nullptr);
}

bool Directory::SendDomainRound(const std::string& domain_id, int64_t revision, Output& out) {
  DomainDelta delta;
  delta.before = Published(domain_id);
  for (auto& [ip, name] : DomainMembers(domain_id)) delta.after.emplace(std::move(ip), name);
  // The IPs whose presence or switch changed (both maps are ordered by IP).
  auto before = delta.before.begin();
  auto after = delta.after.begin();
  while (before != delta.before.end() || after != delta.after.end()) {
    if (after == delta.after.end() ||
        (before != delta.before.end() && before->first < after->first)) {
      delta.changed.push_back((before++)->first);
    } else if (before == delta.before.end() || after->first < before->first) {
      delta.changed.push_back((after++)->first);
    } else {
      if (before->second != after->second) delta.changed.push_back(before->first);
      ++before;
      ++after;
    }
  }
  if (delta.changed.empty()) return false;  // nothing any switch of the domain holds changed
  published_[domain_id] = delta.after;
  // Once per session: on the first network of the domain it is configured for (the switch
  // applies the delta to every config of the domain).
  std::map<SessionId, std::string> carrier;
  if (auto networks = domain_networks_.find(domain_id); networks != domain_networks_.end()) {
    for (const auto& network_id : networks->second) {
      auto configured = configured_.find(network_id);
      if (configured == configured_.end()) continue;
      for (SessionId id : configured->second) carrier.try_emplace(id, network_id);
    }
  }
  for (const auto& [id, network_id] : carrier) {
    SendFloodList(id, network_id, revision, out, &delta);
  }
  return true;
}

std::vector<std::string> Directory::DomainsOfSwitch(const std::string& switch_name) const {
  std::vector<std::string> domains;
  for (const auto& [domain_id, counts] : domain_ports_) {
    if (counts.count(switch_name) != 0) domains.push_back(domain_id);
  }
  std::sort(domains.begin(), domains.end());
  return domains;
}

Directory::PortsChanged Directory::SetKnown(const std::string& id, std::optional<Placement> next) {
  PortsChanged changed;
  auto it = known_.find(id);
  if (next) next->domain_id = DomainOf(next->network_id);
  const Known* old = it == known_.end() ? nullptr : &it->second;
  // The same place (network, domain, switch): a new version only, the counts stay.
  const bool same_place = old != nullptr && next && TextOf(old->network_id) == next->network_id &&
                          TextOf(old->domain_id) == next->domain_id &&
                          TextOf(old->switch_name) == next->switch_name;
  if (!same_place && old != nullptr && old->switch_name != nullptr) {
    const std::string& old_network = TextOf(old->network_id);
    changed.network = Decrement(ports_, old_network, *old->switch_name);
    if (changed.network) {
      auto networks = switch_networks_.find(*old->switch_name);
      if (networks != switch_networks_.end()) {
        networks->second.erase(old_network);
        if (networks->second.empty()) switch_networks_.erase(networks);
      }
    }
    if (old->domain_id != nullptr) {
      changed.domain = Decrement(domain_ports_, *old->domain_id, *old->switch_name);
    }
  }
  if (!next) {
    if (it != known_.end()) {
      names_.Release(it->second.network_id);
      names_.Release(it->second.domain_id);
      names_.Release(it->second.switch_name);
      known_.erase(it);
    }
    return changed;
  }
  if (!same_place && !next->switch_name.empty()) {
    if (++ports_[next->network_id][next->switch_name] == 1) {
      changed.network = true;
      switch_networks_[next->switch_name].insert(next->network_id);
    }
    if (!next->domain_id.empty() && ++domain_ports_[next->domain_id][next->switch_name] == 1) {
      changed.domain = true;
    }
  }
  Known& record = known_[id];
  if (!same_place) {
    // Hold the new names before releasing the old (they may be the same strings).
    const std::string* before[] = {record.network_id, record.domain_id, record.switch_name};
    record.network_id = names_.Hold(next->network_id);
    record.domain_id = names_.Hold(next->domain_id);
    record.switch_name = names_.Hold(next->switch_name);
    for (const std::string* name : before) names_.Release(name);
  }
  record.version = next->version;
  return changed;
}

void Directory::SendPortsChanged(const PortsChanged& changed, const std::string& network_id,
                                 const std::string& domain_id, int64_t revision, Output& out) {
  if (changed.domain && !domain_id.empty()) DomainRound(domain_id, revision, out);
  if (changed.network) SendFloodLists(network_id, revision, out);
}

void Directory::SwitchPresenceChanged(const std::string& switch_name, int64_t revision,
                                      Output& out) {
  for (const auto& domain_id : DomainsOfSwitch(switch_name)) DomainRound(domain_id, revision, out);
  // Its own networks only (the index), not a walk of every network's switches.
  auto networks = switch_networks_.find(switch_name);
  if (networks == switch_networks_.end()) return;
  for (const auto& network_id : networks->second) SendFloodLists(network_id, revision, out);
}

Clock::duration Directory::Silence(const Session& session, Clock::time_point now) const {
  return now - session.last_heartbeat - (stalled_ - session.stalled_at_heard);
}

Clock::duration Directory::RoundInterval(const std::string& domain_id) const {
  auto ports = domain_ports_.find(domain_id);
  const auto switches =
      static_cast<int64_t>(ports == domain_ports_.end() ? 0 : ports->second.size());
  return std::max<Clock::duration>(options_.domain_round_interval,
                                   options_.domain_round_per_switch * switches);
}

bool Directory::MayRoundNow(Rounds& rounds, const std::string& domain_id) {
  DomainRoundState& state = rounds[domain_id];
  if (state.last && clock_ - *state.last < RoundInterval(domain_id)) {
    state.pending = true;
    return false;
  }
  state.last = clock_;
  state.pending = false;
  return true;
}

std::vector<std::string> Directory::DueRounds(Rounds& rounds) {
  std::vector<std::string> due;
  for (auto it = rounds.begin(); it != rounds.end();) {
    DomainRoundState& state = it->second;
    const Clock::duration interval = RoundInterval(it->first);
    if (state.last && state.pending && clock_ - *state.last >= interval) {
      state.pending = false;
      state.last = clock_;
      due.push_back(it->first);
    }
    // A domain quiet for a whole interval needs no record: its next round goes at once.
    if (!state.last || (!state.pending && clock_ - *state.last >= interval)) {
      it = rounds.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(due.begin(), due.end());
  return due;
}

bool Directory::DomainRound(const std::string& domain_id, int64_t revision, Output& out) {
  const auto state = domain_rounds_.find(domain_id);
  const std::optional<DomainRoundState> was =
      state == domain_rounds_.end() ? std::nullopt : std::optional(state->second);
  if (!MayRoundNow(domain_rounds_, domain_id)) return false;
  if (SendDomainRound(domain_id, revision, out)) return true;
  // Nothing changed (a switch DOWN or unknown took its first port, or came back within the
  // interval): no round was spent.
  if (was) {
    domain_rounds_[domain_id] = *was;
  } else {
    domain_rounds_.erase(domain_id);
  }
  return false;
}

bool Directory::DomainRoutesRound(const std::string& domain_id, int64_t revision, Output& out) {
  if (!MayRoundNow(config_rounds_, domain_id)) return false;
  SendDomainRoutes(domain_id, revision, out);
  return true;
}

void Directory::EndpointChanged(const v1::Endpoint& endpoint, int64_t revision, Output& out) {
  auto known = known_.find(endpoint.id());
  std::string old_switch;
  if (known != known_.end()) {
    if (known->second.version >= endpoint.version()) return;  // reported already
    old_switch = TextOf(known->second.switch_name);
  }
  const PortsChanged ports_changed =
      SetKnown(endpoint.id(),
               Placement{endpoint.version(), endpoint.network_id(), "", endpoint.switch_name()});
  const v1::Location location = LocationOf(endpoint);
  auto holder = SessionOf(endpoint.switch_name());
  // The switch it is on now: its network's configuration when new to it, and the new version.
  if (holder) {
    if (sessions_[*holder].networks.count(endpoint.network_id()) == 0) {
      SendConfig(*holder, endpoint.network_id(), revision, out);
    }
    auto ack = At(revision);
    *ack.mutable_location_update()->mutable_location() = location;
    out.messages.push_back({*holder, std::move(ack)});
  }
  if (auto record = known_.find(endpoint.id()); record != known_.end()) {
    for (SessionId cacher : record->second.cachers) {
      if (holder && cacher == *holder) continue;
      auto message = At(revision);
      *message.mutable_location_update()->mutable_location() = location;
      out.messages.push_back({cacher, std::move(message)});
    }
  }
  if (old_switch != endpoint.switch_name()) {
    // Unbound (no switch now) counts as a move too: the switch it left drops the port.
    if (auto left = SessionOf(old_switch); left) {
      auto message = At(revision);
      *message.mutable_endpoint_moved()->mutable_location() = location;
      out.messages.push_back({*left, std::move(message)});
    }
    Unconfigure(old_switch, endpoint.network_id(), revision, out);
    // It now holds the endpoint's location like any cacher (EndpointMoved carried it), and
    // hears of its next move, as long as it may know it (still serves a network that may
    // reach it; otherwise it was just told to drop the network).
    if (auto left = SessionOf(old_switch); left && (!holder || *left != *holder) &&
                                           CacheAllowed(sessions_[*left], endpoint.network_id())) {
      Cache(*left, endpoint.id());
    }
  }
  SendPortsChanged(ports_changed, endpoint.network_id(), DomainOf(endpoint.network_id()), revision,
                   out);
}

void Directory::Unconfigure(const std::string& switch_name, const std::string& network_id,
                            int64_t revision, Output& out) {
  if (switch_name.empty() || Serves(switch_name, network_id)) return;
  auto session = SessionOf(switch_name);
  if (!session || sessions_[*session].networks.erase(network_id) == 0) return;
  if (auto configured = configured_.find(network_id); configured != configured_.end()) {
    configured->second.erase(*session);
    if (configured->second.empty()) configured_.erase(configured);
  }
  auto message = At(revision);
  message.mutable_network_removed()->set_network_id(network_id);
  message.mutable_network_removed()->set_vni(VniOf(network_id));
  out.messages.push_back({*session, std::move(message)});
}

void Directory::EndpointDeleted(const std::string& endpoint_id, int64_t revision, Output& out) {
  auto known = known_.find(endpoint_id);
  if (known == known_.end()) return;
  const Placement gone{known->second.version, TextOf(known->second.network_id),
                       TextOf(known->second.domain_id), TextOf(known->second.switch_name)};
  // The cachers first: their records point at the key SetKnown is about to erase.
  const SessionSet cachers = std::move(known->second.cachers);
  for (SessionId cacher : cachers) {
    auto message = At(revision);
    message.mutable_invalidate()->set_endpoint_id(endpoint_id);
    message.mutable_invalidate()->set_vni(VniOf(gone.network_id));
    out.messages.push_back({cacher, std::move(message)});
    EraseSorted(sessions_[cacher].cached, &known->first);
  }
  const PortsChanged ports_changed = SetKnown(endpoint_id, std::nullopt);
  // The switch it was on drops its port (unless it heard as a cacher just above).
  if (auto holder = SessionOf(gone.switch_name); holder && !cachers.Contains(*holder)) {
    auto message = At(revision);
    message.mutable_invalidate()->set_endpoint_id(endpoint_id);
    message.mutable_invalidate()->set_vni(VniOf(gone.network_id));
    out.messages.push_back({*holder, std::move(message)});
  }
  Unconfigure(gone.switch_name, gone.network_id, revision, out);
  SendPortsChanged(ports_changed, gone.network_id, gone.domain_id, revision, out);
}

void Directory::SwitchChanged(const v1::Switch& record, int64_t revision, Output& out) {
  KnownSwitch next{record.name(), CanonicalIp(record.tunnel_ip()),
                   record.state() == v1::Switch::STATE_DOWN};
  auto it = switches_.find(record.id());
  // The liveness of a switch with a stream here, or with a write of this directory pending, is
  // this directory's decision: the store follows it, and a write decided before the latest may
  // land after it (OnSwitchWritten then writes again). Any other switch's is the store's (what
  // another replica decided).
  const bool ours = SessionOf(record.name()).has_value() ||
                    switch_writes_.count(record.name()) != 0 || Registering(record.name());
  if (it != switches_.end() && ours) next.down = it->second.down;
  const bool moved = it == switches_.end() || it->second.tunnel_ip != next.tunnel_ip;
  const bool flipped = it != switches_.end() && it->second.down != next.down;
  switches_[record.id()] = next;
  switch_ids_[record.name()] = record.id();
  if (next.down) unconfirmed_.erase(record.name());
  if (!ours && record.state() == v1::Switch::STATE_UP &&
      remote_sessions_.count(record.name()) == 0 && (it == switches_.end() || flipped)) {
    // UP without a session key: another replica's Hello whose key follows, or a replica that
    // died before writing it. (A switch registered through the API has no state, and no
    // stream ever: a kernel VXLAN host the lab or an operator wired by hand. Nobody's
    // liveness decision, never marked DOWN.)
    unconfirmed_[record.name()] = {
        .since = UnconfirmedSince(), .stalled_at = stalled_, .no_session_at = revision};
  }
  if (ours && !next.down && record.state() == v1::Switch::STATE_DOWN) {
    // Another replica recorded DOWN a switch whose stream is HERE: it heard the session key
    // of the switch's previous replica end (that replica died, its lease expired) before this
    // replica's claim of the key was written (a Hello answered under load). This replica
    // decides for its own streams: the record goes back UP, with the key.
    if (auto session = SessionOf(record.name())) {
      SwitchWrite& wanted = switch_writes_[record.name()];
      wanted.switch_name = record.name();
      wanted.up = true;
      wanted.record = true;
      wanted.no_session_at = 0;
      if (lease_ != 0 && !sessions_[*session].session_value.empty()) {
        wanted.session = SwitchWrite::SessionOp::kClaim;
        wanted.session_value = sessions_[*session].session_value;
        wanted.lease = lease_;
      }
      out.switch_writes = true;
      out.logs.push_back("switch " + record.name() +
                         " was recorded DOWN by another controller while its stream is here: "
                         "recording it UP again");
    }
  }
  if (!moved && !flipped) return;  // the directory's own write, or nothing it reports
  if (flipped) {
    ++(next.down ? liveness_changes_.down : liveness_changes_.up);
    out.logs.push_back("switch " + record.name() + (next.down ? " is DOWN" : " is UP") +
                       ": as another controller recorded it");
  }
  TellCachersOfSwitch(record.name(), revision, out);
  SwitchPresenceChanged(record.name(), revision, out);
}

std::optional<Clock::time_point> Directory::UnconfirmedSince() const {
  // Before the first tick clock_ may not have been read at all (zero: a store event at start)
  // or only by a Hello: the wait runs from the first tick, as for what the load found.
  if (!first_tick_) return std::nullopt;
  return clock_;
}

void Directory::SessionChanged(const std::string& switch_name, const std::string* value,
                               int64_t revision, Output& out) {
  if (value != nullptr && value->find(" instance=" + instance_ + " ") != std::string::npos) {
    return;  // this directory's own key (of a stream open or ended here)
  }
  const auto local = SessionOf(switch_name);
  if (value == nullptr) {
    remote_sessions_.erase(switch_name);
    // A stream here decides for itself; a switch DOWN already has nothing to change (a stream
    // that ended on its replica is recorded DOWN in the txn that deleted its key).
    if (local || switch_ids_.count(switch_name) == 0 || IsDown(switch_name)) return;
    // Its replica's lease ended: that replica died or was cut off from the store. The switch is
    // reconnecting (to this replica, to another, or to all of them restarting); it is DOWN
    // only when no replica has taken its Hello within dead_after (a replica answering a storm
    // of Hellos, or every replica starting again, can take seconds: marking DOWN at once
    // sent every switch DOWN and UP again to every cacher, at 1,000 switches in switch_sim).
    unconfirmed_[switch_name] = {.since = UnconfirmedSince(),
                                 .stalled_at = stalled_,
                                 .no_session_at = revision,
                                 .session_ended = true};
    return;
  }
  remote_sessions_[switch_name] = *value;
  if (unconfirmed_.erase(switch_name) != 0) unconfirmed_progress_at_ = clock_;
  if (local) {
    // It said Hello to another replica: the stream here is a leftover (a half-open TCP
    // connection, say). Ended without a DOWN: the switch is live there.
    out.closes.push_back(
        {*local, kAborted, "replaced by a newer stream of the same switch on another controller"});
    out.logs.push_back("ended the stream of switch " + switch_name +
                       ": it connected to another controller (" + *value + ")");
    Drop(*local);
    switch_writes_.erase(switch_name);  // its pending DOWN or heartbeat: not this replica's now
  }
  if (!IsDown(switch_name)) return;
  auto id = switch_ids_.find(switch_name);
  switches_[id->second].down = false;
  ++liveness_changes_.up;
  out.logs.push_back("switch " + switch_name + " is UP: connected to another controller");
  TellCachersOfSwitch(switch_name, revision, out);
  SwitchPresenceChanged(switch_name, revision, out);
}

void Directory::MarkDownUnserved(const std::string& switch_name, int64_t revision,
                                 const std::string& why, Output& out) {
  SetLiveness(switch_name, false, std::nullopt, clock_, why, out);
  SwitchWrite& wanted = switch_writes_[switch_name];
  wanted.session = SwitchWrite::SessionOp::kKeep;
  wanted.session_value.clear();
  wanted.no_session_at = revision;
}

void Directory::RecheckCaches(const std::set<std::string>& network_ids, int64_t revision,
                              Output& out) {
  std::vector<std::pair<SessionId, std::string>> dropped;
  for (const auto& [endpoint_id, record] : known_) {
    if (record.cachers.empty() || network_ids.count(TextOf(record.network_id)) == 0) continue;
    for (SessionId id : record.cachers) {
      if (!CacheAllowed(sessions_.at(id), TextOf(record.network_id))) {
        dropped.emplace_back(id, endpoint_id);
      }
    }
  }
  for (const auto& [id, endpoint_id] : dropped) {
    auto message = At(revision);
    message.mutable_invalidate()->set_endpoint_id(endpoint_id);
    if (auto known = known_.find(endpoint_id); known != known_.end()) {
      message.mutable_invalidate()->set_vni(VniOf(TextOf(known->second.network_id)));
    }
    out.messages.push_back({id, std::move(message)});
    auto known = known_.find(endpoint_id);
    EraseSorted(sessions_[id].cached, &known->first);
    known->second.cachers.Erase(id);
  }
}

Output Directory::OnStoreEvents(const std::vector<store::Event>& events) {
  Output out;
  // Configurations to send again once the batch is applied, at its last revision: of single
  // networks, and of every network of a domain.
  std::set<std::string> refresh;
  std::set<std::string> refresh_domains;
  std::set<std::string> recheck;  // networks named by a changed policy
  int64_t last = 0;
  for (const auto& event : events) {
    auto key = SplitKey(event.kv.key);
    if (!key) continue;
    const int64_t revision = event.kv.mod_revision;
    if (history_.started()) {
      NotesOf(event, [&](ChangeHistory::Kind kind, std::string id) {
        history_.Note(revision, kind, std::move(id));
      });
    }
    last = std::max(last, revision);
    const bool put = event.type == store::Event::kPut;
    if (key->kind == "endpoints") {
      v1::Endpoint endpoint;
      if (!put) {
        EndpointDeleted(key->id, revision, out);
      } else if (endpoint.ParseFromString(event.kv.value)) {
        EndpointChanged(endpoint, revision, out);
      }
    } else if (key->kind == "networks") {
      v1::Network network;
      if (put && network.ParseFromString(event.kv.value)) {
        // New, or a new VNI: every network of the domain routes to it (domain_subnets).
        if (SetNetwork(key->id, network.vni(), network.domain_id())) {
          refresh_domains.insert(network.domain_id());
        }
        refresh.insert(key->id);
        continue;
      }
      if (put) continue;
      auto known = networks_.find(key->id);
      if (auto configured = configured_.find(key->id); configured != configured_.end()) {
        for (SessionId id : configured->second) {
          auto message = At(revision);
          message.mutable_network_removed()->set_network_id(key->id);
          if (known != networks_.end())
            message.mutable_network_removed()->set_vni(known->second.vni);
          out.messages.push_back({id, std::move(message)});
          sessions_[id].networks.erase(key->id);
        }
        configured_.erase(configured);
      }
      refresh.erase(key->id);
      if (known != networks_.end()) refresh_domains.insert(known->second.domain_id);
      ForgetNetwork(key->id);
    } else if (key->kind == "subnets") {
      v1::Subnet subnet;
      std::string domain_id;
      std::string network_id;
      if (put && subnet.ParseFromString(event.kv.value)) {
        network_id = subnet.network_id();
        domain_id = DomainOf(network_id);
        subnets_[key->id] = {network_id, domain_id};
      } else if (auto known = subnets_.find(key->id); known != subnets_.end()) {
        network_id = known->second.network_id;
        domain_id = known->second.domain_id;
        subnets_.erase(known);
      }
      // Its network (subnets) and every network of the domain, which routes to it
      // (domain_subnets).
      if (!domain_id.empty()) refresh_domains.insert(domain_id);
      if (!network_id.empty()) refresh.insert(network_id);
    } else if (key->kind == "policies") {
      // The NetworkConfigs of the networks it names (before and after), which carry it.
      v1::Policy policy;
      std::optional<KnownPolicy> before;
      if (auto known = policies_.find(key->id); known != policies_.end()) {
        before = known->second;
        policies_.erase(known);
      }
      std::optional<KnownPolicy> after;
      if (put && policy.ParseFromString(event.kv.value)) {
        after = KnownPolicy{policy.source_network_id(), policy.destination_network_id()};
        policies_[key->id] = *after;
      }
      for (const auto& named : {before, after}) {
        if (!named) continue;
        recheck.insert(named->source_network_id);
        recheck.insert(named->destination_network_id);
        refresh.insert(named->source_network_id);
        refresh.insert(named->destination_network_id);
      }
    } else if (key->kind == "sessions") {
      SessionChanged(key->id, put ? &event.kv.value : nullptr, revision, out);
    } else if (key->kind == "switches") {
      v1::Switch record;
      if (put && record.ParseFromString(event.kv.value)) {
        SwitchChanged(record, revision, out);
      } else if (auto known = switches_.find(key->id); known != switches_.end()) {
        const std::string name = known->second.name;
        if (switch_ids_[name] == key->id) switch_ids_.erase(name);
        switches_.erase(known);
        SwitchPresenceChanged(name, revision, out);  // it leaves the flood lists and domain sets
      }
    }
  }
  history_.Reached(last);  // complete up to the batch, noted or not
  // The domains' route rounds (at once, or held back by the interval), then the networks
  // whose own configs changed.
  for (const auto& domain_id : refresh_domains) DomainRoutesRound(domain_id, last, out);
  for (const auto& network_id : refresh) {
    if (networks_.count(network_id) == 0) continue;  // deleted
    RefreshNetwork(network_id, last, out);
  }
  if (!recheck.empty()) RecheckCaches(recheck, last, out);
  return out;
}

Output Directory::OnLeaseGranted(int64_t lease) {
  Output out;
  const bool was_lost = lease_lost_;
  lease_ = lease;
  lease_lost_ = false;
  out.logs.push_back("holding store lease " + std::to_string(lease) +
                     (was_lost ? ": taking Hellos again" : ": taking Hellos"));
  for (const auto& [id, session] : sessions_) {
    if (session.live && !session.switch_name.empty() && SessionOf(session.switch_name) == id) {
      Claim(session, out);
    }
  }
  return out;
}

Output Directory::OnLeaseLost(const std::string& why) {
  Output out;
  lease_lost_ = true;
  lease_ = 0;
  const std::string text = "this controller lost its store lease (" + why +
                           "); its switches connect to another controller";
  out.logs.push_back(text + ": ending " + std::to_string(sessions_.size()) +
                     " streams, refusing Hellos until it holds a new lease");
  std::vector<SessionId> ids;
  ids.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) ids.push_back(id);
  for (SessionId id : ids) {
    out.closes.push_back({id, kUnavailable, text});
    Drop(id);
  }
  // Hellos waiting for their registration end too (OnRegistered marks the switch DOWN).
  for (const auto& [id, name] : registering_) out.closes.push_back({id, kUnavailable, text});
  registering_.clear();
  registering_by_name_.clear();
  // Claims cannot be written without a lease; the records' own writes may go on (a DOWN still
  // only while the key is this stream's or absent).
  for (auto it = switch_writes_.begin(); it != switch_writes_.end();) {
    if (it->second.session == SwitchWrite::SessionOp::kClaim) {
      it->second.session = SwitchWrite::SessionOp::kKeep;
      if (!it->second.record) {
        it = switch_writes_.erase(it);
        continue;
      }
    }
    ++it;
  }
  return out;
}

Output Directory::OnTick(Clock::time_point now, const LastReceived& last_received, bool behind) {
  Output out;
  clock_ = std::max(clock_, now);
  if (!first_tick_) first_tick_ = now;
  // Behind: the time since the last tick is nobody's silence (see directory.h).
  const Clock::duration interval =
      last_tick_ && now > *last_tick_ ? now - *last_tick_ : Clock::duration::zero();
  if (behind) stalled_ += interval;
  last_tick_ = now;
  // The domain rounds held back by the interval, once it has passed.
  for (const auto& domain_id : DueRounds(config_rounds_)) {
    SendDomainRoutes(domain_id, registry_->Revision(), out);
  }
  for (const auto& domain_id : DueRounds(domain_rounds_)) {
    SendDomainRound(domain_id, registry_->Revision(), out);
  }
  std::vector<SessionId> silent;
  size_t live = 0;
  for (auto& [id, session] : sessions_) {
    if (!session.live || session.switch_name.empty()) continue;
    ++live;
    if (Silence(session, now) <= options_.dead_after) continue;
    if (last_received) {
      // Received, not handled yet: heard from, whatever the message (OnMessage's rule).
      if (auto received = last_received(id); received && *received > session.last_heartbeat) {
        session.last_heartbeat = *received;
        session.stalled_at_heard = stalled_;
        if (now - *received <= options_.dead_after) continue;
      }
    }
    silent.push_back(id);
  }
  // Many switches silent at once: the controller's own backlog far more likely than that many
  // failures (see directory.h); excused for at most kMassSilenceDeadAfters x dead_after.
  const bool mass = silent.size() > std::max(kMassSilenceMinimum, live / kMassSilenceShare);
  if (!mass) {
    mass_silence_since_.reset();
  } else if (!mass_silence_since_ ||
             now - *mass_silence_since_ < options_.dead_after * kMassSilenceDeadAfters) {
    if (!mass_silence_since_) mass_silence_since_ = now;
    if (!behind) stalled_ += interval;
    ++mass_silence_ticks_;
    silent.clear();
  }
  for (SessionId id : silent) {
    Session& session = sessions_[id];
    session.live = false;
    session.recorded_heartbeat = now;
    SetLiveness(session.switch_name, false, session.last_heartbeat, now,
                "nothing heard for " + Milliseconds(now - session.last_heartbeat) +
                    " (dead after " + Milliseconds(options_.dead_after) + ")",
                out);
    Release(session.switch_name, session.session_value);
  }
  // Switches stored UP with no session key (at the start, or put UP by another writer since)
  // that no replica took a Hello of within dead_after.
  std::vector<std::string> due;
  for (const auto& [name, entry] : unconfirmed_) {
    const Clock::time_point since = entry.since.value_or(*first_tick_);
    if (now - since - (stalled_ - entry.stalled_at) > options_.dead_after) due.push_back(name);
  }
  // Many at once (every replica restarted, or the one that serves them is answering a storm of
  // Hellos while this one is idle): the controllers' backlog far more likely than that many
  // failures, held back as the silent ones above (at 1,000 switches a restart marked ~800
  // DOWN and UP again, each a write and a message to every cacher of its endpoints).
  // A mass once begun goes on while its switches keep coming in (one confirmed within the last
  // dead_after): the last stragglers of a storm are as late as the rest were, not dead (before,
  // the last tenth of a restart's 1,000 switches went DOWN and UP again the moment they fell
  // under the threshold). When none has come in for dead_after, those still due are DOWN.
  const bool mass_unconfirmed =
      due.size() > std::max(kMassSilenceMinimum, switch_ids_.size() / kMassSilenceShare);
  const bool mass_going_on = mass_unconfirmed_since_ && !due.empty() && unconfirmed_progress_at_ &&
                             now - *unconfirmed_progress_at_ < options_.dead_after;
  // Held for at most kMassSilenceDeadAfters x dead_after from the mass's start, or from the
  // last tick at which it had shrunk by a tenth (at least one) since: a restart of 5,000
  // switches that takes a minute, its Hellos coming in all along, is not cut off at 30 s (that
  // marked the 3,000 still to come DOWN, and UP again as they came), while a mass that has
  // stopped shrinking is still DOWN 10 x dead_after after it did.
  if (!mass_unconfirmed && !mass_going_on) {
    mass_unconfirmed_since_.reset();
  } else {
    if (!mass_unconfirmed_since_ ||
        due.size() + std::max<size_t>(1, mass_unconfirmed_due_ / kMassSilenceShare) <=
            mass_unconfirmed_due_) {
      mass_unconfirmed_since_ = now;
      mass_unconfirmed_due_ = due.size();
    }
    if (now - *mass_unconfirmed_since_ < options_.dead_after * kMassSilenceDeadAfters) {
      ++mass_silence_ticks_;
      due.clear();
    }
  }
  for (const auto& name : due) {
    auto it = unconfirmed_.find(name);
    const auto& entry = it->second;
    if (!SessionOf(name) && remote_sessions_.count(name) == 0 && switch_ids_.count(name) != 0 &&
        !IsDown(name)) {
      std::string why;
      if (entry.session_ended) {
        why =
            "its session on another controller ended (that controller's lease expired) and "
            "no controller took its Hello within " +
            Milliseconds(options_.dead_after);
      } else if (entry.since) {
        why = "recorded UP by another controller, and no session of it anywhere within " +
              Milliseconds(options_.dead_after);
      } else {
        why = "no Hello within " + Milliseconds(options_.dead_after) + " of the controller's start";
      }
      MarkDownUnserved(name, entry.no_session_at, why, out);
    }
    unconfirmed_.erase(it);
  }
  // last_heartbeat of the UP switches, a few per tick.
  size_t writes = 0;
  for (auto& [id, session] : sessions_) {
    if (writes == kMaxHeartbeatWritesPerTick) break;
    if (!session.live || session.switch_name.empty()) continue;
    if (session.recorded_heartbeat != Clock::time_point{} &&
        now - session.recorded_heartbeat < options_.heartbeat_record_interval) {
      continue;
    }
    session.recorded_heartbeat = now;
    ++writes;
    WriteSwitch(session.switch_name, true, session.last_heartbeat, now, out);
  }
  return out;
}

void Directory::TellCachersOfSwitch(const std::string& switch_name, int64_t revision, Output& out) {
  auto endpoints = registry_->List<v1::Endpoint>({.switch_name = switch_name});
  if (!endpoints) return;
  for (const auto& endpoint : *endpoints) {
    auto known = known_.find(endpoint.id());
    if (known == known_.end() || known->second.cachers.empty()) continue;
    const v1::Location location = LocationOf(endpoint);
    for (SessionId cacher : known->second.cachers) {
      auto message = At(revision);
      *message.mutable_location_update()->mutable_location() = location;
      out.messages.push_back({cacher, std::move(message)});
    }
  }
}

}  // namespace dove::controller::southbound
