#include "model/ipam.h"

#include <optional>
#include <string>

#include "model/address_pool.h"

namespace dove::model {

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet) {
  std::optional<AddressPool> built;
  const AddressPool* pool = view.FindAddressPool(subnet.id());
  if (pool == nullptr) {
    auto made = AddressPool::ForSubnet(subnet);
    if (!made) return Unexpected(made.error());
    built = std::move(*made);
    pool = &*built;
  }
  if (view.FindNetwork(subnet.network_id()) == nullptr) {
    return Fail("not_found", "network_id \"" + subnet.network_id() + "\" names no network.");
  }
  if (built) {
    for (const auto& endpoint : view.EndpointsOfNetwork(subnet.network_id())) {
      for (const auto& text : endpoint.ips()) {
        if (auto ip = net::IpAddress::Parse(text)) built->Take(*ip);
      }
    }
  }
  if (auto lowest = pool->Lowest()) return *lowest;
  return Fail("subnet_full",
              "Subnet \"" + subnet.id() + "\" (" + pool->prefix().ToString() +
                  ") has no free address" +
                  (pool->prefix().family() == net::IpFamily::kV6 && pool->prefix().length() < 64
                       ? " among its first 2^64 addresses."
                       : "."));
}

ModelResult<void> AssignAddresses(const ModelView& view, v1::Endpoint* endpoint) {
  if (endpoint->ips_size() > 0) return {};
  const auto subnets = view.SubnetsOfNetwork(endpoint->network_id());
  if (subnets.empty()) {
    return Fail("not_found", "network \"" + endpoint->network_id() +
                                 "\" has no subnet to allocate an address from.");
  }
  for (const auto* subnet : subnets) {
    auto ip = NextFreeAddress(view, *subnet);
    if (!ip) {
      endpoint->clear_ips();
      return Unexpected(ip.error());
    }
    endpoint->add_ips(ip->ToString());
  }
  return {};
}

}  // namespace dove::model
