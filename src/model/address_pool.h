// AddressPool: the free addresses of one subnet, kept as disjoint ranges of offsets, so that
// IPAM never scans addresses.
//
// An offset is an address's distance from the subnet's prefix address. The window of a subnet
// is every offset of its prefix (IPv4, and IPv6 up to /64) or the first 2^64 of them (IPv6
// shorter than /64: the host bits above the last 64 stay zero). Reserved, never free: the IPv4
// network and broadcast addresses (prefixes up to /30; /31 and /32 use every address, RFC
// 3021), the IPv6 subnet-router anycast address (the prefix address; up to /126, RFC 6164), the
// gateway, and every address of the DHCP range (DHCP hands those out). Free = window minus
// reserved minus taken.
//
// Cost: Lowest() O(1); Take, Release and IsFree O(log r), where r is the number of free ranges
// (at most one more than the taken addresses; 1 for a subnet filled from the bottom). Memory:
// one map node per range, whatever the prefix length (a /1 or an IPv6 /64 costs what a /24 does).
// ForSubnet is O(1). Not thread-safe; a value type.
//
//   auto pool = AddressPool::ForSubnet(subnet);       // 10.0.0.0/24, gateway 10.0.0.1
//   pool->Lowest();                                   // 10.0.0.2
//   pool->Take(*net::IpAddress::Parse("10.0.0.2"));   // true; now 10.0.0.3 is the lowest
#pragma once

#include <cstdint>
#include <optional>

#include "dove/v1/model.pb.h"
#include "model/free_ranges.h"
#include "model/model_error.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"

namespace dove::model {

class AddressPool {
 public:
  // Everything of the window free but the reserved addresses. invalid_value when the cidr is
  // not a prefix; an unparseable gateway or DHCP range reserves nothing (validation refuses them).
  static ModelResult<AddressPool> ForSubnet(const v1::Subnet& subnet);

  const net::IpPrefix& prefix() const { return prefix_; }
  // The lowest free address; nullopt when the subnet is full.
  std::optional<net::IpAddress> Lowest() const;
  // Marks `ip` taken. False (and nothing changes) when it was not free: reserved, outside the
  // window, or taken already.
  bool Take(const net::IpAddress& ip);
  // Makes `ip` free again. False (and nothing changes) when it is reserved, outside the window,
  // or free already.
  bool Release(const net::IpAddress& ip);
  bool IsFree(const net::IpAddress& ip) const;
  // How many addresses are free (at most 2^64 - 1: an empty IPv6 /64).
  uint64_t FreeCount() const { return free_.Count(); }
  // How many disjoint free ranges hold them.
  size_t RangeCount() const { return free_.RangeCount(); }

  // The offset of `ip` in the window, or nullopt when the window does not hold it.
  std::optional<uint64_t> OffsetOf(const net::IpAddress& ip) const;
  // The address at `offset` (offset must be in the window).
  net::IpAddress AddressAt(uint64_t offset) const;

 private:
  explicit AddressPool(const net::IpPrefix& prefix) : prefix_(prefix) {}
  bool Reserved(uint64_t offset) const;

  net::IpPrefix prefix_;
  uint64_t window_last_ = 0;  // the window is [0, window_last_]
  uint64_t first_ = 0;        // usable offsets: [first_, last_]
  uint64_t last_ = 0;
  std::optional<uint64_t> gateway_;
  std::optional<std::pair<uint64_t, uint64_t>> dhcp_;  // [first, last], clipped to the window
  FreeRanges free_;                                    // free offsets
};

}  // namespace dove::model
