#include "base/log_rate_limiter.h"

namespace dove::base {

int64_t LogRateLimiter::SteadyNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool LogRateLimiter::Admit() {
  const int64_t now = now_();
  int64_t start = window_start_.load(std::memory_order_relaxed);
  // One caller wins the window change and resets the count; a loser's CAS fails and it counts
  // in the new window.
  if (now - start >= interval_ns_ &&
      window_start_.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
    passed_.store(0, std::memory_order_relaxed);
  }
  if (passed_.fetch_add(1, std::memory_order_relaxed) < burst_) return true;
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace dove::base
