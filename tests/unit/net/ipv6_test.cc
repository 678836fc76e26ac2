// IPv6: packets made by scapy with each extension header the parser walks, chains built by
// hand for the rest, every error path, and the builders.
#include "net/ipv6.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const Ipv6Address kSource = *Ipv6Address::Parse("2001:db8::1");
const Ipv6Address kDestination = *Ipv6Address::Parse("2001:db8::2");

// scapy 2.5: bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64) /
//                  UDP(sport=546, dport=547) / b"dhcpv6")
const std::vector<uint8_t> kUdpPacket = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x22,
    0x02, 0x23, 0x00, 0x0e, 0x62, 0x09, 0x64, 0x68, 0x63, 0x70, 0x76, 0x36};

// scapy: bytes(IPv6(src=..., dst=..., hlim=255, tc=0xb8, fl=0x12345) /
//              IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
//              IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / UDP(sport=1, dport=2) / b"x")
const std::vector<uint8_t> kHopByHopDestinationUdp = {
    0x6b, 0x81, 0x23, 0x45, 0x00, 0x19, 0x00, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
    0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x3c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, 0x11, 0x00, 0x01, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x09, 0x2c, 0x64, 0x78};

// scapy: bytes(IPv6(src=..., dst=...) / IPv6ExtHdrFragment(id=0x11223344, m=1, offset=0) /
//              UDP(sport=5000, dport=6000, len=1008) / (b"\x55" * 16))
const std::vector<uint8_t> kFirstFragment = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x2c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x00, 0x01, 0x11,
    0x22, 0x33, 0x44, 0x13, 0x88, 0x17, 0x70, 0x03, 0xf0, 0xca, 0xce, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};

// scapy: bytes(IPv6(src=..., dst=...) / IPv6ExtHdrFragment(id=0x11223344, m=0, offset=2, nh=17)
//              / (b"\x66" * 16)): the last fragment, its data at byte 16 of the original.
const std::vector<uint8_t> kLastFragment = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x00, 0x10, 0x11, 0x22, 0x33, 0x44,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

// scapy: bytes(IPv6(src=..., dst=...) / AH(spi=0x100, seq=1, icv=b"\x01" * 12) /
//              TCP(sport=1, dport=2, flags="A")): AH Payload Len 4, so (4 + 2) * 4 = 24 bytes.
const std::vector<uint8_t> kAhTcp = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x33, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x06, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x10, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00};

// scapy: bytes(IPv6(src=..., dst=...) / IPv6ExtHdrRouting(addresses=["2001:db8::3"]) /
//              ICMPv6EchoRequest()): a type 0 Routing header, Hdr Ext Len 2 (24 bytes).
const std::vector<uint8_t> kRoutingIcmp = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x2b, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x02, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x24, 0x47, 0x00, 0x00, 0x00, 0x00};

// An IPv6 packet from kSource to kDestination whose Next Header is `next` and whose payload
// (extension headers and all) is `chain`.
std::vector<uint8_t> Packet(uint8_t next, const std::vector<uint8_t>& chain) {
  FrameBuilder builder;
  builder.Append(*MakeIpv6Header(kSource, kDestination, next, 64, chain.size()));
  builder.Append(chain);
  return std::move(builder).Take();
}

// An 8-byte Destination Options header (a PadN option filling it) naming `next`.
std::vector<uint8_t> DestinationOptions(uint8_t next) {
  return Bytes({next, 0, 0x01, 4, 0, 0, 0, 0});
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

TEST(Ipv6Test, ParsesScapyUdpPacket) {
  auto packet = ParseIpv6(kUdpPacket);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->header.version(), 6);
  EXPECT_EQ(packet->header.traffic_class(), 0);
  EXPECT_EQ(packet->header.flow_label(), 0u);
  EXPECT_EQ(packet->header.payload_length.value(), 14);
  EXPECT_EQ(packet->header.next_header, ip_proto::kUdp);
  EXPECT_EQ(packet->hop_limit(), 64);
  EXPECT_EQ(packet->source(), kSource);
  EXPECT_EQ(packet->destination(), kDestination);
  EXPECT_EQ(packet->upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(packet->header_size, 40u);
  EXPECT_EQ(packet->payload.data(), kUdpPacket.data() + 40);
  EXPECT_EQ(packet->payload.size(), 14u);
  EXPECT_FALSE(packet->fragment);
  EXPECT_FALSE(packet->IsFragment());
}

TEST(Ipv6Test, WalksExtensionHeaders) {
  struct Case {
    const char* description;
    const std::vector<uint8_t>* packet;
    uint8_t upper_protocol;
    size_t header_size;
    size_t payload_size;
  };
  const Case cases[] = {
      // 40 + Hop-by-Hop 8 + Destination Options 8; UDP 8 + "x".
      {"hop-by-hop, destination options", &kHopByHopDestinationUdp, ip_proto::kUdp, 56, 9},
      // 40 + AH 24; a bare 20-byte TCP header.
      {"authentication header", &kAhTcp, ip_proto::kTcp, 64, 20},
      // 40 + Routing 24; an 8-byte echo request.
      {"routing", &kRoutingIcmp, ip_proto::kIcmpv6, 64, 8},
  };
  for (const auto& c : cases) {
    auto packet = ParseIpv6(*c.packet);
    ASSERT_TRUE(packet) << c.description << ": " << ErrorName(packet.error());
    EXPECT_EQ(packet->upper_protocol, c.upper_protocol) << c.description;
    EXPECT_EQ(packet->header_size, c.header_size) << c.description;
    EXPECT_EQ(packet->payload.data(), c.packet->data() + c.header_size) << c.description;
    EXPECT_EQ(packet->payload.size(), c.payload_size) << c.description;
    EXPECT_FALSE(packet->fragment) << c.description;
  }
}

TEST(Ipv6Test, ReadsTrafficClassAndFlowLabel) {
  auto packet = ParseIpv6(kHopByHopDestinationUdp);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->header.traffic_class(), 0xb8);
  EXPECT_EQ(packet->header.flow_label(), 0x12345u);
  EXPECT_EQ(packet->hop_limit(), 255);
}

TEST(Ipv6Test, FirstFragmentContinuesToTheUpperHeader) {
  auto packet = ParseIpv6(kFirstFragment);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  ASSERT_TRUE(packet->fragment);
  EXPECT_EQ(packet->fragment->identification.value(), 0x11223344u);
  EXPECT_TRUE(packet->fragment->more_fragments());
  EXPECT_EQ(packet->fragment->fragment_offset(), 0);
  EXPECT_TRUE(packet->IsFragment());
  EXPECT_EQ(packet->upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(packet->header_size, 48u);
  EXPECT_EQ(packet->payload.size(), 24u);
  EXPECT_EQ(packet->payload[0], 0x13);  // UDP source port 5000
}

TEST(Ipv6Test, LaterFragmentStopsAtTheFragmentHeader) {
  auto packet = ParseIpv6(kLastFragment);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  ASSERT_TRUE(packet->fragment);
  EXPECT_FALSE(packet->fragment->more_fragments());
  EXPECT_EQ(packet->fragment->fragment_offset(), 16);  // 2 units of 8 bytes
  EXPECT_TRUE(packet->IsFragment());
  EXPECT_EQ(packet->upper_protocol, ip_proto::kUdp);  // the Fragment header's Next Header
  EXPECT_EQ(packet->header_size, 48u);
  ASSERT_EQ(packet->payload.size(), 16u);
  EXPECT_EQ(packet->payload[0], 0x66);

  // Data that looks like an extension header is not walked in a later fragment.
  auto bytes = Packet(ip_proto::kFragment,
                      Concat({Bytes({ip_proto::kDestinationOptions, 0, 0, 0x10, 0, 0, 0, 1}),
                              Bytes({0x11, 0xff, 0, 0})}));
  auto looks_like_header = ParseIpv6(bytes);
  ASSERT_TRUE(looks_like_header) << ErrorName(looks_like_header.error());
  EXPECT_EQ(looks_like_header->upper_protocol, ip_proto::kDestinationOptions);
  EXPECT_EQ(looks_like_header->header_size, 48u);
  EXPECT_EQ(looks_like_header->payload.size(), 4u);
}

TEST(Ipv6Test, AtomicFragmentIsAWholePacket) {
  // RFC 6946: a Fragment header with offset 0 and M clear.
  auto bytes = Packet(ip_proto::kFragment,
                      Concat({Bytes({ip_proto::kUdp, 0, 0, 0, 0, 0, 0, 7}), Bytes({0, 1, 0, 2})}));
  auto packet = ParseIpv6(bytes);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  ASSERT_TRUE(packet->fragment);
  EXPECT_EQ(packet->fragment->identification.value(), 7u);
  EXPECT_FALSE(packet->IsFragment());
  EXPECT_EQ(packet->upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(packet->payload.size(), 4u);
}

TEST(Ipv6Test, EspAndNoNextHeaderEndTheChain) {
  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    uint8_t upper_protocol;
    size_t header_size;
    size_t payload_size;
  };
  const std::vector<Case> cases = {
      {"ESP after destination options",
       Packet(ip_proto::kDestinationOptions,
              Concat({DestinationOptions(ip_proto::kEsp), Bytes({0, 0, 1, 0, 0, 0, 0, 1, 9, 9})})),
       ip_proto::kEsp, 48, 10},
      {"no next header, with bytes after it", Packet(ip_proto::kNoNextHeader, Bytes({1, 2, 3})),
       ip_proto::kNoNextHeader, 40, 3},
      {"upper header without a payload", Packet(ip_proto::kTcp, {}), ip_proto::kTcp, 40, 0},
      {"8 extension headers, the most allowed",
       Packet(ip_proto::kDestinationOptions,
              Concat({DestinationOptions(60), DestinationOptions(60), DestinationOptions(60),
                      DestinationOptions(60), DestinationOptions(60), DestinationOptions(60),
                      DestinationOptions(60), DestinationOptions(ip_proto::kUdp)})),
       ip_proto::kUdp, 40 + 64, 0},
      {"destination options with Hdr Ext Len 1",
       Packet(ip_proto::kDestinationOptions,
              Concat({Bytes({ip_proto::kTcp, 1, 0x01, 12}), std::vector<uint8_t>(12), Bytes({5})})),
       ip_proto::kTcp, 56, 1},
  };
  for (const auto& c : cases) {
    auto packet = ParseIpv6(c.packet);
    ASSERT_TRUE(packet) << c.description << ": " << ErrorName(packet.error());
    EXPECT_EQ(packet->upper_protocol, c.upper_protocol) << c.description;
    EXPECT_EQ(packet->header_size, c.header_size) << c.description;
    EXPECT_EQ(packet->payload.size(), c.payload_size) << c.description;
  }
}

TEST(Ipv6Test, ExcludesEthernetPadding) {
  auto padded = kUdpPacket;
  padded.resize(70, 0xee);
  auto packet = ParseIpv6(padded);
  ASSERT_TRUE(packet) << ErrorName(packet.error());
  EXPECT_EQ(packet->payload.size(), 14u);
}

TEST(Ipv6Test, RefusesMalformedPackets) {
  auto version4 = kUdpPacket;
  version4[0] = 0x40;
  const std::vector<uint8_t> short_of_payload(kUdpPacket.begin(), kUdpPacket.end() - 1);
  auto payload_length_0xffff = kUdpPacket;
  payload_length_0xffff[4] = payload_length_0xffff[5] = 0xff;

  // RFC 2675: Payload Length 0, Hop-by-Hop first holding the Jumbo Payload option (C2 04 +
  // a 32-bit length), here 72 bytes.
  auto jumbogram = Packet(ip_proto::kHopByHop, {});
  const auto jumbo_chain =
      Bytes({ip_proto::kUdp, 0, 0xc2, 4, 0, 0, 0, 72, 0, 1, 0, 2, 0, 72, 0, 0});
  jumbogram.insert(jumbogram.end(), jumbo_chain.begin(), jumbo_chain.end());
  jumbogram.resize(40 + 72);
  // The Jumbo option after a Pad1 is found too.
  auto jumbogram_after_pad = Packet(ip_proto::kHopByHop, {});
  const auto padded_chain =
      Bytes({ip_proto::kUdp, 1, 0, 0, 0, 0xc2, 4, 0, 0, 0, 72, 0, 0, 0, 0, 0});
  jumbogram_after_pad.insert(jumbogram_after_pad.end(), padded_chain.begin(), padded_chain.end());
  jumbogram_after_pad.resize(40 + 72);
  // Payload Length 0 with a Hop-by-Hop header that is not a jumbogram's.
  auto zero_length_hop_by_hop = Packet(ip_proto::kHopByHop, {});
  const auto router_alert = Bytes({ip_proto::kUdp, 0, 0x05, 2, 0, 0, 0x01, 0});
  zero_length_hop_by_hop.insert(zero_length_hop_by_hop.end(), router_alert.begin(),
                                router_alert.end());

  std::vector<uint8_t> nine_headers;
  for (int i = 0; i < 8; ++i) {
    const auto header = DestinationOptions(ip_proto::kDestinationOptions);
    nine_headers.insert(nine_headers.end(), header.begin(), header.end());
  }
  const auto last = DestinationOptions(ip_proto::kUdp);
  nine_headers.insert(nine_headers.end(), last.begin(), last.end());

  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    Error error;
  };
  const std::vector<Case> cases = {
      {"empty", {}, Error::kTruncated},
      {"39 bytes", std::vector<uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 39),
       Error::kTruncated},
      {"version 4", version4, Error::kBadVersion},
      {"one byte short of payload length", short_of_payload, Error::kTruncated},
      {"payload length 0xffff", payload_length_0xffff, Error::kTruncated},
      {"jumbogram", jumbogram, Error::kUnsupported},
      {"jumbogram, option after Pad1", jumbogram_after_pad, Error::kUnsupported},
      {"payload length 0 with a hop-by-hop header", zero_length_hop_by_hop, Error::kBadLength},
      {"hop-by-hop after destination options",
       Packet(ip_proto::kDestinationOptions,
              Concat({DestinationOptions(ip_proto::kHopByHop), DestinationOptions(17)})),
       Error::kBadField},
      {"two fragment headers",
       Packet(ip_proto::kFragment, Bytes({44, 0, 0, 1, 0, 0, 0, 1, 17, 0, 0, 1, 0, 0, 0, 1})),
       Error::kBadField},
      {"9 extension headers", Packet(ip_proto::kDestinationOptions, nine_headers),
       Error::kUnsupported},
      {"extension header past payload length",
       Packet(ip_proto::kDestinationOptions, Bytes({17, 1, 0x01, 4, 0, 0, 0, 0})),
       Error::kBadLength},
      {"one byte of an extension header", Packet(ip_proto::kRouting, Bytes({17})),
       Error::kBadLength},
      {"fragment header cut short", Packet(ip_proto::kFragment, Bytes({17, 0, 0, 1, 0, 0, 0})),
       Error::kBadLength},
      {"authentication header past payload length",
       Packet(ip_proto::kAh, Concat({Bytes({6, 4, 0, 0}), std::vector<uint8_t>(16)})),
       Error::kBadLength},
  };
  for (const auto& c : cases) {
    auto parsed = ParseIpv6(c.packet);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(Ipv6Test, MakeHeaderMatchesScapy) {
  auto header = MakeIpv6Header(kSource, kDestination, ip_proto::kHopByHop, 255, 25,
                               /*traffic_class=*/0xb8, /*flow_label=*/0x12345);
  ASSERT_TRUE(header);
  FrameBuilder builder;
  builder.Append(*header);
  EXPECT_EQ(builder.bytes(), std::vector<uint8_t>(kHopByHopDestinationUdp.begin(),
                                                  kHopByHopDestinationUdp.begin() + 40));
}

TEST(Ipv6Test, MakeHeaderRefusesWhatTheFieldsCannotHold) {
  EXPECT_TRUE(MakeIpv6Header(kSource, kDestination, 17, 64, 65535, 0, 0xfffff));
  auto too_long = MakeIpv6Header(kSource, kDestination, 17, 64, 65536);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error(), Error::kOutOfRange);
  auto wide_flow_label = MakeIpv6Header(kSource, kDestination, 17, 64, 0, 0, 0x100000);
  ASSERT_FALSE(wide_flow_label);
  EXPECT_EQ(wide_flow_label.error(), Error::kOutOfRange);
}

TEST(Ipv6Test, FinishWritesPayloadLength) {
  auto packet = kUdpPacket;
  packet[4] = packet[5] = 0;
  ASSERT_TRUE(FinishIpv6(packet));
  EXPECT_EQ(packet, kUdpPacket);
}

TEST(Ipv6Test, FinishRefusesWhatIsNotAPacket) {
  auto version4 = kUdpPacket;
  version4[0] = 0x45;
  auto oversize = kUdpPacket;
  oversize.resize(40 + 65536);
  struct Case {
    const char* description;
    std::vector<uint8_t> packet;
    Error error;
  };
  const std::vector<Case> cases = {
      {"39 bytes", std::vector<uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 39),
       Error::kTruncated},
      {"version 4", version4, Error::kBadVersion},
      {"payload of 65536 bytes", oversize, Error::kOutOfRange},
  };
  for (const auto& c : cases) {
    auto packet = c.packet;
    auto finished = FinishIpv6(packet);
    ASSERT_FALSE(finished) << c.description;
    EXPECT_EQ(finished.error(), c.error) << c.description;
    EXPECT_EQ(packet, c.packet) << c.description << ": nothing may be written on error";
  }
  auto largest = kUdpPacket;
  largest.resize(40 + 65535);
  ASSERT_TRUE(FinishIpv6(largest));
  EXPECT_EQ(ParseIpv6(largest)->payload.size(), 65535u);
}

}  // namespace
}  // namespace dove::net
