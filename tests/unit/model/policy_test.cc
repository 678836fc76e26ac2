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

TEST(AllowedTest, PolicyOfAnotherDomainIsIgnored) {
  auto view = testing::MakeWorld();
  auto p = MakePolicy("p", "n1", "n2", kAllow, 1);
  p.set_domain_id("d2");
  view.Put(p);
  EXPECT_FALSE(Allowed(view, "n1", "n2", 6, 80));
}

}  // namespace
}  // namespace dove::model
