#include "net/ip_prefix.h"

#include <gtest/gtest.h>

#include <unordered_set>

#include "test_printers.h"

namespace dove::net {
namespace {

IpPrefix P(const char* text) { return *IpPrefix::Parse(text); }
IpAddress A(const char* text) { return *IpAddress::Parse(text); }

TEST(IpPrefixTest, ParsesAndFormats) {
  for (const char* text : {"10.0.0.0/24", "0.0.0.0/0", "192.0.2.1/32", "2001:db8::/32", "::/0",
                           "2001:db8::1/128", "10.128.0.0/9"}) {
    auto prefix = IpPrefix::Parse(text);
    ASSERT_TRUE(prefix) << text;
    EXPECT_EQ(prefix->ToString(), text);
  }
  EXPECT_EQ(P("10.0.0.0/24").length(), 24);
  EXPECT_EQ(P("2001:db8::/32").family(), IpFamily::kV6);
}

TEST(IpPrefixTest, RefusesBadText) {
  struct Case {
    const char* text;
    Error error;
  };
  for (const Case& c :
       {Case{"10.0.0.0", Error::kBadSyntax}, Case{"10.0.0.0/", Error::kBadSyntax},
        Case{"10.0.0.0/024", Error::kBadSyntax}, Case{"10.0.0.0/2a", Error::kBadSyntax},
        Case{"10.0.0.0/-1", Error::kBadSyntax}, Case{"10.0.0.0/1000", Error::kBadSyntax},
        Case{"10.0.0/24", Error::kBadSyntax}, Case{"/24", Error::kBadSyntax},
        Case{"10.0.0.0/33", Error::kOutOfRange}, Case{"2001:db8::/129", Error::kOutOfRange},
        Case{"10.0.0.1/24", Error::kBadField}, Case{"2001:db8::1/64", Error::kBadField}}) {
    auto prefix = IpPrefix::Parse(c.text);
    ASSERT_FALSE(prefix) << c.text;
    EXPECT_EQ(prefix.error(), c.error) << c.text;
  }
}

TEST(IpPrefixTest, MaskedClearsHostBits) {
  EXPECT_EQ(IpPrefix::Masked(A("10.1.2.3"), 16)->ToString(), "10.1.0.0/16");
  EXPECT_EQ(IpPrefix::Masked(A("10.1.2.255"), 25)->ToString(), "10.1.2.128/25");
  EXPECT_EQ(IpPrefix::Masked(A("2001:db8:ffff::1"), 36)->ToString(), "2001:db8:f000::/36");
  EXPECT_EQ(IpPrefix::Masked(A("10.1.2.3"), 33).error(), Error::kOutOfRange);
}

TEST(IpPrefixTest, ContainsAddresses) {
  const IpPrefix subnet = P("10.0.0.0/24");
  EXPECT_TRUE(subnet.Contains(A("10.0.0.0")));
  EXPECT_TRUE(subnet.Contains(A("10.0.0.255")));
  EXPECT_FALSE(subnet.Contains(A("10.0.1.0")));
  EXPECT_FALSE(subnet.Contains(A("::a00:5")));  // other family never matches
  EXPECT_TRUE(P("0.0.0.0/0").Contains(A("203.0.113.9")));
  EXPECT_FALSE(P("0.0.0.0/0").Contains(A("::1")));
  EXPECT_TRUE(P("10.0.0.128/25").Contains(A("10.0.0.200")));
  EXPECT_FALSE(P("10.0.0.128/25").Contains(A("10.0.0.127")));
  EXPECT_TRUE(P("2001:db8::/64").Contains(A("2001:db8::ffff")));
  EXPECT_FALSE(P("2001:db8::/64").Contains(A("2001:db8:0:1::")));
}

TEST(IpPrefixTest, ContainsAndOverlapsPrefixes) {
  EXPECT_TRUE(P("10.0.0.0/8").Contains(P("10.1.0.0/16")));
  EXPECT_FALSE(P("10.1.0.0/16").Contains(P("10.0.0.0/8")));
  EXPECT_TRUE(P("10.0.0.0/8").Overlaps(P("10.1.0.0/16")));
  EXPECT_TRUE(P("10.1.0.0/16").Overlaps(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.0.0.0/24").Overlaps(P("10.0.1.0/24")));
  EXPECT_TRUE(P("10.0.0.0/24").Overlaps(P("10.0.0.0/24")));
  EXPECT_FALSE(P("0.0.0.0/0").Overlaps(P("::/0")));
}

TEST(IpPrefixTest, HashesAndCompares) {
  std::unordered_set<IpPrefix> set{P("10.0.0.0/24"), P("10.0.0.0/25"), P("10.0.0.0/24")};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_LT(P("10.0.0.0/24"), P("10.0.0.0/25"));
}

}  // namespace
}  // namespace dove::net
