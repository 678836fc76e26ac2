// FromPort: a table of frames from VM ports, each with the drop reason it must be counted
// under (or none: it passes, tagged with the port's network), TCP super-frames among them.
#include "dswitch/pipeline/from_port.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

struct Case {
  std::string description;
  PortId port;
  std::vector<uint8_t> frame;
  std::optional<DropReason> drop;  // nullopt: passes
  packet::OffloadInfo offload = {};
};

std::vector<uint8_t> TaggedFrame() {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kVm2Mac, kVm1Mac, net::ether_type::kVlan));
  b.Append(net::VlanTag{net::Be16::Of(100), net::Be16::Of(net::ether_type::kIpv4)});
  b.AppendZeros(46);
  return std::move(b).Take();
}

std::vector<uint8_t> WithBadIpv4Checksum() {
  auto frame = Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip);
  frame[14 + 10] ^= 0xff;  // the header checksum
  return frame;
}

std::vector<uint8_t> WithBadNsChecksum() {
  auto frame = NsFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, kVm1Mac);
  frame[14 + 40 + 2] ^= 0xff;  // the ICMPv6 checksum
  return frame;
}

std::vector<Case> Cases() {
  const net::MacAddress forged = Mac("52:54:00:00:00:66");
  const net::Ipv4Address forged_ip = Ip4("10.0.0.66");
  const net::Ipv6Address link_local = net::Ipv6Address::LinkLocalFromMac(kVm1Mac);
  return {
      {"IPv4 from the port's MAC and IP", 1, Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip),
       std::nullopt},
      {"IPv6 from the port's IP", 1, Udp6Frame(kVm2Mac, kVm1Mac, kVm1Ip6, kVm2Ip6), std::nullopt},
      {"IPv6 from the port's link-local address", 1,
       Udp6Frame(kVm2Mac, kVm1Mac, link_local, kVm2Ip6), std::nullopt},
      {"ARP request", 1, ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), std::nullopt},
      {"ARP probe (sender 0.0.0.0)", 1, ArpRequest(kVm1Mac, net::Ipv4Address(), kVm1Ip),
       std::nullopt},
      {"DHCP discover from 0.0.0.0", 1,
       Udp4Frame(net::MacAddress::Broadcast(), kVm1Mac, net::Ipv4Address(),
                 net::Ipv4Address::Broadcast(), 68, 67),
       std::nullopt},
      {"NS with the port's MAC in its option", 1, NsFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, kVm1Mac),
       std::nullopt},
      {"NS for duplicate address detection", 1,
       NsFrame(kVm1Mac, net::Ipv6Address(), kVm1Ip6, std::nullopt), std::nullopt},
      {"NA of the port's own address", 1, NaFrame(kVm1Mac, kVm1Ip6, kVm1Ip6, kVm1Mac),
       std::nullopt},

      {"unknown port", 42, Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip), DropReason::kUnknownPort},
      {"runt frame", 1, {0x52, 0x54, 0x00}, DropReason::kEthernetMalformed},
      {"802.1Q tagged", 1, TaggedFrame(), DropReason::kVlanTagged},
      {"forged source MAC", 1, Udp4Frame(kVm2Mac, forged, kVm1Ip, kVm2Ip),
       DropReason::kSourceMacSpoofed},
      {"another port's MAC", 1, Udp4Frame(kVm1Mac, kVm2Mac, kVm2Ip, kVm1Ip),
       DropReason::kSourceMacSpoofed},
      {"EtherType not IP or ARP", 1, RawFrame(kVm2Mac, kVm1Mac, 0x88cc),
       DropReason::kEtherTypeNotAllowed},
      {"truncated ARP", 1, Truncated(RawFrame(kVm2Mac, kVm1Mac, net::ether_type::kArp), 14 + 20),
       DropReason::kArpMalformed},
      {"ARP with a forged sender MAC", 1,
       ArpFrame(net::arp::kRequest, kVm1Mac, forged, kVm1Ip, kVm2Ip),
       DropReason::kArpSenderSpoofed},
      {"ARP with a forged sender IP", 1, ArpRequest(kVm1Mac, forged_ip, kVm2Ip),
       DropReason::kArpSenderSpoofed},
      {"IPv4 with a bad header checksum", 1, WithBadIpv4Checksum(), DropReason::kIpv4Malformed},
      {"forged IPv4 source", 1, Udp4Frame(kVm2Mac, kVm1Mac, forged_ip, kVm2Ip),
       DropReason::kSourceIpSpoofed},
      {"another port's IPv4 address", 1, Udp4Frame(kVm2Mac, kVm1Mac, kVm2Ip, kVm2Ip),
       DropReason::kSourceIpSpoofed},
      {"0.0.0.0 but not DHCP", 1, Udp4Frame(kVm2Mac, kVm1Mac, net::Ipv4Address(), kVm2Ip, 68, 53),
       DropReason::kSourceIpSpoofed},
      {"truncated IPv6", 1, RawFrame(kVm2Mac, kVm1Mac, net::ether_type::kIpv6),
       DropReason::kIpv6Malformed},
      {"forged IPv6 source", 1, Udp6Frame(kVm2Mac, kVm1Mac, kUnknownIp6, kVm2Ip6),
       DropReason::kSourceIpSpoofed},
      {"NS with a bad checksum", 1, WithBadNsChecksum(), DropReason::kNdMalformed},
      {"NS with a forged source link-layer address", 1, NsFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, forged),
       DropReason::kNdSpoofed},
      {"NA of another port's address", 1, NaFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, kVm1Mac),
       DropReason::kNdSpoofed},
      {"NA with a forged target link-layer address", 1, NaFrame(kVm1Mac, kVm1Ip6, kVm1Ip6, forged),
       DropReason::kNdSpoofed},

      // TCP super-frames from a TAP with TSO: checked like any frame, passed whole.
      {"IPv4 TCP super-frame", 1, Tcp4SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 60000),
       std::nullopt, TsoOffload(false, 34)},
      {"IPv4 TCP super-frame with Total Length 0 (BIG TCP)", 1,
       Tcp4SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 60000, /*zero_total_length=*/true),
       std::nullopt, TsoOffload(false, 34)},
      {"IPv6 TCP super-frame", 1, Tcp6SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip6, kVm2Ip6, 30000),
       std::nullopt, TsoOffload(true, 54)},
      {"IPv4 Total Length 0 without GSO", 1,
       Tcp4SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 1000, /*zero_total_length=*/true),
       DropReason::kIpv4Malformed},
      {"IPv4 TCP super-frame from a forged source", 1,
       Tcp4SuperFrame(kVm2Mac, kVm1Mac, forged_ip, kVm2Ip, 60000), DropReason::kSourceIpSpoofed,
       TsoOffload(false, 34)},
      {"IPv4 TCP super-frame from another port's MAC", 1,
       Tcp4SuperFrame(kVm1Mac, kVm2Mac, kVm1Ip, kVm2Ip, 60000), DropReason::kSourceMacSpoofed,
       TsoOffload(false, 34)},
  };
}

class FromPortTest : public PoolTest {};

TEST_F(FromPortTest, PassesOrDropsEachFrameWithItsReason) {
  const Tables tables = ScenarioTables();
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    Counters counters;
    FromPort stage(tables, counters, pool_);
    PacketBatch batch = OneFrame(pool_, c.frame, c.port);
    batch[0]->offload = c.offload;
    stage.Process(batch);
    if (!c.drop) {
      ASSERT_EQ(batch.size(), 1u);
      EXPECT_EQ(batch[0]->meta.vni, kVni);
      EXPECT_TRUE(batch[0]->meta.parsed);
      EXPECT_EQ(Bytes(*batch[0]), c.frame);
      EXPECT_EQ(batch[0]->offload.gso, c.offload.gso);
      EXPECT_EQ(batch[0]->offload.csum_partial, c.offload.csum_partial);
      EXPECT_EQ(counters.port(c.port).received, 1u);
      EXPECT_EQ(counters.total_drops(), 0u);
    } else {
      EXPECT_TRUE(batch.empty());
      EXPECT_EQ(counters.drops(*c.drop), 1u) << DropReasonName(*c.drop);
      EXPECT_EQ(counters.total_drops(), 1u);
      EXPECT_EQ(counters.port(c.port).dropped, 1u);
    }
    pool_.Free(batch);
    EXPECT_EQ(pool_.in_use(), 0u);
  }
}

TEST_F(FromPortTest, FiltersABatchInPlaceKeepingOrder) {
  const Tables tables = ScenarioTables();
  Counters counters;
  FromPort stage(tables, counters, pool_);
  const auto good1 = Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 1001);
  const auto good2 = Udp4Frame(kVm1Mac, kVm2Mac, kVm2Ip, kVm1Ip, 1002);
  PacketBatch batch;
  batch.Push(MakePacket(pool_, Udp4Frame(kVm2Mac, kVm1Mac, Ip4("10.0.0.66"), kVm2Ip), 1));
  batch.Push(MakePacket(pool_, good1, 1));
  batch.Push(MakePacket(pool_, Udp4Frame(kVm2Mac, kUnknownMac, kVm1Ip, kVm2Ip), 1));
  batch.Push(MakePacket(pool_, good2, 2));
  stage.Process(batch);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(Bytes(*batch[0]), good1);
  EXPECT_EQ(Bytes(*batch[1]), good2);
  EXPECT_EQ(pool_.in_use(), 2u);  // the dropped ones went back to the pool
  EXPECT_EQ(counters.drops(DropReason::kSourceIpSpoofed), 1u);
  EXPECT_EQ(counters.drops(DropReason::kSourceMacSpoofed), 1u);
  EXPECT_EQ(counters.network(kVni).dropped, 2u);
  const auto dump = counters.Dump();
  EXPECT_EQ(dump.at("drop.source_ip_spoofed"), 1u);
  EXPECT_EQ(dump.at("port.1.received"), 1u);
  EXPECT_EQ(dump.at("port.1.dropped"), 2u);
  EXPECT_EQ(dump.at("port.2.received"), 1u);
  pool_.Free(batch);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
