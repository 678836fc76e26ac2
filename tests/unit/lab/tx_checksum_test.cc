// Transmit checksum offload through SIOCETHTOOL, on a veth in a namespace of the test's own
// (root only: skipped otherwise): it reads what the kernel has, turns off and on again, and
// names the interface when there is none.
#include "lab/tx_checksum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/io/network_namespace.h"

namespace dove::lab {
namespace {

using ::dove::dswitch::io::testing::RunInNetworkNamespace;
using ::dove::dswitch::io::testing::Shell;
using ::testing::HasSubstr;

TEST(TxChecksumTest, AVethStartsWithTheOffloadOnAndTurnsItOffAndOnAgain) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell("ip link add txc0 type veth peer name txc1");
    auto initial = TxChecksumOffload("txc0");
    ASSERT_TRUE(initial) << initial.error();
    EXPECT_TRUE(*initial) << "a veth offers tx checksum offload (what the lab works around)";
    const struct {
      bool on;
    } kSteps[] = {{false}, {false}, {true}, {false}};  // setting the same state twice is fine
    for (const auto& step : kSteps) {
      auto set = SetTxChecksumOffload("txc0", step.on);
      ASSERT_TRUE(set) << set.error();
      auto now = TxChecksumOffload("txc0");
      ASSERT_TRUE(now) << now.error();
      EXPECT_EQ(*now, step.on);
    }
    auto peer = TxChecksumOffload("txc1");
    ASSERT_TRUE(peer) << peer.error();
    EXPECT_TRUE(*peer) << "only the interface asked for changes";
  });
}

TEST(TxChecksumTest, ErrorsNameTheInterface) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    const auto missing = TxChecksumOffload("nosuchdev0");
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error(), HasSubstr("reading tx-checksumming of nosuchdev0"));
    const auto set = SetTxChecksumOffload("nosuchdev0", false);
    ASSERT_FALSE(set);
    EXPECT_THAT(set.error(), HasSubstr("turning tx-checksumming off of nosuchdev0"));
  });
}

TEST(TxChecksumTest, ANameThatCannotBeAnInterfaceIsRefusedWithoutAnIoctl) {
  for (const std::string& name : {std::string(), std::string(16, 'x')}) {
    const auto read = TxChecksumOffload(name);
    ASSERT_FALSE(read) << name;
    EXPECT_THAT(read.error(), HasSubstr("is not an interface name"));
  }
}

}  // namespace
}  // namespace dove::lab
