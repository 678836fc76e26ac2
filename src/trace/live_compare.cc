#include "trace/live_compare.h"

#include <algorithm>
#include <set>

namespace dove::trace {

namespace {

std::string Joined(const std::set<std::string>& items) {
  if (items.empty()) return "none";
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// The first stage of `stages` named `name` that says something (policy: names a rule).
const v1::TraceStage* Find(const google::protobuf::RepeatedPtrField<v1::TraceStage>& stages,
                           const std::string& name) {
  for (const auto& stage : stages) {
    if (stage.stage() == name) return &stage;
  }
  return nullptr;
}

}  // namespace

v1::TraceOrder OrderFor(const PacketSpec& packet, const std::string& endpoint_id) {
  v1::TraceOrder order;
  order.set_endpoint_id(endpoint_id);
  switch (packet.kind) {
    case PacketSpec::Kind::kIcmp:
      order.set_kind(v1::TraceOrder::KIND_ICMP);
      break;
    case PacketSpec::Kind::kTcp:
      order.set_kind(v1::TraceOrder::KIND_TCP);
      break;
    case PacketSpec::Kind::kUdp:
      order.set_kind(v1::TraceOrder::KIND_UDP);
      break;
    case PacketSpec::Kind::kArp:
      order.set_kind(v1::TraceOrder::KIND_ARP);
      break;
  }
  if (packet.ip) order.set_ip(packet.ip->ToString());
  if (packet.mac) order.set_mac(packet.mac->ToString());
  order.set_port(packet.port);
  return order;
}

void CompareLive(v1::TraceResult& result, const std::vector<SwitchReport>& reports,
                 const std::string& error) {
  std::vector<const SwitchReport*> ordered;
  ordered.reserve(reports.size());
  for (const SwitchReport& report : reports) ordered.push_back(&report);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->report.source() && !b->report.source();
  });
  std::set<std::string> reached;
  const v1::TraceStage* last_drop = nullptr;
  bool answered = false;
  bool flooded = false;
  bool traced = false;
  std::vector<std::string> errors;
  const v1::TraceStage* live_policy = nullptr;
  const v1::TraceStage* live_encapsulation = nullptr;
  for (const SwitchReport* each : ordered) {
    v1::SwitchTrace* trace = result.add_switches();
    trace->set_switch_name(each->switch_name);
    trace->set_role(each->report.source() ? "source" : "receiver");
    trace->set_error(each->report.error());
    *trace->mutable_stages() = each->report.stages();
    if (!each->report.error().empty()) {
      errors.push_back("switch \"" + each->switch_name + "\": " + each->report.error());
    }
    for (const auto& stage : each->report.stages()) {
      traced = true;
      if (stage.verdict() == "deliver") {
        for (const auto& id : stage.endpoint_ids()) reached.insert(id);
      } else if (stage.verdict() == "drop") {
        last_drop = &stage;
      } else if (stage.verdict() == "answer") {
        answered = true;
      } else if (stage.verdict() == "flood") {
        flooded = true;
      }
      if (each->report.source() && stage.stage() == "policy" && live_policy == nullptr) {
        live_policy = &stage;
      }
      if (each->report.source() && stage.stage() == "encapsulation" &&
          live_encapsulation == nullptr) {
        live_encapsulation = &stage;
      }
    }
  }
  if (!error.empty()) errors.insert(errors.begin(), error);
  std::string outcome = "unknown";
  if (!reached.empty()) {
    outcome = flooded ? "flooded" : "delivered";
  } else if (last_drop != nullptr) {
    outcome = "dropped";
    result.set_live_drop_reason(last_drop->drop_reason());
  } else if (answered) {
    outcome = "answered";
  } else if (flooded) {
    outcome = "flooded";  // to switches that had no port for it
  }
  result.set_live_outcome(outcome);
  for (const std::string& id : reached) result.add_live_reached(id);

  auto& disagreements = *result.mutable_disagreements();
  if (!traced || outcome == "unknown") {
    disagreements.Add(
        "no live result to compare: " +
        (errors.empty() ? std::string("no switch traced the packet") : errors.front()));
    return;
  }
  for (const std::string& line : errors) disagreements.Add(std::string(line));
  if (outcome != result.outcome()) {
    disagreements.Add("outcome: the model says " + result.outcome() + ", the switches " + outcome);
  } else if (outcome == "dropped" && result.drop_reason() != result.live_drop_reason()) {
    disagreements.Add("drop reason: the model says " + result.drop_reason() + ", the switches " +
                      result.live_drop_reason());
  }
  const std::set<std::string> model_reached(result.reached().begin(), result.reached().end());
  if ((outcome == "delivered" || outcome == "flooded") && model_reached != reached) {
    disagreements.Add("reached: the model says " + Joined(model_reached) + ", the switches " +
                      Joined(reached));
  }
  const v1::TraceStage* model_policy = Find(result.stages(), "policy");
  if (model_policy != nullptr && live_policy != nullptr &&
      model_policy->policy_id() != live_policy->policy_id()) {
    const auto name = [](const std::string& id) {
      return id.empty() ? std::string("no rule") : "policy \"" + id + "\"";
    };
    disagreements.Add("policy: the model says " + name(model_policy->policy_id()) +
                      " decided, the switch " + name(live_policy->policy_id()));
  }
  const v1::TraceStage* model_encapsulation = Find(result.stages(), "encapsulation");
  if (model_encapsulation != nullptr && live_encapsulation != nullptr &&
      model_encapsulation->tunnel_ip() != live_encapsulation->tunnel_ip()) {
    disagreements.Add("tunnel IP: the model says " + model_encapsulation->tunnel_ip() +
                      ", the switch sent to " + live_encapsulation->tunnel_ip());
  }
}

}  // namespace dove::trace
