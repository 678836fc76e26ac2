// IPAM: addresses for endpoints created without IPs.
//
// NextFreeAddress returns the lowest address of the subnet that is not taken, where taken
// means: the IPv4 network and broadcast addresses (prefixes up to /30; /31 and /32 use every
// address, RFC 3021), the IPv6 subnet-router anycast address (the prefix address; up to /126, RFC
// 6164), the gateway, every address of the DHCP range (DHCP hands those out), and every IP of an
// endpoint of the subnet's domain. A removed endpoint's addresses are free again at once.
// Cost: one ModelView::FindEndpointByIp per address tried. The scan starts at
// ModelView::IpamScanStart, so with a view that keeps it current (the controller's index)
// a run of allocations costs O(1) each; from 0 it is linear in the addresses below the first
// free one.
// IPv6 subnets are scanned over their first kIpv6ScanLimit addresses only: a /64 cannot be
// walked, and a network with more endpoints than that is beyond this controller's scale.
// Error: subnet_full; invalid_value when the subnet itself is invalid; not_found when its
// network is absent. Pure: reads `view` only.
//
//   auto ip = NextFreeAddress(view, subnet);   // 10.0.0.2 when 10.0.0.1 is the gateway
#pragma once

#include <cstdint>
#include <optional>

#include "dove/v1/model.pb.h"
#include "model/model_error.h"
#include "model/model_view.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"

namespace dove::model {

inline constexpr uint64_t kIpv6ScanLimit = 65536;

ModelResult<net::IpAddress> NextFreeAddress(const ModelView& view, const v1::Subnet& subnet);

// The lowest free offset >= from (address = prefix address + offset), by the rules above,
// ignoring view.IpamScanStart. NextFreeAddress is this from max(first usable, IpamScanStart).
// A ModelView implementation uses it to advance its scan start. Errors as NextFreeAddress.
ModelResult<uint64_t> FirstFreeOffset(const ModelView& view, const v1::Subnet& subnet,
                                      uint64_t from);

// The offset of `ip` inside `prefix` (ip = prefix address + offset), or nullopt when the
// prefix does not contain it or the offset does not fit the scanned range (IPv6 beyond
// kIpv6ScanLimit).
std::optional<uint64_t> OffsetInPrefix(const net::IpPrefix& prefix, const net::IpAddress& ip);

// When `endpoint` has no IPs, gives it one address from each subnet of its network (in the
// view's order); an endpoint that has IPs is left alone. Fails as NextFreeAddress, and with
// not_found when the network is absent or has no subnet.
ModelResult<void> AssignAddresses(const ModelView& view, v1::Endpoint* endpoint);

}  // namespace dove::model
