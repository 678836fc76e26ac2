// Ipv6Address: a 128-bit IPv6 address, stored in network byte order as on the wire.
//
// Sixteen bytes, alignment 1, so it sits directly inside wire-header structs. Parse accepts
// the RFC 4291 text forms (including "::" and an embedded dotted quad) and refuses zone
// suffixes ("%eth0"); ToString prints the RFC 5952 canonical form.
//
//   auto ip = Ipv6Address::Parse("2001:db8::1");
//   auto group = ip->SolicitedNodeMulticast();  // ff02::1:ff00:1
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/error.h"
#include "net/mac_address.h"

namespace dove::net {

class Ipv6Address {
 public:
  static constexpr int kBits = 128;

  constexpr Ipv6Address() = default;
  constexpr explicit Ipv6Address(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  static Result<Ipv6Address> Parse(std::string_view text);
  // ff02::1, every node on the link.
  static constexpr Ipv6Address AllNodes() {
    return Ipv6Address({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  }
  // fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 appendix A).
  static Ipv6Address LinkLocalFromMac(const MacAddress& mac);

  constexpr const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  constexpr bool IsUnspecified() const { return *this == Ipv6Address(); }
  constexpr bool IsMulticast() const { return bytes_[0] == 0xff; }
  constexpr bool IsLinkLocal() const { return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80; }
  // The solicited-node multicast group of this address (RFC 4291 section 2.7.1).
  constexpr Ipv6Address SolicitedNodeMulticast() const {
    return Ipv6Address(
        {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, bytes_[13], bytes_[14], bytes_[15]});
  }

  std::string ToString() const;

  friend constexpr auto operator<=>(const Ipv6Address&, const Ipv6Address&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

static_assert(sizeof(Ipv6Address) == 16 && alignof(Ipv6Address) == 1);

}  // namespace dove::net

template <>
struct std::hash<dove::net::Ipv6Address> {
  size_t operator()(const dove::net::Ipv6Address& ip) const noexcept {
    uint64_t high = 0;
    uint64_t low = 0;
    for (size_t i = 0; i < 8; ++i) high = high << 8 | ip.bytes()[i];
    for (size_t i = 8; i < 16; ++i) low = low << 8 | ip.bytes()[i];
    return std::hash<uint64_t>{}(high ^ (low * 0x9e3779b97f4a7c15ULL));
  }
};
