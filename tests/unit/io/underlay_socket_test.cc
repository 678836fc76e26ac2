// UnderlaySocket against the kernel, each test in a network namespace of its own (root only)
// with the VTEP 192.0.2.1 and a peer 192.0.2.2 on lo: a datagram from the peer arrives as the
// full outer frame the pipeline's FromTunnel accepts; a VxlanEncap frame leaves with the source
// port VxlanEncap chose; oversized datagrams and malformed frames are counted.
#include "dswitch/io/underlay_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/udp.h"
#include "net/vxlan.h"
#include "network_namespace.h"

namespace dove::dswitch::io::testing {
namespace {

using std::chrono_literals::operator""ms;

const net::Ipv4Address kLocalVtep = *net::Ipv4Address::Parse("192.0.2.1");
const net::Ipv4Address kPeerVtep = *net::Ipv4Address::Parse("192.0.2.2");
const net::MacAddress kVm1Mac = *net::MacAddress::Parse("52:54:00:00:00:01");
const net::MacAddress kVm9Mac = *net::MacAddress::Parse("52:54:00:00:00:09");
const net::MacAddress kRouterMac = *net::MacAddress::Parse("02:d0:5e:00:00:01");
constexpr uint32_t kVni = 100;
constexpr uint16_t kPeerPort = 5555;

void AddUnderlayAddresses() {
  Shell("ip addr add 192.0.2.1/24 dev lo");
  Shell("ip addr add 192.0.2.2/24 dev lo");
}

sockaddr_in Address(const net::Ipv4Address& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(ip.ToUint32());
  return address;
}

FileDescriptor BoundUdpSocket(const net::Ipv4Address& ip, uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const sockaddr_in address = Address(ip, port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0)
      << std::strerror(errno);
  return fd;
}

// An inner frame from vm9 (behind the peer) to vm1 (behind this switch).
std::vector<uint8_t> InnerFrame() {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kVm1Mac, kVm9Mac, net::ether_type::kIpv4));
  const auto source = *net::Ipv4Address::Parse("10.0.0.9");
  const auto destination = *net::Ipv4Address::Parse("10.0.0.1");
  const size_t ip_at =
      b.Append(*net::MakeIpv4Header(source, destination, net::ip_proto::kUdp, 64, 8 + 20));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(1000, 2000, 20));
  b.AppendZeros(20);
  EXPECT_TRUE(net::FinishUdp(b.From(udp_at), source, destination));
  EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

void SendFrom(const FileDescriptor& socket, const std::vector<uint8_t>& datagram) {
  const sockaddr_in vtep = Address(kLocalVtep, net::kVxlanPort);
  ASSERT_EQ(::sendto(socket.get(), datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&vtep), sizeof(vtep)),
            static_cast<ssize_t>(datagram.size()))
      << std::strerror(errno);
}

TEST(UnderlaySocketTest, ADatagramArrivesAsTheOuterFrameFromTunnelAccepts) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto underlay = UnderlaySocket::Open(kLocalVtep);
    ASSERT_TRUE(underlay) << underlay.error();
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, kPeerPort);

    net::FrameBuilder b;
    b.Append(*net::MakeVxlanHeader(kVni));
    const std::vector<uint8_t> inner = InnerFrame();
    b.Append(net::ByteSpan(inner));
    const std::vector<uint8_t> datagram = std::move(b).Take();
    SendFrom(peer, datagram);

    ASSERT_TRUE(WaitReadable(underlay->fd(), 1000ms));
    IoCounters counters;
    pipeline::Batch batch;
    ASSERT_EQ(underlay->ReceiveBatch(batch, counters), 1u);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(counters.underlay_rx, 1u);
    const pipeline::Frame& frame = batch[0];
    EXPECT_EQ(frame.tunnel, kPeerVtep);
    ASSERT_EQ(frame.bytes.size(), UnderlaySocket::kHeadroom + datagram.size());

    const auto ethernet = net::ParseEthernet(frame.span());
    ASSERT_TRUE(ethernet);
    EXPECT_EQ(ethernet->ether_type, net::ether_type::kIpv4);
    const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/true);
    ASSERT_TRUE(ip) << net::ErrorName(ip.error());
    EXPECT_EQ(ip->source(), kPeerVtep);
    EXPECT_EQ(ip->destination(), kLocalVtep);
    EXPECT_EQ(ip->protocol(), net::ip_proto::kUdp);
    EXPECT_EQ(ip->ttl(), 64);
    const auto udp = net::ParseUdp(ip->payload, ip->source(), ip->destination());
    ASSERT_TRUE(udp) << net::ErrorName(udp.error());
    EXPECT_EQ(udp->source_port(), kPeerPort);
    EXPECT_EQ(udp->destination_port(), net::kVxlanPort);
    EXPECT_EQ(std::vector<uint8_t>(udp->payload.begin(), udp->payload.end()), datagram);
    const auto vxlan = net::ParseVxlan(udp->payload);
    ASSERT_TRUE(vxlan);
    EXPECT_EQ(vxlan->vni, kVni);

    // And the pipeline's own check: FromTunnel delivers the inner frame to vm1's port.
    pipeline::Tables tables;
    ASSERT_TRUE(tables.AddNetwork(kVni, kRouterMac, {kPeerVtep}));
    ASSERT_TRUE(tables.AddPort({.id = 1, .vni = kVni, .mac = kVm1Mac, .ips = {}}));
    pipeline::Counters pipeline_counters;
    pipeline::FromTunnel from_tunnel(tables, kLocalVtep, pipeline_counters);
    pipeline::Batch to_ports;
    from_tunnel.Process(batch, to_ports);
    EXPECT_EQ(pipeline_counters.total_drops(), 0u);
    ASSERT_EQ(to_ports.size(), 1u);
    EXPECT_EQ(to_ports[0].port, 1u);
    EXPECT_EQ(to_ports[0].bytes, InnerFrame());
  });
}

TEST(UnderlaySocketTest, DatagramsLargerThanTheBufferAreCountedAsTruncated) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto underlay = UnderlaySocket::Open(kLocalVtep);
    ASSERT_TRUE(underlay) << underlay.error();
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, kPeerPort);
    SendFrom(peer, std::vector<uint8_t>(UnderlaySocket::kMaxDatagram + 1, 0xab));
    SendFrom(peer, std::vector<uint8_t>(UnderlaySocket::kMaxDatagram, 0xcd));

    IoCounters counters;
    pipeline::Batch batch;
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (counters.underlay_rx + counters.underlay_rx_truncated < 2 &&
           std::chrono::steady_clock::now() < deadline) {
      if (WaitReadable(underlay->fd(), 100ms)) underlay->ReceiveBatch(batch, counters);
    }
    EXPECT_EQ(counters.underlay_rx_truncated, 1u);
    EXPECT_EQ(counters.underlay_rx, 1u);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch[0].bytes.size(), UnderlaySocket::kHeadroom + UnderlaySocket::kMaxDatagram);
    EXPECT_EQ(batch[0].bytes.back(), 0xcd);
    // Nothing is waiting: a receive returns at once.
    EXPECT_EQ(underlay->ReceiveBatch(batch, counters), 0u);
    EXPECT_EQ(counters.underlay_rx_errors, 0u);
  });
}

TEST(UnderlaySocketTest, SendingKeepsTheSourcePortVxlanEncapChose) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto underlay = UnderlaySocket::Open(kLocalVtep);
    ASSERT_TRUE(underlay) << underlay.error();
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);

    pipeline::Counters pipeline_counters;
    pipeline::VxlanEncap encap({.local_ip = kLocalVtep, .local_mac = {}, .next_hop_mac = {}},
                               pipeline_counters);
    pipeline::Batch batch;
    batch.Push(pipeline::Frame{.bytes = InnerFrame(), .port = 1, .vni = kVni, .tunnel = kPeerVtep});
    encap.Process(batch);
    ASSERT_EQ(batch.size(), 1u);
    const std::vector<uint8_t> outer = batch[0].bytes;
    const uint16_t chosen_port = static_cast<uint16_t>(outer[34] << 8 | outer[35]);
    EXPECT_GE(chosen_port, net::kVxlanSourcePortMin);
    // A frame too short to hold an IPv4 header is refused, not sent.
    batch.Push(pipeline::Frame{.bytes = {1, 2, 3}, .port = 1, .vni = kVni, .tunnel = kPeerVtep});

    IoCounters counters;
    EXPECT_EQ(underlay->SendBatch(batch, counters), 1u);
    EXPECT_EQ(counters.underlay_tx, 1u);
    EXPECT_EQ(counters.underlay_tx_malformed, 1u);
    EXPECT_EQ(counters.underlay_tx_errors, 0u);

    ASSERT_TRUE(WaitReadable(peer.get(), 1000ms));
    std::vector<uint8_t> received(65536);
    sockaddr_in sender{};
    socklen_t sender_size = sizeof(sender);
    const ssize_t n = ::recvfrom(peer.get(), received.data(), received.size(), 0,
                                 reinterpret_cast<sockaddr*>(&sender), &sender_size);
    ASSERT_GT(n, 0);
    received.resize(static_cast<size_t>(n));
    EXPECT_EQ(received, std::vector<uint8_t>(outer.begin() + 42, outer.end()));
    EXPECT_EQ(ntohs(sender.sin_port), chosen_port);
    EXPECT_EQ(net::Ipv4Address::FromUint32(ntohl(sender.sin_addr.s_addr)), kLocalVtep);
  });
}

TEST(UnderlaySocketTest, OpenFailsOnAnAddressThisHostDoesNotHave) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto underlay = UnderlaySocket::Open(*net::Ipv4Address::Parse("198.51.100.1"));
    ASSERT_FALSE(underlay);
    EXPECT_NE(underlay.error().find("bind to 198.51.100.1:4789"), std::string::npos)
        << underlay.error();
    EXPECT_FALSE(UnderlaySocket::Open(net::Ipv4Address()));
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
