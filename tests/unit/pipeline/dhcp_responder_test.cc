// DhcpResponder: each client message from a port, answered (the reply parsed back and its
// options checked) or consumed with its reason; two tenants with the same subnet each get
// their own answer.
#include "dswitch/pipeline/dhcp_responder.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "dhcp_frames.h"
#include "dswitch/pipeline/classify.h"
#include "net/dhcpv4.h"
#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

using Type = net::DhcpMessageType;

const net::Ipv4Address kGateway = Ip4("10.0.0.254");
const net::Ipv4Address kOtherGateway = Ip4("10.0.0.253");

// Network 100: 10.0.0.0/24 with gateway .254, two DNS servers, MTU from the switch; network
// 200 (another tenant): the same subnet, gateway .253, MTU 1400. Port 4 (network 100) has
// only an IPv6 address; port 5 (network 100) an IPv4 address in no subnet.
Tables DhcpTables() {
  Tables t = ScenarioTables();
  NetworkSettings hundred{.vni = kVni,
                          .router_mac = kRouterMac,
                          .flood_tunnel_ips = {kPeerVtep},
                          .domain_tunnel_ips = {},
                          .subnets = {{.prefix = *net::IpPrefix::Parse("10.0.0.0/24"),
                                       .gateway = net::IpAddress(kGateway),
                                       .dns_servers = {net::IpAddress(Ip4("10.0.0.53")),
                                                       net::IpAddress(Ip6("2001:db8::53")),
                                                       net::IpAddress(Ip4("9.9.9.9"))},
                                       .mtu = 0}},
                          .routes = {},
                          .policies = {}};
  EXPECT_TRUE(t.UpsertNetwork(hundred));
  NetworkSettings two_hundred{.vni = kOtherVni,
                              .router_mac = Mac("02:d0:5e:00:00:02"),
                              .flood_tunnel_ips = {},
                              .domain_tunnel_ips = {},
                              .subnets = {{.prefix = *net::IpPrefix::Parse("10.0.0.0/24"),
                                           .gateway = net::IpAddress(kOtherGateway),
                                           .dns_servers = {},
                                           .mtu = 1400}},
                              .routes = {},
                              .policies = {}};
  EXPECT_TRUE(t.UpsertNetwork(two_hundred));
  EXPECT_TRUE(t.UpsertPort(
      {.id = 4, .vni = kVni, .mac = Mac("52:54:00:00:00:04"), .ips = {Ip6("2001:db8::4")}}));
  EXPECT_TRUE(t.UpsertPort(
      {.id = 5, .vni = kVni, .mac = Mac("52:54:00:00:00:05"), .ips = {Ip4("192.168.1.5")}}));
  return t;
}

// A reply parsed back: its addresses and its DHCP message.
struct Reply {  // move-only in spirit: `message` points into `bytes`
  net::MacAddress destination_mac;
  net::MacAddress source_mac;
  net::Ipv4Address source;
  net::Ipv4Address destination;
  std::vector<uint8_t> bytes;  // the frame, which `message` points into
  net::DhcpMessage message;
};

std::optional<Reply> ParseReply(const Packet& packet) {
  Reply reply;
  reply.bytes = Bytes(packet);
  auto frame = net::ParseEthernet(reply.bytes);
  if (!frame) return std::nullopt;
  auto ip = net::ParseIpv4(frame->payload);
  if (!ip) return std::nullopt;
  auto udp = net::ParseUdp(ip->payload, ip->source(), ip->destination());
  if (!udp || udp->source_port() != 67 || udp->destination_port() != 68) return std::nullopt;
  auto message = net::ParseDhcp(udp->payload);
  if (!message) return std::nullopt;
  reply.destination_mac = frame->destination;
  reply.source_mac = frame->source;
  reply.source = ip->source();
  reply.destination = ip->destination();
  reply.message = *message;
  return reply;
}

std::vector<net::Ipv4Address> Addresses(std::optional<net::ByteSpan> option) {
  std::vector<net::Ipv4Address> out;
  if (!option) return out;
  for (size_t i = 0; i + 4 <= option->size(); i += 4) {
    out.push_back(
        net::Ipv4Address({(*option)[i], (*option)[i + 1], (*option)[i + 2], (*option)[i + 3]}));
  }
  return out;
}

class DhcpResponderTest : public PoolTest {
 protected:
  // Runs one frame from `port`; the replies, parsed back, are in replies_.
  void Run(PortId port, const std::vector<uint8_t>& frame) {
    PacketBatch batch = OneFrame(pool_, frame, port, tables_.Port(port)->vni);
    ASSERT_TRUE(Classify(*batch[0]));
    PacketBatch replies;
    responder_.Process(batch, replies);
    EXPECT_TRUE(batch.empty()) << "every datagram to port 67 is consumed";
    replies_.clear();
    for (Packet* reply : replies) {
      EXPECT_EQ(reply->meta.out_port, port) << "to the asking port only";
      auto parsed = ParseReply(*reply);
      EXPECT_TRUE(parsed) << "the reply parses back";
      if (parsed) replies_.push_back(std::move(*parsed));
    }
    FreeAll(pool_, batch, replies);
  }
  // The one reply the last Run produced.
  const Reply& Only() {
    EXPECT_EQ(replies_.size(), 1U);
    if (replies_.empty()) replies_.emplace_back();
    return replies_.front();
  }

  Tables tables_ = DhcpTables();
  Counters counters_;
  std::vector<std::pair<PortId, net::Ipv4Address>> declined_;
  DhcpResponder responder_{
      tables_, counters_, pool_,
      DhcpResponderOptions{.lease_seconds = 1200,
                           .overlay_mtu = 1450,
                           .log_decline = [this](PortId port, const net::Ipv4Address& ip) {
                             declined_.emplace_back(port, ip);
                           }}};
  std::vector<Reply> replies_;
};

TEST_F(DhcpResponderTest, ADiscoverIsOfferedThePortsAddressWithEveryOption) {
  Run(1, DhcpFrame({.type = Type::kDiscover, .mac = kVm1Mac}));
  const Reply& offer = Only();
  EXPECT_EQ(offer.message.type, Type::kOffer);
  EXPECT_EQ(offer.message.xid(), 0x1234abcdU);
  EXPECT_EQ(offer.message.yiaddr(), kVm1Ip);
  EXPECT_EQ(offer.message.client_mac(), kVm1Mac);
  EXPECT_EQ(net::ServerId(offer.message), kGateway);
  EXPECT_EQ(net::LeaseTime(offer.message), 1200U);
  EXPECT_EQ(Addresses(net::FindOption(offer.message, net::dhcp_option::kSubnetMask)),
            std::vector{Ip4("255.255.255.0")});
  EXPECT_EQ(Addresses(net::FindOption(offer.message, net::dhcp_option::kBroadcastAddress)),
            std::vector{Ip4("10.0.0.255")});
  EXPECT_EQ(Addresses(net::FindOption(offer.message, net::dhcp_option::kRouter)),
            std::vector{kGateway});
  EXPECT_EQ(Addresses(net::FindOption(offer.message, net::dhcp_option::kDnsServer)),
            (std::vector{Ip4("10.0.0.53"), Ip4("9.9.9.9")}))
      << "IPv4 DNS servers only";
  const auto mtu = net::FindOption(offer.message, net::dhcp_option::kInterfaceMtu);
  ASSERT_TRUE(mtu);
  EXPECT_EQ((*mtu)[0] << 8 | (*mtu)[1], 1450) << "the overlay MTU when the subnet sets none";
  // From the router, to the offered address at the client's MAC (no broadcast flag).
  EXPECT_EQ(offer.source_mac, kRouterMac);
  EXPECT_EQ(offer.source, kGateway);
  EXPECT_EQ(offer.destination, kVm1Ip);
  EXPECT_EQ(offer.destination_mac, kVm1Mac);
  EXPECT_EQ(responder_.counters().discover, 1U);
  EXPECT_EQ(responder_.counters().offer, 1U);
  EXPECT_EQ(responder_.counters().replies_built, 1U);
  EXPECT_EQ(counters_.port(1).sent, 1U);
}

TEST_F(DhcpResponderTest, EveryFormOfRequestForThePortsAddressIsAcked) {
  struct Form {
    const char* name;
    DhcpClientMessage message;
    std::optional<net::Ipv4Address> to;
  };
  const std::vector<Form> forms = {
      {"selecting",
       {.type = Type::kRequest, .mac = kVm1Mac, .requested_ip = kVm1Ip, .server_id = kGateway},
       std::nullopt},
      {"init-reboot",
       {.type = Type::kRequest, .mac = kVm1Mac, .requested_ip = kVm1Ip},
       std::nullopt},
      {"renewing (unicast to the server)",
       {.type = Type::kRequest, .mac = kVm1Mac, .ciaddr = kVm1Ip},
       kGateway},
      {"rebinding (broadcast)",
       {.type = Type::kRequest, .mac = kVm1Mac, .ciaddr = kVm1Ip},
       std::nullopt},
  };
  for (const Form& form : forms) {
    SCOPED_TRACE(form.name);
    Run(1, DhcpFrame(form.message, form.to));
    const Reply& ack = Only();
    EXPECT_EQ(ack.message.type, Type::kAck);
    EXPECT_EQ(ack.message.yiaddr(), kVm1Ip);
    EXPECT_EQ(net::LeaseTime(ack.message), 1200U);
    EXPECT_EQ(Addresses(net::FindOption(ack.message, net::dhcp_option::kRouter)),
              std::vector{kGateway});
  }
  EXPECT_EQ(responder_.counters().request, 4U);
  EXPECT_EQ(responder_.counters().ack, 4U);
}

TEST_F(DhcpResponderTest, ARequestForAnotherAddressIsNakedAndOneForAnotherServerIgnored) {
  Run(1, DhcpFrame({.type = Type::kRequest, .mac = kVm1Mac, .requested_ip = kVm2Ip}));
  EXPECT_EQ(Only().message.type, Type::kNak);
  EXPECT_EQ(Only().destination, net::Ipv4Address::Broadcast());
  EXPECT_EQ(net::FindOption(Only().message, net::dhcp_option::kLeaseTime), std::nullopt);
  Run(1, DhcpFrame({.type = Type::kRequest, .mac = kVm1Mac}));
  EXPECT_EQ(Only().message.type, Type::kNak) << "a REQUEST asking for nothing";
  EXPECT_EQ(responder_.counters().nak, 2U);

  Run(1, DhcpFrame({.type = Type::kRequest,
                    .mac = kVm1Mac,
                    .requested_ip = kVm1Ip,
                    .server_id = Ip4("10.0.0.99")}));
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(counters_.drops(DropReason::kDhcpNotAnswered), 1U);
}

TEST_F(DhcpResponderTest, AnInformIsAckedWithoutLease) {
  Run(1, DhcpFrame({.type = Type::kInform, .mac = kVm1Mac, .ciaddr = kVm1Ip}, kGateway));
  const Reply& ack = Only();
  EXPECT_EQ(ack.message.type, Type::kAck);
  EXPECT_TRUE(ack.message.yiaddr().IsUnspecified());
  EXPECT_EQ(net::LeaseTime(ack.message), std::nullopt);
  EXPECT_EQ(Addresses(net::FindOption(ack.message, net::dhcp_option::kRouter)),
            std::vector{kGateway});
  EXPECT_EQ(ack.destination, kVm1Ip);
}

TEST_F(DhcpResponderTest, ReleaseAndDeclineAreAbsorbedCountedAndADeclineReported) {
  Run(1,
      DhcpFrame({.type = Type::kRelease, .mac = kVm1Mac, .ciaddr = kVm1Ip, .server_id = kGateway},
                kGateway));
  EXPECT_TRUE(replies_.empty());
  Run(1,
      DhcpFrame(
          {.type = Type::kDecline, .mac = kVm1Mac, .requested_ip = kVm1Ip, .server_id = kGateway}));
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(responder_.counters().release, 1U);
  EXPECT_EQ(responder_.counters().decline, 1U);
  EXPECT_EQ(counters_.drops(DropReason::kDhcpNotAnswered), 2U);
  ASSERT_EQ(declined_.size(), 1U);
  EXPECT_EQ(declined_[0], std::make_pair(PortId{1}, kVm1Ip));
}

TEST_F(DhcpResponderTest, APortWithoutAnIpv4AddressInASubnetGetsNoAnswer) {
  Run(4, DhcpFrame({.type = Type::kDiscover, .mac = Mac("52:54:00:00:00:04")}));
  EXPECT_TRUE(replies_.empty());
  Run(5, DhcpFrame({.type = Type::kDiscover, .mac = Mac("52:54:00:00:00:05")}));
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(counters_.drops(DropReason::kDhcpNoAddress), 2U);
  EXPECT_EQ(counters_.port(4).dropped, 1U);
}

TEST_F(DhcpResponderTest, MalformedAndServerMessagesAreConsumedAsMalformed) {
  Run(1, DhcpFrame({.type = Type::kOffer, .mac = kVm1Mac}));
  Run(1, DhcpFrame({.type = Type::kDiscover, .mac = kVm1Mac, .op = net::dhcp::kBootReply}));
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(counters_.drops(DropReason::kDhcpMalformed), 2U);
}

TEST_F(DhcpResponderTest, OtherTrafficIsLeftAlone) {
  PacketBatch batch = OneFrame(pool_, Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 68, 69), 1, kVni);
  ASSERT_TRUE(Classify(*batch[0]));
  PacketBatch replies;
  responder_.Process(batch, replies);
  EXPECT_EQ(batch.size(), 1U);
  EXPECT_TRUE(replies.empty());
  FreeAll(pool_, batch);
}

TEST_F(DhcpResponderTest, TwoTenantsWithTheSameSubnetGetTheirOwnAnswers) {
  // vm1 (network 100) and vm3 (network 200) have the same address in the same subnet; even
  // with the same transaction id and no address of their own yet, each gets its network's.
  Run(1, DhcpFrame({.type = Type::kDiscover, .mac = kVm1Mac}));
  EXPECT_EQ(Only().message.yiaddr(), kVm1Ip);
  EXPECT_EQ(net::ServerId(Only().message), kGateway);
  EXPECT_EQ(Only().source_mac, kRouterMac);
  Run(3, DhcpFrame({.type = Type::kDiscover, .mac = kVm3Mac}));
  const Reply& second = Only();
  EXPECT_EQ(second.message.yiaddr(), kVm3Ip);
  EXPECT_EQ(net::ServerId(second.message), kOtherGateway);
  EXPECT_EQ(second.source_mac, Mac("02:d0:5e:00:00:02"));
  const auto mtu = net::FindOption(second.message, net::dhcp_option::kInterfaceMtu);
  ASSERT_TRUE(mtu);
  EXPECT_EQ((*mtu)[0] << 8 | (*mtu)[1], 1400) << "the subnet's own MTU";
  EXPECT_EQ(second.destination_mac, kVm3Mac);
}

TEST(DhcpLeaseTest, ASubnetWithoutGatewayNamesItsLastHostAsServer) {
  const auto prefix = *net::IpPrefix::Parse("10.1.0.0/24");
  NetworkTables network;
  network.subnets.push_back(
      {.prefix = prefix, .gateway = std::nullopt, .dns_servers = {}, .mtu = 0});
  LocalPort port{.id = 1, .vni = 1, .mac = kVm1Mac, .ips = {Ip6("2001:db8::1"), Ip4("10.1.0.7")}};
  auto lease = LeaseFor(port, network);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->address, Ip4("10.1.0.7"));
  EXPECT_EQ(lease->server_id, Ip4("10.1.0.254"));
  port.ips = {Ip4("10.1.0.254")};
  EXPECT_EQ(LeaseFor(port, network)->server_id, Ip4("10.1.0.253")) << "never the client's own";
  network.subnets[0].prefix = *net::IpPrefix::Parse("10.1.0.6/31");
  port.ips = {Ip4("10.1.0.7")};
  EXPECT_EQ(LeaseFor(port, network)->server_id, Ip4("10.1.0.6"));
  network.subnets[0].prefix = *net::IpPrefix::Parse("10.1.0.7/32");
  EXPECT_FALSE(LeaseFor(port, network)) << "a /32 has no other address";
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
