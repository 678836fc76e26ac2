// SessionSet: a sorted set of stream ids (uint64_t) in 8 bytes, with one heap block only while
// it is not empty. The directory keeps one per known endpoint: who cached it. Most cached
// endpoints have one or two cachers and most endpoints none, where a hash-map node per cached
// endpoint (key, vector, bucket: ~120 bytes) cost more than the record itself.
//
// The block holds the count and the capacity, then the ids in ascending order; it grows by
// doubling and is freed when the set empties. Not thread-safe; move-only.
//
//   SessionSet cachers;
//   cachers.Insert(7);
//   for (uint64_t id : cachers) ...;
#pragma once

#include <cstddef>
#include <cstdint>

namespace dove::controller::southbound {

class SessionSet {
 public:
  SessionSet() = default;
  ~SessionSet();
  SessionSet(SessionSet&& other) noexcept;
  SessionSet& operator=(SessionSet&& other) noexcept;
  SessionSet(const SessionSet&) = delete;
  SessionSet& operator=(const SessionSet&) = delete;

  bool empty() const { return block_ == nullptr; }
  size_t size() const;
  const uint64_t* begin() const { return block_ == nullptr ? nullptr : block_ + 1; }
  const uint64_t* end() const { return begin() + size(); }
  bool Contains(uint64_t id) const;
  // Inserts `id` unless present.
  void Insert(uint64_t id);
  // Removes `id` if present; the last one frees the block.
  void Erase(uint64_t id);

 private:
  uint64_t* block_ = nullptr;  // [count | capacity << 32, ids...]
};

}  // namespace dove::controller::southbound
