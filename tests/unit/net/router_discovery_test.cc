// Router Discovery (RFC 4861 sections 4.1, 4.2, 6.1): scapy-made RS and RA parsed and rebuilt
// byte for byte, the checks the parsers make, the SLAAC address, and the switch's reply
// (BuildRouterAdvertisement) addressed as section 6.2.6 says.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/replies.h"
#include "test_bytes.h"

namespace dove::net {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const MacAddress kVmMac = *MacAddress::Parse("52:54:00:00:00:01");
const MacAddress kRouterMac = *MacAddress::Parse("02:d0:5e:00:00:01");
const Ipv6Address kVmLinkLocal = *Ipv6Address::Parse("fe80::5054:ff:fe00:1");
const Ipv6Address kRouterLinkLocal = *Ipv6Address::Parse("fe80::d0:5eff:fe00:1");
const Ipv6Address kAllRouters = *Ipv6Address::Parse("ff02::2");

// bytes(IPv6(src="fe80::5054:ff:fe00:1", dst="ff02::2", hlim=255)/ICMPv6ND_RS()
//       /ICMPv6NDOptSrcLLAddr(lladdr="52:54:00:00:00:01"))[40:]   (scapy 2.5.0)
const std::vector<uint8_t> kScapySolicitation = Hex("8500da83000000000101525400000001");
// bytes(IPv6(src="fe80::d0:5eff:fe00:1", dst="ff02::1", hlim=255)/ICMPv6ND_RA(chlim=64,
//       routerlifetime=1800)/ICMPv6NDOptSrcLLAddr(lladdr="02:d0:5e:00:00:01")
//       /ICMPv6NDOptMTU(mtu=1450)/ICMPv6NDOptPrefixInfo(prefix="2001:db8::", prefixlen=64, L=1,
//       A=1, validlifetime=2592000, preferredlifetime=604800)/ICMPv6NDOptPrefixInfo(
//       prefix="2001:db8:1::", prefixlen=48, L=1, A=0, ...same lifetimes))[40:]
const std::vector<uint8_t> kScapyAdvertisement =
    Hex("8600086c400007080000000000000000010102d05e00000105010000000005aa030440c000278d0000093a8000"
        "00000020010db80000000000000000000000000304308000278d0000093a800000000020010db8000100000000"
        "000000000000");

RouterAdvertisement ScapyAdvertisement() {
  RouterAdvertisement ra;
  ra.hop_limit = 64;
  ra.router_lifetime = 1800;
  ra.source_mac = kRouterMac;
  ra.mtu = 1450;
  ra.prefixes = {{*Ipv6Address::Parse("2001:db8::"), 64, true, true, 2592000, 604800},
                 {*Ipv6Address::Parse("2001:db8:1::"), 48, true, false, 2592000, 604800}};
  return ra;
}

TEST(RouterDiscoveryTest, ParsesAndBuildsScapySolicitation) {
  const auto icmp = ParseIcmpv6(kScapySolicitation, kVmLinkLocal, kAllRouters);
  ASSERT_TRUE(icmp);
  const auto rs = ParseRouterSolicitation(*icmp);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->source_mac, kVmMac);
  FrameBuilder builder;
  AppendRouterSolicitation(builder, kVmLinkLocal, kAllRouters, *rs);
  EXPECT_EQ(builder.bytes(), kScapySolicitation);
}

TEST(RouterDiscoveryTest, ParsesAndBuildsScapyAdvertisement) {
  const Ipv6Address all = Ipv6Address::AllNodes();
  const auto icmp = ParseIcmpv6(kScapyAdvertisement, kRouterLinkLocal, all);
  ASSERT_TRUE(icmp);
  const auto ra = ParseRouterAdvertisement(*icmp);
  ASSERT_TRUE(ra);
  EXPECT_TRUE(*ra == ScapyAdvertisement());
  FrameBuilder builder;
  AppendRouterAdvertisement(builder, kRouterLinkLocal, all, ScapyAdvertisement());
  EXPECT_EQ(builder.bytes(), kScapyAdvertisement);
}

TEST(RouterDiscoveryTest, RefusesInvalidMessages) {
  const Ipv6Address all = Ipv6Address::AllNodes();
  const auto rs_error = [&](std::vector<uint8_t> bytes,
                            const Ipv6Address& source) -> std::optional<Error> {
    FinishIcmpv6(bytes, source, kAllRouters);
    auto icmp = ParseIcmpv6(bytes, source, kAllRouters);
    EXPECT_TRUE(icmp);
    auto rs = ParseRouterSolicitation(*icmp);
    if (rs) return std::nullopt;
    return rs.error();
  };
  auto rs = kScapySolicitation;
  EXPECT_EQ(rs_error(rs, Ipv6Address()), Error::kBadField) << "an option from ::";
  auto code = rs;
  code[1] = 1;
  EXPECT_EQ(rs_error(code, kVmLinkLocal), Error::kBadField);
  auto zero_length = rs;
  zero_length[9] = 0;
  EXPECT_EQ(rs_error(zero_length, kVmLinkLocal), Error::kBadField);
  auto long_option = rs;
  long_option[9] = 2;
  EXPECT_EQ(rs_error(long_option, kVmLinkLocal), Error::kTruncated);
  EXPECT_EQ(rs_error(Bytes({133, 0, 0, 0, 0, 0, 0, 0}), Ipv6Address()), std::nullopt);

  const auto ra_error = [&](std::vector<uint8_t> bytes,
                            const Ipv6Address& source) -> std::optional<Error> {
    FinishIcmpv6(bytes, source, all);
    auto icmp = ParseIcmpv6(bytes, source, all);
    EXPECT_TRUE(icmp);
    auto ra = ParseRouterAdvertisement(*icmp);
    if (ra) return std::nullopt;
    return ra.error();
  };
  EXPECT_EQ(ra_error(kScapyAdvertisement, *Ipv6Address::Parse("2001:db8::fe")), Error::kBadField)
      << "not from a link-local address";
  auto short_ra = kScapyAdvertisement;
  short_ra.resize(12);
  EXPECT_EQ(ra_error(short_ra, kRouterLinkLocal), Error::kTruncated);
  auto bad_mtu = kScapyAdvertisement;
  bad_mtu[25] = 2;  // the MTU option claims two units
  EXPECT_EQ(ra_error(bad_mtu, kRouterLinkLocal), Error::kBadLength);
  auto bad_prefix = kScapyAdvertisement;
  bad_prefix[34] = 129;  // prefix length
  EXPECT_EQ(ra_error(bad_prefix, kRouterLinkLocal), Error::kBadField);
  EXPECT_EQ(
      ParseRouterSolicitation(*ParseIcmpv6(kScapyAdvertisement, kRouterLinkLocal, all)).error(),
      Error::kUnsupported);
}

TEST(RouterDiscoveryTest, SlaacAddressIsThePrefixAndTheModifiedEui64OfTheMac) {
  EXPECT_EQ(SlaacAddress(*Ipv6Address::Parse("2001:db8:0:7::"), kVmMac).ToString(),
            "2001:db8:0:7:5054:ff:fe00:1");
}

// An RS frame from the VM (`source` its address, or ::), hop limit as given.
std::vector<uint8_t> RsFrame(const Ipv6Address& source, uint8_t hop_limit = 255) {
  FrameBuilder b;
  b.Append(MakeEthernetHeader(*MacAddress::Parse("33:33:00:00:00:02"), kVmMac, ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*MakeIpv6Header(source, kAllRouters, ip_proto::kIcmpv6, hop_limit, 0));
  RouterSolicitation rs;
  if (!source.IsUnspecified()) rs.source_mac = kVmMac;
  AppendRouterSolicitation(b, source, kAllRouters, rs);
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

TEST(RouterAdvertisementReplyTest, AnswersTheSolicitorFromTheRoutersLinkLocalAddress) {
  for (const Ipv6Address& source : {kVmLinkLocal, Ipv6Address()}) {
    SCOPED_TRACE(source.ToString());
    const auto request = RsFrame(source);
    const auto frame = ParseEthernet(request);
    const auto ip = ParseIpv6(frame->payload);
    RouterAdvertisement sent = ScapyAdvertisement();
    sent.source_mac.reset();
    const auto reply = BuildRouterAdvertisement(*frame, *ip, sent, kRouterMac);
    ASSERT_TRUE(reply);
    const auto out = ParseEthernet(*reply);
    ASSERT_TRUE(out);
    const auto out_ip = ParseIpv6(out->payload);
    ASSERT_TRUE(out_ip);
    EXPECT_EQ(out->source, kRouterMac);
    EXPECT_EQ(out_ip->source(), kRouterLinkLocal);
    EXPECT_EQ(out_ip->hop_limit(), 255);
    if (source.IsUnspecified()) {
      EXPECT_EQ(out_ip->destination(), Ipv6Address::AllNodes());
      EXPECT_EQ(out->destination, *MacAddress::Parse("33:33:00:00:00:01"));
    } else {
      EXPECT_EQ(out_ip->destination(), kVmLinkLocal);
      EXPECT_EQ(out->destination, kVmMac);
    }
    const auto icmp = ParseIcmpv6(out_ip->payload, out_ip->source(), out_ip->destination());
    ASSERT_TRUE(icmp) << "checksum verifies";
    const auto ra = ParseRouterAdvertisement(*icmp);
    ASSERT_TRUE(ra);
    EXPECT_TRUE(*ra == ScapyAdvertisement()) << "the router MAC in the source option";
  }
}

TEST(RouterAdvertisementReplyTest, AnUnsolicitedAdvertisementGoesToAllNodes) {
  const auto frame = BuildUnsolicitedRouterAdvertisement(ScapyAdvertisement(), kRouterMac);
  ASSERT_TRUE(frame);
  const auto out = ParseEthernet(*frame);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->destination, *MacAddress::Parse("33:33:00:00:00:01"));
  EXPECT_FALSE(out->vlan);
  const auto ip = ParseIpv6(out->payload);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->destination(), Ipv6Address::AllNodes());
  EXPECT_EQ(ip->source(), kRouterLinkLocal);
  const auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp);
  const auto ra = ParseRouterAdvertisement(*icmp);
  ASSERT_TRUE(ra);
  EXPECT_TRUE(*ra == ScapyAdvertisement());
}

TEST(RouterAdvertisementReplyTest, RefusesASolicitationFromOffLink) {
  const auto request = RsFrame(kVmLinkLocal, 64);
  const auto frame = ParseEthernet(request);
  const auto ip = ParseIpv6(frame->payload);
  const auto reply = BuildRouterAdvertisement(*frame, *ip, ScapyAdvertisement(), kRouterMac);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::kBadField);
}

}  // namespace
}  // namespace dove::net
