#include "controller/etcd_password.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dove::controller {

Expected<std::string, std::string> ReadEtcdPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected<std::string>("cannot read etcd password file " + path + ": " +
                                   std::strerror(errno));
  }
  std::string password;
  // getline on a directory fails (EISDIR) without reading anything.
  if (!std::getline(in, password) && !in.eof()) {
    return Unexpected<std::string>("cannot read etcd password file " + path);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    return Unexpected<std::string>("etcd password file " + path + " has an empty first line");
  }
  return password;
}

}  // namespace dove::controller
