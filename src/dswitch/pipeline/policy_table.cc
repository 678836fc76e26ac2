#include "dswitch/pipeline/policy_table.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace dove::dswitch::pipeline {
namespace {

// Deny and reject sort before allow at the same priority.
int TieRank(PolicyRule::Action action) { return action == PolicyRule::Action::kAllow ? 1 : 0; }

bool Matches(const PolicyRule& rule, uint8_t protocol, bool has_port, uint16_t port) {
  if (rule.protocol != 0 && rule.protocol != protocol) return false;
  if (rule.first_port == 0 && rule.last_port == 0) return true;
  return has_port && rule.first_port <= port && port <= rule.last_port;
}

}  // namespace

PolicyTable::PolicyTable(std::vector<PolicyRule> rules) : rules_(std::move(rules)) {
  std::stable_sort(rules_.begin(), rules_.end(), [](const PolicyRule& a, const PolicyRule& b) {
    return std::make_tuple(a.source_vni, a.destination_vni, ~a.priority, TieRank(a.action)) <
           std::make_tuple(b.source_vni, b.destination_vni, ~b.priority, TieRank(b.action));
  });
}

PolicyVerdict PolicyTable::Evaluate(uint32_t source_vni, uint32_t destination_vni, uint8_t protocol,
                                    bool has_port, uint16_t destination_port) const {
  const auto pair = std::make_pair(source_vni, destination_vni);
  auto it = std::lower_bound(rules_.begin(), rules_.end(), pair,
                             [](const PolicyRule& rule, const std::pair<uint32_t, uint32_t>& key) {
                               return std::make_pair(rule.source_vni, rule.destination_vni) < key;
                             });
  for (;
       it != rules_.end() && it->source_vni == source_vni && it->destination_vni == destination_vni;
       ++it) {
    if (Matches(*it, protocol, has_port, destination_port)) return {it->action, &*it};
  }
  return {source_vni == destination_vni ? PolicyRule::Action::kAllow : PolicyRule::Action::kDeny,
          nullptr};
}

}  // namespace dove::dswitch::pipeline
