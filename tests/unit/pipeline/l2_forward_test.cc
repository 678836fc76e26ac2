// L2Forward and ParkingLot: unicast to local and remote endpoints, the parking of unknown
// unicast and its bound, head-end replication (clones counted, pool exhaustion counted), and a
// scenario through every stage from one switch's port to another switch's port.
#include "dswitch/pipeline/l2_forward.h"

#include <gtest/gtest.h>

#include <vector>

#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/vxlan.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

struct Forwarded {
  PacketBatch to_ports;
  PacketBatch to_tunnels;
};

class L2ForwardTest : public PoolTest {
 protected:
  void TearDown() override {
    PacketBatch parked;
    parking_.TakeAll(parked);
    pool_.Free(parked);
    PoolTest::TearDown();
  }

  Forwarded Run(const std::vector<uint8_t>& bytes, PortId port, uint32_t vni = kVni) {
    L2Forward stage(tables_, remotes_, parking_, counters_, pool_);
    PacketBatch in = OneFrame(pool_, bytes, port, vni);
    Forwarded out;
    stage.Process(in, out.to_ports, out.to_tunnels);
    EXPECT_TRUE(in.empty());
    return out;
  }

  Tables tables_ = ScenarioTables();
  RemoteTable remotes_ = ScenarioRemotes();
  ParkingLot parking_;
  Counters counters_;
};

TEST_F(L2ForwardTest, UnicastToALocalPort) {
  const auto frame = Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip);
  Forwarded out = Run(frame, 1);
  ASSERT_EQ(out.to_ports.size(), 1u);
  EXPECT_EQ(out.to_ports[0]->meta.out_port, 2u);
  EXPECT_EQ(out.to_ports[0]->meta.in_port, 1u);
  EXPECT_EQ(Bytes(*out.to_ports[0]), frame);
  EXPECT_TRUE(out.to_tunnels.empty());
  EXPECT_EQ(counters_.port(2).sent, 1u);
  FreeAll(pool_, out.to_ports, out.to_tunnels);
}

TEST_F(L2ForwardTest, UnicastToARemoteEndpointGoesToItsVtep) {
  Forwarded out = Run(Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip), 1);
  ASSERT_EQ(out.to_tunnels.size(), 1u);
  EXPECT_EQ(out.to_tunnels[0]->meta.tunnel, kPeerVtep);
  EXPECT_EQ(out.to_tunnels[0]->meta.vni, kVni);
  EXPECT_TRUE(out.to_ports.empty());
  FreeAll(pool_, out.to_ports, out.to_tunnels);
}

TEST_F(L2ForwardTest, DropsWithReasons) {
  struct Case {
    const char* description;
    std::vector<uint8_t> frame;
    uint32_t vni;
    DropReason drop;
  };
  const std::vector<Case> cases = {
      {"back to its own port", Udp4Frame(kVm1Mac, kVm1Mac, kVm1Ip, kVm1Ip), kVni,
       DropReason::kHairpin},
      {"a network without tables", Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip), 300,
       DropReason::kUnknownNetwork},
      {"runt", {1, 2, 3}, kVni, DropReason::kEthernetMalformed},
      {"ARP broadcast", ArpRequest(kVm1Mac, kVm1Ip, kUnknownIp), kVni,
       DropReason::kArpNdNotFlooded},
      {"NS multicast", NsFrame(kVm1Mac, kVm1Ip6, kUnknownIp6, kVm1Mac), kVni,
       DropReason::kArpNdNotFlooded},
      {"to the router MAC", Udp4Frame(kRouterMac, kVm1Mac, kVm1Ip, Ip4("10.1.0.5")), kVni,
       DropReason::kRouterNotIp},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    counters_ = Counters();
    Forwarded out = Run(c.frame, 1, c.vni);
    EXPECT_TRUE(out.to_ports.empty());
    EXPECT_TRUE(out.to_tunnels.empty());
    EXPECT_EQ(counters_.drops(c.drop), 1u) << DropReasonName(c.drop);
    EXPECT_EQ(counters_.total_drops(), 1u);
    EXPECT_EQ(pool_.in_use(), 0u);
  }
}

TEST_F(L2ForwardTest, BroadcastIsReplicatedToEveryVtepAndEveryOtherPort) {
  const auto frame = Udp4Frame(net::MacAddress::Broadcast(), kVm1Mac, kVm1Ip,
                               net::Ipv4Address::Broadcast(), 1000, 9);
  Forwarded out = Run(frame, 1);
  ASSERT_EQ(out.to_tunnels.size(), 2u);
  EXPECT_EQ(out.to_tunnels[0]->meta.tunnel, kPeerVtep);
  EXPECT_EQ(out.to_tunnels[1]->meta.tunnel, kOtherPeerVtep);
  ASSERT_EQ(out.to_ports.size(), 1u);  // port 2; not port 1 (ingress), not port 3 (VNI 200)
  EXPECT_EQ(out.to_ports[0]->meta.out_port, 2u);
  for (const Packet* copy : out.to_tunnels) {
    EXPECT_EQ(Bytes(*copy), frame);
    EXPECT_EQ(copy->meta.vni, kVni);
    EXPECT_EQ(copy->meta.out_port, kNoPort);
  }
  EXPECT_EQ(Bytes(*out.to_ports[0]), frame);
  // Three destinations: the packet itself and two clones, each a packet of its own.
  EXPECT_EQ(pool_.counters().clones, 2u);
  EXPECT_EQ(pool_.in_use(), 3u);
  EXPECT_NE(out.to_tunnels[0], out.to_tunnels[1]);
  EXPECT_NE(out.to_tunnels[1], out.to_ports[0]);
  EXPECT_EQ(counters_.port(2).sent, 1u);
  FreeAll(pool_, out.to_ports, out.to_tunnels);
}

TEST_F(L2ForwardTest, Ipv6MulticastIsReplicatedToo) {
  const net::Ipv6Address all = net::Ipv6Address::AllNodes();
  Forwarded out =
      Run(Udp6Frame(net::MacAddress::ForIpv6Multicast(all.bytes()), kVm2Mac, kVm2Ip6, all), 2);
  EXPECT_EQ(out.to_tunnels.size(), 2u);
  ASSERT_EQ(out.to_ports.size(), 1u);
  EXPECT_EQ(out.to_ports[0]->meta.out_port, 1u);
  FreeAll(pool_, out.to_ports, out.to_tunnels);
}

TEST_F(L2ForwardTest, ACloneThePoolCannotGiveIsCountedAndTheRestStillGo) {
  // A pool of two: the broadcast itself and one clone; the third destination gets nothing.
  PacketPool tiny({.small_slots = 2, .large_slots = 0});
  L2Forward stage(tables_, remotes_, parking_, counters_, tiny);
  PacketBatch in = OneFrame(
      tiny, Udp4Frame(net::MacAddress::Broadcast(), kVm1Mac, kVm1Ip, net::Ipv4Address::Broadcast()),
      1, kVni);
  Forwarded out;
  stage.Process(in, out.to_ports, out.to_tunnels);
  EXPECT_EQ(out.to_tunnels.size() + out.to_ports.size(), 2u);
  EXPECT_EQ(counters_.drops(DropReason::kPoolExhausted), 1u);
  EXPECT_EQ(counters_.network(kVni).dropped, 1u);
  EXPECT_EQ(tiny.counters().clones, 1u);
  FreeAll(tiny, out.to_ports, out.to_tunnels);
  EXPECT_EQ(tiny.in_use(), 0u);
}

TEST_F(L2ForwardTest, AFloodWithNowhereToGoIsCounted) {
  // Network 200 has one port and no peer VTEP.
  Forwarded out =
      Run(Udp4Frame(net::MacAddress::Broadcast(), kVm3Mac, kVm3Ip, net::Ipv4Address::Broadcast()),
          3, kOtherVni);
  EXPECT_TRUE(out.to_ports.empty());
  EXPECT_TRUE(out.to_tunnels.empty());
  EXPECT_EQ(counters_.drops(DropReason::kFloodNoDestination), 1u);
}

TEST_F(L2ForwardTest, UnknownUnicastIsParkedThenForwardedOnceResolved) {
  const net::MacAddress later = Mac("52:54:00:00:00:42");
  const auto frame = Udp4Frame(later, kVm1Mac, kVm1Ip, Ip4("10.0.0.42"));
  Forwarded out = Run(frame, 1);
  EXPECT_TRUE(out.to_ports.empty());
  EXPECT_TRUE(out.to_tunnels.empty());
  EXPECT_EQ(parking_.size(kVni), 1u);
  EXPECT_EQ(parking_.size(), 1u);
  EXPECT_EQ(counters_.total_drops(), 0u);

  remotes_.Upsert("later", kVni, later, kOtherPeerVtep, {});
  PacketBatch retry;
  parking_.Take(kVni, retry);
  EXPECT_EQ(parking_.size(kVni), 0u);
  EXPECT_EQ(parking_.size(), 0u);
  L2Forward stage(tables_, remotes_, parking_, counters_, pool_);
  stage.Process(retry, out.to_ports, out.to_tunnels);
  ASSERT_EQ(out.to_tunnels.size(), 1u);
  EXPECT_EQ(out.to_tunnels[0]->meta.tunnel, kOtherPeerVtep);
  EXPECT_EQ(Bytes(*out.to_tunnels[0]), frame);
  FreeAll(pool_, out.to_ports, out.to_tunnels);
}

TEST_F(L2ForwardTest, ParkingIsBoundedPerNetwork) {
  const auto frame = Udp4Frame(kUnknownMac, kVm1Mac, kVm1Ip, kUnknownIp);
  for (size_t i = 0; i < ParkingLot::kDefaultPerVni + 1; ++i) Run(frame, 1);
  EXPECT_EQ(parking_.size(kVni), ParkingLot::kDefaultPerVni);
  EXPECT_EQ(counters_.drops(DropReason::kParkOverflow), 1u);
  EXPECT_EQ(pool_.in_use(), ParkingLot::kDefaultPerVni);  // the overflow went back to the pool
  // Network 200's lot is its own.
  Run(Udp4Frame(kUnknownMac, kVm3Mac, kVm3Ip, kUnknownIp), 3, kOtherVni);
  EXPECT_EQ(parking_.size(kOtherVni), 1u);
  EXPECT_EQ(parking_.size(), ParkingLot::kDefaultPerVni + 1);
  EXPECT_EQ(counters_.drops(DropReason::kParkOverflow), 1u);
  // Taken in the order they came.
  PacketBatch taken;
  parking_.Take(kVni, taken);
  ASSERT_EQ(taken.size(), ParkingLot::kDefaultPerVni);
  EXPECT_EQ(parking_.size(), 1u);
  pool_.Free(taken);
}

// vm1 on this switch sends to vm9 on the peer: FromPort, LocalResponder, L2Forward and
// VxlanEncap here; FromTunnel there delivers the very frame vm1 sent to vm9's port.
TEST(PipelineScenarioTest, FromOnePortToAPortOnAnotherSwitch) {
  PacketPool pool(TestPool());
  const Tables here = ScenarioTables();
  const RemoteTable remotes = ScenarioRemotes();
  Tables there;
  ASSERT_TRUE(there.UpsertNetwork(kVni, kRouterMac, {kLocalVtep}));
  ASSERT_TRUE(there.UpsertPort({.id = 9, .vni = kVni, .mac = kVm9Mac, .ips = {kVm9Ip}}));

  Counters counters;
  ParkingLot parking;
  FromPort from_port(here, counters, pool);
  LocalResponder responder(here, remotes, counters, pool);
  L2Forward forward(here, remotes, parking, counters, pool);
  VxlanEncap encap(counters, pool);
  Counters their_counters;
  FromTunnel from_tunnel(there, their_counters, pool);

  const auto sent = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip);
  PacketBatch batch = OneFrame(pool, sent, 1);
  batch.Push(MakePacket(pool, ArpRequest(kVm1Mac, kVm1Ip, kVm9Ip), 1));
  PacketBatch replies;
  PacketBatch to_ports;
  PacketBatch to_tunnels;
  from_port.Process(batch);
  responder.Process(batch, replies);
  forward.Process(batch, to_ports, to_tunnels);
  encap.Process(to_tunnels);
  ASSERT_EQ(replies.size(), 1u);  // the ARP answered here
  EXPECT_EQ(replies[0]->meta.out_port, 1u);
  ASSERT_EQ(to_tunnels.size(), 1u);
  EXPECT_TRUE(to_ports.empty());
  EXPECT_EQ(to_tunnels[0]->meta.tunnel, kPeerVtep);

  // The underlay carries the datagram (VXLAN header and inner frame); the peer's socket says
  // who sent it.
  to_tunnels[0]->meta = {};
  to_tunnels[0]->meta.tunnel = kLocalVtep;
  PacketBatch delivered;
  from_tunnel.Process(to_tunnels, delivered);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]->meta.out_port, 9u);
  EXPECT_EQ(Bytes(*delivered[0]), sent);
  EXPECT_EQ(counters.total_drops(), 0u);
  EXPECT_EQ(their_counters.total_drops(), 0u);
  EXPECT_EQ(counters.network(kVni).to_tunnel, 1u);
  EXPECT_EQ(their_counters.network(kVni).from_tunnel, 1u);
  FreeAll(pool, replies, delivered);
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
