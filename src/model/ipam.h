// IPAM: addresses for endpoints created without IPs.
//
// NextFreeAddress returns the lowest address of the subnet that is neither reserved nor taken
// (AddressPool, address_pool.h, says which are reserved: network and broadcast, the IPv6
// subnet-router anycast address, the gateway, the DHCP range), where taken means held by an
// endpoint of the subnet's network. A removed endpoint's addresses are free again at once.
// Cost: with a view that keeps a pool per subnet (ModelView::FindAddressPool; the
// controller's index does) O(1), whatever the prefix length; otherwise the pool is built from
// the network's endpoints, O(e log e) for e endpoints (InMemoryModelView, tests and tools).
// Addresses are never scanned. IPv6 prefixes shorter than /64 allocate from their first 2^64
// addresses.
// Error: subnet_full; invalid_value when the subnet itself is invalid; not_found when its
// network is absent. Pure: reads `view` only.
//
//   auto ip = NextFreeAddress(view, subnet);   // 10.0.0.2 when 10.0.0.1 is the gateway
#pragma once

#include "dove/v1/model.pb.h"
#include "model/model_error.h"
#include "model/model_view.h"
#include "net/ip_address.h"

namespace dove::model {

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet);

// When `endpoint` has no IPs, gives it one address from each subnet of its network (in the
// view's order); an endpoint that has IPs is left alone. Fails as NextFreeAddress, and with
// not_found when the network is absent or has no subnet.
ModelResult<void> AssignAddresses(const ModelView& view, v1::Endpoint* endpoint);

}  // namespace dove::model
