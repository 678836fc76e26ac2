// IoCounters::Dump: every field under its own name, zero counters left out.
#include "dswitch/io/io_counters.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace dove::dswitch::io {
namespace {

TEST(IoCountersTest, DumpNamesTheNonZeroCounters) {
  IoCounters counters;
  EXPECT_TRUE(counters.Dump().empty());
  counters.read_frames = 3;
  counters.gso_refused = 1;
  counters.underlay_tx_malformed = 2;
  const std::map<std::string, uint64_t> expected = {
      {"io.gso_refused", 1}, {"io.read_frames", 3}, {"io.underlay_tx_malformed", 2}};
  EXPECT_EQ(counters.Dump(), expected);
}

}  // namespace
}  // namespace dove::dswitch::io
