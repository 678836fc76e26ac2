#include "controller/etcd_password.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace dove::controller {

Expected<std::string, std::string> ReadEtcdPasswordFile(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Unexpected<std::string>("cannot read etcd password file " + path +
                                   ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected<std::string>("cannot read etcd password file " + path + ": " +
                                   std::strerror(errno));
  }
  std::string password;
  std::getline(in, password);
  if (in.bad()) {
    return Unexpected<std::string>("cannot read etcd password file " + path);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    return Unexpected<std::string>("etcd password file " + path + " has an empty first line");
  }
  return password;
}

}  // namespace dove::controller
