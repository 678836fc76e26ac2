// NeighListener against the kernel, each test in a network namespace of its own (root only).
// Real misses: a DOVE vxlan device (proxy l2miss l3miss) in a bridge with a veth; frames go
// into the veth from its peer through an AF_PACKET socket, the bridge floods them to the vxlan
// device, and the device reports exactly what it could not resolve. ENOBUFS: a listener with
// a tiny buffer overflows under thousands of neighbour changes, says so, and reads on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "netlink/neigh_events.h"
#include "netlink/rtnetlink.h"
#include "unit/io/network_namespace.h"

namespace dove::netlink {
namespace {

using dove::dswitch::io::testing::RunInNetworkNamespace;
using dove::dswitch::io::testing::Shell;
using dove::dswitch::io::testing::WaitReadable;
using Kind = NeighEvent::Kind;

const net::MacAddress kSender = *net::MacAddress::Parse("52:54:00:00:00:01");
const net::MacAddress kUnknownMac = *net::MacAddress::Parse("52:54:00:00:00:99");
const net::Ipv4Address kSenderIp = *net::Ipv4Address::Parse("10.0.0.1");
const net::Ipv4Address kUnknownIp = *net::Ipv4Address::Parse("10.0.0.99");
const net::Ipv6Address kSenderIp6 = *net::Ipv6Address::Parse("fd00::1");
const net::Ipv6Address kUnknownIp6 = *net::Ipv6Address::Parse("fd00::99");

// Sends raw frames out of one interface.
class RawSender {
 public:
  explicit RawSender(const char* interface) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    EXPECT_GE(fd_, 0);
    address_.sll_family = AF_PACKET;
    address_.sll_ifindex = static_cast<int>(::if_nametoindex(interface));
    address_.sll_halen = 6;
  }
  ~RawSender() { ::close(fd_); }
  RawSender(const RawSender&) = delete;
  RawSender& operator=(const RawSender&) = delete;
  void Send(const std::vector<uint8_t>& frame) {
    EXPECT_EQ(::sendto(fd_, frame.data(), frame.size(), 0,
                       reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)),
              static_cast<ssize_t>(frame.size()))
        << std::strerror(errno);
  }

 private:
  int fd_ = -1;
  sockaddr_ll address_{};
};

std::vector<uint8_t> UnicastFrame(const net::MacAddress& destination) {
  net::FrameBuilder b;
  b.Append(net::EthernetHeader{destination, kSender, net::Be16::Of(0x88b5)});
  b.AppendZeros(46);
  return std::move(b).Take();
}

std::vector<uint8_t> ArpRequest(const net::Ipv4Address& target) {
  net::FrameBuilder b;
  b.Append(net::EthernetHeader{net::MacAddress::Broadcast(), kSender,
                               net::Be16::Of(net::ether_type::kArp)});
  b.Append(net::MakeArp(1, kSender, kSenderIp, net::MacAddress(), target));
  b.AppendZeros(18);
  return std::move(b).Take();
}

std::vector<uint8_t> NeighborSolicitation(const net::Ipv6Address& target) {
  const net::Ipv6Address destination = target.SolicitedNodeMulticast();
  std::array<uint8_t, 16> group{};
  std::copy(destination.bytes().begin(), destination.bytes().end(), group.begin());
  net::FrameBuilder b;
  b.Append(net::EthernetHeader{net::MacAddress::ForIpv6Multicast(group), kSender,
                               net::Be16::Of(net::ether_type::kIpv6)});
  net::Ipv6Header ip{};
  ip.version_class_flow = net::Be32::Of(6U << 28);
  ip.next_header = 58;  // ICMPv6
  ip.hop_limit = 255;
  ip.source = kSenderIp6;
  ip.destination = destination;
  const size_t ip_at = b.Append(ip);
  const size_t icmp_at = net::AppendNeighborSolicitation(
      b, kSenderIp6, destination, net::NeighborSolicitation{target, kSender});
  auto frame = std::move(b).Take();
  const auto payload_length = static_cast<uint16_t>(frame.size() - icmp_at);
  frame[ip_at + 4] = static_cast<uint8_t>(payload_length >> 8);
  frame[ip_at + 5] = static_cast<uint8_t>(payload_length);
  return frame;
}

// The miss events (l2miss / l3miss) that arrive within `window`.
std::vector<NeighEvent> CollectMisses(NeighListener& listener, std::chrono::milliseconds window) {
  std::vector<NeighEvent> misses;
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    if (!WaitReadable(listener.fd(), std::chrono::milliseconds(20))) continue;
    auto read = listener.Read([&](const NeighEvent& e) {
      if (e.kind == Kind::kL2Miss || e.kind == Kind::kL3Miss) misses.push_back(e);
    });
    EXPECT_TRUE(read) << read.error().message;
  }
  return misses;
}

TEST(NeighListenerTest, DecodesTheMissesAVxlanDeviceReports) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = Rtnl::Open();
    ASSERT_TRUE(rtnl) << rtnl.error().message;
    // No IPv6 link-local addresses anywhere: their DAD and router solicitations would be misses
    // of their own.
    Shell("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1");
    Shell("ip addr add 192.0.2.1/32 dev lo");
    Shell("ip link add dve-a type veth peer name dve-b");
    auto br = (*rtnl)->CreateBridge({.name = "dbr-5", .mtu = 0, .mac = std::nullopt, .stp = false});
    ASSERT_TRUE(br) << br.error().message;
    Shell("ip link set dbr-5 type bridge mcast_snooping 0");
    auto vx = (*rtnl)->CreateVxlan({.name = "dvx-5",
                                    .vni = 5,
                                    .local = *net::Ipv4Address::Parse("192.0.2.1"),
                                    .port = 4789,
                                    .mtu = 1450,
                                    .underlay_ifindex = 0,
                                    .learning = false,
                                    .proxy = true,
                                    .l2miss = true,
                                    .l3miss = true,
                                    .rsc = true});
    ASSERT_TRUE(vx) << vx.error().message;
    const int veth = (*rtnl)->GetLink("dve-a")->ifindex;
    const int peer = (*rtnl)->GetLink("dve-b")->ifindex;
    ASSERT_TRUE((*rtnl)->SetMaster(*vx, *br));
    ASSERT_TRUE((*rtnl)->SetMaster(veth, *br));
    for (int ifindex : {*br, *vx, veth, peer}) ASSERT_TRUE((*rtnl)->SetUp(ifindex, true));

    auto listener = NeighListener::Open();
    ASSERT_TRUE(listener) << listener.error().message;
    // Whatever bringing the devices up reported is not what this test is about.
    (void)CollectMisses(**listener, std::chrono::milliseconds(300));

    RawSender sender("dve-b");
    struct Case {
      const char* description;
      std::vector<uint8_t> frame;
      Kind kind;
      uint8_t family;
      std::optional<net::MacAddress> mac;
      std::optional<net::IpAddress> ip;
    };
    const std::vector<Case> cases = {
        {"unicast to an unknown MAC -> l2miss", UnicastFrame(kUnknownMac), Kind::kL2Miss, AF_INET,
         kUnknownMac, std::nullopt},
        {"ARP request for an unknown IP -> l3miss", ArpRequest(kUnknownIp), Kind::kL3Miss, AF_INET,
         std::nullopt, net::IpAddress(kUnknownIp)},
        {"IPv6 NS for an unknown IP -> l3miss v6", NeighborSolicitation(kUnknownIp6), Kind::kL3Miss,
         AF_INET6, std::nullopt, net::IpAddress(kUnknownIp6)},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.description);
      sender.Send(c.frame);
      const auto misses = CollectMisses(**listener, std::chrono::milliseconds(300));
      ASSERT_EQ(misses.size(), 1U);
      EXPECT_EQ(misses[0].kind, c.kind);
      EXPECT_EQ(misses[0].family, c.family);
      EXPECT_EQ(misses[0].ifindex, *vx);
      EXPECT_EQ(misses[0].state, NUD_STALE);
      EXPECT_EQ(misses[0].mac, c.mac);
      EXPECT_EQ(misses[0].ip, c.ip);
    }

    // Once answered, the same frames miss no more: the FDB entry and the neighbour entry
    // (answered by the proxy) are found.
    ASSERT_TRUE((*rtnl)->ReplaceFdb({.ifindex = *vx,
                                     .mac = kUnknownMac,
                                     .remote = *net::Ipv4Address::Parse("192.0.2.2"),
                                     .router = false}));
    ASSERT_TRUE((*rtnl)->ReplaceNeigh(
        {.ifindex = *vx, .ip = net::IpAddress(kUnknownIp), .mac = kUnknownMac, .state = 0x80}));
    sender.Send(UnicastFrame(kUnknownMac));
    sender.Send(ArpRequest(kUnknownIp));
    EXPECT_TRUE(CollectMisses(**listener, std::chrono::milliseconds(300)).empty());
    EXPECT_EQ((*listener)->malformed(), 0U);
  });
}

TEST(NeighListenerTest, OverflowIsReportedAsEnobufsAndTheSocketReadsOn) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = Rtnl::Open();
    ASSERT_TRUE(rtnl) << rtnl.error().message;
    auto device =
        (*rtnl)->CreateBridge({.name = "dbr-d", .mtu = 0, .mac = std::nullopt, .stp = false});
    ASSERT_TRUE(device) << device.error().message;
    ASSERT_TRUE((*rtnl)->SetUp(*device, true));
    const int bridge = *device;
    auto listener = NeighListener::Open(1024);  // the kernel's minimum: a few messages
    ASSERT_TRUE(listener) << listener.error().message;

    for (uint32_t i = 0; i < 2000; ++i) {
      const auto ip = net::Ipv4Address::FromUint32(0x0a010000 + i);
      ASSERT_TRUE((*rtnl)->ReplaceNeigh(
          {.ifindex = bridge, .ip = net::IpAddress(ip), .mac = kSender, .state = 0x80}));
    }
    // The dump of 2000 entries spans many datagrams (multi-part, up to NLMSG_DONE).
    auto listed = (*rtnl)->ListNeigh(bridge);
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ(listed->size(), 2000U);

    size_t before = 0;
    auto overflow = (*listener)->Read([&](const NeighEvent&) { ++before; });
    ASSERT_FALSE(overflow) << "read " << *overflow << " events without overflow";
    EXPECT_EQ(overflow.error().code, ENOBUFS) << overflow.error().message;

    // The socket stays usable: what is queued, and what comes next, is read.
    (void)(*listener)->Read([](const NeighEvent&) {});
    const auto ip = net::IpAddress(*net::Ipv4Address::Parse("10.2.0.1"));
    ASSERT_TRUE(
        (*rtnl)->ReplaceNeigh({.ifindex = bridge, .ip = ip, .mac = kSender, .state = 0x80}));
    ASSERT_TRUE(WaitReadable((*listener)->fd(), std::chrono::milliseconds(1000)));
    std::vector<NeighEvent> events;
    auto after = (*listener)->Read([&](const NeighEvent& e) { events.push_back(e); });
    ASSERT_TRUE(after) << after.error().message;
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].kind, Kind::kNewNeigh);
    EXPECT_EQ(events[0].ip, ip);
    EXPECT_EQ(events[0].ifindex, bridge);
  });
}

}  // namespace
}  // namespace dove::netlink
