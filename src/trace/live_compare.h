// The live half of a trace (dovectl trace --live, POST /v1/trace with "live"): the order the
// switches get for a packet (OrderFor), and the comparison of what they reported with what the
// model says (CompareLive).
//
// CompareLive fills a model's v1::TraceResult with the switches' part: one v1::SwitchTrace per
// report (the source switch first), the outcome the switches produced (live_outcome:
// delivered / flooded when an endpoint's port got the packet, else dropped with the last drop's
// reason, else answered; "unknown" when no switch traced it), the endpoints reached, and one
// sentence per disagreement with the model: the outcome, the drop reason, the endpoints
// reached, the policy rule that decided, the tunnel IP the packet went to. An empty list of
// disagreements means the switches did what the model says. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "dove/v1/model.pb.h"
#include "dove/v1/switch.pb.h"
#include "trace/packet_spec.h"

namespace dove::trace {

// One switch's report.
struct SwitchReport {
  std::string switch_name;
  v1::TraceReport report;
};

// The order for `packet` sent by `endpoint_id` (kind, destination, port); the caller sets the
// trace id, marker, timeout and deliver.
v1::TraceOrder OrderFor(const PacketSpec& packet, const std::string& endpoint_id);

// `error`: why no switch could be asked (empty: they were); `reports` in any order.
void CompareLive(v1::TraceResult& result, const std::vector<SwitchReport>& reports,
                 const std::string& error);

}  // namespace dove::trace
