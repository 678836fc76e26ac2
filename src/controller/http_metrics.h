// HttpMetrics: the controller's request counters and latency histograms, and the /metrics page.
//
// Observe() records one answered request under its route *pattern* ("/v1/endpoints/{ref}",
// never the concrete path, so label cardinality stays bounded by the route table), method and
// status. AddTo() adds these families to a /metrics page (base::MetricsPage):
//   dove_objects{kind}                            gauge, from Registry::Counts()
//   dove_store_revision                           gauge
//   dove_registry_watch_errors_total, dove_registry_index_rebuilds_total,
//   dove_registry_write_retries_total, dove_registry_undecodable_changes_total
//                                                 counters, from Registry::Stats()
//   dove_http_requests_total{route,method,status} counter
//   dove_http_request_duration_seconds{route,method} histogram (buckets kLatencyBuckets)
//
// Thread-safe: one mutex around the maps; an Observe costs a map lookup, fine at the request
// rates a controller sees (thousands per second).
//
//   HttpMetrics metrics;
//   metrics.Observe("/v1/domains", "POST", 201, 0.0012);
//   metrics.AddTo(page, registry.Counts(), registry.Revision(), registry.Stats());
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "base/prometheus_text.h"
#include "controller/registry.h"

namespace dove::controller {

inline constexpr std::array<double, 13> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};

class HttpMetrics {
 public:
  void Observe(std::string_view route, std::string_view method, int status, double seconds);
  // Counts the request without a latency sample: one httplib refused before a handler ran.
  void Count(std::string_view route, std::string_view method, int status);

  void AddTo(base::MetricsPage& page, const ObjectCounts& counts, int64_t revision,
             const RegistryStats& registry) const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};  // not cumulative; the page sums
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  // By route and method only: a status label would split every histogram (the Prometheus
  // conventions); the counter above has it.
  std::map<std::pair<std::string, std::string>, Histogram> durations_;
};

}  // namespace dove::controller
