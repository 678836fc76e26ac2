// LocalSwitch: what dove-cni asks this host's dove-switch over its control socket (the one
// `dovectl switch show|ports` uses): its name and overlay MTU, and whether it serves a port.
//
//   auto identity = AskIdentity("/run/dove/dove-switch.sock");
//   auto ready = WaitForPort(socket, "dc0123456789ab", "cni-...", std::chrono::seconds(10));
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/expected.h"

namespace dove::cni {

struct SwitchIdentity {
  std::string name;
  uint32_t overlay_mtu = 0;  // 0: it does not say
};

// Errors: no switch answers on `socket`, or its answer lacks a name.
Expected<SwitchIdentity, std::string> AskIdentity(const std::string& socket);

// Polls the switch's ports (every 100 ms) until `port` is listed open for `endpoint_id`.
// Errors after `timeout`: the last thing seen (not listed yet, its error, no switch).
Expected<void, std::string> WaitForPort(const std::string& socket, const std::string& port,
                                        const std::string& endpoint_id,
                                        std::chrono::milliseconds timeout);

}  // namespace dove::cni
