// Fuzzes ParseIpv6 and FinishIpv6: the views stay in the buffer and add up to Payload Length;
// the walk ends on a header it does not walk unless a later fragment stopped it; a packet
// FinishIpv6 rewrote parses the same.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/ipv6.h"

namespace {

bool IsWalkedExtension(uint8_t next_header) {
  namespace ip_proto = dove::net::ip_proto;
  return next_header == ip_proto::kHopByHop || next_header == ip_proto::kRouting ||
         next_header == ip_proto::kFragment || next_header == ip_proto::kDestinationOptions ||
         next_header == ip_proto::kAh;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dove::net::ByteSpan input(data, size);
  const auto parsed = dove::net::ParseIpv6(input);
  if (!parsed) return 0;

  const dove::net::Ipv6Packet& packet = *parsed;
  const size_t end = 40 + size_t{packet.header.payload_length.value()};
  if (packet.header_size < 40 || end > size) std::abort();
  if (packet.payload.data() != data + packet.header_size ||
      packet.header_size + packet.payload.size() != end) {
    std::abort();
  }
  const bool later_fragment = packet.fragment && packet.fragment->fragment_offset() != 0;
  if (!later_fragment && IsWalkedExtension(packet.upper_protocol)) std::abort();
  if (packet.IsFragment() && !packet.fragment) std::abort();

  std::vector<uint8_t> copy(data, data + end);
  if (!dove::net::FinishIpv6(copy)) std::abort();
  const auto again = dove::net::ParseIpv6(copy);
  if (!again || again->header_size != packet.header_size ||
      again->upper_protocol != packet.upper_protocol ||
      again->payload.size() != packet.payload.size()) {
    std::abort();
  }
  return 0;
}
