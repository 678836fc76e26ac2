// How the counters a switch sends in its StatsSummary (switch.proto) show on the controller's
// /metrics page: each summary name maps to one family, labelled with the switch's name and
// what the name says. The switch's own /metrics page has the same families per port and per
// network; these are its totals.
//
//   summary name (sent by dove-switch)  family on the controller           labels besides switch
//   drop_<reason>                       dove_switch_drops_total             reason
//   port_<kind>_frames_rx, _tx          dove_switch_port_frames_total       kind, direction
//   port_<kind>_bytes_rx, _tx           dove_switch_port_bytes_total        kind, direction
//   tunnel_frames_rx, _tx               dove_switch_tunnel_frames_total     direction
//   tunnel_bytes_rx, _tx                dove_switch_tunnel_bytes_total      direction
//   ports                               dove_switch_summary_ports (a gauge) -
//
// <kind> is the port kind (tap, packet, enslaved: [a-z0-9]+); direction rx is from the VM or
// out of the tunnel, tx to the VM or into it. Every other family is a counter. A name the
// mapping does not know (a switch of another version) is not shown; how many names of each
// switch's last summary were left out is the gauge dove_switch_stats_unmapped{switch}.
//
// Pure and thread-compatible.
//
//   MapStatsCounter("port_tap_bytes_rx") -> {kPortBytes, "tap", "rx"}
//   AddSwitchStats(page, directory.Stats());
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/prometheus_text.h"
#include "dove/v1/switch.pb.h"

namespace dove::controller::southbound {

struct StatsSeries {
  enum class Family { kDrops, kPortFrames, kPortBytes, kTunnelFrames, kTunnelBytes, kPorts };
  Family family = Family::kDrops;
  std::string label;      // the reason (kDrops) or the port kind (kPort*); empty otherwise
  std::string direction;  // "rx" or "tx" (kPort*, kTunnel*); empty otherwise

  bool operator==(const StatsSeries&) const = default;
};

// The series a summary counter name is shown as; nullopt for a name the mapping does not know.
std::optional<StatsSeries> MapStatsCounter(std::string_view name);

// Adds every switch's last summary to `page` (the families above), switches by name.
void AddSwitchStats(base::MetricsPage& page, const std::map<std::string, v1::StatsSummary>& stats);

}  // namespace dove::controller::southbound
