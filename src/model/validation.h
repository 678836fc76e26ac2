// The model's rules, one pure function per object kind (see model_view.h for the snapshot).
//
// Each Validate* checks one object as it would be stored, against the rest of the model in
// `view`. An object of the same id already in the view is the object being replaced: it is
// never reported as conflicting with itself. The first broken rule is returned as a
// ModelError whose message names the field and, for a conflict, the holder ("VNI 7 is
// already used by network n1."). Codes: invalid_value, not_found, conflict.
//
// Names (Domain.name, Network.name, Switch.name): 1..63 characters of [A-Za-z0-9._-],
// starting with a letter or digit: safe in URLs, logs, file and interface names without
// quoting. Ids follow the same rules (they appear in URLs). Switch and port names on an
// endpoint are optional; when given they follow the same rules; so does an endpoint's name,
// which is unique in its network. An endpoint's labels follow labels.h.
//
//   if (auto ok = ValidateSubnet(view, subnet); !ok) return Reply(409, ok.error());
#pragma once

#include <cstdint>
#include <string_view>

#include "dove/v1/model.pb.h"
#include "model/model_error.h"
#include "model/model_view.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"

namespace dove::model {

inline constexpr uint32_t kMinVni = 1;
inline constexpr uint32_t kMaxVni = (1u << 24) - 1;
inline constexpr size_t kMaxNameLength = 63;

// Whether `ip` is an address of `prefix` no endpoint may hold: the IPv4 network and broadcast
// addresses (prefixes up to /30; /31 and /32 have none, RFC 3021) and the IPv6 subnet-router
// anycast address (prefixes up to /126; /127 and /128 have none, RFC 6164).
bool IsReservedAddress(const net::IpPrefix& prefix, const net::IpAddress& ip);

// `field` names the field in the message ("name", "switch_name").
ModelResult<void> ValidateName(std::string_view field, std::string_view name);

ModelResult<void> ValidateDomain(const v1::Domain& domain);
// VNI must already be allocated (0 is invalid here; see AllocateVni).
ModelResult<void> ValidateNetwork(const ModelView& view, const v1::Network& network);
ModelResult<void> ValidateSubnet(const ModelView& view, const v1::Subnet& subnet);
// IPs must already be allocated when the endpoint asks for any (see ipam.h).
ModelResult<void> ValidateEndpoint(const ModelView& view, const v1::Endpoint& endpoint);
ModelResult<void> ValidateSwitch(const v1::Switch& sw);
ModelResult<void> ValidatePolicy(const ModelView& view, const v1::Policy& policy);

// The lowest VNI >= start (clamped to kMinVni) that no network uses; vni_exhausted when
// none is left up to kMaxVni. O(log r) with a view that keeps free VNIs (ModelView::FreeVnis;
// the controller's index does), otherwise linear in the number of VNIs tried.
ModelResult<uint32_t> AllocateVni(const ModelView& view, uint32_t start = kMinVni);

}  // namespace dove::model
