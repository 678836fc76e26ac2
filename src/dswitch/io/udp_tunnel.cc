#include "dswitch/io/udp_tunnel.h"

#include <arpa/inet.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dswitch/io/fit_to_caps.h"
#include "dswitch/offload/tcp_coalescer.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::io {

namespace {

constexpr int kSocketBuffer = 4 << 20;
constexpr size_t kVxlanSize = sizeof(net::VxlanHeader);
constexpr size_t kMaxSourceSockets = 1024;
static_assert(UdpTunnel::kMaxDatagram <= packet::PacketPool::kLargeRoom);

// What plain packets must be before they leave: no partial checksum (a UDP socket sends bytes
// as they are). Super-frames never take this path.
constexpr DeviceCaps kPlainSendCaps = {.tso = true, .csum_partial = false, .max_frame = 0};
// What the fallback makes of a super-frame: its wire segments.
constexpr DeviceCaps kFallbackCaps = {.tso = false, .csum_partial = false, .max_frame = 0};

std::string Failed(const std::string& what) { return what + " failed: " + std::strerror(errno); }

// Asks for `size` bytes of buffer, beyond net.core.{r,w}mem_max when allowed (CAP_NET_ADMIN);
// a smaller buffer is not an error, only slower under bursts.
void GrowBuffer(int fd, int force_option, int option, int size) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &size, sizeof(size)) == 0) return;
  (void)::setsockopt(fd, SOL_SOCKET, option, &size, sizeof(size));
}

sockaddr_in SocketAddress(const net::Ipv4Address& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(ip.ToUint32());
  return address;
}

Expected<FileDescriptor, std::string> BoundSocket(const net::Ipv4Address& ip, uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return Unexpected(Failed("socket(AF_INET, SOCK_DGRAM)"));
  const sockaddr_in local = SocketAddress(ip, port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    return Unexpected(Failed("bind to " + ip.ToString() + ":" + std::to_string(port)));
  }
  return fd;
}

bool QueueFull(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS; }

// The segment size of a UDP GRO buffer (its UDP_GRO cmsg), 0 when it holds one datagram.
size_t GroSegmentSize(const msghdr& message) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
        c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof(size));
      return size > 0 ? static_cast<size_t>(size) : 0;
    }
  }
  return 0;
}

}  // namespace

UdpTunnel::UdpTunnel(const Options& options, FileDescriptor receive,
                     std::vector<FileDescriptor> senders, std::vector<uint16_t> source_ports)
    : options_(options),
      name_("udp-tunnel " + options.local_ip.ToString() + ":" + std::to_string(options.port)),
      receive_(std::move(receive)),
      senders_(std::move(senders)),
      source_ports_(std::move(source_ports)),
      gso_buffer_(kMaxDatagram) {
  for (size_t i = 0; i < packet::kMaxBurst; ++i) {
    msghdr& rx = rx_messages_[i].msg_hdr;
    rx.msg_name = &rx_senders_[i];
    rx.msg_iov = &rx_parts_[i];
    rx.msg_iovlen = 1;
    rx.msg_control = rx_control_[i].bytes.data();
    msghdr& tx = tx_messages_[i].msg_hdr;
    tx.msg_name = &tx_destinations_[i];
    tx.msg_namelen = sizeof(sockaddr_in);
    tx.msg_iov = &tx_parts_[i];
    tx.msg_iovlen = 1;
  }
}

Expected<std::unique_ptr<UdpTunnel>, std::string> UdpTunnel::Open(const Options& options) {
  const net::Ipv4Address& ip = options.local_ip;
  if (ip.IsUnspecified() || ip.IsMulticast() || ip.IsBroadcast()) {
    return Unexpected("the underlay address must be a unicast address, not " + ip.ToString());
  }
  if (options.source_sockets == 0 || options.source_sockets > kMaxSourceSockets) {
    return Unexpected("source_sockets must be 1 to " + std::to_string(kMaxSourceSockets) +
                      ", not " + std::to_string(options.source_sockets));
  }
  auto receive = BoundSocket(ip, options.port);
  if (!receive) return Unexpected(receive.error());
  GrowBuffer(receive->get(), SO_RCVBUFFORCE, SO_RCVBUF, kSocketBuffer);
  const int on = 1;
  if (::setsockopt(receive->get(), SOL_UDP, UDP_GRO, &on, sizeof(on)) != 0) {
    return Unexpected(Failed("setsockopt(UDP_GRO)"));
  }
  std::vector<FileDescriptor> senders;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < options.source_sockets; ++i) {
    auto sender = BoundSocket(ip, 0);
    if (!sender) return Unexpected(sender.error());
    GrowBuffer(sender->get(), SO_SNDBUFFORCE, SO_SNDBUF, kSocketBuffer);
    sockaddr_in bound{};
    socklen_t size = sizeof(bound);
    if (::getsockname(sender->get(), reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
      return Unexpected(Failed("getsockname"));
    }
    ports.push_back(ntohs(bound.sin_port));
    senders.push_back(std::move(*sender));
  }
  return std::unique_ptr<UdpTunnel>(
      new UdpTunnel(options, std::move(*receive), std::move(senders), std::move(ports)));
}

size_t UdpTunnel::Receive(packet::PacketPool& pool, packet::PacketBatch& out,
                          IoCounters& counters) {
  // Each buffer may split into up to kMaxGsoSegments small packets: receive no more buffers
  // than the pool can place. And about one burst of datagrams a call, by the last call's
  // datagrams per buffer: 64 GRO buffers of 45 datagrams would spread 3,000 packets over
  // 30 MB of slots, every one evicted from the cache before the pipeline reads it again.
  const size_t buffers = std::min(
      {packet::kMaxBurst, std::max<size_t>(1, packet::kMaxBurst / datagrams_per_buffer_),
       std::max<size_t>(1, std::min(pool.free_large(), pool.free_small() / kMaxGsoSegments))});
  size_t armed = 0;
  for (; armed < buffers; ++armed) {
    packet::Packet* slot = pool.AllocLarge();
    if (slot == nullptr) break;  // counted by the pool; the kernel keeps the datagrams
    rx_slots_[armed] = slot;
    const size_t room = options_.receive_buffer == 0
                            ? slot->room()
                            : std::min(slot->room(), options_.receive_buffer);
    rx_parts_[armed] = iovec{slot->data(), room};
    msghdr& message = rx_messages_[armed].msg_hdr;
    message.msg_namelen = sizeof(sockaddr_in);
    message.msg_controllen = rx_control_[armed].bytes.size();
    message.msg_flags = 0;
    rx_messages_[armed].msg_len = 0;
  }
  if (armed == 0) return 0;
  int received = -1;
  do {
    received = ::recvmmsg(receive_.get(), rx_messages_.data(), static_cast<unsigned>(armed),
                          MSG_DONTWAIT, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received < 0 && !QueueFull(errno)) counters.underlay_rx_errors++;

  size_t appended = 0;
  for (size_t i = 0; i < static_cast<size_t>(std::max(received, 0)); ++i) {
    const msghdr& message = rx_messages_[i].msg_hdr;
    const size_t length = rx_messages_[i].msg_len;
    if ((message.msg_flags & MSG_TRUNC) != 0) {
      counters.underlay_rx_truncated++;
      continue;
    }
    const auto sender = net::Ipv4Address::FromUint32(ntohl(rx_senders_[i].sin_addr.s_addr));
    packet::Packet* slot = rx_slots_[i];
    const size_t segment = GroSegmentSize(message);
    if (segment == 0 || segment >= length) {
      // One datagram: into a small slot when it fits one, so large slots stay for trains.
      slot->Resize(length);
      packet::Packet* packet = slot;
      if (length <= packet::PacketPool::kSmallRoom && pool.free_small() > 0) {
        packet = pool.Alloc(length);
        packet->Assign(slot->span());
      } else {
        rx_slots_[i] = nullptr;  // handed on
      }
      packet->meta.tunnel = sender;
      out.Push(packet);
      counters.underlay_rx++;
      ++appended;
      continue;
    }
    const size_t datagrams = (length + segment - 1) / segment;
    counters.gro_receives++;
    counters.gro_datagrams += datagrams;
    // Runs of TCP segments of one flow become super-frames right here, in the buffer (most
    // of a train is one run): no small slot, copy, parse or pipeline pass per datagram.
    slot->Resize(length);
    slot->meta.tunnel = sender;
    rx_slots_[i] = nullptr;  // handed to SplitGroTrain
    const size_t before = out.size();
    offload::CoalescerCounters merged;
    const size_t lost = offload::SplitGroTrain(slot, segment, kVxlanSize, pool, out, merged);
    appended += out.size() - before;
    counters.underlay_rx += datagrams - lost;
    counters.underlay_rx_no_slot += lost;
    counters.underlay_rx_merged += merged.merged_frames;
    counters.underlay_rx_merged_datagrams += merged.merged_segments;
    counters.underlay_rx_bad_checksum += merged.bad_checksum;
  }
  for (size_t i = 0; i < armed; ++i) pool.Free(rx_slots_[i]);
  if (received > 0) {
    const auto buffers_read = static_cast<size_t>(received);
    datagrams_per_buffer_ = std::max<size_t>(1, (appended + buffers_read - 1) / buffers_read);
  }
  return appended;
}

size_t UdpTunnel::Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) {
  size_t sent = 0;
  for (packet::Packet* packet : batch) {
    if (packet->size() < kVxlanSize || packet->meta.tunnel.IsUnspecified()) {
      counters.underlay_tx_malformed++;
      pool.Free(packet);
      continue;
    }
    if (packet->offload.is_gso()) {
      // What came before goes first: a flow's small segment queued in plain_ must not be
      // overtaken by its next super-frame (the receiver's TCP would see reordering).
      sent += SendPlain(plain_, 0, counters);
      pool.Free(plain_);
      sent += SendSuper(pool, packet, counters);
      continue;
    }
    FitToCaps(packet, kPlainSendCaps, kVxlanSize, pool, plain_, counters);
    if (plain_.size() == packet::kMaxBurst) {
      sent += SendPlain(plain_, 0, counters);
      pool.Free(plain_);
    }
  }
  batch.clear();
  sent += SendPlain(plain_, 0, counters);
  pool.Free(plain_);
  return sent;
}

size_t UdpTunnel::SendSuper(packet::PacketPool& pool, packet::Packet* packet,
                            IoCounters& counters) {
  if (gso_refused_) return SendSegmented(pool, packet, 0, counters);
  std::array<uint8_t, kVxlanSize> vxlan{};
  std::memcpy(vxlan.data(), packet->data(), kVxlanSize);
  packet->Strip(kVxlanSize);
  const size_t total = offload::TcpSegmentCount(*packet);
  if (total == 0) {
    counters.sw_offload_failed++;
    pool.Free(packet);
    return 0;
  }
  const int fd = senders_[SocketOf(*packet)].get();
  sockaddr_in destination = SocketAddress(packet->meta.tunnel, options_.port);
  size_t next = 0;
  while (next < total) {
    const auto layout = offload::LayoutUdpGso(*packet, vxlan, next, kMaxGsoSegments,
                                              net::MutableByteSpan(gso_buffer_));
    if (!layout) {
      counters.sw_offload_failed++;
      pool.Free(packet);
      return 0;
    }
    Control control{};
    msghdr message{};
    iovec part{gso_buffer_.data(), layout->bytes};
    message.msg_name = &destination;
    message.msg_namelen = sizeof(destination);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes.data();
    message.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const auto segment_size = static_cast<uint16_t>(layout->segment_size);
    std::memcpy(CMSG_DATA(c), &segment_size, sizeof(segment_size));
    ssize_t n = -1;
    do {
      n = ::sendmsg(fd, &message, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      counters.gso_sends++;
      counters.underlay_tx += layout->segments;
      next = layout->next_segment;
      continue;
    }
    const int error = errno;
    if (QueueFull(error)) {
      counters.underlay_tx_queue_full++;
    } else if (error == EIO || error == EINVAL || error == ENOPROTOOPT || error == EMSGSIZE) {
      // EMSGSIZE is this packet's (a segment above the path MTU); the others the kernel's or
      // the egress device's, for good.
      if (error != EMSGSIZE) gso_refused_ = true;
      packet->Prepend(kVxlanSize);  // the VXLAN header is still in front: undoes the Strip
      return SendSegmented(pool, packet, next, counters);
    } else {
      counters.underlay_tx_errors++;
    }
    pool.Free(packet);
    return 0;
  }
  pool.Free(packet);
  return 1;
}

size_t UdpTunnel::SendSegmented(packet::PacketPool& pool, packet::Packet* packet, size_t first,
                                IoCounters& counters) {
  const size_t segments = FitToCaps(packet, kFallbackCaps, kVxlanSize, pool, segments_, counters);
  if (segments == 0) return 0;  // counted, freed
  counters.gso_fallback++;
  const size_t start = std::min(first, segments_.size());
  const size_t sent = SendPlain(segments_, start, counters);
  pool.Free(segments_);
  return sent == segments - start ? 1 : 0;
}

size_t UdpTunnel::SendPlain(const packet::PacketBatch& batch, size_t first, IoCounters& counters) {
  if (first >= batch.size()) return 0;
  size_t sent = 0;
  // One pass per socket that has packets (mostly one or two: a batch is a few flows).
  for (size_t socket = 0; socket < senders_.size(); ++socket) {
    size_t count = 0;
    for (size_t i = first; i < batch.size(); ++i) {
      packet::Packet* packet = batch[i];
      if (SocketOf(*packet) != socket) continue;
      tx_destinations_[count] = SocketAddress(packet->meta.tunnel, options_.port);
      tx_parts_[count] = iovec{packet->data(), packet->size()};
      if (++count == packet::kMaxBurst) {
        sent += SendMessages(senders_[socket].get(), count, counters);
        count = 0;
      }
    }
    if (count > 0) sent += SendMessages(senders_[socket].get(), count, counters);
  }
  return sent;
}

size_t UdpTunnel::SendMessages(int fd, size_t count, IoCounters& counters) {
  size_t done = 0;
  size_t sent = 0;
  while (done < count) {
    const int n = ::sendmmsg(fd, tx_messages_.data() + done, static_cast<unsigned>(count - done),
                             MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && QueueFull(errno)) {
      // The socket's buffer is full: nothing more goes on it now, and waiting is not allowed.
      counters.underlay_tx_queue_full += count - done;
      break;
    }
    counters.underlay_tx_errors++;  // this message; the next ones may go
    ++done;
  }
  counters.underlay_tx += sent;
  return sent;
}

}  // namespace dove::dswitch::io
