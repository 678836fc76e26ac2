// UdpTunnel: this switch's VXLAN tunnel endpoint (VTEP) on the underlay, as a Device. Its
// packets' data starts at the VXLAN header; the kernel builds, checksums and strips the outer
// IPv4 and UDP headers (no raw socket, no CAP_NET_RAW).
//
// Receiving: one UDP socket bound to local_ip:port with UDP_GRO on, read with recvmmsg into
// large pool slots. The kernel may hand over a train of datagrams of one sender as ONE buffer
// (UDP GRO) with a cmsg giving their size; Receive merges the runs of TCP segments of one flow
// in it into super-frames in place, as TcpCoalescer would later (offload::SplitGroTrain: the
// VXLAN header stays in front, OffloadInfo describes the frame behind it), and splits the rest
// back into one packet per datagram (each copied into a small slot); meta.tunnel = the sender.
// Without that, a 64 KiB train cost ~45 slots, copies, parses and pipeline passes, then a
// merge copy. A buffer the kernel truncated is
// dropped and counted. One call asks for about kMaxBurst datagrams' worth of buffers (by the
// datagrams per buffer the last call saw), so what it hands on is still in the cache when the
// pipeline reads it.
//
// Sending: to meta.tunnel:port, the SAME port it receives on (--vxlan-port changes both). The
// packet's OffloadInfo describes the inner frame (offsets from the inner Ethernet header, 8
// bytes after data()).
//   - Plain packets (a partial inner checksum finished first, offload::FinishChecksum) are
//     grouped per socket and sent with sendmmsg; those queued before a super-frame go before
//     it, so a flow keeps its order.
//   - A TCP super-frame is cut by offload::LayoutUdpGso into equal segments, each
//     [VXLAN | inner Ethernet | IP | TCP | MSS of payload], laid out back to back in a scratch
//     buffer the tunnel owns, and sent with ONE sendmsg carrying UDP_SEGMENT = segment size
//     (two when the whole exceeds one datagram's 65507 bytes or kMaxGsoSegments): the kernel,
//     or the NIC, cuts the datagrams. When the kernel refuses UDP GSO (EIO: the egress device
//     cannot checksum; EINVAL, ENOPROTOOPT: a kernel without it) the tunnel falls back to
//     offload::SegmentTcp + sendmmsg, counted as gso_fallback, and remembers: later
//     super-frames go straight to the fallback. EMSGSIZE (a segment larger than the path MTU)
//     falls back for that packet only; the kernel then fragments the datagrams.
//   A full socket buffer (EAGAIN, ENOBUFS) drops the packet, counted as underlay_tx_queue_full.
//
// The outer source port, and the trade it makes. ECMP in the underlay hashes the outer UDP
// source port, so each inner flow should keep one port (no reordering) and different flows
// should spread. A raw socket can write any port per packet but cannot use UDP GSO; one UDP
// socket can use GSO but has one port. So the tunnel sends from K unconnected UDP sockets
// bound to local_ip:0 (the kernel picks K distinct ports), a packet going out on socket
// meta.flow_hash % K: a flow's port is stable, and flows spread over K values of entropy
// instead of the 16,384 a per-packet port would give. K = 16 is ample for the handful of
// equal-cost paths a fabric has; it is Options::source_sockets.
//
// Threading: one thread; nothing blocks (the caller polls fd()). Not copyable or movable.
//
//   auto tunnel = UdpTunnel::Open({.local_ip = vtep});
//   if (!tunnel) return Fail(tunnel.error());
//   (*tunnel)->Receive(pool, from_underlay, counters);  // when fd() is readable
//   (*tunnel)->Send(pool, to_underlay, counters);       // VxlanEncap's output
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/device.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/packet_batch.h"
#include "net/ipv4_address.h"
#include "net/vxlan.h"

namespace dove::dswitch::io {

class UdpTunnel final : public Device {
 public:
  // The largest UDP payload of one IPv4 datagram (65535 - 20 - 8): also the most one UDP GSO
  // send may carry in all.
  static constexpr size_t kMaxDatagram = 65507;
  // Segments per UDP GSO send: Linux allows 64 (UDP_MAX_SEGMENTS; 128 since 6.x), and a
  // UDP GRO buffer holds at most 64 datagrams.
  static constexpr size_t kMaxGsoSegments = 64;

  struct Options {
    net::Ipv4Address local_ip;        // this VTEP's address: receive and source address
    uint16_t port = net::kVxlanPort;  // received on, and sent to
    size_t source_sockets = 16;       // K: outer source ports (see above)
    // Bytes per receive buffer; 0: a whole large pool slot, what UDP GRO needs. Smaller only
    // to test truncation.
    size_t receive_buffer = 0;
  };

  // Opens the receiving socket bound to local_ip:port and the K sending sockets. Errors: a
  // local_ip that is not unicast; source_sockets 0 or above 1024; any failing system call (the
  // message names it), e.g. bind when local_ip is not an address of this host or the port is
  // taken.
  static Expected<std::unique_ptr<UdpTunnel>, std::string> Open(const Options& options);

  UdpTunnel(const UdpTunnel&) = delete;
  UdpTunnel& operator=(const UdpTunnel&) = delete;
  ~UdpTunnel() override = default;

  size_t Receive(packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) override;
  size_t Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) override;
  // The receiving socket.
  int fd() const override { return receive_.get(); }
  // max_frame: the largest VXLAN payload (inner frame) of one datagram.
  DeviceCaps caps() const override {
    return {
        .tso = true, .csum_partial = true, .max_frame = kMaxDatagram - sizeof(net::VxlanHeader)};
  }
  const std::string& name() const override { return name_; }

  const Options& options() const { return options_; }
  // The outer source port of socket i (i = flow_hash % K).
  const std::vector<uint16_t>& source_ports() const { return source_ports_; }
  // Whether the kernel refused UDP GSO and super-frames now go straight to the fallback.
  bool gso_refused() const { return gso_refused_; }

 private:
  struct alignas(cmsghdr) Control {
    std::array<uint8_t, CMSG_SPACE(sizeof(int)) + 16> bytes;
  };

  UdpTunnel(const Options& options, FileDescriptor receive, std::vector<FileDescriptor> senders,
            std::vector<uint16_t> source_ports);

  // One super-frame (data at its VXLAN header); frees it. 1 when every segment went.
  size_t SendSuper(packet::PacketPool& pool, packet::Packet* packet, IoCounters& counters);
  // The fallback: `packet` cut by SegmentTcp, segments from `first` on sent; frees it.
  size_t SendSegmented(packet::PacketPool& pool, packet::Packet* packet, size_t first,
                       IoCounters& counters);
  // Sends packets [first, end) of `batch` (plain datagrams), each on its flow's socket, with
  // sendmmsg; counts what did not go. Returns how many went. Does not free them.
  size_t SendPlain(const packet::PacketBatch& batch, size_t first, IoCounters& counters);
  // sendmmsg of tx_messages_[0, count) on `fd`.
  size_t SendMessages(int fd, size_t count, IoCounters& counters);
  size_t SocketOf(const packet::Packet& packet) const {
    return packet.meta.flow_hash % senders_.size();
  }

  Options options_;
  std::string name_;
  FileDescriptor receive_;
  std::vector<FileDescriptor> senders_;
  std::vector<uint16_t> source_ports_;
  bool gso_refused_ = false;
  // Datagrams per receive buffer in the last Receive that got any (1: no GRO): how many
  // buffers the next one asks for.
  size_t datagrams_per_buffer_ = 1;

  // Set up once; Receive and Send only fill them in.
  std::array<mmsghdr, packet::kMaxBurst> rx_messages_{};
  std::array<iovec, packet::kMaxBurst> rx_parts_{};
  std::array<sockaddr_in, packet::kMaxBurst> rx_senders_{};
  std::array<Control, packet::kMaxBurst> rx_control_{};
  std::array<packet::Packet*, packet::kMaxBurst> rx_slots_{};
  std::array<mmsghdr, packet::kMaxBurst> tx_messages_{};
  std::array<iovec, packet::kMaxBurst> tx_parts_{};
  std::array<sockaddr_in, packet::kMaxBurst> tx_destinations_{};
  std::vector<uint8_t> gso_buffer_;  // kMaxDatagram bytes: one UDP GSO send's layout
  packet::PacketBatch plain_;        // plain packets ready to go
  packet::PacketBatch segments_;     // the fallback's segments of one super-frame
};

}  // namespace dove::dswitch::io
