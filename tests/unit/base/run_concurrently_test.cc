#include "base/run_concurrently.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace dove {
namespace {

using namespace std::chrono_literals;

TEST(RunConcurrentlyTest, RunsEveryIndexExactlyOnce) {
  std::vector<std::atomic<int>> runs(1000);
  RunConcurrently(runs.size(), 8, [&](size_t i) { runs[i].fetch_add(1); });
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "index " << i;
}

// Four jobs that each wait for all four to have started: they finish only if they run at the
// same time (each gives up after 10 s, so a serial run fails instead of hanging).
TEST(RunConcurrentlyTest, JobsRunAtTheSameTime) {
  std::mutex mutex;
  std::condition_variable all_in;
  int started = 0;
  std::atomic<int> met{0};
  RunConcurrently(4, 4, [&](size_t) {
    std::unique_lock lock(mutex);
    ++started;
    all_in.notify_all();
    if (all_in.wait_for(lock, 10s, [&] { return started == 4; })) met.fetch_add(1);
  });
  EXPECT_EQ(met.load(), 4);
}

TEST(RunConcurrentlyTest, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  std::vector<std::thread::id> threads;
  RunConcurrently(5, 1, [&](size_t i) {
    order.push_back(i);
    threads.push_back(std::this_thread::get_id());
  });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  for (const auto& id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(RunConcurrentlyTest, NothingToRunCallsNothing) {
  int calls = 0;
  RunConcurrently(0, 8, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace dove
