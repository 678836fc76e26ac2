// TraceFromModel: what happens to a packet an endpoint sends, computed from the controller's
// model alone (no switch is asked), stage by stage as the switches' pipelines take it
// (docs/dove-switch.md): the source and its switch, port security, the ARP/ND responder, the
// distributed router, the policy with the rule that decided, the L2 lookup, the VXLAN
// encapsulation (VNI, tunnel IPs), and the receiving switch's checks and delivery. Like
// ovn-trace: the logical path, which `--live` (later) compares with what the switches do.
//
// The answer is a v1::TraceResult (proto/dove/v1/model.proto: what POST /v1/trace returns), one
// v1::TraceStage per stage. Each stage says one verdict:
//   pass     the packet goes on to the next stage;
//   answer   a switch answers it (an ARP/ND reply, an echo reply from the gateway): it ends;
//   deliver  it reaches an endpoint's port;
//   flood    a broadcast: copies to every port of the network (reached lists them);
//   miss     the switch does not know the destination and asks the controller;
//   warn     it goes on, but something may stop it (a switch the controller sees DOWN);
//   drop     it ends here; drop_reason is the switch's own counter name for it
//            (policy_denied, route_none, resolve_failed, ...: `dovectl switch counters`).
// The outcome is that of the last stage: delivered, answered, flooded or dropped.
//
// The source's address is its first one of the destination's family (port security passes by
// construction, unless it has none). The VM is assumed to send as a Linux guest would: to its
// own subnet directly (after ARP/ND), elsewhere through its subnet's gateway. A pure function
// of its inputs; thread-safe.
//
//   TraceContext context{.switches = lookup, .router_mac = "02:..."};
//   v1::TraceResult result =
//       TraceFromModel(view, context, source, *ParsePacketSpec("icmp to 10.0.1.5"));
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dove/v1/model.pb.h"
#include "model/model_view.h"
#include "trace/packet_spec.h"

namespace dove::trace {

// A switch as the controller knows it (v1::Switch).
struct SwitchInfo {
  std::string tunnel_ip;
  bool up = false;
};

struct TraceContext {
  // The registered switch of that name; nullopt when none is registered.
  std::function<std::optional<SwitchInfo>(std::string_view name)> switches;
  std::string router_mac;  // the source's domain's distributed-router MAC
};

v1::TraceResult TraceFromModel(const model::ModelView& view, const TraceContext& context,
                               const v1::Endpoint& source, const PacketSpec& packet);

}  // namespace dove::trace
