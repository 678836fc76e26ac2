#include "dswitch/userspace/trace_recorder.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "net/ethernet.h"
#include "net/ip_proto.h"

namespace dove::dswitch::userspace {

namespace {

using pipeline::DropReason;

}  // namespace

bool TraceRecorder::Ends(const pipeline::TraceNote& note) {
  const std::string_view verdict = note.verdict;
  return verdict == "drop" || verdict == "deliver" || verdict == "answer" ||
         std::string_view(note.stage) == "encapsulation";
}

const char* TraceRecorder::StageOfDrop(DropReason reason, const pipeline::Packet& packet) {
  switch (reason) {
    case DropReason::kUnknownPort:
    case DropReason::kEthernetMalformed:
    case DropReason::kVlanTagged:
    case DropReason::kSourceMacSpoofed:
    case DropReason::kEtherTypeNotAllowed:
    case DropReason::kArpMalformed:
    case DropReason::kArpSenderSpoofed:
    case DropReason::kIpv4Malformed:
    case DropReason::kIpv6Malformed:
    case DropReason::kSourceIpSpoofed:
    case DropReason::kNdMalformed:
    case DropReason::kNdSpoofed:
      return "port_security";
    case DropReason::kArpTargetUnknown:
    case DropReason::kArpForOwnAddress:
    case DropReason::kArpNotAnswered:
    case DropReason::kNdTargetUnknown:
    case DropReason::kNdForOwnAddress:
    case DropReason::kNdNotAnswered:
    case DropReason::kDhcpMalformed:
    case DropReason::kDhcpNoAddress:
    case DropReason::kDhcpNotAnswered:
    case DropReason::kRsNotAnswered:
    case DropReason::kRaFromPort:
      return "responder";
    case DropReason::kResolveFailed:
      // A parked solicitation, or a parked frame to a MAC nobody has.
      return packet.meta.ether_type == net::ether_type::kArp ||
                     packet.meta.ip_proto == net::ip_proto::kIcmpv6
                 ? "responder"
                 : "l2_lookup";
    case DropReason::kVxlanMalformed:
    case DropReason::kVxlanUnknownVni:
    case DropReason::kVtepNotAllowed:
    case DropReason::kInnerMalformed:
    case DropReason::kInnerSourceInvalid:
    case DropReason::kInnerDestinationUnknown:
    case DropReason::kRoutedVtepNotAllowed:
    case DropReason::kRoutedSourceUnknown:
    case DropReason::kOuterMalformed:
    case DropReason::kOuterNotVxlan:
    case DropReason::kOuterNotForUs:
      return "receiving_switch";
    case DropReason::kRouterNotIp:
    case DropReason::kRouterToGateway:
    case DropReason::kRouteNone:
    case DropReason::kTtlExpired:
    case DropReason::kRouterNotImplemented:
      return "router";
    case DropReason::kRouteHostUnknown:
      return "l2_lookup";
    case DropReason::kPolicyDenied:
    case DropReason::kPolicyDefaultDeny:
      return "policy";
    case DropReason::kEncapFailed:
    case DropReason::kTunnelSendFailed:
    case DropReason::kMtuFragNeeded:
    case DropReason::kMtuPacketTooBig:
    case DropReason::kMtuNotAnswered:
      return "encapsulation";
    case DropReason::kPortWriteFailed:
      return "delivery";
    case DropReason::kUnknownNetwork:
    case DropReason::kHairpin:
    case DropReason::kParkOverflow:
    case DropReason::kArpNdNotFlooded:
    case DropReason::kFloodNoDestination:
      return "l2_lookup";
    case DropReason::kPoolExhausted:
    case DropReason::kCount:
      break;
  }
  return "pipeline";
}

uint16_t TraceRecorder::Open(const v1::TraceOrder& order, Report report, Clock::time_point now) {
  if (sessions_.size() >= kMaxSessions) return 0;
  while (next_slot_ == 0 || sessions_.contains(next_slot_)) ++next_slot_;
  const uint16_t slot = next_slot_++;
  Session& session = sessions_[slot];
  session.order = order;
  session.report = std::move(report);
  session.result.set_trace_id(order.trace_id());
  session.result.set_source(order.inject());
  session.deadline = now + std::chrono::milliseconds(order.timeout_ms());
  return slot;
}

const v1::TraceOrder* TraceRecorder::OrderOf(uint16_t slot) const {
  const auto it = sessions_.find(slot);
  return it == sessions_.end() ? nullptr : &it->second.order;
}

uint16_t TraceRecorder::Match(std::span<const uint8_t> bytes) const {
  for (const auto& [slot, session] : sessions_) {
    const std::string& marker = session.order.marker();
    if (marker.empty()) continue;
    const auto found =
        std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end(),
                    [](uint8_t byte, char want) { return byte == static_cast<uint8_t>(want); });
    if (found != bytes.end()) return slot;
  }
  return 0;
}

void TraceRecorder::Append(Session& session, pipeline::TraceNote note, Clock::time_point now) {
  auto& stages = *session.result.mutable_stages();
  const std::string_view drop_name =
      note.drop == DropReason::kCount ? std::string_view() : pipeline::DropReasonName(note.drop);
  // A drop the stage already noted (the policy names its rule) and Counters::Drop tells again.
  if (!stages.empty() && note.verdict == std::string_view("drop") &&
      stages.rbegin()->verdict() == "drop" && stages.rbegin()->drop_reason() == drop_name) {
    return;
  }
  if (stages.size() >= static_cast<int>(kMaxNotes)) return;
  // Quiet after a packet's way ended: settled; a note of a packet underway (a miss waiting for
  // the controller) keeps the session open until the next end or the deadline.
  session.settle_at = Ends(note) ? now + kSettle : Clock::time_point::max();
  v1::TraceStage* stage = session.result.add_stages();
  stage->set_stage(note.stage);
  stage->set_verdict(note.verdict);
  stage->set_detail(std::move(note.detail));
  stage->set_drop_reason(std::string(drop_name));
  stage->set_policy_id(std::move(note.policy_id));
  if (!note.endpoint_id.empty()) stage->add_endpoint_ids(std::move(note.endpoint_id));
  stage->set_tunnel_ip(std::move(note.tunnel_ip));
}

void TraceRecorder::Add(uint16_t slot, pipeline::TraceNote note) {
  const auto it = sessions_.find(slot);
  if (it == sessions_.end()) return;
  Append(it->second, std::move(note), Clock::now());
}

void TraceRecorder::Note(const pipeline::Packet& packet, pipeline::TraceNote note) {
  const auto it = sessions_.find(packet.meta.trace);
  if (it == sessions_.end()) return;
  if (*note.stage == '\0') {
    note.stage = StageOfDrop(note.drop, packet);
    if (note.detail.empty()) {
      note.detail = "dropped: " + std::string(pipeline::DropReasonName(note.drop));
    }
  }
  Append(it->second, std::move(note), Clock::now());
}

void TraceRecorder::Close(uint16_t slot, const std::string& error) {
  const auto it = sessions_.find(slot);
  if (it == sessions_.end()) return;
  Session session = std::move(it->second);
  sessions_.erase(it);
  if (!error.empty()) session.result.set_error(error);
  // A receiver that saw nothing has nothing to say.
  if (!session.order.inject() && session.result.stages().empty() && error.empty()) return;
  if (session.report) session.report(std::move(session.result));
}

bool TraceRecorder::Expire(Clock::time_point now) {
  std::vector<std::pair<uint16_t, std::string>> ended;
  for (const auto& [slot, session] : sessions_) {
    if (now >= session.deadline) {
      ended.emplace_back(slot, session.order.inject() && session.result.stages().empty()
                                   ? "the packet went nowhere before the trace's time was up"
                                   : "");
    } else if (now >= session.settle_at) {
      ended.emplace_back(slot, "");
    }
  }
  for (const auto& [slot, error] : ended) Close(slot, error);
  return !sessions_.empty();
}

}  // namespace dove::dswitch::userspace
