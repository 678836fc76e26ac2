// MacAddress, Ipv4Address, Ipv6Address, IpAddress: parse, format, compare, hash.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "net/ipv4_address.h"
#include "net/ipv6_address.h"
#include "net/mac_address.h"
#include "test_printers.h"

namespace dove::net {
namespace {

TEST(MacAddressTest, ParsesAndFormats) {
  auto mac = MacAddress::Parse("00:1B:21:AB:cd:0f");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->ToString(), "00:1b:21:ab:cd:0f");
  EXPECT_EQ(mac->bytes()[3], 0xab);
  EXPECT_TRUE(mac->IsUnicast());
  EXPECT_FALSE(mac->IsLocallyAdministered());
}

TEST(MacAddressTest, RefusesMalformedText) {
  for (const char* text :
       {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0f:", "52-54-00-ab-cd-0f", "52:54:00:ab:cd:0g",
        "5:54:00:ab:cd:0f0", " 52:54:00:ab:cd:0f", "52:54:00:ab:cd:0f ", "525400abcd0f"}) {
    auto mac = MacAddress::Parse(text);
    ASSERT_FALSE(mac) << text;
    EXPECT_EQ(mac.error(), Error::kBadSyntax) << text;
  }
}

TEST(MacAddressTest, Classifies) {
  EXPECT_TRUE(MacAddress::Broadcast().IsBroadcast());
  EXPECT_TRUE(MacAddress::Broadcast().IsMulticast());
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:01")->IsMulticast());
  EXPECT_TRUE(MacAddress().IsZero());
  EXPECT_TRUE(MacAddress::Parse("02:00:00:00:00:01")->IsLocallyAdministered());
  auto group = Ipv6Address::Parse("ff02::1:ff12:3456");
  EXPECT_EQ(MacAddress::ForIpv6Multicast(group->bytes()).ToString(), "33:33:ff:12:34:56");
}

TEST(MacAddressTest, OrdersAndHashes) {
  auto a = *MacAddress::Parse("00:00:00:00:00:01");
  auto b = *MacAddress::Parse("00:00:00:00:01:00");
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
  std::unordered_set<MacAddress> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Ipv4AddressTest, ParsesAndFormats) {
  auto ip = Ipv4Address::Parse("192.0.2.1");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->ToUint32(), 0xc0000201u);
  EXPECT_EQ(ip->ToString(), "192.0.2.1");
  EXPECT_EQ(Ipv4Address::FromUint32(0xc0000201u), *ip);
  EXPECT_EQ(Ipv4Address::Parse("255.255.255.255")->ToString(), "255.255.255.255");
  EXPECT_EQ(Ipv4Address::Parse("0.0.0.0")->ToString(), "0.0.0.0");
}

TEST(Ipv4AddressTest, RefusesMalformedText) {
  for (const char* text :
       {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
        "1..2.3", "1.2.3.4/24", "::1", "1111111111111111.2.3.4"}) {
    auto ip = Ipv4Address::Parse(text);
    ASSERT_FALSE(ip) << text;
    EXPECT_EQ(ip.error(), Error::kBadSyntax) << text;
  }
}

TEST(IpAddressTest, RefusesTextWithAnEmbeddedNul) {
  using std::string_literals::operator""s;
  EXPECT_EQ(Ipv4Address::Parse("1.2.3.4\0garbage"s).error(), Error::kBadSyntax);
  EXPECT_EQ(Ipv6Address::Parse("::1\0zzz"s).error(), Error::kBadSyntax);
  EXPECT_EQ(IpPrefix::Parse("10.0.0.0\0x/8"s).error(), Error::kBadSyntax);
}

TEST(Ipv4AddressTest, Classifies) {
  EXPECT_TRUE(Ipv4Address::Parse("224.0.0.251")->IsMulticast());
  EXPECT_FALSE(Ipv4Address::Parse("223.255.255.255")->IsMulticast());
  EXPECT_TRUE(Ipv4Address::Broadcast().IsBroadcast());
  EXPECT_TRUE(Ipv4Address().IsUnspecified());
  EXPECT_TRUE(Ipv4Address::Parse("127.0.0.1")->IsLoopback());
}

TEST(Ipv6AddressTest, ParsesAndFormatsCanonically) {
  struct Case {
    const char* text;
    const char* canonical;
  };
  for (const Case& c :
       {Case{"2001:db8::1", "2001:db8::1"},
        Case{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"}, Case{"::", "::"},
        Case{"::1", "::1"}, Case{"fe80::1:0:0:1", "fe80::1:0:0:1"},
        Case{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}}) {
    auto ip = Ipv6Address::Parse(c.text);
    ASSERT_TRUE(ip) << c.text;
    EXPECT_EQ(ip->ToString(), c.canonical);
  }
}

TEST(Ipv6AddressTest, RefusesMalformedText) {
  for (const char* text : {"", ":", "1:2:3:4:5:6:7:8:9", "2001:db8::1::2", "fe80::1%eth0",
                           "12345::", "g::1", "192.0.2.1", "2001:db8::1 "}) {
    auto ip = Ipv6Address::Parse(text);
    ASSERT_FALSE(ip) << text;
    EXPECT_EQ(ip.error(), Error::kBadSyntax) << text;
  }
}

TEST(Ipv6AddressTest, DerivedAddresses) {
  auto ip = *Ipv6Address::Parse("2001:db8::12:3456");
  EXPECT_EQ(ip.SolicitedNodeMulticast().ToString(), "ff02::1:ff12:3456");
  auto mac = *MacAddress::Parse("52:54:00:12:34:56");
  EXPECT_EQ(Ipv6Address::LinkLocalFromMac(mac).ToString(), "fe80::5054:ff:fe12:3456");
  EXPECT_TRUE(Ipv6Address::LinkLocalFromMac(mac).IsLinkLocal());
  EXPECT_TRUE(Ipv6Address::AllNodes().IsMulticast());
  EXPECT_TRUE(Ipv6Address().IsUnspecified());
}

TEST(IpAddressTest, HoldsEitherFamily) {
  auto v4 = IpAddress::Parse("10.0.0.5");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->bits(), 32);
  EXPECT_EQ(v4->bytes().size(), 4u);
  EXPECT_EQ(v4->v4().ToString(), "10.0.0.5");
  EXPECT_EQ(v4->ToString(), "10.0.0.5");
  auto v6 = IpAddress::Parse("2001:db8::5");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->bits(), 128);
  EXPECT_EQ(v6->ToString(), "2001:db8::5");
  EXPECT_EQ(IpAddress::Parse("10.0.0.256").error(), Error::kBadSyntax);
  EXPECT_EQ(IpAddress::Parse("2001:db8:::5").error(), Error::kBadSyntax);
}

TEST(IpAddressTest, OrdersIpv4BeforeIpv6AndHashes) {
  auto v4 = *IpAddress::Parse("255.255.255.255");
  auto v6 = *IpAddress::Parse("::");
  EXPECT_LT(v4, v6);
  // The IPv4 address 0.0.0.0 and the IPv6 address :: differ.
  EXPECT_NE(IpAddress(Ipv4Address()), IpAddress(Ipv6Address()));
  std::unordered_set<IpAddress> set{IpAddress(Ipv4Address()), IpAddress(Ipv6Address()),
                                    *IpAddress::Parse("0.0.0.0")};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace dove::net
