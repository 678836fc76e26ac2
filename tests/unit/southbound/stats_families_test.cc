// How a switch's StatsSummary names show on the controller's /metrics (stats_families.h): each
// name to its family and labels, counters as counter families, unknown names counted apart.
#include "controller/southbound/stats_families.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

namespace dove::controller::southbound {

// Failures name the series, not its bytes.
void PrintTo(const StatsSeries& series, std::ostream* out) {
  *out << "{family " << static_cast<int>(series.family) << ", \"" << series.label << "\", \""
       << series.direction << "\"}";
}

namespace {

using Family = StatsSeries::Family;

TEST(StatsFamiliesTest, EachSummaryNameMapsToOneSeries) {
  const struct {
    const char* name;
    std::optional<StatsSeries> series;
  } cases[] = {
      {"drop_source_mac_spoofed", StatsSeries{Family::kDrops, "source_mac_spoofed", ""}},
      {"drop_policy_default_deny", StatsSeries{Family::kDrops, "policy_default_deny", ""}},
      {"port_tap_frames_rx", StatsSeries{Family::kPortFrames, "tap", "rx"}},
      {"port_packet_frames_tx", StatsSeries{Family::kPortFrames, "packet", "tx"}},
      {"port_enslaved_bytes_rx", StatsSeries{Family::kPortBytes, "enslaved", "rx"}},
      {"port_tap_bytes_tx", StatsSeries{Family::kPortBytes, "tap", "tx"}},
      {"tunnel_frames_rx", StatsSeries{Family::kTunnelFrames, "", "rx"}},
      {"tunnel_bytes_tx", StatsSeries{Family::kTunnelBytes, "", "tx"}},
      {"ports", StatsSeries{Family::kPorts, "", ""}},
      // Not in the mapping: the old names, a kind with an underscore, no direction, no reason.
      {"port_frames_received", std::nullopt},
      {"port_frames_rx", std::nullopt},
      {"port_my_tap_frames_rx", std::nullopt},
      {"port_tap_frames", std::nullopt},
      {"port_tap_packets_rx", std::nullopt},
      {"tunnel_frames_up", std::nullopt},
      {"drop_", std::nullopt},
      {"rx_frames", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(MapStatsCounter(c.name), c.series) << c.name;
}

TEST(StatsFamiliesTest, SwitchesSummariesBecomeCounterFamiliesWithTheSwitchLabel) {
  std::map<std::string, v1::StatsSummary> stats;
  auto& a = *stats["host-a"].mutable_counters();
  a["port_tap_frames_rx"] = 42;
  a["port_tap_bytes_rx"] = 4200;
  a["tunnel_frames_tx"] = 7;
  a["drop_hairpin"] = 3;
  a["ports"] = 2;
  a["rx_frames"] = 1;  // a name of another version
  (*stats["host-b"].mutable_counters())["drop_hairpin"] = 1;
  base::MetricsPage page;
  AddSwitchStats(page, stats);
  ASSERT_TRUE(page.errors().empty()) << page.errors().front();
  const std::string text = page.Text();
  for (const char* line : {
           "# TYPE dove_switch_drops_total counter",
           "dove_switch_drops_total{switch=\"host-a\",reason=\"hairpin\"} 3",
           "dove_switch_drops_total{switch=\"host-b\",reason=\"hairpin\"} 1",
           "# TYPE dove_switch_port_frames_total counter",
           "dove_switch_port_frames_total{switch=\"host-a\",kind=\"tap\",direction=\"rx\"} 42",
           "# TYPE dove_switch_port_bytes_total counter",
           "dove_switch_port_bytes_total{switch=\"host-a\",kind=\"tap\",direction=\"rx\"} 4200",
           "# TYPE dove_switch_tunnel_frames_total counter",
           "dove_switch_tunnel_frames_total{switch=\"host-a\",direction=\"tx\"} 7",
           "# TYPE dove_switch_summary_ports gauge",
           "dove_switch_summary_ports{switch=\"host-a\"} 2",
           "dove_switch_stats_unmapped{switch=\"host-a\"} 1",
           "dove_switch_stats_unmapped{switch=\"host-b\"} 0",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find("rx_frames"), std::string::npos) << text;
  EXPECT_EQ(text.find("dove_switch_counter"), std::string::npos) << "the old gauge is gone";
}

}  // namespace
}  // namespace dove::controller::southbound
