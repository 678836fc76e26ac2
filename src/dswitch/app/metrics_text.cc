#include "dswitch/app/metrics_text.h"

#include <sstream>
#include <string_view>

#include "base/process_metrics.h"
#include "base/version.h"

namespace dove::dswitch::app {
namespace {

// Label values escaped as the exposition format asks (backslash, quote, newline).
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Family(std::ostringstream& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

std::string MetricsText(const std::string& switch_name, const agent::ClientState& client,
                        const userspace::DatapathStatus& datapath) {
  std::ostringstream out;
  out << dove::base::BuildInfoMetric() << dove::base::ProcessMetricsText();
  Family(out, "dove_switch_info", "gauge", "This switch (value 1).");
  out << "dove_switch_info{switch=\"" << Escape(switch_name) << "\"} 1\n";
  Family(out, "dove_switch_controller_connected", "gauge",
         "1 while a controller session is up, 0 while headless.");
  out << "dove_switch_controller_connected " << (client.controller == "none" ? 0 : 1) << "\n";
  Family(out, "dove_switch_controller_connections_total", "counter",
         "Controller sessions welcomed since start.");
  out << "dove_switch_controller_connections_total " << client.connections << "\n";
  Family(out, "dove_switch_cache_endpoints", "gauge", "Endpoints in the agent's cache.");
  out << "dove_switch_cache_endpoints " << client.cache_size << "\n";
  Family(out, "dove_switch_pending_resolves", "gauge", "Resolves sent and not answered yet.");
  out << "dove_switch_pending_resolves " << client.pending_queries << "\n";

  size_t open = 0;
  for (const auto& port : datapath.ports) open += port.open ? 1 : 0;
  Family(out, "dove_switch_ports", "gauge", "Ports by state (open, or error: TAP not open).");
  out << "dove_switch_ports{state=\"open\"} " << open << "\n";
  out << "dove_switch_ports{state=\"error\"} " << datapath.ports.size() - open << "\n";
  Family(out, "dove_switch_remote_endpoints", "gauge",
         "Remote endpoints the data plane forwards to.");
  out << "dove_switch_remote_endpoints " << datapath.remotes << "\n";
  Family(out, "dove_switch_parked_frames", "gauge", "Frames waiting for a resolve.");
  out << "dove_switch_parked_frames " << datapath.parked << "\n";

  Family(out, "dove_switch_drops_total", "counter", "Dropped frames by reason.");
  for (const auto& [reason, value] : datapath.drops) {
    out << "dove_switch_drops_total{reason=\"" << Escape(reason) << "\"} " << value << "\n";
  }
  Family(out, "dove_switch_port_frames_total", "counter",
         "Frames per port: received (passed port security) and sent to the VM.");
  for (const auto& port : datapath.ports) {
    const std::string label = Escape(port.name);
    out << "dove_switch_port_frames_total{port=\"" << label << "\",direction=\"received\"} "
        << port.counters.received << "\n";
    out << "dove_switch_port_frames_total{port=\"" << label << "\",direction=\"sent\"} "
        << port.counters.sent << "\n";
  }
  Family(out, "dove_switch_port_drops_total", "counter", "Dropped frames per port.");
  for (const auto& port : datapath.ports) {
    out << "dove_switch_port_drops_total{port=\"" << Escape(port.name) << "\"} "
        << port.counters.dropped << "\n";
  }
  // network.<vni>.<what> and io.<name> from the counter dump.
  Family(out, "dove_switch_network_frames_total", "counter",
         "Frames per network (VNI): to_tunnel, from_tunnel, redirected (to an endpoint that "
         "moved away), dropped.");
  for (const auto& [name, value] : datapath.counters) {
    if (name.rfind("network.", 0) != 0) continue;
    const auto dot = name.find('.', 8);
    if (dot == std::string::npos) continue;
    out << "dove_switch_network_frames_total{vni=\"" << name.substr(8, dot - 8) << "\",kind=\""
        << Escape(name.substr(dot + 1)) << "\"} " << value << "\n";
  }
  Family(out, "dove_switch_router_total", "counter",
         "Distributed router: routed, echo_replies, icmp_errors, return_flow_passed, "
         "return_flows_full.");
  for (const auto& [name, value] : datapath.counters) {
    if (name.rfind("router.", 0) != 0) continue;
    out << "dove_switch_router_total{counter=\"" << Escape(name.substr(7)) << "\"} " << value
        << "\n";
  }
  Family(out, "dove_switch_policy_denied_total", "counter", "Packets denied, by policy id.");
  for (const auto& [name, value] : datapath.counters) {
    constexpr std::string_view kSuffix = ".denied";
    if (name.rfind("policy.", 0) != 0 || name.size() <= 7 + kSuffix.size() ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    out << "dove_switch_policy_denied_total{policy=\""
        << Escape(name.substr(7, name.size() - 7 - kSuffix.size())) << "\"} " << value << "\n";
  }
  Family(out, "dove_switch_io_total", "counter", "Device counters (TAP and underlay socket).");
  for (const auto& [name, value] : datapath.counters) {
    if (name.rfind("io.", 0) != 0) continue;
    out << "dove_switch_io_total{counter=\"" << Escape(name.substr(3)) << "\"} " << value << "\n";
  }
  // The kernel backend's counters (kernel_<what>) and its installed entries
  // (kernel_<table>_entries).
  constexpr std::string_view kKernel = "kernel_";
  constexpr std::string_view kEntries = "_entries";
  const auto is_entries = [&](const std::string& name) {
    return name.size() > kEntries.size() &&
           name.compare(name.size() - kEntries.size(), kEntries.size(), kEntries) == 0;
  };
  Family(out, "dove_switch_kernel_total", "counter",
         "Kernel backend: misses (l2, l3, asked, deduplicated, rate_limited, foreign), resyncs, "
         "entries installed and deleted, devices, errors.");
  for (const auto& [name, value] : datapath.counters) {
    if (name.rfind(kKernel, 0) != 0 || is_entries(name)) continue;
    out << "dove_switch_kernel_total{counter=\"" << Escape(name.substr(kKernel.size())) << "\"} "
        << value << "\n";
  }
  Family(out, "dove_switch_kernel_entries", "gauge",
         "Kernel backend: FDB and neighbour entries installed now.");
  for (const auto& [name, value] : datapath.counters) {
    if (name.rfind(kKernel, 0) != 0 || !is_entries(name)) continue;
    out << "dove_switch_kernel_entries{table=\""
        << Escape(name.substr(kKernel.size(), name.size() - kKernel.size() - kEntries.size()))
        << "\"} " << value << "\n";
  }
  return out.str();
}

}  // namespace dove::dswitch::app
