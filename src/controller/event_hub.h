// EventHub: the controller's change feed, GET /v1/events (docs/rest-api.md, "Live events"):
// every change of the model (domains, networks, subnets, endpoints, switches with their
// UP/DOWN state, policies), by any writer (this controller, another replica, a switch's
// registration), and every change of the switches' last StatsSummary, pushed to each
// subscriber as server-sent events.
//
// Where it learns of changes: a store watch on "/dove/v1/" (the registry's and the
// southbound's source too), so replicas' writes arrive as well; each revision is published only
// once the registry shows it (Registry::WaitForRevision), so a client that reads the REST API on
// an event sees what the event says. The switches' counters are not stored: the hub asks the
// southbound (SetStatsSource) every stats_interval while someone is subscribed, and publishes
// the switches whose counters changed.
//
// The stream each subscriber gets (text/event-stream):
//   event: hello    data: {"revision":R}          first; every change after R follows
//   event: change   data: {"revision":N,"kind":"endpoints","op":"put","id":"e1","object":{..}}
//                   ("op":"delete" carries no object), in revision order; "id: N" set
//   event: stats    data: {"items":[{"switch_name":"h1","counters":{..}}],"removed":["h2"]}
//   event: resync   data: {"revision":R}          changes were lost (the store's history was
//                                                 compacted under the watch): read everything again
//   ": keepalive"   a comment every keepalive interval, so a dead connection is noticed
// A client reads the REST API after hello and applies the changes of revision > R in order
// (the same change may be applied twice; the result is the same).
//
// Each subscriber is an http::StreamChannel bounded to client_buffer_bytes: one that falls
// behind is dropped by the HTTP server (counted there), and never slows the others or the
// controller. At most max_subscribers at once (Subscribe answers nullptr beyond).
//
// Threading: owns one thread (the watch and the stats polls; like the southbound's watch
// thread, it waits on the store's eventfd). Every method is thread-safe. The destructor stops
// the thread and closes every channel; it must run before the registry and store go.
//
//   EventHub hub(registry, store, {});
//   hub.SetStatsSource([&] { return southbound->SwitchStats(); });
//   response.stream = hub.Subscribe();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/http/stream_channel.h"
#include "controller/registry.h"
#include "controller/side_service.h"
#include "store/store.h"

namespace dove::controller {

struct EventHubOptions {
  size_t max_subscribers = 64;
  size_t client_buffer_bytes = size_t{4} << 20;  // per subscriber; beyond it: dropped
  std::chrono::milliseconds stats_interval{500};
  std::chrono::milliseconds keepalive{15000};
};

class EventHub {
 public:
  struct Stats {
    uint64_t subscribers = 0;  // open now
    uint64_t events = 0;       // events published (each counted once, however many got it)
    uint64_t refused = 0;      // subscriptions refused: max_subscribers open
  };

  // Starts watching `store` from the registry's revision. Both must outlive the hub.
  EventHub(Registry* registry, store::Store* store, EventHubOptions options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Where the switches' counters come from (the southbound); nullptr: none (no stats events).
  // Returns once no call of the previous source runs, so the caller may then destroy it.
  void SetStatsSource(std::function<SwitchCounters()> source);
  // A new subscriber's channel, its hello queued; nullptr when max_subscribers are open.
  std::shared_ptr<http::StreamChannel> Subscribe();
  Stats stats() const;
  // Adds dove_events_* to a /metrics page.
  void AddMetrics(base::MetricsPage& page) const;

 private:
  void Loop();
  // Sends `text` (one or more whole events) to every subscriber, forgetting the closed ones.
  // With mutex_ held.
  void Broadcast(const std::string& text);
  void PublishChanges(const std::vector<store::Event>& events);
  void PublishStats();

  Registry* registry_;
  store::Store* store_;
  EventHubOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<http::StreamChannel>> subscribers_;
  int64_t published_ = 0;   // every change up to this revision went to the subscribers
  std::mutex stats_mutex_;  // guards stats_source_ (held while it runs: see SetStatsSource)
  std::function<SwitchCounters()> stats_source_;
  SwitchCounters last_stats_;  // the loop's
  uint64_t events_ = 0;
  uint64_t refused_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace dove::controller
