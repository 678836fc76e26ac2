// Allowed: the default-policy rule (the original DOVE's), as a pure function.
//
// Traffic inside one network is always allowed. Between two networks of the same domain it
// is denied unless a policy allows it: among the domain's policies whose source and
// destination networks match and whose protocol (0 = any) and port range (unset = any)
// match, the one of highest priority decides. ACTION_DENY and ACTION_REJECT both deny
// (REJECT also has the switch answer the sender, which is no business of this rule).
// Tie-breaking: when policies of equal highest priority disagree, a deny (DENY or REJECT)
// wins (a tie should not open traffic by accident). Networks of different domains, or
// unknown networks, never exchange traffic.
//
// `port` is the destination port; it is ignored by policies without a port range, and a
// policy with a port range matches only TCP/UDP (its protocol says which).
//
//   bool ok = Allowed(view, "web", "db", 6, 5432);
//
// MayExchange: whether any traffic at all could pass between two networks, in either
// direction, whatever its protocol and port (the southbound's rule for ResolveIp and for the
// endpoints a switch may cache; the switch then enforces Allowed packet by packet). True when
// the two are the same network; otherwise, for networks of one domain, when in one direction
// (a to b, or b to a) some ALLOW (of any protocol and port range) is not overridden by a DENY
// or REJECT of the same direction, at least its priority, any protocol (0) and no port range:
// such an allow lets at least some packets through (a narrower deny of higher priority cannot
// cover all of them, so it does not count). "Either direction" because replies to allowed
// traffic pass back. Different domains or unknown networks: false.
//
//   bool reachable = MayExchange(view, "web", "db");  // an ALLOW db->web tcp/443 suffices
#pragma once

#include <cstdint>
#include <string_view>

#include "model/model_view.h"

namespace dove::model {

bool Allowed(const ModelView& view, std::string_view source_network_id,
             std::string_view destination_network_id, uint8_t protocol, uint16_t port);

// What Allowed decided and why: the policy that won (nullptr: none matched, or the same
// network, or networks that may never exchange), pointing into `view`.
struct PolicyDecision {
  bool allowed = false;
  const v1::Policy* rule = nullptr;
  bool same_network = false;   // allowed: inside one network
  bool other_domains = false;  // denied: different domains or an unknown network
};
PolicyDecision Decide(const ModelView& view, std::string_view source_network_id,
                      std::string_view destination_network_id, uint8_t protocol, uint16_t port);

// Whether the action denies (DENY or REJECT).
bool IsDeny(v1::Policy::Action action);

bool MayExchange(const ModelView& view, std::string_view network_a, std::string_view network_b);

}  // namespace dove::model
