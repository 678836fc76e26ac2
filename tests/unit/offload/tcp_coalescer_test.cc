// TcpCoalescer: cutting a super-frame with SegmentTcp and merging the segments gives back the
// super-frame, byte for byte and with its OffloadInfo (IPv4 and IPv6, with and without TCP
// options, odd last segment); a table of pairs that must not merge, each passing unchanged and
// in order; run shapes (short last segment, PSH, the 64 KiB bound); pool exhaustion; and no
// heap allocation once warm.
#include "dswitch/offload/tcp_coalescer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>

#include "dswitch/offload/tcp_segmenter.h"
#include "unit/offload/test_frames.h"

// Counts heap allocations, to show the coalescer makes none in steady state.
namespace {
std::atomic<size_t> allocations{0};
}  // namespace

void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Not inlined: GCC would otherwise see a `new` expression's memory reach free() and warn.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace dove::dswitch::offload {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test's own frames
using packet::Packet;
using packet::PacketBatch;
using packet::PacketPool;

constexpr packet::PortId kPort = 3;
constexpr uint32_t kVni = 42;

Packet* Wire(PacketPool& pool, const std::vector<uint8_t>& bytes) {
  Packet* p = MakePacket(pool, bytes);
  p->meta.out_port = kPort;
  p->meta.vni = kVni;
  return p;
}

// `spec` placed at payload byte `from` of the stream: sequence and IPv4 id advanced.
TcpSpec At(TcpSpec spec, size_t from) {
  spec.sequence = kSequence + static_cast<uint32_t>(from);
  spec.id = static_cast<uint16_t>(kIpId + from / kMss);
  return spec;
}

// The wire segment of `spec` carrying payload bytes [from, from + size) of the stream.
std::vector<uint8_t> Segment(const TcpSpec& spec, size_t from, size_t size) {
  return BuildTcpFrame(At(spec, from), Pattern(size, from));
}

void ExpectSameOffload(const packet::OffloadInfo& got, const packet::OffloadInfo& want) {
  EXPECT_EQ(got.gso, want.gso);
  EXPECT_EQ(got.gso_ecn, want.gso_ecn);
  EXPECT_EQ(got.gso_size, want.gso_size);
  EXPECT_EQ(got.csum_partial, want.csum_partial);
  EXPECT_EQ(got.csum_start, want.csum_start);
  EXPECT_EQ(got.csum_offset, want.csum_offset);
  EXPECT_EQ(got.csum_valid, want.csum_valid);
}

struct RoundTrip {
  const char* description;
  TcpSpec spec;
  size_t payload_size;
  size_t segments;
};

TEST(TcpCoalescerTest, MergesSegmentTcpsOutputBackIntoTheSuperFrame) {
  const std::vector<RoundTrip> cases = {
      {"IPv4, timestamps, odd last", {}, 3 * kMss + 100, 4},
      {"IPv6, timestamps, odd last", {.ipv6 = true}, 3 * kMss + 100, 4},
      {"IPv4, no options, exact multiple", {.options = {}}, 5 * kMss, 5},
      {"IPv6, no options, odd last", {.ipv6 = true, .options = {}}, 7 * kMss + 1, 8},
      {"PSH on the last, CWR and ECE on the first",
       {.flags =
            net::tcp_flag::kAck | net::tcp_flag::kPsh | net::tcp_flag::kCwr | net::tcp_flag::kEce},
       2 * kMss + 7,
       3},
      {"IPv6 with PSH",
       {.ipv6 = true, .flags = net::tcp_flag::kAck | net::tcp_flag::kPsh},
       kMss + 1,
       2},
      {"the IPv4 id wraps inside", {.id = 0xfffe}, 4 * kMss, 4},
      {"64 KiB of IP packet", {}, 65535 - 20 - 32, 66},
  };
  PacketPool pool({.small_slots = 256, .large_slots = 4});
  TcpCoalescer coalescer(pool);
  for (const RoundTrip& c : cases) {
    SCOPED_TRACE(c.description);
    TcpSpec spec = c.spec;
    spec.partial_checksum = true;
    const auto frame = BuildTcpFrame(spec, Pattern(c.payload_size));
    Packet* super = MakePacket(pool, frame, SuperOffload(spec));
    super->meta.out_port = kPort;
    super->meta.vni = kVni;
    PacketBatch batch;
    ASSERT_TRUE(SegmentTcp(*super, pool, batch));
    ASSERT_EQ(batch.size(), c.segments);
    const CoalescerCounters before = coalescer.counters();
    coalescer.Process(batch);
    ASSERT_EQ(batch.size(), 1u);
    const Packet& merged = *batch[0];
    EXPECT_EQ(Bytes(merged), frame);
    ExpectSameOffload(merged.offload, super->offload);
    EXPECT_EQ(merged.meta.out_port, kPort);
    EXPECT_EQ(merged.meta.vni, kVni);
    EXPECT_TRUE(merged.large());
    EXPECT_EQ(coalescer.counters().merged_frames, before.merged_frames + 1);
    EXPECT_EQ(coalescer.counters().merged_segments, before.merged_segments + c.segments);
    EXPECT_EQ(pool.in_use(), 2u);  // the super-frame and the merged one: segments freed
    // And cut again, the merged one gives the same segments.
    PacketBatch again;
    ASSERT_TRUE(SegmentTcp(merged, pool, again));
    PacketBatch original;
    ASSERT_TRUE(SegmentTcp(*super, pool, original));
    ASSERT_EQ(again.size(), original.size());
    for (size_t i = 0; i < again.size(); ++i) EXPECT_EQ(Bytes(*again[i]), Bytes(*original[i]));
    pool.Free(again);
    pool.Free(original);
    pool.Free(batch);
    pool.Free(super);
  }
  EXPECT_EQ(coalescer.counters().bad_checksum, 0u);
  EXPECT_EQ(pool.in_use(), 0u);
}

struct NoMerge {
  const char* description;
  // Changes the specs of the two segments (A: payload [0, kMss), B: [kMss, 2 kMss)) or, after
  // they are built, their packets.
  std::function<void(TcpSpec& a, TcpSpec& b)> specs = [](TcpSpec&, TcpSpec&) {};
  std::function<void(Packet& a, Packet& b)> packets = [](Packet&, Packet&) {};
  size_t a_size = kMss;
  size_t b_size = kMss;
  uint64_t bad_checksums = 0;
};

// Rewrites the IPv4 header checksum after a change to the header.
void FixIpv4Checksum(Packet& p) {
  const net::MutableByteSpan bytes = p.mutable_span();
  bytes[14 + 10] = 0;
  bytes[14 + 11] = 0;
  const uint16_t checksum = net::InternetChecksum(bytes.subspan(14, size_t{bytes[14] & 0x0fu} * 4));
  bytes[14 + 10] = static_cast<uint8_t>(checksum >> 8);
  bytes[14 + 11] = static_cast<uint8_t>(checksum);
}

// Inserts 4 bytes of IPv4 options (NOP, NOP, NOP, End) into an Ethernet/IPv4 frame.
void AddIpv4Options(Packet& p) {
  std::vector<uint8_t> bytes = Bytes(p);
  bytes.insert(bytes.begin() + 34, {1, 1, 1, 0});
  bytes[14] = 0x46;
  Put16(bytes, 14 + 2, static_cast<uint16_t>(Get16(bytes, 14 + 2) + 4));
  ASSERT_TRUE(p.Assign(bytes));
  FixIpv4Checksum(p);
}

TEST(TcpCoalescerTest, PassesWhatMustNotMergeUnchangedAndInOrder) {
  using F = uint8_t;
  const std::vector<NoMerge> cases = {
      {"a gap in the sequence", [](TcpSpec&, TcpSpec& b) { b.sequence += 1; }},
      {"a segment repeated",
       [](TcpSpec&, TcpSpec& b) { b.sequence -= static_cast<uint32_t>(kMss); }},
      {"another flow (source port)", [](TcpSpec&, TcpSpec& b) { b.source_port++; }},
      {"another IP version", [](TcpSpec&, TcpSpec& b) { b.ipv6 = true; }},
      {"another out_port", {}, [](Packet&, Packet& b) { b.meta.out_port = kPort + 1; }},
      {"another VNI", {}, [](Packet&, Packet& b) { b.meta.vni = kVni + 1; }},
      {"another tunnel",
       {},
       [](Packet&, Packet& b) { b.meta.tunnel = *net::Ipv4Address::Parse("192.0.2.9"); }},
      {"another destination MAC", {}, [](Packet&, Packet& b) { b.data()[5] ^= 1; }},
      {"SYN", [](TcpSpec& a,
                 TcpSpec& b) { a.flags = b.flags = net::tcp_flag::kAck | net::tcp_flag::kSyn; }},
      {"FIN on the first", [](TcpSpec& a, TcpSpec&) { a.flags |= net::tcp_flag::kFin; }},
      {"RST", [](TcpSpec& a,
                 TcpSpec& b) { a.flags = b.flags = F{net::tcp_flag::kAck | net::tcp_flag::kRst}; }},
      {"URG", [](TcpSpec& a,
                 TcpSpec& b) { a.flags = b.flags = F{net::tcp_flag::kAck | net::tcp_flag::kUrg}; }},
      {"no ACK", [](TcpSpec& a, TcpSpec& b) { a.flags = b.flags = 0; }},
      {"PSH on the first", [](TcpSpec& a, TcpSpec&) { a.flags |= net::tcp_flag::kPsh; }},
      {"CWR on the second", [](TcpSpec&, TcpSpec& b) { b.flags |= net::tcp_flag::kCwr; }},
      {"ECE on one only", [](TcpSpec&, TcpSpec& b) { b.flags |= net::tcp_flag::kEce; }},
      {"another ACK number", [](TcpSpec&, TcpSpec& b) { b.ack++; }},
      {"another window", [](TcpSpec&, TcpSpec& b) { b.window++; }},
      {"another TTL", [](TcpSpec&, TcpSpec& b) { b.ttl--; }},
      {"other TCP options (timestamp)", [](TcpSpec&, TcpSpec& b) { b.options[7]++; }},
      {"TCP options on one only", [](TcpSpec&, TcpSpec& b) { b.options.clear(); }},
      {"a bad TCP checksum on the second",
       {},
       [](Packet&, Packet& b) { b.data()[b.size() - 1] ^= 0x40; },
       kMss,
       kMss,
       1},
      {"a bad TCP checksum on the first",
       {},
       [](Packet& a, Packet&) { a.data()[a.size() - 1] ^= 0x40; },
       kMss,
       kMss,
       1},
      {"a bad IPv4 header checksum",
       {},
       [](Packet& a, Packet&) { a.data()[14 + 8] ^= 1; },
       kMss,
       kMss,
       1},
      {"IPv4 options",
       {},
       [](Packet& a, Packet& b) {
         AddIpv4Options(a);
         AddIpv4Options(b);
       }},
      {"IPv4 fragments",
       {},
       [](Packet& a, Packet& b) {
         for (Packet* p : {&a, &b}) {
           p->data()[14 + 6] |= 0x20;  // More Fragments
           FixIpv4Checksum(*p);
         }
       }},
      {"another DF",
       {},
       [](Packet&, Packet& b) {
         b.data()[14 + 6] &= 0xbf;
         FixIpv4Checksum(b);
       }},
      {"payload-less ACKs", {}, {}, 0, 0},
      {"the second larger than the first", {}, {}, kMss, kMss + 1},
      {"a first below the smallest MSS", {}, {}, 47, 47},
      {"a partial checksum on the input",
       {},
       [](Packet& a, Packet& b) {
         for (Packet* p : {&a, &b}) {
           p->offload.csum_partial = true;
           p->offload.csum_start = 34;
           p->offload.csum_offset = 16;
         }
       }},
      {"the 64 KiB bound", {}, {}, 40000, 25504},  // 20 + 32 + 65504 = 65536
  };
  PacketPool pool({.small_slots = 16, .large_slots = 4});
  for (const NoMerge& c : cases) {
    SCOPED_TRACE(c.description);
    TcpSpec a_spec = At({}, 0);
    TcpSpec b_spec = At({}, c.a_size);
    if (c.specs) c.specs(a_spec, b_spec);
    Packet* a = Wire(pool, BuildTcpFrame(a_spec, Pattern(c.a_size)));
    Packet* b = Wire(pool, BuildTcpFrame(b_spec, Pattern(c.b_size, c.a_size)));
    // A third packet of another kind after the pair: order is kept around the run too.
    Packet* other = Wire(pool, std::vector<uint8_t>(60, 0xab));
    if (c.packets) c.packets(*a, *b);
    const auto a_bytes = Bytes(*a);
    const auto b_bytes = Bytes(*b);
    PacketBatch batch;
    batch.Push(a);
    batch.Push(b);
    batch.Push(other);
    TcpCoalescer coalescer(pool);
    coalescer.Process(batch);
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(batch[0], a);
    EXPECT_EQ(batch[1], b);
    EXPECT_EQ(batch[2], other);
    EXPECT_EQ(Bytes(*a), a_bytes);
    EXPECT_EQ(Bytes(*b), b_bytes);
    EXPECT_EQ(coalescer.counters().merged_frames, 0u);
    EXPECT_EQ(coalescer.counters().bad_checksum, c.bad_checksums);
    pool.Free(batch);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

// The control for the table above: the same pair, unchanged, merges.
TEST(TcpCoalescerTest, TheUnchangedPairMerges) {
  PacketPool pool({.small_slots = 4, .large_slots = 1});
  PacketBatch batch;
  batch.Push(Wire(pool, Segment({}, 0, kMss)));
  batch.Push(Wire(pool, Segment({}, kMss, kMss)));
  TcpCoalescer coalescer(pool);
  coalescer.Process(batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0]->offload.gso_size, kMss);
  EXPECT_EQ(coalescer.counters().merged_segments, 2u);
}

// Runs end at a short segment or a PSH, restart after, and never swallow other packets.
TEST(TcpCoalescerTest, RunShapes) {
  struct Piece {
    size_t from;
    size_t size;
    uint8_t extra_flags = 0;
  };
  struct Case {
    const char* description;
    std::vector<Piece> pieces;
    std::vector<size_t> merged_counts;  // segments in each output packet
  };
  const std::vector<Case> cases = {
      {"short then more: the short one ends the run",
       {{0, kMss}, {kMss, 500}, {kMss + 500, 500}},
       {2, 1}},
      {"PSH ends the run, the next starts one",
       {{0, kMss}, {kMss, kMss, net::tcp_flag::kPsh}, {2 * kMss, kMss}, {3 * kMss, kMss}},
       {2, 2}},
      {"a larger one in the middle starts a run of its own",
       {{0, 500}, {500, kMss}, {500 + kMss, kMss}},
       {1, 2}},
      {"seventy full segments: 65 make 64 KiB, 5 the next",
       [] {
         std::vector<Piece> pieces;
         for (size_t i = 0; i < 70; ++i) pieces.push_back({i * kMss, kMss});
         return pieces;
       }(),
       {65, 5}},
  };
  PacketPool pool({.small_slots = 128, .large_slots = 4});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    PacketBatch batch;
    for (const Piece& piece : c.pieces) {
      TcpSpec spec;
      spec.flags |= piece.extra_flags;
      batch.Push(Wire(pool, Segment(spec, piece.from, piece.size)));
    }
    TcpCoalescer coalescer(pool);
    coalescer.Process(batch);
    ASSERT_EQ(batch.size(), c.merged_counts.size());
    size_t piece = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const size_t count = c.merged_counts[i];
      size_t payload = 0;
      for (size_t k = 0; k < count; ++k) payload += c.pieces[piece + k].size;
      const size_t headers = 14 + 20 + 20 + kTcpOptions.size();
      EXPECT_EQ(batch[i]->size(), headers + payload) << "output " << i;
      EXPECT_EQ(batch[i]->offload.is_gso(), count > 1) << "output " << i;
      // The payload is the stream's bytes in order, and a lone segment is unchanged.
      EXPECT_EQ(
          std::vector<uint8_t>(batch[i]->data() + headers, batch[i]->data() + batch[i]->size()),
          Pattern(payload, c.pieces[piece].from));
      piece += count;
    }
    pool.Free(batch);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

TEST(TcpCoalescerTest, InterleavedTrafficKeepsItsOrder) {
  PacketPool pool({.small_slots = 16, .large_slots = 2});
  Packet* arp = Wire(pool, std::vector<uint8_t>(60, 0x06));
  Packet* udp = Wire(pool, std::vector<uint8_t>(80, 0x11));
  PacketBatch batch;
  batch.Push(arp);
  for (size_t i = 0; i < 3; ++i) batch.Push(Wire(pool, Segment({}, i * kMss, kMss)));
  batch.Push(udp);
  for (size_t i = 3; i < 5; ++i) batch.Push(Wire(pool, Segment({}, i * kMss, kMss)));
  TcpCoalescer coalescer(pool);
  coalescer.Process(batch);
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0], arp);
  EXPECT_EQ(batch[1]->size(), 14 + 20 + 32 + 3 * kMss);
  EXPECT_EQ(batch[2], udp);
  EXPECT_EQ(batch[3]->size(), 14 + 20 + 32 + 2 * kMss);
  EXPECT_EQ(coalescer.counters().merged_frames, 2u);
  EXPECT_EQ(pool.in_use(), 4u);
  pool.Free(batch);
}

TEST(TcpCoalescerTest, WithoutALargeSlotTheSegmentsPassUnmerged) {
  PacketPool pool({.small_slots = 8, .large_slots = 1});
  Packet* hog = pool.AllocLarge();
  PacketBatch batch;
  for (size_t i = 0; i < 3; ++i) batch.Push(Wire(pool, Segment({}, i * kMss, kMss)));
  const std::vector<Packet*> before(batch.begin(), batch.end());
  TcpCoalescer coalescer(pool);
  coalescer.Process(batch);
  EXPECT_EQ(std::vector<Packet*>(batch.begin(), batch.end()), before);
  EXPECT_EQ(coalescer.counters().no_slot, 1u);
  EXPECT_EQ(coalescer.counters().merged_frames, 0u);
  pool.Free(hog);
  pool.Free(batch);
}

TEST(TcpCoalescerTest, AllocatesNothingOnceWarm) {
  PacketPool pool({.small_slots = 256, .large_slots = 8});
  TcpCoalescer coalescer(pool);
  PacketBatch batch;
  auto fill = [&](size_t round) {
    for (size_t i = 0; i < 64; ++i) {
      Packet* p = pool.Alloc(2000);
      const auto bytes = Segment({}, (round * 64 + i) * kMss, kMss);
      p->Assign(bytes);
      p->meta.out_port = kPort;
      batch.Push(p);
    }
  };
  fill(0);
  coalescer.Process(batch);
  pool.Free(batch);
  const std::vector<std::vector<uint8_t>> frames = [] {
    std::vector<std::vector<uint8_t>> all;
    for (size_t i = 0; i < 64; ++i) all.push_back(Segment({}, (64 + i) * kMss, kMss));
    return all;
  }();
  for (const auto& frame : frames) {
    Packet* p = pool.Alloc(frame.size());
    p->Assign(frame);
    p->meta.out_port = kPort;
    batch.Push(p);
  }
  const size_t before = allocations.load();
  coalescer.Process(batch);
  EXPECT_EQ(allocations.load(), before);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(coalescer.counters().merged_segments, 128u);
  pool.Free(batch);
}

}  // namespace
}  // namespace dove::dswitch::offload
