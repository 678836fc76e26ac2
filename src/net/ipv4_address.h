// Ipv4Address: a 32-bit IPv4 address, stored in network byte order as on the wire.
//
// Four bytes, alignment 1, so it sits directly inside wire-header structs. Text form is the
// dotted quad; Parse refuses leading zeros ("010.0.0.1" is ambiguous: octal to some tools).
//
//   auto ip = Ipv4Address::Parse("192.0.2.1");
//   uint32_t host_order = ip->ToUint32();
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/error.h"

namespace dove::net {

class Ipv4Address {
 public:
  static constexpr int kBits = 32;

  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(const std::array<uint8_t, 4>& bytes) : bytes_(bytes) {}

  // From a host-order integer: FromUint32(0xc0000201) is 192.0.2.1.
  static constexpr Ipv4Address FromUint32(uint32_t v) {
    return Ipv4Address({static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
  }
  // kBadSyntax unless `text` is a dotted quad of decimal octets 0..255 without leading zeros.
  static Result<Ipv4Address> Parse(std::string_view text);
  static constexpr Ipv4Address Broadcast() { return FromUint32(0xffffffff); }

  constexpr const std::array<uint8_t, 4>& bytes() const { return bytes_; }
  constexpr uint32_t ToUint32() const {
    return static_cast<uint32_t>(bytes_[0]) << 24 | static_cast<uint32_t>(bytes_[1]) << 16 |
           static_cast<uint32_t>(bytes_[2]) << 8 | bytes_[3];
  }
  constexpr bool IsUnspecified() const { return ToUint32() == 0; }
  constexpr bool IsBroadcast() const { return ToUint32() == 0xffffffff; }
  constexpr bool IsMulticast() const { return (bytes_[0] & 0xf0) == 0xe0; }
  constexpr bool IsLoopback() const { return bytes_[0] == 127; }

  std::string ToString() const;

  // clang-tidy 14 reads the 0 of the comparisons it synthesizes as a null pointer constant
  // (in some translation units, e.g. dswitch/kernel/kernel_backend.cc).
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;

 private:
  std::array<uint8_t, 4> bytes_{};
};

static_assert(sizeof(Ipv4Address) == 4 && alignof(Ipv4Address) == 1);

}  // namespace dove::net

template <>
struct std::hash<dove::net::Ipv4Address> {
  size_t operator()(const dove::net::Ipv4Address& ip) const noexcept {
    return std::hash<uint32_t>{}(ip.ToUint32());
  }
};
