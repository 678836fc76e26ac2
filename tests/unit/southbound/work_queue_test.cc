// WorkQueue (work_queue.h): jobs run, Stop() runs every job posted before it (and those they
// post), and refuses new ones afterwards.
#include "controller/southbound/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace dove::controller::southbound {
namespace {

TEST(WorkQueueTest, StopRunsEveryJobPostedBeforeItThenRefusesMore) {
  std::atomic<int> ran{0};
  WorkQueue queue(2);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(queue.Post([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      ++ran;
    }));
  }
  queue.Stop();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_FALSE(queue.Post([&] { ++ran; }));
  queue.Stop();  // idempotent
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkQueueTest, AJobMayPostMoreWhileTheQueueStops) {
  std::atomic<int> ran{0};
  std::atomic<bool> posted_late{false};
  WorkQueue queue(1);
  ASSERT_TRUE(queue.Post([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Stop() is waiting by now
    posted_late = queue.Post([&] { ++ran; });
    ++ran;
  }));
  queue.Stop();
  EXPECT_TRUE(posted_late.load());
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkQueueTest, JobsOfOneThreadRunInTheOrderPosted) {
  std::vector<int> order;
  WorkQueue queue(1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(queue.Post([&order, i] { order.push_back(i); }));
  queue.Stop();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

}  // namespace
}  // namespace dove::controller::southbound
