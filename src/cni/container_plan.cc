#include "cni/container_plan.h"

#include <algorithm>

#include "net/ip_prefix.h"

namespace dove::cni {
namespace {

using nlohmann::json;

CniError Refused(const std::string& msg) { return CniError{kControllerRefused, msg, ""}; }

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Expected<ContainerPlan, CniError> PlanContainer(const json& endpoint, const json& subnets) {
  ContainerPlan plan;
  const std::string id = StringAt(endpoint, "id");
  auto mac = net::MacAddress::Parse(StringAt(endpoint, "mac"));
  if (!mac || mac->IsZero() || mac->IsMulticast()) {
    return Unexpected(Refused("Endpoint " + id + " has no valid MAC address."));
  }
  plan.mac = *mac;
  auto ips = endpoint.find("ips");
  if (ips == endpoint.end() || !ips->is_array() || ips->empty()) {
    return Unexpected(Refused("Endpoint " + id +
                              " has no IP address (does its network have a "
                              "subnet?)."));
  }
  for (const auto& text : *ips) {
    auto ip = net::IpAddress::Parse(text.is_string() ? text.get<std::string>() : "");
    if (!ip)
      return Unexpected(Refused("Endpoint " + id + " has an invalid IP " + text.dump() + "."));
    bool placed = false;
    for (const auto& subnet : subnets) {
      auto cidr = net::IpPrefix::Parse(StringAt(subnet, "cidr"));
      if (!cidr || !cidr->Contains(*ip)) continue;
      PlannedAddress address{.ip = *ip, .prefix_length = cidr->length(), .gateway = std::nullopt};
      if (auto gateway = net::IpAddress::Parse(StringAt(subnet, "gateway")); gateway) {
        address.gateway = *gateway;
      }
      plan.addresses.push_back(address);
      if (auto dns = subnet.find("dns_servers"); dns != subnet.end() && dns->is_array()) {
        for (const auto& server : *dns) {
          if (!server.is_string()) continue;
          const auto name = server.get<std::string>();
          if (std::find(plan.nameservers.begin(), plan.nameservers.end(), name) ==
              plan.nameservers.end()) {
            plan.nameservers.push_back(name);
          }
        }
      }
      placed = true;
      break;
    }
    if (!placed) {
      return Unexpected(
          Refused("Endpoint " + id + "'s IP " + ip->ToString() + " is in none of its subnets."));
    }
  }
  plan.subnet_mtu = SmallestMtu(subnets);
  return plan;
}

uint32_t SmallestMtu(const json& subnets) {
  uint32_t smallest = 0;
  for (const auto& subnet : subnets) {
    auto mtu = subnet.find("mtu");
    if (mtu == subnet.end() || !mtu->is_number_unsigned()) continue;
    const auto value = mtu->get<uint32_t>();
    if (value != 0 && (smallest == 0 || value < smallest)) smallest = value;
  }
  return smallest;
}

json ResultJson(std::string_view cni_version, const ContainerPlan& plan,
                const Attachment& attachment) {
  const bool v040 = cni_version == "0.4.0";
  json interfaces = json::array(
      {{{"name", attachment.host_veth}, {"mac", attachment.host_mac.ToString()}},
       {{"name", attachment.ifname}, {"mac", plan.mac.ToString()}, {"sandbox", attachment.netns}}});
  json ips = json::array();
  json routes = json::array();
  bool v4_route = false;
  bool v6_route = false;
  for (const auto& address : plan.addresses) {
    json ip = {{"address", address.ip.ToString() + "/" + std::to_string(address.prefix_length)},
               {"interface", 1}};
    if (v040) ip["version"] = address.ip.is_v4() ? "4" : "6";
    if (address.gateway) {
      ip["gateway"] = address.gateway->ToString();
      bool& routed = address.ip.is_v4() ? v4_route : v6_route;
      if (!routed) {
        routes.push_back({{"dst", address.ip.is_v4() ? "0.0.0.0/0" : "::/0"},
                          {"gw", address.gateway->ToString()}});
        routed = true;
      }
    }
    ips.push_back(ip);
  }
  json dns = json::object();
  if (!plan.nameservers.empty()) dns["nameservers"] = plan.nameservers;
  return json{{"cniVersion", std::string(cni_version)},
              {"interfaces", interfaces},
              {"ips", ips},
              {"routes", routes},
              {"dns", dns}};
}

}  // namespace dove::cni
