// ReadFile: the whole content of a small file (a certificate, a key, a token), or one sentence
// naming the file and why it could not be read. Thread-safe (no state).
//
//   auto pem = ReadFile("/etc/dove/ca.pem");
//   if (!pem) return Fail(pem.error());  // "cannot read /etc/dove/ca.pem: No such file ..."
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "base/expected.h"

namespace dove {

inline Expected<std::string, std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected<std::string>("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Unexpected<std::string>("cannot read " + path + ": read error");
  return text.str();
}

}  // namespace dove
