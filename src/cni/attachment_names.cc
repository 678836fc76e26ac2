#include "cni/attachment_names.h"

#include <cstdint>
#include <cstdio>

namespace dove::cni {
namespace {

uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string Hex(uint64_t value, int digits) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return std::string(buffer).substr(16 - static_cast<size_t>(digits));
}

}  // namespace

AttachmentNames NamesFor(const std::string& container_id, const std::string& ifname) {
  const uint64_t hash = Fnv1a(container_id + "/" + ifname);
  return AttachmentNames{.host_veth = "dc" + Hex(hash, 12), .endpoint_id = "cni-" + Hex(hash, 16)};
}

}  // namespace dove::cni
