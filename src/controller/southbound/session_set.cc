#include "controller/southbound/session_set.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <utility>

namespace dove::controller::southbound {
namespace {

constexpr uint32_t kFirstCapacity = 1;  // 16 bytes with the header: glibc's smallest block

uint32_t CountOf(const uint64_t* block) { return static_cast<uint32_t>(block[0]); }
uint32_t CapacityOf(const uint64_t* block) { return static_cast<uint32_t>(block[0] >> 32); }
void SetHeader(uint64_t* block, uint32_t count, uint32_t capacity) {
  block[0] = count | (static_cast<uint64_t>(capacity) << 32);
}
uint64_t* Allocate(uint32_t capacity) {
  auto* block = static_cast<uint64_t*>(std::malloc(sizeof(uint64_t) * (1 + capacity)));
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

}  // namespace

SessionSet::~SessionSet() { std::free(block_); }

SessionSet::SessionSet(SessionSet&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)) {}

SessionSet& SessionSet::operator=(SessionSet&& other) noexcept {
  if (this != &other) {
    std::free(block_);
    block_ = std::exchange(other.block_, nullptr);
  }
  return *this;
}

size_t SessionSet::size() const { return block_ == nullptr ? 0 : CountOf(block_); }

bool SessionSet::Contains(uint64_t id) const { return std::binary_search(begin(), end(), id); }

void SessionSet::Insert(uint64_t id) {
  if (block_ == nullptr) {
    block_ = Allocate(kFirstCapacity);
    SetHeader(block_, 1, kFirstCapacity);
    block_[1] = id;
    return;
  }
  const uint32_t count = CountOf(block_);
  uint64_t* ids = block_ + 1;
  uint64_t* at = std::lower_bound(ids, ids + count, id);
  if (at != ids + count && *at == id) return;
  const auto position = static_cast<size_t>(at - ids);
  uint32_t capacity = CapacityOf(block_);
  if (count == capacity) {
    capacity *= 2;
    uint64_t* grown = Allocate(capacity);
    std::copy(ids, ids + count, grown + 1);
    std::free(block_);
    block_ = grown;
    ids = block_ + 1;
  }
  std::copy_backward(ids + position, ids + count, ids + count + 1);
  ids[position] = id;
  SetHeader(block_, count + 1, capacity);
}

void SessionSet::Erase(uint64_t id) {
  if (block_ == nullptr) return;
  const uint32_t count = CountOf(block_);
  uint64_t* ids = block_ + 1;
  uint64_t* at = std::lower_bound(ids, ids + count, id);
  if (at == ids + count || *at != id) return;
  if (count == 1) {
    std::free(block_);
    block_ = nullptr;
    return;
  }
  std::copy(at + 1, ids + count, at);
  SetHeader(block_, count - 1, CapacityOf(block_));
}

}  // namespace dove::controller::southbound
