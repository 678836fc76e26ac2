// Fuzzes how the controller shows a switch's StatsSummary on /metrics
// (controller/southbound/stats_families.h) with arbitrary counter names, one per line, under
// an arbitrary switch name (the first line): every name either maps to one series or is
// counted as unmapped, the page is refused nothing (the mapping gives each name its own
// series), and every value a switch chose stays inside its quotes (one line per sample).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "base/prometheus_text.h"
#include "controller/southbound/stats_families.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t first = std::min(text.find('\n'), text.size());
  const std::string switch_name(text.substr(0, first));
  std::map<std::string, dove::v1::StatsSummary> stats;
  auto& counters = *stats[switch_name].mutable_counters();
  uint64_t value = 0;
  for (size_t at = first + 1; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    counters[std::string(text.substr(at, end - at))] = ++value;
    at = end + 1;
  }
  size_t mapped = 0;
  for (const auto& [name, count] : counters) {
    mapped += dove::controller::southbound::MapStatsCounter(name) ? 1 : 0;
  }
  dove::base::MetricsPage page;
  dove::controller::southbound::AddSwitchStats(page, stats);
  Check(page.errors().empty());
  const std::string out = page.Text();
  // HELP and TYPE of the 7 families, a sample per mapped name, and the unmapped gauge's.
  constexpr size_t kFamilies = 7;
  Check(static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) ==
        2 * kFamilies + mapped + 1);
  return 0;
}
