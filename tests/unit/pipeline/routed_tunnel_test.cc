// The distributed router's other stages: LocalResponder answering ARP and NS for the gateway
// addresses with the router MAC (routed scenario, test_frames.h), and FromTunnel's rules for
// routed frames (inner source = the router MAC): the domain's VTEPs, the source network from
// the routes, the policy checked again and the return flows.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/pipeline/classify.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/policy_gate.h"
#include "dswitch/pipeline/router.h"
#include "net/icmpv6.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

class GatewayResponderTest : public PoolTest {
 protected:
  Tables tables_ = RoutedTables();
  RemoteTable remotes_ = RoutedRemotes();
  Counters counters_;
  LocalResponder responder_{tables_, remotes_, counters_, pool_};
};

TEST_F(GatewayResponderTest, ArpForTheGatewayIsAnsweredWithTheRouterMac) {
  for (const net::Ipv4Address& gateway : {kGatewayA}) {
    PacketBatch batch = OneFrame(pool_, ArpRequest(kVmAMac, kVmAIp, gateway), 11, kNetA);
    PacketBatch replies;
    responder_.Process(batch, replies);
    ASSERT_EQ(replies.size(), 1U);
    const auto frame = net::ParseEthernet(replies[0]->span());
    ASSERT_TRUE(frame);
    const auto arp = net::ParseArp(frame->payload);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->sender_mac, kRouterMac);
    EXPECT_EQ(arp->sender_ip, gateway);
    EXPECT_EQ(frame->destination, kVmAMac);
    pool_.Free(replies);
  }
  // Another network's gateway is not on this link: not answered from here.
  PacketBatch batch = OneFrame(pool_, ArpRequest(kVmAMac, kVmAIp, kGatewayB), 11, kNetA);
  PacketBatch replies;
  responder_.Process(batch, replies);
  EXPECT_TRUE(replies.empty());
  EXPECT_EQ(counters_.drops(DropReason::kArpTargetUnknown), 1U);
}

TEST_F(GatewayResponderTest, NsForTheGatewayAndTheLinkLocalRouterGetsANaWithTheRouterFlag) {
  const net::Ipv6Address link_local = net::Ipv6Address::LinkLocalFromMac(kRouterMac);
  for (const net::Ipv6Address& target : {kGatewayA6, link_local}) {
    SCOPED_TRACE(target.ToString());
    PacketBatch batch = OneFrame(pool_, NsFrame(kVmAMac, kVmAIp6, target, kVmAMac), 11, kNetA);
    PacketBatch replies;
    responder_.Process(batch, replies);
    ASSERT_EQ(replies.size(), 1U);
    const auto frame = net::ParseEthernet(replies[0]->span());
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->source, kRouterMac);
    const auto ip = net::ParseIpv6(frame->payload);
    ASSERT_TRUE(ip);
    const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
    ASSERT_TRUE(icmp);
    const auto na = net::ParseNeighborAdvertisement(*icmp);
    ASSERT_TRUE(na);
    EXPECT_EQ(na->target, target);
    EXPECT_EQ(na->target_mac, kRouterMac);
    EXPECT_TRUE(na->router_flag);
    pool_.Free(replies);
  }
}

// FromTunnel with routed frames.

class RoutedTunnelTest : public PoolTest {
 protected:
  Tables tables_ = RoutedTables();
  Counters counters_;
  ReturnFlows flows_{64, std::chrono::seconds(60)};
  PolicyGate gate_{tables_, flows_, counters_};
  FromTunnel from_tunnel_{tables_, counters_, pool_, &gate_};

  // Runs one datagram from `vtep`; the packets delivered (freed), or 0 with the drop counted.
  size_t Receive(const std::vector<uint8_t>& datagram, const net::Ipv4Address& vtep) {
    PacketBatch in;
    in.Push(MakePacket(pool_, datagram));
    in[0]->meta.tunnel = vtep;
    PacketBatch out;
    from_tunnel_.Process(in, out);
    const size_t delivered = out.size();
    for (Packet* packet : out) EXPECT_EQ(packet->meta.out_port, 12U);
    pool_.Free(out);
    return delivered;
  }
};

struct TunnelCase {
  const char* description;
  net::Ipv4Address vtep;
  std::vector<uint8_t> datagram;
  std::optional<DropReason> drop;  // nullopt: delivered to vmB's port
};

std::vector<TunnelCase> TunnelCases() {
  // vmC (network 300, on the peer) to vmB (network 200, here): no rule allows 300 -> 200.
  const auto c_to_b = Udp4Frame(kVmBMac, kRouterMac, kVmCIp, kVmBIp);
  // vmA's traffic (network 100, allowed to 200) as another switch would route it.
  const auto a_to_b = Udp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp);
  return {
      {"routed from a VTEP of the domain, allowed", kPeerVtep, Vxlan(kNetB, a_to_b), std::nullopt},
      {"routed from a stranger VTEP", kStrangerVtep, Vxlan(kNetB, a_to_b),
       DropReason::kRoutedVtepNotAllowed},
      {"switched (not routed) from a VTEP outside the flood list", kPeerVtep,
       Vxlan(kNetB, Udp4Frame(kVmBMac, kVmCMac, kVmCIp, kVmBIp)), DropReason::kVtepNotAllowed},
      {"routed, but the policy denies it", kPeerVtep, Vxlan(kNetB, c_to_b),
       DropReason::kPolicyDefaultDeny},
      {"routed from a source in no subnet of the domain", kPeerVtep,
       Vxlan(kNetB, Udp4Frame(kVmBMac, kRouterMac, kOutsideIp, kVmBIp)),
       DropReason::kRoutedSourceUnknown},
      {"routed, not IP", kPeerVtep,
       Vxlan(kNetB, RawFrame(kVmBMac, kRouterMac, net::ether_type::kIpv4)),
       DropReason::kRouterNotIp},
  };
}

TEST_F(RoutedTunnelTest, EachRoutedFrameIsDeliveredOrDroppedWithItsReason) {
  for (const TunnelCase& c : TunnelCases()) {
    SCOPED_TRACE(c.description);
    counters_ = Counters();
    const size_t delivered = Receive(c.datagram, c.vtep);
    if (!c.drop) {
      EXPECT_EQ(delivered, 1U);
      EXPECT_EQ(counters_.total_drops(), 0U);
    } else {
      EXPECT_EQ(delivered, 0U);
      EXPECT_EQ(counters_.drops(*c.drop), 1U) << DropReasonName(*c.drop);
    }
  }
}

TEST_F(RoutedTunnelTest, ADenyRuleIsEnforcedAgainOnTheReceivingSwitchAndCountedPerPolicy) {
  auto policies = RoutedPolicies();
  policies.push_back({.id = "no-telnet",
                      .source_vni = kNetA,
                      .destination_vni = kNetB,
                      .action = PolicyRule::Action::kReject,
                      .protocol = net::ip_proto::kTcp,
                      .first_port = 23,
                      .last_port = 23,
                      .priority = 5});
  ASSERT_TRUE(tables_.UpsertNetwork(RoutedNetwork(kNetB, policies)));
  const auto telnet = Tcp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp, 40000, 23);
  EXPECT_EQ(Receive(Vxlan(kNetB, telnet), kPeerVtep), 0U);
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDenied), 1U);
  EXPECT_EQ(counters_.policy_denied("no-telnet"), 1U);
  const auto ssh = Tcp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp, 40000, 22);
  EXPECT_EQ(Receive(Vxlan(kNetB, ssh), kPeerVtep), 1U) << "the rest of a -> b still passes";
}

TEST_F(RoutedTunnelTest, TheReplyOfAFlowThisSwitchLetOutComesBackIn) {
  // No rule allows 300 -> 200.
  const auto c_to_b = Udp4Frame(kVmBMac, kRouterMac, kVmCIp, kVmBIp, 2000, 1000);
  EXPECT_EQ(Receive(Vxlan(kNetB, c_to_b), kPeerVtep), 0U);
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDefaultDeny), 1U);
  // vmB sent vmC a datagram from port 1000 to 2000 (allowed, say, before a rule went): this
  // switch's router remembered the flow...
  flows_.Remember({kNetB, kNetC, kVmBIp, kVmCIp, net::ip_proto::kUdp, 1000, 2000}, gate_.now());
  // ...so vmC's reply comes in.
  EXPECT_EQ(Receive(Vxlan(kNetB, c_to_b), kPeerVtep), 1U);
  EXPECT_EQ(counters_.router().return_flow_passed, 1U);
}

TEST_F(RoutedTunnelTest, WithoutAGateRoutedFramesAreNotPolicyChecked) {
  FromTunnel plain(tables_, counters_, pool_);
  PacketBatch in;
  in.Push(MakePacket(pool_, Vxlan(kNetB, Udp4Frame(kVmBMac, kRouterMac, kVmCIp, kVmBIp))));
  in[0]->meta.tunnel = kPeerVtep;
  PacketBatch out;
  plain.Process(in, out);
  EXPECT_EQ(out.size(), 1U);
  pool_.Free(out);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
