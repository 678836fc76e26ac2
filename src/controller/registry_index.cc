#include "controller/registry_index.h"

#include <algorithm>
#include <type_traits>

#include "net/ip_prefix.h"

namespace dove::controller {
namespace {

template <typename T>
bool BySequence(const IndexEntry<T>* entry, uint64_t sequence) {
  return entry->sequence < sequence;
}

template <typename T, typename Map>
std::vector<const T*> ChildrenOf(const Map& children, std::string_view parent) {
  std::vector<const T*> out;
  auto it = children.find(parent);
  if (it == children.end()) return out;
  out.reserve(it->second.size());
  for (const auto* child : it->second) out.push_back(&child->object);
  return out;
}

// The endpoints of a children list, decoded.
template <typename Map>
std::vector<v1::Endpoint> EndpointsOf(const Map& children, std::string_view parent) {
  std::vector<v1::Endpoint> out;
  auto it = children.find(parent);
  if (it == children.end()) return out;
  out.reserve(it->second.size());
  for (const auto* child : it->second) out.push_back(ObjectOf(*child));
  return out;
}

template <typename Map, typename T>
void AddChild(Map* children, const std::string& parent, const IndexEntry<T>& entry) {
  auto& list = (*children)[parent];
  if (list.empty() || list.back()->sequence < entry.sequence) {
    list.push_back(&entry);  // the common case: a new child, the latest sequence
    return;
  }
  auto at = std::lower_bound(list.begin(), list.end(), entry.sequence, BySequence<T>);
  if (at != list.end() && (*at)->sequence == entry.sequence) {
    *at = &entry;
  } else {
    list.insert(at, &entry);
  }
}

template <typename Map, typename T>
void RemoveChild(Map* children, const std::string& parent, const IndexEntry<T>& entry) {
  auto it = children->find(parent);
  if (it == children->end()) return;
  auto& list = it->second;
  auto at = std::lower_bound(list.begin(), list.end(), entry.sequence, BySequence<T>);
  if (at != list.end() && (*at)->sequence == entry.sequence) list.erase(at);
  if (list.empty()) {
    children->erase(it);
  } else if (list.size() * 4 < list.capacity()) {
    list.shrink_to_fit();  // a parent emptied by removals gives its memory back
  }
}

// Erases key -> value only when it still maps to `object` (a duplicate loaded from a damaged
// store must not unlink the holder).
template <typename Map, typename Key, typename T>
void EraseIfHeld(Map* map, const Key& key, const T* object) {
  auto it = map->find(key);
  if (it != map->end() && it->second == object) map->erase(it);
}

template <typename T, typename Map>
const T* Lookup(const Map& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}

}  // namespace

template <typename T, typename Self>
auto& RegistryIndex::TableOf(Self& self) {
  if constexpr (std::is_same_v<T, v1::Domain>) return self.domains_;
  if constexpr (std::is_same_v<T, v1::Network>) return self.networks_;
  if constexpr (std::is_same_v<T, v1::Subnet>) return self.subnets_;
  if constexpr (std::is_same_v<T, v1::Endpoint>) return self.endpoints_;
  if constexpr (std::is_same_v<T, v1::Switch>) return self.switches_;
  if constexpr (std::is_same_v<T, v1::Policy>) return self.policies_;
}

template <typename T>
const RegistryIndex::Table<T>& RegistryIndex::table() const {
  return TableOf<T>(*this);
}

template <typename T>
void RegistryIndex::Put(T object, int64_t mod_revision) {
  auto& objects = TableOf<T>(*this);
  auto it = objects.find(object.id());
  const bool added = it == objects.end();
  if (added) {
    it = objects.emplace(object.id(), IndexEntry<T>{}).first;
    it->second.sequence = next_sequence_++;
  }
  auto& entry = it->second;
  entry.mod_revision = mod_revision;
  if constexpr (std::is_same_v<T, v1::Endpoint>) {
    if (!added) Unlink(entry, ObjectOf(entry));
    entry.encoded = object.SerializeAsString();
    // Recorded so that Unlink finds the same (domain, IP) keys.
    const auto* network = FindNetwork(object.network_id());
    const std::string* before = entry.domain_id;
    entry.domain_id = domain_ids_.Hold(network != nullptr ? network->domain_id() : "");
    domain_ids_.Release(before);
    Link(entry, object);
  } else {
    if (!added) Unlink(entry);
    entry.object = std::move(object);
    Link(entry);
  }
}

template <typename T>
void RegistryIndex::Erase(std::string_view id) {
  auto& objects = TableOf<T>(*this);
  auto it = objects.find(id);
  if (it == objects.end()) return;
  if constexpr (std::is_same_v<T, v1::Endpoint>) {
    Unlink(it->second, ObjectOf(it->second));
    domain_ids_.Release(it->second.domain_id);
  } else {
    Unlink(it->second);
  }
  objects.erase(it);
}

template <typename T>
const IndexEntry<T>* RegistryIndex::Find(std::string_view id) const {
  const auto& objects = table<T>();
  auto it = objects.find(id);
  return it == objects.end() ? nullptr : &it->second;
}

void RegistryIndex::Link(const IndexEntry<v1::Domain>& entry) {
  domain_by_name_.emplace(entry.object.name(), &entry.object);
}
void RegistryIndex::Unlink(const IndexEntry<v1::Domain>& entry) {
  EraseIfHeld(&domain_by_name_, entry.object.name(), &entry.object);
}

void RegistryIndex::Link(const IndexEntry<v1::Network>& entry) {
  const auto& n = entry.object;
  network_by_name_[n.domain_id()].emplace(n.name(), &n);
  network_by_vni_.emplace(n.vni(), &n);
  free_vnis_.Take(n.vni());
  AddChild(&networks_of_domain_, n.domain_id(), entry);
}
void RegistryIndex::Unlink(const IndexEntry<v1::Network>& entry) {
  const auto& n = entry.object;
  if (auto it = network_by_name_.find(n.domain_id()); it != network_by_name_.end()) {
    EraseIfHeld(&it->second, n.name(), &n);
    if (it->second.empty()) network_by_name_.erase(it);
  }
  EraseIfHeld(&network_by_vni_, n.vni(), &n);
  if (network_by_vni_.count(n.vni()) == 0) free_vnis_.Release(n.vni());
  RemoveChild(&networks_of_domain_, n.domain_id(), entry);
}

void RegistryIndex::Link(const IndexEntry<v1::Subnet>& entry) {
  AddChild(&subnets_of_network_, entry.object.network_id(), entry);
  auto pool = model::AddressPool::ForSubnet(entry.object);
  if (!pool) return;  // an invalid cidr (validation refuses it): IPAM reports it
  // Linear in the network's endpoints, once per subnet Put (at load, subnets come first).
  for (const auto& endpoint : EndpointsOfNetwork(entry.object.network_id())) {
    for (const auto& text : endpoint.ips()) {
      if (auto ip = net::IpAddress::Parse(text)) pool->Take(*ip);
    }
  }
  pools_.insert_or_assign(entry.object.id(), std::move(*pool));
}
void RegistryIndex::Unlink(const IndexEntry<v1::Subnet>& entry) {
  RemoveChild(&subnets_of_network_, entry.object.network_id(), entry);
  if (auto it = pools_.find(entry.object.id()); it != pools_.end()) pools_.erase(it);
}

void RegistryIndex::TakeOrRelease(const v1::Endpoint& endpoint, bool take) {
  for (const auto* subnet : SubnetsOfNetwork(endpoint.network_id())) {
    auto pool = pools_.find(subnet->id());
    if (pool == pools_.end()) continue;
    for (const auto& text : endpoint.ips()) {
      auto ip = net::IpAddress::Parse(text);
      if (!ip || !pool->second.prefix().Contains(*ip)) continue;
      if (take) {
        pool->second.Take(*ip);
      } else {
        pool->second.Release(*ip);
      }
    }
  }
}

void RegistryIndex::Link(const IndexEntry<v1::Endpoint>& entry, const v1::Endpoint& e) {
  AddChild(&endpoints_of_network_, e.network_id(), entry);
  if (!e.switch_name().empty()) AddChild(&endpoints_of_switch_, e.switch_name(), entry);
  if (auto mac = net::MacAddress::Parse(e.mac())) {
    endpoint_by_mac_[e.network_id()].emplace(*mac, &entry);
  }
  if (!e.name().empty()) endpoint_by_name_[e.network_id()].emplace(e.name(), &entry);
  auto& by_ip = endpoint_by_ip_[TextOf(entry.domain_id)];
  for (const auto& text : e.ips()) {
    if (auto ip = net::IpAddress::Parse(text)) by_ip.emplace(*ip, &entry);
  }
  TakeOrRelease(e, /*take=*/true);
}
void RegistryIndex::Unlink(const IndexEntry<v1::Endpoint>& entry, const v1::Endpoint& e) {
  RemoveChild(&endpoints_of_network_, e.network_id(), entry);
  if (!e.switch_name().empty()) RemoveChild(&endpoints_of_switch_, e.switch_name(), entry);
  if (auto it = endpoint_by_mac_.find(e.network_id()); it != endpoint_by_mac_.end()) {
    if (auto mac = net::MacAddress::Parse(e.mac())) EraseIfHeld(&it->second, *mac, &entry);
    if (it->second.empty()) endpoint_by_mac_.erase(it);
  }
  if (auto it = endpoint_by_name_.find(e.network_id()); it != endpoint_by_name_.end()) {
    EraseIfHeld(&it->second, e.name(), &entry);
    if (it->second.empty()) endpoint_by_name_.erase(it);
  }
  if (auto it = endpoint_by_ip_.find(TextOf(entry.domain_id)); it != endpoint_by_ip_.end()) {
    for (const auto& text : e.ips()) {
      if (auto ip = net::IpAddress::Parse(text)) EraseIfHeld(&it->second, *ip, &entry);
    }
    if (it->second.empty()) endpoint_by_ip_.erase(it);
  }
  TakeOrRelease(e, /*take=*/false);
}

const model::AddressPool* RegistryIndex::FindAddressPool(std::string_view subnet_id) const {
  auto it = pools_.find(subnet_id);
  return it == pools_.end() ? nullptr : &it->second;
}

void RegistryIndex::Link(const IndexEntry<v1::Switch>& entry) {
  switch_by_name_.emplace(entry.object.name(), &entry.object);
  switch_by_tunnel_ip_.emplace(entry.object.tunnel_ip(), &entry.object);
}
void RegistryIndex::Unlink(const IndexEntry<v1::Switch>& entry) {
  EraseIfHeld(&switch_by_name_, entry.object.name(), &entry.object);
  EraseIfHeld(&switch_by_tunnel_ip_, entry.object.tunnel_ip(), &entry.object);
}

void RegistryIndex::Link(const IndexEntry<v1::Policy>& entry) {
  AddChild(&policies_of_domain_, entry.object.domain_id(), entry);
}
void RegistryIndex::Unlink(const IndexEntry<v1::Policy>& entry) {
  RemoveChild(&policies_of_domain_, entry.object.domain_id(), entry);
}

const v1::Domain* RegistryIndex::FindDomainByName(std::string_view name) const {
  return Lookup<v1::Domain>(domain_by_name_, name);
}
const v1::Network* RegistryIndex::FindNetworkByName(std::string_view domain_id,
                                                    std::string_view name) const {
  auto it = network_by_name_.find(domain_id);
  return it == network_by_name_.end() ? nullptr : Lookup<v1::Network>(it->second, name);
}
const v1::Switch* RegistryIndex::FindSwitchByName(std::string_view name) const {
  return Lookup<v1::Switch>(switch_by_name_, name);
}
const v1::Switch* RegistryIndex::FindSwitchByTunnelIp(std::string_view canonical_ip) const {
  return Lookup<v1::Switch>(switch_by_tunnel_ip_, canonical_ip);
}
std::vector<v1::Endpoint> RegistryIndex::EndpointsOfSwitch(std::string_view switch_name) const {
  return EndpointsOf(endpoints_of_switch_, switch_name);
}
std::vector<v1::Endpoint> RegistryIndex::EndpointsOfNetworkOnSwitch(
    std::string_view network_id, std::string_view switch_name) const {
  std::vector<v1::Endpoint> out;
  auto of_network = endpoints_of_network_.find(network_id);
  auto of_switch = endpoints_of_switch_.find(switch_name);
  if (of_network == endpoints_of_network_.end() || of_switch == endpoints_of_switch_.end()) {
    return out;
  }
  // Both lists are in sequence order: a merge walk finds the entries in both.
  const auto& a = of_network->second;
  const auto& b = of_switch->second;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i]->sequence < b[j]->sequence) {
      ++i;
    } else if (b[j]->sequence < a[i]->sequence) {
      ++j;
    } else {
      out.push_back(ObjectOf(*a[i]));
      ++i;
      ++j;
    }
  }
  return out;
}

ObjectCounts RegistryIndex::Counts() const {
  return ObjectCounts{.domains = domains_.size(),
                      .networks = networks_.size(),
                      .subnets = subnets_.size(),
                      .endpoints = endpoints_.size(),
                      .switches = switches_.size(),
                      .policies = policies_.size()};
}

const v1::Domain* RegistryIndex::FindDomain(std::string_view id) const {
  const auto* entry = Find<v1::Domain>(id);
  return entry == nullptr ? nullptr : &entry->object;
}
const v1::Network* RegistryIndex::FindNetwork(std::string_view id) const {
  const auto* entry = Find<v1::Network>(id);
  return entry == nullptr ? nullptr : &entry->object;
}
const v1::Network* RegistryIndex::FindNetworkByVni(uint32_t vni) const {
  auto it = network_by_vni_.find(vni);
  return it == network_by_vni_.end() ? nullptr : it->second;
}
std::vector<const v1::Network*> RegistryIndex::NetworksOfDomain(std::string_view domain_id) const {
  return ChildrenOf<v1::Network>(networks_of_domain_, domain_id);
}
std::vector<const v1::Subnet*> RegistryIndex::SubnetsOfNetwork(std::string_view network_id) const {
  return ChildrenOf<v1::Subnet>(subnets_of_network_, network_id);
}
std::vector<v1::Endpoint> RegistryIndex::EndpointsOfNetwork(std::string_view network_id) const {
  return EndpointsOf(endpoints_of_network_, network_id);
}
std::vector<const v1::Policy*> RegistryIndex::PoliciesOfDomain(std::string_view domain_id) const {
  return ChildrenOf<v1::Policy>(policies_of_domain_, domain_id);
}
std::optional<v1::Endpoint> RegistryIndex::FindEndpointByMac(std::string_view network_id,
                                                             const net::MacAddress& mac) const {
  auto it = endpoint_by_mac_.find(network_id);
  if (it == endpoint_by_mac_.end()) return std::nullopt;
  auto found = it->second.find(mac);
  if (found == it->second.end()) return std::nullopt;
  return ObjectOf(*found->second);
}
std::optional<v1::Endpoint> RegistryIndex::FindEndpointByName(std::string_view network_id,
                                                              std::string_view name) const {
  auto it = endpoint_by_name_.find(network_id);
  if (it == endpoint_by_name_.end()) return std::nullopt;
  auto found = it->second.find(name);
  if (found == it->second.end()) return std::nullopt;
  return ObjectOf(*found->second);
}
std::optional<v1::Endpoint> RegistryIndex::FindEndpointByIp(std::string_view domain_id,
                                                            const net::IpAddress& ip) const {
  auto it = endpoint_by_ip_.find(domain_id);
  if (it == endpoint_by_ip_.end()) return std::nullopt;
  auto found = it->second.find(ip);
  if (found == it->second.end()) return std::nullopt;
  return ObjectOf(*found->second);
}

v1::Endpoint ObjectOf(const IndexEntry<v1::Endpoint>& entry) {
  v1::Endpoint endpoint;
  // The index encoded it: decoding cannot fail.
  endpoint.ParseFromString(entry.encoded);
  return endpoint;
}

#define DOVE_INSTANTIATE_INDEX(T)                                                  \
  template void RegistryIndex::Put<T>(T object, int64_t mod_revision);             \
  template void RegistryIndex::Erase<T>(std::string_view id);                      \
  template const IndexEntry<T>* RegistryIndex::Find<T>(std::string_view id) const; \
  template const RegistryIndex::Table<T>& RegistryIndex::table<T>() const;
DOVE_INSTANTIATE_INDEX(v1::Domain)
DOVE_INSTANTIATE_INDEX(v1::Network)
DOVE_INSTANTIATE_INDEX(v1::Subnet)
DOVE_INSTANTIATE_INDEX(v1::Endpoint)
DOVE_INSTANTIATE_INDEX(v1::Switch)
DOVE_INSTANTIATE_INDEX(v1::Policy)
#undef DOVE_INSTANTIATE_INDEX

}  // namespace dove::controller
