// Fuzzes the text parsers of MacAddress, IpAddress and IpPrefix: whatever parses must format
// back to text that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/ip_prefix.h"
#include "net/mac_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto mac = dove::net::MacAddress::Parse(text)) {
    if (dove::net::MacAddress::Parse(mac->ToString()).value_or({}) != *mac) std::abort();
  }
  if (auto ip = dove::net::IpAddress::Parse(text)) {
    auto again = dove::net::IpAddress::Parse(ip->ToString());
    if (!again || *again != *ip) std::abort();
  }
  if (auto prefix = dove::net::IpPrefix::Parse(text)) {
    auto again = dove::net::IpPrefix::Parse(prefix->ToString());
    if (!again || *again != *prefix || !prefix->Contains(prefix->address())) std::abort();
  }
  return 0;
}
