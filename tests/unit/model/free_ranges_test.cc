// FreeRanges: lowest, lowest-from, take, release with merging, bounds, range removal, counts.
#include "model/free_ranges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <random>
#include <set>

namespace dove::model {
namespace {

TEST(FreeRangesTest, TakeReleaseLowestAndMerging) {
  FreeRanges free(1, 10);
  EXPECT_EQ(free.Count(), 10u);
  EXPECT_EQ(free.Lowest(), 1u);
  ASSERT_TRUE(free.Take(1));
  ASSERT_TRUE(free.Take(5));
  EXPECT_FALSE(free.Take(5)) << "taken twice";
  EXPECT_FALSE(free.Take(11)) << "outside";
  EXPECT_EQ(free.Lowest(), 2u);
  EXPECT_EQ(free.RangeCount(), 2u);  // 2-4, 6-10
  EXPECT_EQ(free.LowestFrom(5), 6u);
  EXPECT_EQ(free.LowestFrom(3), 3u);
  EXPECT_EQ(free.LowestFrom(0), 2u);
  EXPECT_EQ(free.LowestFrom(11), std::nullopt);
  EXPECT_FALSE(free.Release(0)) << "below the bounds";
  EXPECT_FALSE(free.Release(11)) << "above the bounds";
  EXPECT_FALSE(free.Release(3)) << "free already";
  ASSERT_TRUE(free.Release(5));
  EXPECT_EQ(free.RangeCount(), 1u) << "5 joins 2-4 and 6-10";
  ASSERT_TRUE(free.Release(1));
  EXPECT_EQ(free.RangeCount(), 1u);
  EXPECT_EQ(free.Count(), 10u);
}

TEST(FreeRangesTest, RemoveRangeAcrossRangesAndExhaustion) {
  FreeRanges free(0, 99);
  ASSERT_TRUE(free.Take(50));
  free.RemoveRange(40, 60);  // partly taken already
  EXPECT_EQ(free.Count(), 79u);
  EXPECT_EQ(free.RangeCount(), 2u);
  EXPECT_FALSE(free.IsFree(40));
  EXPECT_FALSE(free.IsFree(60));
  EXPECT_TRUE(free.IsFree(39));
  EXPECT_TRUE(free.IsFree(61));
  free.RemoveRange(0, 99);
  EXPECT_EQ(free.Count(), 0u);
  EXPECT_EQ(free.Lowest(), std::nullopt);
  ASSERT_TRUE(free.Release(99));
  EXPECT_EQ(free.Lowest(), 99u);
  FreeRanges none;
  EXPECT_EQ(none.Lowest(), std::nullopt);
  EXPECT_FALSE(none.Release(0));
}

TEST(FreeRangesTest, TheTopOfTheSpace) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  FreeRanges free(1, kMax);
  EXPECT_EQ(free.Count(), kMax);
  ASSERT_TRUE(free.Take(kMax));
  EXPECT_EQ(free.LowestFrom(kMax), std::nullopt);
  ASSERT_TRUE(free.Release(kMax));
  EXPECT_EQ(free.RangeCount(), 1u);
  EXPECT_EQ(free.LowestFrom(kMax), kMax);
}

// Random takes, releases and range removals against a std::set of the free numbers: every
// answer agrees after every step, and the ranges are maximal (no two adjacent).
TEST(FreeRangesTest, AgreesWithASetUnderRandomOperations) {
  constexpr uint64_t kFirst = 10;
  constexpr uint64_t kLast = 300;
  FreeRanges free(kFirst, kLast);
  std::set<uint64_t> reference;
  for (uint64_t n = kFirst; n <= kLast; ++n) reference.insert(n);
  std::mt19937_64 random(20261204);
  auto pick = [&] { return random() % (kLast + 20); };  // also outside the bounds
  for (int step = 0; step < 20000; ++step) {
    const uint64_t n = pick();
    switch (random() % 5) {
      case 0:
      case 1:
        ASSERT_EQ(free.Take(n), reference.erase(n) == 1) << "take " << n << " at " << step;
        break;
      case 2:
      case 3: {
        const bool expected = n >= kFirst && n <= kLast && reference.count(n) == 0;
        ASSERT_EQ(free.Release(n), expected) << "release " << n << " at " << step;
        if (expected) reference.insert(n);
        break;
      }
      default: {
        const uint64_t a = pick();
        const uint64_t b = std::min(a + random() % 8, kLast + 19);
        free.RemoveRange(a, b);
        for (uint64_t k = a; k <= b; ++k) reference.erase(k);
      }
    }
    ASSERT_EQ(free.Count(), reference.size()) << step;
    ASSERT_EQ(free.Lowest(),
              reference.empty() ? std::nullopt : std::optional<uint64_t>(*reference.begin()))
        << step;
    const uint64_t from = pick();
    auto at = reference.lower_bound(from);
    ASSERT_EQ(free.LowestFrom(from),
              at == reference.end() ? std::nullopt : std::optional<uint64_t>(*at))
        << step;
    ASSERT_EQ(free.IsFree(from), reference.count(from) == 1) << step;
    size_t runs = 0;
    for (auto it = reference.begin(); it != reference.end(); ++it) {
      if (it == reference.begin() || *std::prev(it) + 1 != *it) ++runs;
    }
    ASSERT_EQ(free.RangeCount(), runs) << "ranges not maximal at " << step;
  }
}

}  // namespace
}  // namespace dove::model
