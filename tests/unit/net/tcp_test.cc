// TCP: segments and checksums made by scapy over IPv4 and IPv6, every error path, the MSS option
// walker, and MSS rewriting checked against scapy's checksum of the rewritten segment.
#include "net/tcp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const Ipv4Address kSource4 = *Ipv4Address::Parse("10.1.1.1");
const Ipv4Address kDestination4 = *Ipv4Address::Parse("10.1.1.2");
const Ipv6Address kSource6 = *Ipv6Address::Parse("fe80::1");
const Ipv6Address kDestination6 = *Ipv6Address::Parse("fe80::2");

// The TCP part of scapy 2.5's bytes(IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000,
// dport=80, seq=0x01020304, flags="S", window=64240, options=[("MSS", 1460), ("SAckOK", b""),
// ("Timestamp", (12345, 0)), ("NOP", None), ("WScale", 7)])): a Linux-like SYN, checksum 0x663b.
// The same command with MSS 1410 gives checksum 0x666d.
const std::vector<uint8_t> kSyn = {0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
                                   0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x66, 0x3b, 0x00, 0x00,
                                   0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
                                   0x30, 0x39, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
constexpr uint16_t kSynChecksumWithMss1410 = 0x666d;

// scapy: TCP(sport=40000, dport=80, seq=1, flags="S", window=1000, options=[("NOP", None),
// ("MSS", 1460), ("NOP", None), ("NOP", None), ("NOP", None)]) over the same addresses: the MSS
// value sits at the odd offset 23. Checksum 0x1f53; with MSS 1410, 0x5153.
const std::vector<uint8_t> kSynOddMss = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                         0x00, 0x00, 0x70, 0x02, 0x03, 0xe8, 0x1f, 0x53, 0x00, 0x00,
                                         0x01, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01};
constexpr uint16_t kSynOddMssChecksumWithMss1410 = 0x5153;

// The TCP part of scapy's bytes(IPv6(src="fe80::1", dst="fe80::2") / TCP(sport=22, dport=50000,
// seq=1000, ack=2000, flags="PA", window=500) / b"SSH-2.0"): checksum 0xe3ff.
const std::vector<uint8_t> kData6 = {0x00, 0x16, 0xc3, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00,
                                     0x00, 0x07, 0xd0, 0x50, 0x18, 0x01, 0xf4, 0xe3, 0xff,
                                     0x00, 0x00, 0x53, 0x53, 0x48, 0x2d, 0x32, 0x2e, 0x30};

uint16_t StoredChecksum(const std::vector<uint8_t>& segment) {
  return static_cast<uint16_t>(segment[16] << 8 | segment[17]);
}

TEST(TcpTest, ParsesScapySyn) {
  auto segment = ParseTcp(kSyn);
  ASSERT_TRUE(segment) << ErrorName(segment.error());
  EXPECT_EQ(segment->source_port(), 40000);
  EXPECT_EQ(segment->destination_port(), 80);
  EXPECT_EQ(segment->header.sequence.value(), 0x01020304u);
  EXPECT_EQ(segment->header.acknowledgment.value(), 0u);
  EXPECT_EQ(segment->header.data_offset(), 10);
  EXPECT_EQ(segment->header_size, 40u);
  EXPECT_EQ(segment->flags(), tcp_flag::kSyn);
  EXPECT_TRUE(segment->HasFlags(tcp_flag::kSyn));
  EXPECT_FALSE(segment->HasFlags(tcp_flag::kSyn | tcp_flag::kAck));
  EXPECT_EQ(segment->header.window.value(), 64240);
  EXPECT_EQ(segment->header.checksum.value(), 0x663b);
  EXPECT_EQ(segment->header.urgent_pointer.value(), 0);
  EXPECT_EQ(segment->options.data(), kSyn.data() + 20);
  EXPECT_EQ(segment->options.size(), 20u);
  EXPECT_TRUE(segment->payload.empty());
  EXPECT_EQ(segment->payload.data(), kSyn.data() + 40);
}

TEST(TcpTest, ParsesScapySegmentWithData) {
  auto segment = ParseTcp(kData6, kSource6, kDestination6);
  ASSERT_TRUE(segment) << ErrorName(segment.error());
  EXPECT_EQ(segment->source_port(), 22);
  EXPECT_EQ(segment->destination_port(), 50000);
  EXPECT_EQ(segment->header.sequence.value(), 1000u);
  EXPECT_EQ(segment->header.acknowledgment.value(), 2000u);
  EXPECT_EQ(segment->flags(), tcp_flag::kPsh | tcp_flag::kAck);
  EXPECT_TRUE(segment->HasFlags(tcp_flag::kAck));
  EXPECT_FALSE(segment->HasFlags(tcp_flag::kFin));
  EXPECT_EQ(segment->header_size, 20u);
  EXPECT_TRUE(segment->options.empty());
  EXPECT_EQ(std::string(segment->payload.begin(), segment->payload.end()), "SSH-2.0");
}

TEST(TcpTest, ChecksumMatchesScapy) {
  EXPECT_EQ(TcpChecksum(kSource4, kDestination4, kSyn), 0x663b);
  EXPECT_EQ(TcpChecksum(kSource4, kDestination4, kSynOddMss), 0x1f53);
  EXPECT_EQ(TcpChecksum(kSource6, kDestination6, kData6), 0xe3ff);
  EXPECT_TRUE(ParseTcp(kSyn, kSource4, kDestination4));
  EXPECT_TRUE(ParseTcp(kSynOddMss, kSource4, kDestination4));
}

TEST(TcpTest, RefusesMalformedSegments) {
  enum class Verify { kNone, kV4, kV6 };
  struct Case {
    const char* description;
    std::vector<uint8_t> segment;
    void (*mutate)(std::vector<uint8_t>&);
    Verify verify;
    Error error;
  };
  const Case cases[] = {
      {"empty", kSyn, [](std::vector<uint8_t>& s) { s.clear(); }, Verify::kNone, Error::kTruncated},
      {"19 bytes", kSyn, [](std::vector<uint8_t>& s) { s.resize(19); }, Verify::kNone,
       Error::kTruncated},
      {"data offset 4", kSyn, [](std::vector<uint8_t>& s) { s[12] = 0x40; }, Verify::kNone,
       Error::kBadLength},
      {"data offset 0", kSyn, [](std::vector<uint8_t>& s) { s[12] = 0x00; }, Verify::kNone,
       Error::kBadLength},
      {"data offset 11 in 40 bytes", kSyn, [](std::vector<uint8_t>& s) { s[12] = 0xb0; },
       Verify::kNone, Error::kTruncated},
      {"options cut short", kSyn, [](std::vector<uint8_t>& s) { s.pop_back(); }, Verify::kNone,
       Error::kTruncated},
      {"data offset 15 in 27 bytes", kData6, [](std::vector<uint8_t>& s) { s[12] = 0xf0; },
       Verify::kNone, Error::kTruncated},
      {"length checked before checksum", kSyn, [](std::vector<uint8_t>& s) { s[12] = 0x40; },
       Verify::kV4, Error::kBadLength},
      {"IPv4: window changed", kSyn, [](std::vector<uint8_t>& s) { s[15] = 0xf1; }, Verify::kV4,
       Error::kBadChecksum},
      {"IPv4: MSS changed", kSyn, [](std::vector<uint8_t>& s) { s[23] = 0x82; }, Verify::kV4,
       Error::kBadChecksum},
      {"IPv4: checksum zero", kSyn, [](std::vector<uint8_t>& s) { s[16] = s[17] = 0; }, Verify::kV4,
       Error::kBadChecksum},
      {"IPv6: payload changed", kData6, [](std::vector<uint8_t>& s) { s[26] = '1'; }, Verify::kV6,
       Error::kBadChecksum},
      {"IPv6: byte appended", kData6, [](std::vector<uint8_t>& s) { s.push_back(0); }, Verify::kV6,
       Error::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto segment = c.segment;
    c.mutate(segment);
    auto parsed = c.verify == Verify::kNone ? ParseTcp(segment)
                  : c.verify == Verify::kV4 ? ParseTcp(segment, kSource4, kDestination4)
                                            : ParseTcp(segment, kSource6, kDestination6);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(TcpTest, FindsMss) {
  struct Case {
    const char* description;
    std::vector<uint8_t> options;
    std::optional<uint16_t> mss;
  };
  const std::vector<Case> cases = {
      {"scapy SYN options", std::vector<uint8_t>(kSyn.begin() + 20, kSyn.end()), 1460},
      {"after a NOP", Bytes({1, 2, 4, 0x05, 0x82, 1, 1, 1}), 1410},
      {"after window scale", Bytes({3, 3, 7, 2, 4, 0x23, 0x28, 0}), 9000},
      {"the first of two", Bytes({2, 4, 0x05, 0xb4, 2, 4, 0x05, 0x82}), 1460},
      {"no options", {}, std::nullopt},
      {"NOPs only", Bytes({1, 1, 1, 1}), std::nullopt},
      {"timestamps only", Bytes({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}), std::nullopt},
      {"after End of Option List", Bytes({0, 0, 0, 0, 2, 4, 0x05, 0xb4}), std::nullopt},
      {"garbage after End of Option List", Bytes({1, 0, 5, 0}), std::nullopt},
  };
  for (const auto& c : cases) {
    auto mss = FindMss(c.options);
    ASSERT_TRUE(mss) << c.description << ": " << ErrorName(mss.error());
    EXPECT_EQ(*mss, c.mss) << c.description;
  }
}

TEST(TcpTest, RefusesMalformedOptions) {
  struct Case {
    const char* description;
    std::vector<uint8_t> options;
  };
  const std::vector<Case> cases = {
      {"length 0", Bytes({5, 0, 0, 0})},
      {"length 1", Bytes({1, 1, 5, 1})},
      {"kind without a length byte", Bytes({1, 1, 1, 8})},
      {"option past the end", Bytes({8, 10, 0, 0, 0, 1, 0, 0})},
      {"MSS past the end", Bytes({1, 2, 4, 5})},
      {"MSS of length 3", Bytes({2, 3, 5, 0})},
      {"MSS of length 6", Bytes({2, 6, 0, 0, 5, 0xb4, 0, 0})},
      {"malformed before the MSS", Bytes({4, 1, 2, 4, 0x05, 0xb4, 0, 0})},
  };
  for (const auto& c : cases) {
    auto mss = FindMss(c.options);
    ASSERT_FALSE(mss) << c.description;
    EXPECT_EQ(mss.error(), Error::kBadField) << c.description;
  }
}

TEST(TcpTest, RewriteMssMatchesScapy) {
  struct Case {
    const char* description;
    std::vector<uint8_t> segment;
    size_t mss_at;  // offset of the MSS value
    uint16_t expected_checksum;
  };
  const Case cases[] = {
      {"MSS at an even offset", kSyn, 22, kSynChecksumWithMss1410},
      {"MSS at an odd offset", kSynOddMss, 23, kSynOddMssChecksumWithMss1410},
  };
  for (const auto& c : cases) {
    auto segment = c.segment;
    auto changed = RewriteMss(segment, 1410);
    ASSERT_TRUE(changed) << c.description << ": " << ErrorName(changed.error());
    EXPECT_TRUE(*changed) << c.description;
    // Exactly the bytes scapy wrote for MSS 1410: the value and the checksum differ, no other.
    auto expected = c.segment;
    expected[c.mss_at] = 0x05;
    expected[c.mss_at + 1] = 0x82;
    expected[16] = static_cast<uint8_t>(c.expected_checksum >> 8);
    expected[17] = static_cast<uint8_t>(c.expected_checksum);
    EXPECT_EQ(segment, expected) << c.description;
    auto parsed = ParseTcp(segment, kSource4, kDestination4);
    ASSERT_TRUE(parsed) << c.description;
    EXPECT_EQ(FindMss(parsed->options).value(), 1410) << c.description;
  }
}

TEST(TcpTest, IncrementalChecksumMatchesRecomputationForEveryMss) {
  // Every MSS value, at both parities: covers the sums that fold to 0xffff, where RFC 1624
  // equation 2 would go wrong.
  for (const auto* original : {&kSyn, &kSynOddMss}) {
    int mismatches = 0;
    auto segment = *original;
    for (uint32_t mss = 0; mss <= 0xffff; ++mss) {
      ASSERT_TRUE(RewriteMss(segment, static_cast<uint16_t>(mss)));
      if (TcpChecksum(kSource4, kDestination4, segment) != StoredChecksum(segment)) ++mismatches;
    }
    EXPECT_EQ(mismatches, 0);
  }
}

TEST(TcpTest, RewriteMssLeavesOtherSegmentsAlone) {
  struct Case {
    const char* description;
    std::vector<uint8_t> segment;
    uint16_t mss;
  };
  const Case cases[] = {
      {"already 1460", kSyn, 1460},
      {"no options", kData6, 1410},
  };
  for (const auto& c : cases) {
    auto segment = c.segment;
    auto changed = RewriteMss(segment, c.mss);
    ASSERT_TRUE(changed) << c.description << ": " << ErrorName(changed.error());
    EXPECT_FALSE(*changed) << c.description;
    EXPECT_EQ(segment, c.segment) << c.description;
  }
}

TEST(TcpTest, RewriteMssRefusesMalformedSegments) {
  auto short_header = kSyn;
  short_header.resize(39);
  auto bad_offset = kSyn;
  bad_offset[12] = 0x40;
  auto malformed_before_mss = kSynOddMss;
  malformed_before_mss[20] = 5;  // the NOP before the MSS becomes a SACK of length 1
  malformed_before_mss[21] = 1;
  struct Case {
    const char* description;
    std::vector<uint8_t> segment;
    Error error;
  };
  const std::vector<Case> cases = {
      {"19 bytes", std::vector<uint8_t>(kSyn.begin(), kSyn.begin() + 19), Error::kTruncated},
      {"options cut short", short_header, Error::kTruncated},
      {"data offset 4", bad_offset, Error::kBadLength},
      {"malformed option before the MSS", malformed_before_mss, Error::kBadField},
  };
  for (const auto& c : cases) {
    for (bool clamp : {false, true}) {
      auto segment = c.segment;
      auto changed = clamp ? ClampMss(segment, 1000) : RewriteMss(segment, 1000);
      ASSERT_FALSE(changed) << c.description;
      EXPECT_EQ(changed.error(), c.error) << c.description;
      EXPECT_EQ(segment, c.segment) << c.description << ": nothing may be written on error";
    }
  }
}

TEST(TcpTest, RewriteMssStopsAtTheMss) {
  // A malformed option after the MSS is never reached, as FindMss documents.
  auto segment = kSyn;
  segment[24] = 5;  // SACK-permitted (04 02) becomes a SACK of length 0
  segment[25] = 0;
  auto changed = RewriteMss(segment, 1000);
  ASSERT_TRUE(changed) << ErrorName(changed.error());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(segment[22], 0x03);  // 1000 = 0x03e8
  EXPECT_EQ(segment[23], 0xe8);
}

TEST(TcpTest, ClampMssOnlyLowers) {
  auto segment = kSyn;
  auto changed = ClampMss(segment, 1500);
  ASSERT_TRUE(changed);
  EXPECT_FALSE(*changed);
  EXPECT_EQ(segment, kSyn);

  changed = ClampMss(segment, 1460);
  ASSERT_TRUE(changed);
  EXPECT_FALSE(*changed);

  changed = ClampMss(segment, 1410);
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  EXPECT_EQ(StoredChecksum(segment), kSynChecksumWithMss1410);
  EXPECT_EQ(FindMss(ParseTcp(segment)->options).value(), 1410);
}

TEST(TcpTest, MakeAndFinishMatchScapy) {
  // The SYN: header with 20 bytes of room, the options, then the checksum.
  auto header = MakeTcpHeader(40000, 80, 0x01020304, 0, tcp_flag::kSyn, 64240, 20);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->header_size(), 40u);
  FrameBuilder builder;
  builder.Append(*header);
  builder.Append(ByteSpan(kSyn).subspan(20));
  auto syn = std::move(builder).Take();
  ASSERT_TRUE(FinishTcp(syn, kSource4, kDestination4));
  EXPECT_EQ(syn, kSyn);

  // The IPv6 data segment.
  header = MakeTcpHeader(22, 50000, 1000, 2000, tcp_flag::kPsh | tcp_flag::kAck, 500);
  ASSERT_TRUE(header);
  FrameBuilder data_builder;
  data_builder.Append(*header);
  data_builder.Append(ByteSpan(kData6).subspan(20));
  auto data = std::move(data_builder).Take();
  ASSERT_TRUE(FinishTcp(data, kSource6, kDestination6));
  EXPECT_EQ(data, kData6);
}

TEST(TcpTest, MakeHeaderRefusesOptionSizesTheFieldCannotHold) {
  EXPECT_EQ(MakeTcpHeader(1, 2, 0, 0, 0, 0, 40)->header_size(), 60u);
  for (size_t options_size : {2u, 6u, 41u, 44u}) {
    auto header = MakeTcpHeader(1, 2, 0, 0, 0, 0, options_size);
    ASSERT_FALSE(header) << options_size;
    EXPECT_EQ(header.error(), Error::kOutOfRange) << options_size;
  }
}

TEST(TcpTest, FinishRefusesWhatDoesNotFit) {
  struct Case {
    const char* description;
    std::vector<uint8_t> segment;
    Error error;
  };
  const std::vector<Case> cases = {
      {"19 bytes", std::vector<uint8_t>(19, 0x50), Error::kTruncated},
      {"65536 bytes", std::vector<uint8_t>(65536, 0x50), Error::kOutOfRange},
  };
  for (const auto& c : cases) {
    for (bool v6 : {false, true}) {
      auto segment = c.segment;
      auto finished = v6 ? FinishTcp(segment, kSource6, kDestination6)
                         : FinishTcp(segment, kSource4, kDestination4);
      ASSERT_FALSE(finished) << c.description;
      EXPECT_EQ(finished.error(), c.error) << c.description;
      EXPECT_EQ(segment, c.segment) << c.description << ": nothing may be written on error";
    }
  }
}

}  // namespace
}  // namespace dove::net
