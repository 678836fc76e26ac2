#include "controller/southbound/stats_families.h"

#include <cstdint>
#include <utility>

namespace dove::controller::southbound {
namespace {

bool TakePrefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool TakeSuffix(std::string_view& text, std::string_view suffix) {
  if (text.size() < suffix.size() || text.substr(text.size() - suffix.size()) != suffix) {
    return false;
  }
  text.remove_suffix(suffix.size());
  return true;
}

// "_rx" or "_tx" off the end of `text`, as "rx" / "tx"; empty when neither.
std::string TakeDirection(std::string_view& text) {
  if (TakeSuffix(text, "_rx")) return "rx";
  if (TakeSuffix(text, "_tx")) return "tx";
  return {};
}

bool IsKind(std::string_view kind) {
  if (kind.empty()) return false;
  for (const char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

std::optional<StatsSeries> MapStatsCounter(std::string_view name) {
  using Family = StatsSeries::Family;
  if (name == "ports") return StatsSeries{.family = Family::kPorts, .label = {}, .direction = {}};
  std::string_view rest = name;
  if (TakePrefix(rest, "drop_")) {
    if (rest.empty()) return std::nullopt;
    return StatsSeries{.family = Family::kDrops, .label = std::string(rest), .direction = {}};
  }
  const std::string direction = TakeDirection(rest);
  if (direction.empty()) return std::nullopt;
  if (rest == "tunnel_frames") {
    return StatsSeries{.family = Family::kTunnelFrames, .label = {}, .direction = direction};
  }
  if (rest == "tunnel_bytes") {
    return StatsSeries{.family = Family::kTunnelBytes, .label = {}, .direction = direction};
  }
  if (!TakePrefix(rest, "port_")) return std::nullopt;
  Family family = Family::kPortFrames;
  if (TakeSuffix(rest, "_bytes")) {
    family = Family::kPortBytes;
  } else if (!TakeSuffix(rest, "_frames")) {
    return std::nullopt;
  }
  if (!IsKind(rest)) return std::nullopt;
  return StatsSeries{.family = family, .label = std::string(rest), .direction = direction};
}

void AddSwitchStats(base::MetricsPage& page, const std::map<std::string, v1::StatsSummary>& stats) {
  auto drops = page.Counter("dove_switch_drops_total",
                            "Dropped frames by reason, as each connected switch last reported.",
                            {"switch", "reason"});
  auto port_frames = page.Counter(
      "dove_switch_port_frames_total",
      "Frames of a switch's ports of a kind: from the VMs (rx) and to them (tx), as last reported.",
      {"switch", "kind", "direction"});
  auto port_bytes =
      page.Counter("dove_switch_port_bytes_total", "Bytes of those frames, as last reported.",
                   {"switch", "kind", "direction"});
  auto tunnel_frames = page.Counter(
      "dove_switch_tunnel_frames_total",
      "Frames a switch sent into the tunnel (tx) and took out of it (rx), as last reported.",
      {"switch", "direction"});
  auto tunnel_bytes =
      page.Counter("dove_switch_tunnel_bytes_total",
                   "Bytes of those frames (the inner Ethernet frames), as last reported.",
                   {"switch", "direction"});
  auto ports = page.Gauge("dove_switch_summary_ports", "Ports each connected switch last reported.",
                          {"switch"});
  auto unmapped = page.Gauge(
      "dove_switch_stats_unmapped",
      "Counter names of a switch's last summary this controller does not know (not shown).",
      {"switch"});
  using Family = StatsSeries::Family;
  for (const auto& [name, summary] : stats) {
    // Sorted, so the page's order does not depend on the protobuf map's.
    const std::map<std::string, uint64_t> sorted(summary.counters().begin(),
                                                 summary.counters().end());
    uint64_t unknown = 0;
    for (const auto& [counter, value] : sorted) {
      const std::optional<StatsSeries> series = MapStatsCounter(counter);
      if (!series) {
        ++unknown;
        continue;
      }
      switch (series->family) {
        case Family::kDrops:
          drops.Add({name, series->label}, value);
          break;
        case Family::kPortFrames:
          port_frames.Add({name, series->label, series->direction}, value);
          break;
        case Family::kPortBytes:
          port_bytes.Add({name, series->label, series->direction}, value);
          break;
        case Family::kTunnelFrames:
          tunnel_frames.Add({name, series->direction}, value);
          break;
        case Family::kTunnelBytes:
          tunnel_bytes.Add({name, series->direction}, value);
          break;
        case Family::kPorts:
          ports.Add({name}, value);
          break;
      }
    }
    unmapped.Add({name}, unknown);
  }
}

}  // namespace dove::controller::southbound
