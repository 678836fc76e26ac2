// GoogleTest printers for net types, so a failed assertion names values instead of bytes.
#pragma once

#include <ostream>

#include "net/error.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "net/mac_address.h"

namespace dove::net {

inline void PrintTo(Error error, std::ostream* out) { *out << ErrorName(error); }
inline void PrintTo(const MacAddress& mac, std::ostream* out) { *out << mac.ToString(); }
inline void PrintTo(const Ipv4Address& ip, std::ostream* out) { *out << ip.ToString(); }
inline void PrintTo(const Ipv6Address& ip, std::ostream* out) { *out << ip.ToString(); }
inline void PrintTo(const IpAddress& ip, std::ostream* out) { *out << ip.ToString(); }
inline void PrintTo(const IpPrefix& prefix, std::ostream* out) { *out << prefix.ToString(); }

}  // namespace dove::net
