// UnderlaySocket: this switch's VXLAN tunnel endpoint (VTEP) on the underlay network.
//
// Receiving uses a UDP socket bound to local_ip:4789: the kernel demultiplexes, reassembles
// fragments, and can later coalesce with UDP GRO. The pipeline, though, validates one frame
// shape for every backend, the full outer frame FromTunnel parses (Ethernet | IPv4 | UDP |
// VXLAN | inner). So each datagram is received 42 bytes into its buffer and a synthetic outer
// header is written in front: Ethernet (zero MACs, EtherType IPv4), IPv4 (the sender as
// source, local_ip as destination, protocol UDP, TTL 64, its total length and a valid header
// checksum), UDP (the sender's port as source, 4789 as destination whatever port the socket
// is bound to, its length, checksum 0). Frame::tunnel is the sender.
//
// Sending uses a raw IPv4 socket (IPPROTO_RAW, so IP_HDRINCL): the frames VxlanEncap builds
// are sent from their IPv4 header on (the outer Ethernet header is skipped: the kernel routes
// and resolves the next hop). A UDP socket would force the source port to its own, and the
// source port is the flow entropy VxlanEncap chose (VxlanSourcePort of the inner flow hash)
// for the underlay's ECMP. With IP_HDRINCL the kernel always recomputes the header checksum
// and total length and fills the id when it is zero (raw(7)), so VxlanEncap's header is sent
// as built otherwise. The raw socket receives nothing (IPPROTO_RAW sockets are send-only).
//
// Datagrams up to 9216 bytes (a jumbo underlay) are received; larger ones are counted as
// truncated and dropped. Both sockets have 4 MiB buffers (SO_*BUFFORCE when permitted).
//
// Threading: one thread drives a socket; nothing blocks (the caller polls fd()). Move-only.
//
//   auto underlay = UnderlaySocket::Open(local_ip);
//   if (!underlay) return Fail(underlay.error());
//   underlay->ReceiveBatch(from_tunnel, counters);   // when fd() is readable
//   underlay->SendBatch(to_tunnels, counters);       // VxlanEncap's output
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/pipeline/frame.h"
#include "net/ipv4_address.h"
#include "net/vxlan.h"

namespace dove::dswitch::io {

class UnderlaySocket {
 public:
  // Bytes of synthetic outer header in front of each received datagram: Ethernet 14, IPv4 20,
  // UDP 8.
  static constexpr size_t kHeadroom = 42;
  // The largest datagram received whole.
  static constexpr size_t kMaxDatagram = 9216;

  // Opens both sockets; the UDP one is bound to `local_ip`:`port`. Needs CAP_NET_RAW. Errors:
  // a `local_ip` that is not unicast (0.0.0.0 included: the synthetic headers need the real
  // destination); any failing system call (the message names it), e.g. bind when `local_ip` is not
  // an address of this host or the port is taken.
  static Expected<UnderlaySocket, std::string> Open(net::Ipv4Address local_ip,
                                                    uint16_t port = net::kVxlanPort);

  UnderlaySocket(UnderlaySocket&&) = default;
  UnderlaySocket& operator=(UnderlaySocket&&) = default;
  ~UnderlaySocket() = default;

  // Receives up to kBatchSize datagrams with one recvmmsg, without waiting, and appends each as
  // a full outer frame (see above) to `out`. Truncated datagrams and failed calls are counted.
  // Returns the number of frames appended.
  size_t ReceiveBatch(pipeline::Batch& out, IoCounters& counters);

  // Sends every frame of `frames` (complete outer frames from VxlanEncap) to Frame::tunnel with
  // sendmmsg, kBatchSize at a time, without waiting. A frame shorter than Ethernet + IPv4, a
  // failed send and a full socket buffer (the rest of the batch then) are counted as dropped.
  // Returns the number of frames sent.
  size_t SendBatch(const pipeline::Batch& frames, IoCounters& counters);

  // The receiving (UDP) socket: poll it for readability.
  int fd() const { return udp_.get(); }
  const net::Ipv4Address& local_ip() const { return local_ip_; }
  uint16_t port() const { return port_; }

 private:
  UnderlaySocket(FileDescriptor udp, FileDescriptor raw, net::Ipv4Address local_ip, uint16_t port);

  FileDescriptor udp_;
  FileDescriptor raw_;
  net::Ipv4Address local_ip_;
  uint16_t port_;
  // kBatchSize receive buffers of kHeadroom + kMaxDatagram bytes each, and the recvmmsg
  // descriptors pointing into them (set up once; the object's address does not matter).
  std::vector<uint8_t> buffers_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> parts_;
  std::vector<sockaddr_in> senders_;
};

}  // namespace dove::dswitch::io
