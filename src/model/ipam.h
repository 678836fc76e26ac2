// IPAM: addresses for endpoints created without IPs.
//
// NextFreeAddress returns the lowest address of the subnet that is not taken, where taken
// means: the IPv4 network and broadcast addresses (prefixes up to /30; /31 and /32 use every
// address, RFC 3021), the IPv6 subnet-router anycast address (the prefix address), the
// gateway, every address of the DHCP range (DHCP hands those out), and every IP of an
// endpoint of the subnet's domain. A removed endpoint's addresses are free again at once.
// Cost: one ModelView::FindEndpointByIp per address tried, so the scan is linear in the
// addresses below the first free one (O(1) each with an indexed view); fine at our scale.
// IPv6 subnets are scanned over their first kIpv6ScanLimit addresses only: a /64 cannot be
// walked, and a network with more endpoints than that is beyond this controller's scale.
// Error: subnet_full; invalid_value when the subnet itself is invalid; not_found when its
// network is absent. Pure: reads `view` only.
//
//   auto ip = NextFreeAddress(view, subnet);   // 10.0.0.2 when 10.0.0.1 is the gateway
#pragma once

#include <cstdint>

#include "dove/v1/model.pb.h"
#include "model/model_error.h"
#include "model/model_view.h"
#include "net/ip_address.h"

namespace dove::model {

inline constexpr uint64_t kIpv6ScanLimit = 65536;

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet);

// When `endpoint` has no IPs, gives it one address from each subnet of its network (in the
// view's order); an endpoint that has IPs is left alone. Fails as NextFreeAddress, and with
// not_found when the network is absent or has no subnet.
ModelResult<void> AssignAddresses(const ModelView& view, v1::Endpoint* endpoint);

}  // namespace dove::model
