#include "model/validation.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <unordered_set>

#include "model/address_order.h"
#include "model/free_ranges.h"
#include "model/labels.h"
#include "net/ip_prefix.h"
#include "net/mac_address.h"

namespace dove::model {
namespace {

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

ModelResult<net::IpAddress> ParseIp(std::string_view field, std::string_view text) {
  auto ip = net::IpAddress::Parse(text);
  if (!ip)
    return Fail("invalid_value",
                Quote(text) + " in " + std::string(field) + " is not an IPv4 or IPv6 address.");
  return *ip;
}

const v1::Subnet* SubnetHolding(const ModelView& view, std::string_view network_id,
                                const net::IpAddress& ip) {
  for (const auto* subnet : view.SubnetsOfNetwork(network_id)) {
    auto prefix = net::IpPrefix::Parse(subnet->cidr());
    if (prefix && prefix->Contains(ip)) return subnet;
  }
  return nullptr;
}

}  // namespace

bool IsReservedAddress(const net::IpPrefix& prefix, const net::IpAddress& ip) {
  const bool v4 = prefix.family() == net::IpFamily::kV4;
  if (v4 ? prefix.length() > 30 : prefix.length() > 126) return false;  // RFC 3021, RFC 6164
  if (ip == prefix.address()) return true;
  if (v4) {
    const uint32_t host_mask = 0xffffffffu >> prefix.length();
    return (ip.v4().ToUint32() & host_mask) == host_mask;
  }
  return false;
}

ModelResult<void> ValidateName(std::string_view field, std::string_view name) {
  if (name.empty()) return Fail("invalid_value", std::string(field) + " must not be empty.");
  if (name.size() > kMaxNameLength) {
    return Fail("invalid_value", std::string(field) + " is " + std::to_string(name.size()) +
                                     " characters long; the limit is " +
                                     std::to_string(kMaxNameLength) + ".");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Fail("invalid_value", std::string(field) + " " + Quote(name) +
                                       " may hold only letters, digits, '.', '_' and '-'.");
    }
  }
  if (name.front() == '.' || name.front() == '_' || name.front() == '-') {
    return Fail("invalid_value",
                std::string(field) + " " + Quote(name) + " must start with a letter or digit.");
  }
  return {};
}

ModelResult<void> ValidateDomain(const v1::Domain& domain) {
  if (auto ok = ValidateName("id", domain.id()); !ok) return ok;
  return ValidateName("name", domain.name());
}

ModelResult<void> ValidateNetwork(const ModelView& view, const v1::Network& network) {
  if (auto ok = ValidateName("id", network.id()); !ok) return ok;
  if (auto ok = ValidateName("name", network.name()); !ok) return ok;
  if (view.FindDomain(network.domain_id()) == nullptr) {
    return Fail("not_found", "domain_id " + Quote(network.domain_id()) + " names no domain.");
  }
  if (network.vni() < kMinVni || network.vni() > kMaxVni) {
    return Fail("invalid_value",
                "vni " + std::to_string(network.vni()) + " is outside 1..16777215.");
  }
  if (const auto* holder = view.FindNetworkByVni(network.vni());
      holder != nullptr && holder->id() != network.id()) {
    return Fail("conflict", "vni " + std::to_string(network.vni()) +
                                " is already used by network " + Quote(holder->id()) + ".");
  }
  return {};
}

ModelResult<void> ValidateSubnet(const ModelView& view, const v1::Subnet& subnet) {
  if (auto ok = ValidateName("id", subnet.id()); !ok) return ok;
  const auto* network = view.FindNetwork(subnet.network_id());
  if (network == nullptr) {
    return Fail("not_found", "network_id " + Quote(subnet.network_id()) + " names no network.");
  }
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  if (!prefix) {
    if (prefix.error() == net::Error::kBadField) {
      // Parse accepted the syntax, so "ADDRESS/LENGTH" splits cleanly.
      const std::string_view cidr = subnet.cidr();
      const auto slash = cidr.find('/');
      auto ip = net::IpAddress::Parse(cidr.substr(0, slash));
      int length = 0;
      std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), length);
      std::string hint = ".";
      if (ip) {
        if (auto masked = net::IpPrefix::Masked(*ip, length)) {
          hint = "; did you mean " + masked->ToString() + "?";
        }
      }
      return Fail("invalid_value", "cidr " + Quote(subnet.cidr()) + " has host bits set" + hint);
    }
    return Fail("invalid_value", "cidr " + Quote(subnet.cidr()) +
                                     " is not a prefix such as 10.0.0.0/24 or 2001:db8::/64.");
  }
  const bool v4 = prefix->family() == net::IpFamily::kV4;
  auto inside = [&](std::string_view field, std::string_view text) -> ModelResult<net::IpAddress> {
    auto ip = ParseIp(field, text);
    if (!ip) return ip;
    if (!prefix->Contains(*ip)) {
      return Fail("invalid_value", std::string(field) + " " + Quote(text) + " is not inside " +
                                       prefix->ToString() + ".");
    }
    return ip;
  };
  std::optional<net::IpAddress> gateway;
  if (!subnet.gateway().empty()) {
    auto ip = inside("gateway", subnet.gateway());
    if (!ip) return Unexpected(ip.error());
    if (IsReservedAddress(*prefix, *ip)) {
      return Fail("invalid_value", "gateway " + Quote(subnet.gateway()) +
                                       " is the network or broadcast address of " +
                                       prefix->ToString() + ".");
    }
    gateway = *ip;
  }
  if (subnet.has_dhcp_range()) {
    auto first = inside("dhcp_range.first", subnet.dhcp_range().first());
    if (!first) return Unexpected(first.error());
    auto last = inside("dhcp_range.last", subnet.dhcp_range().last());
    if (!last) return Unexpected(last.error());
    if (AddressLess(*last, *first)) {
      return Fail("invalid_value", "dhcp_range.first " + Quote(subnet.dhcp_range().first()) +
                                       " is after dhcp_range.last " +
                                       Quote(subnet.dhcp_range().last()) + ".");
    }
    if (gateway && InRange(*gateway, *first, *last)) {
      return Fail("invalid_value", "gateway " + Quote(subnet.gateway()) + " is inside dhcp_range.");
    }
  }
  for (const auto& dns : subnet.dns_servers()) {
    if (auto ip = ParseIp("dns_servers", dns); !ip) return Unexpected(ip.error());
  }
  if (subnet.mtu() != 0) {
    const uint32_t min = v4 ? 68 : 1280;
    if (subnet.mtu() < min || subnet.mtu() > 9000) {
      return Fail("invalid_value", "mtu " + std::to_string(subnet.mtu()) + " is outside " +
                                       std::to_string(min) + "..9000 for " +
                                       (v4 ? "IPv4." : "IPv6."));
    }
  }
  for (const auto* other : view.SubnetsOfDomain(network->domain_id())) {
    if (other->id() == subnet.id()) continue;
    auto other_prefix = net::IpPrefix::Parse(other->cidr());
    if (other_prefix && other_prefix->Overlaps(*prefix)) {
      return Fail("conflict", "cidr " + prefix->ToString() + " overlaps " +
                                  other_prefix->ToString() + " of subnet " + Quote(other->id()) +
                                  " in the same domain.");
    }
  }
  return {};
}

ModelResult<void> ValidateEndpoint(const ModelView& view, const v1::Endpoint& endpoint) {
  if (auto ok = ValidateName("id", endpoint.id()); !ok) return ok;
  const auto* network = view.FindNetwork(endpoint.network_id());
  if (network == nullptr) {
    return Fail("not_found", "network_id " + Quote(endpoint.network_id()) + " names no network.");
  }
  if (!endpoint.name().empty()) {
    if (auto ok = ValidateName("name", endpoint.name()); !ok) return ok;
    if (const auto other = view.FindEndpointByName(network->id(), endpoint.name());
        other && other->id() != endpoint.id()) {
      return Fail("conflict", "name " + Quote(endpoint.name()) + " is already used by endpoint " +
                                  Quote(other->id()) + " in network " + Quote(network->id()) + ".");
    }
  }
  if (auto ok = ValidateLabels(endpoint.labels()); !ok) return ok;
  auto mac = net::MacAddress::Parse(endpoint.mac());
  if (!mac) {
    return Fail("invalid_value",
                "mac " + Quote(endpoint.mac()) + " is not of the form 52:54:00:12:34:56.");
  }
  if (mac->IsMulticast() || mac->IsZero()) {
    return Fail("invalid_value", "mac " + Quote(endpoint.mac()) +
                                     " is not a unicast address (multicast bit or all zero).");
  }
  if (const auto other = view.FindEndpointByMac(network->id(), *mac);
      other && other->id() != endpoint.id()) {
    return Fail("conflict", "mac " + mac->ToString() + " is already used by endpoint " +
                                Quote(other->id()) + " in network " + Quote(network->id()) + ".");
  }
  std::unordered_set<net::IpAddress> seen;
  for (const auto& text : endpoint.ips()) {
    auto ip = ParseIp("ips", text);
    if (!ip) return Unexpected(ip.error());
    if (!seen.insert(*ip).second) {
      return Fail("invalid_value", "ips lists " + Quote(text) + " twice.");
    }
    const auto* subnet = SubnetHolding(view, network->id(), *ip);
    if (subnet == nullptr) {
      return Fail("invalid_value", "ip " + Quote(text) + " is not inside any subnet of network " +
                                       Quote(network->id()) + ".");
    }
    auto prefix = net::IpPrefix::Parse(subnet->cidr());
    if (IsReservedAddress(*prefix, *ip)) {
      return Fail("invalid_value", "ip " + Quote(text) +
                                       " is the network or broadcast address of subnet " +
                                       Quote(subnet->id()) + ".");
    }
    if (auto gw = net::IpAddress::Parse(subnet->gateway()); gw && *gw == *ip) {
      return Fail("conflict",
                  "ip " + Quote(text) + " is the gateway of subnet " + Quote(subnet->id()) + ".");
    }
    if (const auto other = view.FindEndpointByIp(network->domain_id(), *ip);
        other && other->id() != endpoint.id()) {
      return Fail("conflict", "ip " + ip->ToString() + " is already used by endpoint " +
                                  Quote(other->id()) + " in domain " + Quote(network->domain_id()) +
                                  ".");
    }
  }
  if (!endpoint.switch_name().empty()) {
    if (auto ok = ValidateName("switch_name", endpoint.switch_name()); !ok) return ok;
  }
  if (!endpoint.port_name().empty()) {
    if (auto ok = ValidateName("port_name", endpoint.port_name()); !ok) return ok;
  }
  if (!v1::PortKind_IsValid(endpoint.port_kind())) {
    return Fail("invalid_value",
                "port_kind " + std::to_string(endpoint.port_kind()) + " is not a known kind.");
  }
  if (endpoint.port_kind() == v1::PORT_KIND_PACKET && endpoint.port_name().empty()) {
    return Fail("invalid_value",
                "port_kind PORT_KIND_PACKET needs a port_name: the interface the switch attaches "
                "to (it does not create one).");
  }
  return {};
}

ModelResult<void> ValidateSwitch(const v1::Switch& sw) {
  if (auto ok = ValidateName("id", sw.id()); !ok) return ok;
  if (auto ok = ValidateName("name", sw.name()); !ok) return ok;
  if (auto ip = ParseIp("tunnel_ip", sw.tunnel_ip()); !ip) return Unexpected(ip.error());
  if (!v1::Switch::State_IsValid(sw.state())) {
    return Fail("invalid_value", "state " + std::to_string(sw.state()) + " is not a known state.");
  }
  return {};
}

ModelResult<void> ValidatePolicy(const ModelView& view, const v1::Policy& policy) {
  if (auto ok = ValidateName("id", policy.id()); !ok) return ok;
  if (view.FindDomain(policy.domain_id()) == nullptr) {
    return Fail("not_found", "domain_id " + Quote(policy.domain_id()) + " names no domain.");
  }
  for (const auto& [field, id] :
       {std::pair{"source_network_id", policy.source_network_id()},
        std::pair{"destination_network_id", policy.destination_network_id()}}) {
    const auto* network = view.FindNetwork(id);
    if (network == nullptr) {
      return Fail("not_found", std::string(field) + " " + Quote(id) + " names no network.");
    }
    if (network->domain_id() != policy.domain_id()) {
      return Fail("invalid_value", std::string(field) + " " + Quote(id) +
                                       " is a network of domain " + Quote(network->domain_id()) +
                                       ", not of " + Quote(policy.domain_id()) + ".");
    }
  }
  if (policy.action() != v1::Policy::ACTION_ALLOW && policy.action() != v1::Policy::ACTION_DENY &&
      policy.action() != v1::Policy::ACTION_REJECT) {
    return Fail("invalid_value", "action must be ACTION_ALLOW, ACTION_DENY or ACTION_REJECT.");
  }
  if (policy.protocol() > 255) {
    return Fail("invalid_value",
                "protocol " + std::to_string(policy.protocol()) + " is outside 0..255.");
  }
  if (policy.has_port_range()) {
    if (policy.protocol() != 6 && policy.protocol() != 17) {
      return Fail("invalid_value", "port_range needs protocol 6 (TCP) or 17 (UDP).");
    }
    const auto& range = policy.port_range();
    if (range.first() < 1 || range.first() > 65535 || range.last() < 1 || range.last() > 65535) {
      return Fail("invalid_value", "port_range " + std::to_string(range.first()) + ".." +
                                       std::to_string(range.last()) + " is outside 1..65535.");
    }
    if (range.first() > range.last()) {
      return Fail("invalid_value", "port_range.first " + std::to_string(range.first()) +
                                       " is after port_range.last " + std::to_string(range.last()) +
                                       ".");
    }
  }
  return {};
}

ModelResult<uint32_t> AllocateVni(const ModelView& view, uint32_t start) {
  if (const FreeRanges* free = view.FreeVnis()) {
    if (auto vni = free->LowestFrom(std::max(start, kMinVni)); vni && *vni <= kMaxVni) {
      return static_cast<uint32_t>(*vni);
    }
  } else {
    for (uint32_t vni = std::max(start, kMinVni); vni <= kMaxVni; ++vni) {
      if (view.FindNetworkByVni(vni) == nullptr) return vni;
    }
  }
  return Fail("vni_exhausted",
              "No VNI is free from " + std::to_string(std::max(start, kMinVni)) + " to 16777215.");
}

}  // namespace dove::model
