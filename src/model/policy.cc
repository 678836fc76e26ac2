#include "model/policy.h"

#include <vector>

namespace dove::model {
namespace {

// Whether some ALLOW from `source` to `destination` survives every overriding deny (see
// MayExchange): an ALLOW at priority p counts unless a deny of any protocol and port of
// priority >= p exists in that direction. So: the highest ALLOW against the highest broad deny.
bool SomeAllowSurvives(const std::vector<const v1::Policy*>& policies, std::string_view source,
                       std::string_view destination) {
  bool any_allow = false;
  uint32_t best_allow = 0;
  bool any_broad_deny = false;
  uint32_t best_broad_deny = 0;
  for (const auto* policy : policies) {
    if (policy->source_network_id() != source || policy->destination_network_id() != destination) {
      continue;
    }
    if (policy->action() == v1::Policy::ACTION_ALLOW) {
      if (!any_allow || policy->priority() > best_allow) best_allow = policy->priority();
      any_allow = true;
    } else if (IsDeny(policy->action()) && policy->protocol() == 0 && !policy->has_port_range()) {
      if (!any_broad_deny || policy->priority() > best_broad_deny) {
        best_broad_deny = policy->priority();
      }
      any_broad_deny = true;
    }
  }
  return any_allow && (!any_broad_deny || best_allow > best_broad_deny);
}

}  // namespace

bool IsDeny(v1::Policy::Action action) {
  return action == v1::Policy::ACTION_DENY || action == v1::Policy::ACTION_REJECT;
}

bool Allowed(const ModelView& view, std::string_view source_network_id,
             std::string_view destination_network_id, uint8_t protocol, uint16_t port) {
  return Decide(view, source_network_id, destination_network_id, protocol, port).allowed;
}

PolicyDecision Decide(const ModelView& view, std::string_view source_network_id,
                      std::string_view destination_network_id, uint8_t protocol, uint16_t port) {
  const auto* source = view.FindNetwork(source_network_id);
  const auto* destination = view.FindNetwork(destination_network_id);
  if (source == nullptr || destination == nullptr ||
      source->domain_id() != destination->domain_id()) {
    return {.other_domains = true};
  }
  if (source->id() == destination->id()) return {.allowed = true, .same_network = true};
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
        (policy->priority() == winner->priority() && IsDeny(policy->action()))) {
      winner = policy;
    }
  }
  return {.allowed = winner != nullptr && winner->action() == v1::Policy::ACTION_ALLOW,
          .rule = winner};
}

bool MayExchange(const ModelView& view, std::string_view network_a, std::string_view network_b) {
  const auto* a = view.FindNetwork(network_a);
  const auto* b = view.FindNetwork(network_b);
  if (a == nullptr || b == nullptr) return false;
  if (a->domain_id() != b->domain_id()) return false;
  if (a->id() == b->id()) return true;
  const auto policies = view.PoliciesOfDomain(a->domain_id());
  return SomeAllowSurvives(policies, a->id(), b->id()) ||
         SomeAllowSurvives(policies, b->id(), a->id());
}

}  // namespace dove::model
