#include "cli/policy_args.h"

#include <gtest/gtest.h>

namespace dove::cli {
namespace {

TEST(ParseActionTest, TheThreeActions) {
  EXPECT_EQ(*ParseAction("allow"), "ACTION_ALLOW");
  EXPECT_EQ(*ParseAction("deny"), "ACTION_DENY");
  EXPECT_EQ(*ParseAction("reject"), "ACTION_REJECT");
  for (const char* text :
       {"", "Reject", "REJECT", "ACTION_REJECT", "drop", "reject ", "unspecified"}) {
    EXPECT_FALSE(ParseAction(text)) << text;
  }
  EXPECT_NE(ParseAction("drop").error().find("allow, deny or reject"), std::string::npos);
}

TEST(ParseProtocolTest, NamesAndNumbers) {
  EXPECT_EQ(*ParseProtocol("tcp"), 6u);
  EXPECT_EQ(*ParseProtocol("udp"), 17u);
  EXPECT_EQ(*ParseProtocol("icmp"), 1u);
  EXPECT_EQ(*ParseProtocol("any"), 0u);
  EXPECT_EQ(*ParseProtocol("0"), 0u);
  EXPECT_EQ(*ParseProtocol("47"), 47u);
  EXPECT_EQ(*ParseProtocol("255"), 255u);
}

TEST(ParseProtocolTest, Refusals) {
  for (const char* text :
       {"", "TCP ", "256", "-1", "+6", "6x", "tcpp", "1e1", "99999999999999", " 6"}) {
    EXPECT_FALSE(ParseProtocol(text)) << text;
  }
  EXPECT_NE(ParseProtocol("sctp").error().find("tcp, udp, icmp"), std::string::npos);
}

TEST(ParsePortRangeTest, SingleAndRange) {
  EXPECT_EQ(*ParsePortRange("5432"), (PortRange{5432, 5432}));
  EXPECT_EQ(*ParsePortRange("1"), (PortRange{1, 1}));
  EXPECT_EQ(*ParsePortRange("65535"), (PortRange{65535, 65535}));
  EXPECT_EQ(*ParsePortRange("80-90"), (PortRange{80, 90}));
  EXPECT_EQ(*ParsePortRange("80-80"), (PortRange{80, 80}));
}

TEST(ParsePortRangeTest, Refusals) {
  for (const char* text :
       {"", "0", "65536", "90-80", "80-", "-80", "80--90", "a", "80-9x", "1-65536", "80 "}) {
    EXPECT_FALSE(ParsePortRange(text)) << text;
  }
}

TEST(ParseAddressRangeTest, SplitsOnTheDash) {
  EXPECT_EQ(*ParseAddressRange("10.1.0.100-10.1.0.200"),
            (AddressRange{"10.1.0.100", "10.1.0.200"}));
  EXPECT_EQ(*ParseAddressRange("2001:db8::10-2001:db8::20"),
            (AddressRange{"2001:db8::10", "2001:db8::20"}));
  for (const char* text : {"", "10.0.0.1", "-10.0.0.1", "10.0.0.1-", "1-2-3"}) {
    EXPECT_FALSE(ParseAddressRange(text)) << text;
  }
}

TEST(ProtocolNameTest, NamesTheKnownOnes) {
  EXPECT_EQ(ProtocolName(0), "any");
  EXPECT_EQ(ProtocolName(1), "icmp");
  EXPECT_EQ(ProtocolName(6), "tcp");
  EXPECT_EQ(ProtocolName(17), "udp");
  EXPECT_EQ(ProtocolName(47), "47");
}

}  // namespace
}  // namespace dove::cli
