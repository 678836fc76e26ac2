// Fuzzes the /proc parsers of the process_* metrics (src/base/process_metrics.h) with arbitrary
// text as /proc/self/stat and as /proc/stat. Nothing may crash; a refusal says why.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/process_metrics.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto stat = dove::base::ParseProcessStat(text);
  Check(stat || !stat.error().empty());
  if (stat) Check(text.find(')') != std::string_view::npos);
  const auto boot = dove::base::ParseBootTime(text);
  Check(boot || !boot.error().empty());
  if (boot) Check(text.find("btime") != std::string_view::npos);
  return 0;
}
