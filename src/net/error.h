// net::Error: why a packet, header or address could not be parsed or built.
//
// Every parser and builder in src/net returns Expected<T, Error>. The values are few and
// stable because the data plane turns each into a named drop counter; ErrorName() gives that
// name. Nothing here allocates.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/expected.h"

namespace dove::net {

enum class Error : uint8_t {
  kTruncated,    // the buffer ends before the header, or before what a length field says
  kBadLength,    // a length field disagrees with the buffer or with another field
  kBadVersion,   // a version field is not the one the format expects (IPv4 4, IPv6 6, ...)
  kBadChecksum,  // a checksum that was asked to be verified does not match
  kBadField,     // a field holds a value the format forbids (flags, reserved bits, codes)
  kUnsupported,  // well formed, but of a kind this code does not handle
  kBadSyntax,    // the text form of an address or prefix is malformed
  kOutOfRange,   // a value is outside what the field can hold (prefix length, VNI, ...)
  kNoSpace,      // a builder's output buffer is too small
};

// A short, stable, lower-case name ("truncated", "bad_checksum", ...): used in counters,
// logs and metrics labels.
std::string_view ErrorName(Error error);

template <typename T>
using Result = Expected<T, Error>;

}  // namespace dove::net
