// MissGate: decides which of the kernel's miss notifications become questions to the
// controller. The kernel sends one notification per dropped packet, with no limit of its own
// (../shared/reference/linux-vxlan-dove.md), so a burst to one unknown MAC is thousands of the
// same miss, and a scan of random MACs is thousands of different ones.
//
//   - De-duplication: a key (VNI and MAC or IP) asked and not yet answered is not asked again
//     until `in_flight_timeout` passes; once answered, not before `hold_after_answer` has
//     passed since (an endpoint the controller does not know is not asked at packet rate).
//   - Rate limit: a token bucket of `rate_per_second` tokens, at most `burst` saved; a new
//     question takes one, and without one the miss is dropped (the kernel sends it again with
//     the next packet).
// Pure: the caller gives the time. Not thread-safe (the backend's loop thread owns it).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace dove::dswitch::kernel {

struct MissGateOptions {
  double rate_per_second = 1000;
  double burst = 200;
  std::chrono::milliseconds in_flight_timeout{3000};
  std::chrono::milliseconds hold_after_answer{1000};
};

class MissGate {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { kAsk, kDeduplicated, kRateLimited };

  explicit MissGate(MissGateOptions options, Clock::time_point now);

  Verdict Admit(const std::string& key, Clock::time_point now);
  // The question for `key` is settled (found or not).
  void Answered(const std::string& key, Clock::time_point now);
  // Forgets every key whose hold has passed; call it now and then (cost: O(keys)).
  void Expire(Clock::time_point now);
  // Questions asked and not yet answered (nor timed out).
  size_t in_flight() const;

 private:
  struct Entry {
    Clock::time_point until;  // no new question for the key before this
    bool answered = false;
  };
  MissGateOptions options_;
  double tokens_;
  Clock::time_point refilled_;
  std::map<std::string, Entry> keys_;
};

}  // namespace dove::dswitch::kernel
