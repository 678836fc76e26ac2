#include "dswitch/app/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dove::dswitch::app {
namespace {

constexpr size_t kMaxCommand = 256;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Expected<sockaddr_un, std::string> AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return Unexpected("control socket path '" + path + "' is empty or longer than " +
                      std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// True when a process accepts connections on `path`.
bool Alive(const sockaddr_un& address) {
  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  const bool alive =
      connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(probe);
  return alive;
}

}  // namespace

Expected<std::unique_ptr<ControlServer>, std::string> ControlServer::Start(const std::string& path,
                                                                           Handler handler) {
  auto address = AddressOf(path);
  if (!address) return Unexpected(address.error());
  if (Alive(*address)) {
    return Unexpected("control socket " + path + " is served by another running switch");
  }
  unlink(path.c_str());  // a dead switch's socket file
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(Errno("socket"));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
    auto error = Errno("control socket " + path);
    close(fd);
    return Unexpected(error);
  }
  chmod(path.c_str(), 0660);
  if (listen(fd, 16) != 0) {
    auto error = Errno("listen on " + path);
    close(fd);
    unlink(path.c_str());
    return Unexpected(error);
  }
  std::unique_ptr<ControlServer> server(new ControlServer(path, fd, std::move(handler)));
  server->thread_ = std::thread([raw = server.get()] { raw->Serve(); });
  return server;
}

ControlServer::ControlServer(std::string path, int fd, Handler handler)
    : path_(std::move(path)), fd_(fd), handler_(std::move(handler)) {}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::Stop() {
  if (stopping_.exchange(true)) return;
  shutdown(fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  close(fd_);
  unlink(path_.c_str());
}

void ControlServer::Serve() {
  while (!stopping_) {
    pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    // One line, read with a deadline so a silent client cannot hold the switch's socket.
    std::string command;
    char buffer[kMaxCommand];
    while (command.find('\n') == std::string::npos && command.size() < kMaxCommand) {
      pollfd in{.fd = client, .events = POLLIN, .revents = 0};
      if (poll(&in, 1, 1000) <= 0) break;
      const ssize_t got = read(client, buffer, sizeof(buffer));
      if (got <= 0) break;
      command.append(buffer, static_cast<size_t>(got));
    }
    if (auto end = command.find_first_of("\r\n"); end != std::string::npos) command.resize(end);
    const std::string response = handler_(command) + "\n";
    size_t sent = 0;
    while (sent < response.size()) {
      const ssize_t put =
          send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (put <= 0) break;
      sent += static_cast<size_t>(put);
    }
    close(client);
  }
}

}  // namespace dove::dswitch::app
