#include "base/expected.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace dove {
namespace {

enum class Why { kTooBig, kTooSmall };

Expected<int, Why> Half(int n) {
  if (n > 100) return Unexpected(Why::kTooBig);
  if (n < 0) return Unexpected(Why::kTooSmall);
  return n / 2;
}

TEST(ExpectedTest, HoldsValueOrError) {
  auto ok = Half(10);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  auto big = Half(1000);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), Why::kTooBig);
  EXPECT_EQ(Half(-1).error(), Why::kTooSmall);
  EXPECT_EQ(Half(-1).value_or(7), 7);
}

TEST(ExpectedTest, MovesValueOut) {
  Expected<std::string, Why> text(std::string(100, 'x'));
  std::string moved = std::move(text).value();
  EXPECT_EQ(moved.size(), 100u);
}

TEST(ExpectedTest, VoidSpecialisation) {
  Expected<void, Why> fine;
  EXPECT_TRUE(fine);
  Expected<void, Why> failed = Unexpected(Why::kTooBig);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), Why::kTooBig);
}

// An error converts only implicitly: a stray integer is no enum's error.
static_assert(std::is_constructible_v<Expected<int, Why>, Unexpected<Why>>);
static_assert(!std::is_constructible_v<Expected<int, Why>, Unexpected<int>>);
static_assert(!std::is_constructible_v<Expected<void, Why>, Unexpected<int>>);
static_assert(std::is_constructible_v<Expected<int, std::string>, Unexpected<const char*>>);

TEST(ExpectedDeathTest, ValueOfErrorAborts) {
  auto big = Half(1000);
  EXPECT_DEATH((void)big.value(), "");
}

}  // namespace
}  // namespace dove
