// The distributed router in the whole userspace data plane (MemoryDevices, a scripted
// Resolver, Datapath::Poll), on the routed scenario of tests/unit/pipeline/test_frames.h:
// networks 100 (vmA, port "pa") and 200 (vmB, port "pb") here, 300 (vmC) behind VTEP
// 192.0.2.20, one domain with router MAC kRouterMac; and a second domain whose networks 500
// and 600 have the SAME subnets, its own router MAC, and ports "px" (10.1.0.5, as vmA) and
// "py" (10.2.0.7, as vmB).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dswitch/io/memory_device.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/userspace/datapath.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "unit/pipeline/test_frames.h"
#include "unit/userspace/scripted_resolver.h"

namespace dove::dswitch::userspace {
namespace {

using io::MemoryDevice;
using namespace pipeline::testing;  // NOLINT(google-build-using-namespace): the scenario's names

constexpr uint32_t kNetX = 500;
constexpr uint32_t kNetY = 600;
const net::MacAddress kOtherRouterMac = Mac("02:d0:5e:00:00:02");
const net::MacAddress kVmXMac = Mac("52:54:00:00:00:1a");
const net::MacAddress kVmYMac = Mac("52:54:00:00:00:1b");

DesiredNetwork FromSettings(const pipeline::NetworkSettings& settings, const std::string& id) {
  return {.vni = settings.vni,
          .network_id = id,
          .router_mac = settings.router_mac,
          .flood_tunnel_ips = settings.flood_tunnel_ips,
          .domain_tunnel_ips = settings.domain_tunnel_ips,
          .subnets = settings.subnets,
          .routes = settings.routes,
          .policies = settings.policies};
}

// The second domain: 500 = 10.1.0.0/24, 600 = 10.2.0.0/24, everything allowed between them.
DesiredNetwork OtherDomainNetwork(uint32_t vni) {
  pipeline::NetworkSettings settings = RoutedNetwork(vni == kNetX ? kNetA : kNetB, {});
  settings.vni = vni;
  settings.router_mac = kOtherRouterMac;
  settings.domain_tunnel_ips = {};
  for (pipeline::Route& route : settings.routes) {
    route.vni = route.vni == kNetA ? kNetX : route.vni == kNetB ? kNetY : 700;
  }
  settings.policies = {{.id = "x-y",
                        .source_vni = kNetX,
                        .destination_vni = kNetY,
                        .action = pipeline::PolicyRule::Action::kAllow,
                        .priority = 1},
                       {.id = "y-x",
                        .source_vni = kNetY,
                        .destination_vni = kNetX,
                        .action = pipeline::PolicyRule::Action::kAllow,
                        .priority = 1}};
  return FromSettings(settings, "net-" + std::to_string(vni));
}

DesiredPort Port(const std::string& id, uint32_t vni, const net::MacAddress& mac,
                 std::vector<net::IpAddress> ips, const std::string& name) {
  dove::v1::Location location;
  location.set_endpoint_id(id);
  location.set_vni(vni);
  location.set_mac(mac.ToString());
  location.set_switch_name("me");
  location.set_port_name(name);
  location.set_version(1);
  return DesiredPort{
      .location = location, .port_name = name, .mac = mac, .ips = std::move(ips), .key = id};
}

DesiredRemote RemoteC(const std::string& key, const net::MacAddress& mac,
                      const net::Ipv4Address& ip) {
  return DesiredRemote{.vni = kNetC, .mac = mac, .tunnel_ip = kPeerVtep, .ips = {ip}, .key = key};
}

DesiredState RoutedScenario() {
  DesiredState state;
  state.networks.push_back(FromSettings(RoutedNetwork(kNetA), "net-a"));
  state.networks.push_back(FromSettings(RoutedNetwork(kNetB), "net-b"));
  state.networks.push_back(OtherDomainNetwork(kNetX));
  state.networks.push_back(OtherDomainNetwork(kNetY));
  state.ports.push_back(Port("vmA", kNetA, kVmAMac, {kVmAIp, kVmAIp6}, "pa"));
  state.ports.push_back(Port("vmB", kNetB, kVmBMac, {kVmBIp, kVmBIp6}, "pb"));
  state.ports.push_back(Port("vmX", kNetX, kVmXMac, {kVmAIp}, "px"));
  state.ports.push_back(Port("vmY", kNetY, kVmYMac, {kVmBIp}, "py"));
  state.remotes.push_back(RemoteC("vmC", kVmCMac, kVmCIp));
  return state;
}

using testing::ScriptedResolver;

uint32_t VniOf(const std::vector<uint8_t>& datagram) {
  return uint32_t{datagram.at(4)} << 16 | uint32_t{datagram.at(5)} << 8 | datagram.at(6);
}

// What an ICMP reply frame says: type, code, the sender's address.
struct Icmp {
  uint8_t type = 0;
  uint8_t code = 0;
  net::IpAddress from;
};
Icmp ParseIcmp(const std::vector<uint8_t>& bytes) {
  const auto frame = net::ParseEthernet(bytes);
  EXPECT_TRUE(frame);
  if (!frame) return {};
  EXPECT_EQ(frame->source, kRouterMac);
  if (frame->ether_type == net::ether_type::kIpv4) {
    const auto ip = net::ParseIpv4(frame->payload);
    EXPECT_TRUE(ip);
    if (!ip) return {};
    const auto icmp = net::ParseIcmpv4(ip->payload);
    EXPECT_TRUE(icmp);
    if (!icmp) return {};
    return {icmp->type(), icmp->code(), ip->source()};
  }
  const auto ip = net::ParseIpv6(frame->payload);
  EXPECT_TRUE(ip);
  if (!ip) return {};
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  EXPECT_TRUE(icmp);
  if (!icmp) return {};
  return {icmp->type(), icmp->code(), ip->source()};
}

class RouterDatapathTest : public ::testing::Test {
 protected:
  RouterDatapathTest()
      : tunnel_({.name = "underlay",
                 .kind = MemoryDevice::Kind::kTunnel,
                 .port = packet::kNoPort,
                 .caps = MemoryDevice::kTapCaps,
                 .on_destroy = {}}) {}

  void SetUp() override {
    auto datapath = Datapath::Create({.retry_ports_every = std::chrono::milliseconds(3000),
                                      .pool = {.small_slots = 512, .large_slots = 16},
                                      .park_per_vni = 4},
                                     tunnel_, ports_, resolver_);
    ASSERT_TRUE(datapath) << datapath.error();
    datapath_ = std::move(*datapath);
    datapath_->Apply(RoutedScenario());
    Settle();
    for (const char* name : {"pa", "pb", "px", "py"}) ASSERT_NE(ports_.Find(name), nullptr);
    // A port that comes up in a network with IPv6 gets one unsolicited router advertisement
    // (DatapathTest covers it): not what these tests look at.
    for (const char* name : {"pa", "pb", "px", "py"}) ports_.Find(name)->Drain();
  }
  void TearDown() override {
    // Nothing lost: every packet is back in the pool, or parked.
    const auto status = datapath_->StatusNow();
    EXPECT_EQ(status.counters.at("pool.free_small") + status.counters.at("pool.free_large") +
                  status.parked,
              512U + 16U);
  }

  void Settle() {
    for (int rounds = 0; rounds < 1000 && datapath_->Poll(std::chrono::milliseconds(0)); ++rounds) {
    }
  }
  void FromPort(const std::string& port, const std::vector<uint8_t>& frame) {
    ASSERT_TRUE(ports_.Find(port)->Inject(frame, {}));
    Settle();
  }
  void FromTunnel(const net::Ipv4Address& vtep, const std::vector<uint8_t>& datagram) {
    ASSERT_TRUE(tunnel_.Inject(datagram, {}, {.in_port = std::nullopt, .tunnel = vtep}));
    Settle();
  }
  std::vector<MemoryDevice::Frame> Sent(const std::string& port) {
    return ports_.Find(port)->Drain();
  }
  uint64_t Counter(const std::string& name) { return datapath_->StatusNow().counters[name]; }
  uint64_t Drops(const std::string& reason) { return datapath_->StatusNow().drops[reason]; }

  MemoryDevice tunnel_;
  io::MemoryPortFactory ports_;
  ScriptedResolver resolver_;
  std::unique_ptr<Datapath> datapath_;
};

TEST_F(RouterDatapathTest, RoutedOnTheSameHostWithTheMacsRewrittenAndTheTtlDecremented) {
  FromPort("pa", Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp));
  const auto sent = Sent("pb");
  ASSERT_EQ(sent.size(), 1U);
  const auto frame = net::ParseEthernet(sent[0].bytes);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->destination, kVmBMac);
  EXPECT_EQ(frame->source, kRouterMac);
  const auto ip = net::ParseIpv4(frame->payload);
  ASSERT_TRUE(ip) << "the header checksum still verifies";
  EXPECT_EQ(ip->ttl(), 63);
  EXPECT_EQ(Counter("router.routed"), 1U);
  EXPECT_EQ(Counter("port.2.sent"), 2U) << "the router advertisement when it came up, and this";
  // IPv6 too.
  FromPort("pa", Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, kVmBIp6));
  EXPECT_EQ(Sent("pb").size(), 1U);
  EXPECT_TRUE(Sent("py").empty()) << "never the other domain's look-alike";
}

TEST_F(RouterDatapathTest, RoutedToARemoteEndpointWithTheDestinationVni) {
  FromPort("pa", Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40000, 22));
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].meta.tunnel, kPeerVtep);
  EXPECT_EQ(VniOf(sent[0].bytes), kNetC) << "encapsulated with the DESTINATION network's VNI";
  const std::vector<uint8_t> inner(sent[0].bytes.begin() + 8, sent[0].bytes.end());
  EXPECT_EQ(DestinationMacOf(inner), kVmCMac);
  EXPECT_EQ(Counter("network.300.to_tunnel"), 1U);
}

TEST_F(RouterDatapathTest, AnUnknownDestinationIsParkedResolvedOnceAndSentOnTheAnswer) {
  const net::Ipv4Address newcomer = Ip4("10.3.0.50");
  const auto frame = Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, newcomer, 40000, 22);
  FromPort("pa", frame);
  FromPort("pa", frame);
  ASSERT_EQ(resolver_.questions.size(), 1U) << "one question per (VNI, address) at a time";
  EXPECT_EQ(resolver_.questions[0].vni, kNetA) << "asked in the sender's network";
  EXPECT_EQ(resolver_.questions[0].address, "10.3.0.50");
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(datapath_->StatusNow().parked, 2U);
  // The answer: the endpoint enters the remote table under ITS network, then done().
  DesiredDelta delta;
  delta.upserted_remotes.push_back(RemoteC("newcomer", Mac("52:54:00:00:00:50"), newcomer));
  datapath_->ApplyDelta(delta);
  resolver_.questions[0].done();
  Settle();
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(VniOf(sent[0].bytes), kNetC);
  EXPECT_EQ(datapath_->StatusNow().parked, 0U);
}

TEST_F(RouterDatapathTest, StillUnknownAfterTheAnswerIsHostUnreachable) {
  FromPort("pa", Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kNobodyInCIp, 40000, 22));
  ASSERT_EQ(resolver_.questions.size(), 1U);
  resolver_.questions[0].done();
  Settle();
  const auto sent = Sent("pa");
  ASSERT_EQ(sent.size(), 1U);
  const Icmp icmp = ParseIcmp(sent[0].bytes);
  EXPECT_EQ(icmp.type, net::icmpv4::kDestinationUnreachable);
  EXPECT_EQ(icmp.code, net::icmpv4::kHostUnreachable);
  EXPECT_EQ(icmp.from, net::IpAddress(kGatewayA));
  EXPECT_EQ(Drops("route_host_unknown"), 1U);
}

// One frame from vmA, the ICMP answer vmA gets and the drop counted.
struct AnsweredCase {
  const char* name;
  std::vector<uint8_t> frame;
  uint8_t type, code;
  net::IpAddress from;
  const char* drop;  // nullptr: no drop (an echo reply)
};

TEST_F(RouterDatapathTest, TheRouterAnswersPingsExpiredTtlsNoRouteAndRejects) {
  const std::vector<AnsweredCase> cases = {
      {"ping to the gateway", Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kGatewayA),
       net::icmpv4::kEchoReply, 0, kGatewayA, nullptr},
      {"IPv6 ping to the gateway", Icmp6EchoFrame(kRouterMac, kVmAMac, kVmAIp6, kGatewayA6),
       net::icmpv6::kEchoReply, 0, kGatewayA6, nullptr},
      {"TTL 1", WithTtl(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 1),
       net::icmpv4::kTimeExceeded, 0, kGatewayA, "ttl_expired"},
      {"hop limit 1", WithTtl(Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, kVmBIp6), 1),
       net::icmpv6::kTimeExceeded, 0, kGatewayA6, "ttl_expired"},
      {"no route", Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kOutsideIp),
       net::icmpv4::kDestinationUnreachable, net::icmpv4::kNetUnreachable, kGatewayA, "route_none"},
      {"rejected by policy no-udp", Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp),
       net::icmpv4::kDestinationUnreachable, net::icmpv4::kAdminProhibited, kGatewayA,
       "policy_denied"},
  };
  for (const AnsweredCase& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t before = c.drop != nullptr ? Drops(c.drop) : 0;
    FromPort("pa", c.frame);
    const auto sent = Sent("pa");
    ASSERT_EQ(sent.size(), 1U);
    const Icmp icmp = ParseIcmp(sent[0].bytes);
    EXPECT_EQ(icmp.type, c.type);
    EXPECT_EQ(icmp.code, c.code);
    EXPECT_EQ(icmp.from, c.from);
    if (c.drop != nullptr) {
      EXPECT_EQ(Drops(c.drop), before + 1);
    }
    EXPECT_TRUE(Sent("pb").empty());
    EXPECT_TRUE(tunnel_.Drain().empty());
  }
  EXPECT_EQ(Counter("policy.no-udp.denied"), 1U);
  EXPECT_EQ(Counter("router.echo_replies"), 2U);
  EXPECT_EQ(Counter("router.icmp_errors"), 4U);
}

TEST_F(RouterDatapathTest, ArpAndNsForTheGatewayAreAnsweredWithTheRouterMac) {
  FromPort("pa", ArpRequest(kVmAMac, kVmAIp, kGatewayA));
  auto sent = Sent("pa");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(SourceMacOf(sent[0].bytes), kRouterMac);
  FromPort("pa", NsFrame(kVmAMac, kVmAIp6, kGatewayA6, kVmAMac));
  sent = Sent("pa");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(SourceMacOf(sent[0].bytes), kRouterMac);
  // The other domain's port asks for the same gateway address: its own router MAC.
  FromPort("px", ArpRequest(kVmXMac, kVmAIp, kGatewayA));
  sent = Sent("px");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(SourceMacOf(sent[0].bytes), kOtherRouterMac);
}

TEST_F(RouterDatapathTest, DeniedTrafficIsDroppedAndCountedWithoutAnAnswer) {
  FromPort("pb", Udp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmCIp));
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_TRUE(Sent("pb").empty()) << "a deny rule does not answer";
  EXPECT_EQ(Drops("policy_denied"), 1U);
  EXPECT_EQ(Counter("policy.deny-200-300.denied"), 1U);
  FromPort("pa", Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40000, 23));
  EXPECT_EQ(Drops("policy_default_deny"), 1U) << "TCP 23: no rule allows it";
}

TEST_F(RouterDatapathTest, RepliesOfAllowedFlowsPassBackBothLocallyAndFromTheTunnel) {
  // Same host: A -> B allowed, B -> A only as a reply.
  FromPort("pa", Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp, 40000, 80));
  ASSERT_EQ(Sent("pb").size(), 1U);
  FromPort("pb", Tcp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmAIp, 80, 40000, 0x12));
  EXPECT_EQ(Sent("pa").size(), 1U) << "the SYN-ACK passed";
  FromPort("pb", Tcp4Frame(kRouterMac, kVmBMac, kVmBIp, kVmAIp, 80, 40001, 0x12));
  EXPECT_TRUE(Sent("pa").empty()) << "not a reply of anything";

  // Remote: A -> C port 22 allowed; C's reply comes routed over the tunnel (VNI 100, inner
  // source the router MAC) from the peer, a VTEP of the domain.
  FromPort("pa", Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40002, 22));
  ASSERT_EQ(tunnel_.Drain().size(), 1U);
  FromTunnel(kPeerVtep,
             Vxlan(kNetA, Tcp4Frame(kVmAMac, kRouterMac, kVmCIp, kVmAIp, 22, 40002, 0x12)));
  EXPECT_EQ(Sent("pa").size(), 1U) << "C's reply came in";
  FromTunnel(kPeerVtep,
             Vxlan(kNetA, Tcp4Frame(kVmAMac, kRouterMac, kVmCIp, kVmAIp, 22, 40003, 0x02)));
  EXPECT_TRUE(Sent("pa").empty()) << "C opening a connection to A: no rule allows 300 -> 100";
  EXPECT_EQ(Counter("router.return_flow_passed"), 2U);
  EXPECT_EQ(Drops("policy_default_deny"), 2U);
}

TEST_F(RouterDatapathTest, ARoutedFrameFromAStrangerVtepIsDropped) {
  FromTunnel(kStrangerVtep, Vxlan(kNetB, Udp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp)));
  EXPECT_TRUE(Sent("pb").empty());
  EXPECT_EQ(Drops("routed_vtep_not_allowed"), 1U);
  // From the domain's VTEP it passes (A -> B is allowed).
  FromTunnel(kPeerVtep, Vxlan(kNetB, Udp4Frame(kVmBMac, kRouterMac, kVmAIp, kVmBIp)));
  EXPECT_EQ(Sent("pb").size(), 1U);
}

TEST_F(RouterDatapathTest, TwoDomainsWithTheSameSubnetsNeverReachEachOther) {
  // Each domain's "10.1.0.5 -> 10.2.0.7" reaches its own 10.2.0.7 only.
  FromPort("px", Udp4Frame(kOtherRouterMac, kVmXMac, kVmAIp, kVmBIp));
  EXPECT_EQ(Sent("py").size(), 1U);
  EXPECT_TRUE(Sent("pb").empty());
  FromPort("pa", Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp));
  EXPECT_EQ(Sent("pb").size(), 1U);
  EXPECT_TRUE(Sent("py").empty());
  // A VM of one domain aiming at the other domain's router MAC: not a router there, an unknown
  // MAC of its own network (asked, never found), whatever it carries.
  FromPort("px", Udp4Frame(kRouterMac, kVmXMac, kVmAIp, kVmBIp));
  for (auto& question : resolver_.questions) question.done();
  Settle();
  EXPECT_TRUE(Sent("pb").empty());
  EXPECT_TRUE(Sent("py").empty());
  EXPECT_TRUE(tunnel_.Drain().empty());
  // A routed frame of the other domain's router MAC arriving in network 200: not routed for
  // 200 (another router MAC), not from its flood list: refused.
  FromTunnel(kPeerVtep, Vxlan(kNetB, Udp4Frame(kVmBMac, kOtherRouterMac, kVmAIp, kVmBIp)));
  EXPECT_TRUE(Sent("pb").empty());
  EXPECT_EQ(Drops("vtep_not_allowed"), 1U);
}

}  // namespace
}  // namespace dove::dswitch::userspace
