// DumpRegistry: every object a Registry holds, of every kind, as one comparable text (one
// ShortDebugString per line, kinds in a fixed order). Registry tests compare dumps: the same
// registry before and after a refused mutation or a reopen, or replicas that converged.
//
//   EXPECT_EQ(dove::test_support::DumpRegistry(a), dove::test_support::DumpRegistry(b));
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "controller/registry.h"

namespace dove::test_support {

inline std::string DumpRegistry(const controller::Registry& r) {
  std::string out;
  auto add = [&](const auto& list) {
    ASSERT_TRUE(list);
    for (const auto& object : *list) out += object.ShortDebugString() + "\n";
  };
  add(r.List<v1::Domain>({}));
  add(r.List<v1::Network>({}));
  add(r.List<v1::Subnet>({}));
  add(r.List<v1::Endpoint>({}));
  add(r.List<v1::Switch>({}));
  add(r.List<v1::Policy>({}));
  return out;
}

}  // namespace dove::test_support
