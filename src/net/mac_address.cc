#include "net/mac_address.h"

namespace dove::net {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddress> MacAddress::Parse(std::string_view text) {
  constexpr size_t kTextLength = 17;  // 6 groups of 2 digits and 5 separators
  if (text.size() != kTextLength) return Unexpected(Error::kBadSyntax);
  std::array<uint8_t, 6> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) {
    const size_t at = i * 3;
    const int high = HexDigit(text[at]);
    const int low = HexDigit(text[at + 1]);
    if (high < 0 || low < 0) return Unexpected(Error::kBadSyntax);
    if (i + 1 < bytes.size() && text[at + 2] != ':') return Unexpected(Error::kBadSyntax);
    bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return MacAddress(bytes);
}

std::string MacAddress::ToString() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(17);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i != 0) text.push_back(':');
    text.push_back(kDigits[bytes_[i] >> 4]);
    text.push_back(kDigits[bytes_[i] & 0x0f]);
  }
  return text;
}

}  // namespace dove::net
