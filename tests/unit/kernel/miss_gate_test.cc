// MissGate: a key is asked once until answered or timed out, held a while after its answer;
// new keys spend tokens of a bucket that refills at the configured rate.
#include "dswitch/kernel/miss_gate.h"

#include <gtest/gtest.h>

#include <string>

#include "dswitch/kernel/device_names.h"

namespace dove::dswitch::kernel {
namespace {

using Verdict = MissGate::Verdict;
using std::chrono::milliseconds;

TEST(MissGateTest, AKeyIsAskedOnceUntilAnsweredOrTimedOut) {
  const auto t0 = MissGate::Clock::now();
  MissGate gate({.rate_per_second = 1000,
                 .burst = 10,
                 .in_flight_timeout = milliseconds(3000),
                 .hold_after_answer = milliseconds(1000)},
                t0);
  EXPECT_EQ(gate.Admit("42/a", t0), Verdict::kAsk);
  EXPECT_EQ(gate.Admit("42/a", t0 + milliseconds(2999)), Verdict::kDeduplicated);
  EXPECT_EQ(gate.Admit("43/a", t0), Verdict::kAsk);  // the VNI is part of the key
  EXPECT_EQ(gate.in_flight(), 2U);
  EXPECT_EQ(gate.Admit("42/a", t0 + milliseconds(3000)), Verdict::kAsk);  // timed out: again
  gate.Answered("42/a", t0 + milliseconds(3100));
  EXPECT_EQ(gate.in_flight(), 1U);
  EXPECT_EQ(gate.Admit("42/a", t0 + milliseconds(4099)), Verdict::kDeduplicated);
  EXPECT_EQ(gate.Admit("42/a", t0 + milliseconds(4100)), Verdict::kAsk);
  gate.Expire(t0 + milliseconds(10000));
  EXPECT_EQ(gate.in_flight(), 0U);
}

TEST(MissGateTest, NewKeysSpendTokensThatRefillAtTheRate) {
  const auto t0 = MissGate::Clock::now();
  MissGate gate({.rate_per_second = 100, .burst = 5}, t0);
  int asked = 0;
  for (int i = 0; i < 20; ++i) asked += gate.Admit(std::to_string(i), t0) == Verdict::kAsk;
  EXPECT_EQ(asked, 5);
  EXPECT_EQ(gate.Admit("late", t0 + milliseconds(5)), Verdict::kRateLimited);  // half a token
  EXPECT_EQ(gate.Admit("late", t0 + milliseconds(10)), Verdict::kAsk);
  asked = 0;  // a long quiet time refills to the burst, no more
  for (int i = 100; i < 120; ++i) {
    asked += gate.Admit(std::to_string(i), t0 + milliseconds(60000)) == Verdict::kAsk;
  }
  EXPECT_EQ(asked, 5);
}

TEST(DeviceNamesTest, OnlyPrefixAndVniAreOurs) {
  EXPECT_EQ(BridgeName(42), "dvb42");
  EXPECT_EQ(VxlanName(16777215), "dvx16777215");
  struct Case {
    const char* name;
    bool ours;
    bool vxlan;
    uint32_t vni;
  };
  for (const Case& c : {Case{"dvb42", true, false, 42}, Case{"dvx16777215", true, true, 16777215},
                        Case{"dvx16777216", false, false, 0}, Case{"dvb042", false, false, 0},
                        Case{"dvb", false, false, 0}, Case{"dvb-x", false, false, 0},
                        Case{"dvbr0", false, false, 0}, Case{"eth0", false, false, 0},
                        Case{"dvx1a", false, false, 0}}) {
    auto owned = ParseOwnedName(c.name);
    EXPECT_EQ(owned.has_value(), c.ours) << c.name;
    if (owned && c.ours) {
      EXPECT_EQ(owned->vxlan, c.vxlan) << c.name;
      EXPECT_EQ(owned->vni, c.vni) << c.name;
    }
  }
}

}  // namespace
}  // namespace dove::dswitch::kernel
