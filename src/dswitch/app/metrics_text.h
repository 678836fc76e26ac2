// The switch's Prometheus /metrics page (text exposition format 0.0.4, written by
// base::MetricsPage). Every drop reason is listed, zero or not, so a dashboard can rely on each
// series existing. The families and how the pipeline's counter names map to them are listed in
// docs/dove-switch.md ("Metrics").
//
//   dove_switch_controller_connected 1
//   dove_switch_drops_total{reason="source_mac_spoofed"} 3
//   dove_switch_port_frames_total{port="t-red1",kind="tap",direction="rx"} 120
//   dove_switch_port_bytes_total{port="t-red1",kind="tap",direction="rx"} 15360
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "dswitch/agent/controller_client.h"
#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::app {

std::string MetricsText(const std::string& switch_name, const agent::ClientState& client,
                        const userspace::DatapathStatus& datapath);

// The counters of the StatsSummary the switch sends its controller, which shows them as the
// families of controller/southbound/stats_families.h: drop_<reason> (non-zero ones),
// port_<kind>_{frames,bytes}_{rx,tx} summed over the ports of each kind present,
// tunnel_{frames,bytes}_{rx,tx} summed over the networks, and ports.
std::map<std::string, uint64_t> SummaryCounters(const userspace::DatapathStatus& datapath);

}  // namespace dove::dswitch::app
