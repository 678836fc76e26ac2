// Tables: what the stages read to decide about this switch's own ports and networks, changed
// one entry at a time by the switch (cold path) and read-only on the hot path. No protobuf or
// gRPC types here: the switch converts once, when a change arrives, so the hot path compares
// bytes, not strings.
//
// Incremental: each change touches only its entry and that entry's index entries, so applying
// one change costs O(1) or O(the port's addresses / the network's ports), never a rebuild.
// Ports are held in a vector indexed by PortId (the datapath numbers ports densely from 1 and
// reuses ids): Port(id), which FromPort asks for every packet, is an array index.
//
//   Tables tables;
//   tables.UpsertNetwork(100, router_mac, {peer_vtep});   // or a whole NetworkSettings
//   if (auto added = tables.UpsertPort({.id = 1, .vni = 100, .mac = vm_mac, .ips = {vm_ip}});
//       !added) Log(added.error());
//   tables.RemovePort(1);
//
// Not thread-safe: a switch with several pipeline threads gives each a copy, or changes the
// tables between batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/expected.h"
#include "dswitch/pipeline/network_settings.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/policy_table.h"
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

// One network (VNI) this switch carries: its settings (network_settings.h) and its ports.
struct NetworkTables {
  uint32_t vni = kNoVni;
  net::MacAddress router_mac;                       // the domain's distributed-router MAC
  std::vector<net::Ipv4Address> flood_tunnel_ips;   // the other VTEPs with ports in it
  std::vector<net::Ipv4Address> domain_tunnel_ips;  // the other VTEPs of the domain
  std::vector<SubnetSettings> subnets;
  std::vector<Route> routes;
  std::vector<PolicyRule> policies;
  PolicyTable policy;  // `policies` compiled, for the router (policy_table.h)
  // Kept by Tables::UpsertPort / RemovePort.
  std::unordered_map<net::MacAddress, PortId> ports_by_mac;
  std::unordered_map<net::IpAddress, PortId> ports_by_ip;
  std::vector<PortId> ports;  // in the order they were added

  bool IsFloodPeer(const net::Ipv4Address& tunnel_ip) const;
  // In the flood list or the domain's list: a VTEP routed frames of this network may come from.
  bool IsDomainPeer(const net::Ipv4Address& tunnel_ip) const;
};

class Tables {
 public:
  // Port ids are indexes: this and above are refused.
  static constexpr PortId kMaxPortId = 1U << 20;

  // Adds a network, or replaces its settings (its ports stay). Errors (as one sentence): a
  // VNI over 24 bits.
  Expected<void, std::string> UpsertNetwork(NetworkSettings settings);
  // The same for a network with only an L2 part: no subnets, routes or policies.
  Expected<void, std::string> UpsertNetwork(uint32_t vni, const net::MacAddress& router_mac,
                                            std::vector<net::Ipv4Address> flood_tunnel_ips);
  // Removes a network and every port of it. Nothing when absent.
  void RemoveNetwork(uint32_t vni);

  // Adds a port to its network (which must be present), or replaces the port with the same id
  // (which may move to another network, or change MAC or addresses). Errors, and nothing
  // changed: an id of kMaxPortId or more, an unknown network, a multicast MAC, a MAC or an IP
  // that another port of the network has.
  Expected<void, std::string> UpsertPort(LocalPort port);
  // Removes a port. Nothing when absent.
  void RemovePort(PortId id);

  // nullptr when absent. A port's pointer stays valid until that port is replaced or removed;
  // a network's until that network is removed.
  const LocalPort* Port(PortId id) const { return id < ports_.size() ? ports_[id].get() : nullptr; }
  const NetworkTables* Network(uint32_t vni) const;

  // Changes whenever a network's policies change or a network with policies goes: the router
  // flushes its return-flow table when it sees a new value (return_flows.h).
  uint64_t policy_generation() const { return policy_generation_; }

  size_t port_count() const { return port_count_; }
  size_t network_count() const { return networks_.size(); }

 private:
  // Takes `port`'s entries out of its network's indexes.
  void Unindex(const LocalPort& port);

  std::vector<std::unique_ptr<LocalPort>> ports_;  // by PortId; null: no such port
  size_t port_count_ = 0;
  uint64_t policy_generation_ = 0;
  std::unordered_map<uint32_t, NetworkTables> networks_;
};

}  // namespace dove::dswitch::pipeline
