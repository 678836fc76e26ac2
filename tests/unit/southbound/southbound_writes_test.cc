// The southbound's store writes are made outside the lock that serialises the Directory, and
// the registry's reads do not wait for its writes: a switch whose Attach waits for a durable
// write holds up no other switch (directory.h, "Writes"; registry.h). A real SouthboundServer in
// this process, real gRPC streams, and a store whose writes wait at a gate the test opens. Also
// SwitchBatch and ControllerBatch on the same real streams.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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

// Network "web" (VNI 100) of domain d1; vm1 placed on host-a, vm2 on host-b, vm3 on none.
void Populate(controller::Registry& registry) {
  v1::Domain domain;
  domain.set_id("d1");
  domain.set_name("acme");
  ASSERT_TRUE(registry.Create(domain));
  v1::Network network;
  network.set_id("web");
  network.set_domain_id("d1");
  network.set_name("web");
  network.set_vni(100);
  ASSERT_TRUE(registry.Create(network));
  v1::Subnet subnet;
  subnet.set_id("web4");
  subnet.set_network_id("web");
  subnet.set_cidr("10.0.0.0/24");
  ASSERT_TRUE(registry.Create(subnet));
  for (const auto& [id, host] :
       {std::pair{"vm1", "host-a"}, std::pair{"vm2", "host-b"}, std::pair{"vm3", ""}}) {
    v1::Endpoint endpoint;
    endpoint.set_id(id);
    endpoint.set_network_id("web");
    endpoint.set_switch_name(host);
    ASSERT_TRUE(registry.Create(endpoint));
  }
}

// A SouthboundServer over a registry Populate() filled, on a GatedStore (its gate open).
class Served : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = controller::Registry::Open(&store);
    ASSERT_TRUE(opened);
    registry = std::move(*opened);
    Populate(*registry);
    auto started = SouthboundServer::Start(registry.get(), &store, "127.0.0.1", 0, {});
    ASSERT_TRUE(started) << started.error();
    server = std::move(*started);
  }

  // Waits (up to 10 s) until each of `names` has its session key: a Hello's own writes done
  // before the gate closes.
  bool SessionsWritten(const std::vector<std::string>& names) {
    const auto settled = std::chrono::steady_clock::now() + 10s;
    auto all = [&] {
      for (const auto& name : names) {
        if (!store.Get(controller::SessionKey(name))) return false;
      }
      return true;
    };
    while (std::chrono::steady_clock::now() < settled && !all()) {
      std::this_thread::sleep_for(5ms);
    }
    return all();
  }

  // Closes the store's gate until the end of the scope (a failed assertion included).
  struct GateClosed {
    explicit GateClosed(test_support::GatedStore& gated) : store(gated) { store.CloseGate(); }
    ~GateClosed() { store.Open(); }
    GateClosed(const GateClosed&) = delete;
    GateClosed& operator=(const GateClosed&) = delete;
    test_support::GatedStore& store;
  };

  test_support::GatedStore store;
  std::unique_ptr<controller::Registry> registry;
  std::unique_ptr<SouthboundServer> server;
};
class SouthboundWritesTest : public Served {};
class SouthboundBatchTest : public Served {};

TEST_F(SouthboundWritesTest, ASwitchWaitingForItsWriteHoldsUpNoOtherSwitch) {
  api_test::TestSwitch a(server->port());
  api_test::TestSwitch b(server->port());
  ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b.Hello("host-b", "192.0.2.2"));
  // Each Hello's own writes (the switch's session key, its state) are done before the gate
  // closes: only A's Attach is to wait at it.
  ASSERT_TRUE(SessionsWritten({"host-a", "host-b"})) << "a session was never written";

  GateClosed gate(store);
  ASSERT_TRUE(a.Write(Attach("vm1", "tap1")));
  ASSERT_TRUE(store.SomeoneWaits(10s)) << "the Attach made no write";

  // A's write is in progress: B's heartbeat and resolve are answered, the metrics served.
  const std::string vm1_mac = registry->Get<v1::Endpoint>("vm1")->mac();
  const auto resolved = b.ResolveMac(1, 100, vm1_mac);
  ASSERT_TRUE(resolved.has_value()) << "the resolve waited for another switch's write";
  EXPECT_EQ(resolved->status(), v1::ResolveReply::STATUS_FOUND);
  const auto beat = b.Beat(7);
  ASSERT_FALSE(beat.empty());
  EXPECT_TRUE(beat.back().has_heartbeat() && beat.back().heartbeat().sequence() == 7)
      << "the heartbeat waited for another switch's write";
  auto metrics = std::async(std::launch::async, [&] { return server->MetricsText(); });
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
  EXPECT_EQ(registry->Get<v1::Endpoint>("vm1")->port_name(), "tap1");
}

// The Hello of a switch new to the store waits for its record (the registry's checks decide
// its answer), but not under the Directory's lock: two registrations wait at the gate at once,
// and a greeted switch is answered meanwhile. Then both get their Welcome.
TEST_F(SouthboundWritesTest, NewSwitchesWaitingForTheirRecordsHoldUpNoOtherSwitch) {
  api_test::TestSwitch b(server->port());
  ASSERT_TRUE(b.Hello("host-b", "192.0.2.2"));
  ASSERT_TRUE(SessionsWritten({"host-b"})) << "B's session was never written";

  std::optional<GateClosed> gate;
  gate.emplace(store);
  api_test::TestSwitch c(server->port());
  api_test::TestSwitch d(server->port());
  auto hello = [](const std::string& name, const std::string& tunnel_ip) {
    v1::SwitchMessage message;
    message.mutable_hello()->set_switch_name(name);
    message.mutable_hello()->set_tunnel_ip(tunnel_ip);
    return message;
  };
  ASSERT_TRUE(c.Write(hello("host-c", "192.0.2.3")));
  ASSERT_TRUE(d.Write(hello("host-d", "192.0.2.4")));
  ASSERT_TRUE(store.Waiting(2, 10s)) << "the two registrations were not in flight at once";

  const std::string vm1_mac = registry->Get<v1::Endpoint>("vm1")->mac();
  const auto resolved = b.ResolveMac(1, 100, vm1_mac);
  ASSERT_TRUE(resolved.has_value()) << "the resolve waited for a new switch's registration";
  EXPECT_EQ(resolved->status(), v1::ResolveReply::STATUS_FOUND);
  const auto beat = b.Beat(7);
  ASSERT_FALSE(beat.empty());
  EXPECT_TRUE(beat.back().has_heartbeat() && beat.back().heartbeat().sequence() == 7)
      << "the heartbeat waited for a new switch's registration";
  EXPECT_FALSE(registry->Get<v1::Switch>("host-c")) << "registered before the gate opened";

  gate.reset();  // open
  for (auto* each : {&c, &d}) {
    EXPECT_TRUE(each->ReadUntil([](const v1::ControllerMessage& m) { return m.has_welcome(); }));
    EXPECT_TRUE(each->ReadUntil([](const v1::ControllerMessage& m) { return m.has_sync_done(); }));
  }
  for (const char* name : {"host-c", "host-d"}) {
    auto stored = registry->Get<v1::Switch>(name);
    ASSERT_TRUE(stored) << name;
    EXPECT_EQ(stored->state(), v1::Switch::STATE_UP) << name;
  }
}

// A SwitchBatch's messages are handled as if each had been read alone: one waits for the
// writes of the one before it. The Attach of the unplaced vm3 places it here (a write); the
// Detach after it in the same batch finds it here (handed over together, it would not).
TEST_F(SouthboundBatchTest, EachMessageOfABatchFindsTheWritesOfTheOneBeforeIt) {
  api_test::TestSwitch a(server->port());
  ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
  v1::SwitchMessage batch;
  *batch.mutable_batch()->add_messages() = Attach("vm3", "tap3");
  batch.mutable_batch()->add_messages()->mutable_detach()->set_endpoint_id("vm3");
  ASSERT_TRUE(a.Write(batch));
  std::vector<std::string> answers;
  auto last = a.ReadUntil([&](const v1::ControllerMessage& m) {
    if (m.has_error()) answers.push_back("refused: " + m.error().message());
    if (!m.has_location_update()) return false;
    const auto& location = m.location_update().location();
    if (location.endpoint_id() != "vm3") return false;
    answers.push_back("on [" + location.switch_name() + "]");
    return location.switch_name().empty();
  });
  std::string heard;
  for (const auto& answer : answers) heard += answer + "; ";
  ASSERT_TRUE(last.has_value()) << heard;
  EXPECT_EQ(answers, (std::vector<std::string>{"on [host-a]", "on []"}))
      << "the acknowledgements of the attach and of the detach, nothing refused";
  EXPECT_TRUE(registry->Get<v1::Endpoint>("vm3")->switch_name().empty());
}

// What waits for a stream's write goes in one ControllerBatch to a switch whose Hello says
// accepts_batches, and one message at a time to one that does not; the same messages, byte for
// byte (the queued ones are written from their wire forms).
TEST_F(SouthboundBatchTest, TheCatchUpGoesInABatchOnlyToASwitchThatTakesThem) {
  // The switch's Hello with or without accepts_batches; every message to SyncDone, unpacked,
  // and how many of them came in batches.
  auto catch_up = [&](bool batches, int* batched) {
    api_test::TestSwitch a(server->port());
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name("host-a");
    hello.mutable_hello()->set_tunnel_ip("192.0.2.1");
    hello.mutable_hello()->add_cached_endpoint_ids("vm2");
    hello.mutable_hello()->set_accepts_batches(batches);
    EXPECT_TRUE(a.Write(hello));
    std::vector<std::string> seen;
    *batched = 0;
    a.ReadUntil([&](const v1::ControllerMessage& m) {
      bool done = false;
      auto note = [&](const v1::ControllerMessage& each) {
        EXPECT_FALSE(each.has_batch()) << "never nested";
        std::string what = std::to_string(each.body_case());
        if (each.has_location_update())
          what += " " + each.location_update().location().endpoint_id();
        if (each.has_network_config()) {
          // The switch's first config of the domain: its routes appended in their wire form
          // once encoded, then queued and written as unknown fields: the same config either way.
          EXPECT_GT(each.network_config().domain_subnets_size(), 0);
          what += " " + each.network_config().SerializeAsString();
        }
        seen.push_back(what);
        done = done || each.has_sync_done();
      };
      if (m.has_batch()) {
        *batched += m.batch().messages_size();
        EXPECT_EQ(m.revision(), m.batch().messages(m.batch().messages_size() - 1).revision());
        for (const auto& each : m.batch().messages()) note(each);
      } else {
        note(m);
      }
      return done;
    });
    EXPECT_TRUE(a.Close().ok());
    return seen;
  };
  int batched = 0;
  const auto one_by_one = catch_up(false, &batched);
  EXPECT_EQ(batched, 0);
  // Welcome, the config of web, vm2's location, SyncDone.
  ASSERT_EQ(one_by_one.size(), 4u);
  const auto in_batches = catch_up(true, &batched);
  EXPECT_EQ(batched, 3) << "all but the Welcome, queued behind its write, in one";
  // The same messages (the revisions differ: the first stream's end was a write).
  EXPECT_EQ(in_batches, one_by_one);
}

// The service compacts the store's history from the revision its watch has seen: no store
// read at every change it watches (on etcd each was a quorum read, ~80 a second over three
// replicas in a reconnect storm).
TEST(SouthboundCompactionTest, TheHistoryIsCompactedWithoutAReadAtEveryChange) {
  test_support::GatedStore store;
  auto opened = controller::Registry::Open(&store);
  ASSERT_TRUE(opened);
  auto registry = std::move(*opened);
  SouthboundOptions options;
  options.history_revisions = 20;
  auto started = SouthboundServer::Start(registry.get(), &store, "127.0.0.1", 0, options);
  ASSERT_TRUE(started) << started.error();
  v1::Domain domain;
  domain.set_id("d1");
  domain.set_name("acme");
  ASSERT_TRUE(registry->Create(domain));
  for (int i = 0; i < 60; ++i) {
    domain.set_name("acme-" + std::to_string(i));
    ASSERT_TRUE(registry->Replace("d1", domain));
    std::this_thread::sleep_for(2ms);  // a watch wakeup each, or nearly
  }
  const auto settled = std::chrono::steady_clock::now() + 10s;
  int64_t compacted = 0;
  while (std::chrono::steady_clock::now() < settled) {
    compacted = store.CompactedRevision().value_or(0);
    if (compacted >= registry->Revision() - options.history_revisions - 2) break;
    std::this_thread::sleep_for(10ms);
  }
  // Compacted to within the window and its step (a tenth of it) of the last write.
  EXPECT_GE(compacted, registry->Revision() - options.history_revisions - 2);
  EXPECT_LE(compacted, registry->Revision() - options.history_revisions);
  EXPECT_LE(store.current_revision_reads(), 2) << "the store asked at every change";
}

}  // namespace
}  // namespace dove::controller::southbound
