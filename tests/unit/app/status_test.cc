// What dove-switch shows about itself: the /metrics page (every drop reason, labels escaped,
// per port and per network series) and the control socket's JSON documents.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dswitch/app/metrics_text.h"
#include "dswitch/app/status_json.h"

namespace dove::dswitch::app {
namespace {

userspace::DatapathStatus Sample() {
  userspace::DatapathStatus status;
  status.ports.push_back({.name = "t-red1",
                          .endpoint_id = "ep1",
                          .vni = 100,
                          .mac = "02:00:00:00:01:01",
                          .ips = {"10.0.0.11"},
                          .open = true,
                          .error = "",
                          .counters = {.received = 7, .sent = 5, .dropped = 1}});
  status.ports.push_back({.name = "t-\"odd\"",
                          .endpoint_id = "ep2",
                          .vni = 100,
                          .mac = "02:00:00:00:01:02",
                          .ips = {},
                          .open = false,
                          .error = "no TAP device",
                          .counters = {}});
  status.counters = {{"network.100.to_tunnel", 12}, {"io.read_frames", 9},
                     {"drop.hairpin", 1},           {"router.routed", 4},
                     {"policy.no-ssh.denied", 2},   {"kernel_misses_rate_limited", 800},
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
       {"dove_switch_info{switch=\"h1\"} 1", "# TYPE dove_build_info gauge",
        "dove_switch_controller_connected 1", "dove_switch_controller_connections_total 2",
        "dove_switch_ports{state=\"open\"} 1", "dove_switch_ports{state=\"error\"} 1",
        "dove_switch_drops_total{reason=\"hairpin\"} 1",
        "dove_switch_drops_total{reason=\"vtep_not_allowed\"} 0",
        "dove_switch_port_frames_total{port=\"t-red1\",direction=\"received\"} 7",
        "dove_switch_port_frames_total{port=\"t-\\\"odd\\\"\",direction=\"sent\"} 0",
        "dove_switch_network_frames_total{vni=\"100\",kind=\"to_tunnel\"} 12",
        "dove_switch_io_total{counter=\"read_frames\"} 9",
        "dove_switch_router_total{counter=\"routed\"} 4",
        "dove_switch_policy_denied_total{policy=\"no-ssh\"} 2",
        "dove_switch_kernel_total{counter=\"misses_rate_limited\"} 800",
        "dove_switch_kernel_entries{table=\"fdb\"} 6", "# TYPE dove_switch_drops_total counter"}) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  client.controller = "none";
  EXPECT_NE(MetricsText("h1", client, Sample()).find("dove_switch_controller_connected 0\n"),
            std::string::npos);
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
