// LiveTraces: where the trace API (trace_api.h, POST /v1/trace with "live") meets the switches.
// Run sends a v1::TraceOrder through the southbound (SideService::SendTrace) in two steps: first
// to every switch of this controller but the source, to watch for the marker, and waits until
// each has acknowledged (TraceReport.armed) or kArmWait passed, so the packet cannot reach a
// switch before its order does; then to the source switch, to inject. It collects the reports
// they send back (Arrive, from the southbound's thread) until the source switch has answered
// and every tunnel IP its packet was encapsulated to has answered too, or the deadline passes
// (a receiving switch that never answers is then simply missing).
//
// Thread-safe: Run from any number of REST threads at once, Arrive from the southbound. A
// report for a trace nobody waits for (late, or unknown) is dropped and counted (late()).
//
//   LiveTraces traces;
//   side->SetTraceSink([&traces](TraceArrival a) { traces.Arrive(std::move(a)); });
//   traces.SetSender([side](auto& name, auto& order) { return side->SendTrace(name, order); });
//   order.set_inject(true);  // Run sends the watch orders (inject cleared) first
//   auto arrivals = traces.Run("sw1", order, std::chrono::seconds(3));
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/expected.h"
#include "controller/side_service.h"
#include "dove/v1/switch.pb.h"

namespace dove::controller {

class LiveTraces {
 public:
  // SideService::SendTrace: the switches the order went to, nullopt when the source switch has
  // no stream here.
  using Sender = std::function<std::optional<std::vector<std::string>>(
      const std::string& source_switch, const v1::TraceOrder&)>;
  static constexpr std::chrono::milliseconds kArmWait{500};

  // How orders reach the switches; null (the default, and after shutdown): Run fails.
  void SetSender(Sender sender);
  // A switch's report (the southbound's sink).
  void Arrive(TraceArrival arrival);
  // Sends `order` (trace_id not 0, unique; inject as given is ignored) for the endpoint on
  // `source_switch`, as above, and collects the reports (the acknowledgments left out) until
  // `wait` has passed or the source and every switch it sent to have answered. A watcher that
  // cannot watch (the kernel backend) is left out unless the packet went to it. Errors (one
  // sentence): no sender (no southbound), or the switch has no stream here.
  Expected<std::vector<TraceArrival>, std::string> Run(const std::string& source_switch,
                                                       const v1::TraceOrder& order,
                                                       std::chrono::milliseconds wait);
  uint64_t late() const;

 private:
  // Whether `arrivals` hold the source's report and one from every tunnel IP it encapsulated to.
  static bool Complete(const std::vector<TraceArrival>& arrivals);
  // Whether `arrival` is a watcher's acknowledgment (armed; with an error: it cannot watch).
  static bool IsAck(const TraceArrival& arrival);
  // The tunnel IPs the source's report says its packet was encapsulated to; nullopt before the
  // source reported.
  static std::optional<std::set<std::string>> EncapsulatedTo(
      const std::vector<TraceArrival>& arrivals);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Sender sender_;
  std::map<uint64_t, std::vector<TraceArrival>> waiting_;  // by trace id
  uint64_t late_ = 0;
};

}  // namespace dove::controller
