#include "net/icmpv4.h"

#include <algorithm>

#include "net/checksum.h"

namespace dove::net {

Result<Icmpv4Message> ParseIcmpv4(ByteSpan message, bool verify_checksum) {
  const auto header = LoadHeader<Icmpv4Header>(message);
  if (!header) return Unexpected(Error::kTruncated);
  // A message that holds its own checksum sums to 0xffff, which folds to zero.
  if (verify_checksum && InternetChecksum(message) != 0) return Unexpected(Error::kBadChecksum);
  return Icmpv4Message{*header, message.subspan(sizeof(Icmpv4Header))};
}

void FinishIcmpv4(MutableByteSpan message) {
  auto header = LoadHeader<Icmpv4Header>(message);
  if (!header) return;
  header->checksum = Be16();
  StoreHeader(message, *header);
  header->checksum.set(InternetChecksum(message));
  StoreHeader(message, *header);
}

size_t Icmpv4ErrorQuoteLength(ByteSpan offending_ip_packet) {
  if (offending_ip_packet.empty()) return 0;
  const size_t header_length = static_cast<size_t>(offending_ip_packet[0] & 0x0f) * 4;
  return std::min(header_length + icmpv4::kErrorQuotePayloadBytes, offending_ip_packet.size());
}

size_t AppendIcmpv4Error(FrameBuilder& builder, uint8_t type, uint8_t code, uint32_t rest,
                         ByteSpan offending_ip_packet) {
  const size_t at = builder.Append(MakeIcmpv4Header(type, code, rest));
  builder.Append(offending_ip_packet.first(Icmpv4ErrorQuoteLength(offending_ip_packet)));
  FinishIcmpv4(builder.From(at));
  return at;
}

}  // namespace dove::net
