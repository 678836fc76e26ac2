// RunConcurrently: job(i) for every i in [0, n), on at most `threads` threads at once (the
// caller's among them), each index exactly once; returns when every job has returned.
//
// For blocking calls that do not depend on each other, each waiting on a round trip (store
// transactions of different keys, say): n of them take about the time of the slowest instead of
// the sum. Jobs must be safe to run at the same time and must not throw (a job throwing on a
// helper thread ends the process). n <= 1 or threads <= 1: in order, on the caller's thread
// alone, no thread started.
//
//   RunConcurrently(writes.size(), 16, [&](size_t i) { Perform(writes[i]); });
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace dove {

template <typename Job>
void RunConcurrently(size_t n, size_t threads, const Job& job) {
  const size_t width = std::min(n, threads);
  if (width <= 1) {
    for (size_t i = 0; i < n; ++i) job(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) job(i);
  };
  std::vector<std::jthread> helpers;
  helpers.reserve(width - 1);
  for (size_t t = 0; t + 1 < width; ++t) helpers.emplace_back(work);
  work();
}  // the helpers join here

}  // namespace dove
