#include "net/udp.h"

#include <limits>

#include "net/checksum.h"
#include "net/ip_proto.h"

namespace dove::net {
namespace {

constexpr size_t kMaximumSize = std::numeric_limits<uint16_t>::max();
constexpr size_t kChecksumOffset = 6;

// The sum of `datagram` with its Checksum field counted as zero.
uint64_t SumWithoutChecksum(ByteSpan datagram, uint64_t sum) {
  if (datagram.size() <= kChecksumOffset) return ChecksumAdd(datagram, sum);
  sum = ChecksumAdd(datagram.first(kChecksumOffset), sum);
  if (datagram.size() <= kChecksumOffset + 2) return sum;
  return ChecksumAdd(datagram.subspan(kChecksumOffset + 2), sum);
}

// 0 and 0xffff are the same one's complement number; 0 on the wire means "no checksum".
uint16_t NeverZero(uint16_t checksum) { return checksum == 0 ? 0xffff : checksum; }

// `datagram` is already trimmed to Length, so its size is the pseudo-header's length.
bool ChecksumMatches(ByteSpan datagram, uint64_t pseudo_header_sum) {
  return ChecksumFold(ChecksumAdd(datagram, pseudo_header_sum)) == 0;
}

template <typename Address>
Result<void> Finish(MutableByteSpan datagram, const Address& source, const Address& destination) {
  auto header = LoadHeader<UdpHeader>(datagram);
  if (!header) return Unexpected(Error::kTruncated);
  if (datagram.size() > kMaximumSize) return Unexpected(Error::kOutOfRange);
  header->length.set(static_cast<uint16_t>(datagram.size()));
  StoreHeader(datagram, *header);
  header->checksum.set(UdpChecksum(source, destination, datagram));
  StoreHeader(datagram, *header);
  return {};
}

}  // namespace

Result<UdpDatagram> ParseUdp(ByteSpan datagram) {
  const auto header = LoadHeader<UdpHeader>(datagram);
  if (!header) return Unexpected(Error::kTruncated);
  const size_t length = header->length.value();
  if (length < sizeof(UdpHeader)) return Unexpected(Error::kBadLength);
  if (datagram.size() < length) return Unexpected(Error::kTruncated);
  return UdpDatagram{*header, datagram.subspan(sizeof(UdpHeader), length - sizeof(UdpHeader))};
}

Result<UdpDatagram> ParseUdp(ByteSpan datagram, const Ipv4Address& source,
                             const Ipv4Address& destination) {
  auto parsed = ParseUdp(datagram);
  if (!parsed || parsed->header.checksum.value() == 0) return parsed;
  const uint16_t length = parsed->header.length.value();
  if (!ChecksumMatches(datagram.first(length),
                       PseudoHeaderSum(source, destination, ip_proto::kUdp, length))) {
    return Unexpected(Error::kBadChecksum);
  }
  return parsed;
}

Result<UdpDatagram> ParseUdp(ByteSpan datagram, const Ipv6Address& source,
                             const Ipv6Address& destination) {
  auto parsed = ParseUdp(datagram);
  if (!parsed) return parsed;
  const uint16_t length = parsed->header.length.value();
  if (parsed->header.checksum.value() == 0 ||
      !ChecksumMatches(datagram.first(length),
                       PseudoHeaderSum(source, destination, ip_proto::kUdp, length))) {
    return Unexpected(Error::kBadChecksum);
  }
  return parsed;
}

uint16_t UdpChecksum(const Ipv4Address& source, const Ipv4Address& destination, ByteSpan datagram) {
  const uint64_t pseudo =
      PseudoHeaderSum(source, destination, ip_proto::kUdp, static_cast<uint16_t>(datagram.size()));
  return NeverZero(ChecksumFold(SumWithoutChecksum(datagram, pseudo)));
}

uint16_t UdpChecksum(const Ipv6Address& source, const Ipv6Address& destination, ByteSpan datagram) {
  const uint64_t pseudo =
      PseudoHeaderSum(source, destination, ip_proto::kUdp, static_cast<uint32_t>(datagram.size()));
  return NeverZero(ChecksumFold(SumWithoutChecksum(datagram, pseudo)));
}

Result<UdpHeader> MakeUdpHeader(uint16_t source_port, uint16_t destination_port,
                                size_t payload_length) {
  if (payload_length > kMaximumSize - sizeof(UdpHeader)) return Unexpected(Error::kOutOfRange);
  return UdpHeader{Be16::Of(source_port), Be16::Of(destination_port),
                   Be16::Of(static_cast<uint16_t>(sizeof(UdpHeader) + payload_length)),
                   Be16::Of(0)};
}

Result<void> FinishUdp(MutableByteSpan datagram, const Ipv4Address& source,
                       const Ipv4Address& destination) {
  return Finish(datagram, source, destination);
}

Result<void> FinishUdp(MutableByteSpan datagram, const Ipv6Address& source,
                       const Ipv6Address& destination) {
  return Finish(datagram, source, destination);
}

}  // namespace dove::net
