// Byte-vector helpers shared by the net tests: frames written out as numbers or text.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "net/byte_order.h"

namespace dove::net {

// {0x08, 0x00, ...} as bytes; each value is truncated to 8 bits.
inline std::vector<uint8_t> Bytes(std::initializer_list<int> values) {
  std::vector<uint8_t> out;
  out.reserve(values.size());
  for (int v : values) out.push_back(static_cast<uint8_t>(v));
  return out;
}

// The characters of `text` as bytes (no terminator).
inline std::vector<uint8_t> Text(std::string_view text) { return {text.begin(), text.end()}; }

inline std::vector<uint8_t> ToVector(ByteSpan span) { return {span.begin(), span.end()}; }

}  // namespace dove::net
