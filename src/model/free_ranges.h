// FreeRanges: which numbers of [first, last] are free, kept as disjoint ranges (a map first ->
// last), so that allocating the lowest free number never scans. AddressPool (addresses of a
// subnet) and the controller's free VNIs are built on it.
//
// Cost: Lowest O(1); LowestFrom, IsFree, Take, Release O(log r), r = the number of ranges (at
// most one more than the numbers taken; 1 for numbers taken from the bottom). RemoveRange
// O(log r + ranges removed). Memory: one map node per range, whatever the span. A value type;
// not thread-safe. The span must not be all of [0, 2^64 - 1] (its size would not fit Count).
//
//   FreeRanges vnis(1, 16777215);
//   vnis.Take(1);
//   vnis.Lowest();   // 2
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace dove::model {

class FreeRanges {
 public:
  FreeRanges() = default;  // empty: nothing free, nothing can be released
  // Everything of [first, last] free (first <= last).
  FreeRanges(uint64_t first, uint64_t last);

  std::optional<uint64_t> Lowest() const;
  // The lowest free number >= from.
  std::optional<uint64_t> LowestFrom(uint64_t from) const;
  bool IsFree(uint64_t n) const;
  // Marks n taken; false (nothing changes) when it was not free.
  bool Take(uint64_t n);
  // Makes n free again; false (nothing changes) when it is outside [first, last] or free.
  bool Release(uint64_t n);
  // Takes every free number of [first, last] (any part of it may be taken already).
  void RemoveRange(uint64_t first, uint64_t last);

  uint64_t Count() const { return count_; }
  size_t RangeCount() const { return free_.size(); }

 private:
  uint64_t first_ = 1;  // bounds of what Release accepts; [1, 0] = nothing
  uint64_t last_ = 0;
  std::map<uint64_t, uint64_t> free_;  // first -> last, disjoint, not adjacent
  uint64_t count_ = 0;
};

}  // namespace dove::model
