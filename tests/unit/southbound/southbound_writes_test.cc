// The southbound's store writes are made outside the lock that serialises the Directory, and
// the registry's reads do not wait for its writes: a switch whose Attach waits for a durable
// write holds up no other switch (directory.h, "Writes"; registry.h). A real SouthboundServer in
// this process, real gRPC streams, and a store whose writes wait at a gate the test opens.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "api/test_switch.h"
#include "controller/registry.h"
#include "controller/southbound/switch_service.h"
#include "controller/store_keys.h"
#include "support/gated_store.h"

namespace dove::controller::southbound {
namespace {

using namespace std::chrono_literals;

v1::SwitchMessage Attach(const std::string& endpoint, const std::string& port) {
  v1::SwitchMessage message;
  message.mutable_attach()->set_endpoint_id(endpoint);
  message.mutable_attach()->set_port_name(port);
  return message;
}

TEST(SouthboundWritesTest, ASwitchWaitingForItsWriteHoldsUpNoOtherSwitch) {
  test_support::GatedStore store;
  auto registry = controller::Registry::Open(&store);
  ASSERT_TRUE(registry);
  v1::Domain domain;
  domain.set_id("d1");
  domain.set_name("acme");
  ASSERT_TRUE((*registry)->Create(domain));
  v1::Network network;
  network.set_id("web");
  network.set_domain_id("d1");
  network.set_name("web");
  network.set_vni(100);
  ASSERT_TRUE((*registry)->Create(network));
  v1::Subnet subnet;
  subnet.set_id("web4");
  subnet.set_network_id("web");
  subnet.set_cidr("10.0.0.0/24");
  ASSERT_TRUE((*registry)->Create(subnet));
  for (const auto& [id, host] : {std::pair{"vm1", "host-a"}, std::pair{"vm2", "host-b"}}) {
    v1::Endpoint endpoint;
    endpoint.set_id(id);
    endpoint.set_network_id("web");
    endpoint.set_switch_name(host);
    ASSERT_TRUE((*registry)->Create(endpoint));
  }
  auto server = SouthboundServer::Start(registry->get(), &store, "127.0.0.1", 0, {});
  ASSERT_TRUE(server) << server.error();
  api_test::TestSwitch a((*server)->port());
  api_test::TestSwitch b((*server)->port());
  ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b.Hello("host-b", "192.0.2.2"));
  // Each Hello's own writes (the switch's session key, its state) are done before the gate
  // closes: only A's Attach is to wait at it.
  const auto settled = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < settled &&
         !(store.Get(controller::SessionKey("host-a")) &&
           store.Get(controller::SessionKey("host-b")))) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(store.Get(controller::SessionKey("host-b"))) << "B's session was never written";

  store.CloseGate();
  struct OpenOnExit {
    test_support::GatedStore& store;
    ~OpenOnExit() { store.Open(); }
  } open_on_exit{store};
  ASSERT_TRUE(a.Write(Attach("vm1", "tap1")));
  ASSERT_TRUE(store.SomeoneWaits(10s)) << "the Attach made no write";

  // A's write is in progress: B's heartbeat and resolve are answered, the metrics served.
  const std::string vm1_mac = (*registry)->Get<v1::Endpoint>("vm1")->mac();
  const auto resolved = b.ResolveMac(1, 100, vm1_mac);
  ASSERT_TRUE(resolved.has_value()) << "the resolve waited for another switch's write";
  EXPECT_EQ(resolved->status(), v1::ResolveReply::STATUS_FOUND);
  const auto beat = b.Beat(7);
  ASSERT_FALSE(beat.empty());
  EXPECT_TRUE(beat.back().has_heartbeat() && beat.back().heartbeat().sequence() == 7)
      << "the heartbeat waited for another switch's write";
  auto metrics = std::async(std::launch::async, [&] { return (*server)->MetricsText(); });
  ASSERT_EQ(metrics.wait_for(5s), std::future_status::ready)
      << "/metrics waited for a switch's write";
  EXPECT_NE(metrics.get().find("dove_southbound_sessions 2"), std::string::npos);

  // Once written, A gets its acknowledgement.
  store.Open();
  auto ack = a.ReadUntil([](const v1::ControllerMessage& m) {
    return m.has_location_update() && m.location_update().location().endpoint_id() == "vm1" &&
           m.location_update().location().port_name() == "tap1";
  });
  EXPECT_TRUE(ack.has_value());
  EXPECT_EQ((*registry)->Get<v1::Endpoint>("vm1")->port_name(), "tap1");
}

}  // namespace
}  // namespace dove::controller::southbound
