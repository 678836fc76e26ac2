#include "model/free_ranges.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace dove::model {

FreeRanges::FreeRanges(uint64_t first, uint64_t last) : first_(first), last_(last) {
  if (first > last) return;
  free_.emplace(first, last);
  count_ = last - first + 1;
}

std::optional<uint64_t> FreeRanges::Lowest() const {
  if (free_.empty()) return std::nullopt;
  return free_.begin()->first;
}

std::optional<uint64_t> FreeRanges::LowestFrom(uint64_t from) const {
  auto it = free_.upper_bound(from);
  if (it != free_.begin() && std::prev(it)->second >= from) return from;
  if (it == free_.end()) return std::nullopt;
  return it->first;
}

bool FreeRanges::IsFree(uint64_t n) const {
  auto it = free_.upper_bound(n);
  if (it == free_.begin()) return false;
  return n <= std::prev(it)->second;
}

bool FreeRanges::Take(uint64_t n) {
  if (!IsFree(n)) return false;
  RemoveRange(n, n);
  return true;
}

bool FreeRanges::Release(uint64_t n) {
  if (n < first_ || n > last_ || IsFree(n)) return false;
  uint64_t first = n;
  uint64_t last = n;
  // Merge with the range ending just below and the one starting just above.
  auto next = free_.upper_bound(n);
  if (next != free_.begin()) {
    auto before = std::prev(next);
    if (before->second + 1 == n) {
      first = before->first;
      free_.erase(before);
    }
  }
  if (next != free_.end() && n != std::numeric_limits<uint64_t>::max() && next->first == n + 1) {
    last = next->second;
    free_.erase(next);
  }
  free_.emplace(first, last);
  ++count_;
  return true;
}

void FreeRanges::RemoveRange(uint64_t first, uint64_t last) {
  // The first range that could overlap: the one starting at or before `first`, if it reaches it.
  auto it = free_.upper_bound(first);
  if (it != free_.begin() && std::prev(it)->second >= first) --it;
  while (it != free_.end() && it->first <= last) {
    const uint64_t range_first = it->first;
    const uint64_t range_last = it->second;
    const uint64_t cut_first = std::max(range_first, first);
    const uint64_t cut_last = std::min(range_last, last);
    count_ -= cut_last - cut_first + 1;
    it = free_.erase(it);
    if (range_first < cut_first) free_.emplace(range_first, cut_first - 1);
    if (range_last > cut_last) it = free_.emplace(cut_last + 1, range_last).first;
  }
}

}  // namespace dove::model
