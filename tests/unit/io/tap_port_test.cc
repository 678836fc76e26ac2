// TapPort against the kernel, each test in a network namespace of its own (root only): a frame
// sent into the TAP is answered by the kernel's stack and the answer received back; partial
// checksums pass through whole both ways; the kernel's TSO super-frames arrive as ONE packet
// with their gso_size, and a super-frame sent back is taken whole by the kernel's TCP;
// persistence lets a closed TAP be found again and Remove deletes it; and the errors of Open.
#include "dswitch/io/tap_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/offload/partial_checksum.h"
#include "dswitch/packet/packet_pool.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "network_namespace.h"
#include "test_frames.h"

namespace dove::dswitch::io::testing {
namespace {

using std::chrono_literals::operator""ms;

constexpr packet::PortId kPort = 7;
const net::MacAddress kTapVmMac = *net::MacAddress::Parse("02:00:00:00:00:02");
const net::Ipv4Address kHostIp = *net::Ipv4Address::Parse("10.9.0.1");
const net::Ipv4Address kTapVmIp = *net::Ipv4Address::Parse("10.9.0.2");

net::MacAddress DeviceMac(const std::string& name) {
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  struct ifreq request {};
  std::memcpy(request.ifr_name, name.data(), name.size());
  EXPECT_EQ(::ioctl(socket.get(), SIOCGIFHWADDR, &request), 0);
  std::array<uint8_t, 6> bytes{};
  std::memcpy(bytes.data(), request.ifr_hwaddr.sa_data, bytes.size());
  return net::MacAddress(bytes);
}

sockaddr_in Address(const net::Ipv4Address& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(ip.ToUint32());
  return address;
}

// The IPv4 packet inside `frame`, if it is one (checksums not verified: they may be partial).
std::optional<net::Ipv4Packet> Ipv4Of(net::ByteSpan frame) {
  const auto ethernet = net::ParseEthernet(frame);
  if (!ethernet || ethernet->ether_type != net::ether_type::kIpv4) return std::nullopt;
  const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
  if (!ip) return std::nullopt;
  return *ip;
}

bool IsTcp(const packet::Packet& p) {
  const auto ip = Ipv4Of(p.span());
  return ip && ip->protocol() == net::ip_proto::kTcp;
}

// A TAP "dove-tap0" holding 10.9.0.1/24, with the VM 10.9.0.2 (kTapVmMac) behind it.
struct HostTap {
  HostTap() {
    auto opened = TapPort::Open("dove-tap0", /*create=*/true, kPort);
    EXPECT_TRUE(opened) << opened.error();
    if (!opened) std::_Exit(1);
    tap = std::move(*opened);
    Shell("ip addr add 10.9.0.1/24 dev dove-tap0");
    Shell("ip neigh replace 10.9.0.2 lladdr 02:00:00:00:00:02 dev dove-tap0");
  }

  packet::Packet* ReceiveUntil(const std::function<bool(const packet::Packet&)>& wanted) {
    return testing::ReceiveUntil(*tap, pool, counters, kPort, wanted);
  }

  // Sends one frame into the TAP; true when it went.
  bool Send(const std::vector<uint8_t>& frame, const packet::OffloadInfo& offload = {}) {
    packet::PacketBatch batch;
    batch.Push(MakePacket(pool, frame, offload));
    return tap->Send(pool, batch, counters) == 1;
  }

  std::unique_ptr<TapPort> tap;
  packet::PacketPool pool{{.small_slots = 256, .large_slots = 16}};
  IoCounters counters;
};

TEST(TapPortTest, TheKernelAnswersAnArpRequestSentIntoTheTap) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    HostTap host;
    EXPECT_EQ(host.tap->name(), "dove-tap0");
    EXPECT_EQ(host.tap->ifindex(), static_cast<int>(::if_nametoindex("dove-tap0")));
    EXPECT_NE(::fcntl(host.tap->fd(), F_GETFL) & O_NONBLOCK, 0);
    const DeviceCaps caps = host.tap->caps();
    EXPECT_TRUE(caps.tso);
    EXPECT_TRUE(caps.csum_partial);
    EXPECT_EQ(caps.max_frame, 65535u + 18);

    net::FrameBuilder b;
    b.Append(
        net::MakeEthernetHeader(net::MacAddress::Broadcast(), kTapVmMac, net::ether_type::kArp));
    b.Append(net::MakeArp(net::arp::kRequest, kTapVmMac, kTapVmIp, net::MacAddress(), kHostIp));
    ASSERT_TRUE(host.Send(b.bytes()));
    EXPECT_EQ(host.counters.write_frames, 1u);
    EXPECT_EQ(host.pool.in_use(), 0u);

    packet::Packet* reply = host.ReceiveUntil([](const packet::Packet& p) {
      const auto ethernet = net::ParseEthernet(p.span());
      return ethernet && ethernet->ether_type == net::ether_type::kArp;
    });
    ASSERT_NE(reply, nullptr) << "no ARP reply from the kernel";
    EXPECT_FALSE(reply->large()) << "a small frame must not hold a large slot";
    EXPECT_FALSE(reply->offload.is_gso());
    const auto ethernet = net::ParseEthernet(reply->span());
    ASSERT_TRUE(ethernet);
    EXPECT_EQ(ethernet->destination, kTapVmMac);
    const auto arp = net::ParseArp(ethernet->payload);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->operation.value(), net::arp::kReply);
    EXPECT_EQ(arp->sender_ip, kHostIp);
    EXPECT_EQ(arp->sender_mac, DeviceMac("dove-tap0"));
    EXPECT_EQ(arp->target_ip, kTapVmIp);
    host.pool.Free(reply);
    EXPECT_GE(host.counters.read_frames, 1u);
    EXPECT_EQ(host.counters.read_errors, 0u);
    EXPECT_EQ(host.pool.in_use(), 0u) << "Receive keeps no slot";
  });
}

// The kernel, told the TAP offloads checksums, leaves them partial (NEEDS_CSUM), and so does
// the switch: the packet carries csum_partial, and finishing it gives the right checksum. The
// other way, a datagram sent into the TAP with its checksum partial is taken by the kernel
// (which would drop it as corrupt were the NEEDS_CSUM flag not passed on).
TEST(TapPortTest, PartialChecksumsPassThroughWholeBothWays) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    HostTap host;
    const FileDescriptor udp(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in local = Address(kHostIp, 2000);
    ASSERT_EQ(::bind(udp.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)), 0);
    const sockaddr_in vm = Address(kTapVmIp, 9999);
    const char message[] = "an odd-length payload";
    ASSERT_EQ(::sendto(udp.get(), message, sizeof(message), 0,
                       reinterpret_cast<const sockaddr*>(&vm), sizeof(vm)),
              static_cast<ssize_t>(sizeof(message)));
    packet::Packet* datagram = host.ReceiveUntil([](const packet::Packet& p) {
      const auto ip = Ipv4Of(p.span());
      return ip && ip->protocol() == net::ip_proto::kUdp;
    });
    ASSERT_NE(datagram, nullptr) << "the UDP datagram never came out of the TAP";
    EXPECT_TRUE(datagram->offload.csum_partial) << "the kernel did not leave it partial";
    EXPECT_EQ(datagram->offload.csum_start, 34);
    EXPECT_EQ(datagram->offload.csum_offset, 6);
    ASSERT_TRUE(offload::FinishChecksum(*datagram));
    const auto ip = Ipv4Of(datagram->span());
    ASSERT_TRUE(ip);
    EXPECT_TRUE(net::ParseUdp(ip->payload, kHostIp, kTapVmIp)) << "finished, it must verify";
    host.pool.Free(datagram);

    // The VM 10.9.0.2:1000 -> the host 10.9.0.1:2000, its checksum partial.
    net::FrameBuilder b;
    b.Append(net::MakeEthernetHeader(DeviceMac("dove-tap0"), kTapVmMac, net::ether_type::kIpv4));
    const std::vector<uint8_t> payload = Pattern(101);
    const size_t ip_at =
        b.Append(*net::MakeIpv4Header(kTapVmIp, kHostIp, net::ip_proto::kUdp, 64, 8 + 101));
    b.Append(*net::MakeUdpHeader(1000, 2000, 101));
    b.Append(net::ByteSpan(payload));
    ASSERT_TRUE(net::FinishIpv4(b.From(ip_at)));
    std::vector<uint8_t> frame = std::move(b).Take();
    const uint16_t partial = PartialSum(kTapVmIp, kHostIp, net::ip_proto::kUdp, 8 + 101);
    frame[kTcpAt + 6] = static_cast<uint8_t>(partial >> 8);
    frame[kTcpAt + 7] = static_cast<uint8_t>(partial);
    ASSERT_TRUE(host.Send(frame, UdpPartialOffload()));
    ASSERT_TRUE(WaitReadable(udp.get(), 1000ms)) << "the kernel dropped the datagram";
    std::vector<uint8_t> received(200);
    const ssize_t n = ::recv(udp.get(), received.data(), received.size(), 0);
    ASSERT_EQ(n, 101);
    received.resize(101);
    EXPECT_EQ(received, payload);
  });
}

// Plays the peer of a real TCP connection (a hand-made SYN-ACK advertising MSS 1000): the
// kernel, told the TAP does TSO, hands its first flight over as super-frames, each ONE packet
// with gso_size 1000 carrying exactly the bytes sent.
TEST(TapPortTest, TcpSuperFramesFromTheKernelArriveAsOnePacket) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    HostTap host;
    const FileDescriptor tcp(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr_in vm = Address(kTapVmIp, 80);
    ::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&vm), sizeof(vm));
    packet::Packet* syn = host.ReceiveUntil(IsTcp);
    ASSERT_NE(syn, nullptr) << "the SYN never came out of the TAP";
    const auto syn_tcp = net::ParseTcp(Ipv4Of(syn->span())->payload);
    ASSERT_TRUE(syn_tcp);
    const uint16_t host_port = syn_tcp->source_port();
    const uint32_t host_sequence = syn_tcp->header.sequence.value();
    host.pool.Free(syn);

    ASSERT_TRUE(host.Send(TcpFrame({.source_mac = kTapVmMac,
                                    .destination_mac = DeviceMac("dove-tap0"),
                                    .source = kTapVmIp,
                                    .destination = kHostIp,
                                    .source_port = 80,
                                    .destination_port = host_port,
                                    .sequence = 5000,
                                    .ack = host_sequence + 1,
                                    .flags = net::tcp_flag::kSyn | net::tcp_flag::kAck,
                                    .options = {net::tcp_option::kMss, 4, 1000 >> 8, 1000 & 0xff}},
                                   {})));
    pollfd writable{.fd = tcp.get(), .events = POLLOUT, .revents = 0};
    ASSERT_EQ(::poll(&writable, 1, 1000), 1);

    const std::vector<uint8_t> sent = Pattern(20000);
    ASSERT_GT(::send(tcp.get(), sent.data(), sent.size(), 0), 0);

    std::vector<uint8_t> received;
    size_t super_frames = 0;
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!WaitReadable(host.tap->fd(), 100ms)) break;
      packet::PacketBatch batch;
      host.tap->Receive(host.pool, batch, host.counters);
      for (packet::Packet* p : batch) {
        const auto ip = Ipv4Of(p->span());
        if (ip && ip->protocol() == net::ip_proto::kTcp) {
          const auto segment = net::ParseTcp(ip->payload);
          ASSERT_TRUE(segment);
          if (p->offload.is_gso()) {
            ++super_frames;
            EXPECT_EQ(p->offload.gso, packet::GsoType::kTcp4);
            EXPECT_EQ(p->offload.gso_size, 1000) << "gso_size is the MSS";
            EXPECT_GT(segment->payload.size(), 1000u) << "more than one segment's worth";
            EXPECT_TRUE(p->offload.csum_partial);
            EXPECT_EQ(p->large(), p->size() > packet::PacketPool::kSmallRoom)
                << "only what a small slot cannot hold keeps a large one";
          } else {
            EXPECT_LE(segment->payload.size(), 1000u);
          }
          const uint32_t offset = segment->header.sequence.value() - (host_sequence + 1);
          if (!segment->payload.empty() && offset >= received.size()) {
            EXPECT_EQ(offset, received.size()) << "a gap in the data";
            received.insert(received.end(), segment->payload.begin(), segment->payload.end());
          }
        }
        host.pool.Free(p);
      }
    }
    ASSERT_GE(received.size(), 2000u) << "the kernel sent less than two segments";
    EXPECT_EQ(received, std::vector<uint8_t>(sent.begin(), sent.begin() + received.size()));
    EXPECT_GE(super_frames, 1u) << "the kernel sent no super-frame";
    EXPECT_EQ(host.counters.read_super_frames, super_frames);
    EXPECT_EQ(host.counters.gso_refused, 0u);
    EXPECT_EQ(host.pool.in_use(), 0u);
  });
}

// The other way: a listening socket in the namespace, the "VM" connects through the TAP and
// sends 20000 bytes as ONE super-frame (gso_size 1000, checksum partial): the kernel's TCP
// takes it whole and the application reads every byte.
TEST(TapPortTest, ASuperFrameSentIntoTheTapIsTakenWholeByTheKernel) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    HostTap host;
    const FileDescriptor listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in local = Address(kHostIp, 5001);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    const net::MacAddress tap_mac = DeviceMac("dove-tap0");
    TcpSpec spec{.source_mac = kTapVmMac,
                 .destination_mac = tap_mac,
                 .source = kTapVmIp,
                 .destination = kHostIp,
                 .source_port = 33000,
                 .destination_port = 5001,
                 .sequence = 7000,
                 .ack = 0,
                 .flags = net::tcp_flag::kSyn,
                 .options = {net::tcp_option::kMss, 4, 1000 >> 8, 1000 & 0xff}};
    ASSERT_TRUE(host.Send(TcpFrame(spec, {})));
    packet::Packet* syn_ack = host.ReceiveUntil(IsTcp);
    ASSERT_NE(syn_ack, nullptr) << "no SYN-ACK from the kernel";
    const auto answer = net::ParseTcp(Ipv4Of(syn_ack->span())->payload);
    ASSERT_TRUE(answer);
    ASSERT_TRUE(answer->HasFlags(net::tcp_flag::kSyn | net::tcp_flag::kAck));
    const uint32_t host_sequence = answer->header.sequence.value();
    host.pool.Free(syn_ack);

    spec.options.clear();
    spec.flags = net::tcp_flag::kAck;
    spec.sequence = 7001;
    spec.ack = host_sequence + 1;
    ASSERT_TRUE(host.Send(TcpFrame(spec, {})));

    const std::vector<uint8_t> payload = Pattern(20000);
    spec.flags = net::tcp_flag::kAck | net::tcp_flag::kPsh;
    spec.partial_checksum = true;
    ASSERT_TRUE(host.Send(TcpFrame(spec, payload), SuperOffload(1000)));
    EXPECT_EQ(host.counters.write_super_frames, 1u);
    EXPECT_EQ(host.counters.write_errors, 0u);

    const FileDescriptor connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(connection.valid());
    std::vector<uint8_t> received;
    while (received.size() < payload.size() && WaitReadable(connection.get(), 1000ms)) {
      std::vector<uint8_t> chunk(65536);
      const ssize_t n = ::recv(connection.get(), chunk.data(), chunk.size(), 0);
      if (n <= 0) break;
      received.insert(received.end(), chunk.begin(), chunk.begin() + n);
    }
    EXPECT_EQ(received, payload);
    // The kernel acknowledges all of it.
    packet::Packet* ack = host.ReceiveUntil([&](const packet::Packet& p) {
      if (!IsTcp(p)) return false;
      const auto segment = net::ParseTcp(Ipv4Of(p.span())->payload);
      return segment && segment->header.acknowledgment.value() == 7001 + payload.size();
    });
    EXPECT_NE(ack, nullptr) << "the kernel never acknowledged the whole super-frame";
    host.pool.Free(ack);
  });
}

TEST(TapPortTest, APersistentTapOutlivesItsDescriptorUntilRemoved) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    {
      auto tap = TapPort::Open("dove-tap1", /*create=*/true, kPort);
      ASSERT_TRUE(tap) << tap.error();
      ASSERT_TRUE((*tap)->SetPersistent(true));
    }
    EXPECT_NE(::if_nametoindex("dove-tap1"), 0u) << "closed, yet persistent: it must remain";
    auto again = TapPort::Open("dove-tap1", /*create=*/false, kPort);
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ((*again)->ifindex(), static_cast<int>(::if_nametoindex("dove-tap1")));
    ASSERT_TRUE((*again)->Remove());
    EXPECT_EQ(::if_nametoindex("dove-tap1"), 0u);

    {
      auto transient = TapPort::Open("dove-tap2", /*create=*/true, kPort);
      ASSERT_TRUE(transient) << transient.error();
      EXPECT_NE(::if_nametoindex("dove-tap2"), 0u);
    }
    EXPECT_EQ(::if_nametoindex("dove-tap2"), 0u) << "not persistent: gone with its descriptor";
  });
}

TEST(TapPortTest, AttachesToATapMadeByIpTuntap) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip tuntap add dev dove-tap3 mode tap vnet_hdr");
    auto tap = TapPort::Open("dove-tap3", /*create=*/false, kPort);
    ASSERT_TRUE(tap) << tap.error();
    Shell("ip link show dove-tap3 | grep -q 'state UP\\|,UP'");
  });
}

TEST(TapPortTest, OpenRefusesBadNamesAndMissingDevices) {
  EXPECT_FALSE(TapPort::Open("", true, kPort));
  const auto too_long = TapPort::Open("a-name-of-16-byt", true, kPort);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("15"), std::string::npos) << too_long.error();
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto missing = TapPort::Open("dove-none", /*create=*/false, kPort);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no TAP device dove-none");
    const auto not_a_tap = TapPort::Open("lo", /*create=*/false, kPort);
    ASSERT_FALSE(not_a_tap);
    EXPECT_NE(not_a_tap.error().find("TUNSETIFF"), std::string::npos) << not_a_tap.error();
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
