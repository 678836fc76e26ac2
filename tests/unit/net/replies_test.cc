// The frames a switch answers with: each reply is parsed back with this library's parsers
// (checksums verified) and its fields compared with what the request asked; every refusal has
// a case.
#include "net/replies.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/udp.h"
#include "test_printers.h"

namespace dove::net {
namespace {

const MacAddress kVmMac = *MacAddress::Parse("52:54:00:00:00:01");
const MacAddress kOwnerMac = *MacAddress::Parse("52:54:00:00:00:02");
const MacAddress kRouterMac = *MacAddress::Parse("02:d0:5e:00:00:01");
const Ipv4Address kVmIp = *Ipv4Address::Parse("10.0.0.1");
const Ipv4Address kOwnerIp = *Ipv4Address::Parse("10.0.0.2");
const Ipv4Address kGatewayIp = *Ipv4Address::Parse("10.0.0.254");
const Ipv4Address kFarIp = *Ipv4Address::Parse("10.9.0.7");
const Ipv6Address kVmIp6 = *Ipv6Address::Parse("2001:db8::1");
const Ipv6Address kOwnerIp6 = *Ipv6Address::Parse("2001:db8::2");
const Ipv6Address kGatewayIp6 = *Ipv6Address::Parse("2001:db8::fe");
const Ipv6Address kFarIp6 = *Ipv6Address::Parse("2001:db8:9::7");

// A parsed request together with the bytes its views point into.
struct Request {
  std::vector<uint8_t> bytes;
  EthernetFrame frame;
};

Request Parsed(std::vector<uint8_t> bytes) {
  Request request{std::move(bytes), {}};
  auto frame = ParseEthernet(request.bytes);
  EXPECT_TRUE(frame);
  if (frame) request.frame = *frame;
  return request;
}

std::vector<uint8_t> ArpFrame(uint16_t operation, const MacAddress& frame_source,
                              const MacAddress& sender_mac, const Ipv4Address& sender_ip,
                              const Ipv4Address& target_ip, bool tagged = false) {
  FrameBuilder b;
  if (tagged) {
    b.Append(MakeEthernetHeader(MacAddress::Broadcast(), frame_source, ether_type::kVlan));
    b.Append(VlanTag{Be16::Of(0x2064), Be16::Of(ether_type::kArp)});
  } else {
    b.Append(MakeEthernetHeader(MacAddress::Broadcast(), frame_source, ether_type::kArp));
  }
  b.Append(MakeArp(operation, sender_mac, sender_ip, MacAddress(), target_ip));
  return std::move(b).Take();
}

TEST(ArpReplyTest, AnswersForTheOwner) {
  for (bool tagged : {false, true}) {
    auto request = Parsed(ArpFrame(arp::kRequest, kVmMac, kVmMac, kVmIp, kOwnerIp, tagged));
    auto arp = ParseArp(request.frame.payload);
    ASSERT_TRUE(arp);
    auto reply = BuildArpReply(request.frame, *arp, kOwnerMac);
    ASSERT_TRUE(reply) << ErrorName(reply.error());
    auto frame = ParseEthernet(*reply);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->destination, kVmMac);
    EXPECT_EQ(frame->source, kOwnerMac);
    EXPECT_EQ(frame->vlan.has_value(), tagged);
    if (tagged) {
      EXPECT_EQ(frame->vlan->vlan_id(), 100);
    }
    auto answer = ParseArp(frame->payload);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->operation.value(), arp::kReply);
    EXPECT_EQ(answer->sender_mac, kOwnerMac);
    EXPECT_EQ(answer->sender_ip, kOwnerIp);
    EXPECT_EQ(answer->target_mac, kVmMac);
    EXPECT_EQ(answer->target_ip, kVmIp);
    EXPECT_EQ(frame->payload.size(), sizeof(ArpPacket));
  }
}

TEST(ArpReplyTest, AnswersAProbe) {
  // RFC 5227 probe: sender IP 0.0.0.0. The answer tells the prober the address is taken.
  auto request = Parsed(ArpFrame(arp::kRequest, kVmMac, kVmMac, Ipv4Address(), kOwnerIp));
  auto reply = BuildArpReply(request.frame, *ParseArp(request.frame.payload), kOwnerMac);
  ASSERT_TRUE(reply);
  EXPECT_EQ(ParseArp(ParseEthernet(*reply)->payload)->target_ip, Ipv4Address());
}

TEST(ArpReplyTest, RefusesWhatIsNotAQuestion) {
  struct Case {
    const char* description;
    std::vector<uint8_t> frame;
  };
  const MacAddress other = *MacAddress::Parse("52:54:00:00:00:09");
  const std::vector<Case> cases = {
      {"a reply", ArpFrame(arp::kReply, kVmMac, kVmMac, kVmIp, kOwnerIp)},
      {"gratuitous", ArpFrame(arp::kRequest, kVmMac, kVmMac, kVmIp, kVmIp)},
      {"sender MAC not the frame's source",
       ArpFrame(arp::kRequest, kVmMac, other, kVmIp, kOwnerIp)},
      {"multicast sender",
       ArpFrame(arp::kRequest, MacAddress::Broadcast(), MacAddress::Broadcast(), kVmIp, kOwnerIp)},
  };
  for (const auto& c : cases) {
    auto request = Parsed(c.frame);
    auto arp = ParseArp(request.frame.payload);
    ASSERT_TRUE(arp) << c.description;
    auto reply = BuildArpReply(request.frame, *arp, kOwnerMac);
    ASSERT_FALSE(reply) << c.description;
    EXPECT_EQ(reply.error(), Error::kBadField) << c.description;
  }
}

std::vector<uint8_t> NsFrame(const Ipv6Address& source, const MacAddress& source_mac,
                             uint8_t hop_limit) {
  const Ipv6Address group = kOwnerIp6.SolicitedNodeMulticast();
  FrameBuilder b;
  b.Append(MakeEthernetHeader(MacAddress::ForIpv6Multicast(group.bytes()), source_mac,
                              ether_type::kIpv6));
  const size_t ip_at = b.Append(*MakeIpv6Header(source, group, ip_proto::kIcmpv6, hop_limit, 0));
  NeighborSolicitation ns{kOwnerIp6, std::nullopt};
  if (!source.IsUnspecified()) ns.source_mac = source_mac;
  AppendNeighborSolicitation(b, source, group, ns);
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

struct ParsedNa {
  EthernetFrame frame;
  Ipv6Packet ip;
  NeighborAdvertisement na;
};

ParsedNa ParseNa(const std::vector<uint8_t>& bytes) {
  ParsedNa out;
  auto frame = ParseEthernet(bytes);
  EXPECT_TRUE(frame);
  if (!frame) return out;
  out.frame = *frame;
  auto ip = ParseIpv6(frame->payload);
  EXPECT_TRUE(ip);
  if (!ip) return out;
  out.ip = *ip;
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());  // checksum verified
  EXPECT_TRUE(icmp);
  if (!icmp) return out;
  auto na = ParseNeighborAdvertisement(*icmp);
  EXPECT_TRUE(na);
  if (na) out.na = *na;
  return out;
}

Result<std::vector<uint8_t>> AnswerNs(const Request& request, bool router = false) {
  auto ip = ParseIpv6(request.frame.payload);
  EXPECT_TRUE(ip);
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  EXPECT_TRUE(icmp);
  auto ns = ParseNeighborSolicitation(*icmp);
  EXPECT_TRUE(ns);
  return BuildNeighborAdvertisement(request.frame, *ip, *ns, kOwnerMac, router);
}

TEST(NeighborAdvertisementTest, AnswersTheSolicitor) {
  auto request = Parsed(NsFrame(kVmIp6, kVmMac, nd::kHopLimit));
  auto reply = AnswerNs(request, /*router=*/true);
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto na = ParseNa(*reply);
  EXPECT_EQ(na.frame.destination, kVmMac);
  EXPECT_EQ(na.frame.source, kOwnerMac);
  EXPECT_EQ(na.ip.source(), kOwnerIp6);
  EXPECT_EQ(na.ip.destination(), kVmIp6);
  EXPECT_EQ(na.ip.hop_limit(), nd::kHopLimit);
  EXPECT_EQ(na.na.target, kOwnerIp6);
  EXPECT_TRUE(na.na.solicited_flag);
  EXPECT_TRUE(na.na.override_flag);
  EXPECT_TRUE(na.na.router_flag);
  EXPECT_EQ(na.na.target_mac, kOwnerMac);
}

TEST(NeighborAdvertisementTest, AnswersDuplicateAddressDetectionToAllNodes) {
  auto request = Parsed(NsFrame(Ipv6Address(), kVmMac, nd::kHopLimit));
  auto reply = AnswerNs(request);
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto na = ParseNa(*reply);
  EXPECT_EQ(na.frame.destination.ToString(), "33:33:00:00:00:01");
  EXPECT_EQ(na.ip.destination(), Ipv6Address::AllNodes());
  EXPECT_FALSE(na.na.solicited_flag);
  EXPECT_FALSE(na.na.router_flag);
}

TEST(NeighborAdvertisementTest, RefusesOffLinkSolicitation) {
  auto request = Parsed(NsFrame(kVmIp6, kVmMac, 64));
  auto reply = AnswerNs(request);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), Error::kBadField);
}

// An IPv4 packet from the VM: UDP with `payload_size` bytes, or ICMP of `icmp_type`.
struct Ipv4Spec {
  Ipv4Address source = kVmIp;
  Ipv4Address destination = kFarIp;
  MacAddress frame_destination = kRouterMac;
  uint8_t protocol = ip_proto::kUdp;
  uint8_t icmp_type = icmpv4::kEchoRequest;
  uint16_t fragment_field = 0x4000;  // DF
  size_t payload_size = 1472;
};

std::vector<uint8_t> Ipv4Frame(const Ipv4Spec& spec) {
  FrameBuilder b;
  b.Append(MakeEthernetHeader(spec.frame_destination, kVmMac, ether_type::kIpv4));
  auto header = *MakeIpv4Header(spec.source, spec.destination, spec.protocol, 64, 0, 0x1234);
  header.flags_fragment_offset = Be16::Of(spec.fragment_field);
  const size_t ip_at = b.Append(header);
  if (spec.protocol == ip_proto::kIcmp) {
    const size_t icmp_at = b.Append(MakeIcmpv4Header(spec.icmp_type, 0, 0x00010001));
    b.AppendZeros(spec.payload_size);
    FinishIcmpv4(b.From(icmp_at));
  } else {
    const size_t udp_at = b.Append(*MakeUdpHeader(40000, 5201, spec.payload_size));
    std::vector<uint8_t> payload(spec.payload_size);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
    b.Append(payload);
    EXPECT_TRUE(FinishUdp(b.From(udp_at), spec.source, spec.destination));
  }
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

TEST(Icmpv4ErrorTest, FragmentationNeededQuotesTheOffendingHeader) {
  auto request = Parsed(Ipv4Frame({}));
  auto ip = ParseIpv4(request.frame.payload);
  ASSERT_TRUE(ip);
  auto reply = BuildFragmentationNeeded(request.frame, *ip, 1450, {kRouterMac, kGatewayIp});
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto frame = ParseEthernet(*reply);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->destination, kVmMac);
  EXPECT_EQ(frame->source, kRouterMac);
  auto answer = ParseIpv4(frame->payload);  // header checksum verified
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->source(), kGatewayIp);
  EXPECT_EQ(answer->destination(), kVmIp);
  EXPECT_EQ(answer->protocol(), ip_proto::kIcmp);
  EXPECT_EQ(answer->ttl(), kReplyTtl);
  auto icmp = ParseIcmpv4(answer->payload);  // checksum verified
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmpv4::kDestinationUnreachable);
  EXPECT_EQ(icmp->code(), icmpv4::kFragmentationNeeded);
  EXPECT_EQ(icmp->next_hop_mtu(), 1450);
  // The quote: the 20-byte header and the first 8 bytes (the UDP header) of the packet.
  ASSERT_EQ(icmp->body.size(), 28u);
  EXPECT_TRUE(std::equal(icmp->body.begin(), icmp->body.end(), request.frame.payload.begin()));
  auto quoted = ParseIpv4(icmp->body.first(20), /*verify_checksum=*/true);
  EXPECT_FALSE(quoted);  // only the header is quoted: its total length says more
}

TEST(Icmpv4ErrorTest, TimeExceeded) {
  auto request = Parsed(Ipv4Frame({.protocol = ip_proto::kIcmp, .payload_size = 56}));
  auto ip = ParseIpv4(request.frame.payload);
  auto reply = BuildIcmpv4TimeExceeded(request.frame, *ip, {kRouterMac, kGatewayIp});
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto icmp = ParseIcmpv4(ParseIpv4(ParseEthernet(*reply)->payload)->payload);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmpv4::kTimeExceeded);
  EXPECT_EQ(icmp->code(), icmpv4::kTtlExceeded);
}

TEST(Icmpv4ErrorTest, NeverAnswersWhatRfc1812Forbids) {
  struct Case {
    const char* description;
    Ipv4Spec spec;
  };
  const Case cases[] = {
      {"an ICMP error",
       {.protocol = ip_proto::kIcmp, .icmp_type = icmpv4::kDestinationUnreachable}},
      {"an unknown ICMP type", {.protocol = ip_proto::kIcmp, .icmp_type = 200}},
      {"a non-initial fragment", {.fragment_field = 0x00b9}},
      {"to the broadcast address", {.destination = Ipv4Address::Broadcast()}},
      {"to a multicast group", {.destination = *Ipv4Address::Parse("239.1.1.1")}},
      {"in a broadcast frame", {.frame_destination = MacAddress::Broadcast()}},
      {"from 0.0.0.0", {.source = Ipv4Address()}},
      {"from a broadcast address", {.source = Ipv4Address::Broadcast()}},
      {"from a multicast address", {.source = *Ipv4Address::Parse("224.0.0.1")}},
      {"from loopback", {.source = *Ipv4Address::Parse("127.0.0.1")}},
      {"from this network (0/8)", {.source = *Ipv4Address::Parse("0.1.2.3")}},
      {"from class E", {.source = *Ipv4Address::Parse("240.0.0.1")}},
  };
  for (const auto& c : cases) {
    auto request = Parsed(Ipv4Frame(c.spec));
    auto ip = ParseIpv4(request.frame.payload);
    ASSERT_TRUE(ip) << c.description;
    auto reply = BuildFragmentationNeeded(request.frame, *ip, 1450, {kRouterMac, kGatewayIp});
    ASSERT_FALSE(reply) << c.description;
    EXPECT_EQ(reply.error(), Error::kUnsupported) << c.description;
  }
  // An echo request may be answered with an error; an initial fragment too.
  for (const Ipv4Spec& spec :
       {Ipv4Spec{.protocol = ip_proto::kIcmp}, Ipv4Spec{.fragment_field = 0x2000}}) {
    auto request = Parsed(Ipv4Frame(spec));
    auto ip = ParseIpv4(request.frame.payload);
    EXPECT_TRUE(BuildFragmentationNeeded(request.frame, *ip, 1450, {kRouterMac, kGatewayIp}));
  }
  auto request = Parsed(Ipv4Frame({}));
  auto ip = ParseIpv4(request.frame.payload);
  auto other = Parsed(Ipv4Frame({.payload_size = 10}));
  EXPECT_EQ(BuildIcmpv4TimeExceeded(other.frame, *ip, {kRouterMac, kGatewayIp}).error(),
            Error::kBadField);
  EXPECT_EQ(BuildIcmpv4Error(request.frame, *ip, icmpv4::kEchoReply, 0, 0, {kRouterMac, kGatewayIp})
                .error(),
            Error::kBadField);
}

struct Ipv6Spec {
  Ipv6Address source = kVmIp6;
  Ipv6Address destination = kFarIp6;
  MacAddress frame_destination = kRouterMac;
  uint8_t next_header = ip_proto::kUdp;
  uint8_t icmp_type = icmpv6::kEchoRequest;
  size_t payload_size = 1452;
};

std::vector<uint8_t> Ipv6Frame(const Ipv6Spec& spec) {
  FrameBuilder b;
  b.Append(MakeEthernetHeader(spec.frame_destination, kVmMac, ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*MakeIpv6Header(spec.source, spec.destination, spec.next_header, 64, 0));
  if (spec.next_header == ip_proto::kIcmpv6) {
    const size_t icmp_at = b.Append(MakeIcmpv6Header(spec.icmp_type, 0));
    b.AppendZeros(4 + spec.payload_size);
    FinishIcmpv6(b.From(icmp_at), spec.source, spec.destination);
  } else {
    const size_t udp_at = b.Append(*MakeUdpHeader(40000, 5201, spec.payload_size));
    b.AppendZeros(spec.payload_size);
    EXPECT_TRUE(FinishUdp(b.From(udp_at), spec.source, spec.destination));
  }
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

TEST(Icmpv6ErrorTest, PacketTooBigQuotesWhatFitsTheMinimumMtu) {
  auto request = Parsed(Ipv6Frame({}));
  auto ip = ParseIpv6(request.frame.payload);
  ASSERT_TRUE(ip);
  auto reply = BuildPacketTooBig(request.frame, *ip, 1430, {kRouterMac, kGatewayIp6});
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto frame = ParseEthernet(*reply);
  EXPECT_EQ(frame->destination, kVmMac);
  EXPECT_EQ(frame->source, kRouterMac);
  auto answer = ParseIpv6(frame->payload);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->source(), kGatewayIp6);
  EXPECT_EQ(answer->destination(), kVmIp6);
  EXPECT_EQ(answer->hop_limit(), kReplyTtl);
  EXPECT_EQ(frame->payload.size(), 1280u);  // an error never exceeds the minimum MTU
  auto icmp = ParseIcmpv6(answer->payload, answer->source(), answer->destination());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmpv6::kPacketTooBig);
  EXPECT_EQ(icmp->mtu(), 1430u);
  ASSERT_EQ(icmp->data().size(), 1280u - 48);
  EXPECT_TRUE(std::equal(icmp->data().begin(), icmp->data().end(), request.frame.payload.begin()));
}

TEST(Icmpv6ErrorTest, TimeExceededAndItsRefusals) {
  auto request = Parsed(Ipv6Frame({.payload_size = 100}));
  auto ip = ParseIpv6(request.frame.payload);
  auto reply = BuildIcmpv6TimeExceeded(request.frame, *ip, {kRouterMac, kGatewayIp6});
  ASSERT_TRUE(reply) << ErrorName(reply.error());
  auto answer = ParseIpv6(ParseEthernet(*reply)->payload);
  auto icmp = ParseIcmpv6(answer->payload, answer->source(), answer->destination());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmpv6::kTimeExceeded);
  EXPECT_EQ(icmp->data().size(), 40u + 8 + 100);  // the whole small packet

  struct Case {
    const char* description;
    Ipv6Spec spec;
    bool packet_too_big_allowed;
  };
  const Ipv6Address group = *Ipv6Address::Parse("ff05::1:3");
  const Case cases[] = {
      {"an ICMPv6 error",
       {.next_header = ip_proto::kIcmpv6, .icmp_type = icmpv6::kTimeExceeded},
       false},
      {"a redirect", {.next_header = ip_proto::kIcmpv6, .icmp_type = icmpv6::kRedirect}, false},
      {"from ::", {.source = Ipv6Address()}, false},
      {"from a multicast address", {.source = group}, false},
      {"to a multicast group", {.destination = group}, true},
      {"in a multicast frame",
       {.frame_destination = MacAddress::ForIpv6Multicast(group.bytes())},
       true},
  };
  for (const auto& c : cases) {
    auto r = Parsed(Ipv6Frame(c.spec));
    auto p = ParseIpv6(r.frame.payload);
    ASSERT_TRUE(p) << c.description;
    auto time_exceeded = BuildIcmpv6TimeExceeded(r.frame, *p, {kRouterMac, kGatewayIp6});
    ASSERT_FALSE(time_exceeded) << c.description;
    EXPECT_EQ(time_exceeded.error(), Error::kUnsupported) << c.description;
    auto too_big = BuildPacketTooBig(r.frame, *p, 1280, {kRouterMac, kGatewayIp6});
    EXPECT_EQ(too_big.has_value(), c.packet_too_big_allowed) << c.description;
  }
  EXPECT_EQ(BuildPacketTooBig(request.frame, *ip, 1279, {kRouterMac, kGatewayIp6}).error(),
            Error::kOutOfRange);
  // A packet view that was not parsed from the frame's payload cannot be quoted.
  auto other = Parsed(Ipv6Frame({.payload_size = 10}));
  EXPECT_EQ(BuildIcmpv6TimeExceeded(other.frame, *ip, {kRouterMac, kGatewayIp6}).error(),
            Error::kBadField);
  EXPECT_EQ(
      BuildIcmpv6Error(request.frame, *ip, icmpv6::kEchoReply, 0, 0, {kRouterMac, kGatewayIp6})
          .error(),
      Error::kBadField);
  auto echo = Parsed(Ipv6Frame({.next_header = ip_proto::kIcmpv6}));
  EXPECT_TRUE(BuildIcmpv6TimeExceeded(echo.frame, *ParseIpv6(echo.frame.payload),
                                      {kRouterMac, kGatewayIp6}));
}

// Echo replies from a gateway address.

TEST(EchoReplyTest, Icmpv4EchoesIdentifierSequenceAndDataFromTheAddressPinged) {
  auto request = Parsed(
      Ipv4Frame({.destination = kGatewayIp, .protocol = ip_proto::kIcmp, .payload_size = 56}));
  auto ip = ParseIpv4(request.frame.payload);
  ASSERT_TRUE(ip);
  auto reply = BuildIcmpv4EchoReply(request.frame, *ip, kRouterMac);
  ASSERT_TRUE(reply);
  auto frame = ParseEthernet(*reply);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->source, kRouterMac);
  EXPECT_EQ(frame->destination, kVmMac);
  auto reply_ip = ParseIpv4(frame->payload);
  ASSERT_TRUE(reply_ip) << "the header checksum verifies";
  EXPECT_EQ(reply_ip->source(), kGatewayIp);
  EXPECT_EQ(reply_ip->destination(), kVmIp);
  EXPECT_EQ(reply_ip->ttl(), kReplyTtl);
  auto icmp = ParseIcmpv4(reply_ip->payload);
  ASSERT_TRUE(icmp) << "the ICMP checksum verifies";
  EXPECT_EQ(icmp->type(), icmpv4::kEchoReply);
  EXPECT_EQ(icmp->identifier(), 1);
  EXPECT_EQ(icmp->sequence(), 1);
  EXPECT_EQ(icmp->body.size(), 56U);
}

TEST(EchoReplyTest, Icmpv4RefusesWhatIsNotAnEchoRequestToOneHost) {
  const auto refused = [](const Ipv4Spec& spec) {
    auto request = Parsed(Ipv4Frame(spec));
    auto ip = ParseIpv4(request.frame.payload);
    EXPECT_TRUE(ip);
    if (!ip) return Error::kTruncated;
    auto reply = BuildIcmpv4EchoReply(request.frame, *ip, kRouterMac);
    return reply ? Error::kTruncated : reply.error();  // kTruncated: "answered" in this test
  };
  EXPECT_EQ(refused({.destination = kGatewayIp, .payload_size = 8}), Error::kBadField) << "UDP";
  EXPECT_EQ(refused({.destination = kGatewayIp,
                     .protocol = ip_proto::kIcmp,
                     .icmp_type = icmpv4::kEchoReply,
                     .payload_size = 8}),
            Error::kBadField)
      << "an echo reply";
  EXPECT_EQ(refused({.destination = kGatewayIp,
                     .protocol = ip_proto::kIcmp,
                     .fragment_field = 0x2000,
                     .payload_size = 8}),
            Error::kBadField)
      << "a fragment";
  EXPECT_EQ(refused({.destination = Ipv4Address::Broadcast(),
                     .protocol = ip_proto::kIcmp,
                     .payload_size = 8}),
            Error::kUnsupported)
      << "a broadcast ping";
  EXPECT_EQ(refused({.source = *Ipv4Address::Parse("0.0.0.0"),
                     .destination = kGatewayIp,
                     .protocol = ip_proto::kIcmp,
                     .payload_size = 8}),
            Error::kUnsupported)
      << "from 0.0.0.0";
  // A bad ICMP checksum.
  auto bytes =
      Ipv4Frame({.destination = kGatewayIp, .protocol = ip_proto::kIcmp, .payload_size = 8});
  bytes[14 + 20 + 2] ^= 0x01;
  auto request = Parsed(bytes);
  auto ip = ParseIpv4(request.frame.payload);
  ASSERT_TRUE(ip);
  EXPECT_EQ(BuildIcmpv4EchoReply(request.frame, *ip, kRouterMac).error(), Error::kBadField);
}

TEST(EchoReplyTest, Icmpv6EchoesTheRequestFromTheAddressPingedAndRefusesTheRest) {
  auto request = Parsed(Ipv6Frame(
      {.destination = kGatewayIp6, .next_header = ip_proto::kIcmpv6, .payload_size = 56}));
  auto ip = ParseIpv6(request.frame.payload);
  ASSERT_TRUE(ip);
  auto reply = BuildIcmpv6EchoReply(request.frame, *ip, kRouterMac);
  ASSERT_TRUE(reply);
  auto frame = ParseEthernet(*reply);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->destination, kVmMac);
  auto reply_ip = ParseIpv6(frame->payload);
  ASSERT_TRUE(reply_ip);
  EXPECT_EQ(reply_ip->source(), kGatewayIp6);
  EXPECT_EQ(reply_ip->destination(), kVmIp6);
  auto icmp = ParseIcmpv6(reply_ip->payload, reply_ip->source(), reply_ip->destination());
  ASSERT_TRUE(icmp) << "the checksum verifies";
  EXPECT_EQ(icmp->type(), icmpv6::kEchoReply);
  EXPECT_EQ(icmp->body.size(), 4U + 56U);

  auto udp = Parsed(Ipv6Frame({.destination = kGatewayIp6, .payload_size = 8}));
  auto udp_ip = ParseIpv6(udp.frame.payload);
  ASSERT_TRUE(udp_ip);
  EXPECT_EQ(BuildIcmpv6EchoReply(udp.frame, *udp_ip, kRouterMac).error(), Error::kBadField);
  auto multicast = Parsed(Ipv6Frame({.destination = Ipv6Address::AllNodes(),
                                     .next_header = ip_proto::kIcmpv6,
                                     .payload_size = 8}));
  auto multicast_ip = ParseIpv6(multicast.frame.payload);
  ASSERT_TRUE(multicast_ip);
  EXPECT_EQ(BuildIcmpv6EchoReply(multicast.frame, *multicast_ip, kRouterMac).error(),
            Error::kUnsupported);
}

// A DHCP client message in its Ethernet/IPv4/UDP frame, as a VM sends it.
std::vector<uint8_t> DhcpFrame(DhcpMessageType type, bool broadcast_flag, const Ipv4Address& ciaddr,
                               const Ipv4Address& giaddr = Ipv4Address()) {
  DhcpHeader header{};
  header.op = dhcp::kBootRequest;
  header.htype = dhcp::kHtypeEthernet;
  header.hlen = 6;
  header.xid = Be32::Of(0xdeadbeef);
  header.flags = Be16::Of(broadcast_flag ? dhcp::kFlagBroadcast : 0);
  header.ciaddr = ciaddr;
  header.giaddr = giaddr;
  std::copy(kVmMac.bytes().begin(), kVmMac.bytes().end(), header.chaddr.begin());
  FrameBuilder b;
  b.Append(MakeEthernetHeader(MacAddress::Broadcast(), kVmMac, ether_type::kIpv4));
  const Ipv4Address source = ciaddr;
  const Ipv4Address destination = Ipv4Address::Broadcast();
  const size_t ip_at = b.Append(*MakeIpv4Header(source, destination, ip_proto::kUdp, 64, 0));
  const size_t udp_at = b.Append(*MakeUdpHeader(dhcp::kClientPort, dhcp::kServerPort, 0));
  b.Append(header);
  b.Append(Be32::Of(dhcp::kMagicCookie));
  b.Append(std::vector<uint8_t>{dhcp_option::kMessageType, 1, static_cast<uint8_t>(type),
                                dhcp_option::kEnd});
  EXPECT_TRUE(FinishUdp(b.From(udp_at), source, destination));
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

const Ipv4Address kServerId = *Ipv4Address::Parse("10.0.0.254");

struct DhcpCase {
  const char* description;
  DhcpMessageType request_type;
  bool broadcast_flag;
  Ipv4Address ciaddr;
  DhcpMessageType reply_type;
  Ipv4Address expected_destination;
  MacAddress expected_mac;
};

TEST(DhcpReplyFrameTest, AddressesTheReplyAsRfc2131Says) {
  const DhcpCase cases[] = {
      {"offer, unicast", DhcpMessageType::kDiscover, false, Ipv4Address(), DhcpMessageType::kOffer,
       kVmIp, kVmMac},
      {"offer, broadcast flag", DhcpMessageType::kDiscover, true, Ipv4Address(),
       DhcpMessageType::kOffer, Ipv4Address::Broadcast(), MacAddress::Broadcast()},
      {"ack to a renewing client", DhcpMessageType::kRequest, false, kVmIp, DhcpMessageType::kAck,
       kVmIp, kVmMac},
      {"ack to a renewing client, broadcast flag ignored", DhcpMessageType::kRequest, true, kVmIp,
       DhcpMessageType::kAck, kVmIp, kVmMac},
      {"ack to inform without ciaddr", DhcpMessageType::kInform, false, Ipv4Address(),
       DhcpMessageType::kAck, Ipv4Address::Broadcast(), MacAddress::Broadcast()},
      {"nak, always broadcast", DhcpMessageType::kRequest, false, Ipv4Address(),
       DhcpMessageType::kNak, Ipv4Address::Broadcast(), MacAddress::Broadcast()},
  };
  for (const auto& c : cases) {
    auto request = Parsed(DhcpFrame(c.request_type, c.broadcast_flag, c.ciaddr));
    auto ip = ParseIpv4(request.frame.payload);
    auto udp = ParseUdp(ip->payload);
    auto dhcp = ParseDhcp(udp->payload);
    ASSERT_TRUE(dhcp) << c.description << ": " << ErrorName(dhcp.error());
    DhcpReplyParams params;
    params.type = c.reply_type;
    if (c.request_type != DhcpMessageType::kInform) params.your_ip = kVmIp;
    params.server_id = kServerId;
    params.subnet_mask = *Ipv4Address::Parse("255.255.255.0");
    params.routers = {kGatewayIp};
    params.mtu = 1450;
    auto reply = BuildDhcpReplyFrame(request.frame, *dhcp, params, kRouterMac);
    ASSERT_TRUE(reply) << c.description << ": " << ErrorName(reply.error());

    auto frame = ParseEthernet(*reply);
    ASSERT_TRUE(frame) << c.description;
    EXPECT_EQ(frame->destination, c.expected_mac) << c.description;
    EXPECT_EQ(frame->source, kRouterMac) << c.description;
    auto answer = ParseIpv4(frame->payload);
    ASSERT_TRUE(answer) << c.description;
    EXPECT_EQ(answer->source(), kServerId) << c.description;
    EXPECT_EQ(answer->destination(), c.expected_destination) << c.description;
    auto datagram = ParseUdp(answer->payload, answer->source(), answer->destination());
    ASSERT_TRUE(datagram) << c.description << ": " << ErrorName(datagram.error());
    EXPECT_EQ(datagram->header.source_port.value(), dhcp::kServerPort) << c.description;
    EXPECT_EQ(datagram->header.destination_port.value(), dhcp::kClientPort) << c.description;
    auto message = ParseDhcp(datagram->payload);
    ASSERT_TRUE(message) << c.description;
    EXPECT_EQ(message->type, c.reply_type) << c.description;
    EXPECT_EQ(message->xid(), 0xdeadbeefu) << c.description;
    EXPECT_EQ(message->client_mac(), kVmMac) << c.description;
  }
}

TEST(DhcpReplyFrameTest, RefusesRelayedRequestsAndPassesBuilderErrors) {
  auto relayed = Parsed(DhcpFrame(DhcpMessageType::kDiscover, false, Ipv4Address(), kGatewayIp));
  auto dhcp = ParseDhcp(ParseUdp(ParseIpv4(relayed.frame.payload)->payload)->payload);
  ASSERT_TRUE(dhcp);
  DhcpReplyParams params;
  params.your_ip = kVmIp;
  params.server_id = kServerId;
  EXPECT_EQ(BuildDhcpReplyFrame(relayed.frame, *dhcp, params, kRouterMac).error(),
            Error::kUnsupported);

  auto local = Parsed(DhcpFrame(DhcpMessageType::kDiscover, false, Ipv4Address()));
  dhcp = ParseDhcp(ParseUdp(ParseIpv4(local.frame.payload)->payload)->payload);
  params.type = DhcpMessageType::kAck;  // an ACK does not answer a DISCOVER
  EXPECT_EQ(BuildDhcpReplyFrame(local.frame, *dhcp, params, kRouterMac).error(), Error::kBadField);
}

}  // namespace
}  // namespace dove::net
