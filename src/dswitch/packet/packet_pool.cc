#include "dswitch/packet/packet_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "base/log.h"

namespace dove::dswitch::packet {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

// The arenas are tens of MiB that the data plane walks slot by slot: on 4 KiB pages nearly
// every packet is a TLB miss (a costly one in a virtual machine). Mapped on their own and
// marked for transparent huge pages, they take a few dozen TLB entries; where THP is off the
// hint is ignored and nothing else changes.
PacketPool::Arena PacketPool::Map(size_t bytes) {
  const size_t mapped = std::max(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
  void* arena = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) throw std::bad_alloc();
  (void)::madvise(arena, mapped, MADV_HUGEPAGE);
  return Arena(static_cast<uint8_t*>(arena), Unmap{mapped});
}

void PacketPool::Unmap::operator()(uint8_t* arena) const {
  if (arena != nullptr) ::munmap(arena, bytes);
}

PacketPool::PacketPool(PoolOptions options)
    : options_(options),
      small_arena_(Map(options.small_slots * kSmallSlot)),
      large_arena_(Map(options.large_slots * kLargeSlot)),
      packets_(new Packet[options.small_slots + options.large_slots]),
      packet_count_(options.small_slots + options.large_slots) {
  free_small_.reserve(options.small_slots);
  free_large_.reserve(options.large_slots);
  for (size_t i = 0; i < packet_count_; ++i) {
    Packet& packet = packets_[i];
    const bool large = i >= options.small_slots;
    packet.large_ = large;
    packet.capacity_ = static_cast<uint32_t>(large ? kLargeSlot : kSmallSlot);
    packet.buffer_ = large ? large_arena_.get() + (i - options.small_slots) * kLargeSlot
                           : small_arena_.get() + i * kSmallSlot;
  }
  // Handed out from the back: push in reverse so the first slots go first (warmer pages).
  for (size_t i = options.small_slots; i > 0; --i) free_small_.push_back(&packets_[i - 1]);
  for (size_t i = packet_count_; i > options.small_slots; --i) {
    free_large_.push_back(&packets_[i - 1]);
  }
}

Packet* PacketPool::Take(std::vector<Packet*>& free_list) {
  Packet* packet = free_list.back();
  free_list.pop_back();
  packet->Reset();
  packet->in_use_ = true;
  return packet;
}

Packet* PacketPool::Alloc(size_t size) {
  if (size <= kSmallRoom && !free_small_.empty()) return Take(free_small_);
  if (size <= kSmallRoom) counters_.exhausted_small++;
  if (size > kLargeRoom) {  // no slot would hold it: a large slot is not handed out
    counters_.exhausted_large++;
    return nullptr;
  }
  return AllocLarge();
}

Packet* PacketPool::AllocLarge() {
  if (free_large_.empty()) {
    counters_.exhausted_large++;
    return nullptr;
  }
  return Take(free_large_);
}

bool PacketPool::AllocBatch(size_t size, size_t count, PacketBatch& out) {
  const bool small = size <= kSmallRoom;
  const size_t available = small ? free_small_.size() + free_large_.size() : free_large_.size();
  if (size > kLargeRoom || available < count) {
    (small ? counters_.exhausted_small : counters_.exhausted_large)++;
    return false;
  }
  for (size_t i = 0; i < count; ++i) out.Push(Alloc(size));
  return true;
}

void PacketPool::Free(Packet* packet) {
  if (packet == nullptr) return;
  const bool ours = packet >= packets_.get() && packet < packets_.get() + packet_count_;
  if (!ours || !packet->in_use_) {
    // Fatal (the process aborts): once, and never rate-limited.
    DOVE_LOG(kError) << "PacketPool::Free of a packet "
                     << (ours ? "already free" : "of another pool");
    std::abort();
  }
  packet->in_use_ = false;
  (packet->large_ ? free_large_ : free_small_).push_back(packet);
}

void PacketPool::Free(PacketBatch& batch) {
  for (Packet* packet : batch) Free(packet);
  batch.clear();
}

size_t PacketPool::in_use() const {
  return packet_count_ - free_small_.size() - free_large_.size();
}

std::map<std::string, uint64_t> PacketPool::Dump() const {
  return {
      {"pool.clones", counters_.clones},
      {"pool.exhausted_large", counters_.exhausted_large},
      {"pool.exhausted_small", counters_.exhausted_small},
      {"pool.free_large", free_large_.size()},
      {"pool.free_small", free_small_.size()},
  };
}

Packet* Clone(const Packet& packet, PacketPool& pool) {
  Packet* copy = pool.Alloc(packet.headroom() + packet.size());
  if (copy == nullptr) return nullptr;
  if (!copy->Assign(packet.span(), packet.headroom())) {
    pool.Free(copy);
    return nullptr;
  }
  copy->meta = packet.meta;
  copy->offload = packet.offload;
  pool.mutable_counters().clones++;
  return copy;
}

}  // namespace dove::dswitch::packet
