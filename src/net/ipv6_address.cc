#include "net/ipv6_address.h"

#include <arpa/inet.h>

namespace dove::net {

Result<Ipv6Address> Ipv6Address::Parse(std::string_view text) {
  // The longest valid text is 45 characters (six groups and an embedded dotted quad).
  constexpr size_t kMaxText = INET6_ADDRSTRLEN - 1;
  // inet_pton stops at a NUL: text with one inside would parse as its prefix.
  if (text.empty() || text.size() > kMaxText || text.find('\0') != std::string_view::npos) {
    return Unexpected(Error::kBadSyntax);
  }
  char terminated[kMaxText + 1] = {};
  text.copy(terminated, text.size());
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, terminated, bytes.data()) != 1) return Unexpected(Error::kBadSyntax);
  return Ipv6Address(bytes);
}

Ipv6Address Ipv6Address::LinkLocalFromMac(const MacAddress& mac) {
  const auto& m = mac.bytes();
  return Ipv6Address({0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2],
                      0xff, 0xfe, m[3], m[4], m[5]});
}

std::string Ipv6Address::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
  return text;
}

}  // namespace dove::net
