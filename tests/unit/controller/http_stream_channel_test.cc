// StreamChannel (src/controller/http/stream_channel.h): what a producer pushes waits for the
// server, bounded by what the client has not taken; over the bound the channel closes itself
// (overflowed), a closed channel refuses pushes and calls the server no more.
#include <gtest/gtest.h>

#include <string>

#include "controller/http/stream_channel.h"

namespace dove::controller::http {
namespace {

TEST(StreamChannelTest, PushesWaitForAttachThenNotifyOncePerEmptyQueue) {
  StreamChannel channel(100);
  EXPECT_TRUE(channel.Push("hello "));
  int notified = 0;
  channel.Attach([&notified] { ++notified; });
  EXPECT_EQ(notified, 1);  // bytes were waiting
  EXPECT_TRUE(channel.Push("world"));
  EXPECT_EQ(notified, 1);  // the queue was not empty: the server knows already
  EXPECT_EQ(channel.Take(), "hello world");
  EXPECT_TRUE(channel.Push("!"));
  EXPECT_EQ(notified, 2);
  EXPECT_FALSE(channel.closed());
}

TEST(StreamChannelTest, BoundCountsQueuedAndUnsentBytes) {
  struct Case {
    const char* what;
    size_t queued;  // pushed and not taken
    size_t unsent;  // taken, not accepted by the socket
    size_t push;
    bool accepted;
  };
  const Case cases[] = {
      {"under the bound", 40, 0, 60, true},
      {"exactly the bound", 0, 40, 60, true},
      {"queued and pushed over it", 50, 0, 51, false},
      {"unsent bytes count", 0, 50, 51, false},
      {"both count", 30, 30, 41, false},
  };
  for (const Case& c : cases) {
    StreamChannel channel(100);
    channel.Attach([] {});
    if (c.unsent > 0) {
      ASSERT_TRUE(channel.Push(std::string(c.unsent, 'u')));
      channel.Take();  // counted as unsent until Unsent says otherwise
    }
    if (c.queued > 0) {
      ASSERT_TRUE(channel.Push(std::string(c.queued, 'q')));
    }
    EXPECT_EQ(channel.Push(std::string(c.push, 'p')), c.accepted) << c.what;
    EXPECT_EQ(channel.overflowed(), !c.accepted) << c.what;
    EXPECT_EQ(channel.closed(), !c.accepted) << c.what;
  }
}

TEST(StreamChannelTest, WrittenBytesFreeTheBound) {
  StreamChannel channel(100);
  channel.Attach([] {});
  ASSERT_TRUE(channel.Push(std::string(90, 'a')));
  EXPECT_EQ(channel.Take().size(), 90U);
  EXPECT_FALSE(channel.Push(std::string(20, 'b')));  // 90 unsent + 20 > 100
  StreamChannel drained(100);
  drained.Attach([] {});
  ASSERT_TRUE(drained.Push(std::string(90, 'a')));
  drained.Take();
  drained.Unsent(0);  // the socket took it all
  EXPECT_TRUE(drained.Push(std::string(100, 'b')));
}

TEST(StreamChannelTest, ClosedRefusesPushesAndCallsNoMore) {
  StreamChannel channel(100);
  int notified = 0;
  channel.Attach([&notified] { ++notified; });
  channel.Close();
  EXPECT_EQ(notified, 1);  // the server learns that it closed
  EXPECT_TRUE(channel.closed());
  EXPECT_FALSE(channel.overflowed());
  EXPECT_FALSE(channel.Push("late"));
  channel.Close();
  EXPECT_EQ(notified, 1);
  channel.Attach([&notified] { ++notified; });  // too late: ignored
  EXPECT_FALSE(channel.Push("later"));
  EXPECT_EQ(notified, 1);
}

}  // namespace
}  // namespace dove::controller::http
