// DesiredState: what the switch's data plane should look like, derived from what the controller
// told the agent (agent::CacheDump) and this switch's name. Pure: no devices, no clock.
//
// - ports: the endpoints placed on this switch. An endpoint's newest word wins: the cached
//   Location (LocationUpdate, EndpointMoved) or its entry in its network config's local list,
//   whichever has the higher endpoint version. It is local when that word names this switch.
//   Its port is Location.port_name, or PortNameFor(endpoint_id) when that is empty.
// - networks: every VNI with a NetworkConfig (router MAC, flood list).
// - remotes: every cached endpoint on another switch with a tunnel IP, by VNI, MAC and IPs.
// Entries the pipeline cannot use (a MAC, IP or tunnel IP that does not parse, a VNI without
// config for a port) are left out and listed in `skipped` with why, for logs.
//
//   auto desired = DeriveDesiredState(client.DumpCache(), "h1");
//   for (const auto& port : desired.ports) OpenTap(port.port_name);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/agent/endpoint_cache.h"
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
};

struct DesiredNetwork {
  uint32_t vni = 0;
  std::string network_id;
  net::MacAddress router_mac;
  std::vector<net::Ipv4Address> flood_tunnel_ips;
};

struct DesiredRemote {
  uint32_t vni = 0;
  net::MacAddress mac;
  net::Ipv4Address tunnel_ip;
  std::vector<net::IpAddress> ips;
};

struct DesiredState {
  std::vector<DesiredPort> ports;  // by port name
  std::vector<DesiredNetwork> networks;
  std::vector<DesiredRemote> remotes;
  std::vector<std::string> skipped;  // one sentence per entry left out
};

DesiredState DeriveDesiredState(const agent::CacheDump& dump, std::string_view switch_name);

// The TAP name the switch gives an endpoint that names none: "dv" and the first 13 characters
// of its id that are letters or digits (the kernel allows 15 bytes).
std::string PortNameFor(std::string_view endpoint_id);

}  // namespace dove::dswitch::userspace
