// The process_* metrics every Prometheus client library exports (the exposition conventions'
// "process collector"), for the daemons' /metrics pages, read from /proc on Linux:
//
//   process_cpu_seconds_total       counter  user + system CPU time   (/proc/self/stat 14, 15)
//   process_resident_memory_bytes   gauge    resident set size        (/proc/self/stat 24 x page)
//   process_virtual_memory_bytes    gauge    virtual memory size      (/proc/self/stat 23)
//   process_start_time_seconds      gauge    start, in Unix seconds   (stat 22 + /proc/stat btime)
//   process_open_fds                gauge    open file descriptors    (entries of /proc/self/fd)
//   process_max_fds                 gauge    RLIMIT_NOFILE's soft limit
//
// ParseProcessStat and ParseBootTime are the parsers (fuzzed by process_stat_fuzz): pure, they
// refuse what does not have the fields they need, with one sentence. AddProcessMetrics reads
// /proc and adds the families to a page (prometheus_text.h); a family it cannot read is left out
// (never a wrong value). Thread-safe.
//
//   dove::base::AddProcessMetrics(page);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "base/prometheus_text.h"

namespace dove::base {

// The fields of /proc/PID/stat the metrics use (proc(5)); times in clock ticks.
struct ProcessStat {
  uint64_t user_ticks = 0;      // field 14, utime
  uint64_t system_ticks = 0;    // field 15, stime
  uint64_t start_ticks = 0;     // field 22, starttime: after boot
  uint64_t virtual_bytes = 0;   // field 23, vsize
  uint64_t resident_pages = 0;  // field 24, rss
};

// `text`: the whole of /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses: the fields after it are counted from its last ')'.
Expected<ProcessStat, std::string> ParseProcessStat(std::string_view text);
// `text`: the whole of /proc/stat; its "btime N" line (boot time, Unix seconds).
Expected<uint64_t, std::string> ParseBootTime(std::string_view text);

// Adds the six families above to `page`.
void AddProcessMetrics(MetricsPage& page);

}  // namespace dove::base
