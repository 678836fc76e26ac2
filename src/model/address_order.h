// AddressLess: IpAddress ordering for src/model (IPv4 before IPv6, then by bytes).
//
// The same order as IpAddress's defaulted operator<=>, which src/model does not call: its
// instantiation trips clang-tidy 14's modernize-use-nullptr (a false positive on the
// synthesized "<=> 0") inside net/ip_address.h.
#pragma once

#include <algorithm>

#include "net/ip_address.h"

namespace dove::model {

inline bool AddressLess(const net::IpAddress& a, const net::IpAddress& b) {
  if (a.family() != b.family()) return a.is_v4();
  const auto x = a.bytes();
  const auto y = b.bytes();
  return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
}

// first <= ip <= last.
inline bool InRange(const net::IpAddress& ip, const net::IpAddress& first,
                    const net::IpAddress& last) {
  return !AddressLess(ip, first) && !AddressLess(last, ip);
}

}  // namespace dove::model
