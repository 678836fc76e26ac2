// FinishChecksum: partial checksums completed the Linux way (checked by src/net's verifying
// parsers and against the value a sender computing the checksum itself writes), and refused
// when the field lies outside the packet. Ported from tests/unit/io/gso_test.cc.
#include "dswitch/offload/partial_checksum.h"

#include <gtest/gtest.h>

#include "net/udp.h"
#include "unit/offload/test_frames.h"

namespace dove::dswitch::offload {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test's own frames

constexpr size_t kL4At = 14 + 20;

// An Ethernet/IPv4/UDP frame with its checksum left partial.
std::vector<uint8_t> PartialUdp4Frame(size_t payload_size) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(kPeerMac, kVmMac, net::ether_type::kIpv4));
  b.Append(
      *net::MakeIpv4Header(kSource4, kDestination4, net::ip_proto::kUdp, 64, 8 + payload_size));
  b.Append(*net::MakeUdpHeader(5000, 53, payload_size));
  b.Append(net::ByteSpan(Pattern(payload_size)));
  auto bytes = std::move(b).Take();
  Put16(
      bytes, kL4At + 6,
      static_cast<uint16_t>(~net::ChecksumFold(net::PseudoHeaderSum(
          kSource4, kDestination4, net::ip_proto::kUdp, static_cast<uint16_t>(8 + payload_size)))));
  return bytes;
}

packet::OffloadInfo Partial(uint16_t start, uint16_t offset) {
  return {.csum_partial = true, .csum_start = start, .csum_offset = offset};
}

TEST(FinishChecksumTest, LeavesAPacketWithoutPartialChecksumAlone) {
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  const auto frame = PartialUdp4Frame(10);
  packet::Packet* p = MakePacket(pool, frame, {.csum_valid = true});
  ASSERT_TRUE(FinishChecksum(*p));
  EXPECT_EQ(Bytes(*p), frame);
  EXPECT_TRUE(p->offload.csum_valid);
}

TEST(FinishChecksumTest, CompletesAPartialUdpChecksum) {
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  for (const size_t payload_size : {0u, 1u, 17u, 1400u}) {
    SCOPED_TRACE(payload_size);
    const auto frame = PartialUdp4Frame(payload_size);
    // The frame as it stands does not verify: its checksum is only the pseudo-header's.
    EXPECT_FALSE(net::ParseUdp(net::ByteSpan(frame).subspan(kL4At), kSource4, kDestination4));
    packet::Packet* p = MakePacket(pool, frame, Partial(kL4At, 6));
    ASSERT_TRUE(FinishChecksum(*p));
    EXPECT_FALSE(p->offload.csum_partial);
    const auto done = Bytes(*p);
    ASSERT_EQ(done.size(), frame.size());
    const auto ip = net::ParseIpv4(net::ByteSpan(done).subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_TRUE(net::ParseUdp(ip->payload, kSource4, kDestination4));
    // The same value a sender computing the checksum itself would have written.
    EXPECT_EQ(Get16(done, kL4At + 6), net::UdpChecksum(kSource4, kDestination4, ip->payload));
    for (size_t i = 0; i < frame.size(); ++i) {
      if (i != kL4At + 6 && i != kL4At + 7) {
        ASSERT_EQ(done[i], frame[i]) << i;
      }
    }
    pool.Free(p);
  }
}

TEST(FinishChecksumTest, CompletesAPartialTcpChecksum) {
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  for (const bool ipv6 : {false, true}) {
    const TcpSpec spec{.ipv6 = ipv6, .partial_checksum = true};
    const auto wire = TcpFrame({.ipv6 = ipv6}, Pattern(333));
    packet::Packet* p = MakePacket(pool, TcpFrame(spec, Pattern(333)),
                                   Partial(static_cast<uint16_t>(TcpAt(ipv6)), 16));
    ASSERT_TRUE(FinishChecksum(*p));
    EXPECT_EQ(Bytes(*p), wire) << "ipv6 " << ipv6;
    pool.Free(p);
  }
}

// A sum that folds to zero is written as 0xffff (skb_checksum_help's CSUM_MANGLED_0), which
// verifies as well.
TEST(FinishChecksumTest, WritesZeroAsAllOnes) {
  packet::PacketPool pool({.small_slots = 2, .large_slots = 1});
  // Bytes from csum_start: a zero field, then a word that makes the sum 0xffff.
  std::vector<uint8_t> frame = {0xaa, 0x00, 0x00, 0xff, 0xff};
  packet::Packet* p = MakePacket(pool, frame, Partial(1, 0));
  ASSERT_TRUE(FinishChecksum(*p));
  EXPECT_EQ(Bytes(*p), (std::vector<uint8_t>{0xaa, 0xff, 0xff, 0xff, 0xff}));
}

TEST(FinishChecksumTest, RefusesAFieldOutsideThePacket) {
  packet::PacketPool pool({.small_slots = 2, .large_slots = 1});
  const auto frame = PartialUdp4Frame(100);
  const auto size = static_cast<uint16_t>(frame.size());
  for (const auto& offload :
       {Partial(size, 0), Partial(0xffff, 6),
        Partial(kL4At, static_cast<uint16_t>(size - kL4At - 1)), Partial(0xfff0, 0xfff0)}) {
    packet::Packet* p = MakePacket(pool, frame, offload);
    EXPECT_FALSE(FinishChecksum(*p)) << offload.csum_start << "+" << offload.csum_offset;
    EXPECT_EQ(Bytes(*p), frame);
    EXPECT_TRUE(p->offload.csum_partial);
    pool.Free(p);
  }
}

}  // namespace
}  // namespace dove::dswitch::offload
