#include "dswitch/kernel/miss_gate.h"

#include <algorithm>

namespace dove::dswitch::kernel {

MissGate::MissGate(MissGateOptions options, Clock::time_point now)
    : options_(options), tokens_(options.burst), refilled_(now) {}

MissGate::Verdict MissGate::Admit(const std::string& key, Clock::time_point now) {
  if (auto found = keys_.find(key); found != keys_.end()) {
    if (now < found->second.until) return Verdict::kDeduplicated;
    keys_.erase(found);
  }
  const std::chrono::duration<double> elapsed = now - refilled_;
  refilled_ = now;
  tokens_ = std::min(options_.burst, tokens_ + elapsed.count() * options_.rate_per_second);
  if (tokens_ < 1) return Verdict::kRateLimited;
  tokens_ -= 1;
  keys_[key] = {now + options_.in_flight_timeout, false};
  return Verdict::kAsk;
}

void MissGate::Answered(const std::string& key, Clock::time_point now) {
  auto found = keys_.find(key);
  if (found == keys_.end()) return;
  found->second = {now + options_.hold_after_answer, true};
}

void MissGate::Expire(Clock::time_point now) {
  std::erase_if(keys_, [&](const auto& entry) { return entry.second.until <= now; });
}

size_t MissGate::in_flight() const {
  return static_cast<size_t>(std::count_if(
      keys_.begin(), keys_.end(), [](const auto& entry) { return !entry.second.answered; }));
}

}  // namespace dove::dswitch::kernel
