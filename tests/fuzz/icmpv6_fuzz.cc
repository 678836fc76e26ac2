// Fuzzes ParseIcmpv6 and the Neighbor Discovery parsers (NS, NA, RS, RA). The first 32 bytes of the
// input are the IPv6 source and destination; the rest is the ICMPv6 message. Checks the views stay
// in the buffer, that parsed ND messages obey RFC 4861's rules, and that a re-checksummed message
// verifies.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/icmpv6.h"
#include "net/neighbor_discovery.h"

namespace {

using dove::net::ByteSpan;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(ByteSpan part, ByteSpan whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

dove::net::Ipv6Address AddressAt(const uint8_t* data) {
  std::array<uint8_t, 16> bytes;
  std::copy(data, data + 16, bytes.begin());
  return dove::net::Ipv6Address(bytes);
}

void CheckNd(const dove::net::Icmpv6Message& message) {
  using namespace dove::net;  // NOLINT(google-build-using-namespace): a fuzz entry point
  // Walk the options of every message, ND or not, as if they followed a 20-byte fixed part.
  if (message.body.size() >= 20) {
    NdOptionWalker walker(message.body.subspan(20));
    while (!walker.AtEnd()) {
      const auto option = walker.Next();
      if (!option) {
        Check(walker.AtEnd());
        break;
      }
      Check(Inside(option->bytes, message.body));
      Check(!option->bytes.empty() && option->bytes.size() % nd::kOptionUnit == 0);
      Check(option->bytes[0] == option->type);
    }
  }
  const auto ns = ParseNeighborSolicitation(message);
  if (ns) {
    Check(message.type() == icmpv6::kNeighborSolicitation && message.code() == 0);
    Check(message.body.size() + sizeof(Icmpv6Header) >= nd::kMinimumMessageSize);
    Check(!ns->target.IsMulticast());
    if (message.source.IsUnspecified()) Check(!ns->source_mac.has_value());
  }
  const auto na = ParseNeighborAdvertisement(message);
  if (na) {
    Check(message.type() == icmpv6::kNeighborAdvertisement && message.code() == 0);
    Check(!na->target.IsMulticast());
    if (message.destination.IsMulticast()) Check(!na->solicited_flag);
  }
  Check(!(ns && na));
  const auto rs = ParseRouterSolicitation(message);
  if (rs) {
    Check(message.type() == icmpv6::kRouterSolicitation && message.code() == 0);
    Check(message.body.size() + sizeof(Icmpv6Header) >= nd::kRouterSolicitationMinimumSize);
    if (message.source.IsUnspecified()) Check(!rs->source_mac.has_value());
  }
  const auto ra = ParseRouterAdvertisement(message);
  if (ra) {
    Check(message.type() == icmpv6::kRouterAdvertisement && message.code() == 0);
    Check(message.body.size() + sizeof(Icmpv6Header) >= nd::kRouterAdvertisementMinimumSize);
    Check(message.source.IsLinkLocal());
    for (const auto& prefix : ra->prefixes) Check(prefix.length <= 128);
  }
  Check(!(rs && ra) && !(rs && (ns || na)) && !(ra && (ns || na)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dove::net;  // NOLINT(google-build-using-namespace): a fuzz entry point
  if (size < 32) return 0;
  const Ipv6Address source = AddressAt(data);
  const Ipv6Address destination = AddressAt(data + 16);
  const ByteSpan input(data + 32, size - 32);

  Check(Icmpv6ErrorQuoteLength(input) <= input.size());

  const auto verified = ParseIcmpv6(input, source, destination);
  auto parsed = ParseIcmpv6(input, source, destination, /*verify_checksum=*/false);
  Check(parsed.has_value() == (input.size() >= icmpv6::kMinimumMessageSize));
  if (!parsed) {
    Check(!verified && verified.error() == Error::kTruncated);
    return 0;
  }
  Check(parsed->body.data() == input.data() + sizeof(Icmpv6Header));
  Check(sizeof(Icmpv6Header) + parsed->body.size() == input.size());
  Check(Inside(parsed->data(), input) && parsed->data().size() + 8 == input.size());
  Check(parsed->source == source && parsed->destination == destination);
  CheckNd(*parsed);

  // Re-checksummed, every message verifies, and what the ND parsers say does not change.
  std::vector<uint8_t> copy(input.begin(), input.end());
  FinishIcmpv6(copy, source, destination);
  const auto finished = ParseIcmpv6(copy, source, destination);
  Check(finished.has_value());
  // 0x0000 and 0xffff are the two one's complement zeros: a message holding either verifies,
  // and FinishIcmpv6 writes 0x0000 where the sender may have written 0xffff.
  if (verified) {
    const uint16_t mine = finished->header.checksum.value();
    const uint16_t theirs = verified->header.checksum.value();
    Check(mine == theirs || (mine == 0 && theirs == 0xffff));
  }
  const auto ns_before = ParseNeighborSolicitation(*parsed);
  const auto ns_after = ParseNeighborSolicitation(*finished);
  Check(ns_before.has_value() == ns_after.has_value());
  if (ns_before) Check(*ns_before == *ns_after);
  if (!ns_before) Check(ns_before.error() == ns_after.error());
  const auto na_before = ParseNeighborAdvertisement(*parsed);
  const auto na_after = ParseNeighborAdvertisement(*finished);
  Check(na_before.has_value() == na_after.has_value());
  if (na_before) Check(*na_before == *na_after);
  if (!na_before) Check(na_before.error() == na_after.error());

  // A parsed RS or RA rebuilt by the builders parses to the same content.
  if (const auto rs = ParseRouterSolicitation(*parsed)) {
    FrameBuilder builder;
    AppendRouterSolicitation(builder, source, destination, *rs);
    const auto icmp = ParseIcmpv6(builder.bytes(), source, destination);
    Check(icmp.has_value());
    const auto again = ParseRouterSolicitation(*icmp);
    Check(again.has_value() && *again == *rs);
  }
  if (const auto ra = ParseRouterAdvertisement(*parsed)) {
    FrameBuilder builder;
    AppendRouterAdvertisement(builder, source, destination, *ra);
    const auto icmp = ParseIcmpv6(builder.bytes(), source, destination);
    Check(icmp.has_value());
    const auto again = ParseRouterAdvertisement(*icmp);
    Check(again.has_value() && *again == *ra);
  }

  // A parsed NS or NA rebuilt by the builders parses to the same content.
  if (ns_before) {
    FrameBuilder builder;
    AppendNeighborSolicitation(builder, source, destination, *ns_before);
    const auto icmp = ParseIcmpv6(builder.bytes(), source, destination);
    Check(icmp.has_value());
    const auto again = ParseNeighborSolicitation(*icmp);
    Check(again.has_value() && *again == *ns_before);
  }
  if (na_before) {
    FrameBuilder builder;
    AppendNeighborAdvertisement(builder, source, destination, *na_before);
    const auto icmp = ParseIcmpv6(builder.bytes(), source, destination);
    Check(icmp.has_value());
    const auto again = ParseNeighborAdvertisement(*icmp);
    Check(again.has_value() && *again == *na_before);
  }
  return 0;
}
