// IpAddress: an IPv4 or an IPv6 address, for code that handles both (endpoint IPs, subnets).
//
// Ordering puts every IPv4 address before every IPv6 address. Parse takes either text form.
//
//   auto ip = IpAddress::Parse("10.0.0.5");
//   if (ip->is_v4()) Use(ip->v4());
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "net/error.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"

namespace dove::net {

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

class IpAddress {
 public:
  // 0.0.0.0
  constexpr IpAddress() = default;
  constexpr IpAddress(const Ipv4Address& v4)  // NOLINT(google-explicit-constructor)
      : family_(IpFamily::kV4) {
    for (size_t i = 0; i < 4; ++i) bytes_[i] = v4.bytes()[i];
  }
  constexpr IpAddress(const Ipv6Address& v6)  // NOLINT(google-explicit-constructor)
      : family_(IpFamily::kV6), bytes_(v6.bytes()) {}

  // IPv4 dotted quad or IPv6 text; kBadSyntax otherwise.
  static Result<IpAddress> Parse(std::string_view text);

  constexpr IpFamily family() const { return family_; }
  constexpr bool is_v4() const { return family_ == IpFamily::kV4; }
  constexpr bool is_v6() const { return family_ == IpFamily::kV6; }
  // The IPv4 address; meaningful only when is_v4().
  constexpr Ipv4Address v4() const {
    return Ipv4Address({bytes_[0], bytes_[1], bytes_[2], bytes_[3]});
  }
  // The IPv6 address; meaningful only when is_v6().
  constexpr Ipv6Address v6() const { return Ipv6Address(bytes_); }
  // 32 or 128.
  constexpr int bits() const { return is_v4() ? Ipv4Address::kBits : Ipv6Address::kBits; }
  // The address bytes in network order: 4 for IPv4, 16 for IPv6.
  constexpr std::span<const uint8_t> bytes() const {
    return std::span<const uint8_t>(bytes_.data(), is_v4() ? 4 : 16);
  }
  constexpr bool IsUnspecified() const { return v6().IsUnspecified(); }

  std::string ToString() const;

  // clang-tidy 14 reads the 0 of the comparisons it synthesizes as a null pointer constant
  // (in some translation units, e.g. dswitch/kernel/kernel_backend.cc).
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4; the rest stay zero
};

}  // namespace dove::net

template <>
struct std::hash<dove::net::IpAddress> {
  size_t operator()(const dove::net::IpAddress& ip) const noexcept {
    size_t h = std::hash<dove::net::Ipv6Address>{}(ip.v6());
    return ip.is_v4() ? h : h ^ 0x5bd1e995;
  }
};
