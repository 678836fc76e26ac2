#include "dswitch/kernel/neigh_announcer.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace dove::dswitch::kernel {
namespace {

netlink::Error ErrnoError(const std::string& what) {
  return {errno, what + ": " + std::strerror(errno)};
}

}  // namespace

netlink::Result<std::unique_ptr<PacketFrameWriter>> PacketFrameWriter::Open() {
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(ErrnoError("AF_PACKET socket"));
  return std::unique_ptr<PacketFrameWriter>(new PacketFrameWriter(fd));
}

PacketFrameWriter::~PacketFrameWriter() { ::close(fd_); }

netlink::Result<netlink::Ok> PacketFrameWriter::Send(int ifindex, std::span<const uint8_t> frame) {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_ifindex = ifindex;
  address.sll_halen = 6;
  std::memcpy(address.sll_addr, frame.data(), 6);
  if (::sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) < 0) {
    return Unexpected(ErrnoError("send on interface " + std::to_string(ifindex)));
  }
  return netlink::Ok{};
}

}  // namespace dove::dswitch::kernel
