#include "dswitch/userspace/desired_state.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "dswitch/userspace/network_of.h"

namespace dove::dswitch::userspace {
namespace {

// The MAC and IPs of `location`, or why they cannot be used.
struct Addresses {
  net::MacAddress mac;
  std::vector<net::IpAddress> ips;
};
std::optional<Addresses> AddressesOf(const dove::v1::Location& location, std::string& why) {
  auto mac = net::MacAddress::Parse(location.mac());
  if (!mac || mac->IsMulticast()) {
    why = "endpoint " + location.endpoint_id() + ": unusable MAC '" + location.mac() + "'";
    return std::nullopt;
  }
  Addresses out{*mac, {}};
  for (const auto& text : location.ips()) {
    auto ip = net::IpAddress::Parse(text);
    if (!ip) {
      why = "endpoint " + location.endpoint_id() + ": unusable IP '" + text + "'";
      return std::nullopt;
    }
    out.ips.push_back(*ip);
  }
  return out;
}

// The newest word on an endpoint, offered its candidates in order (config local lists by VNI and
// list order, then the cached Location): a later one of at least the same version wins.
void Offer(const dove::v1::Location*& newest, const dove::v1::Location& candidate) {
  if (newest == nullptr || candidate.version() >= newest->version()) newest = &candidate;
}

// What one endpoint is on this switch, from its newest word: a port, a remote, or nothing
// (with why in `skipped` when it is unusable rather than merely elsewhere).
struct Placement {
  std::optional<DesiredPort> port;
  std::optional<DesiredRemote> remote;
  std::optional<std::string> skipped;
};

Placement Place(const std::string& key, const dove::v1::Location& location, bool has_config,
                std::string_view switch_name) {
  Placement out;
  std::string why;
  auto addresses = AddressesOf(location, why);
  if (!addresses) {
    out.skipped = std::move(why);
    return out;
  }
  if (location.switch_name() == switch_name) {
    if (!has_config) {
      out.skipped = "endpoint " + location.endpoint_id() + ": no config for VNI " +
                    std::to_string(location.vni()) + " yet";
      return out;
    }
    if (location.port_kind() == dove::v1::PORT_KIND_PACKET && location.port_name().empty()) {
      out.skipped = "endpoint " + location.endpoint_id() +
                    ": port_kind PORT_KIND_PACKET without a port_name (the interface to use)";
      return out;
    }
    std::string port_name =
        location.port_name().empty() ? PortNameFor(location.endpoint_id()) : location.port_name();
    out.port = DesiredPort{.location = location,
                           .port_name = std::move(port_name),
                           .mac = addresses->mac,
                           .ips = std::move(addresses->ips),
                           .key = key};
    return out;
  }
  if (location.switch_name().empty() || location.tunnel_ip().empty()) return out;
  auto tunnel = net::Ipv4Address::Parse(location.tunnel_ip());
  if (!tunnel) {
    out.skipped = "endpoint " + location.endpoint_id() + ": tunnel IP '" + location.tunnel_ip() +
                  "' is not IPv4";
    return out;
  }
  out.remote = DesiredRemote{.vni = location.vni(),
                             .mac = addresses->mac,
                             .tunnel_ip = *tunnel,
                             .ips = std::move(addresses->ips),
                             .key = key};
  return out;
}

// Derives endpoint `key` from the cache into `delta`: an upsert or a removal for each of port
// and remote.
void DeriveEndpoint(const agent::EndpointCache& cache, const std::string& key,
                    std::string_view switch_name, DesiredDelta& delta) {
  const dove::v1::Location* newest = nullptr;
  for (const dove::v1::Location* local : cache.LocalsOf(key)) Offer(newest, *local);
  if (const agent::CachedEndpoint* cached = cache.Find(key); cached != nullptr) {
    Offer(newest, cached->location);
  }
  Placement placement;
  if (newest != nullptr) {
    const agent::CachedNetwork* network = cache.FindNetwork(newest->vni());
    placement = Place(key, *newest, network != nullptr && network->config, switch_name);
  }
  if (placement.port) {
    delta.upserted_ports.push_back(std::move(*placement.port));
  } else {
    delta.removed_ports.push_back(key);
  }
  if (placement.remote) {
    delta.upserted_remotes.push_back(std::move(*placement.remote));
  } else {
    delta.removed_remotes.push_back(key);
  }
  if (placement.skipped) delta.skipped.push_back(std::move(*placement.skipped));
}

}  // namespace

std::string PortNameFor(std::string_view endpoint_id) {
  std::string name = "dv";
  for (char c : endpoint_id) {
    if (name.size() == 15) break;
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) name.push_back(c);
  }
  return name;
}

DesiredState DeriveDesiredState(const agent::CacheDump& dump, std::string_view switch_name) {
  DesiredState out;
  // The newest word on each endpoint: config local lists first, cached locations over them
  // when at least as new.
  std::map<std::string, const dove::v1::Location*> newest;
  const auto offer = [&](const dove::v1::Location& location) {
    Offer(newest[agent::EndpointKey(location)], location);
  };
  std::set<uint32_t> configs;
  for (const auto& network : dump.networks) {
    if (!network.config) continue;
    configs.insert(network.vni);
    out.networks.push_back(NetworkOf(network, out.skipped));
    for (const auto& local : network.config->local_endpoints()) offer(local);
  }
  for (const auto& cached : dump.endpoints) offer(cached.location);

  for (const auto& [key, location] : newest) {
    Placement placement = Place(key, *location, configs.count(location->vni()) != 0, switch_name);
    if (placement.port) out.ports.push_back(std::move(*placement.port));
    if (placement.remote) out.remotes.push_back(std::move(*placement.remote));
    if (placement.skipped) out.skipped.push_back(std::move(*placement.skipped));
  }
  std::sort(out.ports.begin(), out.ports.end(),
            [](const DesiredPort& a, const DesiredPort& b) { return a.port_name < b.port_name; });
  return out;
}

DesiredDelta DeriveDelta(const agent::EndpointCache& cache, const agent::CacheChanges& changes,
                         std::string_view switch_name) {
  DesiredDelta delta;
  if (changes.reset) {
    DesiredState full = DeriveDesiredState(cache.Dump(), switch_name);
    delta.reset = true;
    delta.upserted_remotes = std::move(full.remotes);
    delta.upserted_ports = std::move(full.ports);
    delta.upserted_networks = std::move(full.networks);
    delta.skipped = std::move(full.skipped);
    return delta;
  }
  // A network's config coming or going decides whether the endpoints placed in it here are
  // ports ("no config yet"): those are derived again too.
  std::set<std::string> also;
  for (uint32_t vni : changes.networks) {
    const agent::CachedNetwork* network = cache.FindNetwork(vni);
    if (network != nullptr && network->config) {
      delta.upserted_networks.push_back(NetworkOf(*network, delta.skipped));
    } else {
      delta.removed_networks.push_back(vni);
    }
    for (auto& key : cache.KeysPlacedOn(vni, switch_name)) {
      if (changes.endpoints.count(key) == 0) also.insert(std::move(key));
    }
  }
  for (const std::string& key : changes.endpoints) DeriveEndpoint(cache, key, switch_name, delta);
  for (const std::string& key : also) DeriveEndpoint(cache, key, switch_name, delta);
  return delta;
}

}  // namespace dove::dswitch::userspace
