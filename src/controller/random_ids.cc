#include "controller/random_ids.h"

#include <array>
#include <cstdint>

namespace dove::controller {

RandomIds::RandomIds() : engine_(std::random_device{}()) {}

std::string RandomIds::NewId() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = engine_();
  std::string id(12, '0');
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

net::MacAddress RandomIds::NewMac() {
  uint64_t bits = engine_();
  std::array<uint8_t, 6> bytes{};
  bytes[0] = 0x02;  // locally administered, unicast
  for (size_t i = 1; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(bits);
    bits >>= 8;
  }
  return net::MacAddress(bytes);
}

}  // namespace dove::controller
