#include "dswitch/io/interface_mtu.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "dswitch/io/file_descriptor.h"

namespace dove::dswitch::io {

namespace {

std::string Failed(const std::string& what, const std::string& name) {
  return what + " failed for " + name + ": " + std::strerror(errno);
}

// An ifreq naming `name`; false when the name does not fit.
bool NameRequest(const std::string& name, struct ifreq& request) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memcpy(request.ifr_name, name.data(), name.size());
  return true;
}

}  // namespace

Expected<uint32_t, std::string> GetInterfaceMtu(const std::string& name) {
  struct ifreq request {};
  if (!NameRequest(name, request)) return Unexpected("bad interface name \"" + name + "\"");
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return Unexpected(Failed("socket(AF_INET)", name));
  if (::ioctl(socket.get(), SIOCGIFMTU, &request) != 0)
    return Unexpected(Failed("SIOCGIFMTU", name));
  return static_cast<uint32_t>(request.ifr_mtu);
}

Expected<void, std::string> SetInterfaceMtu(const std::string& name, uint32_t mtu) {
  struct ifreq request {};
  if (!NameRequest(name, request)) return Unexpected("bad interface name \"" + name + "\"");
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return Unexpected(Failed("socket(AF_INET)", name));
  request.ifr_mtu = static_cast<int>(mtu);
  if (::ioctl(socket.get(), SIOCSIFMTU, &request) != 0) {
    return Unexpected(Failed("SIOCSIFMTU " + std::to_string(mtu), name));
  }
  return {};
}

Expected<void, std::string> SetInterfaceUp(const std::string& name) {
  struct ifreq request {};
  if (!NameRequest(name, request)) return Unexpected("bad interface name \"" + name + "\"");
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return Unexpected(Failed("socket(AF_INET)", name));
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

Expected<InterfaceMtu, std::string> InterfaceWithAddress(const net::Ipv4Address& address) {
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return Unexpected(std::string("getifaddrs failed: ") + std::strerror(errno));
  }
  std::string found;
  for (const struct ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in in{};
    std::memcpy(&in, entry->ifa_addr, sizeof(in));
    if (ntohl(in.sin_addr.s_addr) == address.ToUint32()) {
      found = entry->ifa_name;
      break;
    }
  }
  ::freeifaddrs(list);
  if (found.empty()) return Unexpected("no interface has the address " + address.ToString());
  auto mtu = GetInterfaceMtu(found);
  if (!mtu) return Unexpected(mtu.error());
  return InterfaceMtu{.name = found, .mtu = *mtu};
}

}  // namespace dove::dswitch::io

namespace dove::dswitch::io {

uint32_t KernelPathMtu(const net::Ipv4Address& destination) {
  const FileDescriptor socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(4789);
  to.sin_addr.s_addr = htonl(destination.ToUint32());
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) return 0;
  int mtu = 0;
  socklen_t size = sizeof(mtu);
  if (::getsockopt(socket.get(), IPPROTO_IP, IP_MTU, &mtu, &size) != 0 || mtu <= 0) return 0;
  return static_cast<uint32_t>(mtu);
}

}  // namespace dove::dswitch::io
