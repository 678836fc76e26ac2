// Neighbor Discovery: scapy-made NS and NA parsed and rebuilt byte for byte, the option
// walker, and every check of RFC 4861 sections 7.1.1 and 7.1.2 the parsers make.
#include "net/neighbor_discovery.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <vector>

#include "net/frame_builder.h"
#include "net/icmpv6.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {

inline void PrintTo(const NeighborSolicitation& ns, std::ostream* out) {
  *out << "NS{target=" << ns.target.ToString()
       << " source_mac=" << (ns.source_mac ? ns.source_mac->ToString() : "none") << "}";
}
inline void PrintTo(const NeighborAdvertisement& na, std::ostream* out) {
  *out << "NA{target=" << na.target.ToString() << " R=" << na.router_flag
       << " S=" << na.solicited_flag << " O=" << na.override_flag
       << " target_mac=" << (na.target_mac ? na.target_mac->ToString() : "none") << "}";
}

namespace {

const MacAddress kMac1 = *MacAddress::Parse("52:54:00:00:00:01");
const MacAddress kMac2 = *MacAddress::Parse("52:54:00:00:00:02");
const Ipv6Address kLinkLocal1 = *Ipv6Address::Parse("fe80::5054:ff:fe00:1");
const Ipv6Address kTarget = *Ipv6Address::Parse("2001:db8::2");
const Ipv6Address kTargetGroup = *Ipv6Address::Parse("ff02::1:ff00:2");

// bytes(IPv6(src="fe80::5054:ff:fe00:1", dst="ff02::1:ff00:2")/ICMPv6ND_NS(tgt="2001:db8::2")
//       /ICMPv6NDOptSrcLLAddr(lladdr="52:54:00:00:00:01"))[40:]   (scapy 2.5.0)
const std::vector<uint8_t> kScapySolicitation =
    Bytes({0x87, 0x00, 0xab, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d,
           0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x02, 0x01, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01});

// bytes(IPv6(src="2001:db8::2", dst="fe80::5054:ff:fe00:1")/ICMPv6ND_NA(tgt="2001:db8::2",
//       R=0, S=1, O=1)/ICMPv6NDOptDstLLAddr(lladdr="52:54:00:00:00:02"))[40:]   (scapy 2.5.0)
const std::vector<uint8_t> kScapyAdvertisement =
    Bytes({0x88, 0x00, 0x1a, 0x01, 0x60, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d,
           0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x02, 0x02, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x02});

// A message as it arrives: re-checksummed for its addresses after any edit, then parsed (with
// verification) the way the data plane does before reading the ND part.
struct Received {
  std::vector<uint8_t> bytes;
  Ipv6Address source;
  Ipv6Address destination;
};

Result<NeighborSolicitation> ReceiveSolicitation(Received message) {
  FinishIcmpv6(message.bytes, message.source, message.destination);
  auto icmp = ParseIcmpv6(message.bytes, message.source, message.destination);
  if (!icmp) return Unexpected(icmp.error());
  return ParseNeighborSolicitation(*icmp);
}

Result<NeighborAdvertisement> ReceiveAdvertisement(Received message) {
  FinishIcmpv6(message.bytes, message.source, message.destination);
  auto icmp = ParseIcmpv6(message.bytes, message.source, message.destination);
  if (!icmp) return Unexpected(icmp.error());
  return ParseNeighborAdvertisement(*icmp);
}

std::vector<uint8_t> WithTail(std::vector<uint8_t> bytes, std::initializer_list<int> tail) {
  for (int v : tail) bytes.push_back(static_cast<uint8_t>(v));
  return bytes;
}

std::vector<uint8_t> FixedPartOnly(const std::vector<uint8_t>& message) {
  return {message.begin(), message.begin() + nd::kMinimumMessageSize};
}

TEST(NeighborDiscoveryTest, ParsesScapySolicitation) {
  auto icmp = ParseIcmpv6(kScapySolicitation, kLinkLocal1, kTargetGroup);
  ASSERT_TRUE(icmp);
  auto ns = ParseNeighborSolicitation(*icmp);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->target, kTarget);
  ASSERT_TRUE(ns->source_mac);
  EXPECT_EQ(*ns->source_mac, kMac1);
}

TEST(NeighborDiscoveryTest, BuildsScapySolicitation) {
  FrameBuilder builder;
  const size_t at =
      AppendNeighborSolicitation(builder, kLinkLocal1, kTargetGroup, {kTarget, kMac1});
  EXPECT_EQ(at, 0u);
  EXPECT_EQ(builder.bytes(), kScapySolicitation);
}

TEST(NeighborDiscoveryTest, ParsesScapyAdvertisement) {
  auto icmp = ParseIcmpv6(kScapyAdvertisement, kTarget, kLinkLocal1);
  ASSERT_TRUE(icmp);
  auto na = ParseNeighborAdvertisement(*icmp);
  ASSERT_TRUE(na);
  EXPECT_EQ(na->target, kTarget);
  EXPECT_FALSE(na->router_flag);
  EXPECT_TRUE(na->solicited_flag);
  EXPECT_TRUE(na->override_flag);
  ASSERT_TRUE(na->target_mac);
  EXPECT_EQ(*na->target_mac, kMac2);
}

TEST(NeighborDiscoveryTest, BuildsScapyAdvertisement) {
  NeighborAdvertisement na;
  na.target = kTarget;
  na.solicited_flag = true;
  na.override_flag = true;
  na.target_mac = kMac2;
  FrameBuilder builder;
  builder.AppendZeros(40);  // where the IPv6 header would go
  const size_t at = AppendNeighborAdvertisement(builder, kTarget, kLinkLocal1, na);
  EXPECT_EQ(at, 40u);
  const auto message = builder.From(at);
  EXPECT_EQ(std::vector<uint8_t>(message.begin(), message.end()), kScapyAdvertisement);
}

TEST(NeighborDiscoveryTest, AdvertisementRoundTripsEveryFlagCombination) {
  for (int bits = 0; bits < 16; ++bits) {
    NeighborAdvertisement na;
    na.target = kTarget;
    na.router_flag = (bits & 1) != 0;
    na.solicited_flag = (bits & 2) != 0;
    na.override_flag = (bits & 4) != 0;
    if ((bits & 8) != 0) na.target_mac = kMac2;
    FrameBuilder builder;
    AppendNeighborAdvertisement(builder, kTarget, kLinkLocal1, na);
    EXPECT_EQ(builder.size(), na.target_mac ? 32u : 24u);
    auto icmp = ParseIcmpv6(builder.bytes(), kTarget, kLinkLocal1);
    ASSERT_TRUE(icmp) << bits;
    auto parsed = ParseNeighborAdvertisement(*icmp);
    ASSERT_TRUE(parsed) << bits;
    EXPECT_EQ(*parsed, na) << bits;
  }
}

TEST(NeighborDiscoveryTest, DuplicateAddressDetectionSolicitation) {
  // RFC 4862 section 5.4.2: from ::, to the tentative address's group, no link-layer option.
  FrameBuilder builder;
  AppendNeighborSolicitation(builder, Ipv6Address(), kTargetGroup, {kTarget, std::nullopt});
  EXPECT_EQ(builder.size(), 24u);
  auto icmp = ParseIcmpv6(builder.bytes(), Ipv6Address(), kTargetGroup);
  ASSERT_TRUE(icmp);
  auto ns = ParseNeighborSolicitation(*icmp);
  ASSERT_TRUE(ns);
  EXPECT_EQ(*ns, (NeighborSolicitation{kTarget, std::nullopt}));
}

TEST(NeighborDiscoveryTest, SkipsUnknownOptionsAndKeepsTheFirstAddress) {
  struct Case {
    const char* description;
    std::vector<uint8_t> message;
    std::optional<MacAddress> expected;
  };
  const std::vector<Case> cases = {
      {"fixed part only", FixedPartOnly(kScapySolicitation), std::nullopt},
      {"target address option is not the source's",
       WithTail(FixedPartOnly(kScapySolicitation), {2, 1, 0x52, 0x54, 0, 0, 0, 9}), std::nullopt},
      {"unknown type 200 before, 16 bytes long",
       WithTail(FixedPartOnly(kScapySolicitation), {200, 2,  1,  2,  3, 4, 5,    6,    7, 8, 9, 10,
                                                    11,  12, 13, 14, 1, 1, 0x52, 0x54, 0, 0, 0, 1}),
       kMac1},
      {"a nonce option (14) after", WithTail(kScapySolicitation, {14, 1, 1, 2, 3, 4, 5, 6}), kMac1},
      {"second source address ignored",
       WithTail(kScapySolicitation, {1, 1, 0x52, 0x54, 0, 0, 0, 9}), kMac1},
      {"second source address ignored even if of a bad length",
       WithTail(kScapySolicitation, {1, 2, 0x52, 0x54, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}), kMac1},
  };
  for (const auto& c : cases) {
    auto ns = ReceiveSolicitation({c.message, kLinkLocal1, kTargetGroup});
    ASSERT_TRUE(ns) << c.description;
    EXPECT_EQ(ns->target, kTarget) << c.description;
    EXPECT_EQ(ns->source_mac, c.expected) << c.description;
  }
}

TEST(NeighborDiscoveryTest, RefusesInvalidSolicitations) {
  struct Case {
    const char* description;
    Received message;
    Error error;
  };
  auto with_byte = [](size_t index, int value) {
    auto bytes = kScapySolicitation;
    bytes[index] = static_cast<uint8_t>(value);
    return bytes;
  };
  auto multicast_target = kScapySolicitation;
  const auto all_nodes = Ipv6Address::AllNodes().bytes();
  std::copy(all_nodes.begin(), all_nodes.end(), multicast_target.begin() + 8);
  const std::vector<Case> cases = {
      {"an advertisement", {kScapyAdvertisement, kTarget, kLinkLocal1}, Error::kUnsupported},
      {"code 1", {with_byte(1, 1), kLinkLocal1, kTargetGroup}, Error::kBadField},
      {"23 bytes",
       {std::vector<uint8_t>(kScapySolicitation.begin(), kScapySolicitation.begin() + 23),
        kLinkLocal1, kTargetGroup},
       Error::kTruncated},
      {"multicast target", {multicast_target, kLinkLocal1, kTargetGroup}, Error::kBadField},
      {"option length 0", {with_byte(25, 0), kLinkLocal1, kTargetGroup}, Error::kBadField},
      {"option runs past the end",
       {with_byte(25, 2), kLinkLocal1, kTargetGroup},
       Error::kTruncated},
      {"one stray byte after the options",
       {WithTail(kScapySolicitation, {1}), kLinkLocal1, kTargetGroup},
       Error::kTruncated},
      {"unknown option of length 0 after",
       {WithTail(kScapySolicitation, {99, 0, 0, 0, 0, 0, 0, 0}), kLinkLocal1, kTargetGroup},
       Error::kBadField},
      {"source address option of 2 units",
       {WithTail(FixedPartOnly(kScapySolicitation),
                 {1, 2, 0x52, 0x54, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
        kLinkLocal1, kTargetGroup},
       Error::kBadLength},
      {"from :: with a source address option",
       {kScapySolicitation, Ipv6Address(), kTargetGroup},
       Error::kBadField},
      {"from :: to all nodes",
       {FixedPartOnly(kScapySolicitation), Ipv6Address(), Ipv6Address::AllNodes()},
       Error::kBadField},
      {"from :: to a unicast address",
       {FixedPartOnly(kScapySolicitation), Ipv6Address(), kTarget},
       Error::kBadField},
  };
  for (const auto& c : cases) {
    auto ns = ReceiveSolicitation(c.message);
    ASSERT_FALSE(ns) << c.description;
    EXPECT_EQ(ns.error(), c.error) << c.description;
  }
}

TEST(NeighborDiscoveryTest, IgnoresReservedBitsOfAdvertisement) {
  auto bytes = kScapyAdvertisement;
  bytes[4] = 0x1f;  // R, S, O clear; every reserved bit set
  bytes[7] = 0xff;
  auto na = ReceiveAdvertisement({bytes, kTarget, kLinkLocal1});
  ASSERT_TRUE(na);
  EXPECT_FALSE(na->router_flag);
  EXPECT_FALSE(na->solicited_flag);
  EXPECT_FALSE(na->override_flag);
}

TEST(NeighborDiscoveryTest, UnsolicitedAdvertisementToAllNodes) {
  auto bytes = kScapyAdvertisement;
  bytes[4] = 0xa0;  // R and O: a router announcing a new address
  auto na = ReceiveAdvertisement({bytes, kTarget, Ipv6Address::AllNodes()});
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->router_flag);
  EXPECT_FALSE(na->solicited_flag);
  EXPECT_TRUE(na->override_flag);
  EXPECT_EQ(na->target_mac, kMac2);
}

TEST(NeighborDiscoveryTest, RefusesInvalidAdvertisements) {
  struct Case {
    const char* description;
    Received message;
    Error error;
  };
  auto with_byte = [](size_t index, int value) {
    auto bytes = kScapyAdvertisement;
    bytes[index] = static_cast<uint8_t>(value);
    return bytes;
  };
  const std::vector<Case> cases = {
      {"a solicitation", {kScapySolicitation, kLinkLocal1, kTargetGroup}, Error::kUnsupported},
      {"code 255", {with_byte(1, 255), kTarget, kLinkLocal1}, Error::kBadField},
      {"8 bytes",
       {std::vector<uint8_t>(kScapyAdvertisement.begin(), kScapyAdvertisement.begin() + 8), kTarget,
        kLinkLocal1},
       Error::kTruncated},
      {"multicast target ff01:db8::2",
       {with_byte(8, 0xff), kTarget, kLinkLocal1},
       Error::kBadField},
      {"solicited, to all nodes",
       {kScapyAdvertisement, kTarget, Ipv6Address::AllNodes()},
       Error::kBadField},
      {"option length 0", {with_byte(25, 0), kTarget, kLinkLocal1}, Error::kBadField},
      {"option runs past the end", {with_byte(25, 3), kTarget, kLinkLocal1}, Error::kTruncated},
      {"target address option of 2 units",
       {WithTail(FixedPartOnly(kScapyAdvertisement),
                 {2, 2, 0x52, 0x54, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}),
        kTarget, kLinkLocal1},
       Error::kBadLength},
  };
  for (const auto& c : cases) {
    auto na = ReceiveAdvertisement(c.message);
    ASSERT_FALSE(na) << c.description;
    EXPECT_EQ(na.error(), c.error) << c.description;
  }
}

TEST(NeighborDiscoveryTest, ChecksumIsVerifiedBeforeNd) {
  auto bytes = kScapySolicitation;
  bytes.back() ^= 0x01;  // not re-checksummed
  auto icmp = ParseIcmpv6(bytes, kLinkLocal1, kTargetGroup);
  ASSERT_FALSE(icmp);
  EXPECT_EQ(icmp.error(), Error::kBadChecksum);
}

TEST(NdOptionWalkerTest, WalksAnOptionsArea) {
  const auto area = Bytes({1,    1, 0x52, 0x54, 0, 0, 0,    1,     // SLLA
                           5,    1, 0,    0,    0, 0, 0x05, 0xdc,  // MTU 1500
                           3,    4, 64,   0xc0, 0, 0, 0,    1,    0, 0, 0, 2, 0, 0, 0, 0,  // prefix
                           0x20, 1, 0x0d, 0xb8, 0, 0, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0});  // info
  NdOptionWalker walker(area);
  struct Want {
    uint8_t type;
    size_t size;
    size_t offset;
  };
  const Want expected[] = {{nd::kOptionSourceLinkLayerAddress, 8, 0},
                           {nd::kOptionMtu, 8, 8},
                           {nd::kOptionPrefixInformation, 32, 16}};
  for (const auto& e : expected) {
    ASSERT_FALSE(walker.AtEnd());
    auto option = walker.Next();
    ASSERT_TRUE(option);
    EXPECT_EQ(option->type, e.type);
    EXPECT_EQ(option->bytes.size(), e.size);
    EXPECT_EQ(option->bytes.data(), area.data() + e.offset);
    EXPECT_EQ(option->data().size(), e.size - 2);
  }
  EXPECT_TRUE(walker.AtEnd());
  EXPECT_TRUE(NdOptionWalker(ByteSpan()).AtEnd());
}

TEST(NdOptionWalkerTest, StopsAtTheFirstBadOption) {
  struct Case {
    const char* description;
    std::vector<uint8_t> area;
    int good_options;
    Error error;
  };
  const std::vector<Case> cases = {
      {"nothing left", {}, 0, Error::kTruncated},
      {"one byte", Bytes({1}), 0, Error::kTruncated},
      {"length 0", Bytes({1, 0, 0, 0, 0, 0, 0, 0}), 0, Error::kBadField},
      {"2 units, 8 bytes there", Bytes({1, 2, 0, 0, 0, 0, 0, 0}), 0, Error::kTruncated},
      {"a good one, then 7 bytes", Bytes({1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0}), 1,
       Error::kTruncated},
      {"a good one, then length 0", Bytes({1, 1, 0, 0, 0, 0, 0, 0, 2, 0}), 1, Error::kBadField},
  };
  for (const auto& c : cases) {
    NdOptionWalker walker(c.area);
    for (int i = 0; i < c.good_options; ++i) ASSERT_TRUE(walker.Next()) << c.description;
    auto option = walker.Next();
    ASSERT_FALSE(option) << c.description;
    EXPECT_EQ(option.error(), c.error) << c.description;
    EXPECT_TRUE(walker.AtEnd()) << c.description;
  }
}

TEST(NdOptionWalkerTest, LinkLayerAddressMustBeOneUnit) {
  const auto one_unit = Bytes({2, 1, 0x52, 0x54, 0, 0, 0, 2});
  auto mac = ParseNdLinkLayerAddress({2, one_unit});
  ASSERT_TRUE(mac);
  EXPECT_EQ(*mac, kMac2);
  const auto two_units = Bytes({2, 2, 0x52, 0x54, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(ParseNdLinkLayerAddress({2, two_units}).error(), Error::kBadLength);
  EXPECT_EQ(ParseNdLinkLayerAddress({2, ByteSpan(one_unit).first(4)}).error(), Error::kBadLength);
}

}  // namespace
}  // namespace dove::net
