// RedirectTable: what FromTunnel asks on every tunnel frame while an endpoint that moved away
// is in its grace period.
#include "dswitch/pipeline/redirect_table.h"

#include <gtest/gtest.h>

#include <chrono>

#include "test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST(RedirectTableTest, FindsByVniAndMacUntilItExpires) {
  RedirectTable redirects;
  const auto now = Clock::now();
  EXPECT_EQ(redirects.Find(kVni, kVm2Mac), nullptr);
  redirects.Upsert(
      kVni, kVm2Mac,
      {.tunnel_ip = kOtherPeerVtep, .until = now + std::chrono::seconds(10), .peers = {kPeerVtep}});
  const Redirect* found = redirects.Find(kVni, kVm2Mac);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->tunnel_ip, kOtherPeerVtep);
  EXPECT_EQ(redirects.Find(kOtherVni, kVm2Mac), nullptr) << "another network's MAC";
  EXPECT_EQ(redirects.Find(kVni, kVm1Mac), nullptr);
  EXPECT_EQ(redirects.Expire(now + std::chrono::seconds(9)), 0U);
  EXPECT_EQ(redirects.Expire(now + std::chrono::seconds(10)), 1U);
  EXPECT_EQ(redirects.Find(kVni, kVm2Mac), nullptr);
  EXPECT_TRUE(redirects.empty());
}

TEST(RedirectTableTest, AnUpsertReplacesAndRemoveTakesItAway) {
  RedirectTable redirects;
  const auto until = Clock::now() + std::chrono::seconds(10);
  redirects.Upsert(kVni, kVm2Mac, {.tunnel_ip = kPeerVtep, .until = until, .peers = {}});
  redirects.Upsert(kVni, kVm2Mac, {.tunnel_ip = kOtherPeerVtep, .until = until, .peers = {}});
  EXPECT_EQ(redirects.size(), 1U);
  EXPECT_EQ(redirects.Find(kVni, kVm2Mac)->tunnel_ip, kOtherPeerVtep) << "moved twice";
  redirects.Remove(kVni, kVm2Mac);
  EXPECT_EQ(redirects.Find(kVni, kVm2Mac), nullptr);
  redirects.Remove(kVni, kVm2Mac);  // absent: nothing
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
