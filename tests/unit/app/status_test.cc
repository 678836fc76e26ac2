// What dove-switch shows about itself: the /metrics page (every drop reason, labels escaped,
// per port and per network series, the counter names mapped to families as
// docs/dove-switch.md's Metrics table says) and the control socket's JSON documents.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dswitch/app/metrics_text.h"
#include "dswitch/app/status_json.h"

namespace dove::dswitch::app {
namespace {

userspace::DatapathStatus Sample() {
  userspace::DatapathStatus status;
  status.ports.push_back(
      {.name = "t-red1",
       .endpoint_id = "ep1",
       .vni = 100,
       .mac = "02:00:00:00:01:01",
       .ips = {"10.0.0.11"},
       .open = true,
       .error = "",
       .counters = {
           .received = 7, .sent = 5, .dropped = 1, .received_bytes = 700, .sent_bytes = 64000}});
  status.ports.push_back({.name = "t-\"odd\"",
                          .kind = "packet",
                          .endpoint_id = "ep2",
                          .vni = 100,
                          .mac = "02:00:00:00:01:02",
                          .ips = {},
                          .open = false,
                          .error = "no TAP device",
                          .counters = {}});
  status.counters = {{"network.100.to_tunnel", 12},
                     {"network.100.to_tunnel_bytes", 9000},
                     {"network.100.from_tunnel", 3},
                     {"network.100.redirected", 1},
                     {"io.read_frames", 9},
                     {"drop.hairpin", 1},
                     {"router.routed", 4},
                     {"policy.no-ssh.denied", 2},
                     {"pool.free_small", 1000},
                     {"pool.clones", 5},
                     {"dhcp.offer", 2},
                     {"kernel_misses_rate_limited", 800},
                     {"kernel_fdb_entries", 6}};
  status.drops = {{"hairpin", 1}, {"vtep_not_allowed", 0}};
  status.networks = 1;
  status.remotes = 3;
  return status;
}

TEST(MetricsTextTest, ListsEveryDropReasonAndPerPortAndNetworkSeries) {
  agent::ClientState client;
  client.controller = "198.51.100.1:8741";
  client.connections = 2;
  client.cache_size = 3;
  const std::string text = MetricsText("h1", client, Sample());
  for (const char* line :
       {"dove_switch_info{switch=\"h1\"} 1",
        "# TYPE dove_build_info gauge",
        "dove_switch_controller_connected 1",
        "dove_switch_controller_connections_total 2",
        "dove_switch_ports{state=\"open\"} 1",
        "dove_switch_ports{state=\"error\"} 1",
        "dove_switch_drops_total{reason=\"hairpin\"} 1",
        "dove_switch_drops_total{reason=\"vtep_not_allowed\"} 0",
        "dove_switch_port_frames_total{port=\"t-red1\",kind=\"tap\",direction=\"rx\"} 7",
        "dove_switch_port_frames_total{port=\"t-red1\",kind=\"tap\",direction=\"tx\"} 5",
        "dove_switch_port_bytes_total{port=\"t-red1\",kind=\"tap\",direction=\"rx\"} 700",
        "dove_switch_port_bytes_total{port=\"t-red1\",kind=\"tap\",direction=\"tx\"} 64000",
        "dove_switch_port_frames_total{port=\"t-\\\"odd\\\"\",kind=\"packet\",direction=\"tx\"} 0",
        "dove_switch_port_drops_total{port=\"t-red1\"} 1",
        "dove_switch_tunnel_frames_total{vni=\"100\",direction=\"tx\"} 12",
        "dove_switch_tunnel_frames_total{vni=\"100\",direction=\"rx\"} 3",
        "dove_switch_tunnel_bytes_total{vni=\"100\",direction=\"tx\"} 9000",
        "dove_switch_redirected_frames_total{vni=\"100\"} 1",
        "dove_switch_io_read_frames_total 9",
        "dove_switch_routed_packets_total 4",
        "dove_switch_policy_denied_packets_total{policy=\"no-ssh\"} 2",
        "dove_switch_pool_free_buffers{size=\"small\"} 1000",
        "# TYPE dove_switch_pool_free_buffers gauge",
        "dove_switch_pool_clones_total 5",
        "dove_switch_dhcp_offer_total 2",
        "dove_switch_kernel_misses_rate_limited_total 800",
        "dove_switch_kernel_entries{table=\"fdb\"} 6",
        "# TYPE dove_switch_kernel_entries gauge",
        "# TYPE dove_switch_drops_total counter",
        "# TYPE dove_switch_port_bytes_total counter"}) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  client.controller = "none";
  EXPECT_NE(MetricsText("h1", client, Sample()).find("dove_switch_controller_connected 0\n"),
            std::string::npos);
}

TEST(MetricsTextTest, TheSummaryForTheControllerSumsPortsByKindAndNetworks) {
  userspace::DatapathStatus status = Sample();
  status.ports.push_back(
      {.name = "t-red2",
       .endpoint_id = "ep3",
       .vni = 100,
       .mac = "02:00:00:00:01:03",
       .ips = {},
       .open = true,
       .error = "",
       .counters = {
           .received = 3, .sent = 2, .dropped = 0, .received_bytes = 300, .sent_bytes = 200}});
  status.counters["network.200.to_tunnel"] = 8;
  status.counters["network.200.from_tunnel_bytes"] = 640;
  EXPECT_EQ(SummaryCounters(status), (std::map<std::string, uint64_t>{
                                         {"drop_hairpin", 1},
                                         {"port_packet_bytes_rx", 0},
                                         {"port_packet_bytes_tx", 0},
                                         {"port_packet_frames_rx", 0},
                                         {"port_packet_frames_tx", 0},
                                         {"port_tap_bytes_rx", 1000},
                                         {"port_tap_bytes_tx", 64200},
                                         {"port_tap_frames_rx", 10},
                                         {"port_tap_frames_tx", 7},
                                         {"ports", 3},
                                         {"tunnel_bytes_rx", 640},
                                         {"tunnel_bytes_tx", 9000},
                                         {"tunnel_frames_rx", 3},
                                         {"tunnel_frames_tx", 20},
                                     }));
}

TEST(StatusJsonTest, DocumentsCarryWhatDovectlPrints) {
  agent::ClientState client;
  client.controller = "198.51.100.1:8741";
  client.refusal = "conflict: tunnel IP 192.0.2.11 is held by the live switch h9";
  auto show =
      nlohmann::json::parse(ShowJson({"h1", "192.0.2.11", "userspace", {}}, client, Sample()));
  EXPECT_EQ(show["name"], "h1");
  EXPECT_EQ(show["ports"], 2);
  EXPECT_EQ(show["ports_open"], 1);
  EXPECT_EQ(show["remote_endpoints"], 3);
  EXPECT_EQ(show["refusal"], "conflict: tunnel IP 192.0.2.11 is held by the live switch h9");
  auto ports = nlohmann::json::parse(PortsJson(Sample()));
  ASSERT_EQ(ports["ports"].size(), 2u);
  EXPECT_EQ(ports["ports"][1]["error"], "no TAP device");
  EXPECT_EQ(ports["ports"][0]["received"], 7);
  auto counters = nlohmann::json::parse(CountersJson(Sample()));
  EXPECT_EQ(counters["drops"]["vtep_not_allowed"], 0);
  EXPECT_EQ(counters["counters"]["io.read_frames"], 9);
  auto error = nlohmann::json::parse(ErrorJson("invalid_value", "unknown command 'x'"));
  EXPECT_EQ(error["error"]["code"], "invalid_value");
}

}  // namespace
}  // namespace dove::dswitch::app
