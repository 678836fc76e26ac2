// ICMPv4: scapy-made messages parsed and rebuilt byte for byte, and every error path.
#include "net/icmpv4.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

// bytes(ICMP(type=8, id=0x1234, seq=1)/b"dove")   (scapy 2.5.0)
const std::vector<uint8_t> kScapyEchoRequest =
    Bytes({0x08, 0x00, 0x0a, 0xf6, 0x12, 0x34, 0x00, 0x01, 0x64, 0x6f, 0x76, 0x65});

// bytes(IP(src="10.0.0.1", dst="10.0.0.2", flags="DF", id=7)/UDP(sport=1234, dport=4789)
//       /b"0123456789")   (scapy 2.5.0): the packet a router could not forward unfragmented.
const std::vector<uint8_t> kScapyOffendingUdp =
    Bytes({0x45, 0x00, 0x00, 0x26, 0x00, 0x07, 0x40, 0x00, 0x40, 0x11, 0x26, 0xbe, 0x0a,
           0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x12, 0xb5, 0x00, 0x12,
           0xcf, 0x36, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39});

// bytes(ICMP(type=3, code=4, nexthopmtu=1450)/Raw(offending[:28])) with `offending` the packet
// above   (scapy 2.5.0)
const std::vector<uint8_t> kScapyFragmentationNeeded =
    Bytes({0x03, 0x04, 0x10, 0x82, 0x00, 0x00, 0x05, 0xaa, 0x45, 0x00, 0x00, 0x26,
           0x00, 0x07, 0x40, 0x00, 0x40, 0x11, 0x26, 0xbe, 0x0a, 0x00, 0x00, 0x01,
           0x0a, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x12, 0xb5, 0x00, 0x12, 0xcf, 0x36});

TEST(Icmpv4Test, ParsesScapyEchoRequest) {
  auto parsed = ParseIcmpv4(kScapyEchoRequest);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv4::kEchoRequest);
  EXPECT_EQ(parsed->code(), 0);
  EXPECT_EQ(parsed->header.checksum.value(), 0x0af6);
  EXPECT_EQ(parsed->identifier(), 0x1234);
  EXPECT_EQ(parsed->sequence(), 1);
  EXPECT_EQ(ToVector(parsed->body), Text("dove"));
  EXPECT_EQ(parsed->body.data(), kScapyEchoRequest.data() + 8);  // a view, not a copy
}

TEST(Icmpv4Test, BuildsScapyEchoRequest) {
  FrameBuilder builder;
  const size_t at = builder.Append(MakeIcmpv4EchoHeader(icmpv4::kEchoRequest, 0x1234, 1));
  builder.Append(Text("dove"));
  FinishIcmpv4(builder.From(at));
  EXPECT_EQ(builder.bytes(), kScapyEchoRequest);
}

TEST(Icmpv4Test, ParsesScapyFragmentationNeeded) {
  auto parsed = ParseIcmpv4(kScapyFragmentationNeeded);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv4::kDestinationUnreachable);
  EXPECT_EQ(parsed->code(), icmpv4::kFragmentationNeeded);
  EXPECT_EQ(parsed->next_hop_mtu(), 1450);
  EXPECT_EQ(ToVector(parsed->body),
            std::vector<uint8_t>(kScapyOffendingUdp.begin(), kScapyOffendingUdp.begin() + 28));
}

TEST(Icmpv4Test, BuildsScapyFragmentationNeeded) {
  FrameBuilder builder;
  builder.AppendZeros(3);  // the message need not start at offset 0 (nor at an even one)
  const size_t at = AppendIcmpv4Error(builder, icmpv4::kDestinationUnreachable,
                                      icmpv4::kFragmentationNeeded, 1450, kScapyOffendingUdp);
  EXPECT_EQ(at, 3u);
  EXPECT_EQ(ToVector(builder.From(at)), kScapyFragmentationNeeded);
}

TEST(Icmpv4Test, BuildsScapyTimeExceeded) {
  // bytes(ICMP(type=11, code=0)/Raw(bytes(IP(src="10.0.0.1", dst="10.0.0.2", ttl=1)
  //       /ICMP(type=8, id=1, seq=2))[:28]))   (scapy 2.5.0)
  const auto scapy =
      Bytes({0x0b, 0x00, 0xf4, 0xff, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1c,
             0x00, 0x01, 0x00, 0x00, 0x01, 0x01, 0xa5, 0xde, 0x0a, 0x00, 0x00, 0x01,
             0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0xf7, 0xfc, 0x00, 0x01, 0x00, 0x02});
  const std::vector<uint8_t> offending(scapy.begin() + 8, scapy.end());
  FrameBuilder builder;
  AppendIcmpv4Error(builder, icmpv4::kTimeExceeded, icmpv4::kTtlExceeded, 0, offending);
  EXPECT_EQ(builder.bytes(), scapy);
  auto parsed = ParseIcmpv4(scapy);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv4::kTimeExceeded);
  EXPECT_EQ(parsed->header.rest.value(), 0u);
}

TEST(Icmpv4Test, OddLengthRoundTrip) {
  FrameBuilder builder;
  builder.Append(MakeIcmpv4EchoHeader(icmpv4::kEchoReply, 0xbeef, 0xfffe));
  builder.Append(Text("odd"));
  FinishIcmpv4(builder.From(0));
  auto parsed = ParseIcmpv4(builder.bytes());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv4::kEchoReply);
  EXPECT_EQ(parsed->identifier(), 0xbeef);
  EXPECT_EQ(parsed->sequence(), 0xfffe);
  EXPECT_EQ(ToVector(parsed->body), Text("odd"));
}

TEST(Icmpv4Test, FinishRewritesAStaleChecksum) {
  auto message = kScapyEchoRequest;
  message[2] = 0x55;
  message[3] = 0xaa;
  FinishIcmpv4(message);
  EXPECT_EQ(message, kScapyEchoRequest);
}

TEST(Icmpv4Test, FinishLeavesShortSpansAlone) {
  auto message = Bytes({8, 0, 0, 0, 1, 2, 3});
  const auto before = message;
  FinishIcmpv4(message);
  EXPECT_EQ(message, before);
}

TEST(Icmpv4Test, RefusesMalformedMessages) {
  struct Case {
    const char* description;
    std::vector<uint8_t> message;
    bool verify_checksum;
    Error error;
  };
  auto flipped = kScapyEchoRequest;
  flipped.back() ^= 0x01;
  auto zero_checksum = kScapyEchoRequest;
  zero_checksum[2] = zero_checksum[3] = 0;
  auto all_zero = Bytes({0, 0, 0, 0, 0, 0, 0, 0});
  const std::vector<Case> cases = {
      {"empty", {}, true, Error::kTruncated},
      {"empty, not verifying", {}, false, Error::kTruncated},
      {"7 bytes", Bytes({8, 0, 0xf7, 0xff, 0, 0, 0}), false, Error::kTruncated},
      {"one body bit flipped", flipped, true, Error::kBadChecksum},
      {"checksum field zeroed", zero_checksum, true, Error::kBadChecksum},
      // All zeros sum to 0, whose complement ffff is the checksum; 0 in the field is wrong.
      {"all zeros", all_zero, true, Error::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto parsed = ParseIcmpv4(c.message, c.verify_checksum);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(Icmpv4Test, SkipsVerificationWhenAsked) {
  auto flipped = kScapyEchoRequest;
  flipped.back() ^= 0x01;
  auto parsed = ParseIcmpv4(flipped, /*verify_checksum=*/false);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->identifier(), 0x1234);
  EXPECT_EQ(parsed->body.size(), 4u);
}

TEST(Icmpv4Test, AcceptsUnknownTypesAndEmptyBodies) {
  auto message = Bytes({42, 7, 0, 0, 0, 0, 0, 0});
  FinishIcmpv4(message);
  auto parsed = ParseIcmpv4(message);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), 42);
  EXPECT_EQ(parsed->code(), 7);
  EXPECT_TRUE(parsed->body.empty());
}

TEST(Icmpv4Test, ErrorQuoteLength) {
  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    size_t expected;
  };
  std::vector<uint8_t> options_packet(100, 0);
  options_packet[0] = 0x46;  // IHL 6: one option word
  std::vector<uint8_t> max_ihl_packet(100, 0);
  max_ihl_packet[0] = 0x4f;
  std::vector<uint8_t> header_only(20, 0);
  header_only[0] = 0x45;
  const std::vector<Case> cases = {
      {"empty", {}, 0},
      {"header and 18 payload bytes", kScapyOffendingUdp, 28},
      {"header only: all of it", header_only, 20},
      {"IHL 6", options_packet, 32},
      {"IHL 15", max_ihl_packet, 68},
      {"IHL 15, 30 bytes there",
       std::vector<uint8_t>(max_ihl_packet.begin(), max_ihl_packet.begin() + 30), 30},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Icmpv4ErrorQuoteLength(c.packet), c.expected) << c.description;
  }
}

}  // namespace
}  // namespace dove::net
