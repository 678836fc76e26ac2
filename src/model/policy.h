// Allowed: the default-policy rule (the original DOVE's), as a pure function.
//
// Traffic inside one network is always allowed. Between two networks of the same domain it
// is denied unless a policy allows it: among the domain's policies whose source and
// destination networks match and whose protocol (0 = any) and port range (unset = any)
// match, the one of highest priority decides. Tie-breaking: when policies of equal highest
// priority disagree, DENY wins (a tie should not open traffic by accident). Networks of
// different domains, or unknown networks, never exchange traffic.
//
// `port` is the destination port; it is ignored by policies without a port range, and a
// policy with a port range matches only TCP/UDP (its protocol says which).
//
//   bool ok = Allowed(view, "web", "db", 6, 5432);
#pragma once

#include <cstdint>
#include <string_view>

#include "model/model_view.h"

namespace dove::model {

bool Allowed(const ModelView& view, std::string_view source_network_id,
             std::string_view destination_network_id, uint8_t protocol, uint16_t port);

}  // namespace dove::model
