// SideService: a server started by RunController next to the REST API on the same registry and
// store (the southbound), and the factory that makes one. Lives apart from controller_app.h so
// the southbound implements it without depending on the application that starts it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/expected.h"
#include "store/store.h"

namespace dove::controller {

class Registry;

// The last StatsSummary (switch.proto) of each connected switch: switch name -> counter name ->
// value. A map rather than the message, so the REST side needs no southbound protocol.
using SwitchCounters = std::map<std::string, std::map<std::string, uint64_t>>;

// A server started next to the REST API on the same registry and store (the southbound gRPC
// server of src/controller/southbound), destroyed when shutdown begins, before the registry and
// store.
class SideService {
 public:
  virtual ~SideService() = default;
  virtual std::string address() const = 0;  // HOST:PORT it serves on (actual port)
  // Lines appended to the REST API's /metrics page (Prometheus text format); thread-safe.
  virtual std::string MetricsText() const { return {}; }
  // The counters each connected switch last reported (none when it reports none); thread-safe.
  virtual SwitchCounters SwitchStats() const { return {}; }
  // What it speaks, for the startup line: "plaintext gRPC", "TLS gRPC (client certificates)".
  virtual std::string Protocol() const = 0;
};
using SideServiceFactory =
    std::function<Expected<std::unique_ptr<SideService>, std::string>(Registry*, store::Store*)>;

}  // namespace dove::controller
