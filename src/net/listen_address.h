// ListenAddress: a "HOST:PORT" to listen on (dove-controller's --listen and --southbound,
// dove-switch's --metrics-listen), parsed and checked.
//
// HOST is an IPv4 literal ("127.0.0.1", "0.0.0.0"), an IPv6 literal in brackets ("[::1]",
// "[::]") or "localhost"; PORT is 0..65535, 0 meaning "any free port" (the actual one is known
// only after binding). Hostnames other than localhost are refused: the controller binds an
// address, it does not resolve names. Errors are one sentence for the operator. No state,
// thread-safe.
//
//   auto address = ParseListenAddress("[::1]:8740");   // host "::1", port 8740
//   if (!address) Die(address.error());
//   if (!IsLoopback(address->host)) Warn(...);
//   FormatHostPort("::1", 8740) == "[::1]:8740"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::net {

struct ListenAddress {
  std::string host;  // without brackets: "::1", "127.0.0.1", "localhost"
  uint16_t port = 0;
};

Expected<ListenAddress, std::string> ParseListenAddress(std::string_view text);

// True for 127.0.0.0/8, ::1 and "localhost": only this machine can connect.
bool IsLoopback(std::string_view host);

// "HOST:PORT", with brackets around an IPv6 host.
std::string FormatHostPort(std::string_view host, int port);

}  // namespace dove::net
