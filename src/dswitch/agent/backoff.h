// Backoff: the delays between reconnection rounds: `initial`, doubling up to `max`, each
// spread by +-`jitter` (a fraction) so that switches restarted together do not reconnect in
// lockstep. Reset() after a success starts over from `initial`.
//
// Pure apart from its own random engine (seeded at construction). Not thread-safe.
//
//   Backoff backoff({.initial = 100ms, .max = 5s});
//   while (!Connect()) Sleep(backoff.Next());  // ~100ms, ~200ms, ~400ms, ... ~5s, ~5s
//   backoff.Reset();
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace dove::dswitch::agent {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double jitter = 0.2;  // 0..1: each delay is drawn from [d * (1 - jitter), d * (1 + jitter)]
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, uint64_t seed = std::random_device{}());

  // The delay to wait now; the next one doubles (up to max).
  std::chrono::milliseconds Next();
  void Reset() { current_ = policy_.initial; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds current_;
  std::mt19937_64 random_;
};

}  // namespace dove::dswitch::agent
