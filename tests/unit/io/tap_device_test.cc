// TapDevice against the kernel, each test in a network namespace of its own (root only): a
// frame written into the TAP is answered by the kernel's stack and the answer read back; the
// kernel's partial checksums arrive completed; persistence lets a closed TAP be found again
// and Remove deletes it; and the errors of Open.
#include "dswitch/io/tap_device.h"

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
#include <optional>
#include <string>
#include <vector>

#include "dswitch/io/file_descriptor.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "network_namespace.h"

namespace dove::dswitch::io::testing {
namespace {

using std::chrono_literals::operator""ms;

constexpr pipeline::PortId kPort = 7;
const net::MacAddress kVmMac = *net::MacAddress::Parse("02:00:00:00:00:02");
const net::Ipv4Address kHostIp = *net::Ipv4Address::Parse("10.9.0.1");
const net::Ipv4Address kVmIp = *net::Ipv4Address::Parse("10.9.0.2");

net::MacAddress DeviceMac(const std::string& name) {
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  struct ifreq request {};
  std::memcpy(request.ifr_name, name.data(), name.size());
  EXPECT_EQ(::ioctl(socket.get(), SIOCGIFHWADDR, &request), 0);
  std::array<uint8_t, 6> bytes{};
  std::memcpy(bytes.data(), request.ifr_hwaddr.sa_data, bytes.size());
  return net::MacAddress(bytes);
}

// Reads from `tap` for up to a second until a frame satisfies `wanted`.
std::optional<pipeline::Frame> ReadUntil(
    TapDevice& tap, IoCounters& counters,
    const std::function<bool(const pipeline::Frame&)>& wanted) {
  const auto deadline = std::chrono::steady_clock::now() + 1000ms;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!WaitReadable(tap.fd(), 100ms)) continue;
    pipeline::Batch batch;
    tap.ReadBatch(batch, kPort, counters);
    for (pipeline::Frame& frame : batch) {
      EXPECT_EQ(frame.port, kPort);
      if (wanted(frame)) return std::move(frame);
    }
  }
  return std::nullopt;
}

// Waits up to a second for a connecting socket to be connected.
bool WaitWritable(int fd) {
  pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
  return ::poll(&p, 1, 1000) == 1 && (p.revents & POLLOUT) != 0;
}

// The IPv4 packet inside `frame`, if it is one.
std::optional<net::Ipv4Packet> Ipv4Of(const pipeline::Frame& frame) {
  const auto ethernet = net::ParseEthernet(frame.span());
  if (!ethernet || ethernet->ether_type != net::ether_type::kIpv4) return std::nullopt;
  const auto ip = net::ParseIpv4(ethernet->payload);
  if (!ip) return std::nullopt;
  return *ip;
}

// A TAP "dove-tap0" holding 10.9.0.1/24, with the VM 10.9.0.2 (kVmMac) behind it.
TapDevice OpenHostTap() {
  auto tap = TapDevice::Open("dove-tap0", /*create=*/true);
  EXPECT_TRUE(tap) << tap.error();
  if (!tap) std::_Exit(1);
  Shell("ip addr add 10.9.0.1/24 dev dove-tap0");
  Shell("ip neigh replace 10.9.0.2 lladdr 02:00:00:00:00:02 dev dove-tap0");
  return std::move(*tap);
}

TEST(TapDeviceTest, TheKernelAnswersAnArpRequestWrittenIntoTheTap) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    TapDevice tap = OpenHostTap();
    EXPECT_EQ(tap.name(), "dove-tap0");
    EXPECT_EQ(tap.ifindex(), static_cast<int>(::if_nametoindex("dove-tap0")));
    EXPECT_NE(::fcntl(tap.fd(), F_GETFL) & O_NONBLOCK, 0);
    IoCounters counters;

    net::FrameBuilder b;
    b.Append(net::MakeEthernetHeader(net::MacAddress::Broadcast(), kVmMac, net::ether_type::kArp));
    b.Append(net::MakeArp(net::arp::kRequest, kVmMac, kVmIp, net::MacAddress(), kHostIp));
    pipeline::Batch out;
    out.Push(pipeline::Frame{.bytes = std::move(b).Take(), .port = kPort, .vni = 1, .tunnel = {}});
    out.Push(pipeline::Frame{.bytes = {1, 2, 3}, .port = kPort + 1, .vni = 1, .tunnel = {}});
    EXPECT_EQ(tap.WriteBatch(out, kPort, counters), 1u);  // the other port's frame is skipped
    EXPECT_EQ(counters.write_frames, 1u);

    const auto reply = ReadUntil(tap, counters, [](const pipeline::Frame& frame) {
      const auto ethernet = net::ParseEthernet(frame.span());
      return ethernet && ethernet->ether_type == net::ether_type::kArp;
    });
    ASSERT_TRUE(reply) << "no ARP reply from the kernel";
    const auto ethernet = net::ParseEthernet(reply->span());
    ASSERT_TRUE(ethernet);
    EXPECT_EQ(ethernet->destination, kVmMac);
    const auto arp = net::ParseArp(ethernet->payload);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->operation.value(), net::arp::kReply);
    EXPECT_EQ(arp->sender_ip, kHostIp);
    EXPECT_EQ(arp->sender_mac, DeviceMac("dove-tap0"));
    EXPECT_EQ(arp->target_ip, kVmIp);
    EXPECT_GE(counters.read_frames, 1u);
    EXPECT_EQ(counters.read_errors, 0u);
  });
}

// The kernel, told the TAP offloads checksums, leaves them partial (NEEDS_CSUM): this checks
// the convention ApplyVirtioHeader assumes against the real thing.
TEST(TapDeviceTest, PartialChecksumsFromTheKernelArriveComplete) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    TapDevice tap = OpenHostTap();
    IoCounters counters;

    const FileDescriptor udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in vm{};
    vm.sin_family = AF_INET;
    vm.sin_port = htons(9999);
    vm.sin_addr.s_addr = htonl(kVmIp.ToUint32());
    const char message[] = "an odd-length payload";
    ASSERT_EQ(::sendto(udp.get(), message, sizeof(message), 0,
                       reinterpret_cast<const sockaddr*>(&vm), sizeof(vm)),
              static_cast<ssize_t>(sizeof(message)));
    const auto datagram = ReadUntil(tap, counters, [](const pipeline::Frame& frame) {
      const auto ip = Ipv4Of(frame);
      return ip && ip->protocol() == net::ip_proto::kUdp;
    });
    ASSERT_TRUE(datagram) << "the UDP datagram never came out of the TAP";
    const auto ip = Ipv4Of(*datagram);
    ASSERT_TRUE(ip);
    const auto parsed = net::ParseUdp(ip->payload, kHostIp, kVmIp);
    ASSERT_TRUE(parsed) << net::ErrorName(parsed.error());
    EXPECT_NE(parsed->header.checksum.value(), 0u);
    EXPECT_EQ(counters.csum_completed, 1u) << "the kernel did not leave the checksum partial";

    // A TCP SYN: the TCP checksum is always left partial when the device offloads it.
    const FileDescriptor tcp(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    vm.sin_port = htons(80);
    ::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&vm), sizeof(vm));
    const auto syn = ReadUntil(tap, counters, [](const pipeline::Frame& frame) {
      const auto packet = Ipv4Of(frame);
      return packet && packet->protocol() == net::ip_proto::kTcp;
    });
    ASSERT_TRUE(syn) << "the SYN never came out of the TAP";
    const auto syn_ip = Ipv4Of(*syn);
    ASSERT_TRUE(syn_ip);
    const auto segment = net::ParseTcp(syn_ip->payload, kHostIp, kVmIp);
    ASSERT_TRUE(segment) << net::ErrorName(segment.error());
    EXPECT_TRUE(segment->HasFlags(net::tcp_flag::kSyn));
    EXPECT_EQ(counters.csum_completed, 2u);
  });
}

// The kernel, told the TAP does TSO, hands over a whole flight of TCP data as one super-frame:
// this plays the peer of a real connection (a hand-made SYN-ACK advertising MSS 1000) and checks
// that what ReadBatch returns is valid MSS-sized segments carrying exactly the bytes sent.
TEST(TapDeviceTest, TcpSuperFramesFromTheKernelArriveAsValidSegments) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    TapDevice tap = OpenHostTap();
    IoCounters counters;
    const FileDescriptor tcp(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in vm{};
    vm.sin_family = AF_INET;
    vm.sin_port = htons(80);
    vm.sin_addr.s_addr = htonl(kVmIp.ToUint32());
    ::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&vm), sizeof(vm));
    const auto syn = ReadUntil(tap, counters, [](const pipeline::Frame& frame) {
      const auto ip = Ipv4Of(frame);
      return ip && ip->protocol() == net::ip_proto::kTcp;
    });
    ASSERT_TRUE(syn) << "the SYN never came out of the TAP";
    const auto syn_ip = Ipv4Of(*syn);
    ASSERT_TRUE(syn_ip);
    const auto syn_tcp = net::ParseTcp(syn_ip->payload);
    ASSERT_TRUE(syn_tcp);
    const uint16_t host_port = syn_tcp->source_port();
    const uint32_t host_sequence = syn_tcp->header.sequence.value();

    // The SYN-ACK: MSS 1000, no other option, a window wide enough for the first flight.
    constexpr uint32_t kVmSequence = 5000;
    net::FrameBuilder b;
    b.Append(net::MakeEthernetHeader(DeviceMac("dove-tap0"), kVmMac, net::ether_type::kIpv4));
    const size_t ip_at =
        b.Append(*net::MakeIpv4Header(kVmIp, kHostIp, net::ip_proto::kTcp, 64, 24));
    const size_t tcp_at =
        b.Append(*net::MakeTcpHeader(80, host_port, kVmSequence, host_sequence + 1,
                                     net::tcp_flag::kSyn | net::tcp_flag::kAck, 65535, 4));
    b.Append(net::ByteSpan(std::vector<uint8_t>{net::tcp_option::kMss, 4, 1000 >> 8, 1000 & 0xff}));
    ASSERT_TRUE(net::FinishTcp(b.From(tcp_at), kVmIp, kHostIp));
    ASSERT_TRUE(net::FinishIpv4(b.From(ip_at)));
    ASSERT_TRUE(tap.Write(b.bytes(), counters));
    ASSERT_TRUE(WaitWritable(tcp.get()));

    std::vector<uint8_t> sent(20000);
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<uint8_t>(i * 13 + i / 256);
    ASSERT_GT(::send(tcp.get(), sent.data(), sent.size(), 0), 0);

    // Collect the first flight's data until it stops coming.
    std::vector<uint8_t> received;
    const auto deadline = std::chrono::steady_clock::now() + 1000ms;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!WaitReadable(tap.fd(), 100ms)) break;
      pipeline::Batch batch;
      tap.ReadBatch(batch, kPort, counters);
      for (const pipeline::Frame& frame : batch) {
        const auto ip = Ipv4Of(frame);
        if (!ip || ip->protocol() != net::ip_proto::kTcp) continue;
        const auto segment = net::ParseTcp(ip->payload, kHostIp, kVmIp);
        ASSERT_TRUE(segment) << net::ErrorName(segment.error());
        if (segment->payload.empty()) continue;
        EXPECT_LE(segment->payload.size(), 1000u);
        const uint32_t offset = segment->header.sequence.value() - (host_sequence + 1);
        ASSERT_LE(offset + segment->payload.size(), sent.size());
        // Bytes sent, in order; a retransmission (no ACK ever comes) must repeat them exactly.
        EXPECT_TRUE(
            std::equal(segment->payload.begin(), segment->payload.end(), sent.begin() + offset))
            << "at offset " << offset;
        if (offset < received.size()) continue;
        EXPECT_EQ(offset, received.size()) << "a gap in the data";
        received.insert(received.end(), segment->payload.begin(), segment->payload.end());
      }
    }
    ASSERT_GE(received.size(), 2000u) << "the kernel sent less than two segments";
    EXPECT_EQ(received, std::vector<uint8_t>(sent.begin(), sent.begin() + received.size()));
    EXPECT_GE(counters.gso_frames, 1u) << "the kernel sent no super-frame";
    EXPECT_GE(counters.gso_segments, 2 * counters.gso_frames);
    EXPECT_EQ(counters.gso_refused, 0u);
  });
}

TEST(TapDeviceTest, APersistentTapOutlivesItsDescriptorUntilRemoved) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    {
      auto tap = TapDevice::Open("dove-tap1", /*create=*/true);
      ASSERT_TRUE(tap) << tap.error();
      ASSERT_TRUE(tap->SetPersistent(true));
    }
    EXPECT_NE(::if_nametoindex("dove-tap1"), 0u) << "closed, yet persistent: it must remain";
    auto again = TapDevice::Open("dove-tap1", /*create=*/false);
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(again->ifindex(), static_cast<int>(::if_nametoindex("dove-tap1")));
    ASSERT_TRUE(again->Remove());
    EXPECT_EQ(::if_nametoindex("dove-tap1"), 0u);

    {
      auto transient = TapDevice::Open("dove-tap2", /*create=*/true);
      ASSERT_TRUE(transient) << transient.error();
      EXPECT_NE(::if_nametoindex("dove-tap2"), 0u);
    }
    EXPECT_EQ(::if_nametoindex("dove-tap2"), 0u) << "not persistent: gone with its descriptor";
  });
}

TEST(TapDeviceTest, AttachesToATapMadeByIpTuntap) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip tuntap add dev dove-tap3 mode tap vnet_hdr");
    auto tap = TapDevice::Open("dove-tap3", /*create=*/false);
    ASSERT_TRUE(tap) << tap.error();
    Shell("ip link show dove-tap3 | grep -q 'state UP\\|,UP'");
  });
}

TEST(TapDeviceTest, OpenRefusesBadNamesAndMissingDevices) {
  EXPECT_FALSE(TapDevice::Open("", true));
  const auto too_long = TapDevice::Open("a-name-of-16-byt", true);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("15"), std::string::npos) << too_long.error();
  EXPECT_TRUE(TapDevice::Open("fifteen-bytes-x", false).error().find("no TAP device") !=
                  std::string::npos ||
              ::if_nametoindex("fifteen-bytes-x") != 0);
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto missing = TapDevice::Open("dove-none", /*create=*/false);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no TAP device dove-none");
    const auto not_a_tap = TapDevice::Open("lo", /*create=*/false);
    ASSERT_FALSE(not_a_tap);
    EXPECT_NE(not_a_tap.error().find("TUNSETIFF"), std::string::npos) << not_a_tap.error();
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
