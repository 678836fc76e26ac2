// The distributed router's MAC of a domain: what every switch answers for the gateways of the
// domain's subnets, and the inner source MAC of every routed frame (the southbound sends it in
// NetworkConfig.router_mac; the trace shows it).
#pragma once

#include <string>

namespace dove::model {

// 02 followed by the last 10 hex digits of the domain id (a hash of the id when it is not 12
// hex digits), lower case with colons. Locally administered, unicast.
std::string RouterMacOf(const std::string& domain_id);

}  // namespace dove::model
