#include "model/ipam.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "model/address_order.h"
#include "net/ip_prefix.h"

namespace dove::model {
namespace {

// The address `offset` hosts above the prefix address. The host bits of a prefix are zero
// and offset < 2^(host bits), so OR-ing it in is addition without carry.
net::IpAddress AddressAt(const net::IpPrefix& prefix, uint64_t offset) {
  if (prefix.family() == net::IpFamily::kV4) {
    return net::Ipv4Address::FromUint32(prefix.address().v4().ToUint32() |
                                        static_cast<uint32_t>(offset));
  }
  std::array<uint8_t, 16> bytes = prefix.address().v6().bytes();
  for (int i = 15; i >= 8; --i) {
    bytes[i] |= static_cast<uint8_t>(offset);
    offset >>= 8;
  }
  return net::Ipv6Address(bytes);
}

}  // namespace

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet) {
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  if (!prefix) {
    return Fail("invalid_value", "cidr \"" + subnet.cidr() + "\" of subnet \"" + subnet.id() +
                                     "\" is not a valid prefix.");
  }
  const auto* network = view.FindNetwork(subnet.network_id());
  if (network == nullptr) {
    return Fail("not_found", "network_id \"" + subnet.network_id() + "\" names no network.");
  }
  const auto gateway = net::IpAddress::Parse(subnet.gateway());
  std::optional<net::IpAddress> dhcp_first;
  std::optional<net::IpAddress> dhcp_last;
  if (subnet.has_dhcp_range()) {
    auto first = net::IpAddress::Parse(subnet.dhcp_range().first());
    auto last = net::IpAddress::Parse(subnet.dhcp_range().last());
    if (first && last) {
      dhcp_first = *first;
      dhcp_last = *last;
    }
  }
  const bool v4 = prefix->family() == net::IpFamily::kV4;
  const int host_bits = prefix->address().bits() - prefix->length();
  uint64_t count = host_bits >= 63 ? kIpv6ScanLimit : uint64_t{1} << host_bits;
  if (!v4) count = std::min(count, kIpv6ScanLimit);
  uint64_t begin = 0;
  uint64_t end = count;
  if (v4 && prefix->length() <= 30) {
    begin = 1;        // network address
    end = count - 1;  // broadcast address
  }
  if (!v4) begin = 1;  // subnet-router anycast
  for (uint64_t offset = begin; offset < end; ++offset) {
    const net::IpAddress ip = AddressAt(*prefix, offset);
    if (gateway && *gateway == ip) continue;
    if (view.FindEndpointByIp(network->domain_id(), ip) != nullptr) continue;
    if (dhcp_first && InRange(ip, *dhcp_first, *dhcp_last)) continue;
    return ip;
  }
  return Fail("subnet_full", "Subnet \"" + subnet.id() + "\" (" + prefix->ToString() +
                                 ") has no free address" +
                                 (v4 ? "." : " among its first 65536 addresses."));
}

ModelResult<void> AssignAddresses(const ModelView& view, v1::Endpoint* endpoint) {
  if (endpoint->ips_size() > 0) return {};
  const auto subnets = view.SubnetsOfNetwork(endpoint->network_id());
  if (subnets.empty()) {
    return Fail("not_found", "network \"" + endpoint->network_id() +
                                 "\" has no subnet to allocate an address from.");
  }
  for (const auto* subnet : subnets) {
    auto ip = NextFreeAddress(view, *subnet);
    if (!ip) {
      endpoint->clear_ips();
      return Unexpected(ip.error());
    }
    endpoint->add_ips(ip->ToString());
  }
  return {};
}

}  // namespace dove::model
