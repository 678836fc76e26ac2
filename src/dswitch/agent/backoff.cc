#include "dswitch/agent/backoff.h"

#include <algorithm>

namespace dove::dswitch::agent {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(policy), current_(policy.initial), random_(seed) {
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  if (policy_.max < policy_.initial) policy_.max = policy_.initial;
}

std::chrono::milliseconds Backoff::Next() {
  const auto base = current_;
  current_ = std::min(policy_.max, current_ * 2);
  if (policy_.jitter == 0.0 || base.count() == 0) return base;
  std::uniform_real_distribution<double> spread(1.0 - policy_.jitter, 1.0 + policy_.jitter);
  const double ms = static_cast<double>(base.count()) * spread(random_);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace dove::dswitch::agent
