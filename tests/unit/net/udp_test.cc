// UDP: datagrams and checksums made by scapy over IPv4 and IPv6, the zero-checksum rules of each,
// every error path, and the builders against the same bytes.
#include "net/udp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "net/frame_builder.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const Ipv4Address kSource4 = *Ipv4Address::Parse("192.0.2.1");
const Ipv4Address kDestination4 = *Ipv4Address::Parse("198.51.100.2");
const Ipv6Address kSource6 = *Ipv6Address::Parse("2001:db8::1");
const Ipv6Address kDestination6 = *Ipv6Address::Parse("2001:db8::2");

// The UDP part of scapy 2.5's bytes(IP(src="192.0.2.1", dst="198.51.100.2", ...) /
// UDP(sport=49152, dport=4789) / b"hello"): checksum 0xfd14, computed by scapy.
const std::vector<uint8_t> kDatagram4 = {0xc0, 0x00, 0x12, 0xb5, 0x00, 0x0d, 0xfd,
                                         0x14, 0x68, 0x65, 0x6c, 0x6c, 0x6f};

// The UDP part of scapy's bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") /
// UDP(sport=546, dport=547) / b"dhcpv6"): checksum 0x6209.
const std::vector<uint8_t> kDatagram6 = {0x02, 0x22, 0x02, 0x23, 0x00, 0x0e, 0x62,
                                         0x09, 0x64, 0x68, 0x63, 0x70, 0x76, 0x36};

// Datagrams whose computed checksum is 0, sent as 0xffff. Made with scapy: UDP(sport=1000,
// dport=2000) carrying the 2-byte word equal to the checksum of the same datagram carrying
// 0000, which makes the sum 0xffff. scapy wrote 0xffff in both.
// IPv4, 192.0.2.1 -> 192.0.2.2:
const std::vector<uint8_t> kZeroSum4 = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0xff, 0xff, 0x70, 0x1e};
// IPv6, 2001:db8::1 -> 2001:db8::2:
const std::vector<uint8_t> kZeroSum6 = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0xff, 0xff, 0x98, 0xad};
const Ipv4Address kZeroSumDestination4 = *Ipv4Address::Parse("192.0.2.2");

uint16_t Word(const std::vector<uint8_t>& bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

TEST(UdpTest, ParsesScapyDatagram) {
  auto datagram = ParseUdp(kDatagram4);
  ASSERT_TRUE(datagram) << ErrorName(datagram.error());
  EXPECT_EQ(datagram->source_port(), 49152);
  EXPECT_EQ(datagram->destination_port(), 4789);
  EXPECT_EQ(datagram->header.length.value(), 13);
  EXPECT_EQ(datagram->header.checksum.value(), 0xfd14);
  EXPECT_EQ(datagram->payload.data(), kDatagram4.data() + 8);
  EXPECT_EQ(std::string(datagram->payload.begin(), datagram->payload.end()), "hello");
}

TEST(UdpTest, ChecksumMatchesScapy) {
  EXPECT_EQ(UdpChecksum(kSource4, kDestination4, kDatagram4), 0xfd14);
  EXPECT_EQ(UdpChecksum(kSource6, kDestination6, kDatagram6), 0x6209);
  // Computed 0 is written 0xffff, over either family.
  EXPECT_EQ(UdpChecksum(kSource4, kZeroSumDestination4, kZeroSum4), 0xffff);
  EXPECT_EQ(UdpChecksum(kSource6, kDestination6, kZeroSum6), 0xffff);
}

TEST(UdpTest, ChecksumIgnoresTheFieldItFills) {
  auto zeroed = kDatagram4;
  zeroed[6] = 0x12;
  zeroed[7] = 0x34;
  EXPECT_EQ(UdpChecksum(kSource4, kDestination4, zeroed), 0xfd14);
}

TEST(UdpTest, VerifiesChecksums) {
  EXPECT_TRUE(ParseUdp(kDatagram4, kSource4, kDestination4));
  EXPECT_TRUE(ParseUdp(kDatagram6, kSource6, kDestination6));
  EXPECT_TRUE(ParseUdp(kZeroSum4, kSource4, kZeroSumDestination4));
  EXPECT_TRUE(ParseUdp(kZeroSum6, kSource6, kDestination6));
  // Trailing bytes past Length are neither payload nor summed.
  auto trailing = kDatagram4;
  trailing.push_back(0x99);
  auto parsed = ParseUdp(trailing, kSource4, kDestination4);
  ASSERT_TRUE(parsed) << ErrorName(parsed.error());
  EXPECT_EQ(parsed->payload.size(), 5u);
}

TEST(UdpTest, ZeroChecksumMeansNoneOverIpv4Only) {
  auto unchecked4 = kDatagram4;
  unchecked4[6] = unchecked4[7] = 0;
  unchecked4[8] = 'j';  // the data no longer matches 0xfd14; with "none" that goes unseen
  auto parsed = ParseUdp(unchecked4, kSource4, kDestination4);
  ASSERT_TRUE(parsed) << ErrorName(parsed.error());
  EXPECT_EQ(parsed->payload[0], 'j');

  auto unchecked6 = kDatagram6;
  unchecked6[6] = unchecked6[7] = 0;
  auto refused = ParseUdp(unchecked6, kSource6, kDestination6);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), Error::kBadChecksum);
  EXPECT_TRUE(ParseUdp(unchecked6));  // the overload that does not verify accepts it
}

TEST(UdpTest, RefusesMalformedDatagrams) {
  enum class Verify { kNone, kV4, kV6 };
  struct Case {
    const char* description;
    std::vector<uint8_t> datagram;
    void (*mutate)(std::vector<uint8_t>&);
    Verify verify;
    Error error;
  };
  const Case cases[] = {
      {"empty", kDatagram4, [](std::vector<uint8_t>& d) { d.clear(); }, Verify::kNone,
       Error::kTruncated},
      {"7 bytes", kDatagram4, [](std::vector<uint8_t>& d) { d.resize(7); }, Verify::kNone,
       Error::kTruncated},
      {"length 7", kDatagram4, [](std::vector<uint8_t>& d) { d[5] = 7; }, Verify::kNone,
       Error::kBadLength},
      {"length 0", kDatagram4, [](std::vector<uint8_t>& d) { d[5] = 0; }, Verify::kNone,
       Error::kBadLength},
      {"length one past the buffer", kDatagram4, [](std::vector<uint8_t>& d) { d[5] = 14; },
       Verify::kNone, Error::kTruncated},
      {"length 0xffff", kDatagram4, [](std::vector<uint8_t>& d) { d[4] = d[5] = 0xff; },
       Verify::kNone, Error::kTruncated},
      {"length checked before checksum", kDatagram4, [](std::vector<uint8_t>& d) { d[5] = 7; },
       Verify::kV4, Error::kBadLength},
      {"IPv4: payload changed", kDatagram4, [](std::vector<uint8_t>& d) { d[8] = 'j'; },
       Verify::kV4, Error::kBadChecksum},
      {"IPv4: port changed", kDatagram4, [](std::vector<uint8_t>& d) { d[3] = 0xb6; }, Verify::kV4,
       Error::kBadChecksum},
      {"IPv4: summed with the wrong length", kDatagram4,
       [](std::vector<uint8_t>& d) {
         d[5] = 12;  // the pseudo-header length and the summed bytes both shrink
       },
       Verify::kV4, Error::kBadChecksum},
      {"IPv6: payload changed", kDatagram6, [](std::vector<uint8_t>& d) { d[13] = '4'; },
       Verify::kV6, Error::kBadChecksum},
      {"IPv6: checksum 0xffff that is not zero", kDatagram6,
       [](std::vector<uint8_t>& d) { d[6] = d[7] = 0xff; }, Verify::kV6, Error::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto datagram = c.datagram;
    c.mutate(datagram);
    auto parsed = c.verify == Verify::kNone ? ParseUdp(datagram)
                  : c.verify == Verify::kV4 ? ParseUdp(datagram, kSource4, kDestination4)
                                            : ParseUdp(datagram, kSource6, kDestination6);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(UdpTest, MakeHeader) {
  auto header = MakeUdpHeader(49152, 4789, 5);
  ASSERT_TRUE(header);
  FrameBuilder builder;
  builder.Append(*header);
  EXPECT_EQ(builder.bytes(), std::vector<uint8_t>({0xc0, 0x00, 0x12, 0xb5, 0x00, 0x0d, 0, 0}));

  auto largest = MakeUdpHeader(1, 2, 65527);
  ASSERT_TRUE(largest);
  EXPECT_EQ(largest->length.value(), 65535);
  auto too_large = MakeUdpHeader(1, 2, 65528);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error(), Error::kOutOfRange);
}

TEST(UdpTest, FinishMatchesScapy) {
  struct Case {
    const char* description;
    std::vector<uint8_t> expected;
    bool v6;
  };
  const Case cases[] = {
      {"IPv4", kDatagram4, false},
      {"IPv6", kDatagram6, true},
      {"IPv4, computed zero", kZeroSum4, false},
      {"IPv6, computed zero", kZeroSum6, true},
  };
  for (const auto& c : cases) {
    // Built with the wrong length and no checksum, then finished.
    FrameBuilder builder;
    builder.Append(*MakeUdpHeader(Word(c.expected, 0), Word(c.expected, 2), 0));
    builder.Append(ByteSpan(c.expected).subspan(8));
    auto datagram = std::move(builder).Take();
    const Ipv4Address destination4 = c.expected == kZeroSum4 ? kZeroSumDestination4 : kDestination4;
    auto finished = c.v6 ? FinishUdp(datagram, kSource6, kDestination6)
                         : FinishUdp(datagram, kSource4, destination4);
    ASSERT_TRUE(finished) << c.description;
    EXPECT_EQ(datagram, c.expected) << c.description;
  }
}

TEST(UdpTest, FinishRefusesWhatDoesNotFit) {
  struct Case {
    const char* description;
    std::vector<uint8_t> datagram;
    Error error;
  };
  const std::vector<Case> cases = {
      {"7 bytes", std::vector<uint8_t>(7, 0xab), Error::kTruncated},
      {"65536 bytes", std::vector<uint8_t>(65536, 0xab), Error::kOutOfRange},
  };
  for (const auto& c : cases) {
    for (bool v6 : {false, true}) {
      auto datagram = c.datagram;
      auto finished = v6 ? FinishUdp(datagram, kSource6, kDestination6)
                         : FinishUdp(datagram, kSource4, kDestination4);
      ASSERT_FALSE(finished) << c.description;
      EXPECT_EQ(finished.error(), c.error) << c.description;
      EXPECT_EQ(datagram, c.datagram) << c.description << ": nothing may be written on error";
    }
  }
}

TEST(UdpTest, BuildThenParseLargest) {
  std::vector<uint8_t> datagram(65535, 0x5a);
  ASSERT_TRUE(FinishUdp(datagram, kSource6, kDestination6));
  auto parsed = ParseUdp(datagram, kSource6, kDestination6);
  ASSERT_TRUE(parsed) << ErrorName(parsed.error());
  EXPECT_EQ(parsed->payload.size(), 65527u);
}

}  // namespace
}  // namespace dove::net
