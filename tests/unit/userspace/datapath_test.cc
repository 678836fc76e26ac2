// The whole userspace data plane, driven packet by packet without root: MemoryDevices for the
// VM ports and the underlay, a scripted Resolver for the controller, Datapath::Poll for the
// loop. Each case injects frames where a VM or a peer switch would send them and checks what
// every device was given and what was counted.
//
// The scenario (tests/unit/pipeline/test_frames.h): this switch is VTEP 192.0.2.10; network 100
// has ports p1 (vm1) and p2 (vm2) here and vm9 on VTEP 192.0.2.20, flood list {192.0.2.20,
// 192.0.2.30}; network 200 has port p3 (vm3, the same IP as vm1).
#include "dswitch/userspace/datapath.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dswitch/io/memory_device.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/userspace/trace_frames.h"
#include "net/arp.h"
#include "net/dhcpv4.h"
#include "unit/pipeline/dhcp_frames.h"
#include "unit/pipeline/test_frames.h"
#include "unit/userspace/scripted_resolver.h"

namespace dove::dswitch::userspace {
namespace {

using io::MemoryDevice;
using namespace pipeline::testing;  // NOLINT(google-build-using-namespace): the scenario's names

dove::v1::Location LocalLocation(const std::string& id, uint32_t vni, const net::MacAddress& mac,
                                 const std::string& port_name) {
  dove::v1::Location location;
  location.set_endpoint_id(id);
  location.set_vni(vni);
  location.set_mac(mac.ToString());
  location.set_switch_name("me");
  location.set_port_name(port_name);
  location.set_version(1);
  return location;
}

DesiredPort Port(const std::string& id, uint32_t vni, const net::MacAddress& mac,
                 std::vector<net::IpAddress> ips, const std::string& name) {
  return DesiredPort{.location = LocalLocation(id, vni, mac, name),
                     .port_name = name,
                     .mac = mac,
                     .ips = std::move(ips),
                     .key = id};
}

DesiredRemote Remote(const std::string& key, const net::MacAddress& mac,
                     const net::Ipv4Address& vtep, std::vector<net::IpAddress> ips) {
  return DesiredRemote{
      .vni = kVni, .mac = mac, .tunnel_ip = vtep, .ips = std::move(ips), .key = key};
}

DesiredState Scenario() {
  DesiredState state;
  state.networks.push_back({.vni = kVni,
                            .network_id = "net-100",
                            .router_mac = kRouterMac,
                            .flood_tunnel_ips = {kPeerVtep, kOtherPeerVtep}});
  state.networks.push_back({.vni = kOtherVni,
                            .network_id = "net-200",
                            .router_mac = kRouterMac,
                            .flood_tunnel_ips = {}});
  state.ports.push_back(Port("vm1", kVni, kVm1Mac, {kVm1Ip, kVm1Ip6}, "p1"));
  state.ports.push_back(Port("vm2", kVni, kVm2Mac, {kVm2Ip, kVm2Ip6}, "p2"));
  state.ports.push_back(Port("vm3", kOtherVni, kVm3Mac, {kVm3Ip}, "p3"));
  state.remotes.push_back(Remote("vm9", kVm9Mac, kPeerVtep, {kVm9Ip, kVm9Ip6}));
  return state;
}

using testing::ScriptedResolver;

class DatapathTest : public ::testing::Test {
 protected:
  explicit DatapathTest(io::DeviceCaps tunnel_caps = MemoryDevice::kTapCaps)
      : tunnel_({.name = "underlay",
                 .kind = MemoryDevice::Kind::kTunnel,
                 .port = packet::kNoPort,
                 .caps = tunnel_caps,
                 .on_destroy = {}}) {}

  void SetUp() override {
    auto datapath = Datapath::Create({.retry_ports_every = std::chrono::milliseconds(3000),
                                      .pool = {.small_slots = 512, .large_slots = 16},
                                      .park_per_vni = 4},
                                     tunnel_, ports_, resolver_);
    ASSERT_TRUE(datapath) << datapath.error();
    datapath_ = std::move(*datapath);
    datapath_->Apply(Scenario());
    Settle();
    for (const char* name : {"p1", "p2", "p3"}) {
      ASSERT_NE(ports_.Find(name), nullptr) << name;
      ports_.Find(name)->Drain();  // p2's coming up announced vm2 to p1: not the tests' business
    }
  }

  // Runs the loop until nothing is ready.
  void Settle() {
    for (int rounds = 0; rounds < 1000 && datapath_->Poll(std::chrono::milliseconds(0)); ++rounds) {
    }
  }

  void FromPort(const std::string& port, const std::vector<uint8_t>& frame,
                const packet::OffloadInfo& offload = {}) {
    ASSERT_TRUE(ports_.Find(port)->Inject(frame, offload));
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

  // Every packet is back in the pool, or parked.
  void ExpectNoLeak() {
    const auto status = datapath_->StatusNow();
    EXPECT_EQ(status.counters.at("pool.free_small") + status.counters.at("pool.free_large") +
                  status.parked,
              512U + 16U);
  }

  MemoryDevice tunnel_;
  io::MemoryPortFactory ports_;
  ScriptedResolver resolver_;
  std::unique_ptr<Datapath> datapath_;
};

// One frame in, what each device gets, what is counted: the forwarding decisions.
struct Case {
  const char* name;
  const char* from_port;  // nullptr: from the tunnel, sent by `from_vtep`
  net::Ipv4Address from_vtep;
  std::vector<uint8_t> frame;
  std::map<std::string, size_t> to_ports;  // frames each port gets
  std::vector<net::Ipv4Address> to_vteps;  // datagrams the underlay gets, by destination
  std::map<std::string, uint64_t> counters;
};

std::vector<Case> Cases() {
  return {
      {"unicast to a local port",
       "p1",
       {},
       Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip),
       {{"p2", 1}},
       {},
       {{"port.1.received", 1}, {"port.2.sent", 1}}},
      {"unicast to a remote endpoint",
       "p1",
       {},
       Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip),
       {},
       {kPeerVtep},
       {{"network.100.to_tunnel", 1}}},
      {"broadcast: every other port of the network and every flood peer",
       "p1",
       {},
       Udp4Frame(net::MacAddress::Broadcast(), kVm1Mac, kVm1Ip, Ip4("10.0.0.255")),
       {{"p2", 1}},
       {kPeerVtep, kOtherPeerVtep},
       {{"pool.clones", 2}}},
      {"ARP for a remote address is answered on the port",
       "p1",
       {},
       ArpRequest(kVm1Mac, kVm1Ip, kVm9Ip),
       {{"p1", 1}},
       {},
       {}},
      {"forged source MAC",
       "p1",
       {},
       Udp4Frame(kVm2Mac, kVm9Mac, kVm1Ip, kVm2Ip),
       {},
       {},
       {{"drop.source_mac_spoofed", 1}}},
      {"another tenant's network is out of reach",
       "p3",
       {},
       Udp4Frame(kVm1Mac, kVm3Mac, kVm3Ip, kVm1Ip),
       {},
       {},
       {}},
      {"from a flood peer to a local port",
       nullptr,
       kPeerVtep,
       Vxlan(kVni, Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip)),
       {{"p1", 1}},
       {},
       {{"network.100.from_tunnel", 1}}},
      {"from a VTEP not in the network's flood list",
       nullptr,
       kStrangerVtep,
       Vxlan(kVni, Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip)),
       {},
       {},
       {{"drop.vtep_not_allowed", 1}}},
      {"a VNI this switch does not carry",
       nullptr,
       kPeerVtep,
       Vxlan(999, Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip)),
       {},
       {},
       {{"drop.vxlan_unknown_vni", 1}}},
      {"a broadcast from the tunnel reaches the network's ports only",
       nullptr,
       kPeerVtep,
       Vxlan(kVni, Udp4Frame(net::MacAddress::Broadcast(), kVm9Mac, kVm9Ip, Ip4("10.0.0.255"))),
       {{"p1", 1}, {"p2", 1}},
       {},
       {}},
  };
}

class DatapathCaseTest : public DatapathTest, public ::testing::WithParamInterface<Case> {};

TEST_P(DatapathCaseTest, ForwardsCountsAndGivesEveryPacketBack) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.name);
  {
    if (c.from_port != nullptr) {
      FromPort(c.from_port, c.frame);
    } else {
      FromTunnel(c.from_vtep, c.frame);
    }
    for (const char* port : {"p1", "p2", "p3"}) {
      const auto it = c.to_ports.find(port);
      EXPECT_EQ(Sent(port).size(), it == c.to_ports.end() ? 0U : it->second) << port;
    }
    std::vector<net::Ipv4Address> vteps;
    for (const auto& frame : tunnel_.Drain()) {
      vteps.push_back(frame.meta.tunnel);
      // What leaves is the VXLAN header of the network, then the frame unchanged.
      EXPECT_EQ(std::vector<uint8_t>(frame.bytes.begin(), frame.bytes.end()), Vxlan(kVni, c.frame));
    }
    EXPECT_EQ(vteps, c.to_vteps);
    for (const auto& [name, value] : c.counters) EXPECT_EQ(Counter(name), value) << name;
    ExpectNoLeak();
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DatapathCaseTest, ::testing::ValuesIn(Cases()));

// Network 100 with an IPv4 subnet (gateway 10.0.0.254) and an IPv6 one (gateway 2001:db8::fe).
DesiredNetwork RoutedNetwork() {
  DesiredNetwork network{.vni = kVni,
                         .network_id = "net-100",
                         .router_mac = kRouterMac,
                         .flood_tunnel_ips = {kPeerVtep, kOtherPeerVtep}};
  network.subnets.push_back({.prefix = *net::IpPrefix::Parse("10.0.0.0/24"),
                             .gateway = net::IpAddress(Ip4("10.0.0.254")),
                             .dns_servers = {},
                             .mtu = 0});
  network.subnets.push_back({.prefix = *net::IpPrefix::Parse("2001:db8::/64"),
                             .gateway = net::IpAddress(Ip6("2001:db8::fe")),
                             .dns_servers = {},
                             .mtu = 0});
  return network;
}

TEST_F(DatapathTest, ADhcpDiscoverIsAnsweredOnItsPortAndNeverLeavesIt) {
  DesiredDelta delta;
  delta.upserted_networks.push_back(RoutedNetwork());
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  FromPort("p1", DhcpFrame({.type = net::DhcpMessageType::kDiscover, .mac = kVm1Mac}));
  const auto offers = Sent("p1");
  ASSERT_EQ(offers.size(), 1U);
  EXPECT_TRUE(Sent("p2").empty()) << "the broadcast DISCOVER is not flooded";
  EXPECT_TRUE(tunnel_.Drain().empty()) << "DHCP never crosses the underlay";
  auto frame = net::ParseEthernet(offers[0].bytes);
  ASSERT_TRUE(frame);
  auto ip = net::ParseIpv4(frame->payload);
  ASSERT_TRUE(ip);
  auto udp = net::ParseUdp(ip->payload);
  ASSERT_TRUE(udp);
  auto offer = net::ParseDhcp(udp->payload);
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->type, net::DhcpMessageType::kOffer);
  EXPECT_EQ(offer->yiaddr(), kVm1Ip);
  EXPECT_EQ(net::LeaseTime(*offer), 3600U) << "the default lease";
  EXPECT_EQ(Counter("dhcp.offer"), 1U);
  EXPECT_EQ(Counter("dhcp.replies_built"), 1U);
  ExpectNoLeak();
}

// A TSO super-frame's offload state from a VM whose MTU is the overlay's (1450): segments of
// 20 + 20 + 1410 bytes.
packet::OffloadInfo OverlayTso() {
  auto offload = TsoOffload(false, 34);
  offload.gso_size = 1410;
  return offload;
}

// A renewal is unicast to the server identifier (the gateway) at the router MAC: the DHCP
// stage takes it before anything that handles frames to the router MAC.
TEST_F(DatapathTest, ARenewalUnicastToTheGatewayIsAcked) {
  DesiredDelta delta;
  delta.upserted_networks.push_back(RoutedNetwork());
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  const net::Ipv4Address gateway = Ip4("10.0.0.254");
  FromPort("p1",
           DhcpFrame({.type = net::DhcpMessageType::kRequest, .mac = kVm1Mac, .ciaddr = kVm1Ip},
                     gateway, kRouterMac));
  const auto acks = Sent("p1");
  ASSERT_EQ(acks.size(), 1U);
  auto frame = net::ParseEthernet(acks[0].bytes);
  auto ip = net::ParseIpv4(frame->payload);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->source(), gateway);
  EXPECT_EQ(ip->destination(), kVm1Ip) << "to ciaddr";
  auto udp = net::ParseUdp(ip->payload);
  ASSERT_TRUE(udp);
  auto ack = net::ParseDhcp(udp->payload);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type, net::DhcpMessageType::kAck);
  EXPECT_EQ(Drops("router_not_implemented"), 0U);
  EXPECT_EQ(Counter("dhcp.ack"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, ARouterSolicitationIsAnsweredOnItsPortAndNeverLeavesIt) {
  DesiredDelta delta;
  delta.upserted_networks.push_back(RoutedNetwork());
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  const net::Ipv6Address source = net::Ipv6Address::LinkLocalFromMac(kVm1Mac);
  const net::Ipv6Address all_routers = Ip6("ff02::2");
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(Mac("33:33:00:00:00:02"), kVm1Mac, net::ether_type::kIpv6));
  const size_t ip_at =
      b.Append(*net::MakeIpv6Header(source, all_routers, net::ip_proto::kIcmpv6, 255, 0));
  net::AppendRouterSolicitation(b, source, all_routers, {kVm1Mac});
  ASSERT_TRUE(net::FinishIpv6(b.From(ip_at)));
  FromPort("p1", std::move(b).Take());
  const auto sent = Sent("p1");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_TRUE(Sent("p2").empty()) << "not flooded";
  EXPECT_TRUE(tunnel_.Drain().empty());
  auto frame = net::ParseEthernet(sent[0].bytes);
  auto ip = net::ParseIpv6(frame->payload);
  auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp);
  auto ra = net::ParseRouterAdvertisement(*icmp);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->mtu, 1450U) << "the overlay MTU";
  ASSERT_EQ(ra->prefixes.size(), 1U);
  EXPECT_EQ(ra->prefixes[0].prefix, Ip6("2001:db8::"));
  EXPECT_EQ(Counter("ra.advertisements"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, APortThatComesUpInANetworkWithIpv6GetsAnUnsolicitedAdvertisement) {
  DesiredDelta delta;
  delta.upserted_networks.push_back(RoutedNetwork());
  delta.upserted_ports.push_back(
      Port("vm4", kVni, Mac("52:54:00:00:00:04"), {Ip6("2001:db8::4")}, "p4"));
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  const auto sent = Sent("p4");
  ASSERT_EQ(sent.size(), 1U);
  auto frame = net::ParseEthernet(sent[0].bytes);
  EXPECT_EQ(frame->destination, Mac("33:33:00:00:00:01"));
  auto ip = net::ParseIpv6(frame->payload);
  EXPECT_EQ(ip->destination(), net::Ipv6Address::AllNodes());
  auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp);
  auto ra = net::ParseRouterAdvertisement(*icmp);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->prefixes.size(), 1U);
  EXPECT_EQ(Counter("ra.unsolicited"), 1U);
  // p1 gets vm4's announcement (an NA), not the RA: only the port that came up gets that.
  EXPECT_EQ(Sent("p1").size(), 1U);
  ExpectNoLeak();
}

// An IPv4/UDP frame whose IP packet is `ip_size` bytes, with or without DF.
std::vector<uint8_t> BigUdp4(const net::MacAddress& to_mac, const net::Ipv4Address& to,
                             size_t ip_size, bool dont_fragment = true) {
  const size_t payload = ip_size - 28;
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(to_mac, kVm1Mac, net::ether_type::kIpv4));
  const size_t ip_at = b.Append(
      *net::MakeIpv4Header(kVm1Ip, to, net::ip_proto::kUdp, 64, 8 + payload, 7, dont_fragment));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(1000, 2000, payload));
  b.AppendZeros(payload);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), kVm1Ip, to));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// An IPv6/UDP frame whose IP packet is `ip_size` bytes.
std::vector<uint8_t> BigUdp6(const net::MacAddress& to_mac, const net::Ipv6Address& to,
                             size_t ip_size) {
  const size_t payload = ip_size - 48;
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(to_mac, kVm1Mac, net::ether_type::kIpv6));
  const size_t ip_at = b.Append(*net::MakeIpv6Header(kVm1Ip6, to, net::ip_proto::kUdp, 64, 0));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(1000, 2000, payload));
  b.AppendZeros(payload);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), kVm1Ip6, to));
  EXPECT_TRUE(net::FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// What an ICMP error sent to a port says.
struct IcmpError {
  net::MacAddress from_mac;
  net::MacAddress to_mac;
  std::string from;
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t mtu = 0;
};

std::optional<IcmpError> ParseIcmpError(const std::vector<uint8_t>& bytes) {
  auto frame = net::ParseEthernet(bytes);
  if (!frame) return std::nullopt;
  IcmpError error;
  error.from_mac = frame->source;
  error.to_mac = frame->destination;
  net::ByteSpan icmp;
  if (frame->ether_type == net::ether_type::kIpv4) {
    auto ip = net::ParseIpv4(frame->payload);
    if (!ip || ip->protocol() != net::ip_proto::kIcmp || ip->payload.size() < 8)
      return std::nullopt;
    error.from = ip->source().ToString();
    icmp = ip->payload;
    error.mtu = static_cast<uint32_t>(icmp[6] << 8 | icmp[7]);
  } else {
    auto ip = net::ParseIpv6(frame->payload);
    if (!ip || ip->upper_protocol != net::ip_proto::kIcmpv6 || ip->payload.size() < 8) {
      return std::nullopt;
    }
    error.from = ip->source().ToString();
    icmp = ip->payload;
    error.mtu = static_cast<uint32_t>(icmp[4] << 24 | icmp[5] << 16 | icmp[6] << 8 | icmp[7]);
  }
  error.type = icmp[0];
  error.code = icmp[1];
  return error;
}

class DatapathMtuTest : public DatapathTest {
 protected:
  void SetUp() override {
    DatapathTest::SetUp();
    DesiredDelta delta;
    delta.upserted_networks.push_back(RoutedNetwork());
    datapath_->ApplyDelta(std::move(delta));
    Settle();
  }
  // The one ICMP error p1 got.
  IcmpError OneError() {
    const auto sent = Sent("p1");
    EXPECT_EQ(sent.size(), 1U);
    if (sent.empty()) return {};
    auto error = ParseIcmpError(sent[0].bytes);
    EXPECT_TRUE(error) << "an ICMP error that parses";
    return error.value_or(IcmpError{});
  }
};

TEST_F(DatapathMtuTest, IPv4WithDfTooBigForTheTunnelGetsFragmentationNeededFromTheGateway) {
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1450));
  EXPECT_EQ(tunnel_.Drain().size(), 1U) << "the overlay MTU itself fits";
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1451));
  EXPECT_TRUE(tunnel_.Drain().empty());
  const IcmpError error = OneError();
  EXPECT_EQ(error.type, 3);
  EXPECT_EQ(error.code, 4);
  EXPECT_EQ(error.mtu, 1450U);
  EXPECT_EQ(error.from, "10.0.0.254");
  EXPECT_EQ(error.from_mac, kRouterMac);
  EXPECT_EQ(error.to_mac, kVm1Mac);
  EXPECT_EQ(Drops("mtu_frag_needed"), 1U);
  EXPECT_EQ(Counter("mtu.frag_needed"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathMtuTest, AFrameToALocalPortIsNotHeldToTheTunnelMtu) {
  FromPort("p1", BigUdp4(kVm2Mac, kVm2Ip, 1500));
  EXPECT_EQ(Sent("p2").size(), 1U);
  EXPECT_TRUE(Sent("p1").empty());
}

TEST_F(DatapathMtuTest, IPv4WithoutDfPassesForTheOuterDatagramToBeFragmented) {
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1500, /*dont_fragment=*/false));
  EXPECT_EQ(tunnel_.Drain().size(), 1U);
  EXPECT_TRUE(Sent("p1").empty());
  EXPECT_EQ(Counter("mtu.outer_fragmented"), 1U);
}

TEST_F(DatapathMtuTest, IPv6TooBigGetsPacketTooBig) {
  FromPort("p1", BigUdp6(kVm9Mac, kVm9Ip6, 1451));
  EXPECT_TRUE(tunnel_.Drain().empty());
  const IcmpError error = OneError();
  EXPECT_EQ(error.type, 2);
  EXPECT_EQ(error.mtu, 1450U);
  EXPECT_EQ(error.from, "2001:db8::fe");
  EXPECT_EQ(Drops("mtu_packet_too_big"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathMtuTest, ASuperFrameWhoseSegmentsExceedTheMtuIsRefusedAndOneThatFitsPasses) {
  const auto frame = Tcp4SuperFrame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 8000);
  auto offload = TsoOffload(false, 34);
  offload.gso_size = 1448;  // segments of 20 + 20 + 1448 = 1488 bytes
  FromPort("p1", frame, offload);
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(OneError().mtu, 1450U);
  offload.gso_size = 1410;  // 1450
  FromPort("p1", frame, offload);
  EXPECT_EQ(tunnel_.Drain().size(), 1U);
  EXPECT_EQ(Drops("mtu_frag_needed"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathMtuTest, ALearnedPathMtuToAVtepLowersWhatMayGoThere) {
  datapath_->SetPathMtu(kPeerVtep, 1400);
  Settle();
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1351));
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(OneError().mtu, 1350U) << "the path MTU less the 50 bytes of VXLAN";
  datapath_->SetPathMtu(kPeerVtep, 0);
  Settle();
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1351));
  EXPECT_EQ(tunnel_.Drain().size(), 1U);
}

// The loop asks for the path MTU to each VTEP its networks name and holds traffic to it.
TEST(DatapathPathMtuTest, APathMtuTheKernelLearnedHoldsWhatGoesToThatVtep) {
  MemoryDevice tunnel({.name = "underlay",
                       .kind = MemoryDevice::Kind::kTunnel,
                       .port = packet::kNoPort,
                       .caps = MemoryDevice::kTapCaps,
                       .on_destroy = {}});
  io::MemoryPortFactory ports;
  ScriptedResolver resolver;
  std::unordered_map<net::Ipv4Address, uint32_t> kernel = {{kPeerVtep, 1400},
                                                           {kOtherPeerVtep, 1500}};
  std::vector<net::Ipv4Address> asked;
  DatapathOptions options;
  options.pool = {.small_slots = 64, .large_slots = 4};
  options.path_mtu_every = std::chrono::milliseconds(0);
  options.path_mtu_of = [&](const net::Ipv4Address& vtep) {
    asked.push_back(vtep);
    return kernel[vtep];
  };
  auto created = Datapath::Create(options, tunnel, ports, resolver);
  ASSERT_TRUE(created) << created.error();
  Datapath& datapath = **created;
  datapath.Apply(Scenario());
  const auto settle = [&] {
    for (int i = 0; i < 100 && datapath.Poll(std::chrono::milliseconds(0)); ++i) {
    }
    datapath.Poll(std::chrono::milliseconds(0));
  };
  settle();
  ports.Find("p1")->Drain();  // vm2's announcement when p2 came up
  EXPECT_NE(std::find(asked.begin(), asked.end(), kPeerVtep), asked.end());
  EXPECT_NE(std::find(asked.begin(), asked.end(), kOtherPeerVtep), asked.end());

  const auto send = [&](size_t ip_size) {
    ASSERT_TRUE(ports.Find("p1")->Inject(BigUdp4(kVm9Mac, kVm9Ip, ip_size)));
    settle();
  };
  send(1351);
  EXPECT_TRUE(tunnel.Drain().empty()) << "vm9's VTEP is behind a 1400-byte path";
  const auto errors = ports.Find("p1")->Drain();
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(ParseIcmpError(errors[0].bytes)->mtu, 1350U);
  send(1350);
  EXPECT_EQ(tunnel.Drain().size(), 1U);

  kernel[kPeerVtep] = 0;  // the kernel's exception expired
  settle();
  send(1450);
  EXPECT_EQ(tunnel.Drain().size(), 1U);
  EXPECT_TRUE(ports.Find("p1")->Drain().empty());
}

TEST_F(DatapathTest, WithoutAGatewayTheErrorComesFromTheDestination) {
  FromPort("p1", BigUdp4(kVm9Mac, kVm9Ip, 1500));
  const auto sent = Sent("p1");
  ASSERT_EQ(sent.size(), 1U);
  auto error = ParseIcmpError(sent[0].bytes);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->from, kVm9Ip.ToString());
  EXPECT_EQ(error->from_mac, kVm9Mac);
  EXPECT_EQ(datapath_->StatusNow().overlay_mtu, 1450U);
}

TEST_F(DatapathTest, UnknownUnicastIsParkedResolvedOnceAndReleased) {
  const auto frame = Udp4Frame(kUnknownMac, kVm1Mac, kVm1Ip, kUnknownIp);
  FromPort("p1", frame);
  FromPort("p1", frame);
  ASSERT_EQ(resolver_.questions.size(), 1U) << "one question per address while it is asked";
  EXPECT_EQ(resolver_.questions[0].address, kUnknownMac.ToString());
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(datapath_->StatusNow().parked, 2U);

  // The answer reaches the cache first (its delta), then the question's callback.
  DesiredDelta delta;
  delta.upserted_remotes.push_back(Remote("vm77", kUnknownMac, kOtherPeerVtep, {kUnknownIp}));
  datapath_->ApplyDelta(std::move(delta));
  resolver_.questions[0].done();
  Settle();
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), 2U);
  for (const auto& out : sent) EXPECT_EQ(out.meta.tunnel, kOtherPeerVtep);
  EXPECT_EQ(datapath_->StatusNow().parked, 0U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, UnknownUnicastNobodyHasIsDroppedAsResolveFailed) {
  FromPort("p1", Udp4Frame(kUnknownMac, kVm1Mac, kVm1Ip, kUnknownIp));
  ASSERT_EQ(resolver_.questions.size(), 1U);
  resolver_.questions[0].done();
  Settle();
  EXPECT_EQ(Drops("resolve_failed"), 1U);
  EXPECT_TRUE(tunnel_.Drain().empty());
  ExpectNoLeak();
}

TEST_F(DatapathTest, TheParkingLotOfANetworkIsBoundedAndItsOverflowCounted) {
  for (int i = 0; i < 6; ++i) FromPort("p1", Udp4Frame(kUnknownMac, kVm1Mac, kVm1Ip, kUnknownIp));
  EXPECT_EQ(datapath_->StatusNow().parked, 4U);
  EXPECT_EQ(Drops("park_overflow"), 2U);
}

TEST_F(DatapathTest, ArpForAnUnknownAddressIsAnsweredOnceTheControllerKnowsIt) {
  FromPort("p1", ArpRequest(kVm1Mac, kVm1Ip, kUnknownIp));
  ASSERT_EQ(resolver_.questions.size(), 1U);
  EXPECT_EQ(resolver_.questions[0].address, kUnknownIp.ToString());
  EXPECT_TRUE(Sent("p1").empty());
  DesiredDelta delta;
  delta.upserted_remotes.push_back(Remote("vm77", kUnknownMac, kOtherPeerVtep, {kUnknownIp}));
  datapath_->ApplyDelta(std::move(delta));
  resolver_.questions[0].done();
  Settle();
  const auto replies = Sent("p1");
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(net::ParseArp(net::ByteSpan(replies[0].bytes).subspan(14))->sender_mac, kUnknownMac);
  EXPECT_TRUE(tunnel_.Drain().empty()) << "ARP never crosses the underlay";
  ExpectNoLeak();
}

TEST_F(DatapathTest, AFailedUnderlaySendIsCountedAgainstItsNetwork) {
  tunnel_.FailNextSends(1);
  FromPort("p1", Udp4Frame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip));
  EXPECT_EQ(Drops("tunnel_send_failed"), 1U);
  EXPECT_EQ(Counter("network.100.dropped"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, APortRemovedByADeltaLosesItsDeviceAndItsTraffic) {
  DesiredDelta delta;
  delta.removed_ports.push_back("vm2");
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  EXPECT_FALSE(ports_.Exists("p2"));
  FromPort("p1", Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip));
  ASSERT_EQ(resolver_.questions.size(), 1U) << "vm2 is unknown now: asked, not delivered";
  EXPECT_EQ(resolver_.questions[0].address, kVm2Mac.ToString());
}

// vm2's port becomes an interface the switch does not own (port_kind PACKET, same name): its
// TAP-kind device goes, one of the new kind is opened, and frames flow again.
TEST_F(DatapathTest, APortWhoseKindChangesIsOpenedAgainAsTheNewKind) {
  EXPECT_EQ(ports_.KindOf("p2"), io::PortKind::kTap);
  DesiredPort packet = Port("vm2", kVni, kVm2Mac, {kVm2Ip, kVm2Ip6}, "p2");
  packet.location.set_port_kind(dove::v1::PORT_KIND_PACKET);
  DesiredDelta delta;
  delta.upserted_ports.push_back(packet);
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  ASSERT_NE(ports_.Find("p2"), nullptr);
  EXPECT_EQ(ports_.KindOf("p2"), io::PortKind::kPacket);
  ports_.Find("p1")->Drain();
  ports_.Find("p2")->Drain();
  FromPort("p1", Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip));
  EXPECT_EQ(Sent("p2").size(), 1U) << "delivered to the port opened as the new kind";
  const auto status = datapath_->StatusNow();
  bool shown = false;
  for (const auto& port : status.ports)
    shown = shown || (port.name == "p2" && port.kind == "packet");
  EXPECT_TRUE(shown);
}

// A move: the controller's EndpointMoved takes vm2's port away and makes vm2 a remote behind
// kOtherPeerVtep, in one delta.
DesiredDelta MoveVm2To(const net::Ipv4Address& vtep) {
  DesiredDelta delta;
  delta.removed_ports.push_back("vm2");
  delta.upserted_remotes.push_back(Remote("vm2", kVm2Mac, vtep, {kVm2Ip, kVm2Ip6}));
  return delta;
}

TEST_F(DatapathTest, FramesForAnEndpointThatMovedAwayAreSentOnToItsNewVtep) {
  datapath_->ApplyDelta(MoveVm2To(kOtherPeerVtep));
  Settle();
  EXPECT_EQ(datapath_->StatusNow().redirects, 1U);
  const auto frame = Udp4Frame(kVm2Mac, kVm9Mac, kVm9Ip, kVm2Ip);
  FromTunnel(kPeerVtep, Vxlan(kVni, frame));  // vm9's switch has not heard of the move yet
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].meta.tunnel, kOtherPeerVtep);
  EXPECT_EQ(sent[0].bytes, Vxlan(kVni, frame));  // the same frame, in the same network
  EXPECT_EQ(Counter("network.100.redirected"), 1U);
  // A local VM's frames to vm2 follow the remote entry (no redirect needed).
  FromPort("p1", Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip));
  const auto local = tunnel_.Drain();
  ASSERT_EQ(local.size(), 1U);
  EXPECT_EQ(local[0].meta.tunnel, kOtherPeerVtep);
  EXPECT_EQ(Counter("network.100.redirected"), 1U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, ARedirectRefusesFramesFromTheNewVtepAndFromStrangers) {
  datapath_->ApplyDelta(MoveVm2To(kOtherPeerVtep));
  Settle();
  const auto frame = Vxlan(kVni, Udp4Frame(kVm2Mac, kVm9Mac, kVm9Ip, kVm2Ip));
  FromTunnel(kOtherPeerVtep, frame);  // would go straight back: a loop
  FromTunnel(kStrangerVtep, frame);   // not in the network's flood list
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(Drops("inner_destination_unknown"), 1U);
  EXPECT_EQ(Drops("vtep_not_allowed"), 1U);
  EXPECT_EQ(Counter("network.100.redirected"), 0U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, AnEndpointThatComesBackIsDeliveredAgainNotRedirected) {
  datapath_->ApplyDelta(MoveVm2To(kOtherPeerVtep));
  Settle();
  DesiredDelta back;
  back.removed_remotes.push_back("vm2");
  back.upserted_ports.push_back(Port("vm2", kVni, kVm2Mac, {kVm2Ip, kVm2Ip6}, "p2"));
  datapath_->ApplyDelta(std::move(back));
  Settle();
  EXPECT_EQ(datapath_->StatusNow().redirects, 0U);
  ports_.Find("p2")->Drain();
  FromTunnel(kPeerVtep, Vxlan(kVni, Udp4Frame(kVm2Mac, kVm9Mac, kVm9Ip, kVm2Ip)));
  EXPECT_EQ(Sent("p2").size(), 1U);
  EXPECT_TRUE(tunnel_.Drain().empty());
}

TEST_F(DatapathTest, APortRemovedWithoutAMoveLeavesNoRedirect) {
  DesiredDelta delta;
  delta.removed_ports.push_back("vm2");  // deleted, not moved: no remote comes
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  EXPECT_EQ(datapath_->StatusNow().redirects, 0U);
  FromTunnel(kPeerVtep, Vxlan(kVni, Udp4Frame(kVm2Mac, kVm9Mac, kVm9Ip, kVm2Ip)));
  EXPECT_TRUE(tunnel_.Drain().empty());
  EXPECT_EQ(Drops("inner_destination_unknown"), 1U);
}

TEST(DatapathRedirectGraceTest, ARedirectEndsWithItsGraceAndLateFramesAreDroppedAsToday) {
  MemoryDevice tunnel({.name = "underlay",
                       .kind = MemoryDevice::Kind::kTunnel,
                       .port = packet::kNoPort,
                       .caps = MemoryDevice::kTapCaps,
                       .on_destroy = {}});
  io::MemoryPortFactory ports;
  ScriptedResolver resolver;
  auto created = Datapath::Create({.pool = {.small_slots = 64, .large_slots = 4},
                                   .redirect_grace = std::chrono::milliseconds(20)},
                                  tunnel, ports, resolver);
  ASSERT_TRUE(created) << created.error();
  Datapath& datapath = **created;
  datapath.Apply(Scenario());
  datapath.ApplyDelta(MoveVm2To(kOtherPeerVtep));
  datapath.Poll(std::chrono::milliseconds(0));
  ASSERT_EQ(datapath.StatusNow().redirects, 1U);
  // Poll until the grace is over (a deadline, no fixed sleep).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (datapath.StatusNow().redirects > 0 && std::chrono::steady_clock::now() < deadline) {
    datapath.Poll(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(datapath.StatusNow().redirects, 0U);
  ASSERT_TRUE(tunnel.Inject(Vxlan(kVni, Udp4Frame(kVm2Mac, kVm9Mac, kVm9Ip, kVm2Ip)), {},
                            {.in_port = std::nullopt, .tunnel = kPeerVtep}));
  datapath.Poll(std::chrono::milliseconds(0));
  EXPECT_TRUE(tunnel.Drain().empty());
  EXPECT_EQ(datapath.StatusNow().drops["inner_destination_unknown"], 1U);
}

// A port that comes up is announced to the other ports of its network: a gratuitous ARP per
// IPv4 address, an unsolicited NA (override) per IPv6 one, from the VM's MAC.
TEST_F(DatapathTest, APortThatComesUpIsAnnouncedToItsNetworksOtherPorts) {
  const net::MacAddress vm4_mac = Mac("52:54:00:00:00:04");
  const uint64_t before = Counter("announce.frames");  // vm2's, when p2 came up
  DesiredDelta delta;
  delta.upserted_ports.push_back(
      Port("vm4", kVni, vm4_mac, {Ip4("10.0.0.4"), Ip6("2001:db8::4")}, "p4"));
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  EXPECT_TRUE(Sent("p3").empty()) << "another network hears nothing";
  EXPECT_TRUE(Sent("p4").empty()) << "the VM itself is not told";
  EXPECT_TRUE(tunnel_.Drain().empty()) << "announcements never cross the underlay";
  for (const char* port : {"p1", "p2"}) {
    SCOPED_TRACE(port);
    const auto sent = Sent(port);
    ASSERT_EQ(sent.size(), 2U);
    auto arp_frame = net::ParseEthernet(sent[0].bytes);
    ASSERT_TRUE(arp_frame);
    EXPECT_EQ(arp_frame->destination, net::MacAddress::Broadcast());
    EXPECT_EQ(arp_frame->source, vm4_mac);
    auto arp = net::ParseArp(arp_frame->payload);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->sender_mac, vm4_mac);
    EXPECT_EQ(arp->sender_ip, Ip4("10.0.0.4"));
    EXPECT_EQ(arp->target_ip, Ip4("10.0.0.4"));  // gratuitous: about itself
    auto na_frame = net::ParseEthernet(sent[1].bytes);
    ASSERT_TRUE(na_frame);
    EXPECT_EQ(na_frame->destination, Mac("33:33:00:00:00:01"));
    auto ip = net::ParseIpv6(na_frame->payload);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->destination(), net::Ipv6Address::AllNodes());
    auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
    ASSERT_TRUE(icmp) << "the checksum holds";
    auto na = net::ParseNeighborAdvertisement(*icmp);
    ASSERT_TRUE(na);
    EXPECT_EQ(net::IpAddress(na->target), Ip6("2001:db8::4"));
    EXPECT_TRUE(na->override_flag);
    EXPECT_FALSE(na->solicited_flag);
    EXPECT_EQ(na->target_mac, vm4_mac);
  }
  EXPECT_EQ(Counter("announce.frames") - before, 4U);
  ExpectNoLeak();
}

TEST_F(DatapathTest, APortWhoseDeviceCannotOpenIsRetriedAndShownInError) {
  ports_.FailOpen("p4", "no such device");
  DesiredDelta delta;
  delta.upserted_ports.push_back(
      Port("vm4", kVni, Mac("52:54:00:00:00:04"), {Ip4("10.0.0.4")}, "p4"));
  datapath_->ApplyDelta(std::move(delta));
  Settle();
  auto status = datapath_->StatusNow();
  ASSERT_EQ(status.ports.size(), 4U);
  EXPECT_EQ(status.ports[3].name, "p4");
  EXPECT_FALSE(status.ports[3].open);
  EXPECT_EQ(status.ports[3].error, "no such device");
}

TEST_F(DatapathTest, AResetDeltaRemovesWhatItDoesNotHold) {
  DesiredState smaller = Scenario();
  smaller.ports.pop_back();     // vm3
  smaller.networks.pop_back();  // network 200
  smaller.remotes.clear();
  datapath_->Apply(std::move(smaller));
  Settle();
  const auto status = datapath_->StatusNow();
  EXPECT_EQ(status.ports.size(), 2U);
  EXPECT_EQ(status.networks, 1U);
  EXPECT_EQ(status.remotes, 0U);
  EXPECT_FALSE(ports_.Exists("p3"));
}

// Super-frames: a TCP super-frame from a VM stays one packet through the pipeline.
TEST_F(DatapathTest, ASuperFrameToALocalPortIsWrittenWhole) {
  const auto frame = Tcp4SuperFrame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip, 30000);
  FromPort("p1", frame, TsoOffload(false, 34));
  const auto sent = Sent("p2");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].bytes, frame);
  EXPECT_EQ(sent[0].offload.gso, packet::GsoType::kTcp4);
  EXPECT_EQ(sent[0].offload.gso_size, 1448);
  EXPECT_TRUE(sent[0].offload.csum_partial) << "left for the kernel behind the TAP";
  ExpectNoLeak();
}

TEST_F(DatapathTest, ASuperFrameToARemoteLeavesAsOnePacketForUdpGso) {
  const auto frame = Tcp4SuperFrame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 30000);
  FromPort("p1", frame, OverlayTso());
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), 1U) << "the UDP tunnel cuts it with UDP GSO";
  EXPECT_EQ(sent[0].bytes, Vxlan(kVni, frame));
  EXPECT_EQ(sent[0].offload.gso, packet::GsoType::kTcp4);
  EXPECT_EQ(Counter("network.100.to_tunnel"), 1U);
  ExpectNoLeak();
}

class DatapathWithoutTunnelOffloadTest : public DatapathTest {
 protected:
  DatapathWithoutTunnelOffloadTest() : DatapathTest(MemoryDevice::kPlainCaps) {}
};

TEST_F(DatapathWithoutTunnelOffloadTest, ASuperFrameIsCutIntoWireSegmentsByTheDevice) {
  const auto frame = Tcp4SuperFrame(kVm9Mac, kVm1Mac, kVm1Ip, kVm9Ip, 30000);
  FromPort("p1", frame, OverlayTso());
  const auto sent = tunnel_.Drain();
  ASSERT_EQ(sent.size(), (30000U + 1409U) / 1410U);
  for (const auto& out : sent) {
    EXPECT_FALSE(out.offload.is_gso());
    EXPECT_LE(out.bytes.size(), 8U + 14U + 20U + 20U + 1410U);
    const auto segment = net::ParseTcp(net::ByteSpan(out.bytes).subspan(8 + 34), kVm1Ip, kVm9Ip);
    EXPECT_TRUE(segment) << "every segment's checksum is complete";
  }
  ExpectNoLeak();
}

// From the underlay: consecutive segments of one flow become one super-frame for the port.
TEST_F(DatapathTest, SegmentsFromTheUnderlayAreMergedIntoOneWriteToThePort) {
  packet::PacketPool pool({.small_slots = 64, .large_slots = 2});
  packet::Packet* super = pool.Alloc(40000);
  ASSERT_TRUE(super->Assign(Tcp4SuperFrame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip, 14480)));
  super->offload = TsoOffload(false, 34);
  packet::PacketBatch segments;
  ASSERT_TRUE(offload::SegmentTcp(*super, pool, segments));
  ASSERT_EQ(segments.size(), 10U);
  for (packet::Packet* segment : segments) {
    ASSERT_TRUE(tunnel_.Inject(Vxlan(kVni, Bytes(*segment)), {},
                               {.in_port = std::nullopt, .tunnel = kPeerVtep}));
  }
  Settle();
  const auto sent = Sent("p1");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].offload.gso, packet::GsoType::kTcp4);
  EXPECT_EQ(sent[0].offload.gso_size, 1448);
  EXPECT_EQ(sent[0].bytes.size(), super->size());
  EXPECT_EQ(Counter("gro.merged_segments"), 10U);
  EXPECT_EQ(Counter("network.100.from_tunnel"), 10U);
  pool.Free(segments);
  pool.Free(super);
  ExpectNoLeak();
}

// Run() on its own thread, as the switch runs it, with a poll window far longer than the test:
// after a round with work the loop polls without sleeping, and in that state it still takes
// frames from the devices (injected by commands posted to the loop thread, so that the
// MemoryDevices are touched only there) and still ends at Stop().
TEST(DatapathRunTest, ThePollWindowAfterTrafficStillForwardsAndStops) {
  MemoryDevice tunnel({.name = "underlay",
                       .kind = MemoryDevice::Kind::kTunnel,
                       .port = packet::kNoPort,
                       .caps = MemoryDevice::kTapCaps,
                       .on_destroy = {}});
  io::MemoryPortFactory ports;
  ScriptedResolver resolver;
  auto created = Datapath::Create({.retry_ports_every = std::chrono::milliseconds(3000),
                                   .poll_after_traffic = std::chrono::seconds(600),
                                   .pool = {.small_slots = 64, .large_slots = 2},
                                   .park_per_vni = 4},
                                  tunnel, ports, resolver);
  ASSERT_TRUE(created) << created.error();
  Datapath& datapath = **created;
  datapath.Apply(Scenario());
  auto ran = std::async(std::launch::async, [&datapath] { datapath.Run(); });
  // A failed assertion below must not leave Run() going (the future's destructor waits for it).
  struct StopOnExit {
    Datapath& datapath;
    ~StopOnExit() { datapath.Stop(); }
  } stop_on_exit{datapath};
  constexpr int kFrames = 5;
  for (int i = 0; i < kFrames; ++i) {
    datapath.Post([&ports] {
      ASSERT_TRUE(ports.Find("p1")->Inject(Udp4Frame(kVm2Mac, kVm1Mac, kVm1Ip, kVm2Ip), {}));
    });
  }
  // Status() is a posted command too: it runs after the injections, and the frames are taken
  // by the polling rounds between them. Ask until all have arrived or the answers stop.
  uint64_t sent = 0;
  for (int tries = 0; tries < 1000 && sent < kFrames; ++tries) {
    const auto status = datapath.Status();
    ASSERT_FALSE(status.counters.empty()) << "the loop stopped answering";
    const auto found = status.counters.find("port.2.sent");  // absent while 0
    sent = found == status.counters.end() ? 0 : found->second;
  }
  EXPECT_EQ(sent, static_cast<uint64_t>(kFrames));
  datapath.Stop();
  // Inside a window of ten minutes: only Stop() can end Run() this soon.
  ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(ports.Find("p2")->Drain().size(), static_cast<size_t>(kFrames));
}

// ---------------------------------------------------------------------------------------------
// Live traces (datapath.h, "Live traces").

class DatapathTraceTest : public DatapathTest {
 protected:
  static constexpr char kMarker[] = "0123456789abcdef";

  static dove::v1::TraceOrder Order(bool inject, bool deliver = false) {
    dove::v1::TraceOrder order;
    order.set_trace_id(77);
    order.set_marker(kMarker, 16);
    order.set_timeout_ms(2000);
    order.set_deliver(deliver);
    order.set_inject(inject);
    if (inject) order.set_endpoint_id("vm1");
    return order;
  }
  static dove::v1::TraceOrder ToMac(const net::MacAddress& mac, bool deliver = false) {
    dove::v1::TraceOrder order = Order(true, deliver);
    order.set_kind(dove::v1::TraceOrder::KIND_UDP);
    order.set_mac(mac.ToString());
    order.set_port(9);
    return order;
  }

  // Gives `order` to the datapath and runs the loop until its report comes (or `wait` passes).
  std::optional<dove::v1::TraceReport> Run(
      const dove::v1::TraceOrder& order, const std::function<void()>& meanwhile = {},
      std::chrono::milliseconds wait = std::chrono::milliseconds(3000)) {
    std::optional<dove::v1::TraceReport> report;
    armed_ = 0;
    datapath_->Trace(order, [this, &report](dove::v1::TraceReport got) {
      if (got.armed()) {
        ++armed_;  // a watcher's acknowledgment, at once
      } else {
        report = std::move(got);
      }
    });
    Settle();
    if (meanwhile) meanwhile();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!report && std::chrono::steady_clock::now() < deadline) {
      datapath_->Poll(std::chrono::milliseconds(20));
    }
    return report;
  }

  int armed_ = 0;  // acknowledgments the last Run got

  static std::string Stages(const dove::v1::TraceReport& report) {
    std::string text;
    for (const auto& stage : report.stages()) {
      text += stage.stage() + ":" + stage.verdict();
      if (!stage.drop_reason().empty()) text += "(" + stage.drop_reason() + ")";
      for (const auto& id : stage.endpoint_ids()) text += "[" + id + "]";
      if (!stage.tunnel_ip().empty()) text += "@" + stage.tunnel_ip();
      text += " ";
    }
    return text;
  }

  static bool HasMarker(const std::vector<uint8_t>& bytes) {
    const std::string_view marker(kMarker, 16);
    return std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end()) != bytes.end();
  }
};

TEST_F(DatapathTraceTest, ATracedFrameToALocalPortIsNotedAndNotHandedToIt) {
  const auto report = Run(ToMac(kVm2Mac));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->source());
  EXPECT_EQ(report->error(), "");
  EXPECT_EQ(Stages(*report),
            "source:pass port_security:pass l2_lookup:pass delivery:deliver[vm2] ");
  EXPECT_TRUE(Sent("p2").empty()) << "a trace never reaches the VM unless asked";
  EXPECT_TRUE(Sent("p1").empty());
  ExpectNoLeak();
}

TEST_F(DatapathTraceTest, WithDeliverTheVmGetsTheTracedFrame) {
  const auto report = Run(ToMac(kVm2Mac, /*deliver=*/true));
  ASSERT_TRUE(report);
  const auto sent = Sent("p2");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(HasMarker(sent[0].bytes));
  EXPECT_NE(Stages(*report).find("delivery:deliver[vm2]"), std::string::npos);
  ExpectNoLeak();
}

TEST_F(DatapathTraceTest, ATracedFrameToARemoteEndpointIsSentIntoTheTunnelForReal) {
  const auto report = Run(ToMac(kVm9Mac));
  ASSERT_TRUE(report);
  EXPECT_EQ(Stages(*report),
            "source:pass port_security:pass l2_lookup:pass encapsulation:pass@192.0.2.20 ");
  const auto datagrams = tunnel_.Drain();
  ASSERT_EQ(datagrams.size(), 1u);
  EXPECT_EQ(datagrams[0].meta.tunnel, kPeerVtep);
  EXPECT_TRUE(HasMarker(datagrams[0].bytes)) << "the receiving switch finds it by its marker";
  ExpectNoLeak();
}

TEST_F(DatapathTraceTest, AnArpTraceIsAnsweredByTheResponderAndTheAnswerIsNotHandedToTheVm) {
  dove::v1::TraceOrder order = Order(true);
  order.set_kind(dove::v1::TraceOrder::KIND_ARP);
  order.set_ip(kVm9Ip.ToString());
  const auto report = Run(order);
  ASSERT_TRUE(report);
  EXPECT_EQ(Stages(*report), "source:pass port_security:pass responder:answer ");
  EXPECT_NE(report->stages(2).detail().find(kVm9Mac.ToString()), std::string::npos);
  EXPECT_TRUE(Sent("p1").empty());
  ExpectNoLeak();
}

TEST_F(DatapathTraceTest, ATraceOfAnEndpointWithoutAPortHereIsRefused) {
  dove::v1::TraceOrder order = ToMac(kVm2Mac);
  order.set_endpoint_id("vm9");
  const auto report = Run(order);
  ASSERT_TRUE(report);
  EXPECT_NE(report->error().find("no open port on this switch"), std::string::npos)
      << report->error();
}

TEST_F(DatapathTraceTest, AReceiverTracesWhatCarriesTheMarkerAndLetsEverythingElsePass) {
  const std::vector<uint8_t> marker(kMarker, kMarker + 16);
  const auto traced =
      BuildTracePacket(TraceKind::kUdp, kVm9Mac, kVm9Ip, kVm1Mac, kVm1Ip, 9, 77, marker);
  const auto report = Run(Order(false), [&] {
    FromTunnel(kPeerVtep, Vxlan(kVni, Udp4Frame(kVm1Mac, kVm9Mac, kVm9Ip, kVm1Ip)));
    FromTunnel(kPeerVtep, Vxlan(kVni, traced));
  });
  ASSERT_TRUE(report);
  EXPECT_EQ(armed_, 1) << "a watcher acknowledges its order before anything is traced";
  EXPECT_FALSE(report->source());
  EXPECT_EQ(Stages(*report), "receiving_switch:pass delivery:deliver[vm1] ");
  const auto sent = Sent("p1");
  ASSERT_EQ(sent.size(), 1u) << "the VM's own traffic passes, the traced frame does not";
  EXPECT_FALSE(HasMarker(sent[0].bytes));
  ExpectNoLeak();
}

TEST_F(DatapathTraceTest, AReceiverNotesTheDropOfATracedFrameWithItsReason) {
  const std::vector<uint8_t> marker(kMarker, kMarker + 16);
  const auto traced =
      BuildTracePacket(TraceKind::kUdp, kVm9Mac, kVm9Ip, kVm1Mac, kVm1Ip, 9, 77, marker);
  const auto report = Run(Order(false), [&] { FromTunnel(kStrangerVtep, Vxlan(kVni, traced)); });
  ASSERT_TRUE(report);
  EXPECT_EQ(Stages(*report), "receiving_switch:pass receiving_switch:drop(vtep_not_allowed) ");
  EXPECT_EQ(Drops("vtep_not_allowed"), 1u);
}

TEST_F(DatapathTraceTest, AReceiverThatSawNothingReportsNothingButItsAcknowledgment) {
  dove::v1::TraceOrder order = Order(false);
  order.set_timeout_ms(100);
  EXPECT_FALSE(Run(order, {}, std::chrono::milliseconds(600)));
  EXPECT_EQ(armed_, 1);
}

}  // namespace
}  // namespace dove::dswitch::userspace
