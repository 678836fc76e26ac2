#include "dswitch/pipeline/tables.h"

#include <algorithm>
#include <utility>

#include "net/vxlan.h"

namespace dove::dswitch::pipeline {

bool LocalPort::HasIp(const net::IpAddress& ip) const {
  return std::find(ips.begin(), ips.end(), ip) != ips.end();
}

bool NetworkTables::IsFloodPeer(const net::Ipv4Address& tunnel_ip) const {
  return std::find(flood_tunnel_ips.begin(), flood_tunnel_ips.end(), tunnel_ip) !=
         flood_tunnel_ips.end();
}

Expected<void, std::string> Tables::AddNetwork(uint32_t vni, const net::MacAddress& router_mac,
                                               std::vector<net::Ipv4Address> flood_tunnel_ips) {
  if (vni > net::kMaxVni) return Unexpected("VNI " + std::to_string(vni) + " exceeds 24 bits");
  NetworkTables& network = networks_[vni];
  network.vni = vni;
  network.router_mac = router_mac;
  network.flood_tunnel_ips = std::move(flood_tunnel_ips);
  return {};
}

Expected<void, std::string> Tables::AddPort(LocalPort port) {
  const auto net_it = networks_.find(port.vni);
  if (net_it == networks_.end()) {
    return Unexpected("port " + std::to_string(port.id) + ": unknown network " +
                      std::to_string(port.vni));
  }
  NetworkTables& network = net_it->second;
  if (!port.mac.IsUnicast()) {
    return Unexpected("port " + std::to_string(port.id) + ": MAC " + port.mac.ToString() +
                      " is not unicast");
  }
  if (ports_.contains(port.id)) {
    return Unexpected("port " + std::to_string(port.id) + " already present");
  }
  if (network.ports_by_mac.contains(port.mac)) {
    return Unexpected("port " + std::to_string(port.id) + ": MAC " + port.mac.ToString() +
                      " already in network " + std::to_string(port.vni));
  }
  for (const net::IpAddress& ip : port.ips) {
    if (network.ports_by_ip.contains(ip)) {
      return Unexpected("port " + std::to_string(port.id) + ": IP " + ip.ToString() +
                        " already in network " + std::to_string(port.vni));
    }
  }
  network.ports_by_mac.emplace(port.mac, port.id);
  for (const net::IpAddress& ip : port.ips) network.ports_by_ip.emplace(ip, port.id);
  network.ports.push_back(port.id);
  const PortId id = port.id;
  ports_.emplace(id, std::move(port));
  return {};
}

const LocalPort* Tables::Port(PortId id) const {
  const auto it = ports_.find(id);
  return it == ports_.end() ? nullptr : &it->second;
}

const NetworkTables* Tables::Network(uint32_t vni) const {
  const auto it = networks_.find(vni);
  return it == networks_.end() ? nullptr : &it->second;
}

}  // namespace dove::dswitch::pipeline
