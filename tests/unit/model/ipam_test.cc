#include "model/ipam.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "model/address_pool.h"
#include "world.h"

namespace dove::model {
namespace {

using testing::MakeEndpoint;
using testing::MakeNetwork;
using testing::MakeSubnet;
using testing::MakeWorld;

std::string Next(const ModelView& view, const v1::Subnet& subnet) {
  auto ip = NextFreeAddress(view, subnet);
  return ip ? ip->ToString() : ip.error().code;
}

TEST(NextFreeAddressTest, SkipsNetworkGatewayAndTakenLowestFirst) {
  auto view = MakeWorld();
  const auto s4 = MakeSubnet("s4x", "n1", "10.0.0.0/24", "10.0.0.1");
  EXPECT_EQ(Next(view, s4), "10.0.0.2");
  view.Put(MakeEndpoint("a", "n1", "52:54:00:00:00:0a", "10.0.0.2"));
  view.Put(MakeEndpoint("b", "n1", "52:54:00:00:00:0b", "10.0.0.3"));
  EXPECT_EQ(Next(view, s4), "10.0.0.4");
  view.RemoveEndpoint("a");
  EXPECT_EQ(Next(view, s4), "10.0.0.2") << "freed addresses are reused";
}

TEST(NextFreeAddressTest, SkipsTheDhcpRange) {
  InMemoryModelView view;
  view.Put(MakeNetwork("n", "d", 1));
  auto subnet = MakeSubnet("s", "n", "10.0.0.0/29", "10.0.0.1");
  subnet.mutable_dhcp_range()->set_first("10.0.0.2");
  subnet.mutable_dhcp_range()->set_last("10.0.0.4");
  EXPECT_EQ(Next(view, subnet), "10.0.0.5");
  view.Put(MakeEndpoint("a", "n", "52:54:00:00:00:0a", "10.0.0.5"));
  view.Put(MakeEndpoint("b", "n", "52:54:00:00:00:0b", "10.0.0.6"));
  EXPECT_EQ(Next(view, subnet), "subnet_full") << "10.0.0.7 is the broadcast address";
}

TEST(NextFreeAddressTest, SmallPrefixes) {
  InMemoryModelView view;
  view.Put(MakeNetwork("n", "d", 1));
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.0/30")), "10.0.0.1");
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.0/31")), "10.0.0.0") << "RFC 3021";
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.9/32")), "10.0.0.9");
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.0/30", "10.0.0.1")), "10.0.0.2");
  view.Put(MakeEndpoint("a", "n", "52:54:00:00:00:0a", "10.0.0.2"));
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.0/30", "10.0.0.1")), "subnet_full");
}

TEST(NextFreeAddressTest, Ipv6SkipsAnycastAndGateway) {
  auto view = MakeWorld();
  const auto s6 = MakeSubnet("s6x", "n1", "2001:db8::/64", "2001:db8::1");
  EXPECT_EQ(Next(view, s6), "2001:db8::2");
  view.Put(MakeEndpoint("a", "n1", "52:54:00:00:00:0a", "2001:db8::2"));
  EXPECT_EQ(Next(view, s6), "2001:db8::3");
  EXPECT_EQ(Next(view, MakeSubnet("x", "n1", "2001:db8:0:0:1::/80")), "2001:db8::1:0:0:1");
  // RFC 6164: a /127 (and a /128) has no subnet-router anycast address.
  EXPECT_EQ(Next(view, MakeSubnet("x", "n1", "2001:db8::/127")), "2001:db8::");
  EXPECT_EQ(Next(view, MakeSubnet("x", "n1", "2001:db8::9/128")), "2001:db8::9");
  EXPECT_EQ(Next(view, MakeSubnet("x", "n1", "2001:db8::/126")), "2001:db8::1");
}

TEST(NextFreeAddressTest, Ipv6BeyondTheFirst65536) {
  InMemoryModelView view;
  view.Put(MakeNetwork("n", "d", 1));
  auto subnet = MakeSubnet("s", "n", "2001:db8::/64");
  subnet.mutable_dhcp_range()->set_first("2001:db8::1");
  subnet.mutable_dhcp_range()->set_last("2001:db8::1:0");  // covers the first 65536
  EXPECT_EQ(Next(view, subnet), "2001:db8::1:1");
  // A DHCP range over the whole /64 but the anycast address: full.
  subnet.mutable_dhcp_range()->set_last("2001:db8::ffff:ffff:ffff:ffff");
  EXPECT_EQ(Next(view, subnet), "subnet_full");
}

TEST(NextFreeAddressTest, Errors) {
  InMemoryModelView view;
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.0/24")), "not_found");
  view.Put(MakeNetwork("n", "d", 1));
  EXPECT_EQ(Next(view, MakeSubnet("s", "n", "10.0.0.1/24")), "invalid_value");
}

// A view that keeps pools: IPAM answers from the pool alone, without looking at endpoints.
TEST(NextFreeAddressTest, AnswersFromTheViewsPool) {
  class Pooled final : public InMemoryModelView {
   public:
    const AddressPool* FindAddressPool(std::string_view /*subnet_id*/) const override {
      return &*pool;
    }
    std::optional<AddressPool> pool;
  };
  Pooled view;
  view.Put(MakeNetwork("n", "d", 1));
  const auto subnet = MakeSubnet("s", "n", "10.0.0.0/24", "10.0.0.1");
  view.Put(subnet);
  view.pool = *AddressPool::ForSubnet(subnet);
  for (int i = 2; i < 10; ++i) {
    ASSERT_TRUE(view.pool->Take(*net::IpAddress::Parse("10.0.0." + std::to_string(i))));
  }
  EXPECT_EQ(Next(view, subnet), "10.0.0.10") << "the pool's word, not a scan of endpoints";
}

TEST(AssignAddressesTest, OneAddressPerSubnetOnlyWhenNoneGiven) {
  auto view = MakeWorld();
  auto endpoint = MakeEndpoint("e9", "n1", "52:54:00:00:00:09");
  ASSERT_TRUE(AssignAddresses(view, &endpoint));
  ASSERT_EQ(endpoint.ips_size(), 2);
  EXPECT_EQ(endpoint.ips(0), "10.0.0.2");
  EXPECT_EQ(endpoint.ips(1), "2001:db8::2");

  auto given = MakeEndpoint("e8", "n1", "52:54:00:00:00:08", "10.0.0.50");
  ASSERT_TRUE(AssignAddresses(view, &given));
  ASSERT_EQ(given.ips_size(), 1);
  EXPECT_EQ(given.ips(0), "10.0.0.50");

  view.Put(MakeNetwork("bare", "d1", 5));
  auto orphan = MakeEndpoint("e7", "bare", "52:54:00:00:00:07");
  auto result = AssignAddresses(view, &orphan);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "not_found");
}

}  // namespace
}  // namespace dove::model
