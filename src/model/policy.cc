#include "model/policy.h"

namespace dove::model {

bool Allowed(const ModelView& view, std::string_view source_network_id,
             std::string_view destination_network_id, uint8_t protocol, uint16_t port) {
  const auto* source = view.FindNetwork(source_network_id);
  const auto* destination = view.FindNetwork(destination_network_id);
  if (source == nullptr || destination == nullptr) return false;
  if (source->domain_id() != destination->domain_id()) return false;
  if (source->id() == destination->id()) return true;
  const v1::Policy* winner = nullptr;
  for (const auto* policy : view.PoliciesOfDomain(source->domain_id())) {
    if (policy->source_network_id() != source->id() ||
        policy->destination_network_id() != destination->id()) {
      continue;
    }
    if (policy->protocol() != 0 && policy->protocol() != protocol) continue;
    if (policy->has_port_range() &&
        (port < policy->port_range().first() || port > policy->port_range().last())) {
      continue;
    }
    if (winner == nullptr || policy->priority() > winner->priority() ||
        (policy->priority() == winner->priority() && policy->action() == v1::Policy::ACTION_DENY)) {
      winner = policy;
    }
  }
  return winner != nullptr && winner->action() == v1::Policy::ACTION_ALLOW;
}

}  // namespace dove::model
