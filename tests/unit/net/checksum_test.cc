#include "net/checksum.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
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
  const std::vector<uint8_t> ones(size_t{256} * 1024, 0xff);
  EXPECT_EQ(InternetChecksum(ones), 0);  // 0xffff words sum to "negative zero"
}

// The definition, word by word (RFC 1071), that the fast path of ChecksumAdd must fold like.
uint64_t WordByWord(const std::vector<uint8_t>& data, size_t from, size_t size, uint64_t sum) {
  size_t i = 0;
  for (; i + 1 < size; i += 2)
    sum += static_cast<uint64_t>(data[from + i] << 8 | data[from + i + 1]);
  if (i < size) sum += static_cast<uint64_t>(data[from + i]) << 8;
  return sum;
}

TEST(ChecksumTest, FoldsLikeWordByWordAtEveryLengthAndAlignment) {
  struct Case {
    const char* name;
    uint8_t (*byte)(std::mt19937&);
  };
  const Case cases[] = {
      {"random", [](std::mt19937& rng) { return static_cast<uint8_t>(rng()); }},
      {"all ones (negative zero)", [](std::mt19937&) { return uint8_t{0xff}; }},
      {"all zero", [](std::mt19937&) { return uint8_t{0}; }},
      {"carries (0xff and 0xfe)",
       [](std::mt19937& rng) { return static_cast<uint8_t>(0xfe | (rng() & 1)); }},
  };
  std::mt19937 rng(12);
  for (const Case& c : cases) {
    std::vector<uint8_t> data(65536 + 16);
    for (auto& byte : data) byte = c.byte(rng);
    std::vector<size_t> sizes;
    for (size_t size = 0; size <= 200; ++size) sizes.push_back(size);
    for (size_t size : {1023u, 1448u, 1449u, 9000u, 65535u, 65536u}) sizes.push_back(size);
    for (size_t size : sizes) {
      for (size_t from = 0; from < 8; ++from) {
        for (uint64_t sum : {uint64_t{0}, uint64_t{0x1234}, uint64_t{0xfffffffff}}) {
          const ByteSpan span(data.data() + from, size);
          ASSERT_EQ(ChecksumFold(ChecksumAdd(span, sum)),
                    ChecksumFold(WordByWord(data, from, size, sum)))
              << c.name << ": " << size << " bytes at offset " << from << ", sum " << sum;
        }
      }
    }
  }
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
