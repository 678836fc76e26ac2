#include "base/unix_datagram.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace dove::base {

Expected<void, std::string> SendUnixDatagram(std::string_view socket_name, std::string_view data) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_name.empty() || (socket_name[0] != '/' && socket_name[0] != '@')) {
    return Unexpected(std::string("not an absolute path or an abstract name (@NAME)"));
  }
  if (socket_name.size() >= sizeof(address.sun_path)) {
    return Unexpected("longer than " + std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  // An abstract name starts with a NUL byte and is exactly as long as given (no terminator).
  if (socket_name[0] == '@') address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size() +
                                             (socket_name[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(std::string("socket: ") + std::strerror(errno));
  const ssize_t sent = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  const int send_errno = errno;
  ::close(fd);
  if (sent < 0) return Unexpected(std::string(std::strerror(send_errno)));
  if (static_cast<size_t>(sent) != data.size()) return Unexpected(std::string("short send"));
  return {};
}

}  // namespace dove::base
