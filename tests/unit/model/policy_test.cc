#include "model/policy.h"

#include <gtest/gtest.h>

#include "world.h"

namespace dove::model {
namespace {

v1::Policy MakePolicy(const char* id, const char* source, const char* destination,
                      v1::Policy::Action action, uint32_t priority, uint32_t protocol = 0,
                      uint32_t first = 0, uint32_t last = 0) {
  v1::Policy p;
  p.set_id(id);
  p.set_domain_id("d1");
  p.set_source_network_id(source);
  p.set_destination_network_id(destination);
  p.set_action(action);
  p.set_priority(priority);
  p.set_protocol(protocol);
  if (first != 0) {
    p.mutable_port_range()->set_first(first);
    p.mutable_port_range()->set_last(last);
  }
  return p;
}

constexpr auto kAllow = v1::Policy::ACTION_ALLOW;
constexpr auto kDeny = v1::Policy::ACTION_DENY;
constexpr auto kReject = v1::Policy::ACTION_REJECT;

TEST(AllowedTest, DefaultRule) {
  const auto view = testing::MakeWorld();
  EXPECT_TRUE(Allowed(view, "n1", "n1", 6, 80)) << "inside a network";
  EXPECT_FALSE(Allowed(view, "n1", "n2", 6, 80)) << "between networks without a policy";
  EXPECT_FALSE(Allowed(view, "n1", "n3", 6, 80)) << "across domains";
  EXPECT_FALSE(Allowed(view, "n1", "nx", 6, 80)) << "unknown network";
  EXPECT_FALSE(Allowed(view, "nx", "nx", 6, 80)) << "unknown network, even to itself";
}

TEST(AllowedTest, PoliciesDecide) {
  struct Case {
    const char* description;
    std::vector<v1::Policy> policies;
    uint8_t protocol;
    uint16_t port;
    bool allowed;
  };
  const Case cases[] = {
      {"allow any", {MakePolicy("p", "n1", "n2", kAllow, 1)}, 6, 80, true},
      {"direction matters", {MakePolicy("p", "n2", "n1", kAllow, 1)}, 6, 80, false},
      {"explicit deny", {MakePolicy("p", "n1", "n2", kDeny, 1)}, 6, 80, false},
      {"protocol matches", {MakePolicy("p", "n1", "n2", kAllow, 1, 6)}, 6, 22, true},
      {"protocol differs", {MakePolicy("p", "n1", "n2", kAllow, 1, 17)}, 6, 22, false},
      {"port in range", {MakePolicy("p", "n1", "n2", kAllow, 1, 6, 80, 443)}, 6, 443, true},
      {"port below range", {MakePolicy("p", "n1", "n2", kAllow, 1, 6, 80, 443)}, 6, 79, false},
      {"port above range", {MakePolicy("p", "n1", "n2", kAllow, 1, 6, 80, 443)}, 6, 444, false},
      {"higher priority allow wins",
       {MakePolicy("a", "n1", "n2", kDeny, 1), MakePolicy("b", "n1", "n2", kAllow, 2)},
       6,
       80,
       true},
      {"higher priority deny wins",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kDeny, 2)},
       6,
       80,
       false},
      {"tie: deny wins, allow first",
       {MakePolicy("a", "n1", "n2", kAllow, 5), MakePolicy("b", "n1", "n2", kDeny, 5)},
       6,
       80,
       false},
      {"tie: deny wins, deny first",
       {MakePolicy("a", "n1", "n2", kDeny, 5), MakePolicy("b", "n1", "n2", kAllow, 5)},
       6,
       80,
       false},
      {"explicit reject", {MakePolicy("p", "n1", "n2", kReject, 1)}, 6, 80, false},
      {"higher priority reject wins",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kReject, 2)},
       6,
       80,
       false},
      {"higher priority allow beats reject",
       {MakePolicy("a", "n1", "n2", kReject, 1), MakePolicy("b", "n1", "n2", kAllow, 2)},
       6,
       80,
       true},
      {"tie: reject wins, allow first",
       {MakePolicy("a", "n1", "n2", kAllow, 5), MakePolicy("b", "n1", "n2", kReject, 5)},
       6,
       80,
       false},
      {"tie: reject wins, reject first",
       {MakePolicy("a", "n1", "n2", kReject, 5), MakePolicy("b", "n1", "n2", kAllow, 5)},
       6,
       80,
       false},
      {"narrow allow above broad deny",
       {MakePolicy("a", "n1", "n2", kDeny, 1), MakePolicy("b", "n1", "n2", kAllow, 9, 6, 22, 22)},
       6,
       22,
       true},
      {"narrow allow does not cover other ports",
       {MakePolicy("a", "n1", "n2", kDeny, 1), MakePolicy("b", "n1", "n2", kAllow, 9, 6, 22, 22)},
       6,
       23,
       false},
  };
  for (const auto& c : cases) {
    auto view = testing::MakeWorld();
    for (const auto& p : c.policies) view.Put(p);
    EXPECT_EQ(Allowed(view, "n1", "n2", c.protocol, c.port), c.allowed) << c.description;
  }
}

TEST(IsDenyTest, DenyAndRejectDeny) {
  EXPECT_FALSE(IsDeny(kAllow));
  EXPECT_TRUE(IsDeny(kDeny));
  EXPECT_TRUE(IsDeny(kReject));
  EXPECT_FALSE(IsDeny(v1::Policy::ACTION_UNSPECIFIED));
}

TEST(MayExchangeTest, WithoutPolicies) {
  const auto view = testing::MakeWorld();
  EXPECT_TRUE(MayExchange(view, "n1", "n1")) << "the same network";
  EXPECT_FALSE(MayExchange(view, "n1", "n2")) << "default deny between networks";
  EXPECT_FALSE(MayExchange(view, "n1", "n3")) << "across domains";
  EXPECT_FALSE(MayExchange(view, "n1", "nx")) << "unknown network";
  EXPECT_FALSE(MayExchange(view, "nx", "nx")) << "unknown network, even to itself";
}

TEST(MayExchangeTest, PoliciesDecide) {
  struct Case {
    const char* description;
    std::vector<v1::Policy> policies;
    bool may;
  };
  const Case cases[] = {
      {"allow any a->b", {MakePolicy("p", "n1", "n2", kAllow, 1)}, true},
      {"allow any b->a (replies)", {MakePolicy("p", "n2", "n1", kAllow, 1)}, true},
      {"allow tcp/443 only", {MakePolicy("p", "n1", "n2", kAllow, 0, 6, 443, 443)}, true},
      {"allow udp/53 b->a only", {MakePolicy("p", "n2", "n1", kAllow, 0, 17, 53, 53)}, true},
      {"allow icmp only", {MakePolicy("p", "n1", "n2", kAllow, 0, 1)}, true},
      {"deny only", {MakePolicy("p", "n1", "n2", kDeny, 1)}, false},
      {"reject only", {MakePolicy("p", "n1", "n2", kReject, 1)}, false},
      {"broad deny above allow",
       {MakePolicy("a", "n1", "n2", kAllow, 1, 6, 443, 443), MakePolicy("b", "n1", "n2", kDeny, 2)},
       false},
      {"broad reject above allow",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kReject, 2)},
       false},
      {"tie: broad deny overrides",
       {MakePolicy("a", "n1", "n2", kAllow, 5), MakePolicy("b", "n1", "n2", kDeny, 5)},
       false},
      {"tie: broad reject overrides, reject first",
       {MakePolicy("a", "n1", "n2", kReject, 5), MakePolicy("b", "n1", "n2", kAllow, 5)},
       false},
      {"allow above broad deny",
       {MakePolicy("a", "n1", "n2", kDeny, 4), MakePolicy("b", "n1", "n2", kAllow, 5, 6, 22, 22)},
       true},
      {"the highest allow counts, not the first",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kDeny, 3),
        MakePolicy("c", "n1", "n2", kAllow, 7, 17)},
       true},
      {"the highest broad deny counts, not the first",
       {MakePolicy("a", "n1", "n2", kDeny, 1), MakePolicy("b", "n1", "n2", kAllow, 3),
        MakePolicy("c", "n1", "n2", kReject, 7)},
       false},
      {"a narrow deny does not override (protocol)",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kDeny, 9, 6)},
       true},
      {"a narrow deny does not override (port range)",
       {MakePolicy("a", "n1", "n2", kAllow, 1, 6),
        MakePolicy("b", "n1", "n2", kDeny, 9, 6, 1, 65535)},
       true},
      {"a deny of the other direction does not override",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n2", "n1", kDeny, 9)},
       true},
      {"denied a->b, allowed b->a",
       {MakePolicy("a", "n1", "n2", kDeny, 9), MakePolicy("b", "n2", "n1", kAllow, 1, 6, 80, 80)},
       true},
      {"both directions overridden",
       {MakePolicy("a", "n1", "n2", kAllow, 1), MakePolicy("b", "n1", "n2", kDeny, 1),
        MakePolicy("c", "n2", "n1", kAllow, 2), MakePolicy("d", "n2", "n1", kReject, 3)},
       false},
      {"a policy between other networks", {MakePolicy("p", "n1", "n1", kAllow, 1)}, false},
  };
  for (const auto& c : cases) {
    auto view = testing::MakeWorld();
    for (const auto& p : c.policies) view.Put(p);
    EXPECT_EQ(MayExchange(view, "n1", "n2"), c.may) << c.description;
    EXPECT_EQ(MayExchange(view, "n2", "n1"), c.may) << c.description << " (asked from n2)";
  }
}

TEST(MayExchangeTest, PolicyOfAnotherDomainIsIgnored) {
  auto view = testing::MakeWorld();
  auto p = MakePolicy("p", "n1", "n2", kAllow, 1);
  p.set_domain_id("d2");
  view.Put(p);
  EXPECT_FALSE(MayExchange(view, "n1", "n2"));
  EXPECT_FALSE(MayExchange(view, "n1", "n3"));
}

TEST(AllowedTest, PolicyOfAnotherDomainIsIgnored) {
  auto view = testing::MakeWorld();
  auto p = MakePolicy("p", "n1", "n2", kAllow, 1);
  p.set_domain_id("d2");
  view.Put(p);
  EXPECT_FALSE(Allowed(view, "n1", "n2", 6, 80));
}

}  // namespace
}  // namespace dove::model
