#include "dswitch/userspace/network_of.h"

#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace dove::dswitch::userspace {
namespace {

using pipeline::PolicyRule;

std::optional<net::Ipv4Address> TunnelIp(const std::string& text, const std::string& what,
                                         std::vector<std::string>& skipped) {
  auto ip = net::Ipv4Address::Parse(text);
  if (!ip) skipped.push_back(what + " '" + text + "' is not IPv4");
  return ip ? std::optional(*ip) : std::nullopt;
}

// An empty text is no gateway; otherwise it must parse and lie in `prefix`.
bool ParseGateway(const std::string& text, const net::IpPrefix& prefix,
                  std::optional<net::IpAddress>& gateway) {
  if (text.empty()) return true;
  auto ip = net::IpAddress::Parse(text);
  if (!ip || !prefix.Contains(*ip)) return false;
  gateway = *ip;
  return true;
}

std::optional<pipeline::SubnetSettings> SubnetOf(const dove::v1::Subnet& subnet,
                                                 const std::string& where,
                                                 std::vector<std::string>& skipped) {
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  pipeline::SubnetSettings out;
  if (!prefix || !ParseGateway(subnet.gateway(), *prefix, out.gateway)) {
    skipped.push_back(where + ": subnet '" + subnet.cidr() + "' with gateway '" + subnet.gateway() +
                      "' does not parse");
    return std::nullopt;
  }
  out.prefix = *prefix;
  for (const auto& text : subnet.dns_servers()) {
    if (auto ip = net::IpAddress::Parse(text); ip) {
      out.dns_servers.push_back(*ip);
    } else {
      std::string line = where;
      line.append(": DNS server '").append(text).append("' is not an IP address");
      skipped.push_back(std::move(line));
    }
  }
  out.mtu = subnet.mtu();
  return out;
}

std::optional<PolicyRule::Action> ActionOf(dove::v1::Policy::Action action) {
  switch (action) {
    case dove::v1::Policy::ACTION_ALLOW:
      return PolicyRule::Action::kAllow;
    case dove::v1::Policy::ACTION_DENY:
      return PolicyRule::Action::kDeny;
    case dove::v1::Policy::ACTION_REJECT:
      return PolicyRule::Action::kReject;
    default:
      return std::nullopt;
  }
}

std::optional<PolicyRule> PolicyOf(const dove::v1::Policy& policy,
                                   const std::map<std::string, uint32_t>& vnis,
                                   const std::string& where, std::vector<std::string>& skipped) {
  const auto source = vnis.find(policy.source_network_id());
  const auto destination = vnis.find(policy.destination_network_id());
  const auto action = ActionOf(policy.action());
  const bool ports = policy.has_port_range();
  const uint32_t first = ports ? policy.port_range().first() : 0;
  const uint32_t last = ports ? policy.port_range().last() : 0;
  const uint32_t max_port = std::numeric_limits<uint16_t>::max();
  if (source == vnis.end() || destination == vnis.end()) {
    skipped.push_back(where + ": policy " + policy.id() + " names a network without subnets");
    return std::nullopt;
  }
  if (!action || policy.protocol() > 255 ||
      (ports && (first == 0 || first > last || last > max_port))) {
    skipped.push_back(where + ": policy " + policy.id() + " is out of range");
    return std::nullopt;
  }
  return PolicyRule{.id = policy.id(),
                    .source_vni = source->second,
                    .destination_vni = destination->second,
                    .action = *action,
                    .protocol = static_cast<uint8_t>(policy.protocol()),
                    .first_port = static_cast<uint16_t>(first),
                    .last_port = static_cast<uint16_t>(last),
                    .priority = policy.priority()};
}

}  // namespace

DesiredNetwork NetworkOf(const agent::CachedNetwork& network, std::vector<std::string>& skipped) {
  const dove::v1::NetworkConfig& config = *network.config;
  const std::string where = "network " + std::to_string(network.vni);
  DesiredNetwork desired{.vni = network.vni,
                         .network_id = config.network().id(),
                         .router_mac = {},
                         .flood_tunnel_ips = {},
                         .domain_tunnel_ips = {},
                         .subnets = {},
                         .routes = {},
                         .policies = {}};
  if (auto mac = net::MacAddress::Parse(config.router_mac()); mac) desired.router_mac = *mac;
  for (const auto& text : network.flood_tunnel_ips) {
    if (auto ip = TunnelIp(text, where + ": flood tunnel IP", skipped)) {
      desired.flood_tunnel_ips.push_back(*ip);
    }
  }
  for (const auto& text : config.domain_tunnel_ips()) {
    if (auto ip = TunnelIp(text, where + ": domain tunnel IP", skipped)) {
      desired.domain_tunnel_ips.push_back(*ip);
    }
  }
  for (const auto& subnet : config.subnets()) {
    if (auto parsed = SubnetOf(subnet, where, skipped)) desired.subnets.push_back(*parsed);
  }
  // Network ids as VNIs: this network's own, and every network with a subnet in the domain.
  std::map<std::string, uint32_t> vnis{{config.network().id(), network.vni}};
  for (const auto& routed : config.domain_subnets()) {
    auto prefix = net::IpPrefix::Parse(routed.cidr());
    pipeline::Route route{.prefix = {}, .gateway = std::nullopt, .vni = routed.vni()};
    if (!prefix || routed.vni() == 0 || !ParseGateway(routed.gateway(), *prefix, route.gateway)) {
      skipped.push_back(where + ": route to '" + routed.cidr() + "' does not parse");
      continue;
    }
    route.prefix = *prefix;
    desired.routes.push_back(route);
    vnis.emplace(routed.network_id(), routed.vni());
  }
  for (const auto& policy : config.policies()) {
    if (auto rule = PolicyOf(policy, vnis, where, skipped)) desired.policies.push_back(*rule);
  }
  return desired;
}

pipeline::NetworkSettings DesiredNetwork::Settings() const {
  return pipeline::NetworkSettings{.vni = vni,
                                   .router_mac = router_mac,
                                   .flood_tunnel_ips = flood_tunnel_ips,
                                   .domain_tunnel_ips = domain_tunnel_ips,
                                   .subnets = subnets,
                                   .routes = routes,
                                   .policies = policies};
}

}  // namespace dove::dswitch::userspace
