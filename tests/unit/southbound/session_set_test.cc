// SessionSet (session_set.h): a sorted set of stream ids, a heap block only while not empty.
#include "controller/southbound/session_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace dove::controller::southbound {
namespace {

std::vector<uint64_t> Ids(const SessionSet& set) { return {set.begin(), set.end()}; }

TEST(SessionSetTest, KeepsIdsSortedAndUnique) {
  SessionSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(Ids(set).empty());
  for (uint64_t id : {5u, 1u, 9u, 5u, 3u}) set.Insert(id);
  EXPECT_EQ(Ids(set), (std::vector<uint64_t>{1, 3, 5, 9}));
  EXPECT_TRUE(set.Contains(9));
  EXPECT_FALSE(set.Contains(4));
  set.Erase(4);  // absent: nothing
  set.Erase(1);
  set.Erase(9);
  EXPECT_EQ(Ids(set), (std::vector<uint64_t>{3, 5}));
  set.Erase(3);
  set.Erase(5);
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.size(), 0u);
}

TEST(SessionSetTest, MovesLeaveTheSourceEmpty) {
  SessionSet a;
  a.Insert(2);
  a.Insert(1);
  SessionSet b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract says so
  EXPECT_EQ(Ids(b), (std::vector<uint64_t>{1, 2}));
  SessionSet c;
  c.Insert(7);
  c = std::move(b);
  EXPECT_EQ(Ids(c), (std::vector<uint64_t>{1, 2}));
}

TEST(SessionSetTest, AgreesWithStdSetUnderRandomInsertsAndErases) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<uint64_t> id(0, 40);
  SessionSet set;
  std::set<uint64_t> model;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t value = id(random);
    if (random() % 3 == 0) {
      set.Erase(value);
      model.erase(value);
    } else {
      set.Insert(value);
      model.insert(value);
    }
    ASSERT_EQ(set.size(), model.size());
    ASSERT_EQ(Ids(set), (std::vector<uint64_t>(model.begin(), model.end())));
  }
}

}  // namespace
}  // namespace dove::controller::southbound
