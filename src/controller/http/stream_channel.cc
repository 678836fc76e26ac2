#include "controller/http/stream_channel.h"

#include <utility>

namespace dove::controller::http {

bool StreamChannel::Push(std::string_view bytes) {
  const std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (pending_.size() + unsent_ + bytes.size() > max_buffered_) {
    closed_ = true;
    overflowed_ = true;
    pending_.clear();
    if (notify_) notify_();
    notify_ = nullptr;
    return false;
  }
  const bool was_empty = pending_.empty();
  pending_.append(bytes);
  if (was_empty && notify_) notify_();
  return true;
}

void StreamChannel::Close() {
  const std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  if (notify_) notify_();
  notify_ = nullptr;
}

bool StreamChannel::closed() const {
  const std::lock_guard lock(mutex_);
  return closed_;
}

bool StreamChannel::overflowed() const {
  const std::lock_guard lock(mutex_);
  return overflowed_;
}

void StreamChannel::Attach(std::function<void()> notify) {
  const std::lock_guard lock(mutex_);
  if (closed_) return;
  notify_ = std::move(notify);
  if (!pending_.empty()) notify_();
}

std::string StreamChannel::Take() {
  const std::lock_guard lock(mutex_);
  std::string taken;
  taken.swap(pending_);
  unsent_ += taken.size();
  return taken;
}

void StreamChannel::Unsent(size_t bytes) {
  const std::lock_guard lock(mutex_);
  unsent_ = bytes;
}

}  // namespace dove::controller::http
