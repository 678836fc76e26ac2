// ICMPv6: scapy-made messages parsed and rebuilt byte for byte, and every error path.
#include "net/icmpv6.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const Ipv6Address kHost1 = *Ipv6Address::Parse("2001:db8::1");
const Ipv6Address kHost2 = *Ipv6Address::Parse("2001:db8::2");
const Ipv6Address kRouter = *Ipv6Address::Parse("2001:db8::ff");

// bytes(IPv6(src="2001:db8::1", dst="2001:db8::2")/ICMPv6EchoRequest(id=0x1234, seq=1,
//       data=b"dove"))[40:]   (scapy 2.5.0)
const std::vector<uint8_t> kScapyEchoRequest =
    Bytes({0x80, 0x00, 0x37, 0x3a, 0x12, 0x34, 0x00, 0x01, 0x64, 0x6f, 0x76, 0x65});

// bytes(IPv6(src="2001:db8::1", dst="2001:db8::2")/UDP(sport=1234, dport=4789)/b"x")
//   (scapy 2.5.0): a 49-byte packet, odd so the checksum's padding is exercised.
const std::vector<uint8_t> kScapyOffendingUdp =
    Bytes({0x60, 0x00, 0x00, 0x00, 0x00, 0x09, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00,
           0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
           0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x02, 0x04, 0xd2, 0x12, 0xb5, 0x00, 0x09, 0x14, 0xe0, 0x78});

// bytes(IPv6(src="2001:db8::ff", dst="2001:db8::1")/ICMPv6PacketTooBig(mtu=1400)
//       /Raw(offending))[40:] with `offending` the packet above   (scapy 2.5.0)
const std::vector<uint8_t> kScapyPacketTooBig =
    Bytes({0x02, 0x00, 0x2a, 0x73, 0x00, 0x00, 0x05, 0x78, 0x60, 0x00, 0x00, 0x00, 0x00, 0x09, 0x11,
           0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x00, 0x02, 0x04, 0xd2, 0x12, 0xb5, 0x00, 0x09, 0x14, 0xe0, 0x78});

TEST(Icmpv6Test, ParsesScapyEchoRequest) {
  auto parsed = ParseIcmpv6(kScapyEchoRequest, kHost1, kHost2);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv6::kEchoRequest);
  EXPECT_EQ(parsed->code(), 0);
  EXPECT_EQ(parsed->header.checksum.value(), 0x373a);
  EXPECT_EQ(parsed->identifier(), 0x1234);
  EXPECT_EQ(parsed->sequence(), 1);
  EXPECT_EQ(parsed->body.size(), 8u);
  EXPECT_EQ(ToVector(parsed->data()), Text("dove"));
  EXPECT_EQ(parsed->data().data(), kScapyEchoRequest.data() + 8);  // a view, not a copy
  EXPECT_EQ(parsed->source, kHost1);
  EXPECT_EQ(parsed->destination, kHost2);
}

TEST(Icmpv6Test, ChecksumMatchesScapy) {
  auto zeroed = kScapyEchoRequest;
  zeroed[2] = zeroed[3] = 0;
  EXPECT_EQ(Icmpv6Checksum(kHost1, kHost2, zeroed), 0x373a);
}

TEST(Icmpv6Test, BuildsScapyEchoRequest) {
  FrameBuilder builder;
  const size_t at = builder.Append(MakeIcmpv6Header(icmpv6::kEchoRequest, 0));
  builder.Append(Be32::Of(0x12340001));
  builder.Append(Text("dove"));
  FinishIcmpv6(builder.From(at), kHost1, kHost2);
  EXPECT_EQ(builder.bytes(), kScapyEchoRequest);
}

TEST(Icmpv6Test, ParsesScapyPacketTooBig) {
  auto parsed = ParseIcmpv6(kScapyPacketTooBig, kRouter, kHost1);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type(), icmpv6::kPacketTooBig);
  EXPECT_EQ(parsed->mtu(), 1400u);
  EXPECT_EQ(ToVector(parsed->data()), kScapyOffendingUdp);
}

TEST(Icmpv6Test, BuildsScapyPacketTooBig) {
  FrameBuilder builder;
  builder.AppendZeros(1);  // an odd start offset must not change the checksum
  const size_t at = AppendIcmpv6Error(builder, kRouter, kHost1, icmpv6::kPacketTooBig, 0, 1400,
                                      kScapyOffendingUdp);
  EXPECT_EQ(at, 1u);
  EXPECT_EQ(ToVector(builder.From(at)), kScapyPacketTooBig);
}

TEST(Icmpv6Test, ErrorQuoteFitsTheMinimumMtu) {
  const std::vector<uint8_t> jumbo(9000, 0x60);
  EXPECT_EQ(Icmpv6ErrorQuoteLength(jumbo), 1232u);
  EXPECT_EQ(Icmpv6ErrorQuoteLength(kScapyOffendingUdp), 49u);
  EXPECT_EQ(Icmpv6ErrorQuoteLength({}), 0u);
  FrameBuilder builder;
  AppendIcmpv6Error(builder, kRouter, kHost1, icmpv6::kParameterProblem,
                    icmpv6::kUnrecognizedNextHeader, 6, jumbo);
  EXPECT_EQ(builder.size(), 1240u);  // + 40-byte IPv6 header = 1280
  auto parsed = ParseIcmpv6(builder.bytes(), kRouter, kHost1);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code(), icmpv6::kUnrecognizedNextHeader);
  EXPECT_EQ(parsed->pointer(), 6u);
  EXPECT_EQ(parsed->data().size(), 1232u);
}

TEST(Icmpv6Test, RefusesMalformedMessages) {
  struct Case {
    const char* description;
    std::vector<uint8_t> message;
    Ipv6Address source;
    Ipv6Address destination;
    bool verify_checksum;
    Error error;
  };
  auto flipped = kScapyEchoRequest;
  flipped[5] ^= 0x80;
  auto zero_checksum = kScapyEchoRequest;
  zero_checksum[2] = zero_checksum[3] = 0;
  const std::vector<Case> cases = {
      {"empty", {}, kHost1, kHost2, true, Error::kTruncated},
      {"header only", Bytes({0x80, 0, 0, 0}), kHost1, kHost2, false, Error::kTruncated},
      {"7 bytes", Bytes({0x80, 0, 0, 0, 0, 0, 0}), kHost1, kHost2, false, Error::kTruncated},
      {"one bit flipped", flipped, kHost1, kHost2, true, Error::kBadChecksum},
      {"checksum field zeroed", zero_checksum, kHost1, kHost2, true, Error::kBadChecksum},
      {"other source", kScapyEchoRequest, kRouter, kHost2, true, Error::kBadChecksum},
      {"other destination", kScapyEchoRequest, kHost1, kRouter, true, Error::kBadChecksum},
      {"IPv4 checksum (no pseudo-header)", Bytes({0x80, 0, 0x7f, 0xff, 0, 0, 0, 0}), kHost1, kHost2,
       true, Error::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto parsed = ParseIcmpv6(c.message, c.source, c.destination, c.verify_checksum);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(Icmpv6Test, SkipsVerificationWhenAsked) {
  auto parsed = ParseIcmpv6(kScapyEchoRequest, kRouter, kRouter, /*verify_checksum=*/false);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->identifier(), 0x1234);
  EXPECT_EQ(parsed->source, kRouter);
}

TEST(Icmpv6Test, FinishLeavesShortSpansAlone) {
  auto message = Bytes({0x80, 0, 0});
  const auto before = message;
  FinishIcmpv6(message, kHost1, kHost2);
  EXPECT_EQ(message, before);
}

TEST(Icmpv6Test, AccessorsOfAHandMadeShortMessage) {
  const auto body = Bytes({1, 2});
  Icmpv6Message message{MakeIcmpv6Header(icmpv6::kEchoReply, 0), body, kHost1, kHost2};
  EXPECT_EQ(message.first_word(), 0u);
  EXPECT_EQ(message.identifier(), 0);
  EXPECT_TRUE(message.data().empty());
}

}  // namespace
}  // namespace dove::net
