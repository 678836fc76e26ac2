// Fuzzes the lab's topology parser (src/lab/spec.h) with arbitrary text. Nothing may crash; a
// refusal names a line; an accepted spec keeps the promises the lab relies on (name limits,
// references resolve, IPs inside their network) and parses the same way twice.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lab/spec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto spec = dove::lab::ParseSpec(text);
  if (!spec) {
    Check(spec.error().rfind("line ", 0) == 0);
    return 0;
  }
  for (const auto& host : spec->hosts) {
    Check(!host.name.empty() && host.name.size() <= dove::lab::kMaxHostNameLength);
    Check(host.kernel || !host.udp_checksum);  // udpcsum is an option of kernel hosts only
  }
  for (const auto& vm : spec->vms) {
    Check(!vm.name.empty() && vm.name.size() <= dove::lab::kMaxVmNameLength);
    Check(spec->FindHost(vm.host) != nullptr);
    Check(spec->NetworkIndexOf(vm) < spec->networks.size());
  }
  const auto again = dove::lab::ParseSpec(text);
  Check(again && again->vms.size() == spec->vms.size() &&
        again->networks.size() == spec->networks.size());
  return 0;
}
