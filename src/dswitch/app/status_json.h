// The JSON documents the switch's control socket answers (docs/dove-switch.md shows them):
// "show" (the switch and its controller session), "ports", "cache" (what the controller told
// it), "counters" (every pipeline and io counter, every drop reason). Pure functions of
// snapshots taken by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dswitch/agent/controller_client.h"
#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::app {

struct SwitchIdentity {
  std::string name;
  std::string tunnel_ip;
  std::string backend;
  std::chrono::seconds uptime{0};
  std::string underlay_interface{};  // the interface holding the tunnel IP; empty: not found
  uint32_t underlay_mtu = 0;         // its MTU, or --underlay-mtu
};

std::string ShowJson(const SwitchIdentity& identity, const agent::ClientState& client,
                     const userspace::DatapathStatus& datapath);
std::string PortsJson(const userspace::DatapathStatus& datapath);
std::string CacheJson(const agent::CacheDump& cache);
std::string CountersJson(const userspace::DatapathStatus& datapath);
// {"error":{"code":...,"message":...}}, the shape of the controller's API errors.
std::string ErrorJson(std::string_view code, std::string_view message);

}  // namespace dove::dswitch::app
