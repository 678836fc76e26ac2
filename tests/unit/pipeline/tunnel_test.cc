// VxlanEncap and FromTunnel: the outer headers as a reader of RFC 7348 would check them, the
// round trip between two switches, the flow hash's stability and range, and a table of every
// FromTunnel drop reason.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/vxlan.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

const net::MacAddress kUnderlayMac = Mac("02:00:00:00:00:0a");
const net::MacAddress kGatewayMac = Mac("02:00:00:00:00:01");

// The peer switch (kPeerVtep) encapsulating `inner` for this one (kLocalVtep).
std::vector<uint8_t> FromPeer(std::vector<uint8_t> inner, uint32_t vni = kVni,
                              net::Ipv4Address source = kPeerVtep,
                              net::Ipv4Address destination = kLocalVtep) {
  Counters counters;
  VxlanEncap encap({.local_ip = source, .local_mac = kGatewayMac, .next_hop_mac = kUnderlayMac},
                   counters);
  Batch batch;
  batch.Push(Frame{.bytes = std::move(inner), .port = kNoPort, .vni = vni, .tunnel = destination});
  encap.Process(batch);
  EXPECT_EQ(batch.size(), 1u);
  return batch.empty() ? std::vector<uint8_t>() : batch[0].bytes;
}

std::vector<uint8_t> Vm9ToVm1() { return Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip); }

TEST(VxlanEncapTest, BuildsTheOuterHeaders) {
  Counters counters;
  VxlanEncap encap(
      {.local_ip = kLocalVtep, .local_mac = kUnderlayMac, .next_hop_mac = kGatewayMac, .ttl = 64},
      counters);
  const auto inner = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip);
  Batch batch;
  batch.Push(Frame{.bytes = inner, .port = 1, .vni = kVni, .tunnel = kPeerVtep});
  encap.Process(batch);
  ASSERT_EQ(batch.size(), 1u);
  const auto& outer = batch[0].bytes;
  ASSERT_EQ(outer.size(), inner.size() + net::kVxlanOverheadIpv4);

  const auto ethernet = net::ParseEthernet(outer);
  ASSERT_TRUE(ethernet);
  EXPECT_EQ(ethernet->destination, kGatewayMac);
  EXPECT_EQ(ethernet->source, kUnderlayMac);
  const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/true);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->source(), kLocalVtep);
  EXPECT_EQ(ip->destination(), kPeerVtep);
  EXPECT_EQ(ip->protocol(), net::ip_proto::kUdp);
  EXPECT_TRUE(ip->header.dont_fragment());
  EXPECT_EQ(ip->ttl(), 64);
  const auto udp = net::ParseUdp(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->destination_port(), net::kVxlanPort);
  EXPECT_EQ(udp->header.checksum.value(), 0);
  EXPECT_EQ(udp->source_port(), net::VxlanSourcePort(net::InnerFlowHash(inner)));
  const auto vxlan = net::ParseVxlan(udp->payload);
  ASSERT_TRUE(vxlan);
  EXPECT_EQ(vxlan->vni, kVni);
  EXPECT_EQ(std::vector<uint8_t>(vxlan->inner_frame.begin(), vxlan->inner_frame.end()), inner);
  EXPECT_EQ(counters.network(kVni).to_tunnel, 1u);
}

TEST(VxlanEncapTest, SourcePortIsStablePerFlowAndInRange) {
  std::set<uint16_t> ports;
  for (uint16_t flow = 0; flow < 64; ++flow) {
    const auto inner = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 1000 + flow);
    const auto first = FromPeer(inner);
    const auto again = FromPeer(inner);
    const auto source_port = net::ParseUdp(net::ByteSpan(first).subspan(34))->source_port();
    EXPECT_EQ(first, again) << "flow " << flow;
    EXPECT_GE(source_port, net::kVxlanSourcePortMin);
    EXPECT_LE(source_port, net::kVxlanSourcePortMax);
    ports.insert(source_port);
  }
  // 64 flows differing only in their L4 source port spread over the range.
  EXPECT_GT(ports.size(), 48u);
}

TEST(VxlanEncapTest, DropsWhatCannotBeEncapsulated) {
  Counters counters;
  VxlanEncap encap({.local_ip = kLocalVtep, .local_mac = kUnderlayMac, .next_hop_mac = kGatewayMac},
                   counters);
  Batch batch;
  batch.Push(Frame{.bytes = Vm9ToVm1(), .port = 1, .vni = 0x1000000, .tunnel = kPeerVtep});
  batch.Push(
      Frame{.bytes = std::vector<uint8_t>(65535), .port = 1, .vni = kVni, .tunnel = kPeerVtep});
  encap.Process(batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(counters.drops(DropReason::kEncapFailed), 2u);
}

TEST(FromTunnelTest, RoundTripGivesBackTheInnerFrame) {
  const Tables tables = ScenarioTables();
  Counters counters;
  FromTunnel stage(tables, kLocalVtep, counters);
  const auto inner = Vm9ToVm1();
  Batch in = OneFrame(FromPeer(inner), kNoPort);
  Batch out;
  stage.Process(in, out);
  EXPECT_TRUE(in.empty());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, inner);
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_EQ(out[0].vni, kVni);
  EXPECT_EQ(out[0].tunnel, kPeerVtep);
  EXPECT_EQ(counters.network(kVni).from_tunnel, 1u);
  EXPECT_EQ(counters.port(1).sent, 1u);
  EXPECT_EQ(counters.total_drops(), 0u);
}

TEST(FromTunnelTest, BroadcastReachesEveryLocalPortOfTheNetwork) {
  const Tables tables = ScenarioTables();
  Counters counters;
  FromTunnel stage(tables, kLocalVtep, counters);
  Batch in = OneFrame(FromPeer(ArpRequest(kVm9Mac, kVm9Ip, kVm1Ip)), kNoPort);
  Batch out;
  stage.Process(in, out);
  ASSERT_EQ(out.size(), 2u);  // ports 1 and 2; port 3 is in network 200
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_EQ(out[1].port, 2u);
}

// Rewrites a field of the outer IPv4 header and fixes its checksum.
std::vector<uint8_t> WithOuterIp(std::vector<uint8_t> frame,
                                 const std::function<void(std::vector<uint8_t>&)>& change) {
  change(frame);
  EXPECT_TRUE(net::FinishIpv4(net::MutableByteSpan(frame).subspan(14)));
  return frame;
}

struct TunnelCase {
  std::string description;
  std::vector<uint8_t> frame;
  DropReason drop;
};

std::vector<TunnelCase> TunnelCases() {
  const auto good = FromPeer(Vm9ToVm1());
  constexpr size_t kIp = 14;
  constexpr size_t kUdp = 34;
  constexpr size_t kVxlan = 42;
  std::vector<uint8_t> inner_802_3 = Vm9ToVm1();
  inner_802_3[12] = 0x00;  // EtherType 0x0000: an 802.3 length
  inner_802_3[13] = 0x40;
  return {
      {"runt", {0x01, 0x02}, DropReason::kOuterMalformed},
      {"outer ARP", ArpRequest(kUnderlayMac, kPeerVtep, kLocalVtep), DropReason::kOuterNotVxlan},
      {"outer IPv4 checksum wrong", WithByte(good, kIp + 10, good[kIp + 10] ^ 0xff),
       DropReason::kOuterMalformed},
      {"outer TCP", WithOuterIp(good, [](auto& f) { f[kIp + 9] = net::ip_proto::kTcp; }),
       DropReason::kOuterNotVxlan},
      {"outer fragment", WithOuterIp(good, [](auto& f) { f[kIp + 6] |= 0x20; }),
       DropReason::kOuterNotVxlan},
      {"UDP to port 8472", WithByte(WithByte(good, kUdp + 2, 0x21), kUdp + 3, 0x18),
       DropReason::kOuterNotVxlan},
      {"UDP checksum wrong", WithByte(good, kUdp + 7, 0x01), DropReason::kOuterMalformed},
      {"addressed to another VTEP", FromPeer(Vm9ToVm1(), kVni, kPeerVtep, kOtherPeerVtep),
       DropReason::kOuterNotForUs},
      {"VXLAN I flag clear", WithByte(good, kVxlan, 0x00), DropReason::kVxlanMalformed},
      {"VXLAN reserved flag set", WithByte(good, kVxlan, 0x0c), DropReason::kVxlanMalformed},
      {"VXLAN reserved byte set", WithByte(good, kVxlan + 7, 0x01), DropReason::kVxlanMalformed},
      {"VNI not carried here", FromPeer(Vm9ToVm1(), 300), DropReason::kVxlanUnknownVni},
      {"VTEP not in the flood list", FromPeer(Vm9ToVm1(), kVni, kStrangerVtep),
       DropReason::kVtepNotAllowed},
      {"VTEP listed for another VNI only",
       FromPeer(Udp4Frame(kVm3Mac, kVm9Mac, kVm9Ip, kVm3Ip), kOtherVni),
       DropReason::kVtepNotAllowed},
      {"inner 802.3 frame", FromPeer(inner_802_3), DropReason::kInnerMalformed},
      {"inner source is a local port's MAC", FromPeer(Udp4Frame(kVm1Mac, kVm2Mac, kVm9Ip, kVm1Ip)),
       DropReason::kInnerSourceInvalid},
      {"inner source multicast",
       FromPeer(Udp4Frame(kVm1Mac, net::MacAddress::Broadcast(), kVm9Ip, kVm1Ip)),
       DropReason::kInnerSourceInvalid},
      {"inner unicast to an unknown MAC", FromPeer(Udp4Frame(kUnknownMac, kVm9Mac, kVm9Ip, kVm1Ip)),
       DropReason::kInnerDestinationUnknown},
      {"inner unicast to a port of another network",
       FromPeer(Udp4Frame(kVm3Mac, kVm9Mac, kVm9Ip, kVm3Ip)), DropReason::kInnerDestinationUnknown},
  };
}

TEST(FromTunnelTest, DropsEachBadFrameWithItsReason) {
  const Tables tables = ScenarioTables();
  for (const TunnelCase& c : TunnelCases()) {
    SCOPED_TRACE(c.description);
    Counters counters;
    FromTunnel stage(tables, kLocalVtep, counters);
    Batch in = OneFrame(c.frame, kNoPort);
    Batch out;
    stage.Process(in, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(counters.drops(c.drop), 1u) << DropReasonName(c.drop);
    EXPECT_EQ(counters.total_drops(), 1u);
  }
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
