// PolicyTable: the domain's policy rules that name one network, compiled once when the network
// is upserted (Tables::UpsertNetwork) into what the router asks per packet: may a packet of
// this protocol, to this destination port, go from network A to network B?
//
// The rules (DESIGN.md, issue 14):
//   - without a matching rule, traffic inside one network is allowed and traffic between two
//     networks is denied ("default deny");
//   - a rule matches a packet when its (source VNI, destination VNI) are the packet's, its
//     protocol is 0 (any) or the packet's IP protocol, and its destination port range is
//     {0, 0} (any) or holds the packet's destination port; a rule with a port range matches
//     only TCP and UDP packets that carry ports (never a non-first fragment);
//   - among the matching rules the highest priority decides; on a tie a deny or reject wins
//     over an allow.
// Compiled form: the rules sorted by (source, destination) pair, then by priority, highest
// first, deny/reject before allow on a tie; so the first matching rule of the pair decides.
// Evaluate is a pure function of the table and its arguments: no allocation, no hashing.
//
//   PolicyTable table(network.policies);
//   const PolicyVerdict verdict = table.Evaluate(100, 200, net::ip_proto::kTcp, 443);
//   if (!verdict.allowed()) Count(verdict.rule ? verdict.rule->id : "default deny");
#pragma once

#include <cstdint>
#include <vector>

#include "dswitch/pipeline/network_settings.h"

namespace dove::dswitch::pipeline {

struct PolicyVerdict {
  PolicyRule::Action action = PolicyRule::Action::kDeny;
  const PolicyRule* rule = nullptr;  // the rule that decided; nullptr: the default

  bool allowed() const { return action == PolicyRule::Action::kAllow; }
};

class PolicyTable {
 public:
  PolicyTable() = default;
  explicit PolicyTable(std::vector<PolicyRule> rules);

  // What the rules say about a packet of IP protocol `protocol` to `destination_port` (0 when
  // it has none: not TCP/UDP, or a non-first fragment; `has_port` false then) from network
  // `source_vni` to network `destination_vni`. The returned rule pointer lives as long as the
  // table.
  PolicyVerdict Evaluate(uint32_t source_vni, uint32_t destination_vni, uint8_t protocol,
                         bool has_port, uint16_t destination_port) const;

  size_t size() const { return rules_.size(); }
  const std::vector<PolicyRule>& rules() const { return rules_; }

 private:
  std::vector<PolicyRule> rules_;  // compiled order (see above)
};

}  // namespace dove::dswitch::pipeline
