#include "dswitch/pipeline/remote_lookup.h"

namespace dove::dswitch::pipeline {

void MapRemoteLookup::Add(uint32_t vni, const net::MacAddress& mac,
                          const net::Ipv4Address& tunnel_ip,
                          std::initializer_list<net::IpAddress> ips) {
  by_mac_[vni][mac] = tunnel_ip;
  for (const net::IpAddress& ip : ips) by_ip_[vni][ip] = RemoteEndpoint{mac, tunnel_ip};
}

std::optional<net::Ipv4Address> MapRemoteLookup::FindMac(uint32_t vni,
                                                         const net::MacAddress& mac) const {
  const auto network = by_mac_.find(vni);
  if (network == by_mac_.end()) return std::nullopt;
  const auto it = network->second.find(mac);
  if (it == network->second.end()) return std::nullopt;
  return it->second;
}

std::optional<RemoteEndpoint> MapRemoteLookup::FindIp(uint32_t vni,
                                                      const net::IpAddress& ip) const {
  const auto network = by_ip_.find(vni);
  if (network == by_ip_.end()) return std::nullopt;
  const auto it = network->second.find(ip);
  if (it == network->second.end()) return std::nullopt;
  return it->second;
}

}  // namespace dove::dswitch::pipeline
