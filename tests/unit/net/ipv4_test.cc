// IPv4: packets made by scapy, every error path, the builders against the same bytes, and the
// RFC 1624 incremental checksum update that TTL decrement (and MSS clamping) rely on.
#include "net/ipv4.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "net/checksum.h"
#include "net/frame_builder.h"
#include "test_printers.h"

namespace dove::net {
namespace {

// scapy 2.5: bytes(IP(src="192.0.2.1", dst="198.51.100.2", ttl=64, id=0x1234, flags="DF") /
//                  UDP(sport=49152, dport=4789) / b"hello")
// Header checksum 0x3c61 (bytes 10-11), computed by scapy.
const std::vector<uint8_t> kUdpPacket = {0x45, 0x00, 0x00, 0x21, 0x12, 0x34, 0x40, 0x00, 0x40,
                                         0x11, 0x3c, 0x61, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33,
                                         0x64, 0x02, 0xc0, 0x00, 0x12, 0xb5, 0x00, 0x0d, 0xfd,
                                         0x14, 0x68, 0x65, 0x6c, 0x6c, 0x6f};

// scapy: bytes(IP(src="10.0.0.1", dst="224.0.0.22", ttl=1, id=0, proto=2,
//                 options=[IPOption_Router_Alert()]) / b"\x22\x00\xf9\x02\x00\x00\x00\x00")
// An IGMPv3 report's shape: IHL 6, the 4-byte Router Alert option 94 04 00 00; checksum 0x3ac1.
const std::vector<uint8_t> kPacketWithOptions = {
    0x46, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x3a, 0xc1, 0x0a, 0x00, 0x00, 0x01,
    0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xf9, 0x02, 0x00, 0x00, 0x00, 0x00};

// scapy: bytes(IP(src="192.0.2.1", dst="192.0.2.2", id=0xabcd, flags="MF", frag=185, proto=17)
//              / (b"\xaa" * 16)): a middle fragment at byte 1480; checksum 0x2a3f.
const std::vector<uint8_t> kMiddleFragment = {0x45, 0x00, 0x00, 0x24, 0xab, 0xcd, 0x20, 0xb9, 0x40,
                                              0x11, 0x2a, 0x3f, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00,
                                              0x02, 0x02, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                              0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};

TEST(Ipv4Test, ParsesScapyUdpPacket) {
  auto packet = ParseIpv4(kUdpPacket);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->header.version(), 4);
  EXPECT_EQ(packet->header.ihl(), 5);
  EXPECT_EQ(packet->header_size, 20u);
  EXPECT_EQ(packet->total_length(), 33);
  EXPECT_EQ(packet->header.identification.value(), 0x1234);
  EXPECT_EQ(packet->header.dscp(), 0);
  EXPECT_EQ(packet->header.ecn(), 0);
  EXPECT_TRUE(packet->header.dont_fragment());
  EXPECT_FALSE(packet->header.more_fragments());
  EXPECT_EQ(packet->header.fragment_offset(), 0);
  EXPECT_FALSE(packet->IsFragment());
  EXPECT_EQ(packet->ttl(), 64);
  EXPECT_EQ(packet->protocol(), ip_proto::kUdp);
  EXPECT_EQ(packet->header.checksum.value(), 0x3c61);
  EXPECT_EQ(packet->source(), *Ipv4Address::Parse("192.0.2.1"));
  EXPECT_EQ(packet->destination(), *Ipv4Address::Parse("198.51.100.2"));
  EXPECT_TRUE(packet->options.empty());
  EXPECT_EQ(packet->payload.data(), kUdpPacket.data() + 20);
  EXPECT_EQ(packet->payload.size(), 13u);
}

TEST(Ipv4Test, ExposesOptionsUninterpreted) {
  auto packet = ParseIpv4(kPacketWithOptions);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->header_size, 24u);
  ASSERT_EQ(packet->options.size(), 4u);
  EXPECT_EQ(packet->options.data(), kPacketWithOptions.data() + 20);
  EXPECT_EQ(packet->options[0], 0x94);
  EXPECT_EQ(packet->options[1], 0x04);
  EXPECT_EQ(packet->protocol(), ip_proto::kIgmp);
  EXPECT_EQ(packet->ttl(), 1);
  EXPECT_FALSE(packet->header.dont_fragment());
  ASSERT_EQ(packet->payload.size(), 8u);
  EXPECT_EQ(packet->payload[0], 0x22);
}

TEST(Ipv4Test, ReadsFragmentFields) {
  auto packet = ParseIpv4(kMiddleFragment);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_TRUE(packet->IsFragment());
  EXPECT_TRUE(packet->header.more_fragments());
  EXPECT_FALSE(packet->header.dont_fragment());
  EXPECT_EQ(packet->header.fragment_offset(), 1480);  // 185 units of 8 bytes
  EXPECT_EQ(packet->header.identification.value(), 0xabcd);
  EXPECT_EQ(packet->payload.size(), 16u);

  // The last fragment: MF clear, offset still set.
  auto last = kMiddleFragment;
  last[6] = 0x00;
  EXPECT_TRUE(ParseIpv4(last, /*verify_checksum=*/false)->IsFragment());
  // The first fragment: MF set, offset 0.
  auto first = kMiddleFragment;
  first[6] = 0x20;
  first[7] = 0x00;
  auto parsed_first = ParseIpv4(first, /*verify_checksum=*/false);
  EXPECT_TRUE(parsed_first->IsFragment());
  EXPECT_EQ(parsed_first->header.fragment_offset(), 0);
}

TEST(Ipv4Test, ExcludesEthernetPadding) {
  auto padded = kUdpPacket;
  padded.resize(46, 0xee);  // a 60-byte minimum Ethernet frame less its 14-byte header
  auto packet = ParseIpv4(padded);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->payload.size(), 13u);
  EXPECT_EQ(packet->payload.data() + packet->payload.size(), padded.data() + 33);
}

TEST(Ipv4Test, RefusesMalformedPackets) {
  struct Case {
    const char* description;
    void (*mutate)(std::vector<uint8_t>&);
    bool verify_checksum;
    Error error;
  };
  const Case cases[] = {
      {"empty", [](std::vector<uint8_t>& p) { p.clear(); }, false, Error::kTruncated},
      {"19 bytes", [](std::vector<uint8_t>& p) { p.resize(19); }, false, Error::kTruncated},
      {"version 6", [](std::vector<uint8_t>& p) { p[0] = 0x65; }, false, Error::kBadVersion},
      {"version 0", [](std::vector<uint8_t>& p) { p[0] = 0x05; }, false, Error::kBadVersion},
      {"version checked before length", [](std::vector<uint8_t>& p) { p[0] = 0x60; }, false,
       Error::kBadVersion},
      {"IHL 4", [](std::vector<uint8_t>& p) { p[0] = 0x44; }, false, Error::kBadLength},
      {"IHL 0", [](std::vector<uint8_t>& p) { p[0] = 0x40; }, false, Error::kBadLength},
      {"total length 19", [](std::vector<uint8_t>& p) { p[3] = 19; }, false, Error::kBadLength},
      {"total length 0", [](std::vector<uint8_t>& p) { p[2] = p[3] = 0; }, false,
       Error::kBadLength},
      {"total length below IHL 15", [](std::vector<uint8_t>& p) { p[0] = 0x4f; }, false,
       Error::kBadLength},
      {"options past the buffer",
       [](std::vector<uint8_t>& p) {
         p[0] = 0x4f;  // a 60-byte header ...
         p[3] = 64;    // ... in a 64-byte packet, but only 33 bytes are there
       },
       false, Error::kTruncated},
      {"one byte short of total length", [](std::vector<uint8_t>& p) { p.pop_back(); }, false,
       Error::kTruncated},
      {"total length 0xffff", [](std::vector<uint8_t>& p) { p[2] = p[3] = 0xff; }, false,
       Error::kTruncated},
      {"TTL changed, checksum not", [](std::vector<uint8_t>& p) { p[8] = 63; }, true,
       Error::kBadChecksum},
      {"checksum zeroed", [](std::vector<uint8_t>& p) { p[10] = p[11] = 0; }, true,
       Error::kBadChecksum},
      {"truncation checked before checksum",
       [](std::vector<uint8_t>& p) {
         p[8] = 63;
         p.pop_back();
       },
       true, Error::kTruncated},
  };
  for (const auto& c : cases) {
    auto packet = kUdpPacket;
    c.mutate(packet);
    auto parsed = ParseIpv4(packet, c.verify_checksum);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(Ipv4Test, ChecksumIsCheckedOnlyWhenAsked) {
  auto packet = kUdpPacket;
  packet[8] = 63;
  EXPECT_EQ(ParseIpv4(packet).error(), Error::kBadChecksum);
  auto parsed = ParseIpv4(packet, /*verify_checksum=*/false);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->ttl(), 63);
  // The checksum covers the options too.
  auto with_options = kPacketWithOptions;
  with_options[22] = 0x01;
  EXPECT_EQ(ParseIpv4(with_options).error(), Error::kBadChecksum);
}

TEST(Ipv4Test, MakeHeaderMatchesScapy) {
  auto header = MakeIpv4Header(*Ipv4Address::Parse("192.0.2.1"),
                               *Ipv4Address::Parse("198.51.100.2"), ip_proto::kUdp, 64, 13,
                               /*identification=*/0x1234, /*dont_fragment=*/true);
  ASSERT_TRUE(header);
  FrameBuilder builder;
  builder.Append(*header);
  EXPECT_EQ(builder.bytes(), std::vector<uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 20));
}

TEST(Ipv4Test, MakeHeaderSetsEveryField) {
  auto header = MakeIpv4Header(Ipv4Address::FromUint32(0x0a000001),
                               Ipv4Address::FromUint32(0x0a000002), ip_proto::kTcp, 7, 100,
                               /*identification=*/9, /*dont_fragment=*/false, /*dscp_ecn=*/0xb9);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->version(), 4);
  EXPECT_EQ(header->header_size(), 20u);
  EXPECT_EQ(header->total_length.value(), 120);
  EXPECT_EQ(header->dscp(), 46);  // Expedited Forwarding
  EXPECT_EQ(header->ecn(), 1);
  EXPECT_FALSE(header->dont_fragment());
  EXPECT_FALSE(header->IsFragment());
  EXPECT_EQ(header->identification.value(), 9);
  EXPECT_EQ(header->ttl, 7);
  EXPECT_EQ(header->protocol, ip_proto::kTcp);
  FrameBuilder builder;
  builder.Append(*header);
  EXPECT_EQ(InternetChecksum(builder.bytes()), 0);  // a header holding its checksum sums to 0
}

TEST(Ipv4Test, MakeHeaderRefusesOversizePayload) {
  const auto a = Ipv4Address::FromUint32(1);
  auto largest = MakeIpv4Header(a, a, ip_proto::kUdp, 64, 65515);
  ASSERT_TRUE(largest);
  EXPECT_EQ(largest->total_length.value(), 65535);
  auto too_large = MakeIpv4Header(a, a, ip_proto::kUdp, 64, 65516);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error(), Error::kOutOfRange);
}

TEST(Ipv4Test, FinishWritesLengthAndChecksumOverOptions) {
  auto packet = kPacketWithOptions;
  packet[2] = packet[3] = 0;    // total length
  packet[10] = packet[11] = 0;  // checksum
  ASSERT_TRUE(FinishIpv4(packet));
  EXPECT_EQ(packet, kPacketWithOptions);
}

TEST(Ipv4Test, BuildThenParse) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  FrameBuilder builder;
  // Made for a payload of 0, finished once the payload is in place.
  const size_t ip_at = builder.Append(*MakeIpv4Header(
      *Ipv4Address::Parse("10.0.0.1"), *Ipv4Address::Parse("10.0.0.2"), ip_proto::kUdp, 64, 0));
  builder.Append(payload);
  ASSERT_TRUE(FinishIpv4(builder.From(ip_at)));
  auto packet = ParseIpv4(builder.bytes());
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->total_length(), 25);
  EXPECT_EQ(std::vector<uint8_t>(packet->payload.begin(), packet->payload.end()), payload);
}

TEST(Ipv4Test, FinishRefusesWhatIsNotAPacket) {
  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    Error error;
  };
  auto header_only = std::vector<uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 20);
  auto version6 = header_only;
  version6[0] = 0x65;
  auto ihl4 = header_only;
  ihl4[0] = 0x44;
  auto ihl6 = header_only;
  ihl6[0] = 0x46;
  auto oversize = header_only;
  oversize.resize(65536);
  const std::vector<Case> cases = {
      {"19 bytes", std::vector<uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 19),
       Error::kTruncated},
      {"version 6", version6, Error::kBadVersion},
      {"IHL 4", ihl4, Error::kBadLength},
      {"IHL 6 in 20 bytes", ihl6, Error::kTruncated},
      {"65536 bytes", oversize, Error::kOutOfRange},
  };
  for (const auto& c : cases) {
    auto packet = c.packet;
    auto finished = FinishIpv4(packet);
    ASSERT_FALSE(finished) << c.description;
    EXPECT_EQ(finished.error(), c.error) << c.description;
    EXPECT_EQ(packet, c.packet) << c.description << ": nothing may be written on error";
  }
  auto largest = header_only;
  largest.resize(65535);
  ASSERT_TRUE(FinishIpv4(largest));
  EXPECT_EQ(ParseIpv4(largest)->total_length(), 65535);
}

TEST(ChecksumUpdateTest, Rfc1624Example) {
  // RFC 1624 section 4: m = 0x5555 becomes m' = 0x3285, the rest of the header sums to 0xcd7a.
  // HC = ~(0xcd7a + 0x5555) = 0xdd2f. Recomputation gives ~(0xcd7a + 0x3285) = ~0xffff = 0;
  // equation 2 would give 0xffff, equation 3 gives 0.
  EXPECT_EQ(ChecksumUpdate(0xdd2f, 0x5555, 0x3285), 0x0000);
  // And back again.
  EXPECT_EQ(ChecksumUpdate(0x0000, 0x3285, 0x5555), 0xdd2f);
}

TEST(ChecksumUpdateTest, TtlDecrementMatchesRecomputation) {
  // Decrementing the TTL of kUdpPacket: the word at bytes 8-9 is TTL << 8 | protocol.
  for (uint8_t ttl = 255; ttl > 0; --ttl) {
    auto packet = kUdpPacket;
    packet[8] = ttl;
    packet[10] = packet[11] = 0;
    const uint16_t before = InternetChecksum(std::span(packet).first(20));
    const uint16_t after = ChecksumUpdate(before, static_cast<uint16_t>(ttl << 8 | 0x11),
                                          static_cast<uint16_t>((ttl - 1) << 8 | 0x11));
    packet[8] = static_cast<uint8_t>(ttl - 1);
    EXPECT_EQ(after, InternetChecksum(std::span(packet).first(20))) << "ttl " << int{ttl};
  }
}

}  // namespace
}  // namespace dove::net
