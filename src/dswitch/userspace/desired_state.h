// DesiredState: what the switch's data plane should look like, derived from what the controller
// told the agent (agent::CacheDump) and this switch's name. Pure: no devices, no clock.
//
// - ports: the endpoints placed on this switch. An endpoint's newest word wins: the cached
//   Location (LocationUpdate, EndpointMoved) or its entry in its network config's local list,
//   whichever has the higher endpoint version. It is local when that word names this switch.
//   Its port is Location.port_name, or PortNameFor(endpoint_id) when that is empty.
// - networks: every VNI with a NetworkConfig (router MAC, flood lists, subnets, the domain's
//   routes, the policies naming it with their networks as VNIs; a policy naming a network that
//   has no subnet in the domain's list is left out: no address of that network can be routed).
// - remotes: every cached endpoint on another switch with a tunnel IP, by VNI, MAC and IPs.
// Entries the pipeline cannot use (a MAC, IP or tunnel IP that does not parse, a VNI without
// config for a port) are left out and listed in `skipped` with why, for logs.
//
// DesiredDelta: the same derivation for only what a cache change touched (agent::CacheChanges),
// so one change costs O(changed entries), not O(cache): DeriveDelta of the keys and VNIs a change
// lists gives exactly what DeriveDesiredState gives for them on the whole cache afterwards (one
// code path derives both). Applying each change's delta, in order, to the state derived before
// it gives the state DeriveDesiredState derives after it.
//
//   auto desired = DeriveDesiredState(client.DumpCache(), "h1");   // after a snapshot
//   for (const auto& port : desired.ports) OpenTap(port.port_name);
//   auto delta = DeriveDelta(cache, changes, "h1");                // after each change
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/agent/endpoint_cache.h"
#include "dswitch/pipeline/network_settings.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "net/ip_address.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::userspace {

struct DesiredPort {
  dove::v1::Location location;  // the endpoint as last heard
  std::string port_name;        // the TAP: Location.port_name, or PortNameFor(its id)
  net::MacAddress mac;
  std::vector<net::IpAddress> ips;
  std::string key{};  // agent::EndpointKey: the endpoint id (vni/mac when it has none)
};

// A network's config, parsed (pipeline/network_settings.h says what each part is for).
struct DesiredNetwork {
  uint32_t vni = 0;
  std::string network_id;
  net::MacAddress router_mac;
  std::vector<net::Ipv4Address> flood_tunnel_ips;
  std::vector<net::Ipv4Address> domain_tunnel_ips{};
  std::vector<pipeline::SubnetSettings> subnets{};
  std::vector<pipeline::Route> routes{};
  std::vector<pipeline::PolicyRule> policies{};

  // What Tables::UpsertNetwork takes.
  pipeline::NetworkSettings Settings() const;
};

struct DesiredRemote {
  uint32_t vni = 0;
  net::MacAddress mac;
  net::Ipv4Address tunnel_ip;
  std::vector<net::IpAddress> ips;
  std::string key{};  // agent::EndpointKey; empty when it did not come from the cache
};

struct DesiredState {
  std::vector<DesiredPort> ports;  // by port name
  std::vector<DesiredNetwork> networks;
  std::vector<DesiredRemote> remotes;
  std::vector<std::string> skipped;  // one sentence per entry left out
};

DesiredState DeriveDesiredState(const agent::CacheDump& dump, std::string_view switch_name);

// What changed in the DesiredState, by key. Every key a change lists gets, for ports and for
// remotes each, either an upsert (what it is now) or a removal, so removals may name keys
// that were never there (applying them is a no-op) and a port that moved to another switch
// comes as a removed port plus an upserted remote. Parsed once, here: appliers only copy.
// `reset`: drop everything first; the upserts are then the whole state (a snapshot).
struct DesiredDelta {
  bool reset = false;
  std::vector<DesiredRemote> upserted_remotes;
  std::vector<std::string> removed_remotes;  // keys
  std::vector<DesiredPort> upserted_ports;
  std::vector<std::string> removed_ports;  // keys
  std::vector<DesiredNetwork> upserted_networks;
  std::vector<uint32_t> removed_networks;  // VNIs
  std::vector<std::string> skipped;        // one sentence per changed entry left out

  bool empty() const {
    return !reset && upserted_remotes.empty() && removed_remotes.empty() &&
           upserted_ports.empty() && removed_ports.empty() && upserted_networks.empty() &&
           removed_networks.empty();
  }
};

// The delta `changes` (reported by the cache's Apply) makes, read from the cache after them.
// Pure. Cost: O(changed keys + the ports of each changed network), each O(log cache); with
// changes.reset, O(cache) (it is DeriveDesiredState of the whole cache).
DesiredDelta DeriveDelta(const agent::EndpointCache& cache, const agent::CacheChanges& changes,
                         std::string_view switch_name);

// The TAP name the switch gives an endpoint that names none: "dv" and the first 13 characters
// of its id that are letters or digits (the kernel allows 15 bytes).
std::string PortNameFor(std::string_view endpoint_id);

}  // namespace dove::dswitch::userspace
