// PacketPool: every packet buffer the data plane uses, allocated once when the pool is made.
//
// Two arenas of fixed slots: small slots for ordinary frames (up to a jumbo frame) and large
// slots for TCP super-frames and UDP GRO trains (up to 64 KiB plus headers). Alloc takes a
// slot from a free list and Free puts it back: no heap allocation after construction, ever.
// When an arena is empty Alloc returns nullptr and counts it (exhausted_small/large); the
// caller drops what it could not place and counts that drop itself.
//
// Not thread-safe: one pool per packet thread.
//
//   PacketPool pool({.small_slots = 1024, .large_slots = 64});
//   Packet* p = pool.Alloc(1500);
//   if (p == nullptr) return DropExhausted();
//   ...
//   pool.Free(p);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_batch.h"

namespace dove::dswitch::packet {

struct PoolOptions {
  size_t small_slots = 4096;
  size_t large_slots = 256;
};

struct PoolCounters {
  uint64_t exhausted_small = 0;  // Alloc found no free small slot (nor a large one to use)
  uint64_t exhausted_large = 0;  // Alloc found no free large slot
  uint64_t clones = 0;           // packets copied by Clone (flood replication)
};

class PacketPool {
 public:
  // Bytes of one slot (headroom included).
  static constexpr size_t kSmallSlot = size_t{10} * 1024;
  static constexpr size_t kLargeSlot = size_t{68} * 1024;
  // The largest frame a small / large slot holds after the default headroom.
  static constexpr size_t kSmallRoom = kSmallSlot - Packet::kDefaultHeadroom;
  static constexpr size_t kLargeRoom = kLargeSlot - Packet::kDefaultHeadroom;

  explicit PacketPool(PoolOptions options = {});
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A fresh packet (Packet::Reset state) whose room() is at least `size`: a small slot when the
  // size fits one, else a large slot; a small request falls back to a large slot when the small
  // arena is empty. nullptr, counted, when nothing fits (or `size` > kLargeRoom).
  Packet* Alloc(size_t size);
  // A fresh packet in a large slot; nullptr, counted, when there is none.
  Packet* AllocLarge();
  // `count` packets for `size` bytes each appended to `out`, or none at all (and false).
  bool AllocBatch(size_t size, size_t count, PacketBatch& out);

  // Gives a packet back. nullptr is ignored. Freeing a packet twice, or one of another pool,
  // is a bug: it aborts (the pool's free lists would otherwise hand one slot out twice).
  void Free(Packet* packet);
  // Frees every packet of `batch` and clears it.
  void Free(PacketBatch& batch);

  size_t free_small() const { return free_small_.size(); }
  size_t free_large() const { return free_large_.size(); }
  size_t in_use() const;
  const PoolCounters& counters() const { return counters_; }
  PoolCounters& mutable_counters() { return counters_; }
  // The counters as "pool.<name>", and the free slot counts, sorted by name.
  std::map<std::string, uint64_t> Dump() const;

 private:
  Packet* Take(std::vector<Packet*>& free_list);

  // An arena's bytes, mapped apart (see Map in the .cc file), unmapped when it goes.
  struct Unmap {
    size_t bytes = 0;
    void operator()(uint8_t* arena) const;
  };
  using Arena = std::unique_ptr<uint8_t[], Unmap>;
  static Arena Map(size_t bytes);

  PoolOptions options_;
  Arena small_arena_;
  Arena large_arena_;
  std::unique_ptr<Packet[]> packets_;  // small slots first, then large ones
  size_t packet_count_ = 0;
  std::vector<Packet*> free_small_;
  std::vector<Packet*> free_large_;
  PoolCounters counters_;
};

// A copy of `packet` (bytes at the same headroom, metadata and offload state) in a slot of
// `pool` that fits it; nullptr when the pool has none. Counted as pool.clones: this is the one
// explicit copy of the data plane (a broadcast replicated to several destinations).
Packet* Clone(const Packet& packet, PacketPool& pool);

}  // namespace dove::dswitch::packet
