#include "net/icmpv6.h"

#include <algorithm>

#include "net/checksum.h"

namespace dove::net {
namespace {

// The IPv6 next header value of ICMPv6, which the pseudo-header carries.
constexpr uint8_t kNextHeaderIcmpv6 = 58;

uint64_t PseudoHeaderAndMessageSum(const Ipv6Address& source, const Ipv6Address& destination,
                                   ByteSpan message) {
  // The upper-layer length is 32 bits: an IPv6 jumbogram's ICMPv6 message may exceed 64 KiB.
  const uint64_t sum = PseudoHeaderSum(source, destination, kNextHeaderIcmpv6,
                                       static_cast<uint32_t>(message.size()));
  return ChecksumAdd(message, sum);
}

}  // namespace

Result<Icmpv6Message> ParseIcmpv6(ByteSpan message, const Ipv6Address& source,
                                  const Ipv6Address& destination, bool verify_checksum) {
  if (message.size() < icmpv6::kMinimumMessageSize) return Unexpected(Error::kTruncated);
  const auto header = LoadHeader<Icmpv6Header>(message);
  if (!header) return Unexpected(Error::kTruncated);
  if (verify_checksum &&
      ChecksumFold(PseudoHeaderAndMessageSum(source, destination, message)) != 0) {
    return Unexpected(Error::kBadChecksum);
  }
  return Icmpv6Message{*header, message.subspan(sizeof(Icmpv6Header)), source, destination};
}

uint16_t Icmpv6Checksum(const Ipv6Address& source, const Ipv6Address& destination,
                        ByteSpan message_with_zero_checksum) {
  return ChecksumFold(PseudoHeaderAndMessageSum(source, destination, message_with_zero_checksum));
}

void FinishIcmpv6(MutableByteSpan message, const Ipv6Address& source,
                  const Ipv6Address& destination) {
  auto header = LoadHeader<Icmpv6Header>(message);
  if (!header) return;
  header->checksum = Be16();
  StoreHeader(message, *header);
  header->checksum.set(Icmpv6Checksum(source, destination, message));
  StoreHeader(message, *header);
}

size_t Icmpv6ErrorQuoteLength(ByteSpan offending_packet) {
  return std::min(offending_packet.size(), icmpv6::kMaxErrorQuote);
}

size_t AppendIcmpv6Error(FrameBuilder& builder, const Ipv6Address& source,
                         const Ipv6Address& destination, uint8_t type, uint8_t code,
                         uint32_t first_word, ByteSpan offending_packet) {
  const size_t at = builder.Append(MakeIcmpv6Header(type, code));
  builder.Append(Be32::Of(first_word));
  builder.Append(offending_packet.first(Icmpv6ErrorQuoteLength(offending_packet)));
  FinishIcmpv6(builder.From(at), source, destination);
  return at;
}

}  // namespace dove::net
