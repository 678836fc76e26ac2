#include "net/ipv4.h"

#include <array>
#include <limits>

#include "net/checksum.h"

namespace dove::net {
namespace {

constexpr uint8_t kVersion = 4;
constexpr uint8_t kMinimumIhl = 5;
constexpr size_t kMaximumSize = std::numeric_limits<uint16_t>::max();

}  // namespace

Result<Ipv4Packet> ParseIpv4(ByteSpan packet, bool verify_checksum) {
  const auto header = LoadHeader<Ipv4Header>(packet);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->version() != kVersion) return Unexpected(Error::kBadVersion);
  if (header->ihl() < kMinimumIhl) return Unexpected(Error::kBadLength);
  const size_t header_size = header->header_size();
  const size_t total_length = header->total_length.value();
  if (total_length < header_size) return Unexpected(Error::kBadLength);
  if (packet.size() < total_length) return Unexpected(Error::kTruncated);
  if (verify_checksum && InternetChecksum(packet.first(header_size)) != 0) {
    return Unexpected(Error::kBadChecksum);
  }
  Ipv4Packet parsed;
  parsed.header = *header;
  parsed.header_size = header_size;
  parsed.options = packet.subspan(sizeof(Ipv4Header), header_size - sizeof(Ipv4Header));
  parsed.payload = packet.subspan(header_size, total_length - header_size);
  return parsed;
}

Result<Ipv4Header> MakeIpv4Header(const Ipv4Address& source, const Ipv4Address& destination,
                                  uint8_t protocol, uint8_t ttl, size_t payload_length,
                                  uint16_t identification, bool dont_fragment, uint8_t dscp_ecn) {
  if (payload_length > kMaximumSize - sizeof(Ipv4Header)) return Unexpected(Error::kOutOfRange);
  Ipv4Header header{};
  header.version_ihl = kVersion << 4 | kMinimumIhl;
  header.dscp_ecn = dscp_ecn;
  header.total_length.set(static_cast<uint16_t>(sizeof(Ipv4Header) + payload_length));
  header.identification.set(identification);
  header.flags_fragment_offset.set(dont_fragment ? Ipv4Header::kDontFragment : 0);
  header.ttl = ttl;
  header.protocol = protocol;
  header.source = source;
  header.destination = destination;
  std::array<uint8_t, sizeof(Ipv4Header)> bytes{};
  StoreHeader(bytes, header);
  header.checksum.set(InternetChecksum(bytes));
  return header;
}

Result<void> FinishIpv4(MutableByteSpan packet) {
  auto header = LoadHeader<Ipv4Header>(packet);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->version() != kVersion) return Unexpected(Error::kBadVersion);
  if (header->ihl() < kMinimumIhl) return Unexpected(Error::kBadLength);
  if (packet.size() < header->header_size()) return Unexpected(Error::kTruncated);
  if (packet.size() > kMaximumSize) return Unexpected(Error::kOutOfRange);
  header->total_length.set(static_cast<uint16_t>(packet.size()));
  header->checksum.set(0);
  StoreHeader(packet, *header);
  header->checksum.set(InternetChecksum(packet.first(header->header_size())));
  StoreHeader(packet, *header);
  return {};
}

}  // namespace dove::net
