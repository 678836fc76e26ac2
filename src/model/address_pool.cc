#include "model/address_pool.h"

#include <array>
#include <limits>
#include <string>

#include "model/address_order.h"

namespace dove::model {
ModelResult<AddressPool> AddressPool::ForSubnet(const v1::Subnet& subnet) {
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  if (!prefix) {
    return Fail("invalid_value", "cidr \"" + subnet.cidr() + "\" of subnet \"" + subnet.id() +
                                     "\" is not a valid prefix.");
  }
  AddressPool pool(*prefix);
  const bool v4 = prefix->family() == net::IpFamily::kV4;
  const int host_bits = prefix->address().bits() - prefix->length();
  pool.window_last_ =
      host_bits >= 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << host_bits) - 1;
  pool.first_ = 0;
  pool.last_ = pool.window_last_;
  if (v4 && prefix->length() <= 30) {
    pool.first_ = 1;                     // network address
    pool.last_ = pool.window_last_ - 1;  // broadcast address
  }
  if (!v4 && prefix->length() <= 126) pool.first_ = 1;  // subnet-router anycast (RFC 6164)
  pool.free_ = FreeRanges(pool.first_, pool.last_);

  if (auto gateway = net::IpAddress::Parse(subnet.gateway())) {
    pool.gateway_ = pool.OffsetOf(*gateway);
    if (pool.gateway_) pool.free_.RemoveRange(*pool.gateway_, *pool.gateway_);
  }
  if (subnet.has_dhcp_range()) {
    auto first = net::IpAddress::Parse(subnet.dhcp_range().first());
    auto last = net::IpAddress::Parse(subnet.dhcp_range().last());
    if (first && last && prefix->Contains(*first) && prefix->Contains(*last) &&
        !AddressLess(*last, *first)) {
      // Clip to the window (only IPv6 prefixes shorter than /64 have addresses beyond it).
      const net::IpAddress window_end = pool.AddressAt(pool.window_last_);
      if (!AddressLess(window_end, *first)) {
        const uint64_t lo = *pool.OffsetOf(*first);
        const uint64_t hi =
            AddressLess(window_end, *last) ? pool.window_last_ : *pool.OffsetOf(*last);
        pool.dhcp_ = std::pair{lo, hi};
        pool.free_.RemoveRange(lo, hi);
      }
    }
  }
  return pool;
}

std::optional<uint64_t> AddressPool::OffsetOf(const net::IpAddress& ip) const {
  if (!prefix_.Contains(ip)) return std::nullopt;
  const auto base = prefix_.address().bytes();
  const auto bytes = ip.bytes();
  // Host bits beyond the last 8 bytes (IPv6 prefixes shorter than /64) must be zero.
  for (size_t i = 0; i + 8 < bytes.size(); ++i) {
    if (bytes[i] != base[i]) return std::nullopt;
  }
  uint64_t offset = 0;
  for (size_t i = bytes.size() >= 8 ? bytes.size() - 8 : 0; i < bytes.size(); ++i) {
    offset = (offset << 8) | static_cast<uint8_t>(bytes[i] ^ base[i]);
  }
  return offset;
}

// The host bits of a prefix are zero and offset <= window_last_, so OR-ing it in is addition
// without carry.
net::IpAddress AddressPool::AddressAt(uint64_t offset) const {
  if (prefix_.family() == net::IpFamily::kV4) {
    return net::Ipv4Address::FromUint32(prefix_.address().v4().ToUint32() |
                                        static_cast<uint32_t>(offset));
  }
  std::array<uint8_t, 16> bytes = prefix_.address().v6().bytes();
  for (int i = 15; i >= 8; --i) {
    bytes[i] |= static_cast<uint8_t>(offset);
    offset >>= 8;
  }
  return net::Ipv6Address(bytes);
}

std::optional<net::IpAddress> AddressPool::Lowest() const {
  auto lowest = free_.Lowest();
  if (!lowest) return std::nullopt;
  return AddressAt(*lowest);
}

bool AddressPool::Reserved(uint64_t offset) const {
  if (offset < first_ || offset > last_) return true;
  if (gateway_ && *gateway_ == offset) return true;
  return dhcp_ && offset >= dhcp_->first && offset <= dhcp_->second;
}

bool AddressPool::IsFree(const net::IpAddress& ip) const {
  const auto offset = OffsetOf(ip);
  return offset && free_.IsFree(*offset);
}

bool AddressPool::Take(const net::IpAddress& ip) {
  const auto offset = OffsetOf(ip);
  return offset && free_.Take(*offset);
}

bool AddressPool::Release(const net::IpAddress& ip) {
  const auto offset = OffsetOf(ip);
  return offset && !Reserved(*offset) && free_.Release(*offset);
}

}  // namespace dove::model
