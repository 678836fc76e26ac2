#include "base/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace dove::base {

namespace {

// The whitespace-separated words of `text`.
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t')) ++at;
    size_t end = at;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '\t') {
      ++end;
    }
    if (end > at) words.push_back(text.substr(at, end - at));
    at = end;
  }
  return words;
}

bool ToNumber(std::string_view word, uint64_t& value) {
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  return error == std::errc() && end == word.data() + word.size();
}

std::string Slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

Expected<ProcessStat, std::string> ParseProcessStat(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') > close) {
    return Unexpected(std::string("no command name in parentheses"));
  }
  // After the name: field 3 (state) is words[0], so field N is words[N - 3].
  const std::vector<std::string_view> words = Words(text.substr(close + 1));
  constexpr size_t kLast = 24 - 3;
  if (words.size() <= kLast) {
    return Unexpected("only " + std::to_string(words.size() + 2) + " fields, 24 needed");
  }
  ProcessStat stat;
  const struct {
    size_t field;
    uint64_t* value;
  } wanted[] = {{14, &stat.user_ticks},
                {15, &stat.system_ticks},
                {22, &stat.start_ticks},
                {23, &stat.virtual_bytes},
                {24, &stat.resident_pages}};
  for (const auto& [field, value] : wanted) {
    if (!ToNumber(words[field - 3], *value)) {
      return Unexpected("field " + std::to_string(field) + " is not a number");
    }
  }
  return stat;
}

Expected<uint64_t, std::string> ParseBootTime(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::vector<std::string_view> words = Words(text.substr(at, end - at));
    if (words.size() == 2 && words[0] == "btime") {
      uint64_t seconds = 0;
      if (!ToNumber(words[1], seconds)) return Unexpected(std::string("btime is not a number"));
      return seconds;
    }
    at = end + 1;
  }
  return Unexpected(std::string("no btime line"));
}

void AddProcessMetrics(MetricsPage& page) {
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (const auto stat = ParseProcessStat(Slurp("/proc/self/stat")); stat && ticks > 0) {
    const double per_tick = 1.0 / static_cast<double>(ticks);
    page.Counter("process_cpu_seconds_total", "User and system CPU time, in seconds.")
        .Add({}, static_cast<double>(stat->user_ticks + stat->system_ticks) * per_tick);
    page.Gauge("process_resident_memory_bytes", "Resident memory size, in bytes.")
        .Add({}, stat->resident_pages * static_cast<uint64_t>(page_size > 0 ? page_size : 4096));
    page.Gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes.")
        .Add({}, stat->virtual_bytes);
    if (const auto boot = ParseBootTime(Slurp("/proc/stat"))) {
      page.Gauge("process_start_time_seconds",
                 "Start time of the process since the Unix epoch, in seconds.")
          .Add({}, static_cast<double>(*boot) + static_cast<double>(stat->start_ticks) * per_tick);
    }
  }
  std::error_code error;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++fds;
  }
  if (!error) page.Gauge("process_open_fds", "Open file descriptors.").Add({}, fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    page.Gauge("process_max_fds", "The most file descriptors the process may open.")
        .Add({}, limit.rlim_cur);
  }
}

}  // namespace dove::base
