#include "dswitch/app/status_json.h"

#include <nlohmann/json.hpp>

namespace dove::dswitch::app {

using nlohmann::json;

std::string ShowJson(const SwitchIdentity& identity, const agent::ClientState& client,
                     const userspace::DatapathStatus& datapath) {
  size_t open = 0;
  for (const auto& port : datapath.ports) open += port.open ? 1 : 0;
  json out = {{"name", identity.name},
              {"tunnel_ip", identity.tunnel_ip},
              {"backend", identity.backend},
              {"uptime_seconds", identity.uptime.count()},
              {"controller", client.controller},
              {"switch_id", client.switch_id},
              {"connections", client.connections},
              {"last_error", client.last_error},
              {"refusal", client.refusal},
              {"cache_size", client.cache_size},
              {"last_revision", client.last_revision},
              {"pending_queries", client.pending_queries},
              {"ports", datapath.ports.size()},
              {"ports_open", open},
              {"networks", datapath.networks},
              {"remote_endpoints", datapath.remotes},
              {"redirects", datapath.redirects},
              {"parked_frames", datapath.parked},
              {"resolving", datapath.resolving},
              {"underlay_interface", identity.underlay_interface},
              {"underlay_mtu", identity.underlay_mtu},
              {"overlay_mtu", datapath.overlay_mtu}};
  return out.dump(2);
}

std::string PortsJson(const userspace::DatapathStatus& datapath) {
  json ports = json::array();
  for (const auto& port : datapath.ports) {
    ports.push_back({{"name", port.name},
                     {"kind", port.kind},
                     {"endpoint_id", port.endpoint_id},
                     {"vni", port.vni},
                     {"mac", port.mac},
                     {"ips", port.ips},
                     {"open", port.open},
                     {"error", port.error},
                     {"received", port.counters.received},
                     {"sent", port.counters.sent},
                     {"dropped", port.counters.dropped}});
  }
  return json{{"ports", ports}}.dump(2);
}

std::string CacheJson(const agent::CacheDump& cache) {
  json endpoints = json::array();
  for (const auto& entry : cache.endpoints) {
    const auto& location = entry.location;
    endpoints.push_back(
        {{"endpoint_id", location.endpoint_id()},
         {"vni", location.vni()},
         {"mac", location.mac()},
         {"ips", json(std::vector<std::string>(location.ips().begin(), location.ips().end()))},
         {"switch", location.switch_name()},
         {"tunnel_ip", location.tunnel_ip()},
         {"switch_down", location.switch_down()},
         {"version", location.version()},
         {"revision", entry.revision}});
  }
  json networks = json::array();
  for (const auto& network : cache.networks) {
    json local = json::array();
    std::string network_id;
    if (network.config) {
      network_id = network.config->network().id();
      for (const auto& endpoint : network.config->local_endpoints()) {
        local.push_back(endpoint.endpoint_id());
      }
    }
    networks.push_back({{"vni", network.vni},
                        {"network_id", network_id},
                        {"flood_tunnel_ips", network.flood_tunnel_ips},
                        {"local_endpoints", local},
                        {"revision", network.revision}});
  }
  return json{{"last_revision", cache.last_revision},
              {"syncing", cache.syncing},
              {"endpoints", endpoints},
              {"networks", networks}}
      .dump(2);
}

std::string CountersJson(const userspace::DatapathStatus& datapath) {
  return json{{"counters", datapath.counters}, {"drops", datapath.drops}}.dump(2);
}

std::string ErrorJson(std::string_view code, std::string_view message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

}  // namespace dove::dswitch::app
