// Watch: the changes under one key prefix, delivered to an event loop through a file
// descriptor.
//
// fd() is an eventfd owned by the watch. It is readable when events may be pending: right
// after StartWatch (history from from_revision may already exist) and after every committed
// change to a key under the prefix. The loop adds fd() to its epoll set (level-triggered or
// edge-triggered both work) and calls Poll() when it fires. Poll() clears the fd first and then
// returns every event from the next undelivered revision on, in order, so a change committed
// during a Poll wakes the fd again and nothing is lost. Wake-ups may be spurious (Poll returns
// no events); that is not an error.
//
// Errors: Poll returns kCompacted when the next revision it needs has been compacted (the
// caller must take a full snapshot and start a new watch from its revision + 1), kClosed when
// the store was closed or destroyed, and the store's own read errors. After an error the
// watch stays where it was; polling again repeats it.
//
// Ownership and threading: made by Store::StartWatch and owned by the caller; it may outlive
// the store. One thread at a time may use a watch; different watches are independent.
//
//   auto watch = store.StartWatch("/ports/", revision + 1);
//   loop.Add((*watch)->fd(), [&] {
//     auto events = (*watch)->Poll();
//     if (!events) return Resync(events.error());
//     for (const Event& event : *events) Apply(event);
//   });
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "store/store.h"
#include "store/store_error.h"

namespace dove::store {

class Watch {
 public:
  // Used by Store::StartWatch; `event_fd` is an eventfd this watch now owns.
  Watch(std::shared_ptr<WatchHub> hub, int event_fd, std::string prefix, int64_t from_revision);
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch();

  // Clears the fd and returns the events not yet delivered (possibly none).
  Expected<std::vector<Event>, StoreError> Poll();

  int fd() const { return fd_; }
  const std::string& prefix() const { return prefix_; }
  // The first revision the next Poll will look at.
  int64_t next_revision() const { return next_revision_; }

 private:
  std::shared_ptr<WatchHub> hub_;
  int fd_;
  std::string prefix_;
  int64_t next_revision_;
};

}  // namespace dove::store
