#include "lab/tx_checksum.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dove::lab {
namespace {

using Error = Unexpected<std::string>;

// One ETHTOOL_* command carrying an ethtool_value; `value` is read and written.
Expected<void, std::string> EthtoolValue(const std::string& iface, uint32_t command,
                                         uint32_t* value, const char* what) {
  if (iface.empty() || iface.size() >= IFNAMSIZ) {
    return Error("\"" + iface + "\" is not an interface name");
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(std::string("socket(AF_INET): ") + std::strerror(errno));
  ethtool_value data{};
  data.cmd = command;
  data.data = *value;
  ifreq request{};
  std::memcpy(request.ifr_name, iface.data(), iface.size());
  request.ifr_data = reinterpret_cast<char*>(&data);  // the ioctl takes it as char*
  const int result = ::ioctl(fd, SIOCETHTOOL, &request);
  const int saved = errno;
  ::close(fd);
  if (result != 0) {
    return Error(std::string(what) + " of " + iface + " (SIOCETHTOOL): " + std::strerror(saved));
  }
  *value = data.data;
  return {};
}

}  // namespace

Expected<bool, std::string> TxChecksumOffload(const std::string& iface) {
  uint32_t value = 0;
  if (auto ok = EthtoolValue(iface, ETHTOOL_GTXCSUM, &value, "reading tx-checksumming"); !ok) {
    return Error(ok.error());
  }
  return value != 0;
}

Expected<void, std::string> SetTxChecksumOffload(const std::string& iface, bool on) {
  uint32_t value = on ? 1 : 0;
  return EthtoolValue(iface, ETHTOOL_STXCSUM, &value,
                      on ? "turning tx-checksumming on" : "turning tx-checksumming off");
}

}  // namespace dove::lab
