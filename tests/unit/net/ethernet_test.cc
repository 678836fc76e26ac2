// Ethernet (with 802.1Q) and ARP: tables of frames built by hand, and every error path.
#include "net/ethernet.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/arp.h"
#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const MacAddress kVm1 = *MacAddress::Parse("52:54:00:00:00:01");
const MacAddress kVm2 = *MacAddress::Parse("52:54:00:00:00:02");

TEST(EthernetTest, ParsesUntaggedFrame) {
  auto frame = Bytes({0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00, 0xaa, 0xbb});
  auto parsed = ParseEthernet(frame);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->destination, kVm2);
  EXPECT_EQ(parsed->source, kVm1);
  EXPECT_EQ(parsed->ether_type, ether_type::kIpv4);
  EXPECT_FALSE(parsed->vlan);
  EXPECT_EQ(parsed->header_size, 14u);
  ASSERT_EQ(parsed->payload.size(), 2u);
  EXPECT_EQ(parsed->payload[0], 0xaa);
}

TEST(EthernetTest, ParsesTaggedFrame) {
  auto frame = Bytes(
      {0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd, 0x60});
  auto parsed = ParseEthernet(frame);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed->vlan);
  EXPECT_EQ(parsed->vlan->vlan_id(), 100);
  EXPECT_EQ(parsed->vlan->priority(), 5);
  EXPECT_EQ(parsed->ether_type, ether_type::kIpv6);
  EXPECT_EQ(parsed->header_size, 18u);
  EXPECT_EQ(parsed->payload.size(), 1u);
}

TEST(EthernetTest, RefusesWhatItCannotCarry) {
  struct Case {
    const char* description;
    std::vector<uint8_t> frame;
    Error error;
  };
  const std::vector<Case> cases = {
      {"empty", {}, Error::kTruncated},
      {"13 bytes", Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08}), Error::kTruncated},
      {"tag cut short", Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0, 0, 1, 0x08}),
       Error::kTruncated},
      {"802.3 length", Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x00, 0x26}),
       Error::kUnsupported},
      {"QinQ", Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xa8, 0, 1, 0x81, 0}),
       Error::kUnsupported},
      {"double 802.1Q", Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0, 0, 1, 0x81, 0}),
       Error::kUnsupported},
  };
  for (const auto& c : cases) {
    auto parsed = ParseEthernet(c.frame);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(EthernetTest, BuilderRoundTrip) {
  FrameBuilder builder;
  builder.Append(MakeEthernetHeader(MacAddress::Broadcast(), kVm1, ether_type::kArp));
  builder.Append(MakeArp(arp::kRequest, kVm1, *Ipv4Address::Parse("10.0.0.1"), MacAddress(),
                         *Ipv4Address::Parse("10.0.0.2")));
  auto frame = ParseEthernet(builder.bytes());
  ASSERT_TRUE(frame);
  EXPECT_TRUE(frame->destination.IsBroadcast());
  EXPECT_EQ(frame->ether_type, ether_type::kArp);
  auto packet = ParseArp(frame->payload);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->operation.value(), arp::kRequest);
  EXPECT_EQ(packet->sender_mac, kVm1);
  EXPECT_EQ(packet->sender_ip.ToString(), "10.0.0.1");
  EXPECT_EQ(packet->target_ip.ToString(), "10.0.0.2");
  EXPECT_TRUE(packet->target_mac.IsZero());
}

TEST(FrameBuilderTest, AppendsItsOwnBytes) {
  FrameBuilder builder(1);  // small, so that appending grows (and moves) the buffer
  builder.Append(std::vector<uint8_t>{1, 2, 3});
  builder.Append(builder.From(0));
  builder.Append(builder.From(1));
  EXPECT_EQ(builder.bytes(), (std::vector<uint8_t>{1, 2, 3, 1, 2, 3, 2, 3, 1, 2, 3}));
}

TEST(ArpTest, RefusesOtherKinds) {
  auto good =
      MakeArp(arp::kReply, kVm1, Ipv4Address::FromUint32(1), kVm2, Ipv4Address::FromUint32(2));
  struct Case {
    const char* description;
    void (*mutate)(ArpPacket&);
    Error error;
  };
  const Case cases[] = {
      {"token ring", [](ArpPacket& p) { p.hardware_type = Be16::Of(6); }, Error::kUnsupported},
      {"IPv6 protocol", [](ArpPacket& p) { p.protocol_type = Be16::Of(0x86dd); },
       Error::kUnsupported},
      {"hlen 8", [](ArpPacket& p) { p.hardware_length = 8; }, Error::kUnsupported},
      {"plen 16", [](ArpPacket& p) { p.protocol_length = 16; }, Error::kUnsupported},
      {"RARP op 3", [](ArpPacket& p) { p.operation = Be16::Of(3); }, Error::kBadField},
      {"op 0", [](ArpPacket& p) { p.operation = Be16::Of(0); }, Error::kBadField},
  };
  for (const auto& c : cases) {
    ArpPacket packet = good;
    c.mutate(packet);
    FrameBuilder builder;
    builder.Append(packet);
    auto parsed = ParseArp(builder.bytes());
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
  FrameBuilder builder;
  builder.Append(good);
  auto bytes = builder.bytes();
  bytes.pop_back();
  EXPECT_EQ(ParseArp(bytes).error(), Error::kTruncated);
  bytes.push_back(0);
  bytes.resize(46);  // Ethernet padding after the packet is allowed
  EXPECT_TRUE(ParseArp(bytes));
}

}  // namespace
}  // namespace dove::net
