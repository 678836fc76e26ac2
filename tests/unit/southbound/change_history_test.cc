// ChangeHistory (change_history.h): the store's changes by revision, as a catch-up asks them.
#include "controller/southbound/change_history.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace dove::controller::southbound {
namespace {

using Kind = ChangeHistory::Kind;

TEST(ChangeHistoryTest, AnswersOnlyFromWhereItIsComplete) {
  ChangeHistory history(100);
  EXPECT_FALSE(history.After(5));  // not started
  history.Start(10);
  history.Note(10, Kind::kEndpoint, "e1");
  history.Note(12, Kind::kSwitch, "host-a");
  history.Note(12, Kind::kEndpoint, "e2");
  history.Note(13, Kind::kPolicy, "");
  history.Note(14, Kind::kNetworkRemoved, "n1");
  EXPECT_EQ(history.last(), 14);
  EXPECT_FALSE(history.After(8));  // revision 9 may have changed something: not known
  auto all = history.After(9);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->endpoints, (std::set<std::string>{"e1", "e2"}));
  EXPECT_EQ(all->switches, (std::set<std::string>{"host-a"}));
  EXPECT_TRUE(all->policies);
  EXPECT_EQ(all->removed_networks, (std::vector<std::string>{"n1"}));
  auto later = history.After(12);  // strictly after
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->endpoints.empty());
  EXPECT_TRUE(later->policies);
  auto none = history.After(20);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->endpoints.empty());
  EXPECT_FALSE(none->policies);
}

TEST(ChangeHistoryTest, OlderOrEarlierNotesAreIgnoredAndReachedMovesTheEnd) {
  ChangeHistory history(100);
  history.Start(10);
  history.Note(9, Kind::kEndpoint, "before-start");
  history.Note(11, Kind::kEndpoint, "e1");
  history.Note(10, Kind::kEndpoint, "out-of-order");
  EXPECT_EQ(history.size(), 1u);
  history.Reached(15);  // a session key, say: no note
  EXPECT_EQ(history.last(), 15);
  history.Reached(12);
  EXPECT_EQ(history.last(), 15);
}

TEST(ChangeHistoryTest, BeyondItsSizeTheOldestRevisionGoesWhole) {
  ChangeHistory history(3);
  history.Start(1);
  history.Note(1, Kind::kEndpoint, "a");
  history.Note(2, Kind::kEndpoint, "b");
  history.Note(2, Kind::kEndpoint, "c");
  history.Note(3, Kind::kEndpoint, "d");  // 4 notes: revision 1 goes
  EXPECT_EQ(history.from(), 2);
  EXPECT_EQ(history.size(), 3u);
  history.Note(4, Kind::kEndpoint, "e");  // revision 2 goes, both of its notes
  EXPECT_EQ(history.from(), 3);
  EXPECT_EQ(history.size(), 2u);
  EXPECT_FALSE(history.After(1));
  auto kept = history.After(2);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->endpoints, (std::set<std::string>{"d", "e"}));
}

TEST(ChangeHistoryTest, PrependExtendsItBackwardsOnlyWhenItFits) {
  ChangeHistory history(4);
  history.Start(10);
  history.Note(10, Kind::kEndpoint, "e10");
  history.Prepend(5, {{11, Kind::kEndpoint, "not-older"}});  // not below from(): refused
  EXPECT_EQ(history.from(), 10);
  history.Prepend(12, {});  // after from(): refused
  EXPECT_EQ(history.from(), 10);
  history.Prepend(5, {{6, Kind::kEndpoint, "e6"}, {8, Kind::kSwitch, "host-b"}});
  EXPECT_EQ(history.from(), 5);
  auto since = history.After(4);
  ASSERT_TRUE(since);
  EXPECT_EQ(since->endpoints, (std::set<std::string>{"e6", "e10"}));
  EXPECT_EQ(since->switches, (std::set<std::string>{"host-b"}));
  auto after_six = history.After(6);
  ASSERT_TRUE(after_six);
  EXPECT_EQ(after_six->endpoints, (std::set<std::string>{"e10"}));
  // More than it holds: refused whole.
  history.Prepend(1, {{1, Kind::kEndpoint, "x"}, {2, Kind::kEndpoint, "y"}});
  EXPECT_EQ(history.from(), 5);
}

TEST(ChangeHistoryTest, TrimBeforeAndStartAgainForget) {
  ChangeHistory history(100);
  history.Start(1);
  for (int64_t revision = 1; revision <= 5; ++revision) {
    history.Note(revision, Kind::kEndpoint, "e" + std::to_string(revision));
  }
  history.TrimBefore(4);
  EXPECT_EQ(history.from(), 4);
  EXPECT_FALSE(history.After(2));
  auto kept = history.After(3);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->endpoints, (std::set<std::string>{"e4", "e5"}));
  history.Start(9);  // a gap in the watch: nothing before 9 is known
  EXPECT_EQ(history.size(), 0u);
  EXPECT_FALSE(history.After(5));
  EXPECT_EQ(history.last(), 8);
  auto empty = history.After(8);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->endpoints.empty());
}

}  // namespace
}  // namespace dove::controller::southbound
