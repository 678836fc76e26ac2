#include "net/ip_prefix.h"

#include <algorithm>
#include <charconv>

namespace dove::net {
namespace {

// True when the first `length` bits of a and b are equal (both spans of the same size).
bool FirstBitsEqual(std::span<const uint8_t> a, std::span<const uint8_t> b, int length) {
  const auto full = static_cast<size_t>(length / 8);
  for (size_t i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  const int rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// `address` with every bit after the first `length` cleared.
IpAddress ClearHostBits(const IpAddress& address, int length) {
  std::array<uint8_t, 16> bytes{};
  const auto source = address.bytes();
  for (size_t i = 0; i < source.size(); ++i) {
    const int kept = std::clamp(length - static_cast<int>(i) * 8, 0, 8);
    bytes[i] = static_cast<uint8_t>(source[i] & (0xff << (8 - kept)));
  }
  if (address.is_v4()) return Ipv4Address({bytes[0], bytes[1], bytes[2], bytes[3]});
  return Ipv6Address(bytes);
}

}  // namespace

Result<IpPrefix> IpPrefix::Make(const IpAddress& address, int length) {
  if (length < 0 || length > address.bits()) return Unexpected(Error::kOutOfRange);
  if (ClearHostBits(address, length) != address) return Unexpected(Error::kBadField);
  return IpPrefix(address, static_cast<uint8_t>(length));
}

Result<IpPrefix> IpPrefix::Masked(const IpAddress& address, int length) {
  if (length < 0 || length > address.bits()) return Unexpected(Error::kOutOfRange);
  return IpPrefix(ClearHostBits(address, length), static_cast<uint8_t>(length));
}

Result<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Unexpected(Error::kBadSyntax);
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return Unexpected(address.error());
  const std::string_view digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0') ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Unexpected(Error::kBadSyntax);
  }
  int length = 0;
  const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (status != std::errc() || end != digits.data() + digits.size()) {
    return Unexpected(Error::kBadSyntax);
  }
  return Make(*address, length);
}

bool IpPrefix::Contains(const IpAddress& ip) const {
  return ip.family() == family() && FirstBitsEqual(address_.bytes(), ip.bytes(), length_);
}

bool IpPrefix::Contains(const IpPrefix& other) const {
  return other.length_ >= length_ && Contains(other.address_);
}

bool IpPrefix::Overlaps(const IpPrefix& other) const {
  return Contains(other) || other.Contains(*this);
}

std::string IpPrefix::ToString() const {
  return address_.ToString() + "/" + std::to_string(length_);
}

}  // namespace dove::net
