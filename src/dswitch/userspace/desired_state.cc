#include "dswitch/userspace/desired_state.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

namespace dove::dswitch::userspace {
namespace {

// The MAC and IPs of `location`, or why they cannot be used.
struct Addresses {
  net::MacAddress mac;
  std::vector<net::IpAddress> ips;
};
std::optional<Addresses> AddressesOf(const dove::v1::Location& location, std::string& why) {
  auto mac = net::MacAddress::Parse(location.mac());
  if (!mac || mac->IsMulticast()) {
    why = "endpoint " + location.endpoint_id() + ": unusable MAC '" + location.mac() + "'";
    return std::nullopt;
  }
  Addresses out{*mac, {}};
  for (const auto& text : location.ips()) {
    auto ip = net::IpAddress::Parse(text);
    if (!ip) {
      why = "endpoint " + location.endpoint_id() + ": unusable IP '" + text + "'";
      return std::nullopt;
    }
    out.ips.push_back(*ip);
  }
  return out;
}

}  // namespace

std::string PortNameFor(std::string_view endpoint_id) {
  std::string name = "dv";
  for (char c : endpoint_id) {
    if (name.size() == 15) break;
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) name.push_back(c);
  }
  return name;
}

DesiredState DeriveDesiredState(const agent::CacheDump& dump, std::string_view switch_name) {
  DesiredState out;
  // The newest word on each endpoint: config local lists first, cached locations over them
  // when at least as new.
  std::map<std::string, dove::v1::Location> newest;
  const auto offer = [&](const dove::v1::Location& location) {
    const std::string key = location.endpoint_id().empty()
                                ? std::to_string(location.vni()) + "/" + location.mac()
                                : location.endpoint_id();
    auto [it, inserted] = newest.try_emplace(key, location);
    if (!inserted && location.version() >= it->second.version()) it->second = location;
  };
  std::map<uint32_t, const dove::v1::NetworkConfig*> configs;
  for (const auto& network : dump.networks) {
    if (!network.config) continue;
    configs[network.vni] = &*network.config;
    DesiredNetwork desired{.vni = network.vni,
                           .network_id = network.config->network().id(),
                           .router_mac = {},
                           .flood_tunnel_ips = {}};
    if (auto mac = net::MacAddress::Parse(network.config->router_mac()); mac) {
      desired.router_mac = *mac;
    }
    for (const auto& text : network.flood_tunnel_ips) {
      if (auto ip = net::Ipv4Address::Parse(text); ip) {
        desired.flood_tunnel_ips.push_back(*ip);
      } else {
        out.skipped.push_back("network " + std::to_string(network.vni) + ": flood tunnel IP '" +
                              text + "' is not IPv4");
      }
    }
    out.networks.push_back(std::move(desired));
    for (const auto& local : network.config->local_endpoints()) offer(local);
  }
  for (const auto& cached : dump.endpoints) offer(cached.location);

  for (const auto& [key, location] : newest) {
    std::string why;
    auto addresses = AddressesOf(location, why);
    if (!addresses) {
      out.skipped.push_back(std::move(why));
      continue;
    }
    if (location.switch_name() == switch_name) {
      if (configs.count(location.vni()) == 0) {
        out.skipped.push_back("endpoint " + location.endpoint_id() + ": no config for VNI " +
                              std::to_string(location.vni()) + " yet");
        continue;
      }
      std::string port_name =
          location.port_name().empty() ? PortNameFor(location.endpoint_id()) : location.port_name();
      out.ports.push_back(
          {location, std::move(port_name), addresses->mac, std::move(addresses->ips)});
      continue;
    }
    if (location.switch_name().empty() || location.tunnel_ip().empty()) continue;
    auto tunnel = net::Ipv4Address::Parse(location.tunnel_ip());
    if (!tunnel) {
      out.skipped.push_back("endpoint " + location.endpoint_id() + ": tunnel IP '" +
                            location.tunnel_ip() + "' is not IPv4");
      continue;
    }
    out.remotes.push_back({location.vni(), addresses->mac, *tunnel, std::move(addresses->ips)});
  }
  std::sort(out.ports.begin(), out.ports.end(),
            [](const DesiredPort& a, const DesiredPort& b) { return a.port_name < b.port_name; });
  return out;
}

}  // namespace dove::dswitch::userspace
