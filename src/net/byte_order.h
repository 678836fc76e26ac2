// Big-endian (network order) integer fields for wire-format structs, and header load/store.
//
// Wire headers in src/net are plain structs made only of byte arrays and these types, so
// they have alignment 1, no padding, and a size checked by static_assert. They are copied in
// and out of packet buffers with LoadHeader / StoreHeader (memcpy), never reinterpret_cast,
// so no unaligned or aliasing access happens whatever the buffer's alignment.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

namespace dove::net {

using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

// A 16-bit field stored most significant byte first.
struct Be16 {
  std::array<uint8_t, 2> bytes{};

  static constexpr Be16 Of(uint16_t v) {
    return Be16{{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
  }
  constexpr uint16_t value() const { return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]); }
  constexpr void set(uint16_t v) { *this = Of(v); }
  friend constexpr bool operator==(const Be16&, const Be16&) = default;
};

// A 24-bit field (VXLAN's VNI) stored most significant byte first.
struct Be24 {
  std::array<uint8_t, 3> bytes{};

  static constexpr Be24 Of(uint32_t v) {
    return Be24{
        {static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
  }
  constexpr uint32_t value() const {
    return static_cast<uint32_t>(bytes[0]) << 16 | static_cast<uint32_t>(bytes[1]) << 8 | bytes[2];
  }
  constexpr void set(uint32_t v) { *this = Of(v); }
  friend constexpr bool operator==(const Be24&, const Be24&) = default;
};

// A 32-bit field stored most significant byte first.
struct Be32 {
  std::array<uint8_t, 4> bytes{};

  static constexpr Be32 Of(uint32_t v) {
    return Be32{{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                 static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
  }
  constexpr uint32_t value() const {
    return static_cast<uint32_t>(bytes[0]) << 24 | static_cast<uint32_t>(bytes[1]) << 16 |
           static_cast<uint32_t>(bytes[2]) << 8 | bytes[3];
  }
  constexpr void set(uint32_t v) { *this = Of(v); }
  friend constexpr bool operator==(const Be32&, const Be32&) = default;
};

static_assert(sizeof(Be16) == 2 && alignof(Be16) == 1);
static_assert(sizeof(Be24) == 3 && alignof(Be24) == 1);
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 1);

// True for the wire-header structs this file's helpers accept.
template <typename H>
concept WireHeader = std::is_trivially_copyable_v<H> && alignof(H) == 1;

// Copies the header at the start of `bytes`; nullopt when `bytes` is shorter than H.
template <WireHeader H>
std::optional<H> LoadHeader(ByteSpan bytes) {
  if (bytes.size() < sizeof(H)) return std::nullopt;
  H header;
  std::memcpy(&header, bytes.data(), sizeof(H));
  return header;
}

// Writes `header` at the start of `bytes`; false (and nothing written) when it does not fit.
template <WireHeader H>
bool StoreHeader(MutableByteSpan bytes, const H& header) {
  if (bytes.size() < sizeof(H)) return false;
  std::memcpy(bytes.data(), &header, sizeof(H));
  return true;
}

}  // namespace dove::net
