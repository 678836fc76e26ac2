// UdpTunnel against the kernel, each test in a network namespace of its own (root only) with
// the VTEP 192.0.2.1 and a peer VTEP 192.0.2.2 on lo: datagrams arrive with the sender's
// address and leave for the configured port (the same one they arrive on); a super-frame
// leaves as equal VXLAN datagrams, each a valid inner TCP segment, with one UDP GSO send (or
// the fallback when the kernel refuses); a flow keeps its source port; a UDP GRO train is
// split back into its datagrams; truncation and a full socket buffer are counted.
#include "dswitch/io/udp_tunnel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/packet_pool.h"
#include "network_namespace.h"
#include "test_frames.h"

namespace dove::dswitch::io::testing {
namespace {

using std::chrono_literals::operator""ms;

const net::Ipv4Address kLocalVtep = *net::Ipv4Address::Parse("192.0.2.1");
const net::Ipv4Address kPeerVtep = *net::Ipv4Address::Parse("192.0.2.2");
constexpr uint16_t kOtherPort = 8472;  // not 4789: the port must be used both ways

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

// A plain UDP socket (no GRO: the kernel hands it every datagram on its own).
FileDescriptor BoundUdpSocket(const net::Ipv4Address& ip, uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int buffer = 8 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
  const sockaddr_in address = Address(ip, port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0)
      << std::strerror(errno);
  return fd;
}

std::unique_ptr<UdpTunnel> OpenTunnel(UdpTunnel::Options options) {
  auto tunnel = UdpTunnel::Open(options);
  EXPECT_TRUE(tunnel) << tunnel.error();
  if (!tunnel) std::_Exit(1);
  return std::move(*tunnel);
}

struct Datagram {
  std::vector<uint8_t> bytes;
  net::Ipv4Address source;
  uint16_t source_port = 0;
};

// Every datagram `socket` receives until none comes for 200 ms.
std::vector<Datagram> ReceiveAll(const FileDescriptor& socket) {
  std::vector<Datagram> out;
  while (WaitReadable(socket.get(), 200ms)) {
    std::vector<uint8_t> buffer(70000);
    sockaddr_in sender{};
    socklen_t size = sizeof(sender);
    const ssize_t n = ::recvfrom(socket.get(), buffer.data(), buffer.size(), 0,
                                 reinterpret_cast<sockaddr*>(&sender), &size);
    if (n < 0) break;
    buffer.resize(static_cast<size_t>(n));
    out.push_back({std::move(buffer), net::Ipv4Address::FromUint32(ntohl(sender.sin_addr.s_addr)),
                   ntohs(sender.sin_port)});
  }
  return out;
}

// Sends `packets` (data at the VXLAN header) to the peer VTEP with the given flow hash.
size_t SendTo(UdpTunnel& tunnel, packet::PacketPool& pool, IoCounters& counters,
              const std::vector<std::vector<uint8_t>>& packets, uint32_t flow_hash,
              const packet::OffloadInfo& offload = {}) {
  packet::PacketBatch batch;
  for (const auto& bytes : packets) {
    packet::Packet* p = MakePacket(pool, bytes, offload);
    p->meta.tunnel = kPeerVtep;
    p->meta.flow_hash = flow_hash;
    batch.Push(p);
  }
  const size_t sent = tunnel.Send(pool, batch, counters);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(pool.in_use(), 0u) << "Send frees every packet";
  return sent;
}

// Checks that `datagrams` are the wire segments of a super-frame carrying `payload` in
// `mss`-byte pieces: equal sizes but the last, VXLAN header kept, each inner TCP segment valid
// (both checksums), the payload in order.
void ExpectSegmentsOf(const std::vector<Datagram>& datagrams, const std::vector<uint8_t>& payload,
                      size_t mss) {
  const size_t count = (payload.size() + mss - 1) / mss;
  ASSERT_EQ(datagrams.size(), count);
  std::vector<uint8_t> carried;
  uint32_t sequence = 1000;
  for (size_t i = 0; i < datagrams.size(); ++i) {
    const std::vector<uint8_t>& d = datagrams[i].bytes;
    const size_t expected_payload = i + 1 < count ? mss : payload.size() - mss * (count - 1);
    EXPECT_EQ(d.size(), 8 + kTcpAt + 20 + expected_payload) << "datagram " << i;
    const auto vxlan = net::ParseVxlan(d);
    ASSERT_TRUE(vxlan);
    EXPECT_EQ(vxlan->vni, 100u);
    const auto tcp = ValidTcp(vxlan->inner_frame);
    ASSERT_TRUE(tcp) << "datagram " << i;
    EXPECT_EQ(tcp->header.sequence.value(), sequence);
    sequence += static_cast<uint32_t>(tcp->payload.size());
    carried.insert(carried.end(), tcp->payload.begin(), tcp->payload.end());
  }
  EXPECT_EQ(carried, payload);
}

TEST(UdpTunnelTest, TheConfiguredPortIsUsedToReceiveAndToSend) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep, .port = kOtherPort});
    EXPECT_EQ(tunnel->caps().tso, true);
    EXPECT_EQ(tunnel->caps().csum_partial, true);
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, kOtherPort);

    // Receive: what the peer sends to 192.0.2.1:8472 arrives, data at the VXLAN header.
    const std::vector<uint8_t> datagram = WithVxlan(UdpFrame(Pattern(20)));
    const sockaddr_in vtep = Address(kLocalVtep, kOtherPort);
    ASSERT_EQ(::sendto(peer.get(), datagram.data(), datagram.size(), 0,
                       reinterpret_cast<const sockaddr*>(&vtep), sizeof(vtep)),
              static_cast<ssize_t>(datagram.size()));
    ASSERT_TRUE(WaitReadable(tunnel->fd(), 1000ms));
    packet::PacketPool pool({.small_slots = 4096, .large_slots = 80});
    packet::PacketBatch batch;
    IoCounters counters;
    ASSERT_EQ(tunnel->Receive(pool, batch, counters), 1u);
    EXPECT_EQ(Bytes(*batch[0]), datagram);
    EXPECT_EQ(batch[0]->meta.tunnel, kPeerVtep);
    EXPECT_FALSE(batch[0]->large());
    EXPECT_EQ(counters.underlay_rx, 1u);
    pool.Free(batch);
    EXPECT_EQ(pool.in_use(), 0u) << "Receive keeps no slot";
    EXPECT_EQ(tunnel->Receive(pool, batch, counters), 0u) << "nothing waiting: 0 at once";
    EXPECT_EQ(counters.underlay_rx_errors, 0u);

    // Send: to the peer's 8472, from 192.0.2.1 and one of the tunnel's source ports; an inner
    // checksum left partial is finished on the way.
    const std::vector<uint8_t> partial = WithVxlan(UdpFrame(Pattern(33), /*partial=*/true));
    ASSERT_EQ(SendTo(*tunnel, pool, counters, {partial}, 5, UdpPartialOffload()), 1u);
    const auto received = ReceiveAll(peer);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].source, kLocalVtep);
    EXPECT_EQ(received[0].source_port, tunnel->source_ports()[5 % 16]);
    const auto vxlan = net::ParseVxlan(received[0].bytes);
    ASSERT_TRUE(vxlan);
    const auto ip = net::ParseIpv4(net::ParseEthernet(vxlan->inner_frame)->payload);
    ASSERT_TRUE(ip);
    EXPECT_TRUE(net::ParseUdp(ip->payload, kVmIp, kPeerIp)) << "the inner checksum is finished";
    EXPECT_EQ(counters.underlay_tx, 1u);
    EXPECT_EQ(counters.sw_csum_finished, 1u);
  });
}

TEST(UdpTunnelTest, ASuperFrameLeavesAsEqualDatagramsInOneGsoSend) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);
    packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
    IoCounters counters;
    const std::vector<uint8_t> payload = Pattern(20000);
    const auto super = WithVxlan(TcpFrame({.partial_checksum = true}, payload));
    ASSERT_EQ(SendTo(*tunnel, pool, counters, {super}, 1, SuperOffload(1000)), 1u);
    const auto datagrams = ReceiveAll(peer);
    ExpectSegmentsOf(datagrams, payload, 1000);
    for (const Datagram& d : datagrams) EXPECT_EQ(d.source_port, tunnel->source_ports()[1]);
    EXPECT_EQ(counters.gso_sends, 1u);
    EXPECT_EQ(counters.underlay_tx, 20u);
    EXPECT_EQ(counters.gso_fallback, 0u);
    EXPECT_EQ(counters.sw_segmented, 0u);
  });
}

// 65 segments of 1062 bytes: more than one datagram's 65507 bytes and than 64 segments, so
// two UDP GSO sends.
TEST(UdpTunnelTest, ASuperFrameTooBigForOneGsoSendTakesTwo) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);
    packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
    IoCounters counters;
    const std::vector<uint8_t> payload = Pattern(65000);
    const auto super = WithVxlan(TcpFrame({.partial_checksum = true}, payload));
    ASSERT_EQ(SendTo(*tunnel, pool, counters, {super}, 1, SuperOffload(1000)), 1u);
    ExpectSegmentsOf(ReceiveAll(peer), payload, 1000);
    EXPECT_EQ(counters.gso_sends, 2u);
    EXPECT_EQ(counters.underlay_tx, 65u);
  });
}

// lo's MTU below the segments: the kernel refuses the GSO send (EMSGSIZE) and the tunnel sends
// the segments one by one (the kernel fragments them), for this packet only.
TEST(UdpTunnelTest, ASegmentAboveThePathMtuFallsBackToSeparateDatagrams) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    Shell("ip link set lo mtu 1200");
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);
    packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
    IoCounters counters;
    const std::vector<uint8_t> payload = Pattern(9000);
    const auto super = WithVxlan(TcpFrame({.partial_checksum = true}, payload));
    ASSERT_EQ(SendTo(*tunnel, pool, counters, {super}, 3, SuperOffload(1400)), 1u);
    ExpectSegmentsOf(ReceiveAll(peer), payload, 1400);
    EXPECT_EQ(counters.gso_sends, 0u);
    EXPECT_EQ(counters.gso_fallback, 1u);
    EXPECT_EQ(counters.sw_segmented, 1u);
    EXPECT_EQ(counters.underlay_tx, 7u);
    EXPECT_FALSE(tunnel->gso_refused()) << "EMSGSIZE is this packet's, not the kernel's";
  });
}

TEST(UdpTunnelTest, AFlowKeepsItsSourcePortAndFlowsSpreadOverThem) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep, .source_sockets = 8});
    ASSERT_EQ(tunnel->source_ports().size(), 8u);
    EXPECT_EQ(
        std::set<uint16_t>(tunnel->source_ports().begin(), tunnel->source_ports().end()).size(), 8u)
        << "the kernel picks distinct ports";
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);
    packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
    IoCounters counters;
    // Flow h sends datagrams whose inner payload names it, twice, interleaved with the others.
    for (int round = 0; round < 2; ++round) {
      for (uint32_t flow = 0; flow < 16; ++flow) {
        const auto datagram = WithVxlan(UdpFrame(Pattern(8, flow)));
        ASSERT_EQ(SendTo(*tunnel, pool, counters, {datagram}, flow * 1000003u), 1u);
      }
    }
    const auto received = ReceiveAll(peer);
    ASSERT_EQ(received.size(), 32u);
    std::map<std::vector<uint8_t>, std::set<uint16_t>> ports_of_flow;
    std::set<uint16_t> used;
    for (const Datagram& d : received) {
      ports_of_flow[d.bytes].insert(d.source_port);
      used.insert(d.source_port);
    }
    ASSERT_EQ(ports_of_flow.size(), 16u);
    for (uint32_t flow = 0; flow < 16; ++flow) {
      const auto& ports = ports_of_flow[WithVxlan(UdpFrame(Pattern(8, flow)))];
      ASSERT_EQ(ports.size(), 1u) << "flow " << flow << " changed source port";
      EXPECT_EQ(*ports.begin(), tunnel->source_ports()[(flow * 1000003u) % 8]);
    }
    EXPECT_GE(used.size(), 4u) << "16 flows over 8 ports should use several";
  });
}

// The peer sends a train of datagrams in one UDP GSO send; over lo the tunnel's UDP_GRO socket
// receives it as one buffer, which Receive splits back.
TEST(UdpTunnelTest, AUdpGroTrainIsSplitBackIntoItsDatagrams) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, 5555);
    std::vector<uint8_t> train;
    std::vector<std::vector<uint8_t>> expected;
    for (size_t i = 0; i < 12; ++i) {
      // 11 datagrams of 1000 bytes and a last one of 300.
      expected.push_back(
          WithVxlan(Pattern(i < 11 ? 992 : 292, i * 1000), static_cast<uint32_t>(i)));
      train.insert(train.end(), expected.back().begin(), expected.back().end());
    }
    alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> control{};
    sockaddr_in vtep = Address(kLocalVtep, net::kVxlanPort);
    iovec part{train.data(), train.size()};
    msghdr message{};
    message.msg_name = &vtep;
    message.msg_namelen = sizeof(vtep);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const uint16_t segment = 1000;
    std::memcpy(CMSG_DATA(c), &segment, sizeof(segment));
    ASSERT_EQ(::sendmsg(peer.get(), &message, 0), static_cast<ssize_t>(train.size()))
        << std::strerror(errno);

    ASSERT_TRUE(WaitReadable(tunnel->fd(), 1000ms));
    packet::PacketPool pool({.small_slots = 4096, .large_slots = 80});
    packet::PacketBatch batch;
    IoCounters counters;
    ASSERT_EQ(tunnel->Receive(pool, batch, counters), 12u);
    for (size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(Bytes(*batch[i]), expected[i]) << "datagram " << i;
      EXPECT_EQ(batch[i]->meta.tunnel, kPeerVtep);
      EXPECT_FALSE(batch[i]->large());
    }
    EXPECT_EQ(counters.gro_receives, 1u) << "the kernel did not coalesce the train";
    EXPECT_EQ(counters.gro_datagrams, 12u);
    EXPECT_EQ(counters.underlay_rx, 12u);
    pool.Free(batch);
    EXPECT_EQ(pool.in_use(), 0u);
  });
}

// `datagrams` sent from `from` to the local VTEP as ONE UDP GSO send of `segment`-byte
// datagrams: what the tunnel receives as one UDP GRO buffer.
void SendTrain(const FileDescriptor& from, const std::vector<std::vector<uint8_t>>& datagrams,
               uint16_t segment) {
  std::vector<uint8_t> train;
  for (const auto& d : datagrams) train.insert(train.end(), d.begin(), d.end());
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> control{};
  sockaddr_in vtep = Address(kLocalVtep, net::kVxlanPort);
  iovec part{train.data(), train.size()};
  msghdr message{};
  message.msg_name = &vtep;
  message.msg_namelen = sizeof(vtep);
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  std::memcpy(CMSG_DATA(c), &segment, sizeof(segment));
  ASSERT_EQ(::sendmsg(from.get(), &message, 0), static_cast<ssize_t>(train.size()))
      << std::strerror(errno);
}

TEST(UdpTunnelTest, AUdpGroTrainOfOneTcpFlowComesAsOneSuperFrame) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, 5555);
    std::vector<std::vector<uint8_t>> segments;
    for (size_t i = 0; i < 12; ++i) {  // 11 full segments of 1000 bytes, the last 300
      const size_t size = i < 11 ? 1000 : 300;
      segments.push_back(WithVxlan(
          TcpFrame({.sequence = static_cast<uint32_t>(1000 + i * 1000)}, Pattern(size, i * 1000))));
    }
    SendTrain(peer, segments, static_cast<uint16_t>(segments[0].size()));

    ASSERT_TRUE(WaitReadable(tunnel->fd(), 1000ms));
    packet::PacketPool pool({.small_slots = 256, .large_slots = 8});
    packet::PacketBatch batch;
    IoCounters counters;
    ASSERT_EQ(tunnel->Receive(pool, batch, counters), 1u);
    const packet::Packet& super = *batch[0];
    EXPECT_EQ(super.size(), 8 + kTcpAt + 20 + 11300);
    EXPECT_EQ(super.offload.gso, packet::GsoType::kTcp4);
    EXPECT_EQ(super.offload.gso_size, 1000);
    EXPECT_TRUE(super.offload.csum_partial);
    EXPECT_EQ(super.offload.csum_start, kTcpAt);  // from the frame, after the VXLAN header
    EXPECT_EQ(super.meta.tunnel, kPeerVtep);
    EXPECT_EQ(std::vector<uint8_t>(super.data() + 8 + kTcpAt + 20, super.data() + super.size()),
              Pattern(11300));
    EXPECT_EQ(counters.gro_receives, 1u) << "the kernel did not coalesce the train";
    EXPECT_EQ(counters.underlay_rx, 12u);
    EXPECT_EQ(counters.underlay_rx_merged, 1u);
    EXPECT_EQ(counters.underlay_rx_merged_datagrams, 12u);
    pool.Free(batch);
    EXPECT_EQ(pool.in_use(), 0u);
  });
}

TEST(UdpTunnelTest, APlainSegmentQueuedBeforeASuperFrameOfItsFlowLeavesFirst) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, net::kVxlanPort);
    packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
    IoCounters counters;
    packet::PacketBatch batch;
    packet::Packet* plain = MakePacket(pool, WithVxlan(TcpFrame({.sequence = 1000}, Pattern(500))));
    packet::Packet* super = MakePacket(
        pool, WithVxlan(TcpFrame({.sequence = 1500, .partial_checksum = true}, Pattern(3000, 500))),
        SuperOffload(1000));
    for (packet::Packet* p : {plain, super}) {
      p->meta.tunnel = kPeerVtep;
      p->meta.flow_hash = 7;  // one flow: one socket, so arrival order is sending order
      batch.Push(p);
    }
    ASSERT_EQ(tunnel->Send(pool, batch, counters), 2u);
    const auto datagrams = ReceiveAll(peer);
    ASSERT_EQ(datagrams.size(), 4u);
    uint32_t sequence = 1000;
    for (const Datagram& d : datagrams) {
      const auto vxlan = net::ParseVxlan(d.bytes);
      ASSERT_TRUE(vxlan);
      const auto tcp = ValidTcp(vxlan->inner_frame);
      ASSERT_TRUE(tcp);
      EXPECT_EQ(tcp->header.sequence.value(), sequence) << "out of order";
      sequence += static_cast<uint32_t>(tcp->payload.size());
    }
  });
}

TEST(UdpTunnelTest, TruncatedDatagramsAreCounted) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep, .receive_buffer = 2000});
    const FileDescriptor peer = BoundUdpSocket(kPeerVtep, 5555);
    const sockaddr_in vtep = Address(kLocalVtep, net::kVxlanPort);
    for (const size_t size : {2001, 2000}) {
      const std::vector<uint8_t> datagram(size, static_cast<uint8_t>(size));
      ASSERT_EQ(::sendto(peer.get(), datagram.data(), datagram.size(), 0,
                         reinterpret_cast<const sockaddr*>(&vtep), sizeof(vtep)),
                static_cast<ssize_t>(size));
    }
    packet::PacketPool pool({.small_slots = 4096, .large_slots = 80});
    packet::PacketBatch batch;
    IoCounters counters;
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (counters.underlay_rx + counters.underlay_rx_truncated < 2 &&
           std::chrono::steady_clock::now() < deadline) {
      if (WaitReadable(tunnel->fd(), 100ms)) tunnel->Receive(pool, batch, counters);
    }
    EXPECT_EQ(counters.underlay_rx_truncated, 1u);
    EXPECT_EQ(counters.underlay_rx, 1u);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(Bytes(*batch[0]), std::vector<uint8_t>(2000, static_cast<uint8_t>(2000)));
    pool.Free(batch);
  });
}

// A veth whose queue never drains (tbf at 8 kbit/s holding everything): the socket's buffer
// fills and the tunnel counts what it could not send, without blocking.
TEST(UdpTunnelTest, AFullSocketBufferIsCountedAsQueueFull) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip link add dove-v0 type veth peer name dove-v1");
    Shell("ip addr add 198.51.100.1/24 dev dove-v0");
    Shell("ip link set dove-v0 up && ip link set dove-v1 up");
    Shell("ip neigh add 198.51.100.2 lladdr 02:00:00:00:00:09 dev dove-v0");
    Shell("tc qdisc add dev dove-v0 root tbf rate 8kbit burst 1600 limit 100000000");
    auto tunnel =
        OpenTunnel({.local_ip = *net::Ipv4Address::Parse("198.51.100.1"), .source_sockets = 1});
    packet::PacketPool pool({.small_slots = 128, .large_slots = 4});
    IoCounters counters;
    size_t attempted = 0;
    size_t sent = 0;
    for (int round = 0; round < 400 && counters.underlay_tx_queue_full == 0; ++round) {
      packet::PacketBatch batch;
      for (size_t i = 0; i < packet::kMaxBurst; ++i) {
        packet::Packet* p = MakePacket(pool, WithVxlan(UdpFrame(Pattern(1300))));
        p->meta.tunnel = *net::Ipv4Address::Parse("198.51.100.2");
        batch.Push(p);
      }
      attempted += packet::kMaxBurst;
      sent += tunnel->Send(pool, batch, counters);
    }
    EXPECT_GT(counters.underlay_tx_queue_full, 0u) << "the buffer never filled";
    EXPECT_EQ(counters.underlay_tx, sent);
    EXPECT_EQ(sent + counters.underlay_tx_queue_full, attempted) << "every packet accounted";
    EXPECT_EQ(pool.in_use(), 0u);
  });
}

TEST(UdpTunnelTest, MalformedPacketsAreCountedNotSent) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    AddUnderlayAddresses();
    auto tunnel = OpenTunnel({.local_ip = kLocalVtep});
    packet::PacketPool pool({.small_slots = 8, .large_slots = 1});
    IoCounters counters;
    packet::PacketBatch batch;
    packet::Packet* short_one = MakePacket(pool, {1, 2, 3});
    short_one->meta.tunnel = kPeerVtep;
    batch.Push(short_one);
    batch.Push(MakePacket(pool, WithVxlan(UdpFrame(Pattern(8)))));  // no destination
    EXPECT_EQ(tunnel->Send(pool, batch, counters), 0u);
    EXPECT_EQ(counters.underlay_tx_malformed, 2u);
    EXPECT_EQ(pool.in_use(), 0u);
  });
}

TEST(UdpTunnelTest, OpenFailsOnBadOptions) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto foreign = UdpTunnel::Open({.local_ip = *net::Ipv4Address::Parse("198.51.100.1")});
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.error().find("bind to 198.51.100.1:4789"), std::string::npos)
        << foreign.error();
    EXPECT_FALSE(UdpTunnel::Open({.local_ip = net::Ipv4Address()}));
    AddUnderlayAddresses();
    const auto none = UdpTunnel::Open({.local_ip = kLocalVtep, .source_sockets = 0});
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().find("source_sockets"), std::string::npos) << none.error();
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
