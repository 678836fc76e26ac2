// Protobuf wire-format pieces the southbound assembles by hand, so that parts already encoded
// are not decoded into objects and encoded again: a domain's routes (the same bytes in every
// switch's first NetworkConfig of the domain). What they build parses exactly as the messages
// would serialise.
//
//   std::string config = network_config_without_domain.SerializeAsString();
//   AppendLengthDelimited(v1::NetworkConfig::kDomainTunnelIpsFieldNumber, "192.0.2.7", &config);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dove::controller::southbound {

// `value` as a base-128 varint.
void AppendVarint(uint64_t value, std::string* out);
// A length-delimited field (an embedded message in its wire form, a string, bytes): its tag
// (`field_number`, wire type 2), the length of `bytes`, then `bytes`.
void AppendLengthDelimited(int field_number, std::string_view bytes, std::string* out);

}  // namespace dove::controller::southbound
