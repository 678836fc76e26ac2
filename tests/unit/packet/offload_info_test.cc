// FromVirtio / ToVirtio: every virtio-net header a TAP may give, what it becomes, and back.
#include "dswitch/packet/offload_info.h"

#include <gtest/gtest.h>

#include <vector>

namespace dove::dswitch::packet {
namespace {

constexpr uint8_t kNeedsCsum = VirtioNetHeader::kNeedsCsum;

struct Case {
  const char* description;
  VirtioNetHeader header;
  size_t frame_size;
  bool accepted;
  OffloadInfo offload = {};  // when accepted
};

TEST(OffloadInfoTest, FromVirtio) {
  const std::vector<Case> cases = {
      {"nothing", {}, 60, true, {}},
      {"DATA_VALID", {.flags = VirtioNetHeader::kDataValid}, 60, true, {.csum_valid = true}},
      {"NEEDS_CSUM on UDP",
       {.flags = kNeedsCsum, .csum_start = 34, .csum_offset = 6},
       60,
       true,
       {.csum_partial = true, .csum_start = 34, .csum_offset = 6}},
      {"NEEDS_CSUM field ending at the last byte",
       {.flags = kNeedsCsum, .csum_start = 34, .csum_offset = 24},
       60,
       true,
       {.csum_partial = true, .csum_start = 34, .csum_offset = 24}},
      {"NEEDS_CSUM field one byte past the end",
       {.flags = kNeedsCsum, .csum_start = 34, .csum_offset = 25},
       60,
       false},
      {"NEEDS_CSUM offsets overflowing 16 bits",
       {.flags = kNeedsCsum, .csum_start = 0xfff0, .csum_offset = 0xfff0},
       65535,
       false},
      {"TCPV4",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoTcpV4,
        .hdr_len = 66,
        .gso_size = 1448,
        .csum_start = 34,
        .csum_offset = 16},
       30000,
       true,
       {.gso = GsoType::kTcp4,
        .gso_size = 1448,
        .csum_partial = true,
        .csum_start = 34,
        .csum_offset = 16}},
      {"TCPV6 with ECN",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoTcpV6 | VirtioNetHeader::kGsoEcn,
        .gso_size = 1428,
        .csum_start = 54,
        .csum_offset = 16},
       30000,
       true,
       {.gso = GsoType::kTcp6,
        .gso_ecn = true,
        .gso_size = 1428,
        .csum_partial = true,
        .csum_start = 54,
        .csum_offset = 16}},
      {"the smallest gso_size",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoTcpV4,
        .gso_size = 48,
        .csum_start = 34,
        .csum_offset = 16},
       3000,
       true,
       {.gso = GsoType::kTcp4,
        .gso_size = 48,
        .csum_partial = true,
        .csum_start = 34,
        .csum_offset = 16}},
      {"gso_size 47",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoTcpV4,
        .gso_size = 47,
        .csum_start = 34,
        .csum_offset = 16},
       3000,
       false},
      {"GSO without NEEDS_CSUM",
       {.gso_type = VirtioNetHeader::kGsoTcpV4, .gso_size = 1448},
       3000,
       false},
      {"UFO",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoUdp,
        .gso_size = 1448,
        .csum_start = 34,
        .csum_offset = 6},
       3000,
       false},
      {"USO",
       {.flags = kNeedsCsum,
        .gso_type = VirtioNetHeader::kGsoUdpL4,
        .gso_size = 1448,
        .csum_start = 34,
        .csum_offset = 6},
       3000,
       false},
      {"unknown GSO type 2",
       {.flags = kNeedsCsum, .gso_type = 2, .gso_size = 1448, .csum_start = 34, .csum_offset = 16},
       3000,
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    const auto offload = FromVirtio(c.header, c.frame_size);
    ASSERT_EQ(offload.has_value(), c.accepted);
    if (!offload) {
      EXPECT_NE(offload.error(), nullptr);
      continue;
    }
    EXPECT_EQ(offload->gso, c.offload.gso);
    EXPECT_EQ(offload->gso_ecn, c.offload.gso_ecn);
    EXPECT_EQ(offload->gso_size, c.offload.gso_size);
    EXPECT_EQ(offload->csum_partial, c.offload.csum_partial);
    EXPECT_EQ(offload->csum_start, c.offload.csum_start);
    EXPECT_EQ(offload->csum_offset, c.offload.csum_offset);
    EXPECT_EQ(offload->csum_valid, c.offload.csum_valid);
    // And back: the header the TAP gets carries the same offload.
    const VirtioNetHeader back = ToVirtio(*offload, c.header.hdr_len);
    const auto again = FromVirtio(back, c.frame_size);
    ASSERT_TRUE(again);
    EXPECT_EQ(back.gso_type, c.header.gso_type);
    EXPECT_EQ(back.gso_size, c.offload.is_gso() ? c.header.gso_size : 0);
    EXPECT_EQ(back.csum_start, c.header.csum_start);
    EXPECT_EQ(back.csum_offset, c.header.csum_offset);
    EXPECT_EQ(back.hdr_len, c.offload.is_gso() ? c.header.hdr_len : 0);
  }
}

TEST(OffloadInfoTest, ToVirtioPrefersNeedsCsumOverDataValid) {
  const VirtioNetHeader h =
      ToVirtio({.csum_partial = true, .csum_start = 34, .csum_offset = 16, .csum_valid = true}, 0);
  EXPECT_EQ(h.flags, VirtioNetHeader::kNeedsCsum);
  EXPECT_EQ(ToVirtio({.csum_valid = true}, 0).flags, VirtioNetHeader::kDataValid);
  EXPECT_EQ(ToVirtio({}, 0).flags, 0);
}

}  // namespace
}  // namespace dove::dswitch::packet
