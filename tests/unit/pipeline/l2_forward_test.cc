// L2Forward and ParkingLot: unicast to local and remote endpoints, the parking of unknown
// unicast and its bound, head-end replication counts, and a scenario through every stage from
// one switch's port to another switch's port.
#include "dswitch/pipeline/l2_forward.h"

#include <gtest/gtest.h>

#include <vector>

#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

struct Forwarded {
  Batch to_ports;
  Batch to_tunnels;
};

class L2ForwardTest : public ::testing::Test {
 protected:
  Forwarded Run(std::vector<uint8_t> bytes, PortId port, uint32_t vni = kVni) {
    L2Forward stage(tables_, remotes_, parking_, counters_);
    Batch in = OneFrame(std::move(bytes), port, vni);
    Forwarded out;
    stage.Process(in, out.to_ports, out.to_tunnels);
    EXPECT_TRUE(in.empty());
    return out;
  }

  Tables tables_ = ScenarioTables();
  MapRemoteLookup remotes_ = ScenarioRemotes();
  ParkingLot parking_;
  Counters counters_;
};

TEST_F(L2ForwardTest, UnicastToALocalPort) {
  const auto frame = Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip);
  const Forwarded out = Run(frame, 1);
  ASSERT_EQ(out.to_ports.size(), 1u);
  EXPECT_EQ(out.to_ports[0].port, 2u);
  EXPECT_EQ(out.to_ports[0].bytes, frame);
  EXPECT_TRUE(out.to_tunnels.empty());
  EXPECT_EQ(counters_.port(2).sent, 1u);
}

TEST_F(L2ForwardTest, UnicastToARemoteEndpointGoesToItsVtep) {
  const Forwarded out = Run(Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip), 1);
  ASSERT_EQ(out.to_tunnels.size(), 1u);
  EXPECT_EQ(out.to_tunnels[0].tunnel, kPeerVtep);
  EXPECT_EQ(out.to_tunnels[0].vni, kVni);
  EXPECT_TRUE(out.to_ports.empty());
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
       DropReason::kRouterNotImplemented},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    counters_ = Counters();
    const Forwarded out = Run(c.frame, 1, c.vni);
    EXPECT_TRUE(out.to_ports.empty());
    EXPECT_TRUE(out.to_tunnels.empty());
    EXPECT_EQ(counters_.drops(c.drop), 1u) << DropReasonName(c.drop);
    EXPECT_EQ(counters_.total_drops(), 1u);
  }
}

TEST_F(L2ForwardTest, BroadcastIsReplicatedToEveryVtepAndEveryOtherPort) {
  const auto frame = Udp4Frame(net::MacAddress::Broadcast(), kVm1Mac, kVm1Ip,
                               net::Ipv4Address::Broadcast(), 1000, 9);
  const Forwarded out = Run(frame, 1);
  ASSERT_EQ(out.to_tunnels.size(), 2u);
  EXPECT_EQ(out.to_tunnels[0].tunnel, kPeerVtep);
  EXPECT_EQ(out.to_tunnels[1].tunnel, kOtherPeerVtep);
  ASSERT_EQ(out.to_ports.size(), 1u);  // port 2; not port 1 (ingress), not port 3 (VNI 200)
  EXPECT_EQ(out.to_ports[0].port, 2u);
  for (const Frame& copy : out.to_tunnels) EXPECT_EQ(copy.bytes, frame);
  EXPECT_EQ(out.to_ports[0].bytes, frame);
}

TEST_F(L2ForwardTest, Ipv6MulticastIsReplicatedToo) {
  const net::Ipv6Address all = net::Ipv6Address::AllNodes();
  const Forwarded out =
      Run(Udp6Frame(net::MacAddress::ForIpv6Multicast(all.bytes()), kVm2Mac, kVm2Ip6, all), 2);
  EXPECT_EQ(out.to_tunnels.size(), 2u);
  ASSERT_EQ(out.to_ports.size(), 1u);
  EXPECT_EQ(out.to_ports[0].port, 1u);
}

TEST_F(L2ForwardTest, UnknownUnicastIsParkedThenForwardedOnceResolved) {
  const net::MacAddress later = Mac("52:54:00:00:00:42");
  const auto frame = Udp4Frame(later, kVm1Mac, kVm1Ip, Ip4("10.0.0.42"));
  Forwarded out = Run(frame, 1);
  EXPECT_TRUE(out.to_ports.empty());
  EXPECT_TRUE(out.to_tunnels.empty());
  EXPECT_EQ(parking_.size(kVni), 1u);
  EXPECT_EQ(counters_.total_drops(), 0u);

  remotes_.Add(kVni, later, kOtherPeerVtep);
  Batch retry = parking_.Take(kVni);
  EXPECT_EQ(parking_.size(kVni), 0u);
  L2Forward stage(tables_, remotes_, parking_, counters_);
  stage.Process(retry, out.to_ports, out.to_tunnels);
  ASSERT_EQ(out.to_tunnels.size(), 1u);
  EXPECT_EQ(out.to_tunnels[0].tunnel, kOtherPeerVtep);
  EXPECT_EQ(out.to_tunnels[0].bytes, frame);
}

TEST_F(L2ForwardTest, ParkingIsBoundedPerNetwork) {
  const auto frame = Udp4Frame(kUnknownMac, kVm1Mac, kVm1Ip, kUnknownIp);
  for (size_t i = 0; i < ParkingLot::kDefaultPerVni + 1; ++i) Run(frame, 1);
  EXPECT_EQ(parking_.size(kVni), ParkingLot::kDefaultPerVni);
  EXPECT_EQ(counters_.drops(DropReason::kParkOverflow), 1u);
  // Network 200's lot is its own.
  Run(Udp4Frame(kUnknownMac, kVm3Mac, kVm3Ip, kUnknownIp), 3, kOtherVni);
  EXPECT_EQ(parking_.size(kOtherVni), 1u);
  EXPECT_EQ(counters_.drops(DropReason::kParkOverflow), 1u);
}

// vm1 on this switch sends to vm9 on the peer: FromPort, LocalResponder, L2Forward and
// VxlanEncap here; FromTunnel there delivers the very frame vm1 sent to vm9's port.
TEST(PipelineScenarioTest, FromOnePortToAPortOnAnotherSwitch) {
  const Tables here = ScenarioTables();
  const MapRemoteLookup remotes = ScenarioRemotes();
  Tables there;
  ASSERT_TRUE(there.AddNetwork(kVni, kRouterMac, {kLocalVtep}));
  ASSERT_TRUE(there.AddPort({.id = 9, .vni = kVni, .mac = kVm9Mac, .ips = {kVm9Ip}}));

  Counters counters;
  ParkingLot parking;
  FromPort from_port(here, counters);
  LocalResponder responder(here, remotes, counters);
  L2Forward forward(here, remotes, parking, counters);
  VxlanEncap encap({.local_ip = kLocalVtep,
                    .local_mac = Mac("02:00:00:00:00:0a"),
                    .next_hop_mac = Mac("02:00:00:00:00:01")},
                   counters);
  Counters their_counters;
  FromTunnel from_tunnel(there, kPeerVtep, their_counters);

  const auto sent = Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip);
  Batch batch = OneFrame(sent, 1);
  batch.Push(PortFrame(ArpRequest(kVm1Mac, kVm1Ip, kVm9Ip), 1));
  Batch replies;
  Batch to_ports;
  Batch to_tunnels;
  from_port.Process(batch);
  responder.Process(batch, replies);
  forward.Process(batch, to_ports, to_tunnels);
  encap.Process(to_tunnels);
  ASSERT_EQ(replies.size(), 1u);  // the ARP answered here
  ASSERT_EQ(to_tunnels.size(), 1u);
  EXPECT_TRUE(to_ports.empty());

  Batch delivered;
  from_tunnel.Process(to_tunnels, delivered);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].port, 9u);
  EXPECT_EQ(delivered[0].bytes, sent);
  EXPECT_EQ(counters.total_drops(), 0u);
  EXPECT_EQ(their_counters.total_drops(), 0u);
  EXPECT_EQ(counters.network(kVni).to_tunnel, 1u);
  EXPECT_EQ(their_counters.network(kVni).from_tunnel, 1u);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
