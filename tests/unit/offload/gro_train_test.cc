// SplitGroTrain: a UDP GRO buffer of VXLAN datagrams gives what splitting it and running
// TcpCoalescer gives (the reference), the first run merged in place.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dswitch/offload/tcp_coalescer.h"
#include "unit/offload/test_frames.h"

namespace dove::dswitch::offload {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the test's own frames
using packet::Packet;
using packet::PacketBatch;
using packet::PacketPool;

constexpr size_t kPrefix = 8;  // a VXLAN header
const net::Ipv4Address kSender = *net::Ipv4Address::Parse("192.0.2.12");

// One datagram of a train: VXLAN header (its VNI) + frame.
struct Datagram {
  uint32_t vni = 42;
  std::vector<uint8_t> frame;
};

std::vector<uint8_t> Prefixed(const Datagram& d) {
  std::vector<uint8_t> bytes = {0x08,
                                0,
                                0,
                                0,
                                static_cast<uint8_t>(d.vni >> 16),
                                static_cast<uint8_t>(d.vni >> 8),
                                static_cast<uint8_t>(d.vni),
                                0};
  bytes.insert(bytes.end(), d.frame.begin(), d.frame.end());
  return bytes;
}

// The wire segment carrying payload [from, from + size) of a stream, with extra flags.
std::vector<uint8_t> Wire(size_t from, size_t size, uint8_t extra_flags = 0,
                          uint16_t source_port = 40000) {
  TcpSpec spec;
  spec.flags |= extra_flags;
  spec.source_port = source_port;
  spec.sequence = kSequence + static_cast<uint32_t>(from);
  spec.id = static_cast<uint16_t>(kIpId + from / kMss);
  return BuildTcpFrame(spec, Pattern(size, from));
}

// `n` full segments of one stream from payload byte `from`.
std::vector<Datagram> Stream(size_t n, size_t from = 0) {
  std::vector<Datagram> out;
  for (size_t i = 0; i < n; ++i) out.push_back({.frame = Wire(from + i * kMss, kMss)});
  return out;
}

struct Case {
  std::string description;
  std::vector<Datagram> datagrams;  // all but the last of one size: a GRO train's shape
  std::vector<size_t> merged;       // datagrams in each output packet
  uint64_t bad_checksum = 0;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({"one flow, ten full segments: one super-frame", Stream(10), {10}});
  {
    auto d = Stream(9);
    d.push_back({.frame = Wire(9 * kMss, 300)});
    cases.push_back({"the last segment shorter: still one", d, {10}});
  }
  {
    auto d = Stream(10);
    d[3].frame = Wire(3 * kMss, kMss, net::tcp_flag::kPsh);
    cases.push_back({"PSH on the fourth ends a run", d, {4, 6}});
  }
  {
    std::vector<Datagram> d;
    for (size_t i = 0; i < 6; ++i) {
      d.push_back({.frame = Wire((i / 2) * kMss, kMss, 0, i % 2 == 0 ? 40000 : 40001)});
    }
    cases.push_back({"two flows alternating: nothing merges", d, {1, 1, 1, 1, 1, 1}});
  }
  {
    auto d = Stream(10);
    d[4].frame[d[4].frame.size() - 1] ^= 0x5a;  // payload corrupted after the checksum
    cases.push_back({"a bad checksum in the middle passes alone", d, {4, 1, 5}, 1});
  }
  {
    auto d = Stream(10);
    for (size_t i = 5; i < 10; ++i) d[i].vni = 43;
    cases.push_back({"another VNI from the sixth: two runs", d, {5, 5}});
  }
  {
    auto d = Stream(9, kMss);
    std::vector<uint8_t> other(d[0].frame.size(), 0x11);  // not TCP (the ether type is 0x1111)
    d.insert(d.begin(), Datagram{.frame = other});
    cases.push_back({"something else first: the run after it is copied out", d, {1, 9}});
  }
  return cases;
}

// The reference: every datagram a packet of its own, the prefix stripped, VNI in the metadata,
// TcpCoalescer::Process.
PacketBatch Reference(PacketPool& pool, const std::vector<Datagram>& datagrams,
                      TcpCoalescer& coalescer) {
  PacketBatch batch;
  for (const Datagram& d : datagrams) {
    Packet* p = MakePacket(pool, d.frame);
    p->meta.vni = d.vni;
    p->meta.tunnel = kSender;
    batch.Push(p);
  }
  coalescer.Process(batch);
  return batch;
}

Packet* Train(PacketPool& pool, const std::vector<Datagram>& datagrams, size_t& segment) {
  std::vector<uint8_t> bytes;
  segment = Prefixed(datagrams[0]).size();
  for (const Datagram& d : datagrams) {
    const auto one = Prefixed(d);
    EXPECT_TRUE(&d == &datagrams.back() ? one.size() <= segment : one.size() == segment);
    bytes.insert(bytes.end(), one.begin(), one.end());
  }
  Packet* train = pool.AllocLarge();
  EXPECT_TRUE(train->Assign(bytes));
  train->meta.tunnel = kSender;
  return train;
}

TEST(GroTrainTest, GivesWhatSplittingAndCoalescingGives) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.description);
    PacketPool pool({.small_slots = 64, .large_slots = 8});
    TcpCoalescer coalescer(pool);
    PacketBatch want = Reference(pool, c.datagrams, coalescer);

    size_t segment = 0;
    Packet* train = Train(pool, c.datagrams, segment);
    PacketBatch got;
    CoalescerCounters counters;
    EXPECT_EQ(SplitGroTrain(train, segment, kPrefix, pool, got, counters), 0u);

    ASSERT_EQ(got.size(), c.merged.size());
    ASSERT_EQ(want.size(), c.merged.size());
    size_t first = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("output " + std::to_string(i));
      Packet& p = *got[i];
      // The prefix of the run's first datagram stays in front.
      const auto prefix = Prefixed(c.datagrams[first]);
      ASSERT_GE(p.size(), kPrefix);
      EXPECT_EQ(std::memcmp(p.data(), prefix.data(), kPrefix), 0);
      EXPECT_EQ(p.meta.tunnel, kSender);
      EXPECT_EQ(p.offload.is_gso(), c.merged[i] > 1);
      EXPECT_EQ(Bytes(p), [&] {
        std::vector<uint8_t> bytes(prefix.begin(), prefix.begin() + kPrefix);
        const auto frame = Bytes(*want[i]);
        bytes.insert(bytes.end(), frame.begin(), frame.end());
        return bytes;
      }());
      EXPECT_EQ(p.offload.gso, want[i]->offload.gso);
      EXPECT_EQ(p.offload.gso_size, want[i]->offload.gso_size);
      EXPECT_EQ(p.offload.csum_partial, want[i]->offload.csum_partial);
      EXPECT_EQ(p.offload.csum_start, want[i]->offload.csum_start);
      EXPECT_EQ(p.offload.csum_offset, want[i]->offload.csum_offset);
      first += c.merged[i];
    }
    // The first run is merged where it arrived: no slot, no copy.
    EXPECT_EQ(got[0] == train, c.merged[0] > 1);
    EXPECT_EQ(counters.bad_checksum, c.bad_checksum);
    EXPECT_EQ(counters.merged_frames, coalescer.counters().merged_frames);
    EXPECT_EQ(counters.merged_segments, coalescer.counters().merged_segments);
    pool.Free(got);
    pool.Free(want);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

TEST(GroTrainTest, WithoutSlotsWhatDoesNotFitIsCountedNotLeaked) {
  // Run two needs a large slot and the train holds the only one; the lone datagrams need
  // small slots and there are none.
  auto datagrams = Stream(4);
  datagrams[1].frame = Wire(kMss, kMss, net::tcp_flag::kPsh);  // runs {0,1} and {2,3}
  PacketPool pool({.small_slots = 0, .large_slots = 1});
  size_t segment = 0;
  Packet* train = Train(pool, datagrams, segment);
  PacketBatch got;
  CoalescerCounters counters;
  EXPECT_EQ(SplitGroTrain(train, segment, kPrefix, pool, got, counters), 2u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], train);
  EXPECT_EQ(counters.no_slot, 1u);
  pool.Free(got);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(GroTrainTest, ASegmentNoLongerThanThePrefixDropsTheTrain) {
  PacketPool pool({.small_slots = 4, .large_slots = 1});
  Packet* train = pool.AllocLarge();
  train->Resize(40);
  PacketBatch got;
  CoalescerCounters counters;
  EXPECT_EQ(SplitGroTrain(train, kPrefix, kPrefix, pool, got, counters), 5u);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace dove::dswitch::offload
