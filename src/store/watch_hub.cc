#include "store/watch_hub.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "store/txn_rules.h"

namespace dove::store {

void SignalEventFd(int event_fd) {
  const uint64_t one = 1;
  // A full counter (EAGAIN) already reads as readable; nothing else can fail here.
  [[maybe_unused]] ssize_t written = write(event_fd, &one, sizeof(one));
}

void WatchHub::Register(int event_fd, const std::string* prefix) {
  std::lock_guard lock(entries_mutex_);
  entries_.push_back({event_fd, prefix});
}

void WatchHub::Unregister(int event_fd) {
  std::lock_guard lock(entries_mutex_);
  std::erase_if(entries_, [event_fd](const Entry& entry) { return entry.event_fd == event_fd; });
}

void WatchHub::Notify(const std::vector<std::string>& changed_keys) {
  std::lock_guard lock(entries_mutex_);
  for (const Entry& entry : entries_) {
    const bool covered =
        std::any_of(changed_keys.begin(), changed_keys.end(),
                    [&](const std::string& key) { return HasPrefix(key, *entry.prefix); });
    if (covered) SignalEventFd(entry.event_fd);
  }
}

void WatchHub::Detach() {
  {
    std::unique_lock lock(store_mutex_);
    store_ = nullptr;
  }
  std::lock_guard lock(entries_mutex_);
  for (const Entry& entry : entries_) SignalEventFd(entry.event_fd);
}

Expected<std::vector<Event>, StoreError> WatchHub::Changes(std::string_view prefix,
                                                           int64_t from_revision) {
  std::shared_lock lock(store_mutex_);
  if (store_ == nullptr) return Unexpected(StoreError{StoreError::kClosed, "watched store"});
  return store_->Changes(prefix, from_revision);
}

}  // namespace dove::store
