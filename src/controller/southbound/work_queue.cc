#include "controller/southbound/work_queue.h"

#include <utility>

namespace dove::controller::southbound {

WorkQueue::WorkQueue(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkQueue::~WorkQueue() { Stop(); }

bool WorkQueue::Post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    // A job may post more while Stop() drains: those still run (stopping_ only refuses
    // strangers once nothing is queued or running).
    if (stopping_ && jobs_.empty() && running_ == 0) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void WorkQueue::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkQueue::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return !jobs_.empty() || (stopping_ && running_ == 0); });
    if (jobs_.empty()) {
      wake_.notify_all();  // the others see stopping_ too
      return;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.unlock();
    job();
    job = nullptr;
    lock.lock();
    --running_;
    if (running_ == 0 && jobs_.empty()) wake_.notify_all();
  }
}

}  // namespace dove::controller::southbound
