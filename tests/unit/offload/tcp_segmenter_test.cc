// SegmentTcp, TcpSegmentCount and LayoutUdpGso: every segment byte for byte what a sender
// without TSO would have put on the wire (built independently by src/net's builders: id + i,
// sequence advanced, FIN/PSH on the last, CWR on the first, every checksum complete), the
// UDP GSO layout datagram by datagram, and a table of refusals (ported from
// tests/unit/io/gso_test.cc).
#include "dswitch/offload/tcp_segmenter.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/offload/test_frames.h"

namespace dove::dswitch::offload {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test's own frames

constexpr uint8_t kAllFlags = net::tcp_flag::kAck | net::tcp_flag::kPsh | net::tcp_flag::kFin |
                              net::tcp_flag::kCwr | net::tcp_flag::kEce;

// The wire segments `super_spec` with `payload` stands for, built one by one.
std::vector<std::vector<uint8_t>> ExpectedSegments(const TcpSpec& super_spec,
                                                   const std::vector<uint8_t>& payload,
                                                   size_t mss = kMss) {
  std::vector<std::vector<uint8_t>> segments;
  const size_t count = payload.empty() ? 1 : (payload.size() + mss - 1) / mss;
  for (size_t i = 0; i < count; ++i) {
    TcpSpec spec = super_spec;
    spec.partial_checksum = false;
    spec.id = static_cast<uint16_t>(super_spec.id + i);
    spec.sequence = super_spec.sequence + static_cast<uint32_t>(i * mss);
    if (i + 1 != count)
      spec.flags &= static_cast<uint8_t>(~(net::tcp_flag::kFin | net::tcp_flag::kPsh));
    if (i != 0) spec.flags &= static_cast<uint8_t>(~net::tcp_flag::kCwr);
    const size_t length = std::min(mss, payload.size() - i * mss);
    segments.push_back(TcpFrame(
        spec, std::vector<uint8_t>(payload.begin() + static_cast<long>(i * mss),
                                   payload.begin() + static_cast<long>(i * mss + length))));
  }
  return segments;
}

struct SegmentCase {
  const char* description;
  TcpSpec spec;
  size_t payload_size;
  size_t segments;
  uint16_t mss = kMss;
};

TEST(SegmentTcpTest, CutsSuperFramesIntoTheSegmentsASenderWouldHaveSent) {
  const std::vector<SegmentCase> cases = {
      {"IPv4, odd last segment, every flag", {.flags = kAllFlags}, 3 * kMss + 100, 4},
      {"IPv6, odd last segment, every flag", {.ipv6 = true, .flags = kAllFlags}, 3 * kMss + 100, 4},
      {"IPv4 without TCP options", {.options = {}}, 2 * kMss + 1, 3},
      {"IPv6 without TCP options", {.ipv6 = true, .options = {}}, 5 * kMss + 999, 6},
      {"an exact multiple of the MSS leaves no empty segment",
       {.flags = net::tcp_flag::kAck | net::tcp_flag::kEce},
       2 * kMss,
       2},
      {"a short super-frame becomes one valid segment", {.flags = kAllFlags}, kMss / 2, 1},
      {"no payload at all: one segment", {}, 0, 1},
      {"the IPv4 id wraps", {.id = 0xffff}, 3 * kMss, 3},
      {"the smallest gso_size: 3000 bytes in 63 segments", {}, 3000, 63, 48},
      {"a 64 KiB super-frame", {}, 65535 - 20 - 20 - kTcpOptions.size(), 66},
  };
  packet::PacketPool pool({.small_slots = 128, .large_slots = 2});
  for (const SegmentCase& c : cases) {
    SCOPED_TRACE(c.description);
    TcpSpec super_spec = c.spec;
    super_spec.partial_checksum = true;
    const auto payload = Pattern(c.payload_size);
    packet::Packet* super =
        MakePacket(pool, TcpFrame(super_spec, payload), SuperOffload(super_spec, c.mss));
    ASSERT_NE(super, nullptr);
    super->meta.out_port = 7;
    super->meta.vni = 42;
    EXPECT_EQ(TcpSegmentCount(*super), c.segments);
    packet::PacketBatch out;
    packet::Packet* before = pool.Alloc(1);
    out.Push(before);  // segments are appended after what `out` holds
    const size_t in_use = pool.in_use();
    const auto count = SegmentTcp(*super, pool, out);
    ASSERT_TRUE(count) << count.error();
    EXPECT_EQ(*count, c.segments);
    ASSERT_EQ(out.size(), 1 + c.segments);
    EXPECT_EQ(out[0], before);
    EXPECT_EQ(pool.in_use(), in_use + c.segments);
    const auto expected = ExpectedSegments(super_spec, payload, c.mss);
    ASSERT_EQ(expected.size(), c.segments);
    for (size_t i = 0; i < c.segments; ++i) {
      const packet::Packet& segment = *out[1 + i];
      EXPECT_EQ(Bytes(segment), expected[i]) << "segment " << i;
      EXPECT_EQ(segment.meta.out_port, 7u);
      EXPECT_EQ(segment.meta.vni, 42u);
      EXPECT_FALSE(segment.offload.is_gso());
      EXPECT_FALSE(segment.offload.csum_partial);
    }
    pool.Free(out);
    pool.Free(super);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

// The checks of gso_test.cc, on the parsers' side: each segment verifies on its own.
TEST(SegmentTcpTest, EverySegmentVerifies) {
  packet::PacketPool pool({.small_slots = 16, .large_slots = 1});
  for (const bool ipv6 : {false, true}) {
    const TcpSpec spec{.ipv6 = ipv6, .flags = kAllFlags, .partial_checksum = true};
    const auto payload = Pattern(3 * kMss + 100);
    packet::Packet* super = MakePacket(pool, TcpFrame(spec, payload), SuperOffload(spec));
    packet::PacketBatch out;
    ASSERT_TRUE(SegmentTcp(*super, pool, out));
    std::vector<uint8_t> joined;
    for (size_t i = 0; i < out.size(); ++i) {
      const auto ethernet = net::ParseEthernet(out[i]->span());
      ASSERT_TRUE(ethernet);
      net::ByteSpan tcp_bytes;
      if (ipv6) {
        const auto ip = net::ParseIpv6(ethernet->payload);
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->header.payload_length.value(), ethernet->payload.size() - 40);
        EXPECT_TRUE(net::ParseTcp(ip->payload, kSource6, kDestination6));
        tcp_bytes = ip->payload;
      } else {
        const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/true);
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->header.identification.value(), kIpId + i);
        EXPECT_EQ(ip->total_length(), ethernet->payload.size());
        EXPECT_TRUE(ip->header.dont_fragment());
        EXPECT_TRUE(net::ParseTcp(ip->payload, kSource4, kDestination4));
        tcp_bytes = ip->payload;
      }
      const auto tcp = net::ParseTcp(tcp_bytes);
      ASSERT_TRUE(tcp);
      const bool last = i + 1 == out.size();
      EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kFin), last);
      EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kPsh), last);
      EXPECT_EQ(tcp->HasFlags(net::tcp_flag::kCwr), i == 0);
      EXPECT_TRUE(tcp->HasFlags(net::tcp_flag::kAck | net::tcp_flag::kEce));
      joined.insert(joined.end(), tcp->payload.begin(), tcp->payload.end());
    }
    EXPECT_EQ(joined, payload);
    pool.Free(out);
    pool.Free(super);
  }
}

TEST(SegmentTcpTest, EthernetPaddingIsNotPayload) {
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  const TcpSpec spec{.partial_checksum = true};
  auto frame = TcpFrame(spec, Pattern(3));
  frame.resize(frame.size() + 5, 0xee);  // padding after the IP packet
  packet::Packet* super = MakePacket(pool, frame, SuperOffload(spec));
  packet::PacketBatch out;
  ASSERT_TRUE(SegmentTcp(*super, pool, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Bytes(*out[0]), ExpectedSegments(spec, Pattern(3))[0]);
}

TEST(SegmentTcpTest, ANonPartialSuperFrameIsCutAlike) {
  // A GSO frame without csum_partial: the checksum is computed in full anyway.
  packet::PacketPool pool({.small_slots = 8, .large_slots = 1});
  const TcpSpec spec{};
  auto offload = SuperOffload(spec);
  offload.csum_partial = false;
  packet::Packet* super = MakePacket(pool, TcpFrame(spec, Pattern(2500)), offload);
  packet::PacketBatch out;
  ASSERT_TRUE(SegmentTcp(*super, pool, out));
  ASSERT_EQ(out.size(), 3u);
  const auto expected = ExpectedSegments(spec, Pattern(2500));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(Bytes(*out[i]), expected[i]);
}

TEST(SegmentTcpTest, AllOrNothingWhenThePoolRunsOut) {
  packet::PacketPool pool({.small_slots = 3, .large_slots = 1});
  const TcpSpec spec{.partial_checksum = true};
  packet::Packet* super = MakePacket(pool, TcpFrame(spec, Pattern(4 * kMss)), SuperOffload(spec));
  packet::PacketBatch out;
  const auto count = SegmentTcp(*super, pool, out);  // 4 segments, 2 small slots + 1 large free
  EXPECT_FALSE(count);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(pool.in_use(), 1u);
}

struct Refusal {
  const char* description;
  packet::OffloadInfo offload;
  std::vector<uint8_t> frame;
};

TEST(SegmentTcpTest, Refuses) {
  const TcpSpec spec4{.partial_checksum = true};
  const TcpSpec spec6{.ipv6 = true, .partial_checksum = true};
  const auto tcp4 = TcpFrame(spec4, Pattern(3 * kMss));
  const auto tcp6 = TcpFrame(spec6, Pattern(3 * kMss));
  const auto gso4 = SuperOffload(spec4);
  const auto gso6 = SuperOffload(spec6);
  auto with = [](packet::OffloadInfo offload, auto change) {
    change(offload);
    return offload;
  };
  auto udp = tcp4;
  udp[14 + 9] = net::ip_proto::kUdp;
  auto fragment = tcp4;
  fragment[14 + 6] |= 0x20;  // More Fragments
  const std::vector<Refusal> cases = {
      {"not a GSO packet", with(gso4, [](auto& o) { o.gso = packet::GsoType::kNone; }), tcp4},
      {"gso_size 0", with(gso4, [](auto& o) { o.gso_size = 0; }), tcp4},
      {"gso_size 47, below any MSS Linux sends", with(gso4, [](auto& o) { o.gso_size = 47; }),
       tcp4},
      {"TCPV4 over an IPv6 frame", with(gso6, [](auto& o) { o.gso = packet::GsoType::kTcp4; }),
       tcp6},
      {"TCPV6 over an IPv4 frame", with(gso4, [](auto& o) { o.gso = packet::GsoType::kTcp6; }),
       tcp4},
      {"TCPV4 over UDP", gso4, udp},
      {"an IPv4 fragment", gso4, fragment},
      {"partial checksum not at the TCP checksum", with(gso4, [](auto& o) { o.csum_offset = 6; }),
       tcp4},
      {"partial checksum starting elsewhere", with(gso4, [](auto& o) { o.csum_start = 14; }), tcp4},
      {"truncated Ethernet", gso4, std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + 10)},
      {"truncated IPv4 header", gso4, std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + 30)},
      {"IPv4 total length beyond the frame", gso4,
       std::vector<uint8_t>(tcp4.begin(), tcp4.end() - 1)},
      {"truncated TCP header", gso4,
       [&] {
         auto cut = std::vector<uint8_t>(tcp4.begin(), tcp4.begin() + 14 + 20 + 10);
         Put16(cut, 14 + 2, 30);  // an IPv4 total length that agrees with the cut
         return cut;
       }()},
      {"truncated IPv6 header", gso6, std::vector<uint8_t>(tcp6.begin(), tcp6.begin() + 40)},
      {"ARP", gso4,
       [] {
         std::vector<uint8_t> arp(60, 0);
         arp[12] = 0x08;
         arp[13] = 0x06;
         return arp;
       }()},
  };
  packet::PacketPool pool({.small_slots = 8, .large_slots = 1});
  for (const Refusal& refusal : cases) {
    SCOPED_TRACE(refusal.description);
    packet::Packet* p = MakePacket(pool, refusal.frame, refusal.offload);
    packet::PacketBatch out;
    const auto count = SegmentTcp(*p, pool, out);
    EXPECT_FALSE(count);
    if (!count) {
      EXPECT_NE(std::string(count.error()), "");
    }
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(TcpSegmentCount(*p), 0u);
    std::vector<uint8_t> buffer(65536);
    EXPECT_FALSE(LayoutUdpGso(*p, {}, 0, 64, buffer));
    pool.Free(p);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

// LayoutUdpGso: each datagram is the prefix then exactly SegmentTcp's segment; all are
// segment_size bytes but the last; a buffer too small for all of them is filled and the next
// call resumes where it stopped.
TEST(LayoutUdpGsoTest, LaysOutTheSegmentsBehindThePrefix) {
  const std::vector<uint8_t> vxlan = {0x08, 0, 0, 0, 0, 0, 42, 0};
  struct Case {
    const char* description;
    TcpSpec spec;
    size_t payload_size;
    size_t buffer_size;            // of `out`
    size_t max_segments;           // per call
    std::vector<size_t> per_call;  // segments each call lays out
  };
  const size_t full4 = 8 + 14 + 20 + 20 + kTcpOptions.size() + kMss;
  const std::vector<Case> cases = {
      {"IPv4, all at once", {}, 5 * kMss + 333, 65507, 64, {6}},
      {"IPv6 without options, all at once",
       {.ipv6 = true, .options = {}},
       5 * kMss + 333,
       65507,
       64,
       {6}},
      {"exact multiple", {}, 4 * kMss, 65507, 64, {4}},
      {"one short segment", {}, 100, 65507, 64, {1}},
      {"max_segments 2", {}, 5 * kMss + 1, 65507, 2, {2, 2, 2}},
      {"buffer for 3 full datagrams", {}, 7 * kMss, 3 * full4 + full4 - 1, 64, {3, 3, 1}},
      {"a 64 KiB super-frame in two sends under 65507 bytes",
       {},
       65535 - 20 - 32,
       65507 - 8 - 20,
       64,
       {60, 6}},
  };
  packet::PacketPool pool({.small_slots = 128, .large_slots = 2});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    TcpSpec spec = c.spec;
    spec.partial_checksum = true;
    spec.flags = kAllFlags;
    packet::Packet* super =
        MakePacket(pool, TcpFrame(spec, Pattern(c.payload_size)), SuperOffload(spec));
    packet::PacketBatch segments;
    const auto count = SegmentTcp(*super, pool, segments);
    ASSERT_TRUE(count);
    const size_t headers = TcpAt(spec.ipv6) + 20 + spec.options.size();
    std::vector<uint8_t> buffer(c.buffer_size);
    size_t next = 0;
    for (size_t call = 0; call < c.per_call.size(); ++call) {
      SCOPED_TRACE("call " + std::to_string(call));
      const auto layout = LayoutUdpGso(*super, vxlan, next, c.max_segments, buffer);
      ASSERT_TRUE(layout) << layout.error();
      EXPECT_EQ(layout->segments, c.per_call[call]);
      EXPECT_EQ(layout->segment_size, 8 + headers + kMss);
      EXPECT_EQ(layout->next_segment, next + layout->segments);
      size_t at = 0;
      for (size_t i = 0; i < layout->segments; ++i) {
        const packet::Packet& expected = *segments[next + i];
        const bool last_of_all = next + i + 1 == *count;
        if (!last_of_all) {
          EXPECT_EQ(8 + expected.size(), layout->segment_size);
        }
        ASSERT_LE(at + 8 + expected.size(), layout->bytes);
        EXPECT_EQ(std::vector<uint8_t>(buffer.begin() + static_cast<long>(at),
                                       buffer.begin() + static_cast<long>(at + 8)),
                  vxlan);
        EXPECT_EQ(
            std::vector<uint8_t>(buffer.begin() + static_cast<long>(at + 8),
                                 buffer.begin() + static_cast<long>(at + 8 + expected.size())),
            Bytes(expected))
            << "segment " << next + i;
        at += 8 + expected.size();
      }
      EXPECT_EQ(at, layout->bytes);
      EXPECT_LE(layout->bytes, buffer.size());
      next = layout->next_segment;
    }
    EXPECT_EQ(next, *count);
    EXPECT_EQ(TcpSegmentCount(*super), *count);
    // Nothing is left to lay out.
    EXPECT_FALSE(LayoutUdpGso(*super, vxlan, next, c.max_segments, buffer));
    pool.Free(segments);
    pool.Free(super);
  }
}

TEST(LayoutUdpGsoTest, RefusesWhenNotOneSegmentFits) {
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  const TcpSpec spec{.partial_checksum = true};
  packet::Packet* super = MakePacket(pool, TcpFrame(spec, Pattern(3 * kMss)), SuperOffload(spec));
  std::vector<uint8_t> buffer(8 + 14 + 20 + 32 + kMss - 1);
  EXPECT_FALSE(LayoutUdpGso(*super, std::vector<uint8_t>(8), 0, 64, buffer));
  std::vector<uint8_t> large(65507);
  EXPECT_FALSE(LayoutUdpGso(*super, std::vector<uint8_t>(8), 0, 0, large));
  buffer.push_back(0);
  const auto layout = LayoutUdpGso(*super, std::vector<uint8_t>(8), 0, 64, buffer);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->segments, 1u);
}

}  // namespace
}  // namespace dove::dswitch::offload
