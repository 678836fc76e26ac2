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

bool NetworkTables::IsDomainPeer(const net::Ipv4Address& tunnel_ip) const {
  return IsFloodPeer(tunnel_ip) || std::find(domain_tunnel_ips.begin(), domain_tunnel_ips.end(),
                                             tunnel_ip) != domain_tunnel_ips.end();
}

Expected<void, std::string> Tables::UpsertNetwork(NetworkSettings settings) {
  const uint32_t vni = settings.vni;
  if (vni > net::kMaxVni) return Unexpected("VNI " + std::to_string(vni) + " exceeds 24 bits");
  NetworkTables& network = networks_[vni];
  network.vni = vni;
  network.router_mac = settings.router_mac;
  network.flood_tunnel_ips = std::move(settings.flood_tunnel_ips);
  network.domain_tunnel_ips = std::move(settings.domain_tunnel_ips);
  network.subnets = std::move(settings.subnets);
  network.routes = std::move(settings.routes);
  if (network.policies != settings.policies) {
    ++policy_generation_;
    network.policy = PolicyTable(settings.policies);
  }
  network.policies = std::move(settings.policies);
  return {};
}

Expected<void, std::string> Tables::UpsertNetwork(uint32_t vni, const net::MacAddress& router_mac,
                                                  std::vector<net::Ipv4Address> flood_tunnel_ips) {
  return UpsertNetwork(NetworkSettings{.vni = vni,
                                       .router_mac = router_mac,
                                       .flood_tunnel_ips = std::move(flood_tunnel_ips),
                                       .domain_tunnel_ips = {},
                                       .subnets = {},
                                       .routes = {},
                                       .policies = {}});
}

void Tables::RemoveNetwork(uint32_t vni) {
  const auto it = networks_.find(vni);
  if (it == networks_.end()) return;
  for (PortId id : it->second.ports) {
    ports_[id].reset();
    --port_count_;
  }
  if (!it->second.policies.empty()) ++policy_generation_;
  networks_.erase(it);
}

Expected<void, std::string> Tables::UpsertPort(LocalPort port) {
  const std::string name = "port " + std::to_string(port.id);
  if (port.id >= kMaxPortId) return Unexpected(name + ": id too large");
  const auto net_it = networks_.find(port.vni);
  if (net_it == networks_.end()) {
    return Unexpected(name + ": unknown network " + std::to_string(port.vni));
  }
  NetworkTables& network = net_it->second;
  if (!port.mac.IsUnicast()) {
    return Unexpected(name + ": MAC " + port.mac.ToString() + " is not unicast");
  }
  // Another port's entries conflict; this port's own (a replacement) do not.
  const auto taken = [&](const auto& index, const auto& key) {
    const auto it = index.find(key);
    return it != index.end() && it->second != port.id;
  };
  if (taken(network.ports_by_mac, port.mac)) {
    return Unexpected(name + ": MAC " + port.mac.ToString() + " already in network " +
                      std::to_string(port.vni));
  }
  for (const net::IpAddress& ip : port.ips) {
    if (taken(network.ports_by_ip, ip)) {
      return Unexpected(name + ": IP " + ip.ToString() + " already in network " +
                        std::to_string(port.vni));
    }
  }

  if (port.id >= ports_.size()) ports_.resize(size_t{port.id} + 1);
  std::unique_ptr<LocalPort>& slot = ports_[port.id];
  if (slot != nullptr) {
    Unindex(*slot);
  } else {
    ++port_count_;
  }
  network.ports_by_mac.emplace(port.mac, port.id);
  for (const net::IpAddress& ip : port.ips) network.ports_by_ip.emplace(ip, port.id);
  network.ports.push_back(port.id);
  slot = std::make_unique<LocalPort>(std::move(port));
  return {};
}

void Tables::RemovePort(PortId id) {
  if (id >= ports_.size() || ports_[id] == nullptr) return;
  Unindex(*ports_[id]);
  ports_[id].reset();
  --port_count_;
}

void Tables::Unindex(const LocalPort& port) {
  const auto net_it = networks_.find(port.vni);
  if (net_it == networks_.end()) return;
  NetworkTables& network = net_it->second;
  // Only the entries that point at this port: another port may have taken an address since.
  if (const auto it = network.ports_by_mac.find(port.mac);
      it != network.ports_by_mac.end() && it->second == port.id) {
    network.ports_by_mac.erase(it);
  }
  for (const net::IpAddress& ip : port.ips) {
    if (const auto it = network.ports_by_ip.find(ip);
        it != network.ports_by_ip.end() && it->second == port.id) {
      network.ports_by_ip.erase(it);
    }
  }
  std::erase(network.ports, port.id);
}

const NetworkTables* Tables::Network(uint32_t vni) const {
  const auto it = networks_.find(vni);
  return it == networks_.end() ? nullptr : &it->second;
}

}  // namespace dove::dswitch::pipeline
