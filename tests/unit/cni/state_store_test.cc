// dove-cni's state: saved atomically, loaded back, missing is "no record", removal idempotent.
#include "cni/state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace dove::cni {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dove-cni-state-" + std::to_string(::getpid())) / "sub";
  }
  void TearDown() override { std::filesystem::remove_all(dir_.parent_path()); }
  std::filesystem::path dir_;
};

TEST_F(StateStoreTest, SaveLoadRemove) {
  StateStore store(dir_);
  const StateRecord record{.container_id = "c1",
                           .ifname = "eth0",
                           .netns = "/run/netns/c1",
                           .endpoint_id = "cni-1",
                           .host_veth = "dc1",
                           .network = "acme/web",
                           .switch_name = "h1"};
  auto none = store.Load("k");
  ASSERT_TRUE(none) << none.error();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(store.Save("k", record));
  EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  EXPECT_FALSE(std::filesystem::exists(store.PathOf("k").string() + ".tmp"));
  auto loaded = store.Load("k");
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ((*loaded)->container_id, "c1");
  EXPECT_EQ((*loaded)->netns, "/run/netns/c1");
  EXPECT_EQ((*loaded)->endpoint_id, "cni-1");
  EXPECT_EQ((*loaded)->host_veth, "dc1");
  EXPECT_EQ((*loaded)->switch_name, "h1");
  ASSERT_TRUE(store.Remove("k"));
  EXPECT_FALSE(std::filesystem::exists(store.PathOf("k")));
  EXPECT_TRUE(store.Remove("k")) << "removing twice is fine";
}

TEST_F(StateStoreTest, ACorruptRecordIsAnError) {
  StateStore store(dir_);
  std::filesystem::create_directories(dir_);
  std::ofstream(store.PathOf("bad")) << "{\"endpointId\": 3";
  EXPECT_FALSE(store.Load("bad"));
  std::ofstream(store.PathOf("partial")) << R"({"containerId":"c1"})";
  EXPECT_FALSE(store.Load("partial"));
}

}  // namespace
}  // namespace dove::cni
