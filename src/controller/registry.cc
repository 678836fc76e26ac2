#include "controller/registry.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "base/log.h"
#include "controller/index_snapshot.h"
#include "controller/random_ids.h"
#include "controller/registry_index.h"
#include "controller/store_keys.h"
#include "model/ipam.h"
#include "model/labels.h"
#include "model/policy.h"
#include "model/validation.h"
#include "net/ip_prefix.h"
#include "store/watch.h"

namespace dove::controller {

using model::Fail;

struct Registry::State {
  store::Store* store = nullptr;
  // Replaced whole by a rebuild (after a compacted watch): use it only under `mutex`.
  std::unique_ptr<RegistryIndex> index;
  // Written under the exclusive lock, read without any: Revision() never waits for a write.
  std::atomic<int64_t> revision{0};
  // Set (under the exclusive lock) while the watch thread reloads a snapshot: a mutation then
  // leaves its index update to the watch, so the snapshot cannot miss it.
  bool rebuilding = false;
  // Guarded by prepare_mutex.
  RandomIds ids;
  std::mt19937_64 random{std::random_device{}()};
  // Held while a mutation reads the index and builds its txn (ids, random), never across the
  // store write: mutations commit concurrently, each txn guarded by compares on what it read,
  // so a concurrent write of this registry that changed it fails the compare as another
  // replica's would (and the loser retries). Never taken by a read or by the watch thread.
  std::mutex prepare_mutex;
  // Serialises the mutations that ALLOCATE (a network created with VNI 0, an endpoint created
  // with no ips) across their store write: each sees the previous one's choice in the index
  // and takes the next lowest value, as one controller always did, instead of all picking the
  // same lowest value and all but one retrying.
  std::mutex allocate_mutex;
  // Guards `index`: reads and a mutation's checks take it shared; the watch thread and a
  // mutation applying its acknowledged txn take it exclusively (no I/O under it), so reads,
  // /healthz and /metrics never wait for an fsync.
  mutable std::shared_mutex mutex;
  // Signalled after every index update (WaitForRevision).
  std::mutex published_mutex;
  std::condition_variable published;

  // The watch thread (WatchLoop), woken to stop by `stop_fd` (an eventfd).
  std::thread watcher;
  std::atomic<bool> stopping{false};
  int stop_fd = -1;

  std::atomic<uint64_t> watch_errors{0};
  std::atomic<uint64_t> rebuilds{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> undecodable{0};

  // The index cache (IndexCache): written by the watch thread and WriteIndexCache, one at a
  // time (cache_mutex guards the fields below it).
  IndexCache cache;
  bool loaded_from_cache = false;
  std::mutex cache_mutex;
  int64_t cache_revision = 0;  // of the last file written or read (0: none)
  std::chrono::steady_clock::time_point cache_checked_at{};
  std::atomic<uint64_t> cache_writes{0};
  std::atomic<uint64_t> cache_write_failures{0};
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

// What Prepare allocates from. A first attempt takes the lowest free VNI and addresses (as a
// single controller always did); a retry after losing a race to another replica (`spread`)
// starts at a random place instead, so the replicas racing for the lowest value do not all
// collide again on the next one.
struct Allocator {
  RandomIds& ids;
  std::mt19937_64& random;
  bool spread = false;
};

// Whether creating `object` makes the controller choose a value from a range (the lowest
// free one on a first attempt): a network's VNI, an endpoint's addresses. MACs and ids are
// random and need no order.
template <typename T>
bool Allocates(const T& object) {
  if constexpr (std::is_same_v<T, v1::Network>) return object.vni() == 0;
  if constexpr (std::is_same_v<T, v1::Endpoint>) return object.ips().empty();
  return false;
}

// A free address of `pool` at a random place (a few probes), or nullopt.
std::optional<net::IpAddress> SpreadAddress(const model::AddressPool& pool,
                                            std::mt19937_64& random) {
  if (pool.FreeCount() == 0) return std::nullopt;
  const uint64_t bits = pool.prefix().family() == net::IpFamily::kV4
                            ? 32 - pool.prefix().length()
                            : std::min(64, 128 - pool.prefix().length());
  const uint64_t window = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  for (int probe = 0; probe < 16; ++probe) {
    const auto ip = pool.AddressAt(window == ~uint64_t{0} ? random() : random() % (window + 1));
    if (pool.IsFree(ip)) return ip;
  }
  return std::nullopt;
}
// `current` is the stored object on Replace, nullptr on Create.

ModelResult<void> Immutable(std::string_view kind, std::string_view id, std::string_view field,
                            const std::string& stored, const std::string& given) {
  if (stored == given) return {};
  return Fail("invalid_value", std::string(field) + " of " + std::string(kind) + " " + Quote(id) +
                                   " cannot change (it is " + Quote(stored) + ", the body says " +
                                   Quote(given) + ").");
}

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& /*alloc*/, v1::Domain* domain,
                          const v1::Domain* /*current*/) {
  if (auto ok = model::ValidateDomain(*domain); !ok) return ok;
  if (const auto* holder = index.FindDomainByName(domain->name());
      holder != nullptr && holder->id() != domain->id()) {
    return Fail("conflict", "name " + Quote(domain->name()) + " is already used by domain " +
                                Quote(holder->id()) + ".");
  }
  return {};
}

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& alloc, v1::Network* network,
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
    if (alloc.spread) {
      const auto start = static_cast<uint32_t>(
          model::kMinVni + alloc.random() % (model::kMaxVni - model::kMinVni + 1));
      if (auto spread = model::AllocateVni(index, start)) vni = spread;
    }
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

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& /*alloc*/, v1::Subnet* subnet,
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

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& alloc, v1::Endpoint* endpoint,
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
    net::MacAddress mac = alloc.ids.NewMac();
    while (index.FindEndpointByMac(endpoint->network_id(), mac)) mac = alloc.ids.NewMac();
    endpoint->set_mac(mac.ToString());
  }
  if (alloc.spread && endpoint->ips().empty()) {
    for (const auto* subnet : index.SubnetsOfNetwork(endpoint->network_id())) {
      const auto* pool = index.FindAddressPool(subnet->id());
      if (pool == nullptr) continue;
      if (auto ip = SpreadAddress(*pool, alloc.random)) {
        endpoint->add_ips(ip->ToString());
      } else {
        endpoint->clear_ips();  // one subnet without a spread address: the lowest of each
        break;
      }
    }
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

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& /*alloc*/, v1::Switch* sw,
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

ModelResult<void> Prepare(const RegistryIndex& index, Allocator& /*alloc*/, v1::Policy* policy,
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
  // Its addresses were checked against these: a subnet deleted or replaced meanwhile (by
  // another replica) fails the write.
  for (const auto* subnet : index.SubnetsOfNetwork(endpoint.network_id())) {
    CompareUnchanged<v1::Subnet>(index, subnet->id(), txn);
  }
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

// The code Commit answers when a compare failed: another writer (replica) changed what the
// mutation read. Internal: Registry::Retry retries it and answers `conflict` in the end.
constexpr std::string_view kLostRace = "lost_race";

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
    if (response.error().code == store::StoreError::kInvalidArgument) {
      // etcd's limits on one transaction (--max-txn-ops, --max-request-bytes): a forced delete
      // of a big domain or network is one transaction with an operation per object and claim.
      return Fail("too_large",
                  "The store refused the change as too big for one transaction (" +
                      response.error().Describe() +
                      "); nothing changed. On etcd, raise --max-txn-ops (128 by default) and "
                      "--max-request-bytes, or delete the dependants in smaller parts first.");
    }
    return Fail("store_unavailable",
                "The store failed (" + response.error().Describe() + "); nothing changed.");
  }
  if (!response->succeeded) {
    return Fail(std::string(kLostRace), "Another writer changed the store under this write.");
  }
  return response->revision;
}

// ---- claims and generations: store bookkeeping, never held in the index ------------------
// The claim keys an object holds (store_keys.h). Endpoints need their network's domain from
// `index`; an endpoint whose network is unknown claims no IPs (validation refuses it anyway).

std::vector<std::string> ClaimsOf(const RegistryIndex& /*index*/, const v1::Domain& domain) {
  return {ClaimKey("domain-name", domain.name())};
}
std::vector<std::string> ClaimsOf(const RegistryIndex& /*index*/, const v1::Network& network) {
  return {ClaimKey("network-name", network.domain_id() + "/" + network.name()),
          ClaimKey("vni", std::to_string(network.vni()))};
}
std::vector<std::string> ClaimsOf(const RegistryIndex& /*index*/, const v1::Subnet& /*subnet*/) {
  return {};
}
std::vector<std::string> ClaimsOf(const RegistryIndex& index, const v1::Endpoint& endpoint) {
  std::vector<std::string> claims;
  if (!endpoint.mac().empty()) {
    claims.push_back(ClaimKey("mac", endpoint.network_id() + "/" + endpoint.mac()));
  }
  if (!endpoint.name().empty()) {
    claims.push_back(ClaimKey("endpoint-name", endpoint.network_id() + "/" + endpoint.name()));
  }
  if (const auto* network = index.FindNetwork(endpoint.network_id())) {
    for (const auto& ip : endpoint.ips()) {
      claims.push_back(ClaimKey("ip", network->domain_id() + "/" + ip));
    }
  }
  if (!endpoint.switch_name().empty() && !endpoint.port_name().empty()) {
    claims.push_back(ClaimKey("port", endpoint.switch_name() + "/" + endpoint.port_name()));
  }
  return claims;
}
std::vector<std::string> ClaimsOf(const RegistryIndex& /*index*/, const v1::Switch& sw) {
  std::vector<std::string> claims = {ClaimKey("switch-name", sw.name())};
  if (!sw.tunnel_ip().empty()) claims.push_back(ClaimKey("tunnel-ip", sw.tunnel_ip()));
  return claims;
}
std::vector<std::string> ClaimsOf(const RegistryIndex& /*index*/, const v1::Policy& /*policy*/) {
  return {};
}

// The generation keys of the parents an object is a child of (a write of it puts them).
std::vector<std::string> ParentsOf(const v1::Domain& /*domain*/) { return {}; }
std::vector<std::string> ParentsOf(const v1::Network& network) {
  return {ChildrenKey<v1::Domain>(network.domain_id())};
}
std::vector<std::string> ParentsOf(const v1::Subnet& subnet) {
  return {ChildrenKey<v1::Network>(subnet.network_id())};
}
std::vector<std::string> ParentsOf(const v1::Endpoint& endpoint) {
  return {ChildrenKey<v1::Network>(endpoint.network_id())};
}
std::vector<std::string> ParentsOf(const v1::Switch& /*sw*/) { return {}; }
std::vector<std::string> ParentsOf(const v1::Policy& policy) {
  std::vector<std::string> parents = {ChildrenKey<v1::Domain>(policy.domain_id())};
  if (!policy.source_network_id().empty()) {
    parents.push_back(ChildrenKey<v1::Network>(policy.source_network_id()));
  }
  if (!policy.destination_network_id().empty() &&
      policy.destination_network_id() != policy.source_network_id()) {
    parents.push_back(ChildrenKey<v1::Network>(policy.destination_network_id()));
  }
  return parents;
}

// Claims of a write: `before` (the stored object's claims; empty on create) -> `after`. A claim
// kept must still be the owner's; a new one must be free; one given up is released.
void AddClaims(const std::vector<std::string>& before, const std::vector<std::string>& after,
               const std::string& owner, store::TxnRequest* txn) {
  for (const auto& key : after) {
    if (std::find(before.begin(), before.end(), key) != before.end()) {
      txn->compares.push_back(store::Compare::Value(key, store::Compare::kEqual, owner));
    } else {
      txn->compares.push_back(store::Compare::Version(key, store::Compare::kEqual, 0));
      txn->success.push_back(store::Op::Put(key, owner));
    }
  }
  for (const auto& key : before) {
    if (std::find(after.begin(), after.end(), key) == after.end()) {
      txn->success.push_back(store::Op::Delete(key));
    }
  }
}

// Rules that compare siblings (a subnet's cidr with the other subnets of its network, a policy
// with the other rules of its domain) read them at revision `seen`: a sibling written since
// (by another replica) has bumped the parent's generation past it, and fails this write.
void CompareSiblings(const v1::Domain& /*domain*/, int64_t /*seen*/, store::TxnRequest* /*txn*/) {}
void CompareSiblings(const v1::Network& /*network*/, int64_t /*seen*/, store::TxnRequest* /*txn*/) {
}
void CompareSiblings(const v1::Subnet& subnet, int64_t seen, store::TxnRequest* txn) {
  txn->compares.push_back(store::Compare::ModRevision(ChildrenKey<v1::Network>(subnet.network_id()),
                                                      store::Compare::kLess, seen + 1));
}
void CompareSiblings(const v1::Endpoint& /*endpoint*/, int64_t /*seen*/,
                     store::TxnRequest* /*txn*/) {}
void CompareSiblings(const v1::Switch& /*sw*/, int64_t /*seen*/, store::TxnRequest* /*txn*/) {}
void CompareSiblings(const v1::Policy& policy, int64_t seen, store::TxnRequest* txn) {
  txn->compares.push_back(store::Compare::ModRevision(ChildrenKey<v1::Domain>(policy.domain_id()),
                                                      store::Compare::kLess, seen + 1));
}

// A write of a child: bumps its parents' generations (blind puts: children never conflict
// with each other through them).
void AddGenerations(const std::vector<std::string>& parents, const std::string& child_key,
                    store::TxnRequest* txn) {
  for (const auto& key : parents) txn->success.push_back(store::Op::Put(key, child_key));
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
    const auto* entry = index.Find<T>(id);
    if (entry == nullptr) continue;
    for (auto& claim : ClaimsOf(index, ObjectOf(*entry))) {
      txn->success.push_back(store::Op::Delete(std::move(claim)));
    }
  }
}

// The emptiness checks of a delete read the index at revision `seen`: a child written since
// (by another replica) has bumped its parent's generation past it, and fails the delete. The
// generations of deleted parents go with them.
void AddGenerationChecks(const RegistryIndex& index, const DeletePlan& plan, int64_t seen,
                         store::TxnRequest* txn) {
  std::set<std::string> checked;
  auto check = [&](std::string key, bool remove) {
    if (!checked.insert(key).second) return;
    txn->compares.push_back(store::Compare::ModRevision(key, store::Compare::kLess, seen + 1));
    if (remove) txn->success.push_back(store::Op::Delete(std::move(key)));
  };
  for (const auto& id : plan.domains) check(ChildrenKey<v1::Domain>(id), true);
  for (const auto& id : plan.networks) check(ChildrenKey<v1::Network>(id), true);
  for (const auto& id : plan.subnets) {
    if (const auto* subnet = index.Find<v1::Subnet>(id)) {
      check(ChildrenKey<v1::Network>(subnet->object.network_id()), false);
    }
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
                         std::is_same_v<T, v1::Switch> || std::is_same_v<T, v1::Endpoint>;
  constexpr bool kLabel = std::is_same_v<T, v1::Endpoint>;
  for (const auto& [field, given, applies] :
       {std::tuple{"domain", !filter.domain.empty(), kDomain},
        std::tuple{"network", !filter.network.empty(), kNetwork},
        std::tuple{"switch_name", !filter.switch_name.empty(), kSwitchName},
        std::tuple{"name", !filter.name.empty(), kName},
        std::tuple{"label", !filter.label.empty(), kLabel}}) {
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
auto Select(const RegistryIndex& index, const ListFilter& filter, std::string_view domain_id,
            const std::optional<model::LabelSelector>& labels) {
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
    if (!filter.network.empty() && !filter.name.empty()) {
      if (auto named = index.FindEndpointByName(filter.network, filter.name)) {
        endpoints.push_back(std::move(*named));
      }
    } else if (!filter.network.empty() && !filter.switch_name.empty()) {
      endpoints = index.EndpointsOfNetworkOnSwitch(filter.network, filter.switch_name);
    } else if (!filter.network.empty()) {
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
             (!filter.name.empty() && e.name() != filter.name) ||
             (labels && !model::Matches(*labels, e.labels())) ||
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
  if (IsBookkeepingKey(kv.key)) return {};
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

struct LoadedIndex {
  std::unique_ptr<RegistryIndex> index;
  int64_t revision = 0;
  int64_t cache_revision = 0;  // read from the index cache: the file's revision
};

// Where the objects' keys begin: the bookkeeping prefixes /dove/v1/children/ and
// /dove/v1/claims/ sort before every kind ("claims0": '0' follows '/'; every kind's plural
// starts with a letter after 'c'), and are 3 of every 4 keys. Session keys sort among the
// kinds and are skipped by Decode.
constexpr std::string_view kAfterClaims = "/dove/v1/claims0";
static_assert(kChildrenPrefix < kClaimsPrefix && kClaimsPrefix < kAfterClaims);

// A backfill in progress: written before the first missing claim and deleted after the last,
// so an Open after a crash in between backfills again. Sorts before every claim ('!').
constexpr std::string_view kBackfillingKey = "/dove/v1/claims/!backfilling";

std::string Milliseconds(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// The objects into a new index, parents first (an endpoint is indexed under its network's
// domain); `loaded` is emptied.
std::unique_ptr<RegistryIndex> BuildIndex(LoadedObjects& loaded) {
  auto index = std::make_unique<RegistryIndex>();
  PutAll(index.get(), loaded.domains);
  PutAll(index.get(), loaded.networks);
  PutAll(index.get(), loaded.subnets);
  PutAll(index.get(), loaded.endpoints);
  PutAll(index.get(), loaded.switches);
  PutAll(index.get(), loaded.policies);
  return index;
}

// A full snapshot of the store's objects as an index (the bookkeeping keys not read).
ModelResult<LoadedIndex> LoadIndex(store::Store* store) {
  using LoadClock = std::chrono::steady_clock;
  const auto start = LoadClock::now();
  auto range = store->Range(kKeyPrefix, 0, kAfterClaims);
  if (!range) {
    return Fail("store_unavailable",
                "Reading the store failed (" + range.error().Describe() + ").");
  }
  const auto read = LoadClock::now();
  const size_t keys = range->kvs.size();
  LoadedObjects loaded;
  for (auto& kv : range->kvs) {
    if (auto ok = Decode(kv, &loaded); !ok) return Unexpected(ok.error());
    std::string().swap(kv.value);  // decoded: the encoded copy goes now, not at the end
  }
  const int64_t revision = range->revision;
  std::vector<store::KeyValue>().swap(range->kvs);
  auto index = BuildIndex(loaded);
  DOVE_LOG(kInfo) << "registry: "
                  << "loaded " + std::to_string(keys) + " keys at revision " +
                         std::to_string(revision) + ": read " + Milliseconds(read - start) +
                         " ms, decoded and indexed " + Milliseconds(LoadClock::now() - read) +
                         " ms";
  return LoadedIndex{.index = std::move(index), .revision = revision};
}

// The object changes of one revision, decoded.
struct RevisionChanges {
  LoadedObjects puts;
  std::vector<std::string> deleted[6];  // by kind, in Kind order below
};
constexpr std::string_view kKindOrder[6] = {"domains",   "networks", "subnets",
                                            "endpoints", "switches", "policies"};

template <typename T>
void EraseIds(RegistryIndex* index, const std::vector<std::string>& ids) {
  for (const auto& id : ids) index->Erase<T>(id);
}

void ApplyChanges(RegistryIndex* index, RevisionChanges& changes) {
  // Deletes children first, then puts parents first (an endpoint's index keys need its
  // network's domain). One txn never both puts and deletes the same object.
  EraseIds<v1::Endpoint>(index, changes.deleted[3]);
  EraseIds<v1::Policy>(index, changes.deleted[5]);
  EraseIds<v1::Subnet>(index, changes.deleted[2]);
  EraseIds<v1::Network>(index, changes.deleted[1]);
  EraseIds<v1::Domain>(index, changes.deleted[0]);
  EraseIds<v1::Switch>(index, changes.deleted[4]);
  PutAll(index, changes.puts.domains);
  PutAll(index, changes.puts.networks);
  PutAll(index, changes.puts.subnets);
  PutAll(index, changes.puts.endpoints);
  PutAll(index, changes.puts.switches);
  PutAll(index, changes.puts.policies);
}

// Decodes the events [first, last) of one revision into `changes`; the ones the index cannot
// hold are logged and counted in `undecodable`.
void DecodeRevision(const store::Event* first, const store::Event* last, RevisionChanges* changes,
                    std::atomic<uint64_t>* undecodable) {
  for (const auto* event = first; event != last; ++event) {
    if (IsBookkeepingKey(event->kv.key)) continue;
    if (event->type == store::Event::kPut) {
      if (auto ok = Decode(event->kv, &changes->puts); !ok) {
        ++*undecodable;
        DOVE_LOG(kWarning) << "registry: "
                           << "skipping a change the index cannot hold: " + ok.error().message;
      }
      continue;
    }
    auto key = ParseKey(event->kv.key);
    const auto* kind =
        key ? std::find(std::begin(kKindOrder), std::end(kKindOrder), key->kind) : nullptr;
    if (kind == nullptr || kind == std::end(kKindOrder)) {
      ++*undecodable;
      DOVE_LOG(kWarning) << "registry: "
                         << "skipping the delete of " + Quote(event->kv.key) +
                                ", not an object's key";
      continue;
    }
    changes->deleted[kind - std::begin(kKindOrder)].emplace_back(key->id);
  }
}

template <typename T>
Expected<void, std::string> DecodeRecord(const SnapshotRecord& record, Loaded<T>* out) {
  T object;
  if (!object.ParseFromArray(record.object.data(), static_cast<int>(record.object.size()))) {
    std::string why = "does not decode as a " + std::string(Kind<T>::kSingular);
    return Unexpected(std::move(why));
  }
  out->emplace_back(std::move(object), record.mod_revision);
  return {};
}

Expected<void, std::string> DecodeRecord(const SnapshotRecord& record, LoadedObjects* out) {
  switch (record.kind) {
    case SnapshotKind::kDomain:
      return DecodeRecord(record, &out->domains);
    case SnapshotKind::kNetwork:
      return DecodeRecord(record, &out->networks);
    case SnapshotKind::kSubnet:
      return DecodeRecord(record, &out->subnets);
    case SnapshotKind::kEndpoint:
      return DecodeRecord(record, &out->endpoints);
    case SnapshotKind::kSwitch:
      return DecodeRecord(record, &out->switches);
    case SnapshotKind::kPolicy:
      return DecodeRecord(record, &out->policies);
  }
  return Unexpected(std::string("unknown kind"));
}

// The index from the cache file and the store's changes after its revision; nullopt (the
// reason logged) when the file cannot be used and the store must be read whole.
std::optional<LoadedIndex> LoadFromCache(store::Store* store, const IndexCache& cache,
                                         std::atomic<uint64_t>* undecodable) {
  using LoadClock = std::chrono::steady_clock;
  const auto start = LoadClock::now();
  const std::string file = cache.file.string();
  LoadedObjects loaded;
  size_t records = 0;
  auto read = ReadIndexSnapshot(cache.file, cache.identity, [&](const SnapshotRecord& record) {
    ++records;
    return DecodeRecord(record, &loaded);
  });
  if (!read) {
    if (read.error().code == SnapshotError::kMissing) {
      DOVE_LOG(kInfo) << "registry: "
                      << "no index cache at " + file + " yet: reading the store";
    } else {
      DOVE_LOG(kWarning) << "registry: "
                         << "index cache " + file + " set aside (" + read.error().message +
                                "): reading the store";
    }
    return std::nullopt;
  }
  const int64_t taken_at = *read;
  const auto decoded = LoadClock::now();
  auto current = store->CurrentRevision();
  if (!current) {
    DOVE_LOG(kWarning) << "registry: "
                       << "index cache " + file + " not used: the store's revision is unknown (" +
                              current.error().Describe() + "): reading the store";
    return std::nullopt;
  }
  if (taken_at > *current) {
    DOVE_LOG(kWarning) << "registry: "
                       << "index cache " + file + " set aside: taken at revision " +
                              std::to_string(taken_at) + ", after the store's " +
                              std::to_string(*current) +
                              " (the store was replaced or restored): reading the store";
    return std::nullopt;
  }
  // The changes since are read from the store (on etcd: a watch from taken_at + 1, etcd
  // streaming them) while the objects read are indexed.
  LoadClock::duration fetch_took{};
  auto fetching = std::async(std::launch::async, [&] {
    auto fetched_changes = store->Changes(kKeyPrefix, taken_at + 1);
    fetch_took = LoadClock::now() - decoded;
    return fetched_changes;
  });
  LoadedIndex result{.index = BuildIndex(loaded), .revision = taken_at, .cache_revision = taken_at};
  const auto indexed = LoadClock::now();
  auto changes = fetching.get();
  if (!changes) {
    DOVE_LOG(kWarning) << "registry: "
                       << "index cache " + file + " at revision " + std::to_string(taken_at) +
                              " not used (" + changes.error().Describe() + "): reading the store";
    return std::nullopt;
  }
  const auto fetched = LoadClock::now();
  const auto& events = *changes;
  const auto objects_changed = std::count_if(events.begin(), events.end(), [](const auto& event) {
    return !IsBookkeepingKey(event.kv.key);
  });
  for (size_t i = 0; i < events.size();) {
    size_t j = i;
    while (j < events.size() && events[j].kv.mod_revision == events[i].kv.mod_revision) ++j;
    RevisionChanges decoded_changes;
    DecodeRevision(events.data() + i, events.data() + j, &decoded_changes, undecodable);
    ApplyChanges(result.index.get(), decoded_changes);
    result.revision = std::max(result.revision, events[i].kv.mod_revision);
    i = j;
  }
  DOVE_LOG(kInfo) << "registry: "
                  << "loaded " + std::to_string(records) + " objects from the index cache " + file +
                         " at revision " + std::to_string(taken_at) + " (read and decoded in " +
                         Milliseconds(decoded - start) + " ms, indexed in " +
                         Milliseconds(indexed - decoded) + " ms), then " +
                         std::to_string(objects_changed) + " object changes since (" +
                         std::to_string(events.size()) + " events) from the store, read in " +
                         Milliseconds(fetch_took) + " ms beside the indexing and applied in " +
                         Milliseconds(LoadClock::now() - fetched) + " ms (to revision " +
                         std::to_string(result.revision) + ")";
  return result;
}

template <typename T>
void AddMissingClaims(const RegistryIndex& index, const std::vector<std::string>& present,
                      std::vector<std::pair<std::string, std::string>>* missing) {
  for (const auto& [id, entry] : index.table<T>()) {
    for (auto& claim : ClaimsOf(index, ObjectOf(entry))) {
      if (!std::binary_search(present.begin(), present.end(), claim)) {
        missing->emplace_back(std::move(claim), id);
      }
    }
  }
}

// A store written by a version without claims (it has none at all), or a backfill that did not
// finish (its marker is the first claim key): writes the claims of every object missing one,
// in batches (each claim only if absent: a replica backfilling at the same time is no harm).
// Any other store has every claim (they are written with their objects): one key read.
ModelResult<void> BackfillClaims(store::Store* store, const RegistryIndex& index) {
  auto lowest = store->Range(kClaimsPrefix, 1);
  if (!lowest) {
    return Fail("store_unavailable",
                "Reading the store failed (" + lowest.error().Describe() + ").");
  }
  const bool interrupted = !lowest->kvs.empty() && lowest->kvs.front().key == kBackfillingKey;
  if (!lowest->kvs.empty() && !interrupted) return {};
  std::vector<std::string> present;
  if (interrupted) {
    auto claims = store->Range(kClaimsPrefix);
    if (!claims) {
      return Fail("store_unavailable",
                  "Reading the store failed (" + claims.error().Describe() + ").");
    }
    for (auto& kv : claims->kvs) present.push_back(std::move(kv.key));
  }
  std::sort(present.begin(), present.end());
  std::vector<std::pair<std::string, std::string>> missing;
  AddMissingClaims<v1::Domain>(index, present, &missing);
  AddMissingClaims<v1::Network>(index, present, &missing);
  AddMissingClaims<v1::Endpoint>(index, present, &missing);
  AddMissingClaims<v1::Switch>(index, present, &missing);
  if (missing.empty() && !interrupted) return {};
  DOVE_LOG(kInfo)
      << "registry: "
      << ("the store has " + std::to_string(missing.size()) +
          " claim keys missing (written by an older version, without uniqueness claims" +
          (interrupted ? ", or a backfill interrupted" : "") + "); backfilling them");
  if (!missing.empty()) {
    if (auto marked = store->Put(std::string(kBackfillingKey), "1"); !marked) {
      return Fail("store_unavailable",
                  "Backfilling claims failed (" + marked.error().Describe() + ").");
    }
  }
  constexpr size_t kBatch = 50;  // 100 ops with the compares: under etcd's default 128
  for (size_t first = 0; first < missing.size(); first += kBatch) {
    const size_t last = std::min(missing.size(), first + kBatch);
    store::TxnRequest txn;
    for (size_t i = first; i < last; ++i) {
      txn.compares.push_back(store::Compare::Version(missing[i].first, store::Compare::kEqual, 0));
      txn.success.push_back(store::Op::Put(missing[i].first, missing[i].second));
    }
    auto batch = store->Txn(txn);
    if (batch && batch->succeeded) continue;
    // Someone wrote one of them meanwhile: one at a time, each if still absent.
    for (size_t i = first; batch && i < last; ++i) {
      auto one = store->PutIfAbsent(missing[i].first, missing[i].second);
      if (!one) batch = Unexpected(one.error());
    }
    if (!batch) {
      return Fail("store_unavailable",
                  "Backfilling claims failed (" + batch.error().Describe() + ").");
    }
  }
  if (auto unmarked = store->Delete(std::string(kBackfillingKey)); !unmarked) {
    return Fail("store_unavailable",
                "Backfilling claims failed (" + unmarked.error().Describe() + ").");
  }
  DOVE_LOG(kInfo) << "registry: "
                  << "backfilled " + std::to_string(missing.size()) + " claim keys";
  return {};
}

// Backoff of the watch thread after a store error.
constexpr std::chrono::milliseconds kMinBackoff{10};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// How long a mutation whose txn committed behind other writers' changes waits for the watch
// to bring the index to it (read-your-writes), and a retry for the index to catch up.
constexpr std::chrono::seconds kCatchUpTimeout{10};
constexpr std::chrono::milliseconds kRetryCatchUpTimeout{200};
// Attempts of a mutation that lost a race (a compare failed) before it answers `conflict`.
constexpr int kMaxAttempts = 8;

}  // namespace

// ---- Registry -----------------------------------------------------------------------------

ModelResult<std::unique_ptr<Registry>> Registry::Open(store::Store* store, IndexCache cache) {
  std::atomic<uint64_t> undecodable{0};
  std::optional<LoadedIndex> from_cache;
  if (!cache.file.empty()) from_cache = LoadFromCache(store, cache, &undecodable);
  ModelResult<LoadedIndex> loaded =
      from_cache ? ModelResult<LoadedIndex>(std::move(*from_cache)) : LoadIndex(store);
  if (!loaded) return Unexpected(loaded.error());
  if (auto ok = BackfillClaims(store, *loaded->index); !ok) {
    return Unexpected(ok.error());
  }
  std::unique_ptr<Registry> registry(new Registry(store, std::move(loaded->index), loaded->revision,
                                                  std::move(cache), loaded->cache_revision));
  registry->state_->undecodable += undecodable.load();
  return registry;
}

Registry::Registry(store::Store* store, std::unique_ptr<RegistryIndex> index, int64_t revision,
                   IndexCache cache, int64_t cache_revision)
    : state_(std::make_unique<State>()) {
  state_->store = store;
  state_->index = std::move(index);
  state_->revision = revision;
  state_->cache = std::move(cache);
  state_->loaded_from_cache = cache_revision != 0;
  state_->cache_revision = cache_revision;
  state_->cache_checked_at = std::chrono::steady_clock::now();
  state_->stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  state_->watcher = std::thread([this, revision] { WatchLoop(revision + 1); });
}

Registry::~Registry() {
  state_->stopping = true;
  const uint64_t one = 1;
  if (state_->stop_fd >= 0 && ::write(state_->stop_fd, &one, sizeof one) < 0) {
    DOVE_LOG(kWarning) << "registry: "
                       << "cannot wake the watch thread to stop; it stops within a second";
  }
  state_->watcher.join();
  if (state_->stop_fd >= 0) ::close(state_->stop_fd);
}

template <typename R>
ModelResult<R> Registry::Retry(const std::function<ModelResult<R>(bool retrying)>& attempt) {
  for (int attempts = 1;; ++attempts) {
    auto result = attempt(attempts > 1);
    if (result || result.error().code != kLostRace) return result;
    ++state_->retries;
    if (attempts == kMaxAttempts) {
      return Fail("conflict",
                  "Other controller replicas kept changing what this write depends "
                  "on (" +
                      std::to_string(kMaxAttempts) + " attempts); nothing changed. Retry.");
    }
    // The index should show the winner's change before the next attempt checks again. The
    // store's revision may also count writes the index never sees (etcd: other key prefixes,
    // a replica's start), so the wait is short: an attempt on a stale index only loses again.
    if (auto current = state_->store->CurrentRevision()) {
      WaitForRevision(*current, kRetryCatchUpTimeout);
    }
  }
}

template <typename T>
ModelResult<T> Registry::Create(T body) {
  std::unique_lock allocating(state_->allocate_mutex, std::defer_lock);
  if (Allocates(body)) allocating.lock();
  return Retry<T>([&](bool retrying) -> ModelResult<T> {
    Allocator alloc{.ids = state_->ids, .random = state_->random, .spread = retrying};
    T object = body;
    store::TxnRequest txn;
    {
      std::lock_guard preparing(state_->prepare_mutex);
      std::shared_lock reading(state_->mutex);
      const RegistryIndex& index = *state_->index;
      if (object.id().empty()) {
        std::string id = state_->ids.NewId();
        while (index.Find<T>(id) != nullptr) id = state_->ids.NewId();
        object.set_id(id);
      } else {
        if (auto ok = model::ValidateName("id", object.id()); !ok) return Unexpected(ok.error());
        if (index.Find<T>(object.id()) != nullptr) {
          return Fail("conflict", "id " + Quote(object.id()) + " is already used by " +
                                      std::string(Kind<T>::kSingular) + " " + Quote(object.id()) +
                                      ".");
        }
      }
      Canonicalise(&object);
      if (auto ok = Prepare(index, alloc, &object, nullptr); !ok) {
        return Unexpected(ok.error());
      }
      const std::string key = KeyOf<T>(object.id());
      txn.compares.push_back(store::Compare::Version(key, store::Compare::kEqual, 0));
      CompareReferences(index, object, &txn);
      txn.success.push_back(store::Op::Put(key, object.SerializeAsString()));
      AddClaims({}, ClaimsOf(index, object), object.id(), &txn);
      AddGenerations(ParentsOf(object), key, &txn);
      CompareSiblings(object, state_->revision.load(), &txn);
    }
    auto revision = Commit(state_->store, txn);
    if (!revision) return Unexpected(revision.error());
    Publish([&](RegistryIndex& index) { index.Put(object, *revision); }, *revision);
    return object;
  });
}

template <typename T>
ModelResult<T> Registry::Replace(std::string_view ref, T body) {
  return ReplaceIf(ref, std::move(body), WriteGuard{});
}

namespace {

// ReplaceIf's checks of `object` against `index` (at revision `seen`), and its writes and
// compares added to `txn`; the object as it will be stored.
template <typename T>
ModelResult<T> PrepareReplace(const RegistryIndex& index, int64_t seen, Allocator& alloc,
                              std::string_view ref, T object, const WriteGuard& guard,
                              store::TxnRequest* txn) {
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
  if (auto ok = Prepare(index, alloc, &object, &current); !ok) {
    return Unexpected(ok.error());
  }
  const std::string key = KeyOf<T>(object.id());
  txn->compares.push_back(
      store::Compare::ModRevision(key, store::Compare::kEqual, entry->mod_revision));
  CompareReferences(index, object, txn);
  txn->success.push_back(store::Op::Put(key, object.SerializeAsString()));
  AddClaims(ClaimsOf(index, current), ClaimsOf(index, object), object.id(), txn);
  AddGenerations(ParentsOf(object), key, txn);
  CompareSiblings(object, seen, txn);
  txn->compares.insert(txn->compares.end(), guard.compares.begin(), guard.compares.end());
  txn->success.insert(txn->success.end(), guard.ops.begin(), guard.ops.end());
  return object;
}

}  // namespace

template <typename T>
ModelResult<T> Registry::ReplaceIf(std::string_view ref, T body, const WriteGuard& guard) {
  // A replace allocates nothing: a network's VNI 0 and an endpoint's empty ips keep the
  // current ones.
  return Retry<T>([&](bool retrying) -> ModelResult<T> {
    Allocator alloc{.ids = state_->ids, .random = state_->random, .spread = retrying};
    store::TxnRequest txn;
    ModelResult<T> prepared = Fail("internal", "not prepared");
    {
      std::lock_guard preparing(state_->prepare_mutex);
      std::shared_lock reading(state_->mutex);
      prepared =
          PrepareReplace(*state_->index, state_->revision.load(), alloc, ref, body, guard, &txn);
    }
    if (!prepared) return prepared;
    T& object = *prepared;
    auto revision = Commit(state_->store, txn);
    if (!revision && revision.error().code == kLostRace && !guard.compares.empty()) {
      // Which compare failed: the guard's alone, asked of the store (a txn without writes).
      auto held = state_->store->Txn({.compares = guard.compares, .success = {}, .failure = {}});
      if (held && !held->succeeded) {
        return Fail("guard_failed",
                    "The condition of this write no longer holds; nothing changed.");
      }
    }
    if (!revision) return Unexpected(revision.error());
    Publish([&](RegistryIndex& index) { index.Put(object, *revision); }, *revision);
    return object;
  });
}

template <typename T>
ModelResult<T> Registry::Get(std::string_view ref) const {
  std::shared_lock lock(state_->mutex);
  const auto* entry = Resolve<T>(*state_->index, ref);
  if (entry == nullptr) return NotFound<T>(ref);
  return ObjectOf(*entry);
}

template <typename T>
int64_t Registry::ModRevision(std::string_view ref) const {
  std::shared_lock lock(state_->mutex);
  const auto* entry = Resolve<T>(*state_->index, ref);
  return entry == nullptr ? 0 : entry->mod_revision;
}

template <typename T>
ModelResult<std::vector<T>> Registry::List(const ListFilter& filter) const {
  if (auto ok = CheckFilterApplies<T>(filter); !ok) return Unexpected(ok.error());
  std::optional<model::LabelSelector> labels;
  if (!filter.label.empty()) {
    auto parsed = model::ParseLabelSelector(filter.label);
    if (!parsed) return Unexpected(parsed.error());
    labels = std::move(*parsed);
  }
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
  auto selected = Select<T>(index, filter, domain_id, labels);
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
  return Retry<DeleteResult>([&](bool /*retrying*/) -> ModelResult<DeleteResult> {
    DeletePlan plan;
    store::TxnRequest txn;
    {
      std::lock_guard preparing(state_->prepare_mutex);
      std::shared_lock reading(state_->mutex);
      const RegistryIndex& index = *state_->index;
      const auto* entry = Resolve<T>(index, ref);
      if (entry == nullptr) return NotFound<T>(ref);
      if (auto ok = Plan(index, ObjectOf(*entry), force, &plan); !ok) {
        return Unexpected(ok.error());
      }
      AddDeletes<v1::Domain>(index, plan.domains, &txn);
      AddDeletes<v1::Network>(index, plan.networks, &txn);
      AddDeletes<v1::Subnet>(index, plan.subnets, &txn);
      AddDeletes<v1::Endpoint>(index, plan.endpoints, &txn);
      AddDeletes<v1::Switch>(index, plan.switches, &txn);
      AddDeletes<v1::Policy>(index, plan.policies, &txn);
      AddGenerationChecks(index, plan, state_->revision.load(), &txn);
    }
    auto revision = Commit(state_->store, txn);
    if (!revision) return Unexpected(revision.error());
    Publish(
        [&](RegistryIndex& index) {
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
  });
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

RegistryStats Registry::Stats() const {
  return RegistryStats{.watch_errors = state_->watch_errors.load(),
                       .rebuilds = state_->rebuilds.load(),
                       .retries = state_->retries.load(),
                       .undecodable = state_->undecodable.load(),
                       .loaded_from_cache = state_->loaded_from_cache,
                       .cache_writes = state_->cache_writes.load(),
                       .cache_write_failures = state_->cache_write_failures.load()};
}

namespace {

// In id order, as a full read of the store gives them (the store's key order), so the
// children lists of an index loaded from the file are in the order a full read makes.
template <typename T>
void AddRecords(const RegistryIndex& index, SnapshotKind kind, IndexSnapshotWriter& writer) {
  std::vector<std::pair<std::string_view, const IndexEntry<T>*>> entries;
  entries.reserve(index.table<T>().size());
  for (const auto& [id, entry] : index.table<T>()) entries.emplace_back(id, &entry);
  std::sort(entries.begin(), entries.end());
  std::string encoded;
  for (const auto& [id, entry] : entries) {
    if constexpr (std::is_same_v<T, v1::Endpoint>) {
      writer.Add(kind, entry->mod_revision, entry->encoded);  // held encoded already
    } else {
      entry->object.SerializeToString(&encoded);
      writer.Add(kind, entry->mod_revision, encoded);
    }
  }
}

}  // namespace

Expected<void, std::string> Registry::WriteIndexCache() {
  if (state_->cache.file.empty()) return {};
  std::lock_guard one_at_a_time(state_->cache_mutex);
  using WriteClock = std::chrono::steady_clock;
  const auto start = WriteClock::now();
  std::unique_ptr<IndexSnapshotWriter> writer;
  int64_t revision = 0;
  WriteClock::time_point encoded_at;
  {
    // The index as of one revision: updates wait (reads do not) while it is written out.
    std::shared_lock lock(state_->mutex);
    revision = state_->revision.load();
    auto created =
        IndexSnapshotWriter::Create(state_->cache.file, state_->cache.identity, revision);
    if (!created) {
      ++state_->cache_write_failures;
      return Unexpected(created.error());
    }
    writer = std::move(*created);
    const RegistryIndex& index = *state_->index;
    AddRecords<v1::Domain>(index, SnapshotKind::kDomain, *writer);
    AddRecords<v1::Network>(index, SnapshotKind::kNetwork, *writer);
    AddRecords<v1::Subnet>(index, SnapshotKind::kSubnet, *writer);
    AddRecords<v1::Endpoint>(index, SnapshotKind::kEndpoint, *writer);
    AddRecords<v1::Switch>(index, SnapshotKind::kSwitch, *writer);
    AddRecords<v1::Policy>(index, SnapshotKind::kPolicy, *writer);
    encoded_at = WriteClock::now();
  }
  if (auto committed = writer->Commit(); !committed) {
    ++state_->cache_write_failures;
    return Unexpected(committed.error());
  }
  state_->cache_revision = revision;
  ++state_->cache_writes;
  DOVE_LOG(kInfo) << "registry: "
                  << "index cache written at revision " + std::to_string(revision) + ": " +
                         std::to_string(writer->bytes()) + " bytes, " +
                         Milliseconds(encoded_at - start) + " ms under the index's read lock, " +
                         Milliseconds(WriteClock::now() - encoded_at) + " ms to make it durable";
  return {};
}

void Registry::MaybeWriteIndexCache() {
  if (state_->cache.file.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(state_->cache_mutex);
    if (now - state_->cache_checked_at < state_->cache.interval) return;
    state_->cache_checked_at = now;
    if (state_->cache_revision == state_->revision.load()) return;  // unchanged
  }
  if (auto written = WriteIndexCache(); !written) {
    DOVE_LOG(kWarning) << "registry: "
                       << "index cache not written (the previous file stays): " + written.error();
  }
}

void Registry::Notify() {
  // Taking published_mutex orders the update before a waiter's check, so no wake-up is lost.
  { std::lock_guard published(state_->published_mutex); }
  state_->published.notify_all();
}

void Registry::Publish(const std::function<void(RegistryIndex&)>& apply, int64_t revision) {
  bool applied = false;
  {
    std::unique_lock lock(state_->mutex);
    // No gap: the index is at the revision just before this txn's, so applying it here keeps
    // the order; the watch skips it later. Otherwise the watch applies it, in order.
    if (!state_->rebuilding && state_->revision.load() == revision - 1) {
      apply(*state_->index);
      state_->revision = revision;
      applied = true;
    }
  }
  if (applied) {
    Notify();
    return;
  }
  if (!WaitForRevision(revision, kCatchUpTimeout)) {
    DOVE_LOG(kWarning)
        << "registry: "
        << "the index did not reach revision " + std::to_string(revision) +
               " of an acknowledged write within " + std::to_string(kCatchUpTimeout.count()) +
               " s (the store watch is failing); it shows it once the watch recovers";
  }
}

// ---- the watch: other writers' changes into the index, in revision order ----------------

void Registry::ApplyRevision(const store::Event* first, const store::Event* last) {
  const int64_t revision = first->kv.mod_revision;
  if (revision <= state_->revision.load()) return;  // this registry's own write, applied
  RevisionChanges changes;
  DecodeRevision(first, last, &changes, &state_->undecodable);
  {
    std::unique_lock lock(state_->mutex);
    if (revision <= state_->revision.load()) return;
    ApplyChanges(state_->index.get(), changes);
    state_->revision = revision;
  }
  Notify();
}

ModelResult<int64_t> Registry::Rebuild() {
  {
    std::unique_lock lock(state_->mutex);
    state_->rebuilding = true;
  }
  auto loaded = LoadIndex(state_->store);
  std::unique_ptr<RegistryIndex> old;  // freed outside the lock
  {
    std::unique_lock lock(state_->mutex);
    state_->rebuilding = false;
    if (!loaded) return Unexpected(loaded.error());
    // No mutation applied its write since `rebuilding` was set, and every write before is in
    // the snapshot: the revision does not go back.
    old = std::exchange(state_->index, std::move(loaded->index));
    state_->revision = std::max(state_->revision.load(), loaded->revision);
  }
  ++state_->rebuilds;
  Notify();
  return loaded->revision;
}

void Registry::WatchLoop(int64_t from) {
  std::unique_ptr<store::Watch> watch;
  std::chrono::milliseconds backoff = kMinBackoff;
  uint64_t failures = 0;  // in a row
  // Counts, logs (the first failure of a run, then at powers of two) and waits.
  auto failed = [&](const std::string& what) {
    ++state_->watch_errors;
    ++failures;
    if ((failures & (failures - 1)) == 0) {
      DOVE_LOG(kWarning) << "registry: "
                         << "store watch: " + what + " (" + std::to_string(failures) +
                                " in a row); retrying in " + std::to_string(backoff.count()) +
                                " ms";
    }
    pollfd stop{state_->stop_fd, POLLIN, 0};
    ::poll(&stop, 1, static_cast<int>(backoff.count()));
    backoff = std::min(backoff * 2, kMaxBackoff);
  };
  while (!state_->stopping.load()) {
    if (!watch) {
      auto started = state_->store->StartWatch(std::string(kKeyPrefix), from);
      if (!started) {
        failed("cannot start (" + started.error().Describe() + ")");
        continue;
      }
      watch = std::move(*started);
    }
    pollfd fds[2] = {{watch->fd(), POLLIN, 0}, {state_->stop_fd, POLLIN, 0}};
    ::poll(fds, 2, static_cast<int>(kMaxBackoff.count()));
    if (state_->stopping.load()) break;
    auto events = watch->Poll();
    if (!events && events.error().code == store::StoreError::kCompacted) {
      DOVE_LOG(kWarning)
          << "registry: "
          << "store watch: the history it needs was compacted; reloading the index from a snapshot";
      auto revision = Rebuild();
      if (!revision) {
        failed("reloading failed (" + revision.error().message + ")");
        continue;
      }
      from = *revision + 1;
      watch.reset();
    } else if (!events) {
      failed(events.error().Describe());
      continue;
    } else {
      for (size_t i = 0; i < events->size();) {
        size_t j = i;
        while (j < events->size() && (*events)[j].kv.mod_revision == (*events)[i].kv.mod_revision) {
          ++j;
        }
        ApplyRevision(events->data() + i, events->data() + j);
        i = j;
      }
      from = watch->next_revision();
    }
    if (failures > 0)
      DOVE_LOG(kInfo) << "registry: "
                      << "store watch: recovered after " + std::to_string(failures) + " failures";
    failures = 0;
    backoff = kMinBackoff;
    MaybeWriteIndexCache();
  }
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
std::vector<ModelResult<T>> Registry::ReplaceAll(std::span<const Replacement<T>> writes) {
  std::vector<ModelResult<T>> answers;
  answers.reserve(writes.size());
  std::vector<T> objects;
  objects.reserve(writes.size());
  store::TxnRequest txn;
  bool together = writes.size() > 1;
  if (together) {
    Allocator alloc{.ids = state_->ids, .random = state_->random, .spread = false};
    std::lock_guard preparing(state_->prepare_mutex);
    std::shared_lock reading(state_->mutex);
    for (const auto& write : writes) {
      auto prepared = PrepareReplace(*state_->index, state_->revision.load(), alloc, write.ref,
                                     write.object, write.guard, &txn);
      if (!prepared) {  // refused: answered by ReplaceIf below, as alone
        together = false;
        break;
      }
      objects.push_back(std::move(*prepared));
    }
  }
  if (together) {
    if (auto revision = Commit(state_->store, txn)) {
      Publish(
          [&](RegistryIndex& index) {
            for (const auto& object : objects) index.Put(object, *revision);
          },
          *revision);
      for (auto& object : objects) answers.emplace_back(std::move(object));
      return answers;
    }
    // A compare failed (another writer, a guard) or the store did: each on its own, so that
    // every answer is ReplaceIf's (one the store may have applied is made again, or loses its
    // race to itself and is retried on the index that shows it).
  }
  for (const auto& write : writes) {
    answers.push_back(ReplaceIf(write.ref, write.object, write.guard));
  }
  return answers;
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
  template ModelResult<T> Registry::ReplaceIf<T>(std::string_view ref, T object,            \
                                                 const WriteGuard& guard);                  \
  template std::vector<ModelResult<T>> Registry::ReplaceAll<T>(                             \
      std::span<const Replacement<T>> writes);                                              \
  template ModelResult<T> Registry::Get<T>(std::string_view ref) const;                     \
  template int64_t Registry::ModRevision<T>(std::string_view ref) const;                    \
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
