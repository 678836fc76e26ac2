#include "controller/trace_api.h"

#include <optional>
#include <string>
#include <string_view>

#include "model/model_view.h"
#include "model/router_mac.h"
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

}  // namespace

ModelResult<v1::TraceResult> RunTrace(const Registry& registry, const v1::TraceRequest& request) {
  if (request.source().empty()) {
    return model::Fail("invalid_value", "source is required: the id of the sending endpoint.");
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
  return trace::TraceFromModel(view, context, *source, *packet);
}

}  // namespace dove::controller
