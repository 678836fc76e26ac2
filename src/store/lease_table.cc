#include "store/lease_table.h"

namespace dove::store {
namespace {

LeaseTable::Clock::time_point DeadlineAfter(LeaseTable::Clock::time_point now,
                                            int64_t ttl_seconds) {
  using Duration = LeaseTable::Clock::duration;
  const auto max = LeaseTable::Clock::time_point::max();
  // Compare in seconds first: the TTL in clock ticks may not fit the duration's integer.
  const auto room = std::chrono::duration_cast<std::chrono::seconds>(max - now);
  if (ttl_seconds >= room.count()) return max;
  return now + std::chrono::duration_cast<Duration>(std::chrono::seconds(ttl_seconds));
}

}  // namespace

void LeaseTable::Add(int64_t id, int64_t ttl_seconds, Clock::time_point now) {
  Remove(id);
  const Lease lease{ttl_seconds, DeadlineAfter(now, ttl_seconds)};
  leases_.emplace(id, lease);
  by_deadline_.emplace(lease.deadline, id);
}

std::optional<int64_t> LeaseTable::Renew(int64_t id, Clock::time_point now) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  by_deadline_.erase({it->second.deadline, id});
  it->second.deadline = DeadlineAfter(now, it->second.ttl_seconds);
  by_deadline_.emplace(it->second.deadline, id);
  return it->second.ttl_seconds;
}

void LeaseTable::Remove(int64_t id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  by_deadline_.erase({it->second.deadline, id});
  leases_.erase(it);
}

std::vector<int64_t> LeaseTable::Expired(Clock::time_point now) const {
  std::vector<int64_t> expired;
  for (auto it = by_deadline_.begin(); it != by_deadline_.end() && it->first <= now; ++it) {
    expired.push_back(it->second);
  }
  return expired;
}

}  // namespace dove::store
