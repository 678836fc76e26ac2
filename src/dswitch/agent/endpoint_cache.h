// EndpointCache: what a switch knows from the controller: remote endpoints, network configs
// and flood lists, applied from the ControllerMessages of switch.proto.
//
// Endpoints are keyed by endpoint_id (vni/mac when the id is empty) and indexed by (vni, mac)
// and (vni, ip); MACs are compared lowercase, IPs as given. Each entry keeps the revision of
// the message it came with and the endpoint version of its Location.
//
// Ordering: a Location replaces the stored one only when neither its version nor its revision
// is older and at least one of them is newer (an older revision or version never overwrites a
// newer one; a repeat is a no-op). An Invalidate drops the entry unless the entry's revision
// is newer. A NetworkConfig / FloodList replaces the stored one of its VNI unless that one
// came with a newer revision. NetworkRemoved drops the VNI's config, flood list and endpoints.
// Domain parts (NetworkConfig.domain_subnets and domain_tunnel_ips) are the same in every held
// config of one domain: a config that carries them (not domain_omitted) sets them for all, one
// that omits them takes them from the others, and DomainRoutes / FloodList deltas change all.
// A Location taking over a (vni, mac) or (vni, ip) another endpoint held drops that endpoint.
// An Invalidate by endpoint id, like EndpointMoved, also takes the endpoint out of its
// network config's local list (the endpoint was deleted: the switch drops its port).
//
// last_revision(): the highest revision applied *completely*. A Welcome opens a catch-up
// (snapshot = true clears everything first) during which messages are applied but the
// revision is not advanced; SyncDone closes it and advances to its revision. So a stream that
// breaks mid catch-up leaves last_revision() where it was, and the next Hello asks for the
// same changes again rather than skipping the ones never received. Outside a catch-up every
// applied message advances it.
//
// Change reports: every Apply* takes an optional CacheChanges* and adds to it what it changed
// (see CacheChanges), so the switch re-derives only those entries (userspace::DeriveDelta)
// instead of the whole cache. Cost: a Location, Invalidate or FloodList costs O(log n) plus the
// local list of its network when it names a local endpoint; a NetworkConfig or NetworkRemoved
// costs that network's local list (and, removed, its endpoints). No message scans the cache.
//
// Pure: no I/O, no clock. Not thread-safe (ControllerClient guards its own with a mutex).
//
//   EndpointCache cache;
//   CacheChanges changes;
//   cache.Apply(message, &changes);  // each ControllerMessage, in stream order
//   if (auto hit = cache.Lookup(100, "52:54:00:12:34:56")) Send(hit->location.tunnel_ip());
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dove/v1/switch.pb.h"

namespace dove::dswitch::agent {

// One remote endpoint as cached.
struct CachedEndpoint {
  dove::v1::Location location;
  int64_t revision = 0;  // of the message it came with
};

// One network as cached.
struct CachedNetwork {
  uint32_t vni = 0;
  std::optional<dove::v1::NetworkConfig> config;  // unset: only a FloodList came
  std::vector<std::string> flood_tunnel_ips;
  int64_t revision = 0;
};

// Everything in the cache, sorted (endpoints by vni then mac, networks by vni): for tests,
// logs and a future `dove-switch status`.
struct CacheDump {
  int64_t last_revision = 0;
  bool syncing = false;
  std::vector<CachedEndpoint> endpoints;
  std::vector<CachedNetwork> networks;
};

// What one or more Apply* calls changed: the input of userspace::DeriveDelta. Keys are endpoint
// keys (EndpointKey): an endpoint is listed when its cached entry came, changed or went (a
// Location applied, an Invalidate, a takeover of its MAC or IP by another endpoint, its
// network removed) or when its entry in a config's local list did (the config replaced or
// removed, an EndpointMoved or Invalidate taking it out). A VNI is listed when its
// NetworkConfig or FloodList came, changed or went. `reset`: the cache was cleared (a snapshot
// Welcome, Clear()); the lists are then empty and everything must be derived again.
// Listing is conservative: a listed entry may turn out the same as before, never the reverse.
struct CacheChanges {
  bool reset = false;
  std::set<std::string> endpoints;
  std::set<uint32_t> networks;

  bool empty() const { return !reset && endpoints.empty() && networks.empty(); }
  // Adds `later` (changes made after these).
  void Merge(const CacheChanges& later);
};

class EndpointCache {
 public:
  // Applies one message of the stream, whatever its body; returns whether anything changed and
  // adds what did to `changes` when given. Bodies without cache state (Heartbeat, Refusal,
  // non-FOUND ResolveReply) change nothing but still advance the revision outside a catch-up.
  // A ControllerBatch is applied as its messages one after the other.
  bool Apply(const dove::v1::ControllerMessage& message, CacheChanges* changes = nullptr);

  // The pieces Apply() is made of, usable on their own (`changes` as in Apply).
  bool ApplyLocation(const dove::v1::Location& location, int64_t revision,
                     CacheChanges* changes = nullptr);
  bool ApplyInvalidate(const dove::v1::Invalidate& invalidate, int64_t revision,
                       CacheChanges* changes = nullptr);
  // The switch the endpoint left: the endpoint leaves the local list of its network's config
  // and its new location is cached like a LocationUpdate.
  bool ApplyEndpointMoved(const dove::v1::Location& location, int64_t revision,
                          CacheChanges* changes = nullptr);
  bool ApplyNetworkConfig(const dove::v1::NetworkConfig& config, int64_t revision,
                          CacheChanges* changes = nullptr);
  bool ApplyNetworkRemoved(uint32_t vni, int64_t revision, CacheChanges* changes = nullptr);
  // A change of a domain's routes: applied to every config of the domain held, in stream
  // order whatever its revision (it is relative to what the stream carried before it).
  bool ApplyDomainRoutes(const dove::v1::DomainRoutes& routes, CacheChanges* changes = nullptr);
  bool ApplyFloodList(const dove::v1::FloodList& flood_list, int64_t revision,
                      CacheChanges* changes = nullptr);
  // Drops everything, last_revision() included (a snapshot follows); sets changes->reset.
  void Clear(CacheChanges* changes = nullptr);

  std::optional<CachedEndpoint> Lookup(uint32_t vni, std::string_view mac) const;
  std::optional<CachedEndpoint> LookupIp(uint32_t vni, std::string_view ip) const;
  std::optional<CachedNetwork> Network(uint32_t vni) const;

  // Reads without copies, for deriving deltas (pointers valid until the next change).
  // The cached entry of endpoint `key`, or null.
  const CachedEndpoint* Find(std::string_view key) const;
  // The cached network of `vni`, or null.
  const CachedNetwork* FindNetwork(uint32_t vni) const;
  // The entries naming endpoint `key` in the configs' local lists: by config VNI, then in list
  // order (the order DeriveDesiredState meets them in a Dump()).
  std::vector<const dove::v1::Location*> LocalsOf(const std::string& key) const;
  // The keys of the endpoints that a cached entry or a local-list entry places in `vni` on
  // switch `switch_name` (the ports a change of that network's config may add or take away).
  std::vector<std::string> KeysPlacedOn(uint32_t vni, std::string_view switch_name) const;

  int64_t last_revision() const { return last_revision_; }
  bool syncing() const { return syncing_; }
  size_t size() const { return endpoints_.size(); }
  CacheDump Dump() const;
  // The ids of at most `limit` cached endpoints (Hello.cached_endpoint_ids on reconnect).
  std::vector<std::string> EndpointIds(size_t limit) const;

 private:
  using VniKey = std::pair<uint32_t, std::string>;

  // Gives every held config of the domain the domain parts (routes, tunnel IPs) of `whole`;
  // whether any changed.
  bool SpreadDomainParts(const std::string& domain_id, const dove::v1::NetworkConfig& whole,
                         CacheChanges* changes);
  // The VNI a NetworkRemoved names: its vni, or that of the cached network with its id (a
  // controller catching a switch up may know only the id of a network deleted meanwhile).
  uint32_t VniOfRemoved(const dove::v1::NetworkRemoved& removed) const;
  // Takes the endpoint (by id, or by MAC when the id is empty) out of the local list of the
  // VNI's config unless the config is newer than `revision`; returns whether it was there.
  bool DropLocal(uint32_t vni, const std::string& endpoint_id, const std::string& mac,
                 int64_t revision, CacheChanges* changes);
  void Index(const std::string& key, const dove::v1::Location& location, CacheChanges* changes);
  void Unindex(const std::string& key, const dove::v1::Location& location);
  void Erase(const std::string& key, CacheChanges* changes);
  // Adds / removes the local list of networks_[vni]'s config to / from locals_ and placed_
  // (around every change of that list); with `changes`, lists the keys of its entries.
  void IndexLocals(uint32_t vni, CacheChanges* changes);
  void UnindexLocals(uint32_t vni, CacheChanges* changes);
  void Place(const dove::v1::Location& location, const std::string& key);
  void Unplace(const dove::v1::Location& location, const std::string& key);

  std::map<std::string, CachedEndpoint, std::less<>> endpoints_;  // by endpoint key
  std::map<VniKey, std::string> by_mac_;  // (vni, lowercase mac) -> endpoint key
  std::map<VniKey, std::string> by_ip_;   // (vni, ip) -> endpoint key
  std::map<uint32_t, CachedNetwork> networks_;
  // (endpoint key, config VNI) -> the positions in that config's local list of the entries
  // with that key, ascending; rebuilt whenever that list changes.
  std::map<std::pair<std::string, uint32_t>, std::vector<int>> locals_;
  // (vni, switch name) -> endpoint key -> how many cached or local-list entries place it there.
  std::map<VniKey, std::map<std::string, int>> placed_;
  int64_t last_revision_ = 0;
  bool syncing_ = false;
};

// The lowercase form MACs are keyed by.
std::string NormalizeMac(std::string_view mac);
// The key of an endpoint: its id, or "vni/lowercase mac" when it has none.
std::string EndpointKey(const dove::v1::Location& location);

}  // namespace dove::dswitch::agent
