// The trace's packet descriptions: every form, its normal text, and a one-sentence refusal
// naming what was typed for each kind of mistake.
#include "trace/packet_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dove::trace {
namespace {

using ::testing::HasSubstr;

TEST(PacketSpecTest, EveryFormParsesToItsPacketAndNormalText) {
  const struct {
    const char* text;
    PacketSpec::Kind kind;
    uint8_t protocol;
    uint16_t port;
    const char* normal;
  } kCases[] = {
      {"icmp to 10.0.1.5", PacketSpec::Kind::kIcmp, 1, 0, "icmp to 10.0.1.5"},
      {"icmp to 2001:DB8::5", PacketSpec::Kind::kIcmp, 58, 0, "icmp to 2001:db8::5"},
      {"tcp to 10.0.1.5:443", PacketSpec::Kind::kTcp, 6, 443, "tcp to 10.0.1.5:443"},
      {"tcp to [2001:db8::5]:443", PacketSpec::Kind::kTcp, 6, 443, "tcp to [2001:db8::5]:443"},
      {"  udp   to 10.0.0.9:53 ", PacketSpec::Kind::kUdp, 17, 53, "udp to 10.0.0.9:53"},
      {"udp to FF:FF:FF:FF:FF:FF", PacketSpec::Kind::kUdp, 17, 9,
       "udp to ff:ff:ff:ff:ff:ff port 9"},
      {"udp to 52:54:00:00:00:01 port 67", PacketSpec::Kind::kUdp, 17, 67,
       "udp to 52:54:00:00:00:01 port 67"},
      {"arp who-has 10.0.0.1", PacketSpec::Kind::kArp, 0, 0, "arp who-has 10.0.0.1"},
  };
  for (const auto& c : kCases) {
    const auto spec = ParsePacketSpec(c.text);
    ASSERT_TRUE(spec) << c.text << ": " << spec.error();
    EXPECT_EQ(spec->kind, c.kind) << c.text;
    EXPECT_EQ(spec->protocol(), c.protocol) << c.text;
    EXPECT_EQ(spec->port, c.port) << c.text;
    EXPECT_EQ(spec->Text(), c.normal) << c.text;
    const auto again = ParsePacketSpec(spec->Text());
    ASSERT_TRUE(again) << spec->Text();
    EXPECT_EQ(again->Text(), spec->Text());
  }
  EXPECT_TRUE(ParsePacketSpec("udp to ff:ff:ff:ff:ff:ff")->mac->IsBroadcast());
}

TEST(PacketSpecTest, MistakesAreRefusedNamingWhatWasTyped) {
  const struct {
    const char* text;
    const char* message;
  } kCases[] = {
      {"", "an empty packet: expected \"icmp to IP\""},
      {"   ", "an empty packet"},
      {"sctp to 10.0.0.1:5", "unknown protocol \"sctp\""},
      {"ICMP to 10.0.0.1", "unknown protocol \"ICMP\""},
      {"icmp 10.0.0.1", "expected \"icmp to ...\""},
      {"icmp to", "expected \"icmp to ...\""},
      {"icmp to 10.0.0.256", "\"10.0.0.256\" is not an IP address"},
      {"icmp to 10.0.0.1 extra", "expected \"icmp to IP\""},
      {"tcp to 10.0.1.5", "\"10.0.1.5\" is not IP:PORT"},
      {"tcp to 10.0.1.5:0", "port \"0\" is not a number from 1 to 65535"},
      {"tcp to 10.0.1.5:65536", "port \"65536\" is not a number from 1 to 65535"},
      {"tcp to 10.0.1.5:http", "port \"http\" is not a number"},
      {"tcp to 2001:db8::5:443", "is not IP:PORT (an IPv6 address as [IP]:PORT)"},
      {"tcp to [2001:db8::5]443", "is not [IPv6]:PORT"},
      {"tcp to [2001:db8::5", "is not [IPv6]:PORT"},
      {"tcp to vm2:443", "\"vm2\" is not an IP address"},
      {"tcp to ff:ff:ff:ff:ff:ff", "tcp goes to an IP address and port, not to MAC"},
      {"udp to ff:ff:ff:ff:ff:ff port", "expected \"udp to MAC [port N]\""},
      {"udp to ff:ff:ff:ff:ff:ff port 0", "port \"0\" is not a number"},
      {"udp to ff:ff:ff:ff:ff:ff 67", "expected \"udp to MAC [port N]\""},
      {"arp 10.0.0.1", "expected \"arp who-has IP\""},
      {"arp who-has", "expected \"arp who-has IP\""},
      {"arp who-has host1", "\"host1\" is not an IP address"},
  };
  for (const auto& c : kCases) {
    const auto spec = ParsePacketSpec(c.text);
    ASSERT_FALSE(spec) << c.text << " parsed as " << spec->Text();
    EXPECT_THAT(spec.error(), HasSubstr(c.message)) << c.text;
  }
}

}  // namespace
}  // namespace dove::trace
