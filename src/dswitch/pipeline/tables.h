// Tables: what the stages read to decide, filled by the switch from the agent's NetworkConfig
// messages (cold path) and read-only on the hot path. No protobuf or gRPC types here: the
// switch converts once, when a config arrives, so the hot path compares bytes, not strings.
//
//   Tables tables;
//   tables.AddNetwork(100, router_mac, {peer_vtep});
//   if (auto added = tables.AddPort({.id = 1, .vni = 100, .mac = vm_mac, .ips = {vm_ip}}); !added)
//     Log(added.error());
//
// Not thread-safe: a switch with several pipeline threads gives each a copy, or swaps a new
// Tables in between batches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/expected.h"
#include "dswitch/pipeline/frame.h"
#include "net/ip_address.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

// A VM port on this switch.
struct LocalPort {
  PortId id = kNoPort;
  uint32_t vni = kNoVni;
  net::MacAddress mac;
  std::vector<net::IpAddress> ips;  // the addresses it may send from

  bool HasIp(const net::IpAddress& ip) const;
};

// One network (VNI) this switch carries.
struct NetworkTables {
  uint32_t vni = kNoVni;
  net::MacAddress router_mac;                      // the domain's distributed-router MAC
  std::vector<net::Ipv4Address> flood_tunnel_ips;  // the other VTEPs with ports in it
  // Filled by Tables::AddPort.
  std::unordered_map<net::MacAddress, PortId> ports_by_mac;
  std::unordered_map<net::IpAddress, PortId> ports_by_ip;
  std::vector<PortId> ports;  // in the order they were added

  bool IsFloodPeer(const net::Ipv4Address& tunnel_ip) const;
};

class Tables {
 public:
  // Adds a network, or replaces its router MAC and flood list (its ports stay). Errors (as
  // one sentence): a VNI over 24 bits.
  Expected<void, std::string> AddNetwork(uint32_t vni, const net::MacAddress& router_mac,
                                         std::vector<net::Ipv4Address> flood_tunnel_ips);
  // Adds a port to its network (which must have been added). Errors: an unknown network, a
  // multicast MAC, a port id already present, a MAC or an IP another port of the network has.
  Expected<void, std::string> AddPort(LocalPort port);

  // nullptr when absent. Valid until the next Add.
  const LocalPort* Port(PortId id) const;
  const NetworkTables* Network(uint32_t vni) const;

 private:
  std::unordered_map<PortId, LocalPort> ports_;
  std::unordered_map<uint32_t, NetworkTables> networks_;
};

}  // namespace dove::dswitch::pipeline
