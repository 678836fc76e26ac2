// MacAddress: a 48-bit IEEE 802 MAC address, as it appears on the wire.
//
// Six bytes, alignment 1, so it sits directly inside wire-header structs. Text form is six
// two-digit hex groups separated by ':' ("52:54:00:12:34:56"); Parse accepts upper or lower
// case and nothing else, ToString prints lower case.
//
//   auto mac = MacAddress::Parse("52:54:00:12:34:56");
//   if (mac && !mac->IsMulticast()) ...
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/error.h"

namespace dove::net {

class MacAddress {
 public:
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const std::array<uint8_t, 6>& bytes) : bytes_(bytes) {}

  // kBadSyntax unless `text` is exactly "hh:hh:hh:hh:hh:hh".
  static Result<MacAddress> Parse(std::string_view text);
  static constexpr MacAddress Broadcast() {
    return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  // The Ethernet multicast address an IPv6 multicast address maps to (RFC 2464 section 7).
  static constexpr MacAddress ForIpv6Multicast(const std::array<uint8_t, 16>& group) {
    return MacAddress({0x33, 0x33, group[12], group[13], group[14], group[15]});
  }

  constexpr const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  constexpr bool IsZero() const { return *this == MacAddress(); }
  constexpr bool IsBroadcast() const { return *this == Broadcast(); }
  // Group bit set: multicast or broadcast.
  constexpr bool IsMulticast() const { return (bytes_[0] & 0x01) != 0; }
  constexpr bool IsUnicast() const { return !IsMulticast(); }
  constexpr bool IsLocallyAdministered() const { return (bytes_[0] & 0x02) != 0; }

  std::string ToString() const;

  // clang-tidy 14 reads the 0 of the comparisons it synthesizes as a null pointer constant
  // (in some translation units, e.g. dswitch/kernel/kernel_backend.cc).
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

static_assert(sizeof(MacAddress) == 6 && alignof(MacAddress) == 1);

}  // namespace dove::net

template <>
struct std::hash<dove::net::MacAddress> {
  size_t operator()(const dove::net::MacAddress& mac) const noexcept {
    uint64_t v = 0;
    for (uint8_t b : mac.bytes()) v = v << 8 | b;
    return std::hash<uint64_t>{}(v);
  }
};
