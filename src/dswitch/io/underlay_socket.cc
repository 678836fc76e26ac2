#include "dswitch/io/underlay_socket.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/udp.h"

namespace dove::dswitch::io {

namespace {

constexpr int kSocketBuffer = 4 << 20;
constexpr size_t kSlot = UnderlaySocket::kHeadroom + UnderlaySocket::kMaxDatagram;
constexpr size_t kIpAt = sizeof(net::EthernetHeader);
constexpr size_t kUdpAt = kIpAt + sizeof(net::Ipv4Header);
static_assert(kUdpAt + sizeof(net::UdpHeader) == UnderlaySocket::kHeadroom);
static_assert(UnderlaySocket::kMaxDatagram + sizeof(net::Ipv4Header) + sizeof(net::UdpHeader) <=
              65535);

std::string Failed(const char* what) {
  return std::string(what) + " failed: " + std::strerror(errno);
}

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

}  // namespace

UnderlaySocket::UnderlaySocket(FileDescriptor udp, FileDescriptor raw, net::Ipv4Address local_ip,
                               uint16_t port)
    : udp_(std::move(udp)),
      raw_(std::move(raw)),
      local_ip_(local_ip),
      port_(port),
      buffers_(pipeline::kBatchSize * kSlot),
      messages_(pipeline::kBatchSize),
      parts_(pipeline::kBatchSize),
      senders_(pipeline::kBatchSize) {
  for (size_t i = 0; i < pipeline::kBatchSize; ++i) {
    parts_[i] = iovec{buffers_.data() + i * kSlot + kHeadroom, kMaxDatagram};
    messages_[i] = mmsghdr{};
    messages_[i].msg_hdr.msg_name = &senders_[i];
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    messages_[i].msg_hdr.msg_iov = &parts_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
}

Expected<UnderlaySocket, std::string> UnderlaySocket::Open(net::Ipv4Address local_ip,
                                                           uint16_t port) {
  if (local_ip.IsUnspecified() || local_ip.IsMulticast() || local_ip.IsBroadcast()) {
    return Unexpected("the underlay address must be a unicast address, not " + local_ip.ToString());
  }
  FileDescriptor udp(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!udp.valid()) return Unexpected(Failed("socket(AF_INET, SOCK_DGRAM)"));
  GrowBuffer(udp.get(), SO_RCVBUFFORCE, SO_RCVBUF, kSocketBuffer);
  const sockaddr_in local = SocketAddress(local_ip, port);
  if (::bind(udp.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    return Unexpected("bind to " + local_ip.ToString() + ":" + std::to_string(port) +
                      " failed: " + std::strerror(errno));
  }
  FileDescriptor raw(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!raw.valid()) return Unexpected(Failed("socket(AF_INET, SOCK_RAW, IPPROTO_RAW)"));
  GrowBuffer(raw.get(), SO_SNDBUFFORCE, SO_SNDBUF, kSocketBuffer);
  return UnderlaySocket(std::move(udp), std::move(raw), local_ip, port);
}

size_t UnderlaySocket::ReceiveBatch(pipeline::Batch& out, IoCounters& counters) {
  for (size_t i = 0; i < pipeline::kBatchSize; ++i) {
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    messages_[i].msg_hdr.msg_flags = 0;
    messages_[i].msg_len = 0;
  }
  int received = -1;
  do {
    received =
        ::recvmmsg(udp_.get(), messages_.data(), pipeline::kBatchSize, MSG_DONTWAIT, nullptr);
  } while (received < 0 && errno == EINTR);
  if (received < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) counters.underlay_rx_errors++;
    return 0;
  }
  size_t appended = 0;
  for (size_t i = 0; i < static_cast<size_t>(received); ++i) {
    const msghdr& message = messages_[i].msg_hdr;
    const size_t length = messages_[i].msg_len;
    if ((message.msg_flags & MSG_TRUNC) != 0 || length > kMaxDatagram) {
      counters.underlay_rx_truncated++;
      continue;
    }
    const sockaddr_in& sender = senders_[i];
    const auto source = net::Ipv4Address::FromUint32(ntohl(sender.sin_addr.s_addr));
    const auto ip = net::MakeIpv4Header(source, local_ip_, net::ip_proto::kUdp, 64,
                                        sizeof(net::UdpHeader) + length);
    const auto udp = net::MakeUdpHeader(ntohs(sender.sin_port), net::kVxlanPort, length);
    if (!ip || !udp) {  // impossible below kMaxDatagram; counted rather than assumed
      counters.underlay_rx_truncated++;
      continue;
    }
    uint8_t* slot = buffers_.data() + i * kSlot;
    const net::MutableByteSpan headers(slot, kHeadroom);
    net::StoreHeader(headers, net::MakeEthernetHeader(net::MacAddress(), net::MacAddress(),
                                                      net::ether_type::kIpv4));
    net::StoreHeader(headers.subspan(kIpAt), *ip);
    net::StoreHeader(headers.subspan(kUdpAt), *udp);
    pipeline::Frame frame;
    frame.bytes.assign(slot, slot + kHeadroom + length);
    frame.tunnel = source;
    out.Push(std::move(frame));
    counters.underlay_rx++;
    ++appended;
  }
  return appended;
}

size_t UnderlaySocket::SendBatch(const pipeline::Batch& frames, IoCounters& counters) {
  std::array<mmsghdr, pipeline::kBatchSize> messages{};
  std::array<iovec, pipeline::kBatchSize> parts{};
  std::array<sockaddr_in, pipeline::kBatchSize> destinations{};
  size_t sent_total = 0;
  size_t next = 0;
  while (next < frames.size()) {
    // Gather up to kBatchSize sendable frames.
    size_t count = 0;
    for (; next < frames.size() && count < pipeline::kBatchSize; ++next) {
      const pipeline::Frame& frame = frames[next];
      if (frame.bytes.size() < kIpAt + sizeof(net::Ipv4Header)) {
        counters.underlay_tx_malformed++;
        continue;
      }
      destinations[count] = SocketAddress(frame.tunnel, 0);
      parts[count] =
          iovec{const_cast<uint8_t*>(frame.bytes.data() + kIpAt), frame.bytes.size() - kIpAt};
      messages[count] = mmsghdr{};
      messages[count].msg_hdr.msg_name = &destinations[count];
      messages[count].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      messages[count].msg_hdr.msg_iov = &parts[count];
      messages[count].msg_hdr.msg_iovlen = 1;
      ++count;
    }
    // Send them; a message the kernel refuses is counted and skipped.
    size_t done = 0;
    while (done < count) {
      const int sent = ::sendmmsg(raw_.get(), messages.data() + done,
                                  static_cast<unsigned>(count - done), MSG_DONTWAIT);
      if (sent > 0) {
        done += static_cast<size_t>(sent);
        sent_total += static_cast<size_t>(sent);
        counters.underlay_tx += static_cast<uint64_t>(sent);
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        // The socket buffer is full: nothing more can go now, and waiting is not allowed.
        counters.underlay_tx_queue_full += count - done;
        counters.underlay_tx_queue_full += frames.size() - next;
        return sent_total;
      } else {
        counters.underlay_tx_errors++;
        ++done;
      }
    }
  }
  return sent_total;
}

}  // namespace dove::dswitch::io
