#include "model/address_pool.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <string>

#include "model/address_order.h"

namespace dove::model {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Size of [first, last]. Never [0, kMax]: a window of 2^64 offsets (IPv6 up to /64) reserves
// offset 0, so every range fits the count.
uint64_t SizeOf(uint64_t first, uint64_t last) { return last - first + 1; }

}  // namespace

ModelResult<AddressPool> AddressPool::ForSubnet(const v1::Subnet& subnet) {
  auto prefix = net::IpPrefix::Parse(subnet.cidr());
  if (!prefix) {
    return Fail("invalid_value", "cidr \"" + subnet.cidr() + "\" of subnet \"" + subnet.id() +
                                     "\" is not a valid prefix.");
  }
  AddressPool pool(*prefix);
  const bool v4 = prefix->family() == net::IpFamily::kV4;
  const int host_bits = prefix->address().bits() - prefix->length();
  pool.window_last_ = host_bits >= 64 ? kMax : (uint64_t{1} << host_bits) - 1;
  pool.first_ = 0;
  pool.last_ = pool.window_last_;
  if (v4 && prefix->length() <= 30) {
    pool.first_ = 1;                     // network address
    pool.last_ = pool.window_last_ - 1;  // broadcast address
  }
  if (!v4 && prefix->length() <= 126) pool.first_ = 1;  // subnet-router anycast (RFC 6164)
  pool.free_.emplace(pool.first_, pool.last_);
  pool.free_count_ = SizeOf(pool.first_, pool.last_);

  if (auto gateway = net::IpAddress::Parse(subnet.gateway())) {
    pool.gateway_ = pool.OffsetOf(*gateway);
    if (pool.gateway_) pool.RemoveRange(*pool.gateway_, *pool.gateway_);
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
        pool.RemoveRange(lo, hi);
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
  if (free_.empty()) return std::nullopt;
  return AddressAt(free_.begin()->first);
}

bool AddressPool::Reserved(uint64_t offset) const {
  if (offset < first_ || offset > last_) return true;
  if (gateway_ && *gateway_ == offset) return true;
  return dhcp_ && offset >= dhcp_->first && offset <= dhcp_->second;
}

bool AddressPool::IsFree(const net::IpAddress& ip) const {
  const auto offset = OffsetOf(ip);
  if (!offset) return false;
  auto it = free_.upper_bound(*offset);
  if (it == free_.begin()) return false;
  --it;
  return *offset <= it->second;
}

bool AddressPool::Take(const net::IpAddress& ip) {
  if (!IsFree(ip)) return false;
  const uint64_t offset = *OffsetOf(ip);
  RemoveRange(offset, offset);
  return true;
}

bool AddressPool::Release(const net::IpAddress& ip) {
  const auto offset = OffsetOf(ip);
  if (!offset || Reserved(*offset) || IsFree(ip)) return false;
  uint64_t first = *offset;
  uint64_t last = *offset;
  // Merge with the range ending just below, and the one starting just above.
  auto next = free_.upper_bound(*offset);
  if (next != free_.begin()) {
    auto before = std::prev(next);
    if (before->second + 1 == *offset) {
      first = before->first;
      free_.erase(before);
    }
  }
  if (next != free_.end() && *offset != kMax && next->first == *offset + 1) {
    last = next->second;
    free_.erase(next);
  }
  free_.emplace(first, last);
  ++free_count_;
  return true;
}

void AddressPool::RemoveRange(uint64_t first, uint64_t last) {
  // The first range that could overlap: the one starting at or before `first`, if it reaches it.
  auto it = free_.upper_bound(first);
  if (it != free_.begin() && std::prev(it)->second >= first) --it;
  while (it != free_.end() && it->first <= last) {
    const uint64_t range_first = it->first;
    const uint64_t range_last = it->second;
    const uint64_t cut_first = std::max(range_first, first);
    const uint64_t cut_last = std::min(range_last, last);
    free_count_ -= SizeOf(cut_first, cut_last);
    it = free_.erase(it);
    if (range_first < cut_first) free_.emplace(range_first, cut_first - 1);
    if (range_last > cut_last) it = free_.emplace(cut_last + 1, range_last).first;
  }
}

}  // namespace dove::model
