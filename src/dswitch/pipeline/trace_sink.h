// TraceSink: where the stages say what they did to a traced packet (dovectl trace --live; the
// datapath's TraceRecorder, userspace/trace_recorder.h, is the one sink).
//
// A packet is traced when packet.meta.trace is not 0 (the recorder's slot of its trace). The
// stages reach the sink through their Counters (Counters::Trace): every drop of a traced packet
// is told there by Counters::Drop itself, with its reason; the stages that decide something no
// drop shows (the router's route, the policy rule that allowed a packet) tell it under
// `if (packet.meta.trace != 0)`, so an untraced packet costs one predictable branch.
#pragma once

#include <string>

#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"

namespace dove::dswitch::pipeline {

// One thing a stage did, in the words of v1::TraceStage (proto/dove/v1/model.proto).
struct TraceNote {
  const char* stage = "";                // source, port_security, responder, router, policy, ...
  const char* verdict = "";              // pass, answer, deliver, flood, miss, drop
  std::string detail{};                  // one sentence
  DropReason drop = DropReason::kCount;  // verdict drop: why
  std::string policy_id{};               // the policy stage: the rule that decided, if any
  std::string endpoint_id{};             // verdict deliver: the endpoint whose port gets it
  std::string tunnel_ip{};               // the encapsulation stage: where it is sent
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // `packet` (meta.trace != 0) had `note` done to it. Called on the loop thread.
  virtual void Note(const Packet& packet, TraceNote note) = 0;
};

}  // namespace dove::dswitch::pipeline
