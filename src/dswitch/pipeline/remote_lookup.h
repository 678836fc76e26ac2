// RemoteLookup: where the endpoints that are not on this switch are, as the stages ask it.
//
// The switch's implementation will wrap the agent's EndpointCache (and ask the controller on a
// miss, outside the pipeline); MapRemoteLookup is the in-memory twin tests fill by hand. A
// lookup never blocks and never calls the controller: a miss is answered at once and the
// caller counts, parks or drops.
#pragma once

#include <initializer_list>
#include <optional>
#include <unordered_map>

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

// A RemoteLookup over two maps, for tests and tools.
class MapRemoteLookup final : public RemoteLookup {
 public:
  // Adds a remote endpoint: its MAC and every IP become findable in `vni`.
  void Add(uint32_t vni, const net::MacAddress& mac, const net::Ipv4Address& tunnel_ip,
           std::initializer_list<net::IpAddress> ips = {});

  std::optional<net::Ipv4Address> FindMac(uint32_t vni, const net::MacAddress& mac) const override;
  std::optional<RemoteEndpoint> FindIp(uint32_t vni, const net::IpAddress& ip) const override;

 private:
  // By VNI, then by address. (Nested hash maps: a std::map keyed by a pair holding a
  // MacAddress trips clang-tidy's modernize-use-nullptr on the defaulted operator<=>.)
  std::unordered_map<uint32_t, std::unordered_map<net::MacAddress, net::Ipv4Address>> by_mac_;
  std::unordered_map<uint32_t, std::unordered_map<net::IpAddress, RemoteEndpoint>> by_ip_;
};

}  // namespace dove::dswitch::pipeline
