#include "net/ipv6.h"

#include <algorithm>
#include <limits>

namespace dove::net {
namespace {

constexpr uint8_t kVersion = 6;
constexpr size_t kMaximumPayload = std::numeric_limits<uint16_t>::max();
constexpr uint32_t kMaximumFlowLabel = 0xfffff;
// RFC 2675 section 2: option type 0xC2, data length 4.
constexpr uint8_t kJumboPayloadOption = 0xc2;
constexpr uint8_t kPad1Option = 0;

// True for the extension headers the walk steps over. ESP and No Next Header end the chain and
// so are not in this list.
constexpr bool IsWalkedExtension(uint8_t next_header) {
  return next_header == ip_proto::kHopByHop || next_header == ip_proto::kRouting ||
         next_header == ip_proto::kFragment || next_header == ip_proto::kDestinationOptions ||
         next_header == ip_proto::kAh;
}

// True when the Hop-by-Hop header at the start of `bytes` holds a Jumbo Payload option. Reads
// only what `bytes` holds: a jumbogram's Payload Length is 0, so nothing else bounds it.
bool HasJumboOption(ByteSpan bytes) {
  if (bytes.size() < 2) return false;
  const size_t end = std::min(bytes.size(), (size_t{bytes[1]} + 1) * 8);
  size_t at = 2;
  while (at < end) {
    if (bytes[at] == kPad1Option) {
      ++at;
      continue;
    }
    if (bytes[at] == kJumboPayloadOption) return true;
    if (at + 1 >= end) return false;
    at += 2 + size_t{bytes[at + 1]};
  }
  return false;
}

}  // namespace

Result<Ipv6Packet> ParseIpv6(ByteSpan packet) {
  const auto header = LoadHeader<Ipv6Header>(packet);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->version() != kVersion) return Unexpected(Error::kBadVersion);
  const size_t payload_length = header->payload_length.value();
  if (packet.size() - sizeof(Ipv6Header) < payload_length) return Unexpected(Error::kTruncated);
  if (payload_length == 0 && header->next_header == ip_proto::kHopByHop &&
      HasJumboOption(packet.subspan(sizeof(Ipv6Header)))) {
    return Unexpected(Error::kUnsupported);
  }

  Ipv6Packet parsed;
  parsed.header = *header;
  const ByteSpan chain = packet.subspan(sizeof(Ipv6Header), payload_length);
  size_t at = 0;  // offset in `chain` of the header named by `next`
  uint8_t next = header->next_header;
  for (int count = 0; IsWalkedExtension(next); ++count) {
    if (next == ip_proto::kHopByHop && count != 0) return Unexpected(Error::kBadField);
    if (count == Ipv6Packet::kMaxExtensionHeaders) return Unexpected(Error::kUnsupported);
    const ByteSpan rest = chain.subspan(at);
    if (next == ip_proto::kFragment) {
      if (parsed.fragment) return Unexpected(Error::kBadField);
      const auto fragment = LoadHeader<Ipv6FragmentHeader>(rest);
      if (!fragment) return Unexpected(Error::kBadLength);
      parsed.fragment = *fragment;
      at += sizeof(Ipv6FragmentHeader);
      next = fragment->next_header;
      if (fragment->fragment_offset() != 0) break;
      continue;
    }
    if (rest.size() < 2) return Unexpected(Error::kBadLength);
    const size_t length =
        next == ip_proto::kAh ? (size_t{rest[1]} + 2) * 4 : (size_t{rest[1]} + 1) * 8;
    if (rest.size() < length) return Unexpected(Error::kBadLength);
    at += length;
    next = rest[0];
  }
  parsed.upper_protocol = next;
  parsed.header_size = sizeof(Ipv6Header) + at;
  parsed.payload = chain.subspan(at);
  return parsed;
}

Result<Ipv6Header> MakeIpv6Header(const Ipv6Address& source, const Ipv6Address& destination,
                                  uint8_t next_header, uint8_t hop_limit, size_t payload_length,
                                  uint8_t traffic_class, uint32_t flow_label) {
  if (payload_length > kMaximumPayload || flow_label > kMaximumFlowLabel) {
    return Unexpected(Error::kOutOfRange);
  }
  Ipv6Header header{};
  header.version_class_flow.set(uint32_t{kVersion} << 28 | uint32_t{traffic_class} << 20 |
                                flow_label);
  header.payload_length.set(static_cast<uint16_t>(payload_length));
  header.next_header = next_header;
  header.hop_limit = hop_limit;
  header.source = source;
  header.destination = destination;
  return header;
}

Result<void> FinishIpv6(MutableByteSpan packet) {
  auto header = LoadHeader<Ipv6Header>(packet);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->version() != kVersion) return Unexpected(Error::kBadVersion);
  const size_t payload_length = packet.size() - sizeof(Ipv6Header);
  if (payload_length > kMaximumPayload) return Unexpected(Error::kOutOfRange);
  header->payload_length.set(static_cast<uint16_t>(payload_length));
  StoreHeader(packet, *header);
  return {};
}

}  // namespace dove::net
