#include "dswitch/agent/endpoint_cache.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

namespace dove::dswitch::agent {
namespace {

void Note(CacheChanges* changes, const std::string& key) {
  if (changes != nullptr && !changes->reset) changes->endpoints.insert(key);
}

void NoteNetwork(CacheChanges* changes, uint32_t vni) {
  if (changes != nullptr && !changes->reset) changes->networks.insert(vni);
}

// Applies a FloodList's change of the domain set to `config`'s domain_tunnel_ips (kept sorted,
// without duplicates); whether the set changed. Idempotent.
bool ApplyDomainDelta(const dove::v1::FloodList& flood_list, dove::v1::NetworkConfig& config) {
  if (flood_list.domain_tunnel_ips_added().empty() &&
      flood_list.domain_tunnel_ips_removed().empty()) {
    return false;
  }
  std::set<std::string> ips(config.domain_tunnel_ips().begin(), config.domain_tunnel_ips().end());
  for (const std::string& ip : flood_list.domain_tunnel_ips_removed()) ips.erase(ip);
  ips.insert(flood_list.domain_tunnel_ips_added().begin(),
             flood_list.domain_tunnel_ips_added().end());
  if (std::equal(ips.begin(), ips.end(), config.domain_tunnel_ips().begin(),
                 config.domain_tunnel_ips().end())) {
    return false;  // a repeat: nothing to derive again
  }
  config.mutable_domain_tunnel_ips()->Assign(ips.begin(), ips.end());
  return true;
}

// Whether two configs carry the same domain parts (routes and tunnel IPs).
bool SameDomainParts(const dove::v1::NetworkConfig& a, const dove::v1::NetworkConfig& b) {
  if (a.domain_subnets_size() != b.domain_subnets_size() ||
      !std::equal(a.domain_tunnel_ips().begin(), a.domain_tunnel_ips().end(),
                  b.domain_tunnel_ips().begin(), b.domain_tunnel_ips().end())) {
    return false;
  }
  for (int i = 0; i < a.domain_subnets_size(); ++i) {
    if (a.domain_subnets(i).SerializeAsString() != b.domain_subnets(i).SerializeAsString()) {
      return false;
    }
  }
  return true;
}

void CopyDomainParts(const dove::v1::NetworkConfig& from, dove::v1::NetworkConfig& to) {
  *to.mutable_domain_subnets() = from.domain_subnets();
  *to.mutable_domain_tunnel_ips() = from.domain_tunnel_ips();
}

}  // namespace

std::string EndpointKey(const dove::v1::Location& location) {
  if (!location.endpoint_id().empty()) return location.endpoint_id();
  return std::to_string(location.vni()) + "/" + NormalizeMac(location.mac());
}

void CacheChanges::Merge(const CacheChanges& later) {
  if (reset) return;  // everything is derived again anyway
  if (later.reset) {
    reset = true;
    endpoints.clear();
    networks.clear();
    return;
  }
  endpoints.insert(later.endpoints.begin(), later.endpoints.end());
  networks.insert(later.networks.begin(), later.networks.end());
}

std::string NormalizeMac(std::string_view mac) {
  std::string out(mac);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EndpointCache::Apply(const dove::v1::ControllerMessage& message, CacheChanges* changes) {
  using Msg = dove::v1::ControllerMessage;
  const int64_t revision = message.revision();
  bool changed = false;
  switch (message.body_case()) {
    case Msg::kWelcome:
      if (message.welcome().snapshot()) {
        Clear(changes);
        changed = true;
      }
      syncing_ = true;
      return changed;  // the catch-up's revision counts only at SyncDone
    case Msg::kSyncDone:
      syncing_ = false;
      last_revision_ = std::max(last_revision_, revision);
      return false;
    case Msg::kNetworkConfig:
      changed = ApplyNetworkConfig(message.network_config(), revision, changes);
      break;
    case Msg::kNetworkRemoved:
      changed = ApplyNetworkRemoved(VniOfRemoved(message.network_removed()), revision, changes);
      break;
    case Msg::kResolveReply:
      if (message.resolve_reply().status() == dove::v1::ResolveReply::STATUS_FOUND &&
          message.resolve_reply().has_location()) {
        changed = ApplyLocation(message.resolve_reply().location(), revision, changes);
      }
      break;
    case Msg::kLocationUpdate:
      changed = ApplyLocation(message.location_update().location(), revision, changes);
      break;
    case Msg::kInvalidate:
      changed = ApplyInvalidate(message.invalidate(), revision, changes);
      break;
    case Msg::kEndpointMoved:
      changed = ApplyEndpointMoved(message.endpoint_moved().location(), revision, changes);
      break;
    case Msg::kFloodList:
      changed = ApplyFloodList(message.flood_list(), revision, changes);
      break;
    case Msg::kDomainRoutes:
      changed = ApplyDomainRoutes(message.domain_routes(), changes);
      break;
    case Msg::kBatch:
      for (const auto& each : message.batch().messages()) {
        if (!each.has_batch()) changed = Apply(each, changes) || changed;  // never nested
      }
      return changed;  // each message counted its own revision
    case Msg::kHeartbeat:
    case Msg::kError:
    case Msg::kTrace:  // not the cache's (ControllerClient hands it to the datapath)
    case Msg::BODY_NOT_SET:
      break;
  }
  if (!syncing_) last_revision_ = std::max(last_revision_, revision);
  return changed;
}

bool EndpointCache::ApplyLocation(const dove::v1::Location& location, int64_t revision,
                                  CacheChanges* changes) {
  const std::string key = EndpointKey(location);
  auto it = endpoints_.find(key);
  if (it != endpoints_.end()) {
    const CachedEndpoint& old = it->second;
    const uint32_t old_version = old.location.version();
    if (location.version() < old_version || revision < old.revision) return false;
    if (location.version() == old_version && revision == old.revision) return false;
    Unindex(key, old.location);
  }
  CachedEndpoint& entry = endpoints_[key];
  entry.location = location;
  entry.revision = revision;
  Index(key, entry.location, changes);
  Note(changes, key);
  return true;
}

bool EndpointCache::ApplyInvalidate(const dove::v1::Invalidate& invalidate, int64_t revision,
                                    CacheChanges* changes) {
  std::vector<std::string> keys;
  if (!invalidate.endpoint_id().empty()) keys.push_back(invalidate.endpoint_id());
  if (!invalidate.mac().empty()) {
    auto it = by_mac_.find({invalidate.vni(), NormalizeMac(invalidate.mac())});
    if (it != by_mac_.end()) keys.push_back(it->second);
  }
  for (const std::string& ip : invalidate.ips()) {
    auto it = by_ip_.find({invalidate.vni(), ip});
    if (it != by_ip_.end()) keys.push_back(it->second);
  }
  bool changed = false;
  if (!invalidate.endpoint_id().empty()) {
    changed = DropLocal(invalidate.vni(), invalidate.endpoint_id(), "", revision, changes);
  }
  for (const std::string& key : keys) {
    auto it = endpoints_.find(key);
    if (it == endpoints_.end() || it->second.revision > revision) continue;
    Erase(key, changes);
    changed = true;
  }
  return changed;
}

bool EndpointCache::DropLocal(uint32_t vni, const std::string& endpoint_id, const std::string& mac,
                              int64_t revision, CacheChanges* changes) {
  auto net = networks_.find(vni);
  if (net == networks_.end() || !net->second.config || net->second.revision > revision) {
    return false;
  }
  // By id the index answers without reading the list (most Invalidates name remote endpoints).
  if (!endpoint_id.empty() && locals_.count({endpoint_id, vni}) == 0) return false;
  const auto same = [&](const dove::v1::Location& local) {
    return endpoint_id.empty() ? NormalizeMac(local.mac()) == NormalizeMac(mac)
                               : local.endpoint_id() == endpoint_id;
  };
  const auto& list = net->second.config->local_endpoints();
  if (std::none_of(list.begin(), list.end(), same)) return false;
  UnindexLocals(vni, nullptr);
  auto* locals = net->second.config->mutable_local_endpoints();
  for (int i = locals->size() - 1; i >= 0; --i) {
    if (!same(locals->Get(i))) continue;
    Note(changes, EndpointKey(locals->Get(i)));
    locals->DeleteSubrange(i, 1);
  }
  IndexLocals(vni, nullptr);
  return true;
}

bool EndpointCache::ApplyEndpointMoved(const dove::v1::Location& location, int64_t revision,
                                       CacheChanges* changes) {
  const bool dropped =
      DropLocal(location.vni(), location.endpoint_id(), location.mac(), revision, changes);
  return ApplyLocation(location, revision, changes) || dropped;
}

bool EndpointCache::ApplyNetworkConfig(const dove::v1::NetworkConfig& config, int64_t revision,
                                       CacheChanges* changes) {
  const uint32_t vni = config.network().vni();
  const std::string& domain_id = config.network().domain_id();
  auto it = networks_.find(vni);
  if (it != networks_.end() && it->second.revision > revision) {
    // Older than what is held, yet the domain parts it carries (when it carries them) are the
    // latest in stream order (the deltas that follow are relative to them): those are taken.
    if (config.domain_omitted()) return false;
    return SpreadDomainParts(domain_id, config, changes);
  }
  UnindexLocals(vni, changes);  // the endpoints the old list named may no longer be here
  CachedNetwork& net = networks_[vni];
  std::optional<dove::v1::NetworkConfig> held = std::move(net.config);
  net.vni = vni;
  net.config = config;
  net.flood_tunnel_ips.assign(config.flood_tunnel_ips().begin(), config.flood_tunnel_ips().end());
  net.revision = revision;
  if (config.domain_omitted()) {
    // The domain's parts are those of the domain's other networks held (all the same), or of
    // the config this one replaces.
    const dove::v1::NetworkConfig* source = held ? &*held : nullptr;
    for (const auto& [other_vni, other] : networks_) {
      if (other_vni != vni && other.config && other.config->network().domain_id() == domain_id) {
        source = &*other.config;
        break;
      }
    }
    if (source != nullptr) CopyDomainParts(*source, *net.config);
    net.config->set_domain_omitted(false);
  } else {
    SpreadDomainParts(domain_id, config, changes);
  }
  IndexLocals(vni, changes);
  NoteNetwork(changes, vni);
  return true;
}

bool EndpointCache::SpreadDomainParts(const std::string& domain_id,
                                      const dove::v1::NetworkConfig& whole, CacheChanges* changes) {
  bool changed = false;
  for (auto& [vni, network] : networks_) {
    if (!network.config || network.config->network().domain_id() != domain_id) continue;
    if (SameDomainParts(*network.config, whole)) continue;
    CopyDomainParts(whole, *network.config);
    NoteNetwork(changes, vni);
    changed = true;
  }
  return changed;
}

bool EndpointCache::ApplyDomainRoutes(const dove::v1::DomainRoutes& routes, CacheChanges* changes) {
  const std::set<std::string> removed(routes.removed().begin(), routes.removed().end());
  std::set<std::string> replaced;
  for (const auto& routed : routes.added()) replaced.insert(routed.cidr());
  bool changed = false;
  for (auto& [vni, network] : networks_) {
    if (!network.config || network.config->network().domain_id() != routes.domain_id()) continue;
    // Kept in cidr order, as the controller sends them whole.
    std::map<std::string, dove::v1::RoutedSubnet> next;
    for (const auto& routed : network.config->domain_subnets()) {
      if (removed.count(routed.cidr()) == 0 && replaced.count(routed.cidr()) == 0) {
        next.emplace(routed.cidr(), routed);
      }
    }
    for (const auto& routed : routes.added()) next.insert_or_assign(routed.cidr(), routed);
    dove::v1::NetworkConfig updated;
    for (auto& [cidr, routed] : next) *updated.add_domain_subnets() = std::move(routed);
    *updated.mutable_domain_tunnel_ips() = network.config->domain_tunnel_ips();
    if (SameDomainParts(*network.config, updated)) continue;
    *network.config->mutable_domain_subnets() = std::move(*updated.mutable_domain_subnets());
    NoteNetwork(changes, vni);
    changed = true;
  }
  return changed;
}

uint32_t EndpointCache::VniOfRemoved(const dove::v1::NetworkRemoved& removed) const {
  if (removed.vni() != 0) return removed.vni();
  for (const auto& [vni, network] : networks_) {
    if (network.config && network.config->network().id() == removed.network_id()) return vni;
  }
  return 0;
}

std::vector<std::string> EndpointCache::EndpointIds(size_t limit) const {
  std::vector<std::string> ids;
  for (const auto& [key, entry] : endpoints_) {
    if (ids.size() >= limit) break;
    if (!entry.location.endpoint_id().empty()) ids.push_back(entry.location.endpoint_id());
  }
  return ids;
}

bool EndpointCache::ApplyNetworkRemoved(uint32_t vni, int64_t revision, CacheChanges* changes) {
  bool changed = false;
  auto net = networks_.find(vni);
  if (net != networks_.end()) {
    if (net->second.revision > revision) return false;
    UnindexLocals(vni, changes);
    networks_.erase(net);
    NoteNetwork(changes, vni);
    changed = true;
  }
  // The VNI's endpoints are one range of by_mac_ (each entry holds its own (vni, mac)).
  std::vector<std::string> doomed;
  for (auto it = by_mac_.lower_bound({vni, ""}); it != by_mac_.end() && it->first.first == vni;
       ++it) {
    if (endpoints_.at(it->second).revision <= revision) doomed.push_back(it->second);
  }
  for (const std::string& key : doomed) Erase(key, changes);
  return changed || !doomed.empty();
}

bool EndpointCache::ApplyFloodList(const dove::v1::FloodList& flood_list, int64_t revision,
                                   CacheChanges* changes) {
  auto it = networks_.find(flood_list.vni());
  // The domain delta applies in stream order whatever the revision (it is relative to the set
  // the stream carried before it); without a config it is kept nowhere (the config brings the
  // whole set).
  // The controller sends it once per switch, on one network of the domain: it applies to every
  // config of that domain.
  bool domain_changed = false;
  if (it != networks_.end() && it->second.config) {
    const std::string domain_id = it->second.config->network().domain_id();
    for (auto& [vni, network] : networks_) {
      if (!network.config || network.config->network().domain_id() != domain_id) continue;
      if (!ApplyDomainDelta(flood_list, *network.config)) continue;
      if (vni == flood_list.vni()) {
        domain_changed = true;
      } else {
        NoteNetwork(changes, vni);
      }
    }
  }
  if (it != networks_.end() && it->second.revision > revision) {
    if (domain_changed) NoteNetwork(changes, flood_list.vni());
    return domain_changed;
  }
  CachedNetwork& net = networks_[flood_list.vni()];
  net.vni = flood_list.vni();
  net.flood_tunnel_ips.assign(flood_list.tunnel_ips().begin(), flood_list.tunnel_ips().end());
  if (net.config) *net.config->mutable_flood_tunnel_ips() = flood_list.tunnel_ips();
  net.revision = revision;
  NoteNetwork(changes, flood_list.vni());
  return true;
}

void EndpointCache::Clear(CacheChanges* changes) {
  endpoints_.clear();
  by_mac_.clear();
  by_ip_.clear();
  networks_.clear();
  locals_.clear();
  placed_.clear();
  last_revision_ = 0;
  syncing_ = false;
  if (changes != nullptr) {
    changes->reset = true;
    changes->endpoints.clear();
    changes->networks.clear();
  }
}

std::optional<CachedEndpoint> EndpointCache::Lookup(uint32_t vni, std::string_view mac) const {
  auto it = by_mac_.find({vni, NormalizeMac(mac)});
  if (it == by_mac_.end()) return std::nullopt;
  return endpoints_.at(it->second);
}

std::optional<CachedEndpoint> EndpointCache::LookupIp(uint32_t vni, std::string_view ip) const {
  auto it = by_ip_.find({vni, std::string(ip)});
  if (it == by_ip_.end()) return std::nullopt;
  return endpoints_.at(it->second);
}

std::optional<CachedNetwork> EndpointCache::Network(uint32_t vni) const {
  auto it = networks_.find(vni);
  if (it == networks_.end()) return std::nullopt;
  return it->second;
}

const CachedEndpoint* EndpointCache::Find(std::string_view key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? nullptr : &it->second;
}

const CachedNetwork* EndpointCache::FindNetwork(uint32_t vni) const {
  auto it = networks_.find(vni);
  return it == networks_.end() ? nullptr : &it->second;
}

std::vector<const dove::v1::Location*> EndpointCache::LocalsOf(const std::string& key) const {
  std::vector<const dove::v1::Location*> out;
  for (auto it = locals_.lower_bound({key, 0}); it != locals_.end() && it->first.first == key;
       ++it) {
    const auto& list = networks_.at(it->first.second).config->local_endpoints();
    for (int position : it->second) out.push_back(&list.Get(position));
  }
  return out;
}

std::vector<std::string> EndpointCache::KeysPlacedOn(uint32_t vni,
                                                     std::string_view switch_name) const {
  std::vector<std::string> keys;
  auto it = placed_.find({vni, std::string(switch_name)});
  if (it == placed_.end()) return keys;
  keys.reserve(it->second.size());
  for (const auto& [key, count] : it->second) keys.push_back(key);
  return keys;
}

CacheDump EndpointCache::Dump() const {
  CacheDump dump;
  dump.last_revision = last_revision_;
  dump.syncing = syncing_;
  for (const auto& [vni_mac, key] : by_mac_) dump.endpoints.push_back(endpoints_.at(key));
  for (const auto& [vni, net] : networks_) dump.networks.push_back(net);
  return dump;
}

void EndpointCache::Index(const std::string& key, const dove::v1::Location& location,
                          CacheChanges* changes) {
  // A newer location may take over a (vni, mac) or (vni, ip) another entry held: that entry is
  // stale and dropped whole (the next lookup of it resolves it again).
  auto take = [&](std::map<VniKey, std::string>& index, const VniKey& index_key) {
    auto [it, inserted] = index.try_emplace(index_key, key);
    if (inserted || it->second == key) return;
    const std::string other = it->second;
    Erase(other, changes);  // invalidates `it`
    index[index_key] = key;
  };
  take(by_mac_, {location.vni(), NormalizeMac(location.mac())});
  for (const std::string& ip : location.ips()) take(by_ip_, {location.vni(), ip});
  Place(location, key);
}

void EndpointCache::Unindex(const std::string& key, const dove::v1::Location& location) {
  auto drop = [&](std::map<VniKey, std::string>& index, const VniKey& index_key) {
    auto it = index.find(index_key);
    if (it != index.end() && it->second == key) index.erase(it);
  };
  drop(by_mac_, {location.vni(), NormalizeMac(location.mac())});
  for (const std::string& ip : location.ips()) drop(by_ip_, {location.vni(), ip});
  Unplace(location, key);
}

void EndpointCache::Erase(const std::string& key, CacheChanges* changes) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) return;
  Unindex(key, it->second.location);
  endpoints_.erase(it);
  Note(changes, key);
}

void EndpointCache::IndexLocals(uint32_t vni, CacheChanges* changes) {
  auto net = networks_.find(vni);
  if (net == networks_.end() || !net->second.config) return;
  const auto& list = net->second.config->local_endpoints();
  for (int position = 0; position < list.size(); ++position) {
    const dove::v1::Location& local = list.Get(position);
    std::string key = EndpointKey(local);
    Place(local, key);
    Note(changes, key);
    locals_[{std::move(key), vni}].push_back(position);
  }
}

void EndpointCache::UnindexLocals(uint32_t vni, CacheChanges* changes) {
  auto net = networks_.find(vni);
  if (net == networks_.end() || !net->second.config) return;
  for (const dove::v1::Location& local : net->second.config->local_endpoints()) {
    const std::string key = EndpointKey(local);
    locals_.erase({key, vni});
    Unplace(local, key);
    Note(changes, key);
  }
}

void EndpointCache::Place(const dove::v1::Location& location, const std::string& key) {
  if (location.switch_name().empty()) return;  // on no switch: never a port
  ++placed_[{location.vni(), location.switch_name()}][key];
}

void EndpointCache::Unplace(const dove::v1::Location& location, const std::string& key) {
  if (location.switch_name().empty()) return;
  auto place = placed_.find({location.vni(), location.switch_name()});
  if (place == placed_.end()) return;
  auto it = place->second.find(key);
  if (it == place->second.end()) return;
  if (--it->second == 0) place->second.erase(it);
  if (place->second.empty()) placed_.erase(place);
}

}  // namespace dove::dswitch::agent
