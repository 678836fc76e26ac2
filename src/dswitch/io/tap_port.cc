#include "dswitch/io/tap_port.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/packet/virtio_net_header.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::io {

namespace {

constexpr size_t kVirtioHeaderSize = sizeof(packet::VirtioNetHeader);
static_assert(TapPort::kMaxFrame <= packet::PacketPool::kLargeRoom);

std::string Failed(const char* what, const std::string& name) {
  return std::string(what) + " failed for " + name + ": " + std::strerror(errno);
}

Expected<void, std::string> SetLinkUp(const std::string& name) {
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return Unexpected(Failed("socket(AF_INET)", name));
  struct ifreq request {};
  std::memcpy(request.ifr_name, name.data(), name.size());
  if (::ioctl(socket.get(), SIOCGIFFLAGS, &request) != 0) {
    return Unexpected(Failed("SIOCGIFFLAGS", name));
  }
  if ((request.ifr_flags & IFF_UP) != 0) return {};
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(socket.get(), SIOCSIFFLAGS, &request) != 0) {
    return Unexpected(Failed("SIOCSIFFLAGS", name));
  }
  return {};
}

// Which counter a refused virtio header is dropped under (FromVirtio's refusals by kind).
uint64_t IoCounters::*RefusalCounter(const packet::VirtioNetHeader& header) {
  switch (header.gso_kind()) {
    case packet::VirtioNetHeader::kGsoNone:
      return &IoCounters::csum_refused;
    case packet::VirtioNetHeader::kGsoTcpV4:
    case packet::VirtioNetHeader::kGsoTcpV6:
      return &IoCounters::gso_refused;
    default:
      return &IoCounters::gso_unsupported;
  }
}

// Bytes of Ethernet + IP + TCP headers of a super-frame: the virtio header's hdr_len, which
// Linux wants for GSO frames. From the metadata when Classify parsed the frame, else parsed
// here; 0 when the headers do not parse (the kernel then refuses the frame, counted).
uint16_t TcpHeadersLength(const packet::Packet& packet) {
  const net::ByteSpan frame = packet.span();
  size_t l4 = 0;
  if (packet.meta.parsed && packet.meta.l4_offset != 0) {
    l4 = packet.meta.l4_offset;
  } else {
    const auto ethernet = net::ParseEthernet(frame);
    if (!ethernet) return 0;
    if (ethernet->ether_type == net::ether_type::kIpv4) {
      const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
      if (!ip || ip->protocol() != net::ip_proto::kTcp) return 0;
      l4 = ethernet->header_size + ip->header_size;
    } else if (ethernet->ether_type == net::ether_type::kIpv6) {
      const auto ip = net::ParseIpv6(ethernet->payload);
      if (!ip || ip->upper_protocol != net::ip_proto::kTcp) return 0;
      l4 = ethernet->header_size + ip->header_size;
    } else {
      return 0;
    }
  }
  const auto tcp = net::ParseTcp(frame.subspan(std::min(l4, frame.size())));
  if (!tcp) return 0;
  return static_cast<uint16_t>(l4 + tcp->header_size);
}

}  // namespace

TapPort::TapPort(FileDescriptor fd, std::string name, int ifindex, packet::PortId id)
    : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex), id_(id) {}

Expected<std::unique_ptr<TapPort>, std::string> TapPort::Open(const std::string& name, bool create,
                                                              packet::PortId id) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Unexpected("a TAP name must have 1 to " + std::to_string(IFNAMSIZ - 1) + " bytes: \"" +
                      name + "\"");
  }
  if (!create && ::if_nametoindex(name.c_str()) == 0) {
    return Unexpected("no TAP device " + name);
  }
  FileDescriptor fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Unexpected(Failed("open(/dev/net/tun)", name));

  struct ifreq request {};
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    return Unexpected(Failed("TUNSETIFF (is it a TAP device?)", name));
  }
  int header_size = kVirtioHeaderSize;
  if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) != 0) {
    return Unexpected(Failed("TUNSETVNETHDRSZ", name));
  }
  const unsigned long offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  if (::ioctl(fd.get(), TUNSETOFFLOAD, offloads) != 0) {
    return Unexpected(Failed("TUNSETOFFLOAD", name));
  }
  if (auto up = SetLinkUp(name); !up) return Unexpected(up.error());
  const unsigned ifindex = ::if_nametoindex(name.c_str());
  if (ifindex == 0) return Unexpected(Failed("if_nametoindex", name));
  return std::unique_ptr<TapPort>(new TapPort(std::move(fd), name, static_cast<int>(ifindex), id));
}

Expected<void, std::string> TapPort::SetPersistent(bool persistent) {
  if (::ioctl(fd_.get(), TUNSETPERSIST, persistent ? 1UL : 0UL) != 0) {
    return Unexpected(Failed("TUNSETPERSIST", name_));
  }
  return {};
}

Expected<void, std::string> TapPort::Remove() {
  auto transient = SetPersistent(false);
  fd_.Close();
  return transient;
}

size_t TapPort::Receive(packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) {
  size_t received = 0;
  // The large slot read into; kept across reads while what it held was copied out.
  packet::Packet* slot = nullptr;
  for (size_t reads = 0; reads < packet::kMaxBurst; ++reads) {
    if (slot == nullptr) slot = pool.AllocLarge();
    if (slot == nullptr) break;  // counted by the pool; the kernel keeps the frames
    packet::VirtioNetHeader header;
    std::array<iovec, 2> parts = {{
        {&header, kVirtioHeaderSize},
        {slot->data(), slot->room()},
    }};
    const ssize_t n = ::readv(fd_.get(), parts.data(), static_cast<int>(parts.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) counters.read_errors++;
      break;
    }
    if (static_cast<size_t>(n) < kVirtioHeaderSize) {
      counters.read_errors++;
      continue;
    }
    const size_t size = static_cast<size_t>(n) - kVirtioHeaderSize;
    const auto offload = packet::FromVirtio(header, size);
    if (!offload) {
      counters.*RefusalCounter(header) += 1;
      continue;
    }
    slot->Resize(size);
    packet::Packet* packet = slot;
    if (size <= packet::PacketPool::kSmallRoom && pool.free_small() > 0) {
      packet = pool.Alloc(size);  // a small slot: there is one
      packet->Assign(slot->span());
    } else {
      slot = nullptr;  // handed on
    }
    packet->offload = *offload;
    packet->meta.in_port = id_;
    out.Push(packet);
    ++received;
    counters.read_frames++;
    if (offload->is_gso()) counters.read_super_frames++;
  }
  pool.Free(slot);
  return received;
}

size_t TapPort::Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) {
  size_t sent = 0;
  for (packet::Packet* packet : batch) {
    const bool super = packet->offload.is_gso();
    packet::VirtioNetHeader header =
        packet::ToVirtio(packet->offload, super ? TcpHeadersLength(*packet) : 0);
    std::array<iovec, 2> parts = {{
        {&header, kVirtioHeaderSize},
        {packet->data(), packet->size()},
    }};
    ssize_t n = -1;
    do {
      n = ::writev(fd_.get(), parts.data(), static_cast<int>(parts.size()));
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(kVirtioHeaderSize + packet->size())) {
      ++sent;
      counters.write_frames++;
      if (super) counters.write_super_frames++;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      counters.tx_queue_full++;
    } else {
      counters.write_errors++;
    }
  }
  pool.Free(batch);
  return sent;
}

}  // namespace dove::dswitch::io
