// ApplyVirtioHeader: partial checksums completed the Linux way (checked by src/net's verifying
// parsers), TCP super-frames cut into segments a receiver would accept one by one and whose
// payloads add up to the original, and a table of every refusal.
#include "dswitch/io/gso.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"
#include "net/udp.h"

namespace dove::dswitch::io {
namespace {

const net::MacAddress kVmMac = *net::MacAddress::Parse("52:54:00:00:00:01");
const net::MacAddress kPeerMac = *net::MacAddress::Parse("52:54:00:00:00:02");
const net::Ipv4Address kSource4 = *net::Ipv4Address::Parse("10.0.0.1");
const net::Ipv4Address kDestination4 = *net::Ipv4Address::Parse("10.0.0.2");
const net::Ipv6Address kSource6 = *net::Ipv6Address::Parse("2001:db8::1");
const net::Ipv6Address kDestination6 = *net::Ipv6Address::Parse("2001:db8::2");

constexpr size_t kTcp4At = 14 + 20;
constexpr size_t kTcp6At = 14 + 40;
constexpr uint32_t kSequence = 0xfffff000;  // wraps during the segments: seq arithmetic is mod 2^32
constexpr uint16_t kIpId = 0x1234;
constexpr uint16_t kMss = 1000;
// NOP, NOP, timestamp: options every segment must carry.
const std::vector<uint8_t> kTcpOptions = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

std::vector<uint8_t> Pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 251);
  return bytes;
}

void Put16(std::vector<uint8_t>& bytes, size_t at, uint16_t value) {
  bytes[at] = static_cast<uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<uint8_t>(value);
}

// The folded, uncomplemented pseudo-header sum: what Linux leaves in the checksum field of a
// CHECKSUM_PARTIAL packet (~tcp_v4_check(len, saddr, daddr, 0)).
uint16_t PartialSum(uint64_t pseudo_header_sum) {
  return static_cast<uint16_t>(~net::ChecksumFold(pseudo_header_sum));
}

// An Ethernet/IPv4/TCP frame as a sender with checksum offload leaves it: IPv4 header complete,
// TCP checksum field holding the pseudo-header sum.
std::vector<uint8_t> Tcp4Frame(const std::vector<uint8_t>& payload, uint8_t flags) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac, net::ether_type::kIpv4));
  const size_t tcp_size = 20 + kTcpOptions.size() + payload.size();
  b.Append(*net::MakeIpv4Header(kSource4, kDestination4, net::ip_proto::kTcp, 64, tcp_size, kIpId));
  b.Append(*net::MakeTcpHeader(40000, 80, kSequence, 77, flags, 512, kTcpOptions.size()));
  b.Append(net::ByteSpan(kTcpOptions));
  b.Append(net::ByteSpan(payload));
  auto bytes = std::move(b).Take();
  Put16(bytes, kTcp4At + 16,
        PartialSum(net::PseudoHeaderSum(kSource4, kDestination4, net::ip_proto::kTcp,
                                        static_cast<uint16_t>(tcp_size))));
  return bytes;
}

std::vector<uint8_t> Tcp6Frame(const std::vector<uint8_t>& payload, uint8_t flags) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac, net::ether_type::kIpv6));
  const size_t tcp_size = 20 + kTcpOptions.size() + payload.size();
  b.Append(*net::MakeIpv6Header(kSource6, kDestination6, net::ip_proto::kTcp, 64, tcp_size));
  b.Append(*net::MakeTcpHeader(40000, 80, kSequence, 77, flags, 512, kTcpOptions.size()));
  b.Append(net::ByteSpan(kTcpOptions));
  b.Append(net::ByteSpan(payload));
  auto bytes = std::move(b).Take();
  Put16(bytes, kTcp6At + 16,
        PartialSum(net::PseudoHeaderSum(kSource6, kDestination6, net::ip_proto::kTcp,
                                        static_cast<uint32_t>(tcp_size))));
  return bytes;
}

// An Ethernet/IPv4/UDP frame with its checksum left partial.
std::vector<uint8_t> PartialUdp4Frame(size_t payload_size) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac, net::ether_type::kIpv4));
  b.Append(
      *net::MakeIpv4Header(kSource4, kDestination4, net::ip_proto::kUdp, 64, 8 + payload_size));
  b.Append(*net::MakeUdpHeader(5000, 53, payload_size));
  b.Append(net::ByteSpan(Pattern(payload_size)));
  auto bytes = std::move(b).Take();
  Put16(bytes, kTcp4At + 6,
        PartialSum(net::PseudoHeaderSum(kSource4, kDestination4, net::ip_proto::kUdp,
                                        static_cast<uint16_t>(8 + payload_size))));
  return bytes;
}

VirtioNetHeader Gso(uint8_t type, uint16_t csum_start, uint16_t mss = kMss) {
  return VirtioNetHeader{.flags = VirtioNetHeader::kNeedsCsum,
                         .gso_type = type,
                         .hdr_len = static_cast<uint16_t>(csum_start + 32),
                         .gso_size = mss,
                         .csum_start = csum_start,
                         .csum_offset = 16};
}

TEST(ApplyVirtioHeaderTest, LeavesAFrameWithoutOffloadAlone) {
  const auto frame = PartialUdp4Frame(10);
  for (const uint8_t flags : {uint8_t{0}, VirtioNetHeader::kDataValid}) {
    const auto out = ApplyVirtioHeader(VirtioNetHeader{.flags = flags}, frame);
    ASSERT_TRUE(out) << out.error();
    ASSERT_EQ(out->size(), 1u);
    EXPECT_EQ(out->front(), frame);
  }
}

TEST(ApplyVirtioHeaderTest, CompletesAPartialUdpChecksum) {
  for (const size_t payload_size : {0u, 1u, 17u, 1400u}) {
    SCOPED_TRACE(payload_size);
    const auto frame = PartialUdp4Frame(payload_size);
    // The frame as it stands does not verify: its checksum is only the pseudo-header's.
    EXPECT_FALSE(net::ParseUdp(net::ByteSpan(frame).subspan(kTcp4At), kSource4, kDestination4));
    const auto out = ApplyVirtioHeader(
        {.flags = VirtioNetHeader::kNeedsCsum, .csum_start = kTcp4At, .csum_offset = 6}, frame);
    ASSERT_TRUE(out) << out.error();
    ASSERT_EQ(out->size(), 1u);
    const auto& done = out->front();
    ASSERT_EQ(done.size(), frame.size());
    const auto ip = net::ParseIpv4(net::ByteSpan(done).subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_TRUE(net::ParseUdp(ip->payload, kSource4, kDestination4));
    // The same value a sender computing the checksum itself would have written.
    const uint16_t stored = static_cast<uint16_t>(done[kTcp4At + 6] << 8 | done[kTcp4At + 7]);
    EXPECT_EQ(stored, net::UdpChecksum(kSource4, kDestination4, ip->payload));
    // Nothing else changed.
    for (size_t i = 0; i < frame.size(); ++i) {
      if (i != kTcp4At + 6 && i != kTcp4At + 7) {
        ASSERT_EQ(done[i], frame[i]) << i;
      }
    }
  }
}

TEST(ApplyVirtioHeaderTest, CompletesAPartialTcpChecksum) {
  const auto frame = Tcp4Frame(Pattern(333), net::tcp_flag::kAck | net::tcp_flag::kPsh);
  const auto out = ApplyVirtioHeader(
      {.flags = VirtioNetHeader::kNeedsCsum, .csum_start = kTcp4At, .csum_offset = 16}, frame);
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->size(), 1u);
  const auto ip = net::ParseIpv4(net::ByteSpan(out->front()).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_TRUE(net::ParseTcp(ip->payload, kSource4, kDestination4));
}

// What every segment of a TCP super-frame must satisfy, IPv4 and IPv6 alike.
struct Wanted {
  size_t segments;
  size_t payload_size;
  uint8_t flags;  // of the super-frame
};

template <typename ParseIp>
void CheckSegments(const std::vector<std::vector<uint8_t>>& segments, const Wanted& expected,
                   const std::vector<uint8_t>& payload, ParseIp parse_ip) {
  ASSERT_EQ(segments.size(), expected.segments);
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < segments.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    const bool first = i == 0;
    const bool last = i + 1 == segments.size();
    const auto ethernet = net::ParseEthernet(segments[i]);
    ASSERT_TRUE(ethernet);
    EXPECT_EQ(ethernet->source, kVmMac);
    const net::ByteSpan tcp_bytes = parse_ip(ethernet->payload, i);
    const size_t expected_payload = last ? expected.payload_size - i * kMss : kMss;
    ASSERT_EQ(tcp_bytes.size(), 20 + kTcpOptions.size() + expected_payload);
    const auto tcp = net::ParseTcp(tcp_bytes);
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->header.sequence.value(), static_cast<uint32_t>(kSequence + i * kMss));
    EXPECT_EQ(tcp->header.acknowledgment.value(), 77u);
    EXPECT_EQ(std::vector<uint8_t>(tcp->options.begin(), tcp->options.end()), kTcpOptions);
    EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kFin), last && (expected.flags & net::tcp_flag::kFin));
    EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kPsh), last && (expected.flags & net::tcp_flag::kPsh));
    EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kCwr), first && (expected.flags & net::tcp_flag::kCwr));
    EXPECT_TRUE(tcp->HasFlags(net::tcp_flag::kAck));
    EXPECT_TRUE(tcp->HasFlags(net::tcp_flag::kEce));
    joined.insert(joined.end(), tcp->payload.begin(), tcp->payload.end());
  }
  EXPECT_EQ(joined, payload);
}

constexpr uint8_t kAllFlags = net::tcp_flag::kAck | net::tcp_flag::kPsh | net::tcp_flag::kFin |
                              net::tcp_flag::kCwr | net::tcp_flag::kEce;

TEST(ApplyVirtioHeaderTest, SegmentsATcpV4SuperFrame) {
  const auto payload = Pattern(3 * kMss + 100);
  const auto out =
      ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At), Tcp4Frame(payload, kAllFlags));
  ASSERT_TRUE(out) << out.error();
  CheckSegments(*out, {.segments = 4, .payload_size = payload.size(), .flags = kAllFlags}, payload,
                [](net::ByteSpan packet, size_t i) -> net::ByteSpan {
                  const auto ip = net::ParseIpv4(packet, /*verify_checksum=*/true);
                  EXPECT_TRUE(ip);
                  if (!ip) return {};
                  EXPECT_EQ(ip->header.identification.value(), kIpId + i);
                  EXPECT_EQ(ip->total_length(), packet.size());
                  EXPECT_TRUE(ip->header.dont_fragment());
                  EXPECT_TRUE(net::ParseTcp(ip->payload, kSource4, kDestination4));
                  return ip->payload;
                });
}

TEST(ApplyVirtioHeaderTest, SegmentsATcpV6SuperFrame) {
  const auto payload = Pattern(3 * kMss + 100);
  const auto out =
      ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV6 | VirtioNetHeader::kGsoEcn, kTcp6At),
                        Tcp6Frame(payload, kAllFlags));
  ASSERT_TRUE(out) << out.error();
  CheckSegments(*out, {.segments = 4, .payload_size = payload.size(), .flags = kAllFlags}, payload,
                [](net::ByteSpan packet, size_t) -> net::ByteSpan {
                  const auto ip = net::ParseIpv6(packet);
                  EXPECT_TRUE(ip);
                  if (!ip) return {};
                  EXPECT_EQ(ip->header.payload_length.value(), packet.size() - 40);
                  EXPECT_TRUE(net::ParseTcp(ip->payload, kSource6, kDestination6));
                  return ip->payload;
                });
}

TEST(ApplyVirtioHeaderTest, AnExactMultipleOfTheMssLeavesNoEmptySegment) {
  const auto payload = Pattern(2 * kMss);
  const auto out = ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At),
                                     Tcp4Frame(payload, net::tcp_flag::kAck | net::tcp_flag::kEce));
  ASSERT_TRUE(out) << out.error();
  CheckSegments(*out,
                {.segments = 2,
                 .payload_size = payload.size(),
                 .flags = net::tcp_flag::kAck | net::tcp_flag::kEce},
                payload, [](net::ByteSpan packet, size_t) -> net::ByteSpan {
                  const auto ip = net::ParseIpv4(packet);
                  EXPECT_TRUE(ip);
                  return ip ? ip->payload : net::ByteSpan();
                });
}

TEST(ApplyVirtioHeaderTest, AShortSuperFrameBecomesOneValidSegment) {
  const auto payload = Pattern(kMss / 2);
  const auto out =
      ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At), Tcp4Frame(payload, kAllFlags));
  ASSERT_TRUE(out) << out.error();
  CheckSegments(*out, {.segments = 1, .payload_size = payload.size(), .flags = kAllFlags}, payload,
                [](net::ByteSpan packet, size_t) -> net::ByteSpan {
                  const auto ip = net::ParseIpv4(packet);
                  EXPECT_TRUE(ip);
                  if (!ip) return {};
                  EXPECT_TRUE(net::ParseTcp(ip->payload, kSource4, kDestination4));
                  return ip->payload;
                });
}

TEST(ApplyVirtioHeaderTest, EthernetPaddingIsNotPayload) {
  const auto payload = Pattern(3);
  auto frame = Tcp4Frame(payload, net::tcp_flag::kAck);
  frame.resize(frame.size() + 5, 0xee);  // padding after the IP packet
  const auto out = ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At), frame);
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(out->front().size(), frame.size() - 5);
}

struct Refusal {
  const char* description;
  VirtioNetHeader header;
  std::vector<uint8_t> frame;
};

TEST(ApplyVirtioHeaderTest, Refuses) {
  const auto tcp4 = Tcp4Frame(Pattern(3 * kMss), net::tcp_flag::kAck);
  const auto tcp6 = Tcp6Frame(Pattern(3 * kMss), net::tcp_flag::kAck);
  const auto udp = PartialUdp4Frame(100);
  auto no_csum = Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At);
  no_csum.flags = 0;
  auto wrong_offset = Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At);
  wrong_offset.csum_offset = 6;
  const uint16_t size = static_cast<uint16_t>(udp.size());
  const std::vector<Refusal> cases = {
      {"gso_size 0", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At, 0), tcp4},
      {"gso_size 47, below any MSS Linux sends", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At, 47),
       tcp4},
      {"csum_start at the end of the frame",
       {.flags = VirtioNetHeader::kNeedsCsum, .csum_start = size, .csum_offset = 0},
       udp},
      {"csum_start far beyond the frame",
       {.flags = VirtioNetHeader::kNeedsCsum, .csum_start = 0xffff, .csum_offset = 6},
       udp},
      {"checksum field runs past the end",
       {.flags = VirtioNetHeader::kNeedsCsum,
        .csum_start = kTcp4At,
        .csum_offset = static_cast<uint16_t>(size - kTcp4At - 1)},
       udp},
      {"checksum field offset overflows 16 bits",
       {.flags = VirtioNetHeader::kNeedsCsum, .csum_start = 0xfff0, .csum_offset = 0xfff0},
       udp},
      {"UDP GSO (UFO)", Gso(VirtioNetHeader::kGsoUdp, kTcp4At), udp},
      {"UDP GSO (USO)", Gso(VirtioNetHeader::kGsoUdpL4, kTcp4At), udp},
      {"unknown GSO type 2", Gso(2, kTcp4At), tcp4},
      {"unknown GSO type 0x7f", Gso(0x7f, kTcp4At), tcp4},
      {"TCPV4 over an IPv6 frame", Gso(VirtioNetHeader::kGsoTcpV4, kTcp6At), tcp6},
      {"TCPV6 over an IPv4 frame", Gso(VirtioNetHeader::kGsoTcpV6, kTcp4At), tcp4},
      {"TCPV4 over UDP", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At), udp},
      {"NEEDS_CSUM not at the TCP checksum", wrong_offset, tcp4},
      {"truncated Ethernet", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At),
       std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + 10)},
      {"truncated IPv4 header", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At),
       std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + 30)},
      {"IPv4 total length beyond the frame", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At),
       std::vector<uint8_t>(tcp4.begin(), tcp4.end() - 1)},
      {"truncated TCP header", Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At),
       [&] {
         auto cut = std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + kTcp4At + 10);
         Put16(cut, 14 + 2, 30);  // an IPv4 total length that agrees with the cut
         return cut;
       }()},
      {"truncated IPv6 header", Gso(VirtioNetHeader::kGsoTcpV6, kTcp6At),
       std::vector<uint8_t>(tcp6.begin(), tcp6.begin() + 40)},
  };
  // A GSO frame without NEEDS_CSUM is accepted: the checksum is computed in full anyway.
  EXPECT_TRUE(ApplyVirtioHeader(no_csum, tcp4));
  // The smallest gso_size accepted: 3000 bytes of payload in 63 segments.
  const auto smallest = ApplyVirtioHeader(Gso(VirtioNetHeader::kGsoTcpV4, kTcp4At, 48), tcp4);
  ASSERT_TRUE(smallest);
  EXPECT_EQ(smallest->size(), 63u);
  for (const Refusal& refusal : cases) {
    const auto out = ApplyVirtioHeader(refusal.header, refusal.frame);
    EXPECT_FALSE(out) << refusal.description;
    if (!out) {
      EXPECT_FALSE(out.error().empty()) << refusal.description;
    }
  }
}

}  // namespace
}  // namespace dove::dswitch::io
