#include "controller/registry.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#include "controller/random_ids.h"
#include "controller/registry_index.h"
#include "controller/store_keys.h"
#include "model/ipam.h"
#include "model/policy.h"
#include "model/validation.h"
#include "net/ip_prefix.h"

namespace dove::controller {

using model::Fail;

struct Registry::State {
  store::Store* store = nullptr;
  std::unique_ptr<RegistryIndex> index;
  // Written under the exclusive lock, read without any: Revision() never waits for a write.
  std::atomic<int64_t> revision{0};
  RandomIds ids;
  // Serialises mutations, from the first check through the store's durable commit to the
  // index update: what a mutation validated against is what the store and index hold when it
  // commits. Only a holder changes `index` (so it reads it without `mutex`); never taken by
  // a read.
  std::mutex write_mutex;
  // Guards `index` against the one writer: reads take it shared; a mutation
  // takes it exclusively only to apply what the store already acknowledged (no I/O under it),
  // so reads, /healthz and /metrics never wait for an fsync.
  mutable std::shared_mutex mutex;
  // Signalled after every index update (WaitForRevision).
  std::mutex published_mutex;
  std::condition_variable published;
};

namespace {

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// ---- canonical forms: the index keys and duplicate checks compare the stored text ----------

void CanonicalIp(std::string* text) {
  if (auto ip = net::IpAddress::Parse(*text)) *text = ip->ToString();
}

// Unparseable values are left alone: validation names them in its error.
void Canonicalise(v1::Domain* /*domain*/) {}
void Canonicalise(v1::Network* /*network*/) {}
void Canonicalise(v1::Subnet* subnet) {
  if (auto prefix = net::IpPrefix::Parse(subnet->cidr())) subnet->set_cidr(prefix->ToString());
  CanonicalIp(subnet->mutable_gateway());
  if (subnet->has_dhcp_range()) {
    CanonicalIp(subnet->mutable_dhcp_range()->mutable_first());
    CanonicalIp(subnet->mutable_dhcp_range()->mutable_last());
  }
  for (auto& dns : *subnet->mutable_dns_servers()) CanonicalIp(&dns);
}
void Canonicalise(v1::Endpoint* endpoint) {
  if (auto mac = net::MacAddress::Parse(endpoint->mac())) endpoint->set_mac(mac->ToString());
  for (auto& ip : *endpoint->mutable_ips()) CanonicalIp(&ip);
}
void Canonicalise(v1::Switch* sw) { CanonicalIp(sw->mutable_tunnel_ip()); }
void Canonicalise(v1::Policy* /*policy*/) {}

// ---- rules: fill in what the controller chooses, then check ---------------------------------
// `current` is the stored object on Replace, nullptr on Create.

ModelResult<void> Immutable(std::string_view kind, std::string_view id, std::string_view field,
                            const std::string& stored, const std::string& given) {
  if (stored == given) return {};
  return Fail("invalid_value", std::string(field) + " of " + std::string(kind) + " " + Quote(id) +
                                   " cannot change (it is " + Quote(stored) + ", the body says " +
                                   Quote(given) + ").");
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& /*ids*/, v1::Domain* domain,
                          const v1::Domain* /*current*/) {
  if (auto ok = model::ValidateDomain(*domain); !ok) return ok;
  if (const auto* holder = index.FindDomainByName(domain->name());
      holder != nullptr && holder->id() != domain->id()) {
    return Fail("conflict", "name " + Quote(domain->name()) + " is already used by domain " +
                                Quote(holder->id()) + ".");
  }
  return {};
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& /*ids*/, v1::Network* network,
                          const v1::Network* current) {
  if (current != nullptr) {
    if (auto ok = Immutable("network", current->id(), "domain_id", current->domain_id(),
                            network->domain_id());
        !ok) {
      return ok;
    }
    if (network->vni() == 0) network->set_vni(current->vni());
  } else if (network->vni() == 0) {
    auto vni = model::AllocateVni(index);
    if (!vni) return Unexpected(vni.error());
    network->set_vni(*vni);
  }
  if (auto ok = model::ValidateNetwork(index, *network); !ok) return ok;
  if (const auto* holder = index.FindNetworkByName(network->domain_id(), network->name());
      holder != nullptr && holder->id() != network->id()) {
    return Fail("conflict", "name " + Quote(network->name()) + " is already used by network " +
                                Quote(holder->id()) + " in domain " + Quote(network->domain_id()) +
                                ".");
  }
  return {};
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& /*ids*/, v1::Subnet* subnet,
                          const v1::Subnet* current) {
  if (current != nullptr) {
    if (auto ok = Immutable("subnet", current->id(), "network_id", current->network_id(),
                            subnet->network_id());
        !ok) {
      return ok;
    }
  }
  if (auto ok = model::ValidateSubnet(index, *subnet); !ok) return ok;
  if (current == nullptr) return {};
  // A replaced subnet must still hold the addresses endpoints took from it.
  auto old_prefix = net::IpPrefix::Parse(current->cidr());
  auto new_prefix = net::IpPrefix::Parse(subnet->cidr());
  auto gateway = net::IpAddress::Parse(subnet->gateway());
  if (!old_prefix || !new_prefix) return {};
  for (const auto& endpoint : index.EndpointsOfNetwork(subnet->network_id())) {
    for (const auto& text : endpoint.ips()) {
      auto ip = net::IpAddress::Parse(text);
      if (!ip || !old_prefix->Contains(*ip)) continue;
      if (!new_prefix->Contains(*ip) || (gateway && *gateway == *ip) ||
          model::IsReservedAddress(*new_prefix, *ip)) {
        return Fail("in_use", "endpoint " + Quote(endpoint.id()) + " holds " + text +
                                  " of subnet " + Quote(subnet->id()) +
                                  ", which the new cidr or gateway would take away or reserve.");
      }
    }
  }
  return {};
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& ids, v1::Endpoint* endpoint,
                          const v1::Endpoint* current) {
  if (current != nullptr) {
    if (auto ok = Immutable("endpoint", current->id(), "network_id", current->network_id(),
                            endpoint->network_id());
        !ok) {
      return ok;
    }
    if (endpoint->version() != 0 && endpoint->version() != current->version()) {
      return Fail("conflict", "stale version: endpoint " + Quote(current->id()) +
                                  " is at version " + std::to_string(current->version()) +
                                  ", the body has version " + std::to_string(endpoint->version()) +
                                  ".");
    }
    endpoint->set_version(current->version() + 1);
    if (endpoint->ips().empty()) *endpoint->mutable_ips() = current->ips();
    if (endpoint->mac().empty()) endpoint->set_mac(current->mac());
  } else {
    if (endpoint->version() != 0) {
      return Fail("invalid_value", "version is set by the controller; leave it 0 on create.");
    }
    endpoint->set_version(1);
  }
  if (index.FindNetwork(endpoint->network_id()) == nullptr) {
    return Fail("not_found", "network_id " + Quote(endpoint->network_id()) + " names no network.");
  }
  if (endpoint->mac().empty()) {
    net::MacAddress mac = ids.NewMac();
    while (index.FindEndpointByMac(endpoint->network_id(), mac)) mac = ids.NewMac();
    endpoint->set_mac(mac.ToString());
  }
  if (auto ok = model::AssignAddresses(index, endpoint); !ok) return ok;
  if (auto ok = model::ValidateEndpoint(index, *endpoint); !ok) return ok;
  // One port holds one endpoint: two on the same switch port would share a TAP.
  if (!endpoint->switch_name().empty() && !endpoint->port_name().empty()) {
    for (const auto& other : index.EndpointsOfSwitch(endpoint->switch_name())) {
      if (other.id() != endpoint->id() && other.port_name() == endpoint->port_name()) {
        return Fail("conflict", "port " + Quote(endpoint->port_name()) + " of switch " +
                                    Quote(endpoint->switch_name()) +
                                    " is already used by endpoint " + Quote(other.id()) + ".");
      }
    }
  }
  return {};
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& /*ids*/, v1::Switch* sw,
                          const v1::Switch* /*current*/) {
  if (auto ok = model::ValidateSwitch(*sw); !ok) return ok;
  if (const auto* holder = index.FindSwitchByName(sw->name());
      holder != nullptr && holder->id() != sw->id()) {
    return Fail("conflict", "name " + Quote(sw->name()) + " is already used by switch " +
                                Quote(holder->id()) + ".");
  }
  if (const auto* holder = index.FindSwitchByTunnelIp(sw->tunnel_ip());
      holder != nullptr && holder->id() != sw->id()) {
    return Fail("conflict", "tunnel_ip " + sw->tunnel_ip() + " is already used by switch " +
                                Quote(holder->id()) + ".");
  }
  return {};
}

// Every field but the id equal (port ranges compared as given: unset differs from 1..65535).
bool SameRule(const v1::Policy& a, const v1::Policy& b) {
  return a.domain_id() == b.domain_id() && a.source_network_id() == b.source_network_id() &&
         a.destination_network_id() == b.destination_network_id() && a.action() == b.action() &&
         a.protocol() == b.protocol() && a.has_port_range() == b.has_port_range() &&
         a.port_range().first() == b.port_range().first() &&
         a.port_range().last() == b.port_range().last() && a.priority() == b.priority();
}

ModelResult<void> Prepare(const RegistryIndex& index, RandomIds& /*ids*/, v1::Policy* policy,
                          const v1::Policy* current) {
  if (current != nullptr) {
    if (auto ok = Immutable("policy", current->id(), "domain_id", current->domain_id(),
                            policy->domain_id());
        !ok) {
      return ok;
    }
  }
  if (auto ok = model::ValidatePolicy(index, *policy); !ok) return ok;
  // The same rule twice is a mistake (a retried create without an id, most likely): every
  // field but the id equal is refused. Linear in the domain's policies.
  for (const auto* other : index.PoliciesOfDomain(policy->domain_id())) {
    if (other->id() != policy->id() && SameRule(*other, *policy)) {
      return Fail("conflict", "policy " + Quote(other->id()) +
                                  " already is this rule (same domain, networks, action, "
                                  "protocol, ports and priority).");
    }
  }
  return {};
}

// ---- store transactions ------------------------------------------------------------------

template <typename T>
void CompareUnchanged(const RegistryIndex& index, std::string_view id, store::TxnRequest* txn) {
  const auto* entry = index.Find<T>(id);
  if (entry == nullptr) return;
  txn->compares.push_back(
      store::Compare::ModRevision(KeyOf<T>(id), store::Compare::kEqual, entry->mod_revision));
}

// Compares on the objects a write references: they were read by the checks and must still be
// as read when the write commits.
void CompareReferences(const RegistryIndex& /*index*/, const v1::Domain& /*domain*/,
                       store::TxnRequest* /*txn*/) {}
void CompareReferences(const RegistryIndex& index, const v1::Network& network,
                       store::TxnRequest* txn) {
  CompareUnchanged<v1::Domain>(index, network.domain_id(), txn);
}
void CompareReferences(const RegistryIndex& index, const v1::Subnet& subnet,
                       store::TxnRequest* txn) {
  CompareUnchanged<v1::Network>(index, subnet.network_id(), txn);
}
void CompareReferences(const RegistryIndex& index, const v1::Endpoint& endpoint,
                       store::TxnRequest* txn) {
  CompareUnchanged<v1::Network>(index, endpoint.network_id(), txn);
}
void CompareReferences(const RegistryIndex& /*index*/, const v1::Switch& /*sw*/,
                       store::TxnRequest* /*txn*/) {}
void CompareReferences(const RegistryIndex& index, const v1::Policy& policy,
                       store::TxnRequest* txn) {
  CompareUnchanged<v1::Domain>(index, policy.domain_id(), txn);
  CompareUnchanged<v1::Network>(index, policy.source_network_id(), txn);
  if (policy.destination_network_id() != policy.source_network_id()) {
    CompareUnchanged<v1::Network>(index, policy.destination_network_id(), txn);
  }
}

// The revision of the committed txn; nothing happened when this fails.
ModelResult<int64_t> Commit(store::Store* store, const store::TxnRequest& txn) {
  auto response = store->Txn(txn);
  if (!response) {
    if (response.error().code == store::StoreError::kUnavailable) {
      // etcd may have applied a write it could not confirm in time.
      return Fail("store_unavailable",
                  "The store did not confirm the change (" + response.error().Describe() +
                      "): it may or may not have been applied. Read the object before "
                      "retrying.");
    }
    return Fail("store_unavailable",
                "The store failed (" + response.error().Describe() + "); nothing changed.");
  }
  if (!response->succeeded) {
    // The registry is the store's only writer, so this means someone else wrote to it.
    return Fail("conflict", "The store changed under the registry; nothing changed. Retry.");
  }
  return response->revision;
}

// ---- references ---------------------------------------------------------------------------

template <typename T>
const IndexEntry<T>* Resolve(const RegistryIndex& index, std::string_view ref) {
  if (const auto* entry = index.Find<T>(ref)) return entry;
  if constexpr (std::is_same_v<T, v1::Domain>) {
    if (const auto* domain = index.FindDomainByName(ref)) return index.Find<T>(domain->id());
  }
  if constexpr (std::is_same_v<T, v1::Switch>) {
    if (const auto* sw = index.FindSwitchByName(ref)) return index.Find<T>(sw->id());
  }
  return nullptr;
}

template <typename T>
Unexpected<ModelError> NotFound(std::string_view ref) {
  return Fail("not_found", std::string(Kind<T>::kSingular) + " " + Quote(ref) + " does not exist.");
}

// ---- deletes ------------------------------------------------------------------------------

struct DeletePlan {
  std::vector<std::string> domains;
  std::vector<std::string> networks;
  std::vector<std::string> subnets;
  std::vector<std::string> endpoints;
  std::vector<std::string> switches;
  std::vector<std::string> policies;

  size_t size() const {
    return domains.size() + networks.size() + subnets.size() + endpoints.size() + switches.size() +
           policies.size();
  }
};

// "2 networks (n1, n2)": the first few ids, enough to act on.
template <typename T>
std::string Describe(const std::vector<std::string>& ids) {
  std::string text = std::to_string(ids.size()) + " " +
                     std::string(ids.size() == 1 ? Kind<T>::kSingular : Kind<T>::kPlural) + " (";
  for (size_t i = 0; i < ids.size() && i < 5; ++i) text += (i == 0 ? "" : ", ") + ids[i];
  return text + (ids.size() > 5 ? ", ...)" : ")");
}

template <typename T>
std::vector<std::string> IdsOf(const std::vector<const T*>& objects) {
  std::vector<std::string> ids;
  ids.reserve(objects.size());
  for (const auto* object : objects) ids.push_back(object->id());
  return ids;
}
std::vector<std::string> IdsOf(const std::vector<v1::Endpoint>& endpoints) {
  std::vector<std::string> ids;
  ids.reserve(endpoints.size());
  for (const auto& endpoint : endpoints) ids.push_back(endpoint.id());
  return ids;
}

void Append(std::vector<std::string>* to, const std::vector<std::string>& from) {
  to->insert(to->end(), from.begin(), from.end());
}

std::vector<std::string> EndpointsInSubnet(const RegistryIndex& index, const v1::Subnet& subnet) {
  std::vector<std::string> out;
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  if (!prefix) return out;
  for (const auto& endpoint : index.EndpointsOfNetwork(subnet.network_id())) {
    for (const auto& text : endpoint.ips()) {
      if (auto ip = net::IpAddress::Parse(text); ip && prefix->Contains(*ip)) {
        out.push_back(endpoint.id());
        break;
      }
    }
  }
  return out;
}

ModelResult<void> Plan(const RegistryIndex& index, const v1::Network& network, bool force,
                       DeletePlan* plan) {
  auto endpoints = IdsOf(index.EndpointsOfNetwork(network.id()));
  std::vector<std::string> policies;
  for (const auto* policy : index.PoliciesOfDomain(network.domain_id())) {
    if (policy->source_network_id() == network.id() ||
        policy->destination_network_id() == network.id()) {
      policies.push_back(policy->id());
    }
  }
  if (!force && (!endpoints.empty() || !policies.empty())) {
    std::string what;
    if (!endpoints.empty()) what = Describe<v1::Endpoint>(endpoints);
    if (!policies.empty()) {
      what += (what.empty() ? "" : " and ") + Describe<v1::Policy>(policies) + " naming it";
    }
    return Fail("not_empty", "network " + Quote(network.id()) + " still has " + what +
                                 "; delete them first, or delete with force.");
  }
  plan->networks.push_back(network.id());
  Append(&plan->subnets, IdsOf(index.SubnetsOfNetwork(network.id())));
  Append(&plan->endpoints, endpoints);
  Append(&plan->policies, policies);
  return {};
}

ModelResult<void> Plan(const RegistryIndex& index, const v1::Domain& domain, bool force,
                       DeletePlan* plan) {
  const auto networks = index.NetworksOfDomain(domain.id());
  const auto policies = IdsOf(index.PoliciesOfDomain(domain.id()));
  if (!force && (!networks.empty() || !policies.empty())) {
    std::string what;
    if (!networks.empty()) what = Describe<v1::Network>(IdsOf(networks));
    if (!policies.empty()) what += (what.empty() ? "" : " and ") + Describe<v1::Policy>(policies);
    return Fail("not_empty", "domain " + Quote(domain.id()) + " still has " + what +
                                 "; delete them first, or delete with force.");
  }
  plan->domains.push_back(domain.id());
  Append(&plan->policies, policies);
  for (const auto* network : networks) {
    plan->networks.push_back(network->id());
    Append(&plan->subnets, IdsOf(index.SubnetsOfNetwork(network->id())));
    Append(&plan->endpoints, IdsOf(index.EndpointsOfNetwork(network->id())));
  }
  return {};
}

ModelResult<void> Plan(const RegistryIndex& index, const v1::Subnet& subnet, bool force,
                       DeletePlan* plan) {
  auto endpoints = EndpointsInSubnet(index, subnet);
  if (!force && !endpoints.empty()) {
    return Fail("in_use", "subnet " + Quote(subnet.id()) + " still has " +
                              Describe<v1::Endpoint>(endpoints) +
                              " with addresses in it; delete them first, or delete with force.");
  }
  plan->subnets.push_back(subnet.id());
  Append(&plan->endpoints, endpoints);
  return {};
}

ModelResult<void> Plan(const RegistryIndex& /*index*/, const v1::Endpoint& endpoint, bool /*force*/,
                       DeletePlan* plan) {
  plan->endpoints.push_back(endpoint.id());
  return {};
}
ModelResult<void> Plan(const RegistryIndex& /*index*/, const v1::Switch& sw, bool /*force*/,
                       DeletePlan* plan) {
  plan->switches.push_back(sw.id());
  return {};
}
ModelResult<void> Plan(const RegistryIndex& /*index*/, const v1::Policy& policy, bool /*force*/,
                       DeletePlan* plan) {
  plan->policies.push_back(policy.id());
  return {};
}

template <typename T>
void AddDeletes(const RegistryIndex& index, const std::vector<std::string>& ids,
                store::TxnRequest* txn) {
  for (const auto& id : ids) {
    CompareUnchanged<T>(index, id, txn);
    txn->success.push_back(store::Op::Delete(KeyOf<T>(id)));
  }
}

template <typename T>
void EraseAll(RegistryIndex* index, const std::vector<std::string>& ids) {
  for (const auto& id : ids) index->Erase<T>(id);
}

// ---- list filters -------------------------------------------------------------------------

template <typename T>
ModelResult<void> CheckFilterApplies(const ListFilter& filter) {
  constexpr bool kDomain = std::is_same_v<T, v1::Network> || std::is_same_v<T, v1::Policy> ||
                           std::is_same_v<T, v1::Endpoint> || std::is_same_v<T, v1::Subnet>;
  constexpr bool kNetwork = std::is_same_v<T, v1::Subnet> || std::is_same_v<T, v1::Endpoint>;
  constexpr bool kSwitchName = std::is_same_v<T, v1::Endpoint>;
  constexpr bool kName = std::is_same_v<T, v1::Domain> || std::is_same_v<T, v1::Network> ||
                         std::is_same_v<T, v1::Switch>;
  for (const auto& [field, given, applies] :
       {std::tuple{"domain", !filter.domain.empty(), kDomain},
        std::tuple{"network", !filter.network.empty(), kNetwork},
        std::tuple{"switch_name", !filter.switch_name.empty(), kSwitchName},
        std::tuple{"name", !filter.name.empty(), kName}}) {
    if (given && !applies) {
      return Fail("invalid_value", "the filter " + std::string(field) + " does not apply to " +
                                       std::string(Kind<T>::kPlural) + ".");
    }
  }
  return {};
}

template <typename T>
std::vector<const T*> All(const RegistryIndex& index) {
  std::vector<const T*> out;
  out.reserve(index.table<T>().size());
  for (const auto& [id, entry] : index.table<T>()) out.push_back(&entry.object);
  return out;
}
std::vector<v1::Endpoint> AllEndpoints(const RegistryIndex& index) {
  std::vector<v1::Endpoint> out;
  out.reserve(index.table<v1::Endpoint>().size());
  for (const auto& [id, entry] : index.table<v1::Endpoint>()) out.push_back(ObjectOf(entry));
  return out;
}

// The domain of an object (for the domain filter); "" when it has none.
std::string_view DomainOf(const RegistryIndex& index, const v1::Subnet& subnet) {
  const auto* network = index.FindNetwork(subnet.network_id());
  if (network == nullptr) return {};
  return network->domain_id();
}
std::string_view DomainOf(const RegistryIndex& index, const v1::Endpoint& endpoint) {
  const auto* entry = index.Find<v1::Endpoint>(endpoint.id());
  if (entry == nullptr) return {};
  return TextOf(entry->domain_id);
}

// Candidates from the most selective index, then every filter applied to them.
// `domain_id` is the resolved domain ("" = no filter). Pointers into the index; endpoints,
// which the index keeps encoded, as decoded copies.
template <typename T>
auto Select(const RegistryIndex& index, const ListFilter& filter, std::string_view domain_id) {
  std::vector<const T*> candidates;
  if constexpr (std::is_same_v<T, v1::Domain>) {
    if (filter.name.empty()) return All<T>(index);
    if (const auto* d = index.FindDomainByName(filter.name)) candidates.push_back(d);
    return candidates;
  } else if constexpr (std::is_same_v<T, v1::Switch>) {
    if (filter.name.empty()) return All<T>(index);
    if (const auto* s = index.FindSwitchByName(filter.name)) candidates.push_back(s);
    return candidates;
  } else if constexpr (std::is_same_v<T, v1::Network>) {
    candidates = domain_id.empty() ? All<T>(index) : index.NetworksOfDomain(domain_id);
    if (!filter.name.empty()) {
      std::erase_if(candidates, [&](const T* n) { return n->name() != filter.name; });
    }
    return candidates;
  } else if constexpr (std::is_same_v<T, v1::Policy>) {
    return domain_id.empty() ? All<T>(index) : index.PoliciesOfDomain(domain_id);
  } else if constexpr (std::is_same_v<T, v1::Subnet>) {
    if (!filter.network.empty()) {
      candidates = index.SubnetsOfNetwork(filter.network);
    } else if (!domain_id.empty()) {
      candidates = index.SubnetsOfDomain(domain_id);
    } else {
      candidates = All<T>(index);
    }
    if (!domain_id.empty()) {
      std::erase_if(candidates, [&](const T* s) { return DomainOf(index, *s) != domain_id; });
    }
    return candidates;
  } else {
    static_assert(std::is_same_v<T, v1::Endpoint>);
    std::vector<v1::Endpoint> endpoints;
    if (!filter.network.empty()) {
      endpoints = index.EndpointsOfNetwork(filter.network);
    } else if (!filter.switch_name.empty()) {
      endpoints = index.EndpointsOfSwitch(filter.switch_name);
    } else if (!domain_id.empty()) {
      endpoints = index.EndpointsOfDomain(domain_id);
    } else {
      endpoints = AllEndpoints(index);
    }
    std::erase_if(endpoints, [&](const v1::Endpoint& e) {
      return (!filter.network.empty() && e.network_id() != filter.network) ||
             (!filter.switch_name.empty() && e.switch_name() != filter.switch_name) ||
             (!domain_id.empty() && DomainOf(index, e) != domain_id);
    });
    return endpoints;
  }
}

// ---- loading ------------------------------------------------------------------------------

template <typename T>
using Loaded = std::vector<std::pair<T, int64_t>>;

struct LoadedObjects {
  Loaded<v1::Domain> domains;
  Loaded<v1::Network> networks;
  Loaded<v1::Subnet> subnets;
  Loaded<v1::Endpoint> endpoints;
  Loaded<v1::Switch> switches;
  Loaded<v1::Policy> policies;
};

template <typename T>
ModelResult<void> Decode(const store::KeyValue& kv, std::string_view id, Loaded<T>* out) {
  T object;
  if (!object.ParseFromString(kv.value)) {
    return Fail("corrupt", "The value of key " + Quote(kv.key) + " does not decode as a " +
                               std::string(Kind<T>::kSingular) + ".");
  }
  if (object.id() != id) {
    return Fail("corrupt", "The value of key " + Quote(kv.key) + " holds the id " +
                               Quote(object.id()) + ", not the key's.");
  }
  out->emplace_back(std::move(object), kv.mod_revision);
  return {};
}

ModelResult<void> Decode(const store::KeyValue& kv, LoadedObjects* out) {
  auto key = ParseKey(kv.key);
  if (!key) {
    return Fail("corrupt", "Key " + Quote(kv.key) + " is not of the form /dove/v1/<kind>/<id>.");
  }
  if (key->kind == Kind<v1::Domain>::kPlural) return Decode(kv, key->id, &out->domains);
  if (key->kind == Kind<v1::Network>::kPlural) return Decode(kv, key->id, &out->networks);
  if (key->kind == Kind<v1::Subnet>::kPlural) return Decode(kv, key->id, &out->subnets);
  if (key->kind == Kind<v1::Endpoint>::kPlural) return Decode(kv, key->id, &out->endpoints);
  if (key->kind == Kind<v1::Switch>::kPlural) return Decode(kv, key->id, &out->switches);
  if (key->kind == Kind<v1::Policy>::kPlural) return Decode(kv, key->id, &out->policies);
  return Fail("corrupt",
              "Key " + Quote(kv.key) + " names an unknown kind " + Quote(key->kind) + ".");
}

// Moves the objects into the index (no second copy of 100,000 endpoints at the peak) and frees
// the list.
template <typename T>
void PutAll(RegistryIndex* index, Loaded<T>& objects) {
  for (auto& [object, mod_revision] : objects) index->Put(std::move(object), mod_revision);
  Loaded<T>().swap(objects);
}

}  // namespace

// ---- Registry -----------------------------------------------------------------------------

ModelResult<std::unique_ptr<Registry>> Registry::Open(store::Store* store) {
  auto range = store->Range(kKeyPrefix);
  if (!range) {
    return Fail("store_unavailable",
                "Reading the store failed (" + range.error().Describe() + ").");
  }
  LoadedObjects loaded;
  for (auto& kv : range->kvs) {
    if (auto ok = Decode(kv, &loaded); !ok) return Unexpected(ok.error());
    std::string().swap(kv.value);  // decoded: the encoded copy goes now, not at the end
  }
  const int64_t revision = range->revision;
  std::vector<store::KeyValue>().swap(range->kvs);
  auto index = std::make_unique<RegistryIndex>();
  // Parents first: an endpoint is indexed under its network's domain.
  PutAll(index.get(), loaded.domains);
  PutAll(index.get(), loaded.networks);
  PutAll(index.get(), loaded.subnets);
  PutAll(index.get(), loaded.endpoints);
  PutAll(index.get(), loaded.switches);
  PutAll(index.get(), loaded.policies);
  return std::unique_ptr<Registry>(new Registry(store, std::move(index), revision));
}

Registry::Registry(store::Store* store, std::unique_ptr<RegistryIndex> index, int64_t revision)
    : state_(std::make_unique<State>()) {
  state_->store = store;
  state_->index = std::move(index);
  state_->revision = revision;
}

Registry::~Registry() = default;

template <typename T>
ModelResult<T> Registry::Create(T object) {
  std::lock_guard writing(state_->write_mutex);
  RegistryIndex& index = *state_->index;
  if (object.id().empty()) {
    std::string id = state_->ids.NewId();
    while (index.Find<T>(id) != nullptr) id = state_->ids.NewId();
    object.set_id(id);
  } else {
    if (auto ok = model::ValidateName("id", object.id()); !ok) return Unexpected(ok.error());
    if (index.Find<T>(object.id()) != nullptr) {
      return Fail("conflict", "id " + Quote(object.id()) + " is already used by " +
                                  std::string(Kind<T>::kSingular) + " " + Quote(object.id()) + ".");
    }
  }
  Canonicalise(&object);
  if (auto ok = Prepare(index, state_->ids, &object, nullptr); !ok) {
    return Unexpected(ok.error());
  }
  const std::string key = KeyOf<T>(object.id());
  store::TxnRequest txn;
  txn.compares.push_back(store::Compare::Version(key, store::Compare::kEqual, 0));
  CompareReferences(index, object, &txn);
  txn.success.push_back(store::Op::Put(key, object.SerializeAsString()));
  auto revision = Commit(state_->store, txn);
  if (!revision) return Unexpected(revision.error());
  Publish([&] { index.Put(object, *revision); }, *revision);
  return object;
}

template <typename T>
ModelResult<T> Registry::Replace(std::string_view ref, T object) {
  std::lock_guard writing(state_->write_mutex);
  RegistryIndex& index = *state_->index;
  const auto* entry = Resolve<T>(index, ref);
  if (entry == nullptr) return NotFound<T>(ref);
  const auto& current = ObjectOf(*entry);  // endpoints: a decoded copy, kept alive here
  if (!object.id().empty() && object.id() != current.id()) {
    return Fail("invalid_value", "id " + Quote(object.id()) + " in the body differs from " +
                                     Quote(current.id()) + ", the " +
                                     std::string(Kind<T>::kSingular) + " replaced.");
  }
  object.set_id(current.id());
  Canonicalise(&object);
  if (auto ok = Prepare(index, state_->ids, &object, &current); !ok) {
    return Unexpected(ok.error());
  }
  const std::string key = KeyOf<T>(object.id());
  store::TxnRequest txn;
  txn.compares.push_back(
      store::Compare::ModRevision(key, store::Compare::kEqual, entry->mod_revision));
  CompareReferences(index, object, &txn);
  txn.success.push_back(store::Op::Put(key, object.SerializeAsString()));
  auto revision = Commit(state_->store, txn);
  if (!revision) return Unexpected(revision.error());
  Publish([&] { index.Put(object, *revision); }, *revision);
  return object;
}

template <typename T>
ModelResult<T> Registry::Get(std::string_view ref) const {
  std::shared_lock lock(state_->mutex);
  const auto* entry = Resolve<T>(*state_->index, ref);
  if (entry == nullptr) return NotFound<T>(ref);
  return ObjectOf(*entry);
}

template <typename T>
ModelResult<std::vector<T>> Registry::List(const ListFilter& filter) const {
  if (auto ok = CheckFilterApplies<T>(filter); !ok) return Unexpected(ok.error());
  std::shared_lock lock(state_->mutex);
  const RegistryIndex& index = *state_->index;
  std::string_view domain_id;
  if (!filter.domain.empty()) {
    const auto* domain = Resolve<v1::Domain>(index, filter.domain);
    if (domain == nullptr) {
      return Fail("not_found", "The filter domain " + Quote(filter.domain) + " names no domain.");
    }
    domain_id = domain->object.id();
  }
  if (!filter.network.empty() && index.FindNetwork(filter.network) == nullptr) {
    return Fail("not_found", "The filter network " + Quote(filter.network) + " names no network.");
  }
  auto selected = Select<T>(index, filter, domain_id);
  if constexpr (std::is_same_v<T, v1::Endpoint>) {
    std::sort(selected.begin(), selected.end(),
              [](const T& a, const T& b) { return a.id() < b.id(); });
    return selected;
  } else {
    std::sort(selected.begin(), selected.end(),
              [](const T* a, const T* b) { return a->id() < b->id(); });
    std::vector<T> out;
    out.reserve(selected.size());
    for (const T* object : selected) out.push_back(*object);
    return out;
  }
}

template <typename T>
ModelResult<DeleteResult> Registry::Delete(std::string_view ref, bool force) {
  std::lock_guard writing(state_->write_mutex);
  RegistryIndex& index = *state_->index;
  const auto* entry = Resolve<T>(index, ref);
  if (entry == nullptr) return NotFound<T>(ref);
  DeletePlan plan;
  if (auto ok = Plan(index, ObjectOf(*entry), force, &plan); !ok) return Unexpected(ok.error());
  store::TxnRequest txn;
  AddDeletes<v1::Domain>(index, plan.domains, &txn);
  AddDeletes<v1::Network>(index, plan.networks, &txn);
  AddDeletes<v1::Subnet>(index, plan.subnets, &txn);
  AddDeletes<v1::Endpoint>(index, plan.endpoints, &txn);
  AddDeletes<v1::Switch>(index, plan.switches, &txn);
  AddDeletes<v1::Policy>(index, plan.policies, &txn);
  auto revision = Commit(state_->store, txn);
  if (!revision) return Unexpected(revision.error());
  Publish(
      [&] {
        // Children before parents: an endpoint's index keys need its network's domain.
        EraseAll<v1::Endpoint>(&index, plan.endpoints);
        EraseAll<v1::Policy>(&index, plan.policies);
        EraseAll<v1::Subnet>(&index, plan.subnets);
        EraseAll<v1::Network>(&index, plan.networks);
        EraseAll<v1::Domain>(&index, plan.domains);
        EraseAll<v1::Switch>(&index, plan.switches);
      },
      *revision);
  return DeleteResult{.objects_deleted = plan.size(), .revision = *revision};
}

ModelResult<v1::Network> Registry::FindNetworkByVni(uint32_t vni) const {
  std::shared_lock lock(state_->mutex);
  const auto* network = state_->index->FindNetworkByVni(vni);
  if (network == nullptr)
    return Fail("not_found", "No network has VNI " + std::to_string(vni) + ".");
  return *network;
}

ModelResult<v1::Endpoint> Registry::FindEndpointByMac(std::string_view network_id,
                                                      std::string_view mac) const {
  auto parsed = net::MacAddress::Parse(mac);
  if (!parsed) return Fail("invalid_value", "mac " + Quote(mac) + " is not a MAC address.");
  std::shared_lock lock(state_->mutex);
  auto endpoint = state_->index->FindEndpointByMac(network_id, *parsed);
  if (!endpoint) {
    return Fail("not_found", "No endpoint with MAC " + parsed->ToString() + " in network " +
                                 Quote(network_id) + ".");
  }
  return std::move(*endpoint);
}

ModelResult<v1::Endpoint> Registry::FindEndpointByIp(std::string_view domain_id,
                                                     std::string_view ip) const {
  auto parsed = net::IpAddress::Parse(ip);
  if (!parsed) return Fail("invalid_value", "ip " + Quote(ip) + " is not an IP address.");
  std::shared_lock lock(state_->mutex);
  auto endpoint = state_->index->FindEndpointByIp(domain_id, *parsed);
  if (!endpoint) {
    return Fail("not_found",
                "No endpoint holds " + parsed->ToString() + " in domain " + Quote(domain_id) + ".");
  }
  return std::move(*endpoint);
}

bool Registry::Allowed(std::string_view source_network_id, std::string_view destination_network_id,
                       uint32_t protocol, uint32_t port) const {
  std::shared_lock lock(state_->mutex);
  return model::Allowed(*state_->index, source_network_id, destination_network_id,
                        static_cast<uint8_t>(protocol), static_cast<uint16_t>(port));
}

bool Registry::MayExchange(std::string_view network_a, std::string_view network_b) const {
  std::shared_lock lock(state_->mutex);
  return model::MayExchange(*state_->index, network_a, network_b);
}

ObjectCounts Registry::Counts() const {
  std::shared_lock lock(state_->mutex);
  return state_->index->Counts();
}

int64_t Registry::Revision() const { return state_->revision.load(); }

bool Registry::WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->published_mutex);
  return state_->published.wait_for(lock, timeout, [&] { return Revision() >= revision; });
}

void Registry::Publish(const std::function<void()>& apply, int64_t revision) {
  {
    std::unique_lock lock(state_->mutex);
    apply();
    state_->revision = revision;
  }
  // Taking published_mutex orders the update before a waiter's check, so no wake-up is lost.
  { std::lock_guard published(state_->published_mutex); }
  state_->published.notify_all();
}

int HttpStatusOf(std::string_view code) {
  for (std::string_view c : {"invalid_json", "unknown_field", "duplicate_field", "invalid_value"}) {
    if (code == c) return 400;
  }
  if (code == "not_found") return 404;
  for (std::string_view c : {"conflict", "not_empty", "in_use", "subnet_full", "vni_exhausted"}) {
    if (code == c) return 409;
  }
  if (code == "too_large") return 413;
  if (code == "store_unavailable") return 503;
  return 500;
}

template <typename T>
void Registry::ForEach(const std::function<void(const T&)>& visit) const {
  std::shared_lock lock(state_->mutex);
  for (const auto& [id, entry] : state_->index->table<T>()) visit(ObjectOf(entry));
}

// T is a type name; it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define DOVE_INSTANTIATE_REGISTRY(T)                                                        \
  template ModelResult<T> Registry::Create<T>(T object);                                    \
  template ModelResult<T> Registry::Replace<T>(std::string_view ref, T object);             \
  template ModelResult<T> Registry::Get<T>(std::string_view ref) const;                     \
  template ModelResult<std::vector<T>> Registry::List<T>(const ListFilter& filter) const;   \
  template ModelResult<DeleteResult> Registry::Delete<T>(std::string_view ref, bool force); \
  template void Registry::ForEach<T>(const std::function<void(const T&)>& visit) const;
DOVE_INSTANTIATE_REGISTRY(v1::Domain)
DOVE_INSTANTIATE_REGISTRY(v1::Network)
DOVE_INSTANTIATE_REGISTRY(v1::Subnet)
DOVE_INSTANTIATE_REGISTRY(v1::Endpoint)
DOVE_INSTANTIATE_REGISTRY(v1::Switch)
DOVE_INSTANTIATE_REGISTRY(v1::Policy)
#undef DOVE_INSTANTIATE_REGISTRY
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace dove::controller
