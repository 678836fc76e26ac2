// WorkQueue: a few threads running jobs in the order they were posted (each job on one thread;
// with several threads, jobs posted one after another may run at the same time).
//
// The southbound's completion-queue thread must never wait for a store write (an fsync takes
// milliseconds, and every switch's stream is served by that one thread), so the writes an
// Attach or a disconnect asks for run here instead.
//
// Contract: Post() after Stop() runs nothing and returns false. Stop() runs every job posted
// before it, then joins the threads; it is idempotent and the destructor calls it. Jobs may
// Post() more jobs (they run before Stop() returns).
//
//   WorkQueue writes(2);
//   writes.Post([&] { Settle(out); });
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dove::controller::southbound {

class WorkQueue {
 public:
  explicit WorkQueue(size_t threads);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  bool Post(std::function<void()> job);
  void Stop();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  size_t running_ = 0;  // jobs taken and not finished
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dove::controller::southbound
