// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"): IPv4's Protocol field and
// IPv6's Next Header field share one number space, extension headers included.
#pragma once

#include <cstdint>

namespace dove::net::ip_proto {

inline constexpr uint8_t kHopByHop = 0;  // IPv6 Hop-by-Hop Options
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kIgmp = 2;
inline constexpr uint8_t kIpInIp = 4;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kIpv6 = 41;      // IPv6 encapsulation
inline constexpr uint8_t kRouting = 43;   // IPv6 Routing header
inline constexpr uint8_t kFragment = 44;  // IPv6 Fragment header
inline constexpr uint8_t kGre = 47;
inline constexpr uint8_t kEsp = 50;  // IPsec Encapsulating Security Payload
inline constexpr uint8_t kAh = 51;   // IPsec Authentication Header
inline constexpr uint8_t kIcmpv6 = 58;
inline constexpr uint8_t kNoNextHeader = 59;  // IPv6: nothing follows
inline constexpr uint8_t kDestinationOptions = 60;

}  // namespace dove::net::ip_proto
