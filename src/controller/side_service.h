// SideService: a server started by RunController next to the REST API on the same registry and
// store (the southbound), and the factory that makes one. Lives apart from controller_app.h so
// the southbound implements it without depending on the application that starts it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "base/prometheus_text.h"
#include "dove/v1/switch.pb.h"
#include "store/store.h"

namespace dove::controller {

class Registry;

// A live trace's report from a switch (v1::TraceReport), for whoever waits for it (LiveTraces,
// controller/live_traces.h).
struct TraceArrival {
  std::string switch_name;
  std::string tunnel_ip;
  v1::TraceReport report;
};
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
  // Adds its families to the REST API's /metrics page; thread-safe.
  virtual void AddMetrics(base::MetricsPage& /*page*/) const {}
  // Its families alone as a page (tests).
  std::string MetricsText() const {
    base::MetricsPage page;
    AddMetrics(page);
    return page.Text();
  }
  // The counters each connected switch last reported (none when it reports none); thread-safe.
  virtual SwitchCounters SwitchStats() const { return {}; }
  // What it speaks, for the startup line: "plaintext gRPC", "TLS gRPC (client certificates)".
  virtual std::string Protocol() const = 0;
  // Live traces: sends `order` to the switches it serves (SwitchService::SendTrace: with inject
  // to `source_switch`, without to the others); the names it went to, nullopt when
  // `source_switch` is not one of them. The reports go to the sink (SetTraceSink, set before the
  // first SendTrace). A service without switches sends nothing.
  virtual std::optional<std::vector<std::string>> SendTrace(const std::string& source_switch,
                                                            const v1::TraceOrder& order) {
    (void)source_switch;
    (void)order;
    return std::nullopt;
  }
  virtual void SetTraceSink(const std::function<void(TraceArrival)>& sink) { (void)sink; }
};
using SideServiceFactory =
    std::function<Expected<std::unique_ptr<SideService>, std::string>(Registry*, store::Store*)>;

}  // namespace dove::controller
