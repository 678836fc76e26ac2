// IpPrefix: an IPv4 or IPv6 network prefix ("10.0.0.0/24", "2001:db8::/64").
//
// A prefix never has host bits set: Make and Parse refuse "10.0.0.1/24" with kBadField, so a
// subnet written with a typo is an error rather than silently another subnet. Masked() builds
// the prefix that contains an address, for code that wants the network of a host.
//
//   auto subnet = IpPrefix::Parse("10.0.0.0/24");
//   subnet->Contains(*IpAddress::Parse("10.0.0.7"));  // true
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/error.h"
#include "net/ip_address.h"

namespace dove::net {

class IpPrefix {
 public:
  // 0.0.0.0/0
  constexpr IpPrefix() = default;

  // kOutOfRange when length exceeds the family's bits; kBadField when host bits are set.
  static Result<IpPrefix> Make(const IpAddress& address, int length);
  // The prefix of `length` bits that contains `address` (host bits cleared).
  static Result<IpPrefix> Masked(const IpAddress& address, int length);
  // "ADDRESS/LENGTH"; kBadSyntax for malformed text, else as Make.
  static Result<IpPrefix> Parse(std::string_view text);

  constexpr const IpAddress& address() const { return address_; }
  constexpr int length() const { return length_; }
  constexpr IpFamily family() const { return address_.family(); }

  // True when `ip` is of the same family and its first length() bits match.
  bool Contains(const IpAddress& ip) const;
  // True when every address of `other` is in this prefix.
  bool Contains(const IpPrefix& other) const;
  // True when the two prefixes share at least one address.
  bool Overlaps(const IpPrefix& other) const;

  std::string ToString() const;

  friend constexpr auto operator<=>(const IpPrefix&, const IpPrefix&) = default;

 private:
  constexpr IpPrefix(const IpAddress& address, uint8_t length)
      : address_(address), length_(length) {}

  IpAddress address_;
  uint8_t length_ = 0;
};

}  // namespace dove::net

template <>
struct std::hash<dove::net::IpPrefix> {
  size_t operator()(const dove::net::IpPrefix& prefix) const noexcept {
    return std::hash<dove::net::IpAddress>{}(prefix.address()) * 131 +
           static_cast<size_t>(prefix.length());
  }
};
