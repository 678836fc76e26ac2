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

namespace {

// The scan range of a subnet: offsets [begin, end) are candidates.
struct ScanRange {
  net::IpPrefix prefix;
  uint64_t begin = 0;
  uint64_t end = 0;
};

ScanRange RangeOf(const net::IpPrefix& prefix) {
  const bool v4 = prefix.family() == net::IpFamily::kV4;
  const int host_bits = prefix.address().bits() - prefix.length();
  uint64_t count = host_bits >= 63 ? kIpv6ScanLimit : uint64_t{1} << host_bits;
  if (!v4) count = std::min(count, kIpv6ScanLimit);
  ScanRange range{prefix, 0, count};
  if (v4 && prefix.length() <= 30) {
    range.begin = 1;        // network address
    range.end = count - 1;  // broadcast address
  }
  if (!v4 && prefix.length() <= 126) range.begin = 1;  // subnet-router anycast (RFC 6164)
  return range;
}

}  // namespace

std::optional<uint64_t> OffsetInPrefix(const net::IpPrefix& prefix, const net::IpAddress& ip) {
  if (!prefix.Contains(ip)) return std::nullopt;
  const auto base = prefix.address().bytes();
  const auto bytes = ip.bytes();
  // Host bits beyond the last 8 bytes (IPv6 prefixes shorter than /64) must be zero for the
  // offset to be in the scanned range.
  for (size_t i = 0; i + 8 < bytes.size(); ++i) {
    if (bytes[i] != base[i]) return std::nullopt;
  }
  uint64_t offset = 0;
  for (size_t i = bytes.size() >= 8 ? bytes.size() - 8 : 0; i < bytes.size(); ++i) {
    offset = (offset << 8) | static_cast<uint8_t>(bytes[i] ^ base[i]);
  }
  if (offset >= RangeOf(prefix).end && !ip.is_v4()) return std::nullopt;
  return offset;
}

ModelResult<uint64_t> FirstFreeOffset(const ModelView& view, const v1::Subnet& subnet,
                                      uint64_t from) {
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
  const ScanRange range = RangeOf(*prefix);
  for (uint64_t offset = std::max(from, range.begin); offset < range.end; ++offset) {
    const net::IpAddress ip = AddressAt(*prefix, offset);
    if (gateway && *gateway == ip) continue;
    if (view.FindEndpointByIp(network->domain_id(), ip) != nullptr) continue;
    if (dhcp_first && InRange(ip, *dhcp_first, *dhcp_last)) continue;
    return offset;
  }
  const bool v4 = prefix->family() == net::IpFamily::kV4;
  return Fail("subnet_full", "Subnet \"" + subnet.id() + "\" (" + prefix->ToString() +
                                 ") has no free address" +
                                 (v4 ? "." : " among its first 65536 addresses."));
}

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet) {
  auto offset = FirstFreeOffset(view, subnet, view.IpamScanStart(subnet.id()));
  if (!offset) return Unexpected(offset.error());
  return AddressAt(*net::IpPrefix::Parse(subnet.cidr()), *offset);
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
