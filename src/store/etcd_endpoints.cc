#include "store/etcd_endpoints.h"

#include <arpa/inet.h>

#include <cctype>
#include <string>

namespace dove::store {
namespace {

StoreError Invalid(std::string_view url, std::string_view why) {
  return StoreError{StoreError::kInvalidArgument,
                    "etcd endpoint \"" + std::string(url) + "\": " + std::string(why)};
}

enum class HostKind { kIpv4, kIpv6, kName };

struct HostPort {
  HostKind kind;
  std::string text;  // host:port as gRPC wants it ([v6]:port for IPv6)
};

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.') return false;
  }
  return true;
}

Expected<HostPort, StoreError> ParseHostPort(std::string_view url, std::string_view authority) {
  std::string_view host;
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Unexpected(Invalid(url, "unclosed '['"));
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.starts_with(':')) return Unexpected(Invalid(url, "no port after the address"));
    port = rest.substr(1);
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return Unexpected(Invalid(url, "not an IPv6 address"));
    }
    if (!ValidPort(port)) return Unexpected(Invalid(url, "port must be 1..65535"));
    return HostPort{HostKind::kIpv6, "[" + std::string(host) + "]:" + std::string(port)};
  }
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return Unexpected(Invalid(url, "no port"));
  host = authority.substr(0, colon);
  port = authority.substr(colon + 1);
  if (!ValidPort(port)) return Unexpected(Invalid(url, "port must be 1..65535"));
  in_addr address{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &address) == 1) {
    return HostPort{HostKind::kIpv4, std::string(authority)};
  }
  if (!ValidHostName(host)) return Unexpected(Invalid(url, "not a host name or address"));
  return HostPort{HostKind::kName, std::string(authority)};
}

}  // namespace

Expected<EtcdEndpoints, StoreError> ParseEtcdEndpoints(std::string_view list) {
  EtcdEndpoints endpoints;
  std::vector<HostPort> hosts;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view url = list.substr(start, comma - start);
    start = comma + 1;
    for (char c : url) {
      if (std::isgraph(static_cast<unsigned char>(c)) == 0) {
        return Unexpected(Invalid(url, "spaces and control characters are not allowed"));
      }
    }
    bool tls = false;
    std::string_view rest;
    if (url.starts_with("http://")) {
      rest = url.substr(7);
    } else if (url.starts_with("https://")) {
      rest = url.substr(8);
      tls = true;
    } else {
      return Unexpected(Invalid(url, "must start with http:// or https://"));
    }
    if (rest.ends_with('/')) rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos) {
      return Unexpected(Invalid(url, "a path is not allowed"));
    }
    if (!endpoints.urls.empty() && tls != endpoints.tls) {
      return Unexpected(Invalid(url, "every endpoint must use the same scheme"));
    }
    auto host = ParseHostPort(url, rest);
    if (!host) return Unexpected(host.error());
    endpoints.tls = tls;
    endpoints.urls.emplace_back(url);
    hosts.push_back(std::move(*host));
  }
  if (hosts.empty()) return Unexpected(Invalid(list, "no endpoint given"));
  // gRPC's multi-address targets need literal addresses of one family; a single host name
  // goes through DNS resolution instead (which may itself return several members).
  HostKind kind = hosts.front().kind;
  for (const HostPort& host : hosts) {
    if (host.kind != kind) {
      return Unexpected(
          Invalid(list, "mix of address families or names; use one kind for every endpoint"));
    }
  }
  if (kind == HostKind::kName) {
    if (hosts.size() > 1) {
      return Unexpected(Invalid(list, "several host names; give addresses, or one DNS name"));
    }
    endpoints.target = "dns:///" + hosts.front().text;
    return endpoints;
  }
  endpoints.target = kind == HostKind::kIpv4 ? "ipv4:" : "ipv6:";
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) endpoints.target += ',';
    endpoints.target += hosts[i].text;
  }
  return endpoints;
}

}  // namespace dove::store
