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

#include "dswitch/io/interface_mtu.h"
#include "dswitch/io/virtio_frames.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/packet/virtio_net_header.h"

namespace dove::dswitch::io {

namespace {

constexpr size_t kVirtioHeaderSize = sizeof(packet::VirtioNetHeader);
static_assert(TapPort::kMaxFrame <= packet::PacketPool::kLargeRoom);

std::string Failed(const char* what, const std::string& name) {
  return std::string(what) + " failed for " + name + ": " + std::strerror(errno);
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
    if (errno == EBUSY) {
      return Unexpected("TAP " + name +
                        " is held by another process (a hypervisor?): give its endpoint "
                        "port_kind PORT_KIND_PACKET to attach to it as it is");
    }
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
  if (auto up = SetInterfaceUp(name); !up) return Unexpected(up.error());
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
    HandOnReceived(packet, *offload, id_, out, counters);
    ++received;
  }
  pool.Free(slot);
  return received;
}

size_t TapPort::Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) {
  return SendWithVirtioHeaders(fd_.get(), pool, batch, counters);
}

}  // namespace dove::dswitch::io
