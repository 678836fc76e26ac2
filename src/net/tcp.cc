#include "net/tcp.h"

#include <algorithm>
#include <limits>

#include "net/checksum.h"
#include "net/ip_proto.h"

namespace dove::net {
namespace {

constexpr uint8_t kMinimumDataOffset = 5;
constexpr size_t kMaximumOptionsSize = 40;
constexpr size_t kMaximumSize = std::numeric_limits<uint16_t>::max();
constexpr size_t kChecksumOffset = 16;
constexpr uint8_t kMssLength = 4;

// The sum of `segment` with its Checksum field counted as zero.
uint64_t SumWithoutChecksum(ByteSpan segment, uint64_t sum) {
  if (segment.size() <= kChecksumOffset) return ChecksumAdd(segment, sum);
  sum = ChecksumAdd(segment.first(kChecksumOffset), sum);
  if (segment.size() <= kChecksumOffset + 2) return sum;
  return ChecksumAdd(segment.subspan(kChecksumOffset + 2), sum);
}

bool ChecksumMatches(ByteSpan segment, uint64_t pseudo_header_sum) {
  return ChecksumFold(ChecksumAdd(segment, pseudo_header_sum)) == 0;
}

// The offset in `options` of the first MSS option's kind byte, or nullopt; errors as FindMss.
Result<std::optional<size_t>> FindMssOffset(ByteSpan options) {
  size_t at = 0;
  while (at < options.size()) {
    const uint8_t kind = options[at];
    if (kind == tcp_option::kEnd) break;
    if (kind == tcp_option::kNop) {
      ++at;
      continue;
    }
    if (at + 1 >= options.size()) return Unexpected(Error::kBadField);
    const uint8_t length = options[at + 1];
    if (length < 2 || length > options.size() - at) return Unexpected(Error::kBadField);
    if (kind == tcp_option::kMss) {
      if (length != kMssLength) return Unexpected(Error::kBadField);
      return std::optional<size_t>(at);
    }
    at += length;
  }
  return std::optional<size_t>();
}

// Rewrites the MSS option of `segment` to `choose(current)`; true when that changed a byte.
template <typename Choose>
Result<bool> UpdateMss(MutableByteSpan segment, Choose choose) {
  const auto parsed = ParseTcp(segment);
  if (!parsed) return Unexpected(parsed.error());
  const auto found = FindMssOffset(parsed->options);
  if (!found) return Unexpected(found.error());
  if (!*found) return false;
  // The value's offset in the whole segment; options start at 20, so its parity is the
  // option's parity.
  const size_t at = sizeof(TcpHeader) + **found + 2;
  const uint16_t old_mss = static_cast<uint16_t>(segment[at] << 8 | segment[at + 1]);
  const uint16_t new_mss = choose(old_mss);
  if (new_mss == old_mss) return false;
  segment[at] = static_cast<uint8_t>(new_mss >> 8);
  segment[at + 1] = static_cast<uint8_t>(new_mss);
  // At an odd offset the value's bytes are the low half of one summed word and the high half
  // of the next: they add up as the byte-swapped value (see ChecksumUpdate).
  const auto word = [odd = at % 2 == 1](uint16_t v) {
    return odd ? static_cast<uint16_t>(v << 8 | v >> 8) : v;
  };
  TcpHeader header = parsed->header;
  header.checksum.set(ChecksumUpdate(header.checksum.value(), word(old_mss), word(new_mss)));
  StoreHeader(segment, header);
  return true;
}

template <typename Address>
Result<void> Finish(MutableByteSpan segment, const Address& source, const Address& destination) {
  auto header = LoadHeader<TcpHeader>(segment);
  if (!header) return Unexpected(Error::kTruncated);
  if (segment.size() > kMaximumSize) return Unexpected(Error::kOutOfRange);
  header->checksum.set(TcpChecksum(source, destination, segment));
  StoreHeader(segment, *header);
  return {};
}

}  // namespace

Result<TcpSegment> ParseTcp(ByteSpan segment) {
  const auto header = LoadHeader<TcpHeader>(segment);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->data_offset() < kMinimumDataOffset) return Unexpected(Error::kBadLength);
  const size_t header_size = header->header_size();
  if (segment.size() < header_size) return Unexpected(Error::kTruncated);
  TcpSegment parsed;
  parsed.header = *header;
  parsed.header_size = header_size;
  parsed.options = segment.subspan(sizeof(TcpHeader), header_size - sizeof(TcpHeader));
  parsed.payload = segment.subspan(header_size);
  return parsed;
}

Result<TcpSegment> ParseTcp(ByteSpan segment, const Ipv4Address& source,
                            const Ipv4Address& destination) {
  auto parsed = ParseTcp(segment);
  if (!parsed) return parsed;
  if (!ChecksumMatches(segment, PseudoHeaderSum(source, destination, ip_proto::kTcp,
                                                static_cast<uint16_t>(segment.size())))) {
    return Unexpected(Error::kBadChecksum);
  }
  return parsed;
}

Result<TcpSegment> ParseTcp(ByteSpan segment, const Ipv6Address& source,
                            const Ipv6Address& destination) {
  auto parsed = ParseTcp(segment);
  if (!parsed) return parsed;
  if (!ChecksumMatches(segment, PseudoHeaderSum(source, destination, ip_proto::kTcp,
                                                static_cast<uint32_t>(segment.size())))) {
    return Unexpected(Error::kBadChecksum);
  }
  return parsed;
}

uint16_t TcpChecksum(const Ipv4Address& source, const Ipv4Address& destination, ByteSpan segment) {
  const uint64_t pseudo =
      PseudoHeaderSum(source, destination, ip_proto::kTcp, static_cast<uint16_t>(segment.size()));
  return ChecksumFold(SumWithoutChecksum(segment, pseudo));
}

uint16_t TcpChecksum(const Ipv6Address& source, const Ipv6Address& destination, ByteSpan segment) {
  const uint64_t pseudo =
      PseudoHeaderSum(source, destination, ip_proto::kTcp, static_cast<uint32_t>(segment.size()));
  return ChecksumFold(SumWithoutChecksum(segment, pseudo));
}

Result<TcpHeader> MakeTcpHeader(uint16_t source_port, uint16_t destination_port, uint32_t sequence,
                                uint32_t acknowledgment, uint8_t flags, uint16_t window,
                                size_t options_size) {
  if (options_size > kMaximumOptionsSize || options_size % 4 != 0) {
    return Unexpected(Error::kOutOfRange);
  }
  TcpHeader header{};
  header.source_port.set(source_port);
  header.destination_port.set(destination_port);
  header.sequence.set(sequence);
  header.acknowledgment.set(acknowledgment);
  header.data_offset_reserved = static_cast<uint8_t>((kMinimumDataOffset + options_size / 4) << 4);
  header.flags = flags;
  header.window.set(window);
  return header;
}

Result<void> FinishTcp(MutableByteSpan segment, const Ipv4Address& source,
                       const Ipv4Address& destination) {
  return Finish(segment, source, destination);
}

Result<void> FinishTcp(MutableByteSpan segment, const Ipv6Address& source,
                       const Ipv6Address& destination) {
  return Finish(segment, source, destination);
}

Result<std::optional<uint16_t>> FindMss(ByteSpan options) {
  const auto found = FindMssOffset(options);
  if (!found) return Unexpected(found.error());
  if (!*found) return std::optional<uint16_t>();
  const size_t at = **found + 2;
  return std::optional<uint16_t>(static_cast<uint16_t>(options[at] << 8 | options[at + 1]));
}

Result<bool> RewriteMss(MutableByteSpan segment, uint16_t mss) {
  return UpdateMss(segment, [mss](uint16_t) { return mss; });
}

Result<bool> ClampMss(MutableByteSpan segment, uint16_t max_mss) {
  return UpdateMss(segment, [max_mss](uint16_t current) { return std::min(current, max_mss); });
}

}  // namespace dove::net
