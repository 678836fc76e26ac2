#include "store/watch.h"

#include <unistd.h>

#include <utility>

#include "store/watch_hub.h"

namespace dove::store {

Watch::Watch(std::shared_ptr<WatchHub> hub, int event_fd, std::string prefix, int64_t from_revision)
    : hub_(std::move(hub)),
      fd_(event_fd),
      prefix_(std::move(prefix)),
      next_revision_(from_revision) {
  hub_->Register(fd_, &prefix_);
  SignalEventFd(fd_);  // history from from_revision may already be there
}

Watch::~Watch() {
  hub_->Unregister(fd_);
  close(fd_);
}

Expected<std::vector<Event>, StoreError> Watch::Poll() {
  uint64_t count = 0;
  // Non-blocking: EAGAIN just means nothing was signalled.
  [[maybe_unused]] ssize_t got = read(fd_, &count, sizeof(count));
  auto events = hub_->Changes(prefix_, next_revision_);
  if (!events) {
    SignalEventFd(fd_);  // stay readable so the loop sees the error again
    return events;
  }
  if (!events->empty()) next_revision_ = events->back().kv.mod_revision + 1;
  return events;
}

}  // namespace dove::store
