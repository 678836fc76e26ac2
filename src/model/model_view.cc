#include "model/model_view.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace dove::model {
namespace {

template <typename T>
void PutById(std::vector<T>* objects, const T& object) {
  for (auto& existing : *objects) {
    if (existing.id() == object.id()) {
      existing = object;
      return;
    }
  }
  objects->push_back(object);
}

template <typename T>
const T* FindById(const std::vector<T>& objects, std::string_view id) {
  for (const auto& object : objects) {
    if (object.id() == id) return &object;
  }
  return nullptr;
}

template <typename T, typename Pred>
std::vector<const T*> Filter(const std::vector<T>& objects, Pred pred) {
  std::vector<const T*> out;
  for (const auto& object : objects) {
    if (pred(object)) out.push_back(&object);
  }
  return out;
}

}  // namespace

std::vector<const v1::Subnet*> ModelView::SubnetsOfDomain(std::string_view domain_id) const {
  std::vector<const v1::Subnet*> out;
  for (const auto* network : NetworksOfDomain(domain_id)) {
    auto subnets = SubnetsOfNetwork(network->id());
    out.insert(out.end(), subnets.begin(), subnets.end());
  }
  return out;
}

std::vector<v1::Endpoint> ModelView::EndpointsOfDomain(std::string_view domain_id) const {
  std::vector<v1::Endpoint> out;
  for (const auto* network : NetworksOfDomain(domain_id)) {
    auto endpoints = EndpointsOfNetwork(network->id());
    out.insert(out.end(), std::make_move_iterator(endpoints.begin()),
               std::make_move_iterator(endpoints.end()));
  }
  return out;
}

std::optional<v1::Endpoint> ModelView::FindEndpointByMac(std::string_view network_id,
                                                         const net::MacAddress& mac) const {
  for (auto& endpoint : EndpointsOfNetwork(network_id)) {
    auto parsed = net::MacAddress::Parse(endpoint.mac());
    if (parsed && *parsed == mac) return std::move(endpoint);
  }
  return std::nullopt;
}

std::optional<v1::Endpoint> ModelView::FindEndpointByName(std::string_view network_id,
                                                          std::string_view name) const {
  for (auto& endpoint : EndpointsOfNetwork(network_id)) {
    if (endpoint.name() == name) return std::move(endpoint);
  }
  return std::nullopt;
}

std::optional<v1::Endpoint> ModelView::FindEndpointByIp(std::string_view domain_id,
                                                        const net::IpAddress& ip) const {
  for (auto& endpoint : EndpointsOfDomain(domain_id)) {
    for (const auto& text : endpoint.ips()) {
      auto parsed = net::IpAddress::Parse(text);
      if (parsed && *parsed == ip) return std::move(endpoint);
    }
  }
  return std::nullopt;
}

void InMemoryModelView::Put(const v1::Domain& domain) { PutById(&domains_, domain); }
void InMemoryModelView::Put(const v1::Network& network) { PutById(&networks_, network); }
void InMemoryModelView::Put(const v1::Subnet& subnet) { PutById(&subnets_, subnet); }
void InMemoryModelView::Put(const v1::Endpoint& endpoint) { PutById(&endpoints_, endpoint); }
void InMemoryModelView::Put(const v1::Policy& policy) { PutById(&policies_, policy); }

void InMemoryModelView::RemoveEndpoint(std::string_view id) {
  std::erase_if(endpoints_, [id](const v1::Endpoint& e) { return e.id() == id; });
}

const v1::Domain* InMemoryModelView::FindDomain(std::string_view id) const {
  return FindById(domains_, id);
}
const v1::Network* InMemoryModelView::FindNetwork(std::string_view id) const {
  return FindById(networks_, id);
}
const v1::Network* InMemoryModelView::FindNetworkByVni(uint32_t vni) const {
  for (const auto& network : networks_) {
    if (network.vni() == vni) return &network;
  }
  return nullptr;
}
std::vector<const v1::Network*> InMemoryModelView::NetworksOfDomain(
    std::string_view domain_id) const {
  return Filter(networks_, [domain_id](const auto& n) { return n.domain_id() == domain_id; });
}
std::vector<const v1::Subnet*> InMemoryModelView::SubnetsOfNetwork(
    std::string_view network_id) const {
  return Filter(subnets_, [network_id](const auto& s) { return s.network_id() == network_id; });
}
std::vector<v1::Endpoint> InMemoryModelView::EndpointsOfNetwork(std::string_view network_id) const {
  std::vector<v1::Endpoint> out;
  for (const auto& endpoint : endpoints_) {
    if (endpoint.network_id() == network_id) out.push_back(endpoint);
  }
  return out;
}
std::vector<const v1::Policy*> InMemoryModelView::PoliciesOfDomain(
    std::string_view domain_id) const {
  return Filter(policies_, [domain_id](const auto& p) { return p.domain_id() == domain_id; });
}

}  // namespace dove::model
