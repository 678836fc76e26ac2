#include "dswitch/agent/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace dove::dswitch::agent {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToMaxWithoutJitter) {
  Backoff backoff({.initial = milliseconds(100), .max = milliseconds(5000), .jitter = 0.0});
  std::vector<int64_t> got;
  got.reserve(9);
  for (int i = 0; i < 9; ++i) got.push_back(backoff.Next().count());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(100));
}

TEST(BackoffTest, JitterStaysWithinItsBand) {
  Backoff backoff({.initial = milliseconds(100), .max = milliseconds(5000), .jitter = 0.2}, 42);
  int64_t base = 100;
  bool any_differs = false;
  for (int i = 0; i < 10; ++i) {
    const int64_t delay = backoff.Next().count();
    EXPECT_GE(delay, base * 8 / 10 - 1) << i;
    EXPECT_LE(delay, base * 12 / 10) << i;
    any_differs |= delay != base;
    base = std::min<int64_t>(base * 2, 5000);
  }
  EXPECT_TRUE(any_differs);
}

TEST(BackoffTest, MaxBelowInitialIsRaisedToInitial) {
  Backoff backoff({.initial = milliseconds(300), .max = milliseconds(10), .jitter = 0.0});
  EXPECT_EQ(backoff.Next(), milliseconds(300));
  EXPECT_EQ(backoff.Next(), milliseconds(300));
}

}  // namespace
}  // namespace dove::dswitch::agent
