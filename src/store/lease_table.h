// LeaseTable: the leases of an embedded store (MemoryStore, SqliteStore) and their deadlines
// (internal to src/store).
//
// Each lease has its TTL and a deadline on the steady clock (wall-clock steps neither expire
// nor keep leases). The table knows nothing of keys: the store deletes a lease's keys (one
// revision, DeleteLeaseKeys in txn_backend.h) and then Removes the lease. Ids are the store's
// to choose (> 0, never reused). Not thread-safe: the owning store's lock guards it.
//
//   LeaseTable leases;
//   leases.Add(7, 10, LeaseTable::Clock::now());
//   for (int64_t id : leases.Expired(LeaseTable::Clock::now())) Revoke(id);
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace dove::store {

class LeaseTable {
 public:
  using Clock = std::chrono::steady_clock;

  // Adds (or replaces) lease `id`, due `ttl_seconds` after `now` (saturating: a deadline past
  // the clock's range is never reached).
  void Add(int64_t id, int64_t ttl_seconds, Clock::time_point now);
  bool Contains(int64_t id) const { return leases_.contains(id); }
  // Sets the lease's deadline to `now` + its TTL and returns the TTL; nullopt when absent.
  std::optional<int64_t> Renew(int64_t id, Clock::time_point now);
  // Forgets the lease; absent is fine.
  void Remove(int64_t id);
  // The leases whose deadline is at or before `now`, earliest first. O(expired + log n).
  std::vector<int64_t> Expired(Clock::time_point now) const;
  size_t size() const { return leases_.size(); }

 private:
  struct Lease {
    int64_t ttl_seconds;
    Clock::time_point deadline;
  };

  std::map<int64_t, Lease> leases_;
  std::set<std::pair<Clock::time_point, int64_t>> by_deadline_;
};

}  // namespace dove::store
