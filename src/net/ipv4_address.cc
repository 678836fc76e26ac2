#include "net/ipv4_address.h"

#include <arpa/inet.h>

namespace dove::net {

Result<Ipv4Address> Ipv4Address::Parse(std::string_view text) {
  // inet_pton(AF_INET) accepts exactly the dotted quad and refuses leading zeros; it needs a
  // terminated string, and the longest valid text is 15 characters.
  constexpr size_t kMaxText = 15;
  // inet_pton stops at a NUL: text with one inside would parse as its prefix.
  if (text.empty() || text.size() > kMaxText || text.find('\0') != std::string_view::npos) {
    return Unexpected(Error::kBadSyntax);
  }
  char terminated[kMaxText + 1] = {};
  text.copy(terminated, text.size());
  std::array<uint8_t, 4> bytes{};
  if (inet_pton(AF_INET, terminated, bytes.data()) != 1) return Unexpected(Error::kBadSyntax);
  return Ipv4Address(bytes);
}

std::string Ipv4Address::ToString() const {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, bytes_.data(), text, sizeof(text));
  return text;
}

}  // namespace dove::net
