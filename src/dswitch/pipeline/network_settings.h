// NetworkSettings: what the switch knows of one network it carries, besides its ports, parsed
// from the controller's NetworkConfig once (userspace/desired_state.h) so the stages compare
// bytes, never strings:
//   - the L2 part: its router MAC, the VTEPs to flood to;
//   - its subnets with what DHCP and router advertisements hand out (gateway, DNS, MTU);
//   - the distributed router's view of its domain: every subnet of the domain with its
//     network's VNI (routes), the VTEPs routed frames may come from, and the domain's policies
//     that name this network, with network ids already turned into VNIs.
// Plain values: Tables keeps a copy per network (tables.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

// One subnet of this network (v1::Subnet).
struct SubnetSettings {
  net::IpPrefix prefix;
  std::optional<net::IpAddress> gateway;  // the router's address in it; none: no gateway
  std::vector<net::IpAddress> dns_servers;
  uint32_t mtu = 0;  // the link MTU DHCP / RA advertise; 0: the switch's overlay MTU
};

// One subnet of the network's domain, where the distributed router sends what is addressed
// inside it (v1::RoutedSubnet).
struct Route {
  net::IpPrefix prefix;
  std::optional<net::IpAddress> gateway;
  uint32_t vni = 0;  // the subnet's network
};

// One policy of the domain between two networks (v1::Policy), by VNI.
struct PolicyRule {
  enum class Action : uint8_t { kAllow, kDeny, kReject };
  std::string id;
  uint32_t source_vni = 0;
  uint32_t destination_vni = 0;
  Action action = Action::kDeny;
  uint8_t protocol = 0;  // IP protocol number; 0: any
  // Destination port range, TCP/UDP only; {0, 0}: any port.
  uint16_t first_port = 0;
  uint16_t last_port = 0;
  uint32_t priority = 0;  // higher wins; on a tie a deny or reject wins

  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

struct NetworkSettings {
  uint32_t vni = 0;
  net::MacAddress router_mac;                       // the domain's distributed-router MAC
  std::vector<net::Ipv4Address> flood_tunnel_ips;   // the other VTEPs with ports in it
  std::vector<net::Ipv4Address> domain_tunnel_ips;  // the other VTEPs of the domain
  std::vector<SubnetSettings> subnets;
  std::vector<Route> routes;  // every subnet of the domain, this network's included
  std::vector<PolicyRule> policies;
};

}  // namespace dove::dswitch::pipeline
