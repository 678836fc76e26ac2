// VXLAN: exact header bytes, every parse error under both receive policies, a frame built by
// scapy, and the flow hash / source port.
#include "net/vxlan.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

std::vector<uint8_t> HeaderBytes(const VxlanHeader& header) {
  FrameBuilder builder;
  builder.Append(header);
  return builder.bytes();
}

// A minimal inner Ethernet frame: 52:54:00:00:00:01 -> 52:54:00:00:00:02, IPv4, 2 bytes.
const std::vector<uint8_t> kInner =
    Bytes({0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00, 0xaa, 0xbb});

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(VxlanTest, MakesTheHeaderTheKernelAccepts) {
  struct Case {
    const char* description;
    uint32_t vni;
    std::vector<uint8_t> bytes;
  };
  const std::vector<Case> cases = {
      {"VNI 42", 42, Bytes({0x08, 0, 0, 0, 0x00, 0x00, 0x2a, 0x00})},
      {"VNI 0", 0, Bytes({0x08, 0, 0, 0, 0, 0, 0, 0})},
      {"VNI 0xabcdef", 0xabcdef, Bytes({0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0x00})},
      {"largest VNI", kMaxVni, Bytes({0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0x00})},
  };
  for (const auto& c : cases) {
    auto header = MakeVxlanHeader(c.vni);
    ASSERT_TRUE(header) << c.description;
    EXPECT_EQ(HeaderBytes(*header), c.bytes) << c.description;
  }
}

TEST(VxlanTest, RefusesVniWiderThan24Bits) {
  for (uint32_t vni : {kMaxVni + 1, 0x10000000u, 0xffffffffu}) {
    auto header = MakeVxlanHeader(vni);
    ASSERT_FALSE(header) << vni;
    EXPECT_EQ(header.error(), Error::kOutOfRange) << vni;
  }
}

TEST(VxlanTest, RoundTripPointsIntoTheBuffer) {
  const auto packet = Concat(HeaderBytes(*MakeVxlanHeader(0x123456)), kInner);
  for (auto policy : {VxlanReceivePolicy::kStrict, VxlanReceivePolicy::kLenient}) {
    auto parsed = ParseVxlan(packet, policy);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->vni, 0x123456u);
    EXPECT_EQ(parsed->flags, kVxlanFlagI);
    EXPECT_EQ(parsed->inner_frame.data(), packet.data() + 8);
    EXPECT_EQ(parsed->inner_frame.size(), kInner.size());
  }
}

TEST(VxlanTest, RefusesMalformedHeaders) {
  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    VxlanReceivePolicy policy;
    Error error;
  };
  using enum VxlanReceivePolicy;
  const std::vector<Case> cases = {
      {"empty", {}, kStrict, Error::kTruncated},
      {"7 bytes", Bytes({0x08, 0, 0, 0, 0, 0, 0x2a}), kLenient, Error::kTruncated},
      {"I flag clear", Concat(Bytes({0x00, 0, 0, 0, 0, 0, 0x2a, 0}), kInner), kStrict,
       Error::kBadField},
      {"I flag clear, lenient", Concat(Bytes({0xf7, 0, 0, 0, 0, 0, 0x2a, 0}), kInner), kLenient,
       Error::kBadField},
      {"GPE P bit", Concat(Bytes({0x0c, 0, 0, 0x03, 0, 0, 0x2a, 0}), kInner), kStrict,
       Error::kBadField},
      {"GBP G bit", Concat(Bytes({0x88, 0, 0, 0, 0, 0, 0x2a, 0}), kInner), kStrict,
       Error::kBadField},
      {"reserved byte 1", Concat(Bytes({0x08, 1, 0, 0, 0, 0, 0x2a, 0}), kInner), kStrict,
       Error::kBadField},
      {"reserved byte 3", Concat(Bytes({0x08, 0, 0, 0x80, 0, 0, 0x2a, 0}), kInner), kStrict,
       Error::kBadField},
      {"last byte", Concat(Bytes({0x08, 0, 0, 0, 0, 0, 0x2a, 0x01}), kInner), kStrict,
       Error::kBadField},
      {"no inner frame", Bytes({0x08, 0, 0, 0, 0, 0, 0x2a, 0}), kStrict, Error::kTruncated},
      {"no inner frame, lenient", Bytes({0x08, 0, 0, 0, 0, 0, 0x2a, 0}), kLenient,
       Error::kTruncated},
      {"13-byte inner frame",
       Concat(Bytes({0x08, 0, 0, 0, 0, 0, 0x2a, 0}),
              Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8})),
       kStrict, Error::kTruncated},
  };
  for (const auto& c : cases) {
    auto parsed = ParseVxlan(c.packet, c.policy);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(VxlanTest, LenientPolicyIgnoresReservedBits) {
  struct Case {
    const char* description;
    std::vector<uint8_t> header;
    uint32_t vni;
    uint8_t flags;
  };
  const std::vector<Case> cases = {
      {"GPE P bit and next protocol", Bytes({0x0c, 0, 0, 0x03, 0, 0, 0x2a, 0}), 42, 0x0c},
      {"every flag", Bytes({0xff, 0, 0, 0, 0, 0, 0x01, 0}), 1, 0xff},
      {"reserved bytes", Bytes({0x08, 0xff, 0xff, 0xff, 0xab, 0xcd, 0xef, 0xff}), 0xabcdef, 0x08},
  };
  for (const auto& c : cases) {
    const auto packet = Concat(c.header, kInner);
    auto parsed = ParseVxlan(packet, VxlanReceivePolicy::kLenient);
    ASSERT_TRUE(parsed) << c.description;
    EXPECT_EQ(parsed->vni, c.vni) << c.description;
    EXPECT_EQ(parsed->flags, c.flags) << c.description;
    EXPECT_EQ(parsed->inner_frame.size(), kInner.size()) << c.description;
  }
}

// /usr/bin/python3 -c 'from scapy.all import *; print(bytes(VXLAN(vni=42, flags=0x08)/
//   Ether(dst="52:54:00:00:00:02", src="52:54:00:00:00:01")/IP(src="10.0.0.1", dst="10.0.0.2")/
//   UDP(sport=1234, dport=80)/b"hi").hex())'                                    (scapy 2.5.0)
const std::vector<uint8_t> kScapyVxlan = Bytes({
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x52, 0x54, 0x00, 0x00, 0x00,
    0x02, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1e,
    0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcc, 0x0a, 0x00, 0x00, 0x01, 0x0a,
    0x00, 0x00, 0x02, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x0a, 0x7e, 0x4c, 0x68, 0x69,
});

TEST(VxlanTest, ParsesScapyFrameAndBuildsTheSameHeader) {
  auto parsed = ParseVxlan(kScapyVxlan);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->vni, 42u);
  EXPECT_EQ(parsed->flags, 0x08);
  ASSERT_EQ(parsed->inner_frame.size(), 44u);
  auto inner = ParseEthernet(parsed->inner_frame);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->destination, *MacAddress::Parse("52:54:00:00:00:02"));
  EXPECT_EQ(inner->source, *MacAddress::Parse("52:54:00:00:00:01"));
  EXPECT_EQ(inner->ether_type, ether_type::kIpv4);

  const std::vector<uint8_t> scapy_header(kScapyVxlan.begin(), kScapyVxlan.begin() + 8);
  EXPECT_EQ(HeaderBytes(*MakeVxlanHeader(42)), scapy_header);
}

// Scapy's VXLAN layer, left to choose its flags above an Ether layer, writes VXLAN-GPE's P bit
// and next protocol 3 (`0c 00 00 03`): the Linux kernel drops that, and so do we by default.
TEST(VxlanTest, ScapyDefaultGpeHeaderIsStrictlyRefused) {
  auto packet = kScapyVxlan;
  packet[0] = 0x0c;
  packet[3] = 0x03;
  EXPECT_EQ(ParseVxlan(packet).error(), Error::kBadField);
  auto lenient = ParseVxlan(packet, VxlanReceivePolicy::kLenient);
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->vni, 42u);
}

TEST(VxlanTest, SourcePortStaysInTheDynamicRange) {
  static_assert(VxlanSourcePort(0) == kVxlanSourcePortMin);
  static_assert(VxlanSourcePort(0x0000ffff) == kVxlanSourcePortMax);
  EXPECT_EQ(VxlanSourcePort(0), 49152);
  EXPECT_EQ(VxlanSourcePort(0x0000ffff), 65535);
  uint32_t hash = 1;
  for (int i = 0; i < 100000; ++i) {
    hash = hash * 1664525 + 1013904223;
    const uint16_t port = VxlanSourcePort(hash);
    ASSERT_GE(port, 49152) << hash;
    ASSERT_LE(port, 65535) << hash;
  }
  for (uint32_t edge : {0x80000000u, 0xffffffffu, 0xffff0000u, 0x7fffffffu}) {
    EXPECT_GE(VxlanSourcePort(edge), 49152) << edge;
  }
}

// Inner frame offsets used below: Ethernet 0..13; IPv4 at 14 (id 18, flags 20, TTL 22,
// protocol 23, checksum 24, source 26, destination 30); TCP at 34 (ports 34 and 36, seq 38);
// payload from 54.
std::vector<uint8_t> Ipv4TcpFrame() {
  std::vector<uint8_t> frame = Bytes({
      0x52, 0x54, 0,    0,    0,    2,    0x52, 0x54, 0,  0, 0, 1, 0x08, 0x00,  // Ethernet
      0x45, 0,    0,    44,   0x12, 0x34, 0x40, 0,    64, 6, 0, 0, 10,   0,
      0,    1,    10,   0,    0,    2,  // IPv4
      0x9c, 0x40, 0x00, 0x50, 0,    0,    0,    1,    0,  0, 0, 0, 0x50, 0x02,
      0xff, 0xff, 0,    0,    0,    0,  // TCP
      'd',  'a',  't',  'a',
  });
  return frame;
}

// IPv6 at 14 (flow label 15..17, next header 20, hop limit 21, source 22, destination 38);
// UDP at 54 (ports 54 and 56).
std::vector<uint8_t> Ipv6UdpFrame() {
  std::vector<uint8_t> frame =
      Bytes({0x52, 0x54, 0, 0, 0, 2,  0x52, 0x54, 0, 0, 0, 1, 0x86, 0xdd,  // Ethernet
             0x60, 0,    0, 0, 0, 10, 17,   64});                          // IPv6 fixed start
  for (int i = 0; i < 16; ++i) frame.push_back(i == 0 ? 0xfd : (i == 15 ? 1 : 0));
  for (int i = 0; i < 16; ++i) frame.push_back(i == 0 ? 0xfd : (i == 15 ? 2 : 0));
  const auto udp = Bytes({0x30, 0x39, 0x00, 0x35, 0, 10, 0, 0, 'h', 'i'});
  frame.insert(frame.end(), udp.begin(), udp.end());
  return frame;
}

TEST(VxlanTest, FlowHashCoversTheFlowAndNothingElse) {
  struct Case {
    const char* description;
    std::vector<uint8_t> (*frame)();
    size_t offset;
    uint8_t flip;  // XORed into the byte at offset
    bool changes_hash;
  };
  const std::vector<Case> cases = {
      {"destination MAC", Ipv4TcpFrame, 5, 0x01, true},
      {"source MAC", Ipv4TcpFrame, 11, 0x01, true},
      {"IPv4 protocol", Ipv4TcpFrame, 23, 0x17, true},  // TCP -> UDP
      {"IPv4 source", Ipv4TcpFrame, 29, 0x01, true},
      {"IPv4 destination", Ipv4TcpFrame, 33, 0x01, true},
      {"TCP source port", Ipv4TcpFrame, 35, 0x01, true},
      {"TCP destination port", Ipv4TcpFrame, 37, 0x01, true},
      {"IPv4 id", Ipv4TcpFrame, 19, 0xff, false},
      {"IPv4 TTL", Ipv4TcpFrame, 22, 0x01, false},
      {"IPv4 checksum", Ipv4TcpFrame, 24, 0xff, false},
      {"TCP sequence", Ipv4TcpFrame, 41, 0x01, false},
      {"payload", Ipv4TcpFrame, 54, 0xff, false},
      {"IPv6 source", Ipv6UdpFrame, 37, 0x01, true},
      {"IPv6 destination", Ipv6UdpFrame, 53, 0x01, true},
      {"IPv6 next header", Ipv6UdpFrame, 20, 0x17 ^ 0x06, true},  // UDP -> TCP
      {"UDP source port", Ipv6UdpFrame, 55, 0x01, true},
      {"UDP destination port", Ipv6UdpFrame, 57, 0x01, true},
      {"IPv6 flow label", Ipv6UdpFrame, 17, 0x01, false},
      {"IPv6 hop limit", Ipv6UdpFrame, 21, 0x01, false},
      {"UDP payload", Ipv6UdpFrame, 62, 0x01, false},
  };
  for (const auto& c : cases) {
    const auto base = c.frame();
    auto changed = base;
    changed[c.offset] ^= c.flip;
    EXPECT_EQ(InnerFlowHash(base), InnerFlowHash(base)) << c.description;
    EXPECT_EQ(InnerFlowHash(base) != InnerFlowHash(changed), c.changes_hash) << c.description;
  }
}

TEST(VxlanTest, FragmentsOfOnePacketHashAlike) {
  // A non-first fragment carries payload where the first carried the TCP ports: with the
  // fragment offset set, those bytes must not count.
  auto first = Ipv4TcpFrame();
  first[20] = 0x20;  // more fragments
  auto later = first;
  later[20] = 0x00;
  later[21] = 0x03;  // offset 24 bytes, last fragment
  later[35] ^= 0x55;
  later[37] ^= 0x55;
  EXPECT_EQ(InnerFlowHash(first), InnerFlowHash(later));
  EXPECT_NE(InnerFlowHash(first), InnerFlowHash(Ipv4TcpFrame()));
}

TEST(VxlanTest, VlanTagIsSkipped) {
  auto untagged = Ipv4TcpFrame();
  auto tagged = untagged;
  const auto tag = Bytes({0x81, 0x00, 0x00, 0x64});
  tagged.insert(tagged.begin() + 12, tag.begin(), tag.end());
  EXPECT_EQ(InnerFlowHash(untagged), InnerFlowHash(tagged));
  tagged[15] = 0x65;  // VLAN 101
  EXPECT_EQ(InnerFlowHash(untagged), InnerFlowHash(tagged));
}

TEST(VxlanTest, ShortAndOddFramesHashWithoutReadingPastThem) {
  const auto frame = Ipv4TcpFrame();
  std::set<uint32_t> hashes;
  for (size_t length = 0; length <= frame.size(); ++length) {
    const ByteSpan prefix(frame.data(), length);
    EXPECT_EQ(InnerFlowHash(prefix), InnerFlowHash(prefix)) << length;
    hashes.insert(InnerFlowHash(prefix));
  }
  // Prefixes that cut a hashed field hash differently from one another.
  EXPECT_GT(hashes.size(), 10u);
}

TEST(VxlanTest, DifferentFlowsSpreadOverSourcePorts) {
  // 4096 TCP connections from one VM to one server differ only in the client port.
  constexpr int kFlows = 4096;
  constexpr int kBuckets = 16;
  std::set<uint16_t> ports;
  std::vector<int> buckets(kBuckets);
  auto frame = Ipv4TcpFrame();
  for (int i = 0; i < kFlows; ++i) {
    const int client_port = 32768 + i;
    frame[34] = static_cast<uint8_t>(client_port >> 8);
    frame[35] = static_cast<uint8_t>(client_port);
    const uint16_t port = VxlanSourcePort(InnerFlowHash(frame));
    ports.insert(port);
    ++buckets[(port - kVxlanSourcePortMin) * kBuckets / 16384];
  }
  // 4096 balls in 16384 bins: about 3640 distinct expected; a weak hash collapses far below.
  EXPECT_GT(ports.size(), 3500u);
  for (int i = 0; i < kBuckets; ++i) {
    EXPECT_GT(buckets[i], 256 - 80) << "bucket " << i;
    EXPECT_LT(buckets[i], 256 + 80) << "bucket " << i;
  }
}

}  // namespace
}  // namespace dove::net
