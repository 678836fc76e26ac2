#include "dswitch/app/metrics_text.h"

#include <string_view>

#include "base/process_metrics.h"
#include "base/prometheus_text.h"
#include "base/version.h"

namespace dove::dswitch::app {
namespace {

using base::MetricsPage;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The families of network.<vni>.<what> (pipeline::Counters::Dump), declared even without a
// sample so a dashboard finds each family on every switch.
struct NetworkFamilies {
  explicit NetworkFamilies(MetricsPage& page)
      : frames(page.Counter("dove_switch_tunnel_frames_total",
                            "Frames of a network (VNI) into the tunnel (tx, each replicated copy "
                            "counts) and out of it (rx, accepted).",
                            {"vni", "direction"})),
        bytes(page.Counter("dove_switch_tunnel_bytes_total",
                           "Bytes of those frames (the inner Ethernet frame, without the VXLAN, "
                           "UDP and IP headers).",
                           {"vni", "direction"})),
        redirected(page.Counter("dove_switch_redirected_frames_total",
                                "Frames sent on to an endpoint that moved away, per network (VNI).",
                                {"vni"})),
        dropped(page.Counter("dove_switch_network_drops_total", "Dropped frames per network (VNI).",
                             {"vni"})) {}

  void Add(std::string_view vni, std::string_view what, uint64_t value) {
    if (what == "to_tunnel") {
      frames.Add({vni, "tx"}, value);
    } else if (what == "from_tunnel") {
      frames.Add({vni, "rx"}, value);
    } else if (what == "to_tunnel_bytes") {
      bytes.Add({vni, "tx"}, value);
    } else if (what == "from_tunnel_bytes") {
      bytes.Add({vni, "rx"}, value);
    } else if (what == "redirected") {
      redirected.Add({vni}, value);
    } else if (what == "dropped") {
      dropped.Add({vni}, value);
    }
  }

  MetricsPage::Family frames, bytes, redirected, dropped;
};

// router.<what> (pipeline::RouterCounters): one family each, for they count different things;
// zero when the counter is (the dump holds non-zero ones).
void AddRouterCounters(MetricsPage& page, const std::map<std::string, uint64_t>& counters) {
  static constexpr struct {
    const char* counter;
    const char* family;
    const char* help;
  } kRouter[] = {
      {"router.routed", "dove_switch_routed_packets_total",
       "Packets the distributed router forwarded to another subnet."},
      {"router.echo_replies", "dove_switch_router_echo_replies_total",
       "Pings to a gateway address answered."},
      {"router.icmp_errors", "dove_switch_router_icmp_errors_total",
       "ICMP errors the router sent."},
      {"router.icmp_rate_limited", "dove_switch_router_icmp_rate_limited_total",
       "ICMP errors and echo replies not sent: over the rate limit."},
      {"router.return_flow_passed", "dove_switch_return_flow_passed_packets_total",
       "Packets no policy rule allowed, passed as replies of an allowed flow."},
      {"router.return_flows_full", "dove_switch_return_flows_full_total",
       "Allowed flows the return-flow table had no room for."},
  };
  for (const auto& row : kRouter) {
    const auto it = counters.find(row.counter);
    page.Counter(row.family, row.help).Add({}, it == counters.end() ? 0 : it->second);
  }
}

}  // namespace

std::string MetricsText(const std::string& switch_name, const agent::ClientState& client,
                        const userspace::DatapathStatus& datapath) {
  MetricsPage page;
  base::AddBuildInfo(page);
  base::AddProcessMetrics(page);
  page.Gauge("dove_switch_info", "This switch (value 1).", {"switch"}).Add({switch_name}, 1);
  page.Gauge("dove_switch_controller_connected",
             "1 while a controller session is up, 0 while headless.")
      .Add({}, client.controller == "none" ? 0 : 1);
  page.Counter("dove_switch_controller_connections_total",
               "Controller sessions welcomed since start.")
      .Add({}, client.connections);
  page.Gauge("dove_switch_cache_endpoints", "Endpoints in the agent's cache.")
      .Add({}, client.cache_size);
  page.Gauge("dove_switch_pending_resolves", "Resolves sent and not answered yet.")
      .Add({}, client.pending_queries);

  size_t open = 0;
  for (const auto& port : datapath.ports) open += port.open ? 1 : 0;
  auto ports =
      page.Gauge("dove_switch_ports", "Ports by state (open, or error: TAP not open).", {"state"});
  ports.Add({"open"}, open);
  ports.Add({"error"}, datapath.ports.size() - open);
  page.Gauge("dove_switch_remote_endpoints", "Remote endpoints the data plane forwards to.")
      .Add({}, datapath.remotes);
  page.Gauge("dove_switch_parked_frames", "Frames waiting for a resolve.").Add({}, datapath.parked);

  auto drops = page.Counter("dove_switch_drops_total", "Dropped frames by reason.", {"reason"});
  for (const auto& [reason, value] : datapath.drops) drops.Add({reason}, value);

  auto frames = page.Counter(
      "dove_switch_port_frames_total",
      "Frames per port: received from the VM (rx, passed port security) and sent to it (tx).",
      {"port", "kind", "direction"});
  auto bytes = page.Counter("dove_switch_port_bytes_total",
                            "Bytes of those frames (Ethernet header and payload; a TCP "
                            "super-frame counts all its bytes).",
                            {"port", "kind", "direction"});
  auto port_drops =
      page.Counter("dove_switch_port_drops_total", "Dropped frames per port.", {"port"});
  for (const auto& port : datapath.ports) {
    frames.Add({port.name, port.kind, "rx"}, port.counters.received);
    frames.Add({port.name, port.kind, "tx"}, port.counters.sent);
    bytes.Add({port.name, port.kind, "rx"}, port.counters.received_bytes);
    bytes.Add({port.name, port.kind, "tx"}, port.counters.sent_bytes);
    port_drops.Add({port.name}, port.counters.dropped);
  }

  NetworkFamilies networks(page);
  AddRouterCounters(page, datapath.counters);
  auto denied = page.Counter("dove_switch_policy_denied_packets_total",
                             "Packets denied, by policy id.", {"policy"});
  auto free_buffers = page.Gauge("dove_switch_pool_free_buffers",
                                 "Packet buffers free in the pool, by size.", {"size"});
  constexpr std::string_view kKernel = "kernel_";
  constexpr std::string_view kEntries = "_entries";
  for (const auto& [name, value] : datapath.counters) {
    const std::string_view counter = name;
    if (StartsWith(counter, "network.")) {
      const auto dot = counter.find('.', 8);
      if (dot != std::string_view::npos) {
        networks.Add(counter.substr(8, dot - 8), counter.substr(dot + 1), value);
      }
    } else if (StartsWith(counter, "router.")) {
      continue;  // above
    } else if (StartsWith(counter, "policy.") && EndsWith(counter, ".denied") &&
               counter.size() > 14) {
      denied.Add({counter.substr(7, counter.size() - 14)}, value);
    } else if (StartsWith(counter, "pool.free_")) {
      free_buffers.Add({counter.substr(10)}, value);
    } else if (StartsWith(counter, "kernel_") && EndsWith(counter, kEntries)) {
      page.Gauge("dove_switch_kernel_entries",
                 "Kernel backend: FDB and neighbour entries installed now.", {"table"})
          .Add({counter.substr(kKernel.size(), counter.size() - kKernel.size() - kEntries.size())},
               value);
    } else {
      // The devices' and the small stages' counters, one family each (their names say what
      // they count): io.read_frames -> dove_switch_io_read_frames_total, dhcp.offer ->
      // dove_switch_dhcp_offer_total, kernel_resyncs -> dove_switch_kernel_resyncs_total.
      // The drop.* names are dove_switch_drops_total above; port.* the per-port families.
      static constexpr std::string_view kGroups[] = {"io.", "gro.",  "dhcp.",     "mtu.",
                                                     "ra.", "pool.", "announce.", "kernel_"};
      for (const std::string_view group : kGroups) {
        if (!StartsWith(counter, group)) continue;
        std::string family = "dove_switch_" + std::string(counter) + "_total";
        for (char& c : family) c = c == '.' ? '_' : c;
        page.Counter(family, "The switch's " + std::string(counter) +
                                 " counter (docs/dove-switch.md, Metrics).")
            .Add({}, value);
      }
    }
  }
  return page.Text();
}

std::map<std::string, uint64_t> SummaryCounters(const userspace::DatapathStatus& datapath) {
  std::map<std::string, uint64_t> summary;
  for (const auto& [reason, value] : datapath.drops) {
    if (value != 0) summary["drop_" + reason] = value;
  }
  for (const auto& port : datapath.ports) {
    const std::string prefix = "port_" + port.kind + "_";
    summary[prefix + "frames_rx"] += port.counters.received;
    summary[prefix + "frames_tx"] += port.counters.sent;
    summary[prefix + "bytes_rx"] += port.counters.received_bytes;
    summary[prefix + "bytes_tx"] += port.counters.sent_bytes;
  }
  static constexpr std::pair<std::string_view, const char*> kTunnel[] = {
      {".to_tunnel", "tunnel_frames_tx"},
      {".from_tunnel", "tunnel_frames_rx"},
      {".to_tunnel_bytes", "tunnel_bytes_tx"},
      {".from_tunnel_bytes", "tunnel_bytes_rx"}};
  for (const auto& [_, name] : kTunnel) summary[name] = 0;
  for (const auto& [name, value] : datapath.counters) {
    if (!StartsWith(name, "network.")) continue;
    for (const auto& [suffix, summary_name] : kTunnel) {
      if (EndsWith(name, suffix)) summary[summary_name] += value;
    }
  }
  summary["ports"] = datapath.ports.size();
  return summary;
}

}  // namespace dove::dswitch::app
