// The Internet checksum (RFC 1071) and the IPv4 / IPv6 pseudo-header sums of UDP, TCP, ICMPv6.
//
// Sums are accumulated in 64 bits, so any buffer the data plane sees (including 64 KiB
// segmentation-offload super-frames) is summed without overflow. A checksum is computed by
// adding every part and folding once:
//
//   uint64_t sum = PseudoHeaderSum(src, dst, kIpProtoUdp, udp_length);
//   sum = ChecksumAdd(udp_bytes_with_zero_checksum, sum);
//   uint16_t checksum = ChecksumFold(sum);
//
// A buffer that already holds its checksum verifies when ChecksumFold(...) of it is 0.
// ChecksumAdd treats `data` as starting on an even offset of the summed whole; only the
// last part may have an odd length.
#pragma once

#include <cstdint>

#include "net/byte_order.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"

namespace dove::net {

// Adds the 16-bit big-endian words of `data` to `sum` (an odd last byte is padded with zero).
// Under 64 bytes the words are added one by one; a longer buffer adds its one's complement
// sum folded to 16 bits (not each word): the result folds to the same checksum either way.
uint64_t ChecksumAdd(ByteSpan data, uint64_t sum = 0);

// Folds a sum to 16 bits and returns its one's complement: the value to store in the field.
uint16_t ChecksumFold(uint64_t sum);

// ChecksumFold(ChecksumAdd(data)).
uint16_t InternetChecksum(ByteSpan data);

// Sum of the IPv4 pseudo-header (RFC 768, RFC 793): addresses, protocol, upper-layer length.
uint64_t PseudoHeaderSum(const Ipv4Address& source, const Ipv4Address& destination,
                         uint8_t protocol, uint16_t length);

// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
uint64_t PseudoHeaderSum(const Ipv6Address& source, const Ipv6Address& destination,
                         uint8_t next_header, uint32_t length);

// The checksum after one 16-bit word it covers changes from `old_word` to `new_word`, without
// summing the rest again (RFC 1624 equation 3: HC' = ~(~HC + ~m + m')). Equation 3, not the
// older RFC 1141 form, so the result is the one a full recomputation gives, never a 0xffff
// where recomputation gives 0. The word must sit at an even offset of the summed bytes; for
// two bytes at an odd offset pass both values byte-swapped (their bytes land in the low half
// of one word and the high half of the next, which sums the same).
uint16_t ChecksumUpdate(uint16_t checksum, uint16_t old_word, uint16_t new_word);

}  // namespace dove::net
