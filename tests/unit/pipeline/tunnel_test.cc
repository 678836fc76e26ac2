// VxlanEncap and FromTunnel: the VXLAN header as a reader of RFC 7348 would check it, put in
// and taken off in place; the round trip between two switches; the flow hash's stability and
// spread; and a table of every FromTunnel drop reason. (The outer IP/UDP headers are the
// kernel's: the UDP sockets of the underlay build and check them, so the outer_* cases of the
// raw-socket days are the io/ tests' business now.)
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dswitch/pipeline/classify.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/vxlan.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

class TunnelTest : public PoolTest {
 protected:
  // What the peer switch's VxlanEncap puts on the wire for `inner` in `vni`: the VXLAN header
  // and the inner frame (the UDP payload).
  std::vector<uint8_t> FromPeer(const std::vector<uint8_t>& inner, uint32_t vni = kVni) {
    Counters counters;
    VxlanEncap encap(counters, pool_);
    PacketBatch batch = OneFrame(pool_, inner, kNoPort, vni);
    batch[0]->meta.tunnel = kLocalVtep;
    encap.Process(batch);
    EXPECT_EQ(batch.size(), 1u);
    std::vector<uint8_t> bytes = batch.empty() ? std::vector<uint8_t>() : Bytes(*batch[0]);
    pool_.Free(batch);
    return bytes;
  }

  // A datagram from the underlay as the UDP tunnel device hands it over: data at the VXLAN
  // header, meta.tunnel the sender.
  Packet* Datagram(const std::vector<uint8_t>& udp_payload, net::Ipv4Address sender = kPeerVtep) {
    Packet* packet = MakePacket(pool_, udp_payload);
    packet->meta.tunnel = sender;
    return packet;
  }
};

std::vector<uint8_t> Vm9ToVm1() { return Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip); }

TEST_F(TunnelTest, EncapPrependsTheVxlanHeaderInPlace) {
  Counters counters;
  VxlanEncap encap(counters, pool_);
  const auto inner = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip);
  PacketBatch batch = OneFrame(pool_, inner, 1, kVni);
  Packet* packet = batch[0];
  packet->meta.tunnel = kPeerVtep;
  ASSERT_TRUE(Classify(*packet));
  const packet::PacketMeta before = packet->meta;
  const uint8_t* inner_at = packet->data();
  const size_t headroom = packet->headroom();
  encap.Process(batch);
  ASSERT_EQ(batch.size(), 1u);
  ASSERT_EQ(batch[0], packet);  // the same packet, not a copy
  EXPECT_EQ(packet->size(), inner.size() + sizeof(net::VxlanHeader));
  EXPECT_EQ(packet->headroom(), headroom - sizeof(net::VxlanHeader));
  EXPECT_EQ(packet->data() + sizeof(net::VxlanHeader), inner_at);
  const std::vector<uint8_t> header(packet->data(), packet->data() + 8);
  EXPECT_EQ(header, (std::vector<uint8_t>{0x08, 0, 0, 0, 0, 0, kVni, 0}));
  const auto vxlan = net::ParseVxlan(packet->span());
  ASSERT_TRUE(vxlan);
  EXPECT_EQ(vxlan->vni, kVni);
  EXPECT_EQ(std::vector<uint8_t>(vxlan->inner_frame.begin(), vxlan->inner_frame.end()), inner);
  EXPECT_EQ(packet->meta.flow_hash, net::InnerFlowHash(inner));
  // Nothing else changes: the destination, the inner offsets.
  EXPECT_EQ(packet->meta.tunnel, kPeerVtep);
  EXPECT_EQ(packet->meta.l3_offset, before.l3_offset);
  EXPECT_EQ(packet->meta.l4_offset, before.l4_offset);
  EXPECT_EQ(counters.network(kVni).to_tunnel, 1u);
  pool_.Free(batch);
}

TEST_F(TunnelTest, EncapKeepsASuperFrameWholeWithItsOffload) {
  Counters counters;
  VxlanEncap encap(counters, pool_);
  const auto inner = Tcp4SuperFrame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 65000);
  PacketBatch batch = OneFrame(pool_, inner, 1, kVni);
  batch[0]->offload = TsoOffload(false, 34);
  encap.Process(batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0]->size(), inner.size() + 8);
  EXPECT_EQ(batch[0]->offload.gso, packet::GsoType::kTcp4);
  EXPECT_EQ(batch[0]->offload.gso_size, 1448);
  EXPECT_EQ(batch[0]->offload.csum_start, 34);  // still from the inner Ethernet header
  EXPECT_EQ(counters.total_drops(), 0u);
  pool_.Free(batch);
}

TEST_F(TunnelTest, FlowHashIsStablePerFlowAndSpreads) {
  std::set<uint16_t> ports;
  Counters counters;
  VxlanEncap encap(counters, pool_);
  for (uint16_t flow = 0; flow < 64; ++flow) {
    const auto inner = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 1000 + flow);
    PacketBatch batch = OneFrame(pool_, inner, 1, kVni);
    batch.Push(MakePacket(pool_, inner, 1, kVni));
    encap.Process(batch);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0]->meta.flow_hash, batch[1]->meta.flow_hash) << "flow " << flow;
    ports.insert(net::VxlanSourcePort(batch[0]->meta.flow_hash));
    pool_.Free(batch);
  }
  // 64 flows differing only in their L4 source port spread over the source port range.
  EXPECT_GT(ports.size(), 48u);
}

TEST_F(TunnelTest, EncapDropsWhatCannotBeEncapsulated) {
  Counters counters;
  VxlanEncap encap(counters, pool_);
  PacketBatch batch;
  batch.Push(MakePacket(pool_, Vm9ToVm1(), 1, 0x1000000));
  Packet* no_headroom = MakePacket(pool_, Vm9ToVm1(), 1, kVni);
  ASSERT_TRUE(no_headroom->Assign(Vm9ToVm1(), /*headroom=*/4));
  batch.Push(no_headroom);
  batch.Push(MakePacket(pool_, std::vector<uint8_t>(65535), 1, kVni));  // no GSO: one datagram
  Packet* super =
      MakePacket(pool_, Tcp4SuperFrame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 65000), 1, kVni);
  super->offload = TsoOffload(false, 34);  // the underlay cuts it: not too large
  batch.Push(super);
  encap.Process(batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0], super);
  EXPECT_EQ(counters.drops(DropReason::kEncapFailed), 3u);
  EXPECT_EQ(counters.network(kVni).to_tunnel, 1u);
  pool_.Free(batch);
}

TEST_F(TunnelTest, FromTunnelStripsInPlaceAndDelivers) {
  const Tables tables = ScenarioTables();
  Counters counters;
  FromTunnel stage(tables, counters, pool_);
  const auto inner = Vm9ToVm1();
  PacketBatch in;
  Packet* packet = Datagram(FromPeer(inner));
  const uint8_t* inner_at = packet->data() + 8;
  in.Push(packet);
  PacketBatch out;
  stage.Process(in, out);
  EXPECT_TRUE(in.empty());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], packet);
  EXPECT_EQ(packet->data(), inner_at);  // stripped, not copied
  EXPECT_EQ(Bytes(*packet), inner);
  EXPECT_EQ(packet->meta.out_port, 1u);
  EXPECT_EQ(packet->meta.vni, kVni);
  EXPECT_EQ(packet->meta.tunnel, kPeerVtep);
  EXPECT_TRUE(packet->meta.parsed);
  EXPECT_EQ(packet->meta.l4_offset, 34u);  // classified from the inner Ethernet header
  EXPECT_EQ(counters.network(kVni).from_tunnel, 1u);
  EXPECT_EQ(counters.port(1).sent, 1u);
  EXPECT_EQ(counters.total_drops(), 0u);
  pool_.Free(out);
}

TEST_F(TunnelTest, BroadcastReachesEveryLocalPortOfTheNetwork) {
  const Tables tables = ScenarioTables();
  Counters counters;
  FromTunnel stage(tables, counters, pool_);
  const auto inner = ArpRequest(kVm9Mac, kVm9Ip, kVm1Ip);
  PacketBatch in;
  in.Push(Datagram(FromPeer(inner)));
  PacketBatch out;
  stage.Process(in, out);
  ASSERT_EQ(out.size(), 2u);  // ports 1 and 2; port 3 is in network 200
  EXPECT_EQ(out[0]->meta.out_port, 1u);
  EXPECT_EQ(out[1]->meta.out_port, 2u);
  EXPECT_EQ(Bytes(*out[0]), inner);
  EXPECT_EQ(Bytes(*out[1]), inner);
  EXPECT_EQ(pool_.counters().clones, 1u);
  EXPECT_EQ(counters.network(kVni).from_tunnel, 1u);
  pool_.Free(out);
}

TEST_F(TunnelTest, BroadcastClonesThePoolCannotGiveAreCounted) {
  const Tables tables = ScenarioTables();
  Counters counters;
  PacketPool tiny({.small_slots = 1, .large_slots = 0});
  FromTunnel stage(tables, counters, tiny);
  PacketBatch in;
  Packet* packet = MakePacket(tiny, FromPeer(ArpRequest(kVm9Mac, kVm9Ip, kVm1Ip)));
  packet->meta.tunnel = kPeerVtep;
  in.Push(packet);
  PacketBatch out;
  stage.Process(in, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->meta.out_port, 2u);  // the last port gets the packet itself
  EXPECT_EQ(counters.drops(DropReason::kPoolExhausted), 1u);
  tiny.Free(out);
  EXPECT_EQ(tiny.in_use(), 0u);
}

TEST_F(TunnelTest, BroadcastToANetworkWithoutLocalPortsIsCounted) {
  Tables tables = ScenarioTables();
  ASSERT_TRUE(tables.UpsertNetwork(300, kRouterMac, {kPeerVtep}));
  Counters counters;
  FromTunnel stage(tables, counters, pool_);
  PacketBatch in;
  in.Push(Datagram(FromPeer(ArpRequest(kVm9Mac, kVm9Ip, kVm1Ip), 300)));
  PacketBatch out;
  stage.Process(in, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(counters.drops(DropReason::kFloodNoDestination), 1u);
  EXPECT_EQ(counters.network(300).dropped, 1u);
}

struct TunnelCase {
  std::string description;
  std::vector<uint8_t> datagram;  // the UDP payload: VXLAN header and inner frame
  DropReason drop;
  net::Ipv4Address sender = kPeerVtep;
};

TEST_F(TunnelTest, FromTunnelDropsEachBadDatagramWithItsReason) {
  const auto good = FromPeer(Vm9ToVm1());
  std::vector<uint8_t> inner_802_3 = Vm9ToVm1();
  inner_802_3[12] = 0x00;  // EtherType 0x0040: an 802.3 length
  inner_802_3[13] = 0x40;
  const std::vector<TunnelCase> cases = {
      {"runt", {0x08, 0x00}, DropReason::kVxlanMalformed},
      {"VXLAN header with no frame behind it", Truncated(good, 8), DropReason::kVxlanMalformed},
      {"VXLAN I flag clear", WithByte(good, 0, 0x00), DropReason::kVxlanMalformed},
      {"VXLAN reserved flag set", WithByte(good, 0, 0x0c), DropReason::kVxlanMalformed},
      {"VXLAN reserved byte set", WithByte(good, 7, 0x01), DropReason::kVxlanMalformed},
      {"VNI not carried here", FromPeer(Vm9ToVm1(), 300), DropReason::kVxlanUnknownVni},
      {"VTEP not in the flood list", good, DropReason::kVtepNotAllowed, kStrangerVtep},
      {"VTEP listed for another VNI only",
       FromPeer(Udp4Frame(kVm3Mac, kVm9Mac, kVm9Ip, kVm3Ip), kOtherVni),
       DropReason::kVtepNotAllowed},
      {"inner frame cut short", Truncated(good, 8 + 13), DropReason::kVxlanMalformed},
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
  const Tables tables = ScenarioTables();
  for (const TunnelCase& c : cases) {
    SCOPED_TRACE(c.description);
    Counters counters;
    FromTunnel stage(tables, counters, pool_);
    PacketBatch in;
    in.Push(Datagram(c.datagram, c.sender));
    PacketBatch out;
    stage.Process(in, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(counters.drops(c.drop), 1u) << DropReasonName(c.drop);
    EXPECT_EQ(counters.total_drops(), 1u);
    EXPECT_EQ(pool_.in_use(), 0u);
  }
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
