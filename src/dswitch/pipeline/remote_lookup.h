// RemoteLookup: where the endpoints that are not on this switch are, as the stages ask it.
//
// RemoteTable (remote_table.h) is the implementation, kept by the switch from the agent's
// endpoint cache one change at a time. A lookup never blocks and never calls the controller:
// a miss is answered at once and the caller counts, parks or drops.
#pragma once

#include <cstdint>
#include <optional>

#include "net/ip_address.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

// A remote endpoint found by its IP address.
struct RemoteEndpoint {
  net::MacAddress mac;
  net::Ipv4Address tunnel_ip;  // the VTEP of the switch it is on
};

class RemoteLookup {
 public:
  virtual ~RemoteLookup() = default;

  // The VTEP of the remote endpoint with `mac` in network `vni`; nullopt on a miss.
  virtual std::optional<net::Ipv4Address> FindMac(uint32_t vni,
                                                  const net::MacAddress& mac) const = 0;
  // The MAC and VTEP of the remote endpoint with `ip` in network `vni`; nullopt on a miss.
  virtual std::optional<RemoteEndpoint> FindIp(uint32_t vni, const net::IpAddress& ip) const = 0;
};

}  // namespace dove::dswitch::pipeline
