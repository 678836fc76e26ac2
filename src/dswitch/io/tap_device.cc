#include "dswitch/io/tap_device.h"

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

#include "dswitch/io/gso.h"

namespace dove::dswitch::io {

namespace {

// Ethernet with one VLAN tag + the largest IP packet; a GSO super-frame is no larger.
constexpr size_t kMaxFrame = 18 + 65535;
constexpr size_t kVirtioHeaderSize = sizeof(VirtioNetHeader);

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

// Which counter a refused virtio header is dropped under (ApplyVirtioHeader's refusals by
// kind: see gso.h).
uint64_t IoCounters::*RefusalCounter(const VirtioNetHeader& header) {
  switch (header.gso_kind()) {
    case VirtioNetHeader::kGsoNone:
      return &IoCounters::csum_refused;
    case VirtioNetHeader::kGsoTcpV4:
    case VirtioNetHeader::kGsoTcpV6:
      return &IoCounters::gso_refused;
    default:
      return &IoCounters::gso_unsupported;
  }
}

pipeline::Frame PortFrame(std::vector<uint8_t> bytes, pipeline::PortId port) {
  pipeline::Frame frame;
  frame.bytes = std::move(bytes);
  frame.port = port;
  return frame;
}

}  // namespace

TapDevice::TapDevice(FileDescriptor fd, std::string name, int ifindex)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      ifindex_(ifindex),
      read_buffer_(kVirtioHeaderSize + kMaxFrame) {}

Expected<TapDevice, std::string> TapDevice::Open(const std::string& name, bool create) {
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
  const unsigned long offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (::ioctl(fd.get(), TUNSETOFFLOAD, offloads) != 0) {
    return Unexpected(Failed("TUNSETOFFLOAD", name));
  }
  if (auto up = SetLinkUp(name); !up) return Unexpected(up.error());
  const unsigned ifindex = ::if_nametoindex(name.c_str());
  if (ifindex == 0) return Unexpected(Failed("if_nametoindex", name));
  return TapDevice(std::move(fd), name, static_cast<int>(ifindex));
}

Expected<void, std::string> TapDevice::SetPersistent(bool persistent) {
  if (::ioctl(fd_.get(), TUNSETPERSIST, persistent ? 1UL : 0UL) != 0) {
    return Unexpected(Failed("TUNSETPERSIST", name_));
  }
  return {};
}

Expected<void, std::string> TapDevice::Remove() {
  auto transient = SetPersistent(false);
  fd_.Close();
  return transient;
}

size_t TapDevice::ReadBatch(pipeline::Batch& out, pipeline::PortId port, IoCounters& counters) {
  const size_t before = out.size();
  for (size_t reads = 0; reads < pipeline::kBatchSize; ++reads) {
    const ssize_t n = ::read(fd_.get(), read_buffer_.data(), read_buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) counters.read_errors++;
      break;
    }
    if (static_cast<size_t>(n) < kVirtioHeaderSize) {
      counters.read_errors++;
      continue;
    }
    counters.read_frames++;
    VirtioNetHeader header;
    std::memcpy(&header, read_buffer_.data(), sizeof(header));
    const net::ByteSpan frame(read_buffer_.data() + kVirtioHeaderSize,
                              static_cast<size_t>(n) - kVirtioHeaderSize);
    if ((header.flags & VirtioNetHeader::kNeedsCsum) == 0 &&
        header.gso_kind() == VirtioNetHeader::kGsoNone) {
      out.Push(PortFrame(std::vector<uint8_t>(frame.begin(), frame.end()), port));
      continue;
    }
    auto frames = ApplyVirtioHeader(header, frame);
    if (!frames) {
      counters.*RefusalCounter(header) += 1;
      continue;
    }
    if (header.gso_kind() != VirtioNetHeader::kGsoNone) {
      counters.gso_frames++;
      counters.gso_segments += frames->size();
    } else {
      counters.csum_completed++;
    }
    for (std::vector<uint8_t>& bytes : *frames) {
      out.Push(PortFrame(std::move(bytes), port));
    }
  }
  return out.size() - before;
}

bool TapDevice::Write(net::ByteSpan frame, IoCounters& counters) {
  const VirtioNetHeader header{};  // no offload, nothing claimed about checksums
  std::array<iovec, 2> parts = {{
      {const_cast<VirtioNetHeader*>(&header), sizeof(header)},
      {const_cast<uint8_t*>(frame.data()), frame.size()},
  }};
  ssize_t n = -1;
  do {
    n = ::writev(fd_.get(), parts.data(), static_cast<int>(parts.size()));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(header) + frame.size())) {
    counters.write_frames++;
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
    counters.tx_queue_full++;
  } else {
    counters.write_errors++;
  }
  return false;
}

size_t TapDevice::WriteBatch(const pipeline::Batch& frames, pipeline::PortId port,
                             IoCounters& counters) {
  size_t written = 0;
  for (const pipeline::Frame& frame : frames) {
    if (frame.port == port && Write(frame.span(), counters)) ++written;
  }
  return written;
}

}  // namespace dove::dswitch::io
