// PacketPort against the kernel, each test in a network namespace of its own (root only): a TAP
// that another process holds (as QEMU does) cannot be opened as a TapPort but is served through
// the packet socket both ways, partial checksums and TCP super-frames whole, segmented by the
// kernel for a holder without offloads; the kernel's TCP through a veth arrives as super-frames;
// what the switch sends does not come back; a full ring's drops are counted; and the errors of
// Open. LinuxPortFactory's port guard keeps the host's stack from answering on the interface
// until RemovePort gives it back.
#include "dswitch/io/packet_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/io/tap_port.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/packet/virtio_net_header.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "netlink/rtnetlink.h"
#include "network_namespace.h"
#include "test_frames.h"

namespace dove::dswitch::io::testing {
namespace {

using std::chrono_literals::operator""ms;

constexpr packet::PortId kPort = 9;
constexpr size_t kVirtio = sizeof(packet::VirtioNetHeader);

// A frame read by the holder of a TAP, with the virtio header the kernel put before it.
struct HeldFrame {
  packet::VirtioNetHeader header;
  std::vector<uint8_t> frame;
};

// The process that holds a TAP, as QEMU does: IFF_VNET_HDR, offloads when asked
// (TUNSETOFFLOAD: the kernel then hands it super-frames whole), the link up.
struct Hypervisor {
  Hypervisor(const std::string& name, bool offloads) {
    fd = FileDescriptor(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    struct ifreq request {};
    std::memcpy(request.ifr_name, name.data(), name.size());
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    EXPECT_EQ(::ioctl(fd.get(), TUNSETIFF, &request), 0) << std::strerror(errno);
    const unsigned long features =
        offloads ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0;
    EXPECT_EQ(::ioctl(fd.get(), TUNSETOFFLOAD, features), 0) << std::strerror(errno);
    Shell("ip link set " + name + " up");
  }

  void Write(const std::vector<uint8_t>& frame, const packet::VirtioNetHeader& header = {}) {
    std::array<iovec, 2> parts = {{{const_cast<packet::VirtioNetHeader*>(&header), kVirtio},
                                   {const_cast<uint8_t*>(frame.data()), frame.size()}}};
    EXPECT_EQ(::writev(fd.get(), parts.data(), 2), static_cast<ssize_t>(kVirtio + frame.size()));
  }

  // The next frame the kernel gives the holder within a second that satisfies `wanted`.
  std::optional<HeldFrame> ReadUntil(const std::function<bool(const HeldFrame&)>& wanted) {
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!WaitReadable(fd.get(), 100ms)) continue;
      std::vector<uint8_t> buffer(kVirtio + 70000);
      const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < static_cast<ssize_t>(kVirtio)) continue;
      HeldFrame held;
      std::memcpy(&held.header, buffer.data(), kVirtio);
      held.frame.assign(buffer.begin() + kVirtio, buffer.begin() + n);
      if (wanted(held)) return held;
    }
    return std::nullopt;
  }

  FileDescriptor fd;
};

// A PacketPort with its pool and counters.
struct Port {
  explicit Port(const std::string& name) {
    auto opened = PacketPort::Open(name, kPort);
    EXPECT_TRUE(opened) << opened.error();
    if (!opened) std::_Exit(1);
    port = std::move(*opened);
  }

  packet::Packet* ReceiveUntil(const std::function<bool(const packet::Packet&)>& wanted) {
    return testing::ReceiveUntil(*port, pool, counters, kPort, wanted);
  }

  bool Send(const std::vector<uint8_t>& frame, const packet::OffloadInfo& offload = {}) {
    packet::PacketBatch batch;
    batch.Push(MakePacket(pool, frame, offload));
    const bool sent = port->Send(pool, batch, counters) == 1;
    EXPECT_TRUE(sent) << std::strerror(errno);
    return sent;
  }

  std::unique_ptr<PacketPort> port;
  packet::PacketPool pool{{.small_slots = 256, .large_slots = 16}};
  IoCounters counters;
};

// A veth pair, both ends up, once the far end has its carrier (what is sent before is lost).
void VethPair(const std::string& near, const std::string& far) {
  Shell("ip link add " + near + " type veth peer name " + far);
  Shell("ip link set " + near + " up && ip link set " + far + " up");
  Shell("for i in $(seq 100); do ip link show " + far +
        " | grep -q LOWER_UP && exit 0; sleep 0.02; done; exit 1");
}

std::vector<uint8_t> ArpRequest(const net::MacAddress& from, const net::Ipv4Address& sender,
                                const net::Ipv4Address& target) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(net::MacAddress::Broadcast(), from, net::ether_type::kArp));
  b.Append(net::MakeArp(net::arp::kRequest, from, sender, net::MacAddress(), target));
  return std::move(b).Take();
}

bool IsArp(net::ByteSpan frame, uint16_t operation) {
  const auto ethernet = net::ParseEthernet(frame);
  if (!ethernet || ethernet->ether_type != net::ether_type::kArp) return false;
  const auto arp = net::ParseArp(ethernet->payload);
  return arp && arp->operation.value() == operation;
}

std::vector<uint8_t> SuperFrame(size_t payload) {
  return TcpFrame({.flags = net::tcp_flag::kAck | net::tcp_flag::kPsh, .partial_checksum = true},
                  Pattern(payload));
}

TEST(PacketPortTest, ServesATapThatAnotherProcessHolds) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Hypervisor vm("dove-vm0", /*offloads=*/true);
    const auto as_tap = TapPort::Open("dove-vm0", /*create=*/false, kPort);
    ASSERT_FALSE(as_tap) << "a held TAP cannot be opened a second time";
    EXPECT_NE(as_tap.error().find("PORT_KIND_PACKET"), std::string::npos) << as_tap.error();

    Port port("dove-vm0");
    EXPECT_EQ(port.port->name(), "dove-vm0");
    EXPECT_EQ(port.port->ifindex(), static_cast<int>(::if_nametoindex("dove-vm0")));
    EXPECT_NE(::fcntl(port.port->fd(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_TRUE(port.port->caps().tso);
    EXPECT_TRUE(port.port->caps().csum_partial);
    EXPECT_EQ(port.port->caps().max_frame, 1500u + 18) << "the TAP's MTU plus a tagged header";

    // The VM's frame, as the switch gets it.
    const std::vector<uint8_t> request = ArpRequest(kVmMac, kVmIp, kPeerIp);
    vm.Write(request);
    packet::Packet* got = port.ReceiveUntil(
        [](const packet::Packet& p) { return IsArp(p.span(), net::arp::kRequest); });
    ASSERT_NE(got, nullptr) << "the VM's ARP request never reached the packet socket";
    EXPECT_EQ(Bytes(*got), request);
    EXPECT_FALSE(got->offload.is_gso());
    EXPECT_FALSE(got->large()) << "a small frame must not hold a large slot";
    port.pool.Free(got);

    // A partial checksum to the VM: the holder gets NEEDS_CSUM with the offsets.
    const std::vector<uint8_t> datagram = UdpFrame(Pattern(300), /*partial=*/true);
    ASSERT_TRUE(port.Send(datagram, UdpPartialOffload()));
    const auto partial = vm.ReadUntil([](const HeldFrame& f) { return f.frame.size() > 300; });
    ASSERT_TRUE(partial);
    EXPECT_EQ(partial->frame, datagram);
    EXPECT_EQ(partial->header.flags & packet::VirtioNetHeader::kNeedsCsum,
              packet::VirtioNetHeader::kNeedsCsum);
    EXPECT_EQ(partial->header.csum_start, kTcpAt);
    EXPECT_EQ(partial->header.csum_offset, 6);

    // A super-frame to the VM arrives whole, with its gso_size.
    const std::vector<uint8_t> super = SuperFrame(20000);
    ASSERT_TRUE(port.Send(super, SuperOffload(1000)));
    const auto whole = vm.ReadUntil([](const HeldFrame& f) { return f.frame.size() > 10000; });
    ASSERT_TRUE(whole) << "the super-frame never reached the holder";
    EXPECT_EQ(whole->frame, super);
    EXPECT_EQ(whole->header.gso_kind(), packet::VirtioNetHeader::kGsoTcpV4);
    EXPECT_EQ(whole->header.gso_size, 1000);
    EXPECT_EQ(port.counters.write_super_frames, 1u);

    // And one from the VM arrives as ONE packet.
    packet::VirtioNetHeader gso{.flags = packet::VirtioNetHeader::kNeedsCsum,
                                .gso_type = packet::VirtioNetHeader::kGsoTcpV4,
                                .hdr_len = static_cast<uint16_t>(kTcpAt + 20),
                                .gso_size = 1400,
                                .csum_start = static_cast<uint16_t>(kTcpAt),
                                .csum_offset = 16};
    vm.Write(super, gso);
    packet::Packet* from_vm =
        port.ReceiveUntil([](const packet::Packet& p) { return p.size() > 10000; });
    ASSERT_NE(from_vm, nullptr) << "the VM's super-frame never reached the packet socket";
    EXPECT_EQ(Bytes(*from_vm), super);
    EXPECT_EQ(from_vm->offload.gso, packet::GsoType::kTcp4);
    EXPECT_EQ(from_vm->offload.gso_size, 1400);
    EXPECT_TRUE(from_vm->offload.csum_partial);
    port.pool.Free(from_vm);
    EXPECT_EQ(port.counters.read_super_frames, 1u);

    // What the switch sent never comes back to it (PACKET_IGNORE_OUTGOING).
    EXPECT_FALSE(WaitReadable(port.port->fd(), 200ms));
    EXPECT_EQ(port.counters.read_errors + port.counters.gso_refused + port.counters.csum_refused,
              0u);
    EXPECT_EQ(port.pool.in_use(), 0u);
  });
}

TEST(PacketPortTest, AHolderWithoutOffloadsGetsTheKernelsSegments) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Hypervisor vm("dove-vm1", /*offloads=*/false);
    Port port("dove-vm1");
    const std::vector<uint8_t> payload = Pattern(5000);
    ASSERT_TRUE(
        port.Send(TcpFrame({.flags = net::tcp_flag::kAck, .partial_checksum = true}, payload),
                  SuperOffload(1000)));
    std::vector<uint8_t> received;
    size_t segments = 0;
    while (received.size() < payload.size()) {
      // IPv4 only: the host's IPv6 sends its own solicitations out of the TAP when it comes up.
      const auto held = vm.ReadUntil([](const HeldFrame& f) {
        const auto ethernet = net::ParseEthernet(f.frame);
        return ethernet && ethernet->ether_type == net::ether_type::kIpv4;
      });
      if (!held) break;
      EXPECT_EQ(held->header.gso_type, packet::VirtioNetHeader::kGsoNone);
      const auto segment = ValidTcp(held->frame);
      ASSERT_TRUE(segment) << "a segment with a wrong checksum";
      EXPECT_LE(segment->payload.size(), 1000u);
      received.insert(received.end(), segment->payload.begin(), segment->payload.end());
      ++segments;
    }
    EXPECT_EQ(received, payload);
    EXPECT_EQ(segments, 5u);
  });
}

// The kernel's TCP on the far end of a veth pair (the container's side) sends 20000 bytes to
// the "VM" behind the near end, whose SYN-ACK the port sends: they arrive as super-frames.
TEST(PacketPortTest, TheKernelsTcpThroughAVethArrivesAsSuperFrames) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    VethPair("dove-h0", "dove-c0");
    Shell("ip addr add 10.0.0.2/24 dev dove-c0");
    Shell("ip neigh replace 10.0.0.1 lladdr 52:54:00:00:00:01 dev dove-c0");
    Port port("dove-h0");
    const FileDescriptor tcp(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in vm{};
    vm.sin_family = AF_INET;
    vm.sin_port = htons(80);
    vm.sin_addr.s_addr = htonl(kVmIp.ToUint32());
    ::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&vm), sizeof(vm));
    // The TCP segment of a frame (its checksum may be partial: not verified).
    const auto tcp_of = [](const packet::Packet& p) -> std::optional<net::TcpSegment> {
      const auto ethernet = net::ParseEthernet(p.span());
      if (!ethernet || ethernet->ether_type != net::ether_type::kIpv4) return std::nullopt;
      const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
      if (!ip || ip->protocol() != net::ip_proto::kTcp) return std::nullopt;
      auto segment = net::ParseTcp(ip->payload);
      if (!segment) return std::nullopt;
      return *segment;
    };
    packet::Packet* syn =
        port.ReceiveUntil([&](const packet::Packet& p) { return tcp_of(p).has_value(); });
    ASSERT_NE(syn, nullptr) << "the SYN never reached the packet socket";
    const auto syn_tcp = tcp_of(*syn);
    const uint16_t host_port = syn_tcp->source_port();
    const uint32_t host_sequence = syn_tcp->header.sequence.value();
    const net::MacAddress host_mac = net::ParseEthernet(syn->span())->source;
    port.pool.Free(syn);
    ASSERT_TRUE(port.Send(TcpFrame({.source_mac = kVmMac,
                                    .destination_mac = host_mac,
                                    .source = kVmIp,
                                    .destination = kPeerIp,
                                    .source_port = 80,
                                    .destination_port = host_port,
                                    .sequence = 5000,
                                    .ack = host_sequence + 1,
                                    .flags = net::tcp_flag::kSyn | net::tcp_flag::kAck,
                                    .options = {net::tcp_option::kMss, 4, 1000 >> 8, 1000 & 0xff}},
                                   {})));
    pollfd writable{.fd = tcp.get(), .events = POLLOUT, .revents = 0};
    ASSERT_EQ(::poll(&writable, 1, 1000), 1) << "the kernel did not take the SYN-ACK";
    const std::vector<uint8_t> sent = Pattern(20000);
    ASSERT_GT(::send(tcp.get(), sent.data(), sent.size(), 0), 0);

    size_t super_frames = 0;
    size_t bytes = 0;
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (std::chrono::steady_clock::now() < deadline && WaitReadable(port.port->fd(), 200ms)) {
      packet::PacketBatch batch;
      port.port->Receive(port.pool, batch, port.counters);
      for (packet::Packet* p : batch) {
        if (p->offload.is_gso()) {
          ++super_frames;
          EXPECT_EQ(p->offload.gso, packet::GsoType::kTcp4);
          EXPECT_EQ(p->offload.gso_size, 1000);
          EXPECT_TRUE(p->offload.csum_partial);
          bytes += p->size();
        }
        port.pool.Free(p);
      }
    }
    EXPECT_GE(super_frames, 1u) << "the kernel sent no super-frame through the veth";
    EXPECT_GT(bytes, 2000u);
    EXPECT_EQ(port.counters.read_super_frames, super_frames);
    EXPECT_EQ(port.counters.gso_refused, 0u);
  });
}

// More frames than the ring holds, sent while nobody reads: each is either received or counted
// as dropped by the kernel, none lost silently.
TEST(PacketPortTest, AFullRingsDropsAreCounted) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
    VethPair("dove-h1", "dove-c1");
    Port port("dove-h1");
    const FileDescriptor sender(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(::if_nametoindex("dove-c1"));
    to.sll_halen = 6;
    constexpr size_t kSent = 200;
    const std::vector<uint8_t> frame = UdpFrame(Pattern(100));
    for (size_t i = 0; i < kSent; ++i) {
      ASSERT_EQ(::sendto(sender.get(), frame.data(), frame.size(), 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
                static_cast<ssize_t>(frame.size()));
    }
    size_t received = 0;
    while (WaitReadable(port.port->fd(), 200ms)) {
      packet::PacketBatch batch;
      received += port.port->Receive(port.pool, batch, port.counters);
      port.pool.Free(batch);
    }
    EXPECT_GT(received, 0u);
    EXPECT_GT(port.counters.ring_full, 0u) << "200 frames cannot fit a ring of 60";
    EXPECT_EQ(received + port.counters.ring_full, kSent);
  });
}

// Its owner deletes the interface (a VM stopped), then makes another of the same name: the
// port says so (Healthy), and the error the kernel reports on the socket is read once, not
// left to wake the datapath's loop again and again.
TEST(PacketPortTest, AnInterfaceDeletedOrReplacedMakesThePortUnhealthy) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    VethPair("dove-h3", "dove-c3");
    Port port("dove-h3");
    EXPECT_TRUE(port.port->Healthy());
    Shell("ip link del dove-h3");
    EXPECT_FALSE(port.port->Healthy()) << "deleted";
    ASSERT_TRUE(WaitReadable(port.port->fd(), 500ms)) << "the kernel reports the loss";
    // Frames the interface got before it went (IPv6's own announcements as the pair came up)
    // may still be in the ring, ahead of the error: taken first, then the error is read.
    packet::PacketBatch batch;
    for (int round = 0; round < 16 && port.counters.read_errors == 0; ++round) {
      port.port->Receive(port.pool, batch, port.counters);
      for (packet::Packet* frame : batch) port.pool.Free(frame);
      batch.clear();
    }
    EXPECT_EQ(port.counters.read_errors, 1u);
    EXPECT_FALSE(WaitReadable(port.port->fd(), 200ms)) << "the error was read: no more wakeups";
    VethPair("dove-h3", "dove-c3");
    EXPECT_FALSE(port.port->Healthy()) << "another interface of the same name";
    Port again("dove-h3");
    EXPECT_TRUE(again.port->Healthy());
  });
}

TEST(PacketPortTest, OpenRefusesBadNamesAndMissingInterfaces) {
  EXPECT_FALSE(PacketPort::Open("", kPort));
  const auto too_long = PacketPort::Open("a-name-of-16-byt", kPort);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("15"), std::string::npos) << too_long.error();
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto missing = PacketPort::Open("dove-none", kPort);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no interface dove-none");
  });
}

// An ARP request for a host address, sent from the far end of a veth pair: the host's stack
// answers it through the near end, unless the port guard is there.
TEST(LinuxPortFactoryTest, APacketPortKeepsTheHostsStackOffItsInterfaceUntilRemoved) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip addr add 10.9.9.1/32 dev lo");  // an address of the host's
    VethPair("dove-h2", "dove-c2");
    const int far = static_cast<int>(::if_nametoindex("dove-c2"));
    const FileDescriptor container(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ARP);
    at.sll_ifindex = far;
    ASSERT_EQ(::bind(container.get(), reinterpret_cast<const sockaddr*>(&at), sizeof(at)), 0);
    const net::Ipv4Address host = *net::Ipv4Address::Parse("10.9.9.1");
    // Whether the host answers an ARP request for its address sent from the container.
    const auto host_answers = [&] {
      const std::vector<uint8_t> request = ArpRequest(kVmMac, kVmIp, host);
      EXPECT_EQ(::send(container.get(), request.data(), request.size(), 0),
                static_cast<ssize_t>(request.size()));
      const auto deadline = std::chrono::steady_clock::now() + 300ms;
      while (std::chrono::steady_clock::now() < deadline) {
        if (!WaitReadable(container.get(), 50ms)) continue;
        std::array<uint8_t, 2048> buffer{};
        const ssize_t n = ::recv(container.get(), buffer.data(), buffer.size(), 0);
        if (n > 0 && IsArp({buffer.data(), static_cast<size_t>(n)}, net::arp::kReply)) return true;
      }
      return false;
    };
    ASSERT_TRUE(host_answers()) << "without the guard the host's stack must answer (control)";

    auto rtnl = netlink::Rtnl::Open();
    ASSERT_TRUE(rtnl);
    const int near = static_cast<int>(::if_nametoindex("dove-h2"));
    LinuxPortFactory factory;
    {
      auto device = factory.OpenPort("dove-h2", PortKind::kPacket, kPort);
      ASSERT_TRUE(device) << device.error();
      EXPECT_TRUE(*(*rtnl)->HasIngressGuard(near));
      EXPECT_FALSE(host_answers()) << "the host's stack answered on a guarded port";
      packet::PacketPool pool({.small_slots = 64, .large_slots = 4});
      packet::PacketBatch batch;
      IoCounters counters;
      ASSERT_TRUE(WaitReadable((*device)->fd(), 500ms));
      EXPECT_GE((*device)->Receive(pool, batch, counters), 1u) << "the switch gets the request";
      pool.Free(batch);
    }
    EXPECT_TRUE(*(*rtnl)->HasIngressGuard(near)) << "the guard outlives the switch's socket";
    EXPECT_FALSE(host_answers());

    ASSERT_TRUE(factory.RemovePort("dove-h2", PortKind::kPacket));
    EXPECT_FALSE(*(*rtnl)->HasIngressGuard(near));
    EXPECT_EQ(::if_nametoindex("dove-h2"), static_cast<unsigned>(near)) << "never deleted";
    EXPECT_TRUE(host_answers()) << "given back as it was";
    EXPECT_TRUE(factory.RemovePort("dove-h2", PortKind::kPacket)) << "twice: nothing to undo";
    Shell("ip link del dove-h2");
    EXPECT_TRUE(factory.RemovePort("dove-h2", PortKind::kPacket)) << "gone: nothing to undo";
    const auto missing = factory.OpenPort("dove-h2", PortKind::kPacket, kPort);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no interface dove-h2");
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
