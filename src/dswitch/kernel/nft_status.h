// NftStatus: the kernel backend's nftables counters (nft_ruleset.h, underlay_guard.h) shown
// the way the userspace backend shows its drops and policy counters, so `dovectl switch
// counters`, `dovectl switch drops` and /metrics read the same names on both backends.
//
//   - the underlay guard's and the routing's drops (vxlan_malformed, vxlan_unknown_vni,
//     vtep_not_allowed, routed_vtep_not_allowed, policy_default_deny, no_route, to_host,
//     routed_source_unknown; policy_default_deny and routed_source_unknown also count the
//     bridge table's stateless arrivals) are
//     drop reasons of those names, zero ones too;
//   - `policy_<id>_denied` is the counter `policy.<id>.denied` (the userspace name) for the
//     policy of `plan` whose counter name it is; a counter whose policy left the plan keeps its
//     nftables name inside: `policy.<mangled id>.denied`;
//   - the port security counters `port_<interface>_<reason>` add up, over the ports, to the
//     drop reasons `port_<reason>` (bad_mac, bad_ip, router_advert, not_ip).
// Pure; `counters` as NftSession::Counters gives them (totals).
#pragma once

#include <vector>

#include "dswitch/kernel/nft_session.h"
#include "dswitch/kernel/route_plan.h"
#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::kernel {

void AddNftCounters(const std::vector<NftCounter>& counters, const RoutePlan* plan,
                    userspace::DatapathStatus& status);

}  // namespace dove::dswitch::kernel
