// PacketPool and Packet: slots handed out and taken back, small vs large, exhaustion counted,
// AllocBatch all or nothing, the bounds of Prepend/Strip/Resize/Assign, Clone, double free.
#include "dswitch/packet/packet_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace dove::dswitch::packet {
namespace {

std::vector<uint8_t> Bytes(size_t size, uint8_t seed = 1) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i);
  return bytes;
}

TEST(PacketPoolTest, AllocatesFreshPacketsAndTakesThemBack) {
  PacketPool pool({.small_slots = 2, .large_slots = 1});
  EXPECT_EQ(pool.free_small(), 2u);
  EXPECT_EQ(pool.free_large(), 1u);
  Packet* p = pool.Alloc(100);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->large());
  EXPECT_EQ(p->size(), 0u);
  EXPECT_EQ(p->headroom(), Packet::kDefaultHeadroom);
  EXPECT_EQ(p->room(), PacketPool::kSmallRoom);
  EXPECT_EQ(p->meta.in_port, kNoPort);
  EXPECT_FALSE(p->offload.is_gso());
  EXPECT_EQ(pool.in_use(), 1u);
  // A reused slot comes back fresh.
  ASSERT_TRUE(p->Assign(Bytes(10)));
  p->meta.vni = 7;
  p->offload.gso = GsoType::kTcp4;
  pool.Free(p);
  EXPECT_EQ(pool.in_use(), 0u);
  Packet* again = pool.Alloc(100);
  ASSERT_EQ(again, p);
  EXPECT_EQ(again->size(), 0u);
  EXPECT_EQ(again->meta.vni, kNoVni);
  EXPECT_FALSE(again->offload.is_gso());
  pool.Free(again);
  pool.Free(nullptr);  // ignored
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(PacketPoolTest, PicksTheSlotBySize) {
  struct Case {
    size_t size;
    bool large;
  };
  PacketPool pool({.small_slots = 1, .large_slots = 1});
  for (const Case c :
       {Case{0, false}, Case{PacketPool::kSmallRoom, false}, Case{PacketPool::kSmallRoom + 1, true},
        Case{PacketPool::kLargeRoom, true}}) {
    Packet* p = pool.Alloc(c.size);
    ASSERT_NE(p, nullptr) << c.size;
    EXPECT_EQ(p->large(), c.large) << c.size;
    EXPECT_GE(p->room(), c.size);
    pool.Free(p);
  }
  EXPECT_EQ(pool.Alloc(PacketPool::kLargeRoom + 1), nullptr);
  EXPECT_EQ(pool.counters().exhausted_large, 1u);
}

TEST(PacketPoolTest, ExhaustionReturnsNullptrAndCounts) {
  PacketPool pool({.small_slots = 1, .large_slots = 1});
  Packet* small = pool.Alloc(10);
  Packet* fallback = pool.Alloc(10);  // the small arena is empty: a large slot
  ASSERT_NE(fallback, nullptr);
  EXPECT_TRUE(fallback->large());
  EXPECT_EQ(pool.counters().exhausted_small, 1u);
  EXPECT_EQ(pool.Alloc(10), nullptr);
  EXPECT_EQ(pool.AllocLarge(), nullptr);
  EXPECT_EQ(pool.counters().exhausted_small, 2u);
  EXPECT_EQ(pool.counters().exhausted_large, 2u);
  EXPECT_EQ(pool.Dump().at("pool.exhausted_large"), 2u);
  EXPECT_EQ(pool.Dump().at("pool.free_small"), 0u);
  pool.Free(small);
  pool.Free(fallback);
  EXPECT_EQ(pool.Dump().at("pool.free_large"), 1u);
}

TEST(PacketPoolTest, AllocBatchIsAllOrNothing) {
  PacketPool pool({.small_slots = 3, .large_slots = 1});
  PacketBatch batch;
  EXPECT_FALSE(pool.AllocBatch(100, 5, batch));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.counters().exhausted_small, 1u);
  EXPECT_FALSE(pool.AllocBatch(PacketPool::kSmallRoom + 1, 2, batch));
  EXPECT_EQ(pool.counters().exhausted_large, 1u);
  EXPECT_TRUE(pool.AllocBatch(100, 4, batch));  // 3 small and the large one
  EXPECT_EQ(batch.size(), 4u);
  EXPECT_EQ(pool.in_use(), 4u);
  pool.Free(batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(PacketTest, PrependStripResizeAssignStayInTheSlot) {
  PacketPool pool({.small_slots = 1, .large_slots = 0});
  Packet* p = pool.Alloc(100);
  ASSERT_TRUE(p->Assign(Bytes(100)));
  EXPECT_EQ(p->span()[0], 1);
  // Prepend: up to the headroom, not a byte more.
  EXPECT_EQ(p->Prepend(Packet::kDefaultHeadroom + 1), nullptr);
  EXPECT_EQ(p->size(), 100u);
  uint8_t* front = p->Prepend(8);
  ASSERT_NE(front, nullptr);
  EXPECT_EQ(front, p->data());
  EXPECT_EQ(p->size(), 108u);
  EXPECT_EQ(p->headroom(), Packet::kDefaultHeadroom - 8);
  EXPECT_EQ(p->data()[8], 1);  // the old first byte
  // Strip: up to the size.
  EXPECT_FALSE(p->Strip(109));
  EXPECT_TRUE(p->Strip(8));
  EXPECT_EQ(p->data()[0], 1);
  EXPECT_TRUE(p->Strip(100));
  EXPECT_TRUE(p->empty());
  // Resize: up to room().
  ASSERT_TRUE(p->Assign(Bytes(10)));
  EXPECT_FALSE(p->Resize(p->room() + 1));
  EXPECT_EQ(p->size(), 10u);
  EXPECT_TRUE(p->Resize(p->room()));
  EXPECT_EQ(p->tailroom(), 0u);
  EXPECT_TRUE(p->Resize(3));
  EXPECT_EQ(p->size(), 3u);
  // Assign: bytes and headroom must fit the slot; a failure changes nothing.
  EXPECT_FALSE(p->Assign(Bytes(PacketPool::kSmallRoom + 1)));
  EXPECT_FALSE(p->Assign(Bytes(1), PacketPool::kSmallSlot + 1));
  EXPECT_EQ(p->size(), 3u);
  EXPECT_TRUE(p->Assign(Bytes(PacketPool::kSmallSlot), 0));
  EXPECT_EQ(p->headroom(), 0u);
  EXPECT_EQ(p->Prepend(1), nullptr);
  EXPECT_TRUE(p->Assign({}, 5));
  EXPECT_EQ(p->headroom(), 5u);
  EXPECT_TRUE(p->empty());
  pool.Free(p);
}

TEST(PacketPoolTest, CloneCopiesBytesAndMetadataAndCounts) {
  PacketPool pool({.small_slots = 2, .large_slots = 1});
  Packet* p = pool.Alloc(50);
  ASSERT_TRUE(p->Assign(Bytes(50, 9), 40));
  p->meta.vni = 42;
  p->meta.out_port = 3;
  p->offload.csum_partial = true;
  p->offload.csum_start = 34;
  Packet* copy = Clone(*p, pool);
  ASSERT_NE(copy, nullptr);
  EXPECT_NE(copy, p);
  EXPECT_NE(copy->data(), p->data());
  EXPECT_EQ(std::vector<uint8_t>(copy->data(), copy->data() + copy->size()), Bytes(50, 9));
  EXPECT_EQ(copy->headroom(), 40u);
  EXPECT_EQ(copy->meta.vni, 42u);
  EXPECT_EQ(copy->meta.out_port, 3u);
  EXPECT_TRUE(copy->offload.csum_partial);
  EXPECT_EQ(copy->offload.csum_start, 34u);
  EXPECT_EQ(pool.counters().clones, 1u);
  EXPECT_EQ(pool.Dump().at("pool.clones"), 1u);
  // A large packet clones into a large slot; none left: nullptr, not counted as a clone.
  Packet* big = pool.AllocLarge();
  ASSERT_TRUE(big->Assign(Bytes(PacketPool::kSmallRoom + 10)));
  EXPECT_EQ(Clone(*big, pool), nullptr);
  EXPECT_EQ(pool.counters().clones, 1u);
  pool.Free(p);
  pool.Free(copy);
  pool.Free(big);
}

TEST(PacketPoolDeathTest, DoubleFreeAborts) {
  PacketPool pool({.small_slots = 1, .large_slots = 0});
  Packet* p = pool.Alloc(1);
  pool.Free(p);
  EXPECT_DEATH(pool.Free(p), "already free");
  PacketPool other({.small_slots = 1, .large_slots = 0});
  Packet* theirs = other.Alloc(1);
  EXPECT_DEATH(pool.Free(theirs), "another pool");
  other.Free(theirs);
}

}  // namespace
}  // namespace dove::dswitch::packet
