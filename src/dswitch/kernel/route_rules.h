// RouteRules: the policy-routing rules (`ip rule`) of the kernel backend, over a NETLINK_ROUTE
// socket of its own (libmnl): "fwmark M lookup T" per domain, and moving the local table's
// rule. netlink::Rtnl's RuleEntry has no firewall mark yet; when it gains one this class
// becomes a few calls of it.
//
// Contracts:
//   - Every request waits for the kernel's acknowledgement; errors come back as a sentence
//     with the kernel's words, never thrown. Add of a rule that exists and Delete of one that
//     does not are not errors (both leave the rule as asked).
//   - Works in the network namespace it was opened in. Not thread-safe. The socket is an RAII
//     member.
//
//   auto rules = RouteRules::Open();
//   (*rules)->Add({.ipv6 = false, .priority = 1000, .table = 100000042, .fwmark = 100000042});
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::dswitch::kernel {

// One rule: packets (with firewall mark `fwmark`, all 32 bits, when it is not 0) look up
// `table`, at `priority`.
struct RouteRule {
  bool ipv6 = false;
  uint32_t priority = 0;
  uint32_t table = 0;
  uint32_t fwmark = 0;  // 0: any packet

  friend bool operator==(const RouteRule&, const RouteRule&) = default;
};

class RouteRules {
 public:
  static Expected<std::unique_ptr<RouteRules>, std::string> Open();
  ~RouteRules();
  RouteRules(const RouteRules&) = delete;
  RouteRules& operator=(const RouteRules&) = delete;

  Expected<void, std::string> Add(const RouteRule& rule);
  Expected<void, std::string> Delete(const RouteRule& rule);
  // The "lookup table" rules of the family (other rules, with other selectors, are listed
  // with what they carry of these fields: callers match by the fields they own).
  Expected<std::vector<RouteRule>, std::string> List(bool ipv6);

 private:
  RouteRules() = default;
  struct Socket;
  std::unique_ptr<Socket> socket_;
};

}  // namespace dove::dswitch::kernel
