// StringPool: one copy per distinct string, freed when the last holder releases it.
#include "controller/string_pool.h"

#include <gtest/gtest.h>

#include <string>

namespace dove::controller {
namespace {

TEST(StringPoolTest, EqualTextsShareOneCopyUntilTheLastRelease) {
  StringPool pool;
  const std::string* a = pool.Hold("net-a-long-enough-to-leave-sso");
  const std::string* b = pool.Hold(std::string("net-a-long-enough-to-leave-sso"));
  const std::string* c = pool.Hold("net-c");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(*a, "net-a-long-enough-to-leave-sso");
  EXPECT_EQ(pool.size(), 2u);
  pool.Release(a);
  EXPECT_EQ(pool.size(), 2u);  // b still holds it
  EXPECT_EQ(*b, "net-a-long-enough-to-leave-sso");
  pool.Release(b);
  EXPECT_EQ(pool.size(), 1u);
  pool.Release(c);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(StringPoolTest, TheEmptyStringIsNull) {
  StringPool pool;
  EXPECT_EQ(pool.Hold(""), nullptr);
  pool.Release(nullptr);  // nothing
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(TextOf(nullptr), "");
  const std::string* held = pool.Hold("sw-0001");
  EXPECT_EQ(TextOf(held), "sw-0001");
}

}  // namespace
}  // namespace dove::controller
