// Fuzzes the lab's topology parser (src/lab/spec.h) with arbitrary text. Nothing may crash; a
// refusal names a line; an accepted spec keeps the promises the lab relies on (name limits,
// references resolve, IPs inside their network, policies name declared networks, the underlay
// MTU leaves room for IPv6 in the overlay) and parses the same way twice.
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
    const auto& network = spec->networks[spec->NetworkIndexOf(vm)];
    Check(vm.ips.size() <= network.subnets.size());
    Check(!vm.dhcp || vm.ips.empty());
    Check(vm.ip.empty() || (!vm.ips.empty() && vm.ips.front() == vm.ip));
  }
  for (const auto& network : spec->networks) {
    Check(!network.subnets.empty() && !network.subnets[0].ipv6);
    Check(network.cidr == network.subnets[0].cidr);
    Check(network.mtu == 0 || (network.mtu >= 1280 && network.mtu <= 9000));
  }
  for (const auto& policy : spec->policies) {
    Check(spec->FindNetwork(policy.domain, policy.from) != nullptr);
    Check(spec->FindNetwork(policy.domain, policy.to) != nullptr);
    Check(policy.first_port <= policy.last_port && policy.last_port <= 65535);
    Check(policy.first_port == 0 || policy.protocol == 6 || policy.protocol == 17);
    // The normalised text is itself a valid statement with the same meaning.
    const auto again = dove::lab::ParsePolicy(*spec, policy.Text());
    Check(again && again->Text() == policy.Text());
  }
  Check(spec->OverlayMtu() >= 1280);
  const auto again = dove::lab::ParseSpec(text);
  Check(again && again->vms.size() == spec->vms.size() &&
        again->networks.size() == spec->networks.size() &&
        again->policies.size() == spec->policies.size() &&
        again->underlay_mtu == spec->underlay_mtu);
  return 0;
}
