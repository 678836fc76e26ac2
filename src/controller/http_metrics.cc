#include "controller/http_metrics.h"

#include <cstdio>

namespace dove::controller {
namespace {

std::string FormatDouble(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

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

std::string HttpMetrics::Render(const ObjectCounts& counts, int64_t revision,
                                const RegistryStats& registry) const {
  std::string out;
  out +=
      "# HELP dove_objects Objects in the controller's registry, by kind.\n"
      "# TYPE dove_objects gauge\n";
  const std::pair<const char*, size_t> kinds[] = {
      {"domain", counts.domains},     {"network", counts.networks}, {"subnet", counts.subnets},
      {"endpoint", counts.endpoints}, {"switch", counts.switches},  {"policy", counts.policies}};
  for (const auto& [kind, count] : kinds) {
    out += "dove_objects{kind=\"" + std::string(kind) + "\"} " + std::to_string(count) + "\n";
  }
  out +=
      "# HELP dove_store_revision The store revision the registry reflects.\n"
      "# TYPE dove_store_revision gauge\n"
      "dove_store_revision " +
      std::to_string(revision) + "\n";
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
  for (const auto& [name, help, value] : counters) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
           " " + std::to_string(value) + "\n";
  }
  out +=
      "# HELP dove_registry_loaded_from_index_cache 1 when this controller started from its "
      "index cache and the store's changes since, 0 when it read the store whole.\n"
      "# TYPE dove_registry_loaded_from_index_cache gauge\n"
      "dove_registry_loaded_from_index_cache " +
      std::string(registry.loaded_from_cache ? "1" : "0") + "\n";

  const std::lock_guard lock(mutex_);
  out +=
      "# HELP dove_http_requests_total HTTP requests answered, by route pattern, method and "
      "status.\n"
      "# TYPE dove_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "dove_http_requests_total{route=\"" + EscapeLabelValue(route) + "\",method=\"" +
           EscapeLabelValue(method) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out +=
      "# HELP dove_http_request_duration_seconds Time from request parsed to response ready, by "
      "route pattern and method.\n"
      "# TYPE dove_http_request_duration_seconds histogram\n";
  for (const auto& [key, histogram] : durations_) {
    const auto& [route, method] = key;
    const std::string labels =
        "route=\"" + EscapeLabelValue(route) + "\",method=\"" + EscapeLabelValue(method) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += histogram.buckets[i];
      out += "dove_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             FormatDouble(kLatencyBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "dove_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(histogram.count) + "\n";
    out += "dove_http_request_duration_seconds_sum{" + labels + "} " + FormatDouble(histogram.sum) +
           "\n";
    out += "dove_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(histogram.count) + "\n";
  }
  return out;
}

}  // namespace dove::controller
