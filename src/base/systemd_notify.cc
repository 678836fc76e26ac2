#include "base/systemd_notify.h"

#include <cstdlib>

#include "base/unix_datagram.h"

namespace dove::base {

Expected<void, std::string> NotifySocket(std::string_view socket_name, std::string_view state) {
  if (auto sent = SendUnixDatagram(socket_name, state); !sent) {
    return Unexpected("notify socket \"" + std::string(socket_name) + "\": " + sent.error());
  }
  return {};
}

Expected<bool, std::string> NotifySystemd(std::string_view state) {
  const char* socket_name = std::getenv(kNotifySocketEnvVar);
  if (socket_name == nullptr || *socket_name == '\0') return false;
  if (auto sent = NotifySocket(socket_name, state); !sent) return Unexpected(sent.error());
  return true;
}

}  // namespace dove::base
