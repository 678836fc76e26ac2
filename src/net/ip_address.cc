#include "net/ip_address.h"

namespace dove::net {

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto v6 = Ipv6Address::Parse(text);
    if (!v6) return Unexpected(v6.error());
    return IpAddress(*v6);
  }
  auto v4 = Ipv4Address::Parse(text);
  if (!v4) return Unexpected(v4.error());
  return IpAddress(*v4);
}

std::string IpAddress::ToString() const { return is_v4() ? v4().ToString() : v6().ToString(); }

}  // namespace dove::net
