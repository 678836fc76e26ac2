// nft_apply_bench: the time the kernel backend takes to load its nftables ruleset
// (NftSession::Apply of NftRuleset(plan), the whole of both tables in one transaction) as the
// host grows, against the smallest host measured in the same run (the reference). Also the
// time to build the plan and its text, and to read the counters. Root: it runs in a network
// namespace of its own (unshare), so it never touches the host's tables.
//
//   sudo build/bench/nft_apply_bench
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "dswitch/kernel/nft_ruleset.h"
#include "dswitch/kernel/nft_session.h"

namespace {

using dove::dswitch::kernel::NftSession;
using dove::dswitch::kernel::PortPlan;
using dove::dswitch::pipeline::NetworkSettings;
using dove::dswitch::pipeline::PolicyRule;
using Clock = std::chrono::steady_clock;

struct Size {
  int domains;
  int networks_per_domain;
  int policies_per_domain;
  int ports;
};

std::vector<NetworkSettings> Networks(const Size& size) {
  std::vector<NetworkSettings> networks;
  for (int d = 0; d < size.domains; ++d) {
    const auto base = static_cast<uint32_t>(1000 + d * 100);
    std::vector<dove::dswitch::pipeline::Route> routes;
    for (int n = 0; n < size.networks_per_domain; ++n) {
      const std::string net = "10.0." + std::to_string(n);
      routes.push_back({*dove::net::IpPrefix::Parse(net + ".0/24"),
                        *dove::net::IpAddress::Parse(net + ".1"), base + n});
    }
    std::vector<PolicyRule> policies;
    policies.reserve(static_cast<size_t>(size.policies_per_domain));
    for (int p = 0; p < size.policies_per_domain; ++p) {
      policies.push_back(
          {.id = "p" + std::to_string(d) + "_" + std::to_string(p),
           .source_vni = base + p % size.networks_per_domain,
           .destination_vni = base + (p + 1) % size.networks_per_domain,
           .action = p % 3 == 0 ? PolicyRule::Action::kDeny : PolicyRule::Action::kAllow,
           .protocol = 6,
           .first_port = static_cast<uint16_t>(1000 + p),
           .last_port = static_cast<uint16_t>(1000 + p),
           .priority = static_cast<uint32_t>(p)});
    }
    for (int n = 0; n < size.networks_per_domain; ++n) {
      NetworkSettings network;
      network.vni = base + n;
      network.router_mac = dove::net::MacAddress({2, 0, 0, 0, 0, static_cast<uint8_t>(d + 1)});
      network.routes = routes;
      network.policies = policies;
      networks.push_back(std::move(network));
    }
  }
  return networks;
}

std::vector<PortPlan> Ports(const Size& size) {
  std::vector<PortPlan> ports;
  ports.reserve(static_cast<size_t>(size.ports));
  for (int p = 0; p < size.ports; ++p) {
    ports.push_back(
        {"tap" + std::to_string(p),
         1000,
         dove::net::MacAddress({2, 1, 0, 0, static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p)}),
         {*dove::net::IpAddress::Parse("10.0.0." + std::to_string(p % 250 + 2))}});
  }
  return ports;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main() {
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "nft_apply_bench: needs root (a network namespace of its own)\n");
    return 2;
  }
  auto session = NftSession::Open();
  if (!session) {
    std::fprintf(stderr, "%s\n", session.error().c_str());
    return 1;
  }
  const std::vector<Size> sizes = {
      {1, 2, 2, 10}, {2, 10, 20, 50}, {10, 10, 20, 200}, {10, 10, 20, 1000}};
  std::printf("%-44s %10s %10s %10s %10s %8s\n", "host (domains x networks, policies, ports)",
              "text KiB", "plan+text", "apply p50", "counters", "ratio");
  double reference = 0;
  for (const auto& size : sizes) {
    const auto networks = Networks(size);
    const auto ports = Ports(size);
    const auto start = Clock::now();
    const std::string text =
        dove::dswitch::kernel::NftRuleset(dove::dswitch::kernel::PlanRoutes(networks, ports));
    const double build = Ms(Clock::now() - start);
    std::vector<double> applies;
    for (int i = 0; i < 7; ++i) {
      const auto before = Clock::now();
      if (auto done = (*session)->Apply(text); !done) {
        std::fprintf(stderr, "%s\n", done.error().c_str());
        return 1;
      }
      applies.push_back(Ms(Clock::now() - before));
    }
    std::sort(applies.begin(), applies.end());
    const auto before = Clock::now();
    const auto counters = (*session)->Counters();
    const double read = Ms(Clock::now() - before);
    const double p50 = applies[applies.size() / 2];
    if (reference == 0) reference = p50;
    const std::string name =
        std::to_string(size.domains) + " x " + std::to_string(size.networks_per_domain) + ", " +
        std::to_string(size.domains * size.policies_per_domain) + ", " + std::to_string(size.ports);
    std::printf("%-44s %10.0f %8.1fms %8.1fms %8.1fms %8.1f\n", name.c_str(),
                static_cast<double>(text.size()) / 1024, build, p50, read, p50 / reference);
    (void)counters;
  }
  std::printf("(ratio: apply p50 / the first row's, measured in this run)\n");
  return 0;
}
