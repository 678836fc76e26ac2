// RegistryIndex: the registry's in-memory copy of the store, a model::ModelView over hash maps.
//
// One table per kind (id -> object, its store mod_revision and its insertion sequence) plus
// the secondary indexes the rules need: domain by name, network by (domain, name) and by VNI,
// switch by name and by tunnel IP, endpoint by (network, MAC) and by (domain, IP), and the
// children lists (networks and policies of a domain, subnets and endpoints of a network,
// endpoints by switch name). Children lists are in insertion order (a Put of an existing id
// keeps its place), as ModelView promises. Every lookup is O(1) or O(result).
//
// Objects must be in canonical form (Registry canonicalises before Put): index keys are the
// text of the addresses as stored. An endpoint is indexed under the domain of its network at
// the time of its Put, so put networks before their endpoints (the network's domain never
// changes). Erase children before their parents.
//
// Endpoints, the kind there are 100,000s of, are kept encoded (their binary protobuf, as the
// store holds them: ~80 bytes where a v1::Endpoint with its six heap blocks took ~450) and
// decoded when asked for, so endpoint lookups return copies. Their domain id is pooled.
//
// Ownership: the index owns its objects; returned pointers stay valid until that object is
// next Put or erased. Not thread-safe: Registry guards it with its shared_mutex.
//
//   RegistryIndex index;
//   index.Put(domain, /*mod_revision=*/3);
//   const auto* d = index.FindDomainByName("acme");
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controller/registry.h"
#include "controller/string_pool.h"
#include "model/address_pool.h"
#include "model/free_ranges.h"
#include "model/model_view.h"
#include "model/validation.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::controller {

// Lets unordered_map<std::string, ...> be searched with a string_view without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

template <typename T>
struct IndexEntry {
  T object;
  int64_t mod_revision = 0;  // the store's mod_revision of the object's key
  uint64_t sequence = 0;     // insertion order
};

template <>
struct IndexEntry<v1::Endpoint> {
  std::string encoded;       // the endpoint's binary protobuf encoding
  int64_t mod_revision = 0;  // the store's mod_revision of the object's key
  uint64_t sequence = 0;     // insertion order
  // The domain it is indexed under (pooled in the index; nullptr: none).
  const std::string* domain_id = nullptr;
};

// The object of an entry: a reference for most kinds, a decoded copy for an endpoint.
template <typename T>
const T& ObjectOf(const IndexEntry<T>& entry) {
  return entry.object;
}
v1::Endpoint ObjectOf(const IndexEntry<v1::Endpoint>& entry);

class RegistryIndex final : public model::ModelView {
 public:
  template <typename T>
  using Table = StringMap<IndexEntry<T>>;

  // Adds the object, or replaces the one of the same id (keeping its insertion place). Pass an
  // rvalue where the caller is done with it: it is moved in, not copied.
  template <typename T>
  void Put(T object, int64_t mod_revision);
  // Removes the object of that id, if any.
  template <typename T>
  void Erase(std::string_view id);
  template <typename T>
  const IndexEntry<T>* Find(std::string_view id) const;
  template <typename T>
  const Table<T>& table() const;

  const v1::Domain* FindDomainByName(std::string_view name) const;
  const v1::Network* FindNetworkByName(std::string_view domain_id, std::string_view name) const;
  const v1::Switch* FindSwitchByName(std::string_view name) const;
  const v1::Switch* FindSwitchByTunnelIp(std::string_view canonical_ip) const;
  std::vector<v1::Endpoint> EndpointsOfSwitch(std::string_view switch_name) const;
  // Those of the network on the switch, in sequence order: only they are decoded (a switch's
  // configuration of each of its networks asks this; decoding the network's every endpoint
  // to keep a tenth was most of a reconnect storm's configuration work).
  std::vector<v1::Endpoint> EndpointsOfNetworkOnSwitch(std::string_view network_id,
                                                       std::string_view switch_name) const;
  ObjectCounts Counts() const;

  // model::ModelView
  const v1::Domain* FindDomain(std::string_view id) const override;
  const v1::Network* FindNetwork(std::string_view id) const override;
  const v1::Network* FindNetworkByVni(uint32_t vni) const override;
  std::vector<const v1::Network*> NetworksOfDomain(std::string_view domain_id) const override;
  std::vector<const v1::Subnet*> SubnetsOfNetwork(std::string_view network_id) const override;
  std::vector<v1::Endpoint> EndpointsOfNetwork(std::string_view network_id) const override;
  std::vector<const v1::Policy*> PoliciesOfDomain(std::string_view domain_id) const override;
  std::optional<v1::Endpoint> FindEndpointByMac(std::string_view network_id,
                                                const net::MacAddress& mac) const override;
  std::optional<v1::Endpoint> FindEndpointByIp(std::string_view domain_id,
                                               const net::IpAddress& ip) const override;
  std::optional<v1::Endpoint> FindEndpointByName(std::string_view network_id,
                                                 std::string_view name) const override;
  // One pool per subnet, kept current: a subnet Put builds it (taking the addresses its
  // network's endpoints already hold), an endpoint Put takes its addresses, an endpoint
  // removal releases them. So IPAM allocates the lowest free address in O(1) and an endpoint
  // Put or removal costs O(log r) per address (r: free ranges of the subnet), never a scan.
  const model::AddressPool* FindAddressPool(std::string_view subnet_id) const override;
  // Kept current: a network Put takes its VNI, its removal releases it.
  const model::FreeRanges* FreeVnis() const override { return &free_vnis_; }

 private:
  // parent id -> its children's entries, sorted by insertion sequence. A flat vector (8 bytes
  // a child) rather than a node per child: at 100,000 endpoints, two such lists each, a node
  // container cost ~130 bytes per endpoint. Inserting or removing in the middle (an update of
  // an existing child, a removal) moves the parent's later children: O(children of the parent).
  template <typename T>
  using Children = StringMap<std::vector<const IndexEntry<T>*>>;

  // The table of kind T of `self` (const or not).
  template <typename T, typename Self>
  static auto& TableOf(Self& self);
  void Link(const IndexEntry<v1::Domain>& entry);
  void Link(const IndexEntry<v1::Network>& entry);
  void Link(const IndexEntry<v1::Subnet>& entry);
  void Link(const IndexEntry<v1::Endpoint>& entry, const v1::Endpoint& endpoint);
  void Link(const IndexEntry<v1::Switch>& entry);
  void Link(const IndexEntry<v1::Policy>& entry);
  void Unlink(const IndexEntry<v1::Domain>& entry);
  void Unlink(const IndexEntry<v1::Network>& entry);
  void Unlink(const IndexEntry<v1::Subnet>& entry);
  void Unlink(const IndexEntry<v1::Endpoint>& entry, const v1::Endpoint& endpoint);
  void Unlink(const IndexEntry<v1::Switch>& entry);
  void Unlink(const IndexEntry<v1::Policy>& entry);
  // Takes (or releases) the endpoint's addresses in the pools of its network's subnets.
  void TakeOrRelease(const v1::Endpoint& endpoint, bool take);

  uint64_t next_sequence_ = 1;
  StringPool domain_ids_;  // IndexEntry::domain_id of the endpoints
  Table<v1::Domain> domains_;
  Table<v1::Network> networks_;
  Table<v1::Subnet> subnets_;
  Table<v1::Endpoint> endpoints_;
  Table<v1::Switch> switches_;
  Table<v1::Policy> policies_;

  StringMap<const v1::Domain*> domain_by_name_;
  StringMap<model::AddressPool> pools_;                          // subnet id -> its free addresses
  model::FreeRanges free_vnis_{model::kMinVni, model::kMaxVni};  // VNIs no network uses
  StringMap<StringMap<const v1::Network*>> network_by_name_;     // domain id -> name -> network
  std::unordered_map<uint32_t, const v1::Network*> network_by_vni_;
  StringMap<const v1::Switch*> switch_by_name_;
  StringMap<const v1::Switch*> switch_by_tunnel_ip_;
  Children<v1::Network> networks_of_domain_;
  Children<v1::Policy> policies_of_domain_;
  Children<v1::Subnet> subnets_of_network_;
  Children<v1::Endpoint> endpoints_of_network_;
  Children<v1::Endpoint> endpoints_of_switch_;
  StringMap<std::unordered_map<net::MacAddress, const IndexEntry<v1::Endpoint>*>> endpoint_by_mac_;
  StringMap<std::unordered_map<net::IpAddress, const IndexEntry<v1::Endpoint>*>> endpoint_by_ip_;
  // network id -> name -> entry; only endpoints that have a name.
  StringMap<StringMap<const IndexEntry<v1::Endpoint>*>> endpoint_by_name_;
};

}  // namespace dove::controller
