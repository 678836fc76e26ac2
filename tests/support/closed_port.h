// ClosedPort: a loopback TCP port nobody listens on (bound to an ephemeral port, then closed
// again), for tests of what a client does when the controller is unreachable. Another process
// could take the port in between; on a test machine that is rare enough.
//
//   RunDovectl({"--controller", "127.0.0.1:" + std::to_string(ClosedPort()), "status"});
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dove::test_support {

inline int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace dove::test_support
