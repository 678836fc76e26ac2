#include "net/error.h"

namespace dove::net {

std::string_view ErrorName(Error error) {
  switch (error) {
    case Error::kTruncated:
      return "truncated";
    case Error::kBadLength:
      return "bad_length";
    case Error::kBadVersion:
      return "bad_version";
    case Error::kBadChecksum:
      return "bad_checksum";
    case Error::kBadField:
      return "bad_field";
    case Error::kUnsupported:
      return "unsupported";
    case Error::kBadSyntax:
      return "bad_syntax";
    case Error::kOutOfRange:
      return "out_of_range";
    case Error::kNoSpace:
      return "no_space";
  }
  return "unknown";
}

}  // namespace dove::net
