// LocalResponder: a table of ARP and ND frames from ports, each answered (the reply parsed back
// and checked), dropped with its reason, or left alone; misses handed back; a reply the pool
// cannot hold counted.
#include "dswitch/pipeline/local_responder.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "net/icmpv6.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

// What should become of a frame.
struct Expect {
  enum Kind { kAnswered, kDropped, kKept } kind;
  net::MacAddress owner;                 // kAnswered: the MAC the reply gives
  DropReason drop = DropReason::kCount;  // kDropped
};

Expect Answered(const net::MacAddress& owner) { return {Expect::kAnswered, owner}; }
Expect Dropped(DropReason reason) { return {Expect::kDropped, {}, reason}; }
Expect Kept() { return {Expect::kKept, {}}; }

struct Case {
  std::string description;
  PortId port;
  std::vector<uint8_t> frame;
  Expect expect;
};

std::vector<Case> Cases() {
  const auto ns_for_vm2 = NsFrame(kVm1Mac, kVm1Ip6, kVm2Ip6, kVm1Mac);
  return {
      {"ARP for a local port", 1, ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), Answered(kVm2Mac)},
      {"ARP for a remote endpoint", 1, ArpRequest(kVm1Mac, kVm1Ip, kVm9Ip), Answered(kVm9Mac)},
      {"ARP probe for another's address", 1, ArpRequest(kVm1Mac, net::Ipv4Address(), kVm2Ip),
       Answered(kVm2Mac)},
      {"ARP for an unknown address", 1, ArpRequest(kVm1Mac, kVm1Ip, kUnknownIp),
       Dropped(DropReason::kArpTargetUnknown)},
      {"ARP for an address of another network", 3, ArpRequest(kVm3Mac, kVm3Ip, kVm2Ip),
       Dropped(DropReason::kArpTargetUnknown)},
      {"ARP probe for its own address", 1, ArpRequest(kVm1Mac, net::Ipv4Address(), kVm1Ip),
       Dropped(DropReason::kArpForOwnAddress)},
      {"ARP reply", 1, ArpFrame(net::arp::kReply, kVm1Mac, kVm1Mac, kVm1Ip, kVm2Ip),
       Dropped(DropReason::kArpNotAnswered)},
      {"gratuitous ARP", 1, ArpRequest(kVm1Mac, kVm1Ip, kVm1Ip),
       Dropped(DropReason::kArpNotAnswered)},
      {"truncated ARP", 1, Truncated(ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), 20),
       Dropped(DropReason::kArpMalformed)},
      {"NS for a local port", 1, ns_for_vm2, Answered(kVm2Mac)},
      {"NS for a remote endpoint", 1, NsFrame(kVm1Mac, kVm1Ip6, kVm9Ip6, kVm1Mac),
       Answered(kVm9Mac)},
      {"NS for an unknown address", 1, NsFrame(kVm1Mac, kVm1Ip6, kUnknownIp6, kVm1Mac),
       Dropped(DropReason::kNdTargetUnknown)},
      {"duplicate address detection of its own address", 1,
       NsFrame(kVm1Mac, net::Ipv6Address(), kVm1Ip6, std::nullopt),
       Dropped(DropReason::kNdForOwnAddress)},
      {"NS with hop limit 64 (off-link)", 1, WithByte(ns_for_vm2, 14 + 7, 64),
       Dropped(DropReason::kNdNotAnswered)},
      {"NS with a bad checksum", 1, WithByte(ns_for_vm2, 14 + 40 + 3, ns_for_vm2[14 + 40 + 3] ^ 1),
       Dropped(DropReason::kNdMalformed)},
      {"NA", 1, NaFrame(kVm1Mac, kVm1Ip6, kVm1Ip6, kVm1Mac), Dropped(DropReason::kNdNotAnswered)},
      {"truncated IPv6", 1, RawFrame(kVm2Mac, kVm1Mac, net::ether_type::kIpv6),
       Dropped(DropReason::kIpv6Malformed)},
      {"IPv4 unicast", 1, Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip), Kept()},
      {"IPv6 unicast", 1, Udp6Frame(kVm2Mac, kVm1Mac, kVm1Ip6, kVm2Ip6), Kept()},
  };
}

void CheckReply(const Packet& reply, const Case& c) {
  EXPECT_EQ(reply.meta.out_port, c.port);
  EXPECT_EQ(reply.meta.vni, kVni);
  EXPECT_TRUE(reply.meta.parsed);
  const auto ethernet = net::ParseEthernet(reply.span());
  ASSERT_TRUE(ethernet);
  EXPECT_EQ(ethernet->source, c.expect.owner);
  EXPECT_EQ(ethernet->destination, kVm1Mac);
  if (ethernet->ether_type == net::ether_type::kArp) {
    const auto arp = net::ParseArp(ethernet->payload);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->operation.value(), net::arp::kReply);
    EXPECT_EQ(arp->sender_mac, c.expect.owner);
    EXPECT_EQ(arp->target_mac, kVm1Mac);
    return;
  }
  const auto ip = net::ParseIpv6(ethernet->payload);
  ASSERT_TRUE(ip);
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp);
  const auto na = net::ParseNeighborAdvertisement(*icmp);
  ASSERT_TRUE(na);
  EXPECT_EQ(na->target_mac, c.expect.owner);
  EXPECT_TRUE(na->solicited_flag);
  EXPECT_FALSE(na->router_flag);
}

class LocalResponderTest : public PoolTest {};

TEST_F(LocalResponderTest, AnswersDropsOrKeepsEachFrame) {
  const Tables tables = ScenarioTables();
  const RemoteTable remotes = ScenarioRemotes();
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    Counters counters;
    LocalResponder stage(tables, remotes, counters, pool_);
    PacketBatch batch = OneFrame(pool_, c.frame, c.port, tables.Port(c.port)->vni);
    PacketBatch replies;
    stage.Process(batch, replies);
    switch (c.expect.kind) {
      case Expect::kAnswered:
        EXPECT_TRUE(batch.empty());
        ASSERT_EQ(replies.size(), 1u);
        CheckReply(*replies[0], c);
        EXPECT_EQ(counters.port(c.port).sent, 1u);
        EXPECT_EQ(counters.total_drops(), 0u);
        EXPECT_EQ(pool_.in_use(), 1u);  // the reply; the request went back to the pool
        break;
      case Expect::kDropped:
        EXPECT_TRUE(batch.empty());
        EXPECT_TRUE(replies.empty());
        EXPECT_EQ(counters.drops(c.expect.drop), 1u) << DropReasonName(c.expect.drop);
        EXPECT_EQ(counters.total_drops(), 1u);
        break;
      case Expect::kKept:
        ASSERT_EQ(batch.size(), 1u);
        EXPECT_EQ(Bytes(*batch[0]), c.frame);
        EXPECT_TRUE(replies.empty());
        EXPECT_EQ(counters.total_drops(), 0u);
        break;
    }
    FreeAll(pool_, batch, replies);
    EXPECT_EQ(pool_.in_use(), 0u);
  }
}

TEST_F(LocalResponderTest, MissesGoToTheCallerWhenItTakesThem) {
  const Tables tables = ScenarioTables();
  const RemoteTable remotes = ScenarioRemotes();
  Counters counters;
  LocalResponder stage(tables, remotes, counters, pool_);
  const auto arp = ArpRequest(kVm1Mac, kVm1Ip, kUnknownIp);
  PacketBatch batch = OneFrame(pool_, arp, 1, kVni);
  batch.Push(MakePacket(pool_, NsFrame(kVm1Mac, kVm1Ip6, kUnknownIp6, kVm1Mac), 1, kVni));
  batch.Push(MakePacket(pool_, ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), 1, kVni));
  PacketBatch replies;
  PacketBatch misses;
  stage.Process(batch, replies, &misses);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(replies.size(), 1u);
  ASSERT_EQ(misses.size(), 2u);
  EXPECT_EQ(Bytes(*misses[0]), arp);
  EXPECT_EQ(counters.total_drops(), 0u);
  FreeAll(pool_, replies, misses);
}

TEST_F(LocalResponderTest, AReplyThePoolCannotHoldIsCounted) {
  const Tables tables = ScenarioTables();
  const RemoteTable remotes = ScenarioRemotes();
  Counters counters;
  PacketPool tiny({.small_slots = 1, .large_slots = 0});
  LocalResponder stage(tables, remotes, counters, tiny);
  PacketBatch batch = OneFrame(tiny, ArpRequest(kVm1Mac, kVm1Ip, kVm2Ip), 1, kVni);
  PacketBatch replies;
  stage.Process(batch, replies);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(replies.empty());
  EXPECT_EQ(counters.drops(DropReason::kPoolExhausted), 1u);
  EXPECT_EQ(counters.port(1).dropped, 1u);
  EXPECT_EQ(counters.port(1).sent, 0u);
  EXPECT_EQ(tiny.in_use(), 0u);
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
