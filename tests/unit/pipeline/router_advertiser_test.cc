// RouterAdvertiser: a Router Solicitation from a port is answered with the network's prefixes
// and MTU (the reply parsed back); the autonomous flag only for a port whose address is its
// SLAAC address; router lifetime only with a gateway; RAs from VMs and unanswerable RSs dropped.
#include "dswitch/pipeline/router_advertiser.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "dswitch/pipeline/classify.h"
#include "net/icmpv6.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

const net::MacAddress kSlaacMac = Mac("52:54:00:00:00:05");
const net::Ipv6Address kAllRouters = Ip6("ff02::2");

// An RS from (`mac`, `source`) to all routers, hop limit as given.
std::vector<uint8_t> RsFrame(const net::MacAddress& mac, const net::Ipv6Address& source,
                             uint8_t hop_limit = 255) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(Mac("33:33:00:00:00:02"), mac, net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, kAllRouters, net::ip_proto::kIcmpv6, hop_limit, 0));
  net::RouterSolicitation rs;
  if (!source.IsUnspecified()) rs.source_mac = mac;
  net::AppendRouterSolicitation(b, source, kAllRouters, rs);
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// Network 100: 2001:db8::/64 with gateway, 2001:db8:1::/64 with MTU 1400, 10.0.0.0/24.
// Port 5 has the SLAAC address of its MAC in 2001:db8::/64; port 1 has 2001:db8::1.
Tables RaTables(bool with_gateway = true) {
  Tables t = ScenarioTables();
  std::optional<net::IpAddress> gateway;
  if (with_gateway) gateway = net::IpAddress(Ip6("2001:db8::fe"));
  NetworkSettings hundred{.vni = kVni,
                          .router_mac = kRouterMac,
                          .flood_tunnel_ips = {kPeerVtep},
                          .domain_tunnel_ips = {},
                          .subnets = {{.prefix = *net::IpPrefix::Parse("2001:db8::/64"),
                                       .gateway = gateway,
                                       .dns_servers = {},
                                       .mtu = 0},
                                      {.prefix = *net::IpPrefix::Parse("2001:db8:1::/64"),
                                       .gateway = std::nullopt,
                                       .dns_servers = {},
                                       .mtu = 1400},
                                      {.prefix = *net::IpPrefix::Parse("10.0.0.0/24"),
                                       .gateway = std::nullopt,
                                       .dns_servers = {},
                                       .mtu = 0}},
                          .routes = {},
                          .policies = {}};
  EXPECT_TRUE(t.UpsertNetwork(hundred));
  EXPECT_TRUE(t.UpsertPort({.id = 5,
                            .vni = kVni,
                            .mac = kSlaacMac,
                            .ips = {net::SlaacAddress(Ip6("2001:db8::"), kSlaacMac)}}));
  return t;
}

class RouterAdvertiserTest : public PoolTest {
 protected:
  // Runs one frame from `port`; returns the advertisement it got, parsed back.
  std::optional<net::RouterAdvertisement> Run(PortId port, const std::vector<uint8_t>& frame) {
    PacketBatch batch = OneFrame(pool_, frame, port, tables_.Port(port)->vni);
    EXPECT_TRUE(Classify(*batch[0]));
    PacketBatch replies;
    advertiser_.Process(batch, replies);
    EXPECT_TRUE(batch.empty()) << "every RS and RA from a port is taken";
    std::optional<net::RouterAdvertisement> out;
    for (Packet* reply : replies) {
      EXPECT_EQ(reply->meta.out_port, port);
      const auto bytes = Bytes(*reply);
      const auto frame_out = net::ParseEthernet(bytes);
      const auto ip = net::ParseIpv6(frame_out->payload);
      EXPECT_EQ(ip->source(), net::Ipv6Address::LinkLocalFromMac(kRouterMac));
      EXPECT_EQ(frame_out->source, kRouterMac);
      const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
      EXPECT_TRUE(icmp);
      if (auto ra = net::ParseRouterAdvertisement(*icmp)) out = *ra;
    }
    EXPECT_LE(replies.size(), 1U);
    FreeAll(pool_, batch, replies);
    return out;
  }

  Tables tables_ = RaTables();
  Counters counters_;
  RouterAdvertiser advertiser_{tables_, counters_, pool_, 1450};
};

TEST_F(RouterAdvertiserTest, AnswersWithEveryIpv6PrefixTheMtuAndARouterLifetime) {
  const auto ra = Run(1, RsFrame(kVm1Mac, net::Ipv6Address::LinkLocalFromMac(kVm1Mac)));
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->router_lifetime, RouterAdvertiser::kRouterLifetime);
  EXPECT_EQ(ra->hop_limit, 64);
  EXPECT_FALSE(ra->managed);
  EXPECT_EQ(ra->mtu, 1400U) << "the smallest MTU an IPv6 subnet sets";
  EXPECT_EQ(ra->source_mac, kRouterMac);
  ASSERT_EQ(ra->prefixes.size(), 2U) << "IPv6 subnets only";
  EXPECT_EQ(ra->prefixes[0].prefix, Ip6("2001:db8::"));
  EXPECT_EQ(ra->prefixes[0].length, 64);
  EXPECT_TRUE(ra->prefixes[0].on_link);
  EXPECT_FALSE(ra->prefixes[0].autonomous) << "2001:db8::1 is not vm1's SLAAC address";
  EXPECT_EQ(ra->prefixes[0].valid_lifetime, RouterAdvertiser::kValidLifetime);
  EXPECT_EQ(ra->prefixes[1].prefix, Ip6("2001:db8:1::"));
  EXPECT_FALSE(ra->prefixes[1].autonomous);
  EXPECT_EQ(advertiser_.counters().advertisements, 1U);
  EXPECT_EQ(counters_.port(1).sent, 1U);
}

TEST_F(RouterAdvertiserTest, AutonomousOnlyWhereThePortsAddressIsItsSlaacAddress) {
  const auto ra = Run(5, RsFrame(kSlaacMac, net::Ipv6Address()));
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->prefixes.size(), 2U);
  EXPECT_TRUE(ra->prefixes[0].autonomous);
  EXPECT_FALSE(ra->prefixes[1].autonomous) << "no address of its own in that prefix";
}

TEST_F(RouterAdvertiserTest, NoGatewayNoDefaultRouterAndTheOverlayMtuWhenNoSubnetSetsOne) {
  Tables tables = RaTables(/*with_gateway=*/false);
  auto settings_port = *tables.Port(1);
  NetworkTables network = *tables.Network(kVni);
  network.subnets.erase(network.subnets.begin() + 1);
  const auto ra = AdvertisementFor(settings_port, network, 1450);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->router_lifetime, 0);
  EXPECT_EQ(ra->mtu, 1450U);
}

TEST_F(RouterAdvertiserTest, WhatIsNotAnsweredIsCounted) {
  EXPECT_FALSE(Run(1, RsFrame(kVm1Mac, net::Ipv6Address::LinkLocalFromMac(kVm1Mac), 64)))
      << "hop limit not 255";
  EXPECT_FALSE(Run(3, RsFrame(kVm3Mac, net::Ipv6Address()))) << "network 200 has no IPv6";
  EXPECT_EQ(counters_.drops(DropReason::kRsNotAnswered), 2U);

  // A VM advertising itself as a router.
  net::FrameBuilder b;
  const net::Ipv6Address source = net::Ipv6Address::LinkLocalFromMac(kVm1Mac);
  b.Append(net::MakeEthernetHeader(Mac("33:33:00:00:00:01"), kVm1Mac, net::ether_type::kIpv6));
  const size_t ip_at = b.Append(
      *net::MakeIpv6Header(source, net::Ipv6Address::AllNodes(), net::ip_proto::kIcmpv6, 255, 0));
  net::RouterAdvertisement rogue;
  rogue.router_lifetime = 1800;
  net::AppendRouterAdvertisement(b, source, net::Ipv6Address::AllNodes(), rogue);
  ASSERT_TRUE(net::FinishIpv6(b.From(ip_at)));
  EXPECT_FALSE(Run(1, std::move(b).Take()));
  EXPECT_EQ(counters_.drops(DropReason::kRaFromPort), 1U);
}

TEST_F(RouterAdvertiserTest, AnnouncesToAPortOnlyWhereItsNetworkHasIpv6) {
  PacketBatch replies;
  EXPECT_TRUE(advertiser_.Announce(1, replies));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0]->meta.out_port, 1U);
  EXPECT_FALSE(advertiser_.Announce(3, replies)) << "network 200 has no IPv6 subnet";
  EXPECT_FALSE(advertiser_.Announce(77, replies)) << "no such port";
  EXPECT_EQ(replies.size(), 1U);
  EXPECT_EQ(advertiser_.counters().unsolicited, 1U);
  FreeAll(pool_, replies);
}

TEST_F(RouterAdvertiserTest, OtherIcmpv6IsLeftAlone) {
  PacketBatch batch = OneFrame(pool_, NsFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, kVm1Mac), 1, kVni);
  ASSERT_TRUE(Classify(*batch[0]));
  PacketBatch replies;
  advertiser_.Process(batch, replies);
  EXPECT_EQ(batch.size(), 1U);
  FreeAll(pool_, batch, replies);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
