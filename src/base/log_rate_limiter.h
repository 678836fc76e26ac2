// LogRateLimiter: at most `burst` records per `interval` from one log call site, for sites a
// packet can reach (a flood of bad frames must not become a flood of log lines, nor cost the
// packet thread a write per frame).
//
// A record that passes after others were suppressed is preceded by one record saying how many
// were suppressed (LogRecord does that: TakeSuppressed). A count still pending when the site
// stays quiet is reported at its next record.
//
//   DOVE_LOG_LIMITED(kWarning, 10, std::chrono::seconds(5))
//       .With("PORT", port.name) << "port " << port.name << ": DHCP DECLINE";
//
// Cost: a clock read and a few relaxed atomic operations per call; no lock, no allocation.
// Safe from any thread (the counts are approximate when several threads hit one site within
// the same nanosecond window change, which at worst lets a record more pass).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dove::base {

class LogRateLimiter {
 public:
  // Nanoseconds of a monotonic clock; tests pass their own.
  using NowFn = int64_t (*)();
  static int64_t SteadyNow();

  LogRateLimiter(uint32_t burst, std::chrono::nanoseconds interval, NowFn now = &SteadyNow)
      : burst_(burst), interval_ns_(interval.count()), now_(now), window_start_(now()) {}

  // Whether a record may pass now: true for the first `burst` calls of each interval (the
  // interval starting at the first call after the previous one ended). A false is counted as
  // suppressed.
  bool Admit();

  // The number of records suppressed since the last call (0 when none), and zeroes it.
  uint64_t TakeSuppressed() { return suppressed_.exchange(0, std::memory_order_relaxed); }

  uint32_t burst() const { return burst_; }
  std::chrono::nanoseconds interval() const { return std::chrono::nanoseconds(interval_ns_); }

 private:
  const uint32_t burst_;
  const int64_t interval_ns_;
  const NowFn now_;
  std::atomic<int64_t> window_start_;
  std::atomic<uint64_t> passed_{0};      // calls in the current window
  std::atomic<uint64_t> suppressed_{0};  // not yet reported
};

}  // namespace dove::base
