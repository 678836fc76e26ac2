// PolicyGate: the policy check the distributed router makes on the sending switch (Router) and
// again on the receiving one (FromTunnel), in one place: the network's compiled rules
// (PolicyTable), then the return-flow table (ReturnFlows) for what the rules deny, and the
// counting.
//
//   - allowed by the rules (or the default inside one network): passes, and its flow is
//     remembered in the return-flow table (router.return_flows_full when there is no room);
//   - denied, but the reply of a remembered flow, or an ICMP error about a packet of one (it
//     quotes that packet, and goes back to its sender: "port unreachable" from the far end of
//     an allowed flow reaches the sender): passes (router.return_flow_passed);
//   - denied: the caller drops it for the decision's reason (policy_denied, counted per policy
//     as policy.<id>.denied, or policy_default_deny) and, for a reject rule, answers ICMP
//     administratively prohibited when it can.
// The return-flow table is flushed whenever Tables::policy_generation() moves (Sync, which
// the stages call at the start of each batch): a policy change also stops the replies of the
// flows the old rules admitted.
//
// The clock is the caller's: SetNow before each round (the datapath does it per poll; tests
// move it by hand to expire flows). Reads `tables`; writes `flows` and `counters`; all outlive
// the gate. Allocation-free except a policy id's first denied packet (its counter entry).
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/policy_table.h"
#include "dswitch/pipeline/return_flows.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/trace_sink.h"

namespace dove::dswitch::pipeline {

// The IP fields the router and the policy read from a classified packet.
struct IpFields {
  bool v6 = false;
  net::IpAddress source;
  net::IpAddress destination;
  uint8_t ttl = 0;  // or hop limit
  uint8_t protocol = 0;
  bool has_ports = false;  // TCP/UDP with its header, or an ICMP echo (identifier as ports)
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  // An ICMP/ICMPv6 error (destination unreachable, packet too big, time exceeded, parameter
  // problem): the flow of the packet it quotes, as that packet went, when the quote holds its
  // IP header and ports (or echo identifier).
  bool has_quoted = false;
  net::IpAddress quoted_source;
  net::IpAddress quoted_destination;
  uint8_t quoted_protocol = 0;
  uint16_t quoted_source_port = 0;
  uint16_t quoted_destination_port = 0;
};
// nullopt when the packet is not IPv4/IPv6 or its IP header did not parse (Classify).
std::optional<IpFields> ReadIpFields(const Packet& packet);

class PolicyGate {
 public:
  PolicyGate(const Tables& tables, ReturnFlows& flows, Counters& counters)
      : tables_(tables), flows_(flows), counters_(counters) {}

  void SetNow(ReturnFlows::Clock::time_point now) { now_ = now; }
  ReturnFlows::Clock::time_point now() const { return now_; }
  // Flushes the return-flow table when the policies changed since the last call.
  void Sync();

  struct Decision {
    bool pass = true;
    bool reject = false;                   // answer ICMP administratively prohibited
    DropReason drop = DropReason::kCount;  // when !pass
    const PolicyRule* rule = nullptr;      // the rule that decided; null: none did
    bool return_flow = false;              // passed as the reply of a remembered flow
  };
  // The decision for `ip` going from network `source_vni` to `destination_vni`, under the rules
  // of `rules` (the network whose tables hold them: the sender's on egress, the receiver's on
  // ingress; both hold every rule that names them).
  Decision Check(const PolicyTable& rules, uint32_t source_vni, uint32_t destination_vni,
                 const IpFields& ip);
  // What `decision` means for a trace (trace_sink.h): the policy stage's note, naming the rule.
  static TraceNote Note(const Decision& decision, uint32_t source_vni, uint32_t destination_vni);

 private:
  const Tables& tables_;
  ReturnFlows& flows_;
  Counters& counters_;
  ReturnFlows::Clock::time_point now_{};
  uint64_t generation_ = 0;
};

}  // namespace dove::dswitch::pipeline
