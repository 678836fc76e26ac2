// The SwitchService's store lease (switch_service.h): a greeted switch's session key goes with
// it, and losing it ends every stream with UNAVAILABLE until a new one is held. A real
// SouthboundServer in this process over a MemoryStore (leases expire at the store's calls),
// real gRPC streams.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "api/test_switch.h"
#include "controller/registry.h"
#include "controller/southbound/switch_service.h"
#include "controller/store_keys.h"
#include "store/memory_store.h"

namespace dove::controller::southbound {
namespace {

using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(SwitchServiceLeaseTest, LosingTheLeaseEndsEveryStreamWithUnavailableUntilANewOne) {
  store::MemoryStore store;
  auto registry = controller::Registry::Open(&store);
  ASSERT_TRUE(registry);
  SouthboundOptions options;
  options.directory.dead_after = 1000ms;  // a lease TTL of 1 s, kept alive every ~333 ms
  auto server = SouthboundServer::Start(registry->get(), &store, "127.0.0.1", 0, options);
  ASSERT_TRUE(server) << server.error();
  EXPECT_NE((*server)->MetricsText().find("dove_southbound_lease_held 1"), std::string::npos);

  api_test::TestSwitch a((*server)->port());
  ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
  int64_t lease = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        auto key = store.Get(SessionKey("host-a"));
        lease = key ? key->lease : 0;
        return lease != 0;
      },
      10s))
      << "no session key with a lease";
  // Kept alive: still there after several TTLs of a switch that keeps beating.
  const auto until = std::chrono::steady_clock::now() + 2500ms;
  for (uint64_t beat = 1; std::chrono::steady_clock::now() < until; ++beat) {
    ASSERT_FALSE(a.Beat(beat).empty());
    std::this_thread::sleep_for(200ms);  // the switch's heartbeat period, not a wait for a result
  }
  ASSERT_TRUE(store.Get(SessionKey("host-a")));
  ASSERT_EQ(store.Get(SessionKey("host-a"))->lease, lease);

  // The lease goes (as when the store expired it): the stream ends with UNAVAILABLE.
  ASSERT_TRUE(store.RevokeLease(lease));
  const grpc::Status ended = a.Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_NE(ended.error_message().find("lease"), std::string::npos) << ended.error_message();
  const std::string metrics = (*server)->MetricsText();
  EXPECT_NE(metrics.find("dove_southbound_lease_changes_total{change=\"lost\"} 1"),
            std::string::npos)
      << metrics;

  // A new lease: Hellos again, the key with it.
  ASSERT_TRUE(Eventually(
      [&] {
        return (*server)->MetricsText().find("dove_southbound_lease_held 1") != std::string::npos;
      },
      10s));
  api_test::TestSwitch again((*server)->port());
  ASSERT_TRUE(again.Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(Eventually(
      [&] {
        auto key = store.Get(SessionKey("host-a"));
        return key && key->lease != 0 && key->lease != lease;
      },
      10s));
}

}  // namespace
}  // namespace dove::controller::southbound
