#include "dswitch/pipeline/return_flows.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace dove::dswitch::pipeline {

size_t FlowKey::Hash() const {
  const std::hash<net::IpAddress> ip_hash;
  uint64_t h = ip_hash(source) * 0x9e3779b97f4a7c15ULL;
  h ^= ip_hash(destination) + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
  h ^= (uint64_t{source_vni} << 32 | destination_vni) * 0xc2b2ae3d27d4eb4fULL;
  h ^= (uint64_t{protocol} << 32 | uint64_t{source_port} << 16 | destination_port) *
       0x165667b19e3779f9ULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

ReturnFlows::ReturnFlows(size_t capacity, std::chrono::nanoseconds idle)
    : slots_(std::bit_ceil(std::max(capacity, kProbeWindow))), idle_(idle) {
  mask_ = slots_.size() - 1;
}

ReturnFlows::Slot* ReturnFlows::Find(const FlowKey& key, Clock::time_point now) {
  const size_t home = key.Hash();
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& slot = slots_[(home + i) & mask_];
    if (slot.used && slot.key == key) return Fresh(slot, now) ? &slot : nullptr;
  }
  return nullptr;
}

ReturnFlows::Remembered ReturnFlows::Remember(const FlowKey& key, Clock::time_point now) {
  const size_t home = key.Hash();
  Slot* free_slot = nullptr;
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& slot = slots_[(home + i) & mask_];
    if (slot.used && slot.key == key) {
      slot.last_seen = now;
      return Remembered::kRefreshed;
    }
    if (free_slot == nullptr && !Fresh(slot, now)) free_slot = &slot;
  }
  if (free_slot == nullptr) return Remembered::kFull;
  if (!free_slot->used) ++used_;
  free_slot->key = key;
  free_slot->last_seen = now;
  free_slot->used = true;
  return Remembered::kNew;
}

bool ReturnFlows::IsReply(const FlowKey& key, Clock::time_point now) {
  Slot* slot = Find(key.Reversed(), now);
  if (slot == nullptr) return false;
  slot->last_seen = now;
  return true;
}

void ReturnFlows::Flush() {
  for (Slot& slot : slots_) slot.used = false;
  used_ = 0;
}

}  // namespace dove::dswitch::pipeline
