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
// Pure: no I/O, no clock. Not thread-safe (ControllerClient guards its own with a mutex).
//
//   EndpointCache cache;
//   cache.Apply(message);  // each ControllerMessage, in stream order
//   if (auto hit = cache.Lookup(100, "52:54:00:12:34:56")) Send(hit->location.tunnel_ip());
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
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

class EndpointCache {
 public:
  // Applies one message of the stream, whatever its body; returns whether anything changed.
  // Bodies without cache state (Heartbeat, Refusal, non-FOUND ResolveReply) change nothing but
  // still advance the revision outside a catch-up.
  bool Apply(const dove::v1::ControllerMessage& message);

  // The pieces Apply() is made of, usable on their own.
  bool ApplyLocation(const dove::v1::Location& location, int64_t revision);
  bool ApplyInvalidate(const dove::v1::Invalidate& invalidate, int64_t revision);
  // The switch the endpoint left: the endpoint leaves the local list of its network's config
  // and its new location is cached like a LocationUpdate.
  bool ApplyEndpointMoved(const dove::v1::Location& location, int64_t revision);
  bool ApplyNetworkConfig(const dove::v1::NetworkConfig& config, int64_t revision);
  bool ApplyNetworkRemoved(uint32_t vni, int64_t revision);
  bool ApplyFloodList(const dove::v1::FloodList& flood_list, int64_t revision);
  // Drops everything, last_revision() included (a snapshot follows).
  void Clear();

  std::optional<CachedEndpoint> Lookup(uint32_t vni, std::string_view mac) const;
  std::optional<CachedEndpoint> LookupIp(uint32_t vni, std::string_view ip) const;
  std::optional<CachedNetwork> Network(uint32_t vni) const;

  int64_t last_revision() const { return last_revision_; }
  bool syncing() const { return syncing_; }
  size_t size() const { return endpoints_.size(); }
  CacheDump Dump() const;
  // The ids of at most `limit` cached endpoints (Hello.cached_endpoint_ids on reconnect).
  std::vector<std::string> EndpointIds(size_t limit) const;

 private:
  using VniKey = std::pair<uint32_t, std::string>;

  // The VNI a NetworkRemoved names: its vni, or that of the cached network with its id (a
  // controller catching a switch up may know only the id of a network deleted meanwhile).
  uint32_t VniOfRemoved(const dove::v1::NetworkRemoved& removed) const;
  // Takes the endpoint (by id, or by MAC when the id is empty) out of the local list of the
  // VNI's config unless the config is newer than `revision`; returns whether it was there.
  bool DropLocal(uint32_t vni, const std::string& endpoint_id, const std::string& mac,
                 int64_t revision);
  void Index(const std::string& key, const dove::v1::Location& location);
  void Unindex(const std::string& key, const dove::v1::Location& location);
  void Erase(const std::string& key);

  std::map<std::string, CachedEndpoint> endpoints_;  // by endpoint key
  std::map<VniKey, std::string> by_mac_;             // (vni, lowercase mac) -> endpoint key
  std::map<VniKey, std::string> by_ip_;              // (vni, ip) -> endpoint key
  std::map<uint32_t, CachedNetwork> networks_;
  int64_t last_revision_ = 0;
  bool syncing_ = false;
};

// The lowercase form MACs are keyed by.
std::string NormalizeMac(std::string_view mac);

}  // namespace dove::dswitch::agent
