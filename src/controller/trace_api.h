// RunTrace: the answer to POST /v1/trace (docs/rest-api.md, "Trace"): what happens to the packet
// `request.packet` describes when endpoint `request.source` sends it, from the model
// (trace::TraceFromModel over a view of the source's domain: its networks, subnets, endpoints
// and policies, copied from the registry for the one call; the switches' records by name).
// Errors: invalid_value (no source; a packet description that does not parse: the parser's
// sentence; deliver without live), not_found (no such endpoint), and the registry's own.
// Thread-safe (the registry is); nothing is written.
//
//   v1::TraceRequest request;
//   request.set_source("vm1");
//   request.set_packet("tcp to 10.0.1.5:443");
//   auto result = RunTrace(*registry, request);
#pragma once

#include "controller/live_traces.h"
#include "controller/registry.h"
#include "dove/v1/model.pb.h"
#include "model/model_error.h"

namespace dove::controller {

// How long a live trace waits for the switches at most (their orders' timeout is a second
// less: a switch's report for a packet still underway then comes before the answer goes).
inline constexpr std::chrono::milliseconds kLiveTraceWait{3000};

// With request.live: the model's answer, then the switches' (LiveTraces::Run with a fresh
// trace id and marker; `live` null: this controller has no southbound, which the answer says)
// compared with it (trace::CompareLive). The call then takes up to kLiveTraceWait.
ModelResult<v1::TraceResult> RunTrace(const Registry& registry, const v1::TraceRequest& request,
                                      LiveTraces* live = nullptr);

}  // namespace dove::controller
