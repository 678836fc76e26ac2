#include "dswitch/kernel/nft_status.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <string_view>

#include "dswitch/kernel/nft_ruleset.h"
#include "dswitch/kernel/underlay_guard.h"

namespace dove::dswitch::kernel {
namespace {

constexpr std::array<std::string_view, 4> kRoutingDrops = {"policy_default_deny", "no_route",
                                                           "to_host", "routed_source_unknown"};
constexpr std::array<std::string_view, 4> kPortReasons = {"bad_mac", "bad_ip", "router_advert",
                                                          "not_ip"};
constexpr std::string_view kPolicyPrefix = "policy_";
constexpr std::string_view kPolicySuffix = "_denied";
constexpr std::string_view kPortPrefix = "port_";

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

void AddNftCounters(const std::vector<NftCounter>& counters, const RoutePlan* plan,
                    userspace::DatapathStatus& status) {
  for (const char* reason : kUnderlayCounters) status.drops.try_emplace(reason, 0);
  for (const auto reason : kRoutingDrops) status.drops.try_emplace(std::string(reason), 0);
  for (const auto reason : kPortReasons) {
    status.drops.try_emplace(std::string(kPortPrefix) + std::string(reason), 0);
  }
  std::map<std::string, std::string> policy_of_counter;
  if (plan != nullptr) {
    for (const auto& domain : plan->domains) {
      for (const auto& rule : domain.policies)
        policy_of_counter[PolicyCounterName(rule.id)] = rule.id;
    }
  }
  for (const auto& counter : counters) {
    const std::string_view name = counter.name;
    if (counter.family == "inet") {
      if (status.drops.contains(counter.name) && !name.starts_with(kPortPrefix)) {
        status.drops[counter.name] += counter.packets;
      } else if (name.starts_with(kPolicyPrefix) && EndsWith(name, kPolicySuffix)) {
        const auto known = policy_of_counter.find(counter.name);
        const std::string id =
            known != policy_of_counter.end()
                ? known->second
                : std::string(name.substr(kPolicyPrefix.size(), name.size() - kPolicyPrefix.size() -
                                                                    kPolicySuffix.size()));
        status.counters["policy." + id + ".denied"] += counter.packets;
      }
    } else if (counter.family == "netdev" &&
               std::find(kRoutingDrops.begin(), kRoutingDrops.end(), name) != kRoutingDrops.end()) {
      status.drops[counter.name] += counter.packets;  // stateless arrivals (nft_ruleset.h)
    } else if (counter.family == "netdev" && name.starts_with(kPortPrefix)) {
      for (const auto reason : kPortReasons) {
        if (EndsWith(name, "_" + std::string(reason))) {
          status.drops[std::string(kPortPrefix) + std::string(reason)] += counter.packets;
          break;
        }
      }
    }
  }
}

}  // namespace dove::dswitch::kernel
