// WatchHub: what a Store and its Watches share (internal to src/store).
//
// The store notifies the hub after each commit; the hub wakes the eventfd of every watch whose
// prefix covers a changed key. Watches read history through the hub, which forgets the store
// when it closes, so a watch may outlive its store. Thread-safe. Lock order: a watch's read
// holds the hub's store lock (shared) and then takes the store's lock; the store notifies only
// after releasing its own lock, and detaches (exclusive) outside it.
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "store/store.h"
#include "store/store_error.h"

namespace dove::store {

class WatchHub {
 public:
  explicit WatchHub(Store* store) : store_(store) {}

  void Register(int event_fd, const std::string* prefix);
  void Unregister(int event_fd);
  void Notify(const std::vector<std::string>& changed_keys);
  // The store is going away: later reads say kClosed; every watch is woken to learn it.
  void Detach();
  Expected<std::vector<Event>, StoreError> Changes(std::string_view prefix, int64_t from_revision);

 private:
  struct Entry {
    int event_fd;
    const std::string* prefix;
  };

  std::shared_mutex store_mutex_;
  Store* store_;  // null once detached
  std::mutex entries_mutex_;
  std::vector<Entry> entries_;
};

// Writes 1 to an eventfd (it then reads as readable); errors are ignored (the counter
// saturating still leaves it readable).
void SignalEventFd(int event_fd);

}  // namespace dove::store
