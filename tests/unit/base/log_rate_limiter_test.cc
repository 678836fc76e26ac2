#include "base/log_rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "base/log.h"

namespace dove::base {
namespace {

using std::chrono::seconds;

int64_t fake_now = 0;  // the injected clock, nanoseconds
int64_t FakeNow() { return fake_now; }
constexpr int64_t kSecond = 1'000'000'000;

TEST(LogRateLimiterTest, PassesABurstPerIntervalAndCountsTheRest) {
  fake_now = 0;
  LogRateLimiter limiter(3, seconds(10), &FakeNow);
  EXPECT_TRUE(limiter.Admit());
  EXPECT_TRUE(limiter.Admit());
  EXPECT_TRUE(limiter.Admit());
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.Admit());
  fake_now = 9 * kSecond;  // still the same interval
  EXPECT_FALSE(limiter.Admit());
  EXPECT_EQ(limiter.TakeSuppressed(), 101u);
  EXPECT_EQ(limiter.TakeSuppressed(), 0u);
  fake_now = 10 * kSecond;  // a new interval: a new burst
  EXPECT_TRUE(limiter.Admit());
  EXPECT_TRUE(limiter.Admit());
  EXPECT_TRUE(limiter.Admit());
  EXPECT_FALSE(limiter.Admit());
  EXPECT_EQ(limiter.TakeSuppressed(), 1u);
}

TEST(LogRateLimiterTest, ANewIntervalStartsAtTheFirstCallAfterTheLastEnded) {
  fake_now = 0;
  LogRateLimiter limiter(1, seconds(10), &FakeNow);
  EXPECT_TRUE(limiter.Admit());
  fake_now = 25 * kSecond;  // quiet for longer than an interval
  EXPECT_TRUE(limiter.Admit());
  fake_now = 34 * kSecond;  // 9 s into the interval that began at 25 s
  EXPECT_FALSE(limiter.Admit());
  fake_now = 35 * kSecond;
  EXPECT_TRUE(limiter.Admit());
}

// The site's records on stderr: a flood of 1000 becomes the burst, then one line saying how
// many were suppressed ahead of the next record that passes.
void Flood(int count) {
  for (int i = 0; i < count; ++i) {
    DOVE_LOG_LIMITED(kWarning, 2, std::chrono::milliseconds(200)).With("N", i) << "bad frame";
  }
}

TEST(LogRateLimiterTest, ALimitedSiteReportsWhatItSuppressed) {
  const LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kInfo);
  InitLog("dove-test");
  ::testing::internal::CaptureStderr();
  Flood(1000);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "dove-test: warning: bad frame n=0\ndove-test: warning: bad frame n=1\n");
  // The real clock this time: the next interval begins 200 ms later.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ::testing::internal::CaptureStderr();
  Flood(1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "dove-test: warning: suppressed 998 similar messages (at most 2 per 200 ms) "
            "suppressed=998\ndove-test: warning: bad frame n=0\n");
  SetLogLevel(saved);
}

}  // namespace
}  // namespace dove::base
