// AddressPool: reserved addresses by prefix length, take / release / reuse with range merging,
// exhaustion, IPv6 windows, and the cost claim (range count) on large prefixes.
#include "model/address_pool.h"

#include <gtest/gtest.h>

#include <string>

namespace dove::model {
namespace {

net::IpAddress Ip(const std::string& text) { return *net::IpAddress::Parse(text); }

v1::Subnet Subnet(const std::string& cidr, const std::string& gateway = "",
                  const std::string& dhcp_first = "", const std::string& dhcp_last = "") {
  v1::Subnet s;
  s.set_id("s");
  s.set_network_id("n");
  s.set_cidr(cidr);
  s.set_gateway(gateway);
  if (!dhcp_first.empty()) {
    s.mutable_dhcp_range()->set_first(dhcp_first);
    s.mutable_dhcp_range()->set_last(dhcp_last);
  }
  return s;
}

AddressPool Pool(const v1::Subnet& subnet) {
  auto pool = AddressPool::ForSubnet(subnet);
  EXPECT_TRUE(pool) << pool.error().message;
  return *pool;
}

std::string Lowest(const AddressPool& pool) {
  auto ip = pool.Lowest();
  return ip ? ip->ToString() : "full";
}

TEST(AddressPoolTest, ReservesNetworkBroadcastGatewayAndDhcpRange) {
  auto pool = Pool(Subnet("10.0.0.0/24", "10.0.0.1", "10.0.0.100", "10.0.0.199"));
  EXPECT_EQ(Lowest(pool), "10.0.0.2");
  EXPECT_EQ(pool.FreeCount(), 254u - 1 - 100);
  EXPECT_EQ(pool.RangeCount(), 2u);  // .2-.99 and .200-.254
  for (const char* reserved : {"10.0.0.0", "10.0.0.1", "10.0.0.100", "10.0.0.150", "10.0.0.199",
                               "10.0.0.255", "10.0.1.0", "2001:db8::1"}) {
    EXPECT_FALSE(pool.IsFree(Ip(reserved))) << reserved;
    EXPECT_FALSE(pool.Take(Ip(reserved))) << reserved;
    EXPECT_FALSE(pool.Release(Ip(reserved))) << reserved << ": a reserved address never frees";
  }
  EXPECT_TRUE(pool.IsFree(Ip("10.0.0.99")));
  EXPECT_TRUE(pool.IsFree(Ip("10.0.0.200")));
  EXPECT_TRUE(pool.IsFree(Ip("10.0.0.254")));
}

TEST(AddressPoolTest, SmallPrefixesUseEveryAddress) {
  EXPECT_EQ(Pool(Subnet("10.0.0.0/30")).FreeCount(), 2u);
  EXPECT_EQ(Pool(Subnet("10.0.0.0/31")).FreeCount(), 2u) << "RFC 3021";
  EXPECT_EQ(Lowest(Pool(Subnet("10.0.0.0/31"))), "10.0.0.0");
  EXPECT_EQ(Lowest(Pool(Subnet("10.0.0.9/32"))), "10.0.0.9");
  EXPECT_EQ(Lowest(Pool(Subnet("2001:db8::/127"))), "2001:db8::") << "RFC 6164";
  EXPECT_EQ(Lowest(Pool(Subnet("2001:db8::/126"))), "2001:db8::1");
  EXPECT_EQ(Pool(Subnet("2001:db8::/126")).FreeCount(), 3u);
}

TEST(AddressPoolTest, TakeReleaseReuseMergesRanges) {
  auto pool = Pool(Subnet("10.0.0.0/24", "10.0.0.1"));
  for (int i = 2; i <= 10; ++i) ASSERT_TRUE(pool.Take(Ip("10.0.0." + std::to_string(i))));
  EXPECT_FALSE(pool.Take(Ip("10.0.0.5"))) << "taken twice";
  EXPECT_EQ(Lowest(pool), "10.0.0.11");
  EXPECT_EQ(pool.RangeCount(), 1u);
  ASSERT_TRUE(pool.Release(Ip("10.0.0.5")));
  EXPECT_FALSE(pool.Release(Ip("10.0.0.5"))) << "released twice";
  ASSERT_TRUE(pool.Release(Ip("10.0.0.7")));
  EXPECT_EQ(pool.RangeCount(), 3u);
  EXPECT_EQ(Lowest(pool), "10.0.0.5") << "the lowest free is reused first";
  ASSERT_TRUE(pool.Release(Ip("10.0.0.6")));  // joins .5 and .7
  EXPECT_EQ(pool.RangeCount(), 2u);
  ASSERT_TRUE(pool.Release(Ip("10.0.0.8")));
  ASSERT_TRUE(pool.Release(Ip("10.0.0.9")));
  ASSERT_TRUE(pool.Release(Ip("10.0.0.10")));  // joins the tail .11-.254
  EXPECT_EQ(pool.RangeCount(), 1u);
  EXPECT_EQ(pool.FreeCount(), 250u);
  // A take in the middle of a range splits it.
  ASSERT_TRUE(pool.Take(Ip("10.0.0.100")));
  EXPECT_EQ(pool.RangeCount(), 2u);
  EXPECT_EQ(pool.FreeCount(), 249u);
}

TEST(AddressPoolTest, ExhaustionAndRefill) {
  auto pool = Pool(Subnet("10.0.0.0/29", "10.0.0.1"));
  std::vector<std::string> got;
  while (auto ip = pool.Lowest()) {
    got.push_back(ip->ToString());
    ASSERT_TRUE(pool.Take(*ip));
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}));
  EXPECT_EQ(pool.FreeCount(), 0u);
  EXPECT_EQ(pool.RangeCount(), 0u);
  ASSERT_TRUE(pool.Release(Ip("10.0.0.4")));
  EXPECT_EQ(Lowest(pool), "10.0.0.4");
}

TEST(AddressPoolTest, LargePrefixesCostWhatASmallOneDoes) {
  // A /1, a /8 and an IPv6 /64 are one range when empty, and stay one range filled from the
  // bottom: no per-address state.
  for (const char* cidr : {"0.0.0.0/1", "10.0.0.0/8", "2001:db8::/64", "2001:db8::/48"}) {
    SCOPED_TRACE(cidr);
    auto pool = Pool(Subnet(cidr));
    EXPECT_EQ(pool.RangeCount(), 1u);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Take(*pool.Lowest()));
    EXPECT_EQ(pool.RangeCount(), 1u);
  }
  EXPECT_EQ(Pool(Subnet("0.0.0.0/1")).FreeCount(), (uint64_t{1} << 31) - 2);
  EXPECT_EQ(Pool(Subnet("2001:db8::/64")).FreeCount(), ~uint64_t{0}) << "2^64 - 1 (anycast)";
  // The last address of a /64 (offset 2^64 - 1) can be taken and released.
  auto pool = Pool(Subnet("2001:db8::/64"));
  const auto last = Ip("2001:db8::ffff:ffff:ffff:ffff");
  ASSERT_TRUE(pool.Take(last));
  EXPECT_EQ(pool.RangeCount(), 1u);
  ASSERT_TRUE(pool.Release(last));
  EXPECT_EQ(pool.RangeCount(), 1u);
  EXPECT_EQ(pool.FreeCount(), ~uint64_t{0});
}

TEST(AddressPoolTest, Ipv6ShorterThanSlash64UsesItsFirst2To64Addresses) {
  auto pool = Pool(Subnet("2001:db8::/48", "2001:db8::1"));
  EXPECT_EQ(Lowest(pool), "2001:db8::2");
  EXPECT_FALSE(pool.IsFree(Ip("2001:db8:0:1::1"))) << "host bits above the last 64";
  EXPECT_FALSE(pool.Take(Ip("2001:db8:0:1::1")));
  EXPECT_FALSE(pool.OffsetOf(Ip("2001:db8:0:1::1")));
  EXPECT_EQ(pool.OffsetOf(Ip("2001:db8::ffff")), 0xffffu);
  // A DHCP range reaching beyond the window is clipped to it.
  auto clipped = Pool(Subnet("2001:db8::/48", "", "2001:db8::10", "2001:db8:0:5::"));
  EXPECT_EQ(clipped.FreeCount(), 15u);  // ::1 .. ::f
  EXPECT_EQ(clipped.RangeCount(), 1u);
}

TEST(AddressPoolTest, InvalidCidrIsInvalidValue) {
  auto pool = AddressPool::ForSubnet(Subnet("10.0.0.1/24"));
  ASSERT_FALSE(pool);
  EXPECT_EQ(pool.error().code, "invalid_value");
}

}  // namespace
}  // namespace dove::model
