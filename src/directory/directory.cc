#include "directory/directory.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "model/model_view.h"
#include "model/policy.h"
#include "net/ip_address.h"

namespace dove::directory {
namespace {

// grpc::StatusCode values (see Close).
constexpr int kInvalidArgument = 3;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;

constexpr std::string_view kEndpointKeys = "/dove/v1/endpoints/";

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string CanonicalIp(const std::string& text) {
  auto ip = net::IpAddress::Parse(text);
  return ip ? ip->ToString() : Lower(text);
}

v1::ControllerMessage At(int64_t revision) {
  v1::ControllerMessage message;
  message.set_revision(revision);
  return message;
}

}  // namespace

Directory::Directory(controller::Registry* registry, DirectoryOptions options)
    : registry_(registry), options_(std::move(options)) {
  if (auto endpoints = registry_->List<v1::Endpoint>({}); endpoints) {
    for (auto& endpoint : *endpoints) known_[endpoint.id()] = std::move(endpoint);
  }
}

bool Directory::IsLive(const std::string& switch_name) const {
  auto id = SessionOf(switch_name);
  return id.has_value() && sessions_.at(*id).live;
}

std::set<SessionId> Directory::CachersOf(const std::string& endpoint_id) const {
  auto it = cachers_.find(endpoint_id);
  return it == cachers_.end() ? std::set<SessionId>{} : it->second;
}

std::optional<SessionId> Directory::SessionOf(const std::string& switch_name) const {
  if (switch_name.empty()) return std::nullopt;
  for (const auto& [id, session] : sessions_) {
    if (session.switch_name == switch_name) return id;
  }
  return std::nullopt;
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
  Session& session = sessions_[id];
  const bool greeted = !session.switch_name.empty();
  if (message.has_hello()) {
    if (greeted) {
      return {.messages = {},
              .closes = {{id, kFailedPrecondition, "a second hello on the same stream"}}};
    }
    return OnHello(id, session, message.hello(), now);
  }
  if (!greeted) {
    return {.messages = {},
            .closes = {{id, kFailedPrecondition, "the first message of a stream must be hello"}}};
  }
  switch (message.body_case()) {
    case v1::SwitchMessage::kHeartbeat: {
      session.last_heartbeat = now;
      Output out;
      if (!session.live) {
        session.live = true;
        if (auto stored = registry_->Get<v1::Switch>(session.switch_name); stored) {
          stored->set_state(v1::Switch::STATE_UP);
          (void)registry_->Replace(session.switch_name, *stored);
        }
        TellCachersOfSwitch(session.switch_name, out);
      }
      auto reply = At(registry_->Revision());
      reply.mutable_heartbeat()->set_sequence(message.heartbeat().sequence());
      out.messages.push_back({id, std::move(reply)});
      return out;
    }
    case v1::SwitchMessage::kAttach:
      return OnAttach(id, session, message.attach());
    case v1::SwitchMessage::kDetach:
      return OnDetach(id, session, message.detach());
    case v1::SwitchMessage::kResolveMac:
      return OnResolveMac(id, message.resolve_mac());
    case v1::SwitchMessage::kResolveIp:
      return OnResolveIp(id, message.resolve_ip());
    case v1::SwitchMessage::kStats:
      return {};  // accepted; not kept yet
    default:
      return {.messages = {}, .closes = {{id, kInvalidArgument, "a message with no body"}}};
  }
}

void Directory::OnDisconnect(SessionId id) {
  sessions_.erase(id);
  for (auto it = cachers_.begin(); it != cachers_.end();) {
    it->second.erase(id);
    it = it->second.empty() ? cachers_.erase(it) : std::next(it);
  }
}

Output Directory::OnHello(SessionId id, Session& session, const v1::Hello& hello,
                          Clock::time_point now) {
  Output out;
  const int64_t revision = registry_->Revision();
  auto refuse = [&](int status, std::string code, std::string text) {
    out.messages.push_back({id, Refuse(revision, std::move(code), text, 0, "")});
    out.closes.push_back({id, status, std::move(text)});
    sessions_.erase(id);
    return out;
  };
  if (hello.switch_name().empty()) {
    return refuse(kInvalidArgument, "invalid_value", "hello without a switch_name");
  }
  const std::string tunnel_ip = CanonicalIp(hello.tunnel_ip());
  for (const auto& [other_id, other] : sessions_) {
    if (other_id == id || !other.live) continue;
    if (other.tunnel_ip == tunnel_ip && other.switch_name != hello.switch_name()) {
      return refuse(kAlreadyExists, "conflict",
                    "tunnel IP " + tunnel_ip + " is held by the live switch " + other.switch_name);
    }
  }
  // The same switch on a new stream: the old stream is replaced.
  if (auto previous = SessionOf(hello.switch_name()); previous && *previous != id) {
    out.closes.push_back({*previous, kAborted, "replaced by a newer stream of the same switch"});
    OnDisconnect(*previous);
  }
  v1::Switch record;
  auto stored = registry_->Get<v1::Switch>(hello.switch_name());
  if (stored) record = *stored;
  record.set_name(hello.switch_name());
  record.set_tunnel_ip(hello.tunnel_ip());
  record.set_state(v1::Switch::STATE_UP);
  record.set_software_version(hello.software_version());
  auto saved = stored ? registry_->Replace(hello.switch_name(), record) : registry_->Create(record);
  if (!saved) {
    return refuse(saved.error().code == "conflict" ? kAlreadyExists : kInvalidArgument,
                  saved.error().code, saved.error().message);
  }
  Session& bound = sessions_[id];
  bound.switch_name = hello.switch_name();
  bound.tunnel_ip = tunnel_ip;
  bound.live = true;
  bound.last_heartbeat = now;
  bound.networks.clear();

  const int64_t now_revision = registry_->Revision();
  auto welcome = At(now_revision);
  welcome.mutable_welcome()->set_switch_id(saved->id());
  welcome.mutable_welcome()->set_controller_id(options_.controller_id);
  welcome.mutable_welcome()->set_heartbeat_interval_ms(
      static_cast<uint32_t>(options_.heartbeat_interval.count()));
  welcome.mutable_welcome()->set_dead_after_ms(static_cast<uint32_t>(options_.dead_after.count()));
  welcome.mutable_welcome()->set_snapshot(true);  // incremental catch-up: not yet
  out.messages.push_back({id, std::move(welcome)});
  std::set<std::string> networks;
  if (auto local = registry_->List<v1::Endpoint>({.switch_name = hello.switch_name()}); local) {
    for (const auto& endpoint : *local) networks.insert(endpoint.network_id());
  }
  for (const auto& network_id : networks) {
    if (auto config = ConfigOf(network_id, hello.switch_name()); config) {
      auto message = At(now_revision);
      *message.mutable_network_config() = std::move(*config);
      out.messages.push_back({id, std::move(message)});
      bound.networks.insert(network_id);
    }
  }
  auto done = At(now_revision);
  done.mutable_sync_done();
  out.messages.push_back({id, std::move(done)});
  (void)session;
  return out;
}

Output Directory::OnAttach(SessionId id, const Session& session, const v1::Attach& attach) {
  Output out;
  auto stored = registry_->Get<v1::Endpoint>(attach.endpoint_id());
  if (!stored) {
    out.messages.push_back({id, Refuse(registry_->Revision(), stored.error().code,
                                       stored.error().message, 0, attach.endpoint_id())});
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
  v1::Endpoint updated = *stored;
  updated.set_switch_name(session.switch_name);
  updated.set_port_name(attach.port_name());
  auto saved = registry_->Replace(attach.endpoint_id(), updated);
  if (!saved) {
    out.messages.push_back({id, Refuse(registry_->Revision(), saved.error().code,
                                       saved.error().message, 0, attach.endpoint_id())});
    return out;
  }
  EndpointChanged(*saved, registry_->Revision(), out);
  return out;
}

Output Directory::OnDetach(SessionId id, const Session& session, const v1::Detach& detach) {
  Output out;
  auto stored = registry_->Get<v1::Endpoint>(detach.endpoint_id());
  if (!stored || stored->switch_name() != session.switch_name) {
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
  v1::Endpoint updated = *stored;
  updated.clear_switch_name();
  updated.clear_port_name();
  auto saved = registry_->Replace(detach.endpoint_id(), updated);
  if (!saved) {
    out.messages.push_back({id, Refuse(registry_->Revision(), saved.error().code,
                                       saved.error().message, 0, detach.endpoint_id())});
    return out;
  }
  // The switch it left hears of it too: the acknowledgement carries the new version.
  auto ack = At(registry_->Revision());
  *ack.mutable_location_update()->mutable_location() = LocationOf(*saved);
  out.messages.push_back({id, std::move(ack)});
  EndpointChanged(*saved, registry_->Revision(), out);
  return out;
}

std::optional<v1::Network> Directory::NetworkByVni(uint32_t vni) const {
  auto networks = registry_->List<v1::Network>({});
  if (!networks) return std::nullopt;
  for (auto& network : *networks) {
    if (network.vni() == vni) return std::move(network);
  }
  return std::nullopt;
}

Output Directory::OnResolveMac(SessionId id, const v1::ResolveMac& resolve) {
  Output out;
  const int64_t revision = registry_->Revision();
  auto network = NetworkByVni(resolve.vni());
  if (!network) {
    out.messages.push_back(
        {id, Refuse(revision, "not_found", "no network has VNI " + std::to_string(resolve.vni()),
                    resolve.query_id(), "")});
    return out;
  }
  auto reply = At(revision);
  auto* answer = reply.mutable_resolve_reply();
  answer->set_query_id(resolve.query_id());
  const std::string mac = Lower(resolve.mac());
  const v1::Endpoint* found = nullptr;
  auto endpoints = registry_->List<v1::Endpoint>({.network = network->id()});
  if (endpoints) {
    for (const auto& endpoint : *endpoints) {
      if (endpoint.mac() == mac) found = &endpoint;
    }
  }
  if (found == nullptr) {
    answer->set_status(v1::ResolveReply::STATUS_NOT_FOUND);
    answer->set_reason("no endpoint with MAC " + mac + " in network " + network->id());
  } else {
    answer->set_status(v1::ResolveReply::STATUS_FOUND);
    *answer->mutable_location() = LocationOf(*found);
    cachers_[found->id()].insert(id);
  }
  out.messages.push_back({id, std::move(reply)});
  return out;
}

Output Directory::OnResolveIp(SessionId id, const v1::ResolveIp& resolve) {
  Output out;
  const int64_t revision = registry_->Revision();
  auto network = NetworkByVni(resolve.vni());
  if (!network) {
    out.messages.push_back(
        {id, Refuse(revision, "not_found", "no network has VNI " + std::to_string(resolve.vni()),
                    resolve.query_id(), "")});
    return out;
  }
  auto reply = At(revision);
  auto* answer = reply.mutable_resolve_reply();
  answer->set_query_id(resolve.query_id());
  const std::string ip = CanonicalIp(resolve.ip());
  std::optional<v1::Endpoint> found;
  if (auto endpoints = registry_->List<v1::Endpoint>({.domain = network->domain_id()}); endpoints) {
    for (auto& endpoint : *endpoints) {
      for (const auto& held : endpoint.ips()) {
        if (CanonicalIp(held) == ip) found = endpoint;
      }
    }
  }
  if (!found) {
    answer->set_status(v1::ResolveReply::STATUS_NOT_FOUND);
    answer->set_reason("no endpoint holds " + ip + " in domain " + network->domain_id());
    out.messages.push_back({id, std::move(reply)});
    return out;
  }
  if (found->network_id() != network->id()) {
    // Policy between the two networks, for any protocol (protocol 0, port 0): only policies
    // without a protocol decide here; finer ones are the data plane's business.
    model::InMemoryModelView view;
    if (auto networks = registry_->List<v1::Network>({.domain = network->domain_id()}); networks) {
      for (const auto& each : *networks) view.Put(each);
    }
    if (auto policies = registry_->List<v1::Policy>({.domain = network->domain_id()}); policies) {
      for (const auto& each : *policies) view.Put(each);
    }
    if (!model::Allowed(view, network->id(), found->network_id(), 0, 0)) {
      answer->set_status(v1::ResolveReply::STATUS_DENIED);
      answer->set_reason("no policy allows traffic from network " + network->id() + " to network " +
                         found->network_id());
      out.messages.push_back({id, std::move(reply)});
      return out;
    }
  }
  answer->set_status(v1::ResolveReply::STATUS_FOUND);
  *answer->mutable_location() = LocationOf(*found);
  cachers_[found->id()].insert(id);
  out.messages.push_back({id, std::move(reply)});
  return out;
}

v1::Location Directory::LocationOf(const v1::Endpoint& endpoint) const {
  v1::Location location;
  location.set_endpoint_id(endpoint.id());
  location.set_network_id(endpoint.network_id());
  if (auto network = registry_->Get<v1::Network>(endpoint.network_id()); network) {
    location.set_vni(network->vni());
  }
  location.set_mac(endpoint.mac());
  for (const auto& ip : endpoint.ips()) location.add_ips(ip);
  location.set_switch_name(endpoint.switch_name());
  location.set_version(endpoint.version());
  if (!endpoint.switch_name().empty()) {
    if (auto record = registry_->Get<v1::Switch>(endpoint.switch_name()); record) {
      location.set_tunnel_ip(record->tunnel_ip());
      location.set_switch_down(record->state() == v1::Switch::STATE_DOWN);
    }
  }
  return location;
}

std::vector<std::string> Directory::FloodTunnelIps(const std::string& network_id,
                                                   const std::string& except_switch) const {
  std::set<std::string> switches;
  if (auto endpoints = registry_->List<v1::Endpoint>({.network = network_id}); endpoints) {
    for (const auto& endpoint : *endpoints) {
      if (!endpoint.switch_name().empty() && endpoint.switch_name() != except_switch) {
        switches.insert(endpoint.switch_name());
      }
    }
  }
  std::vector<std::string> ips;
  for (const auto& name : switches) {
    if (auto record = registry_->Get<v1::Switch>(name); record) ips.push_back(record->tunnel_ip());
  }
  std::sort(ips.begin(), ips.end());
  return ips;
}

std::optional<v1::NetworkConfig> Directory::ConfigOf(const std::string& network_id,
                                                     const std::string& switch_name) const {
  auto network = registry_->Get<v1::Network>(network_id);
  if (!network) return std::nullopt;
  v1::NetworkConfig config;
  *config.mutable_network() = *network;
  if (auto subnets = registry_->List<v1::Subnet>({.network = network_id}); subnets) {
    for (const auto& subnet : *subnets) *config.add_subnets() = subnet;
  }
  if (auto policies = registry_->List<v1::Policy>({.domain = network->domain_id()}); policies) {
    for (const auto& policy : *policies) {
      if (policy.source_network_id() == network_id ||
          policy.destination_network_id() == network_id) {
        *config.add_policies() = policy;
      }
    }
  }
  for (auto& ip : FloodTunnelIps(network_id, switch_name)) config.add_flood_tunnel_ips(ip);
  if (auto local = registry_->List<v1::Endpoint>({.network = network_id}); local) {
    for (const auto& endpoint : *local) {
      if (endpoint.switch_name() == switch_name)
        *config.add_local_endpoints() = LocationOf(endpoint);
    }
  }
  return config;
}

void Directory::SendFloodLists(const std::string& network_id, int64_t revision, Output& out) {
  auto network = registry_->Get<v1::Network>(network_id);
  if (!network) return;
  for (const auto& [id, session] : sessions_) {
    if (session.networks.count(network_id) == 0) continue;
    auto message = At(revision);
    message.mutable_flood_list()->set_vni(network->vni());
    for (auto& ip : FloodTunnelIps(network_id, session.switch_name)) {
      message.mutable_flood_list()->add_tunnel_ips(ip);
    }
    out.messages.push_back({id, std::move(message)});
  }
}

void Directory::EndpointChanged(const v1::Endpoint& endpoint, int64_t revision, Output& out) {
  auto known = known_.find(endpoint.id());
  std::string old_switch;
  if (known != known_.end()) {
    if (known->second.version() >= endpoint.version()) return;  // reported already
    old_switch = known->second.switch_name();
  }
  known_[endpoint.id()] = endpoint;
  const v1::Location location = LocationOf(endpoint);
  auto holder = SessionOf(endpoint.switch_name());
  // The switch it is on now: its network's configuration when new to it, and the new version.
  if (holder) {
    Session& session = sessions_[*holder];
    if (session.networks.insert(endpoint.network_id()).second) {
      if (auto config = ConfigOf(endpoint.network_id(), session.switch_name); config) {
        auto message = At(revision);
        *message.mutable_network_config() = std::move(*config);
        out.messages.push_back({*holder, std::move(message)});
      }
    }
    auto ack = At(revision);
    *ack.mutable_location_update()->mutable_location() = location;
    out.messages.push_back({*holder, std::move(ack)});
  }
  if (auto cachers = cachers_.find(endpoint.id()); cachers != cachers_.end()) {
    for (SessionId cacher : cachers->second) {
      if (holder && cacher == *holder) continue;
      auto message = At(revision);
      *message.mutable_location_update()->mutable_location() = location;
      out.messages.push_back({cacher, std::move(message)});
    }
  }
  if (old_switch != endpoint.switch_name()) {
    if (auto left = SessionOf(old_switch); left && !endpoint.switch_name().empty()) {
      auto message = At(revision);
      *message.mutable_endpoint_moved()->mutable_location() = location;
      out.messages.push_back({*left, std::move(message)});
    }
    SendFloodLists(endpoint.network_id(), revision, out);
  }
}

void Directory::EndpointDeleted(const std::string& endpoint_id, int64_t revision, Output& out) {
  auto known = known_.find(endpoint_id);
  if (known == known_.end()) return;
  const v1::Endpoint gone = std::move(known->second);
  known_.erase(known);
  auto cachers = cachers_.find(endpoint_id);
  if (cachers != cachers_.end()) {
    uint32_t vni = 0;
    if (auto network = registry_->Get<v1::Network>(gone.network_id()); network) {
      vni = network->vni();
    }
    for (SessionId cacher : cachers->second) {
      auto message = At(revision);
      auto* invalidate = message.mutable_invalidate();
      invalidate->set_endpoint_id(endpoint_id);
      invalidate->set_vni(vni);
      invalidate->set_mac(gone.mac());
      for (const auto& ip : gone.ips()) invalidate->add_ips(ip);
      out.messages.push_back({cacher, std::move(message)});
    }
    cachers_.erase(cachers);
  }
  if (!gone.switch_name().empty()) SendFloodLists(gone.network_id(), revision, out);
}

Output Directory::OnStoreEvents(const std::vector<store::Event>& events) {
  Output out;
  for (const auto& event : events) {
    const std::string& key = event.kv.key;
    if (key.compare(0, kEndpointKeys.size(), kEndpointKeys) != 0) continue;
    const std::string id = key.substr(kEndpointKeys.size());
    if (event.type == store::Event::kDelete) {
      EndpointDeleted(id, event.kv.mod_revision, out);
      continue;
    }
    v1::Endpoint endpoint;
    if (!endpoint.ParseFromString(event.kv.value)) continue;
    EndpointChanged(endpoint, event.kv.mod_revision, out);
  }
  return out;
}

Output Directory::OnTick(Clock::time_point now) {
  Output out;
  for (auto& [id, session] : sessions_) {
    if (!session.live || session.switch_name.empty()) continue;
    if (now - session.last_heartbeat <= options_.dead_after) continue;
    session.live = false;
    if (auto stored = registry_->Get<v1::Switch>(session.switch_name); stored) {
      stored->set_state(v1::Switch::STATE_DOWN);
      (void)registry_->Replace(session.switch_name, *stored);
    }
    TellCachersOfSwitch(session.switch_name, out);
  }
  return out;
}

void Directory::TellCachersOfSwitch(const std::string& switch_name, Output& out) {
  const int64_t revision = registry_->Revision();
  for (const auto& [endpoint_id, endpoint] : known_) {
    if (endpoint.switch_name() != switch_name) continue;
    auto cachers = cachers_.find(endpoint_id);
    if (cachers == cachers_.end()) continue;
    const v1::Location location = LocationOf(endpoint);
    for (SessionId cacher : cachers->second) {
      auto message = At(revision);
      *message.mutable_location_update()->mutable_location() = location;
      out.messages.push_back({cacher, std::move(message)});
    }
  }
}

}  // namespace dove::directory
