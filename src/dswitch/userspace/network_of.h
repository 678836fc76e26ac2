// NetworkOf: one cached network's NetworkConfig parsed into a DesiredNetwork (desired_state.h),
// the only place the switch reads a NetworkConfig's text. What does not parse is left out, with
// one sentence per entry in `skipped`: a tunnel IP that is not IPv4, a subnet or route whose
// CIDR or gateway does not parse, a DNS server that is not an IP address, a policy whose
// networks have no VNI in the domain's routes (a network without a subnet: nothing of it can
// be routed) or whose action, protocol or ports are out of range.
#pragma once

#include <string>
#include <vector>

#include "dswitch/agent/endpoint_cache.h"
#include "dswitch/userspace/desired_state.h"

namespace dove::dswitch::userspace {

// `network` must have a config.
DesiredNetwork NetworkOf(const agent::CachedNetwork& network, std::vector<std::string>& skipped);

}  // namespace dove::dswitch::userspace
