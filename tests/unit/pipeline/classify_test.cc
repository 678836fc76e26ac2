// Classify: a table of frames, each with the metadata Classify must record for it (or its
// refusal), and the views stages read through those offsets.
#include "dswitch/pipeline/classify.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

// An IPv4/UDP frame built field by field: `options` after the 20-byte header (a multiple of
// 4), the flags/fragment-offset field, an optional 802.1Q tag.
std::vector<uint8_t> Ipv4Frame(std::vector<uint8_t> options = {}, uint16_t fragment_field = 0,
                               bool tagged = false) {
  net::FrameBuilder b;
  if (tagged) {
    b.Append(net::MakeEthernetHeader(kVm2Mac, kVm1Mac, net::ether_type::kVlan));
    b.Append(net::VlanTag{net::Be16::Of(7), net::Be16::Of(net::ether_type::kIpv4)});
  } else {
    b.Append(net::MakeEthernetHeader(kVm2Mac, kVm1Mac, net::ether_type::kIpv4));
  }
  auto header = *net::MakeIpv4Header(kVm1Ip, kVm2Ip, net::ip_proto::kUdp, 64, 0, 0, false);
  header.version_ihl = static_cast<uint8_t>(0x40 | (5 + options.size() / 4));
  header.flags_fragment_offset = net::Be16::Of(fragment_field);
  const size_t ip_at = b.Append(header);
  b.Append(options);
  b.Append(*net::MakeUdpHeader(1000, 2000, 8));
  b.AppendZeros(8);
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// An IPv6 frame whose header is followed by `chain` (extension headers, raw) and a UDP
// datagram; `first_next_header` names the first header of the chain.
std::vector<uint8_t> Ipv6Frame(uint8_t first_next_header, const std::vector<uint8_t>& chain) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kVm2Mac, kVm1Mac, net::ether_type::kIpv6));
  const size_t ip_at = b.Append(*net::MakeIpv6Header(kVm1Ip6, kVm2Ip6, first_next_header, 64, 0));
  b.Append(chain);
  b.Append(*net::MakeUdpHeader(1000, 2000, 8));
  b.AppendZeros(8);
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// An 8-byte extension header of the Hop-by-Hop / Destination Options shape (one PadN option).
std::vector<uint8_t> Options8(uint8_t next) { return {next, 0, 1, 4, 0, 0, 0, 0}; }
// A Fragment header.
std::vector<uint8_t> Fragment(uint8_t next, uint16_t offset_bytes, bool more) {
  const uint16_t field = static_cast<uint16_t>(offset_bytes | (more ? 1 : 0));
  return {next, 0, static_cast<uint8_t>(field >> 8), static_cast<uint8_t>(field), 0, 0, 0, 42};
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> TaggedArp() {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(net::MacAddress::Broadcast(), kVm1Mac, net::ether_type::kVlan));
  b.Append(net::VlanTag{net::Be16::Of(7), net::Be16::Of(net::ether_type::kArp)});
  b.Append(net::MakeArp(net::arp::kRequest, kVm1Mac, kVm1Ip, net::MacAddress(), kVm2Ip));
  return std::move(b).Take();
}

std::vector<uint8_t> DoubleTagged() {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kVm2Mac, kVm1Mac, net::ether_type::kVlan));
  b.Append(net::VlanTag{net::Be16::Of(7), net::Be16::Of(net::ether_type::kVlan)});
  b.Append(net::VlanTag{net::Be16::Of(8), net::Be16::Of(net::ether_type::kIpv4)});
  b.AppendZeros(46);
  return std::move(b).Take();
}

// A frame padded to Ethernet's 60-byte minimum after its IP packet.
std::vector<uint8_t> Padded(std::vector<uint8_t> frame) {
  frame.resize(std::max<size_t>(frame.size(), 60) + 10, 0xee);
  return frame;
}

struct Want {
  bool parses = true;
  uint16_t ether_type = 0;
  bool vlan_tagged = false;
  uint16_t l3_offset = 0;
  uint8_t ip_proto = 0;
  bool ip_fragment = false;
  uint16_t l4_offset = 0;
  size_t l4_size = 0;  // L4Bytes(packet).size()
};

struct Case {
  std::string description;
  std::vector<uint8_t> frame;
  Want expected;
  packet::OffloadInfo offload = {};
};

std::vector<Case> Cases() {
  using net::ether_type::kArp;
  using net::ether_type::kIpv4;
  using net::ether_type::kIpv6;
  constexpr uint8_t kUdp = net::ip_proto::kUdp;
  constexpr uint8_t kTcp = net::ip_proto::kTcp;
  const std::vector<uint8_t> udp_only;
  return {
      {"IPv4/UDP", Ipv4Frame(), {true, kIpv4, false, 14, kUdp, false, 34, 16}},
      {"IPv4/UDP with one 802.1Q tag",
       Ipv4Frame({}, 0, true),
       {true, kIpv4, true, 18, kUdp, false, 38, 16}},
      {"IPv4 with 8 bytes of options",
       Ipv4Frame({1, 1, 1, 1, 1, 1, 1, 0}),
       {true, kIpv4, false, 14, kUdp, false, 42, 16}},
      {"IPv4 first fragment", Ipv4Frame({}, 0x2000), {true, kIpv4, false, 14, kUdp, true, 34, 16}},
      {"IPv4 later fragment",
       Ipv4Frame({}, 0x2000 | 185),
       {true, kIpv4, false, 14, kUdp, true, 0, 0}},
      {"IPv4 with Ethernet padding",
       Padded(Ipv4Frame()),
       {true, kIpv4, false, 14, kUdp, false, 34, 16}},
      {"IPv4 truncated in its header", Truncated(Ipv4Frame(), 14 + 12), {true, kIpv4}},
      {"IPv4 shorter than its Total Length", Truncated(Ipv4Frame(), 14 + 30), {true, kIpv4}},
      {"IPv4 IHL below 5", WithByte(Ipv4Frame(), 14, 0x44), {true, kIpv4}},
      {"IPv4 version 6", WithByte(Ipv4Frame(), 14, 0x65), {true, kIpv4}},
      {"IPv4 TCP super-frame, Total Length 0",
       Tcp4SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 20000, true),
       {true, kIpv4, false, 14, kTcp, false, 34, 20020},
       TsoOffload(false, 34)},
      {"IPv6/UDP", Ipv6Frame(kUdp, udp_only), {true, kIpv6, false, 14, kUdp, false, 54, 16}},
      {"IPv6 with Hop-by-Hop and Destination Options",
       Ipv6Frame(net::ip_proto::kHopByHop,
                 Concat(Options8(net::ip_proto::kDestinationOptions), Options8(kUdp))),
       {true, kIpv6, false, 14, kUdp, false, 70, 16}},
      {"IPv6 first fragment",
       Ipv6Frame(net::ip_proto::kFragment, Fragment(kUdp, 0, true)),
       {true, kIpv6, false, 14, kUdp, true, 62, 16}},
      {"IPv6 later fragment",
       Ipv6Frame(net::ip_proto::kFragment, Fragment(kUdp, 1280, false)),
       {true, kIpv6, false, 14, kUdp, true, 0, 0}},
      {"IPv6 atomic fragment",
       Ipv6Frame(net::ip_proto::kFragment, Fragment(kUdp, 0, false)),
       {true, kIpv6, false, 14, kUdp, false, 62, 16}},
      {"IPv6 with Ethernet padding",
       Padded(Ipv6Frame(kUdp, udp_only)),
       {true, kIpv6, false, 14, kUdp, false, 54, 16}},
      {"IPv6 truncated", Truncated(Ipv6Frame(kUdp, udp_only), 14 + 39), {true, kIpv6}},
      {"IPv6 extension header past Payload Length",
       Ipv6Frame(net::ip_proto::kHopByHop, {kUdp, 9, 0, 0, 0, 0, 0, 0}),
       {true, kIpv6}},
      {"ARP", ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), {true, kArp, false, 14}},
      {"ARP with one 802.1Q tag", TaggedArp(), {true, kArp, true, 18}},
      {"another EtherType", RawFrame(kVm2Mac, kVm1Mac, 0x88cc), {true, 0x88cc}},
      {"Ethernet header cut short", {0x52, 0x54, 0, 0, 0, 2, 0x52}, {false}},
      {"tagged, tag cut short", Truncated(Ipv4Frame({}, 0, true), 16), {false}},
      {"two 802.1Q tags", DoubleTagged(), {false}},
      {"802.3 length frame", RawFrame(kVm2Mac, kVm1Mac, 0x0040), {false}},
  };
}

class ClassifyTest : public PoolTest {};

TEST_F(ClassifyTest, RecordsTheOffsetsOfEachFrame) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    Packet* packet = MakePacket(pool_, c.frame);
    packet->offload = c.offload;
    // Fields left over from an earlier classification are reset.
    packet->meta.l4_offset = 99;
    packet->meta.ip_fragment = true;
    const Want& e = c.expected;
    EXPECT_EQ(Classify(*packet), e.parses);
    const packet::PacketMeta& meta = packet->meta;
    EXPECT_EQ(meta.parsed, e.parses);
    EXPECT_EQ(meta.ether_type, e.ether_type);
    EXPECT_EQ(meta.vlan_tagged, e.vlan_tagged);
    EXPECT_EQ(meta.l3_offset, e.l3_offset);
    EXPECT_EQ(meta.ip_proto, e.ip_proto);
    EXPECT_EQ(meta.ip_fragment, e.ip_fragment);
    EXPECT_EQ(meta.l4_offset, e.l4_offset);
    EXPECT_EQ(L4Bytes(*packet).size(), e.l4_size);
    EXPECT_EQ(Bytes(*packet), c.frame);  // read only
    pool_.Free(packet);
  }
}

TEST_F(ClassifyTest, ViewsReadTheRecordedHeaders) {
  Packet* packet = MakePacket(pool_, TaggedArp());
  ASSERT_TRUE(Classify(*packet));
  EXPECT_EQ(DestinationMac(*packet), net::MacAddress::Broadcast());
  EXPECT_EQ(SourceMac(*packet), kVm1Mac);
  const net::EthernetFrame view = EthernetView(*packet);
  const auto parsed = net::ParseEthernet(packet->span());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(view.destination, parsed->destination);
  EXPECT_EQ(view.source, parsed->source);
  ASSERT_TRUE(view.vlan);
  EXPECT_EQ(view.vlan->vlan_id(), 7);
  EXPECT_EQ(view.ether_type, net::ether_type::kArp);
  EXPECT_EQ(view.header_size, 18u);
  EXPECT_EQ(view.payload.data(), parsed->payload.data());
  EXPECT_EQ(view.payload.size(), parsed->payload.size());
  const auto arp = net::ParseArp(L3Bytes(*packet));
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->target_ip, kVm2Ip);
  EXPECT_TRUE(L4Bytes(*packet).empty());
  pool_.Free(packet);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
