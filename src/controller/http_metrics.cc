#include "controller/http_metrics.h"

namespace dove::controller {

void HttpMetrics::Count(std::string_view route, std::string_view method, int status) {
  const std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method), status}];
}

void HttpMetrics::Observe(std::string_view route, std::string_view method, int status,
                          double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& histogram = durations_[{std::string(route), std::string(method)}];
  ++histogram.count;
  histogram.sum += seconds;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++histogram.buckets[i];
      break;
    }
  }
}

void HttpMetrics::AddTo(base::MetricsPage& page, const ObjectCounts& counts, int64_t revision,
                        const RegistryStats& registry) const {
  auto objects =
      page.Gauge("dove_objects", "Objects in the controller's registry, by kind.", {"kind"});
  const std::pair<const char*, size_t> kinds[] = {
      {"domain", counts.domains},     {"network", counts.networks}, {"subnet", counts.subnets},
      {"endpoint", counts.endpoints}, {"switch", counts.switches},  {"policy", counts.policies}};
  for (const auto& [kind, count] : kinds) objects.Add({kind}, count);
  page.Gauge("dove_store_revision", "The store revision the registry reflects.").Add({}, revision);
  // The registry's watch and replica bookkeeping (registry.h, RegistryStats).
  const std::tuple<const char*, const char*, uint64_t> counters[] = {
      {"dove_registry_watch_errors_total",
       "Failed polls or starts of the registry's store watch (each retried with backoff).",
       registry.watch_errors},
      {"dove_registry_index_rebuilds_total",
       "Full reloads of the registry's index after its watch history was compacted.",
       registry.rebuilds},
      {"dove_registry_write_retries_total",
       "Registry writes run again after losing a race to another writer (a replica).",
       registry.retries},
      {"dove_registry_undecodable_changes_total",
       "Watched store changes skipped because they do not decode.", registry.undecodable},
      {"dove_registry_index_cache_writes_total", "Copies of the index written to --cache-dir.",
       registry.cache_writes},
      {"dove_registry_index_cache_write_failures_total",
       "Copies of the index to --cache-dir that failed (logged; the previous copy stays).",
       registry.cache_write_failures}};
  for (const auto& [name, help, value] : counters) page.Counter(name, help).Add({}, value);
  page.Gauge("dove_registry_loaded_from_index_cache",
             "1 when this controller started from its index cache and the store's changes since, "
             "0 when it read the store whole.")
      .Add({}, registry.loaded_from_cache ? 1 : 0);

  const std::lock_guard lock(mutex_);
  auto requests = page.Counter("dove_http_requests_total",
                               "HTTP requests answered, by route pattern, method and status.",
                               {"route", "method", "status"});
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    requests.Add({route, method, std::to_string(status)}, count);
  }
  auto durations =
      page.Histogram("dove_http_request_duration_seconds",
                     "Time from request parsed to response ready, by route pattern and method.",
                     {"route", "method"}, kLatencyBuckets);
  for (const auto& [key, histogram] : durations_) {
    durations.AddHistogram({key.first, key.second}, histogram.buckets, histogram.count,
                           histogram.sum);
  }
}

}  // namespace dove::controller
