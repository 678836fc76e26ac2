#include "net/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace dove::net {
namespace {

Unexpected<std::string> Bad(std::string_view text, std::string_view why) {
  return Unexpected<std::string>("invalid listen address \"" + std::string(text) +
                                 "\": " + std::string(why) +
                                 " (expected HOST:PORT, e.g. 127.0.0.1:8740 " + "or [::1]:8740)");
}

bool IsIpv4(const std::string& host) {
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

}  // namespace

Expected<ListenAddress, std::string> ParseListenAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Bad(text, "no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  bool bracketed = false;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return Bad(text, "unbalanced brackets");
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  if (host.empty()) return Bad(text, "no host");
  ListenAddress address;
  address.host = std::string(host);
  if (bracketed) {
    if (!IsIpv6(address.host)) return Bad(text, "not an IPv6 address in brackets");
  } else if (address.host != "localhost" && !IsIpv4(address.host)) {
    return Bad(text, IsIpv6(address.host) ? "an IPv6 address needs brackets"
                                          : "the host is not an IP address or localhost");
  }
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return Bad(text, "the port is not a number 0..65535");
  }
  address.port = static_cast<uint16_t>(port);
  return address;
}

bool IsLoopback(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

std::string FormatHostPort(std::string_view host, int port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string text = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return text + ":" + std::to_string(port);
}

}  // namespace dove::net
