#include "dswitch/io/gso.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::io {

namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using Result = Expected<Frames, std::string>;

constexpr size_t kTcpChecksumAt = 16;  // offsetof(TcpHeader, checksum)
constexpr size_t kIpv4ChecksumAt = 10;
constexpr size_t kIpv4TotalLengthAt = 2;
constexpr size_t kIpv4IdAt = 4;
constexpr size_t kIpv6PayloadLengthAt = 4;
constexpr size_t kTcpSequenceAt = 4;
constexpr size_t kTcpFlagsAt = 13;

Result Refuse(std::string message) { return Unexpected(std::move(message)); }

void Put16(std::vector<uint8_t>& bytes, size_t at, uint16_t value) {
  bytes[at] = static_cast<uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<uint8_t>(value);
}

Result CompleteChecksum(const VirtioNetHeader& header, net::ByteSpan frame) {
  const size_t start = header.csum_start;
  const size_t field = start + header.csum_offset;
  if (start >= frame.size() || field + 2 > frame.size()) {
    return Refuse("the partial checksum's offsets lie outside the frame");
  }
  Frames out(1, std::vector<uint8_t>(frame.begin(), frame.end()));
  std::vector<uint8_t>& bytes = out.front();
  const uint16_t checksum = net::ChecksumFold(net::ChecksumAdd(frame.subspan(start)));
  Put16(bytes, field, checksum == 0 ? 0xffff : checksum);
  return out;
}

// Where the IP and TCP headers of a GSO frame are, and what the segments need from them.
struct TcpLayout {
  size_t ip_at = 0;        // after Ethernet (and its VLAN tag)
  size_t tcp_at = 0;       // after IP (options or extension headers included)
  size_t payload_at = 0;   // after TCP (options included)
  size_t payload_end = 0;  // where the IP packet ends (Ethernet padding excluded)
  bool ipv6 = false;
  net::Ipv4Address source4, destination4;
  net::Ipv6Address source6, destination6;
};

Expected<TcpLayout, std::string> FindTcp(const VirtioNetHeader& header, net::ByteSpan frame) {
  const auto ethernet = net::ParseEthernet(frame);
  if (!ethernet) return Unexpected(std::string("the GSO frame's Ethernet header does not parse"));
  TcpLayout layout;
  layout.ip_at = ethernet->header_size;
  layout.ipv6 = header.gso_kind() == VirtioNetHeader::kGsoTcpV6;
  net::ByteSpan ip_payload;
  if (!layout.ipv6) {
    if (ethernet->ether_type != net::ether_type::kIpv4) {
      return Unexpected(std::string("a TCPV4 GSO frame does not carry IPv4"));
    }
    const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
    if (!ip) return Unexpected(std::string("the GSO frame's IPv4 header does not parse"));
    if (ip->protocol() != net::ip_proto::kTcp || ip->IsFragment()) {
      return Unexpected(std::string("a TCPV4 GSO frame does not carry a whole TCP segment"));
    }
    layout.tcp_at = layout.ip_at + ip->header_size;
    layout.source4 = ip->source();
    layout.destination4 = ip->destination();
    ip_payload = ip->payload;
  } else {
    if (ethernet->ether_type != net::ether_type::kIpv6) {
      return Unexpected(std::string("a TCPV6 GSO frame does not carry IPv6"));
    }
    const auto ip = net::ParseIpv6(ethernet->payload);
    if (!ip) return Unexpected(std::string("the GSO frame's IPv6 header does not parse"));
    if (ip->upper_protocol != net::ip_proto::kTcp || ip->fragment) {
      return Unexpected(std::string("a TCPV6 GSO frame does not carry a whole TCP segment"));
    }
    layout.tcp_at = layout.ip_at + ip->header_size;
    layout.source6 = ip->source();
    layout.destination6 = ip->destination();
    ip_payload = ip->payload;
  }
  const auto tcp = net::ParseTcp(ip_payload);
  if (!tcp) return Unexpected(std::string("the GSO frame's TCP header does not parse"));
  layout.payload_at = layout.tcp_at + tcp->header_size;
  layout.payload_end = layout.tcp_at + ip_payload.size();
  if ((header.flags & VirtioNetHeader::kNeedsCsum) != 0 &&
      (header.csum_start != layout.tcp_at || header.csum_offset != kTcpChecksumAt)) {
    return Unexpected(std::string("the GSO frame's partial checksum is not the TCP checksum"));
  }
  return layout;
}

Result Segment(const VirtioNetHeader& header, net::ByteSpan frame) {
  if (header.gso_size < VirtioNetHeader::kMinGsoSize) {
    return Refuse("a GSO frame's gso_size is below " +
                  std::to_string(VirtioNetHeader::kMinGsoSize));
  }
  const auto found = FindTcp(header, frame);
  if (!found) return Refuse(found.error());
  const TcpLayout& layout = *found;
  const net::ByteSpan headers = frame.first(layout.payload_at);
  const net::ByteSpan payload =
      frame.subspan(layout.payload_at, layout.payload_end - layout.payload_at);
  const size_t mss = header.gso_size;
  const size_t count = payload.empty() ? 1 : (payload.size() + mss - 1) / mss;

  const uint16_t first_id =
      layout.ipv6 ? 0
                  : net::LoadHeader<net::Be16>(frame.subspan(layout.ip_at + kIpv4IdAt))->value();
  const uint32_t first_sequence =
      net::LoadHeader<net::Be32>(frame.subspan(layout.tcp_at + kTcpSequenceAt))->value();
  const uint8_t flags = frame[layout.tcp_at + kTcpFlagsAt];

  Frames out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t offset = i * mss;
    const size_t length = std::min(mss, payload.size() - offset);
    std::vector<uint8_t>& bytes = out.emplace_back(headers.size() + length);
    std::memcpy(bytes.data(), headers.data(), headers.size());
    if (length != 0) std::memcpy(bytes.data() + headers.size(), payload.data() + offset, length);

    uint8_t segment_flags = flags;
    if (i + 1 != count) {
      segment_flags &= static_cast<uint8_t>(~(net::tcp_flag::kFin | net::tcp_flag::kPsh));
    }
    if (i != 0) segment_flags &= static_cast<uint8_t>(~net::tcp_flag::kCwr);
    bytes[layout.tcp_at + kTcpFlagsAt] = segment_flags;
    net::StoreHeader(net::MutableByteSpan(bytes).subspan(layout.tcp_at + kTcpSequenceAt),
                     net::Be32::Of(first_sequence + static_cast<uint32_t>(offset)));

    const net::MutableByteSpan segment = net::MutableByteSpan(bytes).subspan(layout.tcp_at);
    if (!layout.ipv6) {
      const size_t ip_size = bytes.size() - layout.ip_at;
      Put16(bytes, layout.ip_at + kIpv4TotalLengthAt, static_cast<uint16_t>(ip_size));
      Put16(bytes, layout.ip_at + kIpv4IdAt, static_cast<uint16_t>(first_id + i));
      Put16(bytes, layout.ip_at + kIpv4ChecksumAt, 0);
      const size_t ip_header_size = layout.tcp_at - layout.ip_at;
      Put16(bytes, layout.ip_at + kIpv4ChecksumAt,
            net::InternetChecksum(net::ByteSpan(bytes).subspan(layout.ip_at, ip_header_size)));
      Put16(bytes, layout.tcp_at + kTcpChecksumAt,
            net::TcpChecksum(layout.source4, layout.destination4, segment));
    } else {
      const size_t payload_length = bytes.size() - layout.ip_at - sizeof(net::Ipv6Header);
      Put16(bytes, layout.ip_at + kIpv6PayloadLengthAt, static_cast<uint16_t>(payload_length));
      Put16(bytes, layout.tcp_at + kTcpChecksumAt,
            net::TcpChecksum(layout.source6, layout.destination6, segment));
    }
  }
  return out;
}

}  // namespace

Result ApplyVirtioHeader(const VirtioNetHeader& header, net::ByteSpan frame) {
  switch (header.gso_kind()) {
    case VirtioNetHeader::kGsoNone:
      if ((header.flags & VirtioNetHeader::kNeedsCsum) != 0) {
        return CompleteChecksum(header, frame);
      }
      return Frames(1, std::vector<uint8_t>(frame.begin(), frame.end()));
    case VirtioNetHeader::kGsoTcpV4:
    case VirtioNetHeader::kGsoTcpV6:
      return Segment(header, frame);
    case VirtioNetHeader::kGsoUdp:
    case VirtioNetHeader::kGsoUdpL4:
      return Refuse("UDP segmentation offload is not supported");
    default:
      return Refuse("the GSO type is unknown");
  }
}

}  // namespace dove::dswitch::io
