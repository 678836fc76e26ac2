#include "model/router_mac.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>

namespace dove::model {

std::string RouterMacOf(const std::string& domain_id) {
  std::string hex;
  const bool is_hex = std::all_of(domain_id.begin(), domain_id.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (domain_id.size() == 12 && is_hex) {
    hex = domain_id.substr(2);
  } else {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016zx", std::hash<std::string>{}(domain_id));
    hex = std::string(buffer).substr(6);
  }
  std::string mac = "02";
  for (size_t i = 0; i < hex.size(); i += 2) {
    mac += ':';
    mac += static_cast<char>(std::tolower(static_cast<unsigned char>(hex[i])));
    mac += static_cast<char>(std::tolower(static_cast<unsigned char>(hex[i + 1])));
  }
  return mac;
}

}  // namespace dove::model
