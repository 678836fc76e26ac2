#include "cli/switch_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dove::cli {

std::string DefaultSwitchSocket() {
  if (const char* env = std::getenv("DOVE_SWITCH_SOCKET"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/run/dove/dove-switch.sock";
}

Expected<std::string, std::string> AskSwitch(const std::string& path, const std::string& command,
                                             std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return Unexpected("switch socket path '" + path + "' is empty or too long");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    std::string error = "no switch answers on " + path + " (" + std::strerror(errno) +
                        "); is dove-switch running with --control-socket " + path + "?";
    close(fd);
    return Unexpected(error);
  }
  const std::string line = command + "\n";
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    close(fd);
    return Unexpected("cannot send to the switch on " + path);
  }
  std::string answer;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd in{.fd = fd, .events = POLLIN, .revents = 0};
    if (left.count() <= 0 || poll(&in, 1, static_cast<int>(left.count())) <= 0) {
      close(fd);
      return Unexpected("the switch on " + path + " did not answer in time");
    }
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      close(fd);
      return Unexpected(std::string("reading from the switch: ") + std::strerror(errno));
    }
    if (got == 0) break;
    answer.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return answer;
}

}  // namespace dove::cli
