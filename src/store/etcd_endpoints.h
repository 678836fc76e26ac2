// EtcdEndpoints: the endpoint list of an etcd cluster ("http://10.0.0.1:2379,https://...")
// parsed into one gRPC target, so that a single channel balances over (and fails over between)
// every member.
//
// Accepted: comma-separated URLs, each http:// or https:// followed by host:port (an IPv4
// address, a bracketed IPv6 address, or a host name) and nothing else (an optional trailing
// "/"). Every URL must use the same scheme (TLS is per channel). Errors: kInvalidArgument with
// the offending URL. Pure function; thread-safe.
//
//   auto endpoints = ParseEtcdEndpoints("http://127.0.0.1:2379,http://127.0.0.1:22379");
//   // endpoints->target == "ipv4:127.0.0.1:2379,127.0.0.1:22379", endpoints->tls == false
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "store/store_error.h"

namespace dove::store {

struct EtcdEndpoints {
  std::vector<std::string> urls;  // as given, for error messages
  std::string target;             // the gRPC target over every member
  bool tls = false;               // https://
};

Expected<EtcdEndpoints, StoreError> ParseEtcdEndpoints(std::string_view list);

}  // namespace dove::store
