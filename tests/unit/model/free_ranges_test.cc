// FreeRanges: lowest, lowest-from, take, release with merging, bounds, range removal, counts.
#include "model/free_ranges.h"

#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace dove::model
