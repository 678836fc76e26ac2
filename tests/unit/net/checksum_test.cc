#include "net/checksum.h"

#include <gtest/gtest.h>

#include <vector>

namespace dove::net {
namespace {

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is ~ddf2.
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(data), static_cast<uint16_t>(~0xddf2));
}

TEST(ChecksumTest, KnownIpv4Header) {
  // A real IPv4 header (from Wikipedia's worked example) whose checksum field is b861.
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  header[10] = 0xb8;
  header[11] = 0x61;
  EXPECT_EQ(InternetChecksum(header), 0);  // a header holding its checksum verifies to zero
}

TEST(ChecksumTest, OddLengthPadsWithZero) {
  const std::vector<uint8_t> odd = {0x12, 0x34, 0x56};
  const std::vector<uint8_t> even = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(InternetChecksum(odd), InternetChecksum(even));
}

TEST(ChecksumTest, LargeBuffersDoNotOverflow) {
  const std::vector<uint8_t> ones(256 * 1024, 0xff);
  EXPECT_EQ(InternetChecksum(ones), 0);  // 0xffff words sum to "negative zero"
}

TEST(ChecksumTest, PseudoHeaders) {
  auto s4 = *Ipv4Address::Parse("192.0.2.1");
  auto d4 = *Ipv4Address::Parse("192.0.2.2");
  // c000+0201+c000+0202+0011+0008
  EXPECT_EQ(PseudoHeaderSum(s4, d4, 17, 8), 0xc000u + 0x0201 + 0xc000 + 0x0202 + 0x11 + 8);
  auto s6 = *Ipv6Address::Parse("2001:db8::1");
  auto d6 = *Ipv6Address::Parse("2001:db8::2");
  EXPECT_EQ(PseudoHeaderSum(s6, d6, 58, 0x10020),
            2u * (0x2001 + 0x0db8) + 1 + 2 + 0x0001 + 0x0020 + 58);
}

}  // namespace
}  // namespace dove::net
