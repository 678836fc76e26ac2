// Fuzzes ParseNftCounters (the JSON of `nft -j list counters`): whatever it accepts holds only
// counters of tables named dove.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dswitch/kernel/nft_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Only counters of tables named dove are returned, so the input must name that table.
  const auto counters = dove::dswitch::kernel::ParseNftCounters(text);
  if (counters && !counters->empty() && text.find("dove") == std::string_view::npos) std::abort();
  return 0;
}
