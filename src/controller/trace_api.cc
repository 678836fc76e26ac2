#include "controller/trace_api.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "model/model_view.h"
#include "model/router_mac.h"
#include "trace/live_compare.h"
#include "trace/model_trace.h"
#include "trace/packet_spec.h"

namespace dove::controller {

namespace {

// Every object of kind T in the domain, put into `view`.
template <typename T>
ModelResult<void> PutAll(const Registry& registry, const std::string& domain_id,
                         model::InMemoryModelView& view) {
  auto objects = registry.List<T>({.domain = domain_id});
  if (!objects) return Unexpected(objects.error());
  for (const T& object : *objects) view.Put(object);
  return {};
}

// The switches' part of `result` (request.live).
void RunLive(LiveTraces* live, const v1::Endpoint& source, const trace::PacketSpec& packet,
             bool deliver, v1::TraceResult& result) {
  std::vector<trace::SwitchReport> reports;
  std::string error;
  if (live == nullptr) {
    error = "this controller serves no switches (no southbound)";
  } else if (source.switch_name().empty()) {
    error = "endpoint \"" + source.id() + "\" is on no switch";
  } else {
    v1::TraceOrder order = trace::OrderFor(packet, source.id());
    std::random_device random;
    std::uniform_int_distribution<uint64_t> any(1, UINT64_MAX);
    order.set_trace_id(any(random));
    std::string marker(16, '\0');
    for (char& byte : marker) byte = static_cast<char>(random() & 0xFF);
    order.set_marker(marker);
    order.set_timeout_ms(static_cast<uint32_t>((kLiveTraceWait - std::chrono::seconds(1)).count()));
    order.set_deliver(deliver);
    auto arrivals = live->Run(source.switch_name(), order, kLiveTraceWait);
    if (!arrivals) {
      error = arrivals.error();
    } else {
      for (TraceArrival& arrival : *arrivals) {
        reports.push_back({.switch_name = arrival.switch_name, .report = arrival.report});
      }
    }
  }
  trace::CompareLive(result, reports, error);
}

}  // namespace

ModelResult<v1::TraceResult> RunTrace(const Registry& registry, const v1::TraceRequest& request,
                                      LiveTraces* live) {
  if (request.source().empty()) {
    return model::Fail("invalid_value", "source is required: the id of the sending endpoint.");
  }
  if (request.deliver() && !request.live()) {
    return model::Fail("invalid_value", "deliver is for live traces only: set live too.");
  }
  auto packet = trace::ParsePacketSpec(request.packet());
  if (!packet) return model::Fail("invalid_value", "packet: " + packet.error());
  auto source = registry.Get<v1::Endpoint>(request.source());
  if (!source) return Unexpected(source.error());
  auto network = registry.Get<v1::Network>(source->network_id());
  if (!network) return Unexpected(network.error());
  const std::string& domain_id = network->domain_id();
  model::InMemoryModelView view;
  if (auto domain = registry.Get<v1::Domain>(domain_id)) view.Put(*domain);
  if (auto put = PutAll<v1::Network>(registry, domain_id, view); !put) {
    return Unexpected(put.error());
  }
  if (auto put = PutAll<v1::Subnet>(registry, domain_id, view); !put) {
    return Unexpected(put.error());
  }
  if (auto put = PutAll<v1::Endpoint>(registry, domain_id, view); !put) {
    return Unexpected(put.error());
  }
  if (auto put = PutAll<v1::Policy>(registry, domain_id, view); !put) {
    return Unexpected(put.error());
  }
  const trace::TraceContext context{
      .switches = [&registry](std::string_view name) -> std::optional<trace::SwitchInfo> {
        auto found = registry.List<v1::Switch>({.name = std::string(name)});
        if (!found || found->empty()) return std::nullopt;
        const v1::Switch& record = found->front();
        return trace::SwitchInfo{.tunnel_ip = record.tunnel_ip(),
                                 .up = record.state() == v1::Switch::STATE_UP};
      },
      .router_mac = model::RouterMacOf(domain_id)};
  v1::TraceResult result = trace::TraceFromModel(view, context, *source, *packet);
  if (request.live()) RunLive(live, *source, *packet, request.deliver(), result);
  return result;
}

}  // namespace dove::controller
