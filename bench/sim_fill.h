// The fill of bench/switch_sim: the domain "sim", its networks (a /24 subnet each) and the
// endpoints of the Layout (sim_layout.h), created through the REST API of the controller, or of
// several controller replicas on one store.
//
// The domain goes through the first replica; the networks, the placed endpoints (switch_name
// and port_name set: what an agent attaches at start) and the unplaced ones (no switch_name:
// a switch serving their network attaches them) each over `clients` keep-alive connections,
// client i to api_ports[i % api_ports.size()], so with replicas the writes are spread over
// them instead of bound by one replica's. Between those steps every replica's index is waited
// for until it reflects the highest revision any of them does (/healthz), so a replica is never
// asked for an endpoint of a network it has not heard of yet. Progress is printed every 5 s
// and a line per step.
//
// Errors: the first request refused or failed (as text, naming the request) ends the fill;
// nothing is retried. A replica whose index stays behind for 60 s is an error too.
// Threading: starts and joins its own client threads; call from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/expected.h"
#include "sim_layout.h"

namespace dove::bench {

// Returns each network's VNI (allocated by the controller), indexed by network.
Expected<std::vector<uint32_t>, std::string> Fill(const std::vector<int>& api_ports,
                                                  const Layout& layout, int clients);

}  // namespace dove::bench
