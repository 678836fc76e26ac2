// Router: a table of frames a VM sends to the router MAC (routed scenario, test_frames.h) and
// what becomes of each: forwarded (to a port or a VTEP, rewritten), answered (echo reply, ICMP
// error: parsed back and checked), handed back as a miss, or dropped with its reason. Then the
// policy's return flows, a policy change flushing them, and a TCP super-frame routed whole.
#include "dswitch/pipeline/router.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "dswitch/pipeline/classify.h"
#include "net/checksum.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/replies.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

struct Expect {
  enum Kind { kToPort, kToTunnel, kReply, kMiss, kDropped } kind;
  PortId port = kNoPort;    // kToPort
  net::Ipv4Address vtep{};  // kToTunnel
  uint32_t vni = 0;         // kToPort, kToTunnel: the destination network
  net::MacAddress mac{};    // kToPort, kToTunnel: the new destination MAC
  uint8_t icmp_type = 0;    // kReply (and kDropped with a reply)
  uint8_t icmp_code = 0;
  net::IpAddress reply_from{};           // kReply: the reply's source address
  DropReason drop = DropReason::kCount;  // kDropped (with or without a reply)
  bool with_reply = false;
};

Expect ToPort(PortId port, uint32_t vni, const net::MacAddress& mac) {
  return {.kind = Expect::kToPort, .port = port, .vni = vni, .mac = mac};
}
Expect ToTunnel(const net::Ipv4Address& vtep, uint32_t vni, const net::MacAddress& mac) {
  return {.kind = Expect::kToTunnel, .vtep = vtep, .vni = vni, .mac = mac};
}
Expect Echoed(const net::IpAddress& from, uint8_t type) {
  return {.kind = Expect::kReply, .icmp_type = type, .reply_from = from};
}
Expect Dropped(DropReason reason) { return {.kind = Expect::kDropped, .drop = reason}; }
Expect Answered(DropReason reason, uint8_t type, uint8_t code, const net::IpAddress& from) {
  return {.kind = Expect::kDropped,
          .icmp_type = type,
          .icmp_code = code,
          .reply_from = from,
          .drop = reason,
          .with_reply = true};
}
Expect Miss() { return {.kind = Expect::kMiss}; }

struct Case {
  std::string description;
  PortId in_port;
  uint32_t vni;
  std::vector<uint8_t> frame;
  Expect expect;
};

std::vector<Case> Cases() {
  using net::icmpv4::kDestinationUnreachable;
  namespace v4 = net::icmpv4;
  namespace v6 = net::icmpv6;
  const net::IpAddress router_ll = net::Ipv6Address::LinkLocalFromMac(kRouterMac);
  return {
      {"IPv4 to a local port of another network", 11, kNetA,
       Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), ToPort(12, kNetB, kVmBMac)},
      {"IPv6 to a local port of another network", 11, kNetA,
       Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, kVmBIp6), ToPort(12, kNetB, kVmBMac)},
      {"allowed TCP to a remote endpoint: the tunnel, the destination VNI", 11, kNetA,
       Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40000, 22),
       ToTunnel(kPeerVtep, kNetC, kVmCMac)},
      {"an unknown destination in a subnet of the domain: a miss", 11, kNetA,
       Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kNobodyInCIp, 40000, 22), Miss()},
      {"ping to the sender's gateway", 11, kNetA,
       Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kGatewayA), Echoed(kGatewayA, v4::kEchoReply)},
      {"ping to another network's gateway", 11, kNetA,
       Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kGatewayB), Echoed(kGatewayB, v4::kEchoReply)},
      {"IPv6 ping to the gateway", 11, kNetA,
       Icmp6EchoFrame(kRouterMac, kVmAMac, kVmAIp6, kGatewayA6),
       Echoed(kGatewayA6, v6::kEchoReply)},
      {"IPv6 ping to the router's link-local address", 11, kNetA,
       Icmp6EchoFrame(kRouterMac, kVmAMac, kVmAIp6, router_ll.v6()),
       Echoed(router_ll, v6::kEchoReply)},
      {"IPv6 from a link-local source: never routed", 11, kNetA,
       Udp6Frame(kRouterMac, kVmAMac, net::Ipv6Address::LinkLocalFromMac(kVmAMac), kVmBIp6),
       Answered(DropReason::kRouteNone, v6::kDestinationUnreachable, v6::kBeyondScope, router_ll)},
      {"UDP to a gateway", 11, kNetA, Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kGatewayA),
       Dropped(DropReason::kRouterToGateway)},
      {"outside every subnet: net unreachable from the gateway", 11, kNetA,
       Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kOutsideIp),
       Answered(DropReason::kRouteNone, kDestinationUnreachable, v4::kNetUnreachable, kGatewayA)},
      {"IPv6 outside every subnet: no route", 11, kNetA,
       Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, Ip6("2001:db8:99::1")),
       Answered(DropReason::kRouteNone, v6::kDestinationUnreachable, v6::kNoRoute, kGatewayA6)},
      {"TTL 1: time exceeded from the gateway", 11, kNetA,
       WithTtl(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 1),
       Answered(DropReason::kTtlExpired, v4::kTimeExceeded, v4::kTtlExceeded, kGatewayA)},
      {"hop limit 1: time exceeded", 11, kNetA,
       WithTtl(Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, kVmBIp6), 1),
       Answered(DropReason::kTtlExpired, v6::kTimeExceeded, v6::kHopLimitExceeded, kGatewayA6)},
      {"TTL 2 passes", 11, kNetA, WithTtl(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 2),
       ToPort(12, kNetB, kVmBMac)},
      {"a port no rule allows: default deny", 11, kNetA,
       Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40000, 23),
       Dropped(DropReason::kPolicyDefaultDeny)},
      {"a reject rule: administratively prohibited", 11, kNetA,
       Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp),
       Answered(DropReason::kPolicyDenied, kDestinationUnreachable, v4::kAdminProhibited,
                kGatewayA)},
      {"a deny rule: dropped without an answer", 12, kNetB,
       Udp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmCIp), Dropped(DropReason::kPolicyDenied)},
      {"no rule from B to A: default deny", 12, kNetB,
       Udp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmAIp), Dropped(DropReason::kPolicyDefaultDeny)},
      {"ARP to the router MAC", 11, kNetA,
       ArpFrame(net::arp::kRequest, kVmAMac, kVmAMac, kVmAIp, kVmBIp),
       Dropped(DropReason::kRouterNotIp)},
      {"a network without tables", 11, 999, Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp),
       Dropped(DropReason::kUnknownNetwork)},
  };
}

class RouterTest : public PoolTest {
 protected:
  Tables tables_ = RoutedTables();
  RemoteTable remotes_ = RoutedRemotes();
  Counters counters_;
  ReturnFlows flows_{64, std::chrono::seconds(60)};
  PolicyGate gate_{tables_, flows_, counters_};
  Router router_{tables_, remotes_, gate_, counters_, pool_};
  PacketBatch to_ports_, to_tunnels_, replies_, misses_;

  void Run(PacketBatch& batch) {
    router_.Process(batch, {to_ports_, to_tunnels_, replies_, &misses_});
  }
  void Send(const std::vector<uint8_t>& frame, PortId in_port, uint32_t vni) {
    PacketBatch batch = OneFrame(pool_, frame, in_port, vni);
    Classify(*batch[0]);
    Run(batch);
  }
  void TearDown() override {
    FreeAll(pool_, to_ports_, to_tunnels_, replies_, misses_);
    PoolTest::TearDown();
  }
};

// The ICMP message of a reply frame: type, code, source address.
struct IcmpReply {
  uint8_t type = 0;
  uint8_t code = 0;
  net::IpAddress from;
};
IcmpReply ParseReply(const Packet& reply) {
  IcmpReply out;
  const auto frame = net::ParseEthernet(reply.span());
  EXPECT_TRUE(frame);
  if (!frame) return out;
  EXPECT_EQ(frame->source, kRouterMac);
  if (frame->ether_type == net::ether_type::kIpv4) {
    const auto ip = net::ParseIpv4(frame->payload);
    EXPECT_TRUE(ip) << "the IPv4 header checksum verifies";
    if (!ip) return out;
    const auto icmp = net::ParseIcmpv4(ip->payload);
    EXPECT_TRUE(icmp) << "the ICMP checksum verifies";
    if (!icmp) return out;
    return {icmp->type(), icmp->code(), ip->source()};
  }
  const auto ip = net::ParseIpv6(frame->payload);
  EXPECT_TRUE(ip);
  if (!ip) return out;
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  EXPECT_TRUE(icmp) << "the ICMPv6 checksum verifies";
  if (!icmp) return out;
  return {icmp->type(), icmp->code(), ip->source()};
}

TEST_F(RouterTest, EachFrameIsRoutedAnsweredParkedOrDroppedWithItsReason) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    counters_ = Counters();
    flows_.Flush();
    Send(c.frame, c.in_port, c.vni);
    const Expect& e = c.expect;
    EXPECT_EQ(to_ports_.size(), e.kind == Expect::kToPort ? 1U : 0U);
    EXPECT_EQ(to_tunnels_.size(), e.kind == Expect::kToTunnel ? 1U : 0U);
    EXPECT_EQ(misses_.size(), e.kind == Expect::kMiss ? 1U : 0U);
    const bool reply = e.kind == Expect::kReply || e.with_reply;
    ASSERT_EQ(replies_.size(), reply ? 1U : 0U);
    if (e.kind == Expect::kDropped) {
      EXPECT_EQ(counters_.drops(e.drop), 1U) << DropReasonName(e.drop);
      EXPECT_EQ(counters_.total_drops(), 1U);
    } else {
      EXPECT_EQ(counters_.total_drops(), 0U);
    }
    if (reply) {
      const IcmpReply got = ParseReply(*replies_[0]);
      EXPECT_EQ(got.type, e.icmp_type);
      EXPECT_EQ(got.code, e.icmp_code);
      EXPECT_EQ(got.from, e.reply_from);
      EXPECT_EQ(replies_[0]->meta.out_port, c.in_port);
      EXPECT_EQ(DestinationMac(*replies_[0]), c.in_port == 11 ? kVmAMac : kVmBMac);
    }
    Packet* out = e.kind == Expect::kToPort     ? (to_ports_.empty() ? nullptr : to_ports_[0])
                  : e.kind == Expect::kToTunnel ? (to_tunnels_.empty() ? nullptr : to_tunnels_[0])
                                                : nullptr;
    if (out != nullptr) {
      EXPECT_EQ(out->meta.vni, e.vni);
      EXPECT_EQ(DestinationMac(*out), e.mac);
      EXPECT_EQ(SourceMac(*out), kRouterMac);
      if (e.kind == Expect::kToPort) {
        EXPECT_EQ(out->meta.out_port, e.port);
      } else {
        EXPECT_EQ(out->meta.tunnel, e.vtep);
      }
      // One less TTL; the IPv4 header checksum still verifies (updated incrementally).
      const auto frame = net::ParseEthernet(out->span());
      ASSERT_TRUE(frame);
      const uint8_t ttl_before = c.frame[frame->ether_type == net::ether_type::kIpv4 ? 22 : 21];
      if (frame->ether_type == net::ether_type::kIpv4) {
        const auto ip = net::ParseIpv4(frame->payload, /*verify_checksum=*/true);
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->ttl(), ttl_before - 1);
      } else {
        const auto ip = net::ParseIpv6(frame->payload);
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->hop_limit(), ttl_before - 1);
      }
      EXPECT_EQ(counters_.router().routed, 1U);
    }
    FreeAll(pool_, to_ports_, to_tunnels_, replies_, misses_);
  }
}

TEST_F(RouterTest, DeniedTrafficIsCountedPerPolicy) {
  Send(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp), 11, kNetA);
  Send(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp), 11, kNetA);
  Send(Udp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmCIp), 12, kNetB);
  EXPECT_EQ(counters_.policy_denied("no-udp"), 2U);
  EXPECT_EQ(counters_.policy_denied("deny-200-300"), 1U);
  EXPECT_EQ(counters_.Dump()["policy.no-udp.denied"], 2U);
  EXPECT_EQ(counters_.router().icmp_errors, 2U) << "two rejects answered";
}

TEST_F(RouterTest, TheReplyOfAnAllowedFlowPassesUntilThePolicyChanges) {
  // A -> B is allowed; B -> A has no rule (default deny) but B's reply passes.
  Send(Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, 40000, 80), 11, kNetA);
  ASSERT_EQ(to_ports_.size(), 1U);
  const auto reply = Tcp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmAIp, 80, 40000, 0x12);
  Send(reply, 12, kNetB);
  ASSERT_EQ(to_ports_.size(), 2U) << "the reply passed";
  EXPECT_EQ(to_ports_[1]->meta.out_port, 11U);
  EXPECT_EQ(counters_.router().return_flow_passed, 1U);
  // Another connection B did not receive is not a reply.
  Send(Tcp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmAIp, 80, 40001, 0x12), 12, kNetB);
  EXPECT_EQ(to_ports_.size(), 2U);
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDefaultDeny), 1U);

  // A policy change flushes the remembered flows: the reply is judged by the rules again.
  auto policies = RoutedPolicies();
  policies[0].priority = 2;
  ASSERT_TRUE(tables_.UpsertNetwork(RoutedNetwork(kNetA, policies)));
  Send(reply, 12, kNetB);
  EXPECT_EQ(to_ports_.size(), 2U);
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDefaultDeny), 2U);
}

// vmB's ICMP port unreachable about `offending` (a frame as vmB received it).
std::vector<uint8_t> PortUnreachableFromB(const std::vector<uint8_t>& offending) {
  const auto frame = net::ParseEthernet(offending);
  EXPECT_TRUE(frame);
  const auto ip = net::ParseIpv4(frame->payload);
  EXPECT_TRUE(ip);
  auto error = net::BuildIcmpv4Error(*frame, *ip, net::icmpv4::kDestinationUnreachable,
                                     net::icmpv4::kPortUnreachable, 0, {kVmBMac, kVmBIp});
  EXPECT_TRUE(error);
  return error ? *error : std::vector<uint8_t>();
}

TEST_F(RouterTest, AnIcmpErrorAboutAnAllowedFlowGoesBackToItsSender) {
  Send(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, 1000, 2000), 11, kNetA);
  ASSERT_EQ(to_ports_.size(), 1U);
  // B has nothing on port 2000: its port unreachable quotes what it got.
  Send(PortUnreachableFromB(Bytes(*to_ports_[0])), 12, kNetB);
  ASSERT_EQ(to_ports_.size(), 2U) << "the error reached A although no rule allows B -> A";
  EXPECT_EQ(to_ports_[1]->meta.out_port, 11U);
  // An error about a flow A never sent is not let through.
  Send(PortUnreachableFromB(Udp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp, 1001, 2000)), 12, kNetB);
  EXPECT_EQ(to_ports_.size(), 2U);
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDefaultDeny), 1U);
}

TEST_F(RouterTest, AnIdleFlowsRepliesAreDeniedAgain) {
  const auto t0 = ReturnFlows::Clock::time_point{} + std::chrono::hours(1);
  gate_.SetNow(t0);
  Send(Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, 7), 11, kNetA);
  gate_.SetNow(t0 + std::chrono::seconds(30));
  const auto echo_reply =
      Icmp4EchoFrame(kRouterMac, kVmBMac, kVmBIp, kVmAIp, 7, net::icmpv4::kEchoReply);
  Send(echo_reply, 12, kNetB);
  EXPECT_EQ(to_ports_.size(), 2U) << "the echo reply passed";
  gate_.SetNow(t0 + std::chrono::seconds(91));
  Send(echo_reply, 12, kNetB);
  EXPECT_EQ(to_ports_.size(), 2U) << "idle for 61 s: expired";
  EXPECT_EQ(counters_.drops(DropReason::kPolicyDefaultDeny), 1U);
}

TEST_F(RouterTest, AFullReturnFlowTableIsCountedAndTheFlowStillPasses) {
  ReturnFlows tiny(8, std::chrono::seconds(60));
  PolicyGate gate(tables_, tiny, counters_);
  Router router(tables_, remotes_, gate, counters_, pool_);
  for (uint16_t port = 1; port <= 9; ++port) {
    PacketBatch batch =
        OneFrame(pool_, Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, port, 80), 11, kNetA);
    router.Process(batch, {to_ports_, to_tunnels_, replies_, &misses_});
  }
  EXPECT_EQ(to_ports_.size(), 9U);
  EXPECT_EQ(counters_.router().return_flows_full, 1U);
}

TEST_F(RouterTest, IcmpAnswersAreRateLimited) {
  const auto t0 = ReturnFlows::Clock::time_point{} + std::chrono::hours(1);
  gate_.SetNow(t0);
  const auto expired = WithTtl(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 1);
  for (int i = 0; i < 150; ++i) Send(expired, 11, kNetA);
  EXPECT_EQ(replies_.size(), 100U) << "a burst of 100";
  EXPECT_EQ(counters_.router().icmp_rate_limited, 50U);
  EXPECT_EQ(counters_.drops(DropReason::kTtlExpired), 150U) << "every packet dropped and counted";
  gate_.SetNow(t0 + std::chrono::milliseconds(10));  // 10 more tokens
  for (int i = 0; i < 20; ++i)
    Send(Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kGatewayA), 11, kNetA);
  EXPECT_EQ(replies_.size(), 110U);
  EXPECT_EQ(counters_.router().echo_replies, 10U);
  EXPECT_EQ(counters_.drops(DropReason::kRouterToGateway), 10U);
}

TEST_F(RouterTest, AMissWithoutAMissBatchIsAnsweredHostUnreachable) {
  PacketBatch batch =
      OneFrame(pool_, Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kNobodyInCIp, 1, 22), 11, kNetA);
  router_.Process(batch, {to_ports_, to_tunnels_, replies_, nullptr});
  ASSERT_EQ(replies_.size(), 1U);
  const IcmpReply got = ParseReply(*replies_[0]);
  EXPECT_EQ(got.type, net::icmpv4::kDestinationUnreachable);
  EXPECT_EQ(got.code, net::icmpv4::kHostUnreachable);
  EXPECT_EQ(counters_.drops(DropReason::kRouteHostUnknown), 1U);
}

TEST_F(RouterTest, ATcpSuperFrameIsRoutedWholeWithItsOffloadState) {
  PacketBatch batch =
      OneFrame(pool_, Tcp4SuperFrame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, 30000), 11, kNetA);
  batch[0]->offload = TsoOffload(false, 34);
  Run(batch);
  ASSERT_EQ(to_ports_.size(), 1U);
  const Packet& out = *to_ports_[0];
  EXPECT_TRUE(out.offload.is_gso());
  EXPECT_TRUE(out.offload.csum_partial);
  EXPECT_EQ(out.size(), 14U + 40U + 30000U);
  EXPECT_EQ(net::InternetChecksum(out.span().subspan(14, 20)), 0) << "IPv4 header checksum";
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
