// The switch's Prometheus /metrics page (text exposition format 0.0.4). Every drop reason is
// listed, zero or not, so a dashboard can rely on each series existing.
//
//   dove_switch_controller_connected 1
//   dove_switch_drops_total{reason="source_mac_spoofed"} 3
//   dove_switch_port_frames_total{port="t-red1",direction="received"} 120
#pragma once

#include <string>

#include "dswitch/agent/controller_client.h"
#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::app {

std::string MetricsText(const std::string& switch_name, const agent::ClientState& client,
                        const userspace::DatapathStatus& datapath);

}  // namespace dove::dswitch::app
