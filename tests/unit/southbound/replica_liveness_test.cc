// Switch liveness across controller replicas (directory.h, "Replicas"): two or three
// Registry + Directory pairs over ONE MemoryStore, each fed the store's changes as its
// SwitchService would (Pump), with real store leases standing for the replicas' lives.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/southbound/directory.h"
#include "controller/store_keys.h"
#include "store/memory_store.h"
#include "unit/southbound/directory_fixture.h"

namespace dove::controller::southbound {
namespace {

using directory_test::For;
using directory_test::Hello;
using directory_test::ResolveMac;
using namespace std::chrono_literals;

constexpr int kAborted = 10;
constexpr int kUnavailable = 14;
constexpr auto kDeadAfter = 3000ms;

// One controller process: its registry, its directory, the store revision it has been fed up
// to, and every message it sent.
struct Replica {
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Directory> directory;
  int64_t lease = 0;
  int64_t pumped = 0;
  std::vector<Outbound> sent;
  std::vector<std::string> logs;
};

class ReplicaLivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Registry::Open(&store_);
    ASSERT_TRUE(opened);
    Registry& registry = **opened;
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
    subnet.set_id("web-v4");
    subnet.set_network_id("web");
    subnet.set_cidr("10.0.0.0/24");
    ASSERT_TRUE(registry.Create(subnet));
    // vm1 on host-a (the switch whose liveness is at stake), vm2 on host-b (which caches vm1).
    for (auto [id, mac, ip, host] :
         {std::tuple{"vm1", "52:54:00:00:00:01", "10.0.0.11", "host-a"},
          std::tuple{"vm2", "52:54:00:00:00:02", "10.0.0.12", "host-b"}}) {
      v1::Endpoint endpoint;
      endpoint.set_id(id);
      endpoint.set_network_id("web");
      endpoint.set_mac(mac);
      endpoint.add_ips(ip);
      endpoint.set_switch_name(host);
      ASSERT_TRUE(registry.Create(endpoint));
    }
    a_ = Start("ctl-a", std::move(*opened));
    b_ = Start("ctl-b");
  }

  std::unique_ptr<Replica> Start(const std::string& id, std::unique_ptr<Registry> registry = {}) {
    auto replica = std::make_unique<Replica>();
    if (!registry) {
      auto opened = Registry::Open(&store_);
      EXPECT_TRUE(opened);
      registry = std::move(*opened);
    }
    replica->registry = std::move(registry);
    auto options = directory_test::TestOptions();
    options.controller_id = id;
    options.dead_after = kDeadAfter;
    replica->pumped = replica->registry->Revision();
    replica->directory =
        std::make_unique<Directory>(replica->registry.get(), &store_, std::move(options));
    auto lease = store_.GrantLease(3);
    EXPECT_TRUE(lease);
    replica->lease = lease ? lease->id : 0;
    Settle(*replica, replica->directory->OnLeaseGranted(replica->lease));
    return replica;
  }

  // `out` with its writes performed (as SwitchService does), recorded in the replica's sent.
  Output Settle(Replica& replica, Output out) {
    Directory& directory = *replica.directory;
    for (size_t i = 0; i < out.registrations.size(); ++i) {
      const Registration registration = out.registrations[i];
      Append(out, directory.OnRegistered(
                      registration, PerformRegistration(*replica.registry, registration), now_));
    }
    while (out.switch_writes) {
      out.switch_writes = false;
      for (const auto& write : directory.TakeSwitchWrites()) {
        Append(out, directory.OnSwitchWritten(
                        write, PerformSwitchWrite(*replica.registry, &store_, write)));
      }
    }
    for (auto& each : out.messages) {
      if (!each.encoded.empty()) {
        each.message = directory_test::Decoded(each);
        each.encoded.clear();
      }
    }
    replica.sent.insert(replica.sent.end(), out.messages.begin(), out.messages.end());
    replica.logs.insert(replica.logs.end(), out.logs.begin(), out.logs.end());
    return out;
  }

  // The store's changes the replica has not seen yet, once its registry shows them (as its
  // SwitchService's watch thread does). Its writes are performed unless `settle` is false.
  Output Pump(Replica& replica, bool settle = true) {
    auto events = store_.Changes(kKeyPrefix, replica.pumped + 1);
    EXPECT_TRUE(events);
    if (!events || events->empty()) return {};
    replica.pumped = events->back().kv.mod_revision;
    EXPECT_TRUE(replica.registry->WaitForRevision(replica.pumped, 5s));
    Output out = replica.directory->OnStoreEvents(*events);
    return settle ? Settle(replica, std::move(out)) : out;
  }

  Output Say(Replica& replica, SessionId session, const v1::SwitchMessage& message) {
    return Settle(replica, replica.directory->OnMessage(session, message, now_));
  }

  Output Tick(Replica& replica, Clock::time_point at) {
    return Settle(replica, replica.directory->OnTick(at));
  }

  // host-a greets `replica` on `session`; host-b greets B on session 20 and resolves vm1 (so B
  // has a cacher of host-a's endpoint).
  void Connect(Replica& replica, SessionId session, const std::string& name,
               const std::string& tunnel_ip) {
    auto out = Say(replica, session, Hello(name, tunnel_ip));
    ASSERT_TRUE(out.closes.empty()) << out.closes[0].message;
    auto mine = For(out, session);
    ASSERT_FALSE(mine.empty());
    ASSERT_TRUE(mine.front().has_welcome());
  }
  void HostBCachesVm1OnB() {
    Connect(*b_, 20, "host-b", "192.0.2.2");
    auto out = Say(*b_, 20, ResolveMac(1, 100, "52:54:00:00:00:01"));
    auto mine = For(out, 20);
    ASSERT_EQ(mine.size(), 1u);
    ASSERT_EQ(mine[0].resolve_reply().status(), v1::ResolveReply::STATUS_FOUND);
  }

  // host-a on A, host-b on B caching vm1; then A dies: its lease goes (revoked here; expired
  // in life), and host-a's session key with it. `before`: how many messages B had sent then.
  void HostAOnADies(size_t* before) {
    Connect(*a_, 1, "host-a", "192.0.2.1");
    HostBCachesVm1OnB();
    Pump(*b_);
    EXPECT_FALSE(b_->directory->IsDown("host-a"));
    *before = b_->sent.size();
    Tick(*b_, now_);  // B is running (its clock read: dead_after runs from the news)
    ASSERT_TRUE(store_.RevokeLease(a_->lease));
  }

  // kMassSwitches switches (host-0...) greeted on A, B running; then A dies (its lease revoked)
  // and B hears their session keys end.
  static constexpr int kMassSwitches = 8;  // more than kMassSilenceMinimum
  void SwitchesOnALoseTheirSessions() {
    for (int i = 0; i < kMassSwitches; ++i) {
      ASSERT_NO_FATAL_FAILURE(
          Connect(*a_, 100 + i, "host-" + std::to_string(i), "192.0.2." + std::to_string(100 + i)));
    }
    Pump(*b_);
    Tick(*b_, now_);
    ASSERT_TRUE(store_.RevokeLease(a_->lease));
    Pump(*b_);
  }

  // B hears of the death and, no Hello anywhere within dead_after, decides host-a DOWN; its
  // write not made yet (`decided`).
  void BDecidesHostADown(Output* decided) {
    Pump(*b_);
    *decided = b_->directory->OnTick(now_ + kDeadAfter + 1ms);
    ASSERT_TRUE(decided->switch_writes);
  }

  // The switch_down flags of the LocationUpdates of vm1 that `session` of `replica` got since
  // message `from`.
  static std::vector<bool> Vm1DownFlags(const Replica& replica, SessionId session,
                                        size_t from = 0) {
    std::vector<bool> flags;
    for (size_t i = from; i < replica.sent.size(); ++i) {
      const auto& each = replica.sent[i];
      if (each.session != session || !each.message.has_location_update()) continue;
      const auto& location = each.message.location_update().location();
      if (location.endpoint_id() == "vm1") flags.push_back(location.switch_down());
    }
    return flags;
  }

  // Every state host-a's record was written with, in store order (its history).
  std::vector<v1::Switch::State> HostAStates() {
    std::vector<v1::Switch::State> states;
    auto events = store_.Changes(KindPrefix("switches"), 0);
    EXPECT_TRUE(events);
    for (const auto& event : *events) {
      v1::Switch record;
      if (event.type != store::Event::kPut || !record.ParseFromString(event.kv.value)) continue;
      if (record.name() == "host-a") states.push_back(record.state());
    }
    return states;
  }

  v1::Switch::State StoredState(Replica& replica, const std::string& name) {
    auto stored = replica.registry->Get<v1::Switch>(name);
    EXPECT_TRUE(stored);
    return stored ? stored->state() : v1::Switch::STATE_UNSPECIFIED;
  }

  store::MemoryStore store_;
  std::unique_ptr<Replica> a_;
  std::unique_ptr<Replica> b_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(ReplicaLivenessTest, AGreetedSwitchHoldsASessionKeyWithItsReplicasLease) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  auto key = store_.Get(SessionKey("host-a"));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->lease, a_->lease);
  EXPECT_NE(key->value.find("controller=ctl-a"), std::string::npos) << key->value;
  Pump(*b_);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  // Its stream ends: DOWN and the key deleted, in one revision.
  Settle(*a_, a_->directory->OnDisconnect(1, now_));
  EXPECT_FALSE(store_.Get(SessionKey("host-a")));
  auto deleted = store_.Changes(SessionKey("host-a"), 0);
  ASSERT_TRUE(deleted);
  ASSERT_FALSE(deleted->empty());
  auto record = store_.Get(KeyOf<v1::Switch>(a_->registry->Get<v1::Switch>("host-a")->id()));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->mod_revision, deleted->back().kv.mod_revision);
  EXPECT_EQ(StoredState(*a_, "host-a"), v1::Switch::STATE_DOWN);
}

TEST_F(ReplicaLivenessTest, AStreamEndingOnAIsToldToTheCachersOnB) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  HostBCachesVm1OnB();
  Pump(*b_);
  const size_t before = b_->sent.size();
  Settle(*a_, a_->directory->OnDisconnect(1, now_));
  Pump(*b_);
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{true});
  EXPECT_TRUE(b_->directory->IsDown("host-a"));
  // host-b's flood list of web leaves host-a out.
  std::vector<std::string> flood;
  for (size_t i = before; i < b_->sent.size(); ++i) {
    const auto& message = b_->sent[i].message;
    if (b_->sent[i].session == 20 && message.has_flood_list() && message.flood_list().vni() == 100)
      flood.assign(message.flood_list().tunnel_ips().begin(),
                   message.flood_list().tunnel_ips().end());
  }
  EXPECT_EQ(flood, std::vector<std::string>{});
  // Back on A: UP again for B's cachers. B wrote nothing of host-a throughout.
  Connect(*a_, 2, "host-a", "192.0.2.1");
  Pump(*b_);
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), (std::vector<bool>{true, false}));
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN,
                                            v1::Switch::STATE_UP}));
}

TEST_F(ReplicaLivenessTest, ReplicaDeathMarksItsSwitchDownOnceOnTheOtherReplica) {
  // A dies: its lease goes, and with it the session key. The switch has dead_after to say
  // Hello to any replica; it does not.
  size_t before = 0;
  ASSERT_NO_FATAL_FAILURE(HostAOnADies(&before));
  Pump(*b_);
  Tick(*b_, now_ + kDeadAfter / 2);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{});
  Tick(*b_, now_ + kDeadAfter + 1ms);
  EXPECT_TRUE(b_->directory->IsDown("host-a"));
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{true});
  EXPECT_EQ(StoredState(*b_, "host-a"), v1::Switch::STATE_DOWN);
  // Its own write comes back, time passes: nothing more.
  Pump(*b_);
  Tick(*b_, now_ + kDeadAfter * 2);
  Pump(*b_);
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{true});
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN}));
  // A third replica that heard the same news finds the switch DOWN already: no second write.
  auto c = Start("ctl-c");
  c->pumped = 0;
  Pump(*c);
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN}));
}

// Many switches losing their session at once (their replica died, and the one they reconnect
// to is answering a storm of Hellos) are the controllers' backlog, not that many failures: held
// back, like a mass of silent streams. The last few of such a storm are held too while the
// others keep coming in (they are as late as the rest were), and DOWN once none has come in
// for dead_after.
TEST_F(ReplicaLivenessTest, AMassOfSessionsEndingAtOnceIsHeldBack) {
  ASSERT_NO_FATAL_FAILURE(SwitchesOnALoseTheirSessions());
  const Clock::time_point lost = now_;
  Tick(*b_, lost + kDeadAfter + 1ms);
  Pump(*b_);
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u);  // 8 at once: held
  // Five come back on B meanwhile, one a second (the ones back keep their heartbeats); the
  // three left are few now, but the storm goes on: still held at each tick.
  auto heartbeats = [&](int back) {
    v1::SwitchMessage heartbeat;
    heartbeat.mutable_heartbeat()->set_sequence(1);
    for (int j = 0; j < back; ++j) Say(*b_, 200 + j, heartbeat);
  };
  for (int i = 0; i < 5; ++i) {
    now_ = lost + kDeadAfter + 2ms + std::chrono::seconds(i);
    heartbeats(i);
    ASSERT_NO_FATAL_FAILURE(
        Connect(*b_, 200 + i, "host-" + std::to_string(i), "192.0.2." + std::to_string(100 + i)));
    Tick(*b_, now_ + 1ms);
    Pump(*b_);
    EXPECT_EQ(b_->directory->LivenessChanges().down, 0u) << "after the Hello of host-" << i;
  }
  // None more within dead_after of the last one: the three left are DOWN.
  const Clock::time_point last = now_;
  now_ = last + kDeadAfter - 1ms;
  heartbeats(5);
  Tick(*b_, now_);
  Pump(*b_);
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u);
  now_ = last + kDeadAfter + 1ms;
  Tick(*b_, now_);
  Pump(*b_);
  EXPECT_EQ(b_->directory->LivenessChanges().down, 3u);
  for (int i = 0; i < kMassSwitches; ++i) {
    EXPECT_EQ(b_->directory->IsDown("host-" + std::to_string(i)), i >= 5) << i;
  }
}

TEST_F(ReplicaLivenessTest, AMassOfSessionsEndingIsHeldBackOnlySoLong) {
  ASSERT_NO_FATAL_FAILURE(SwitchesOnALoseTheirSessions());
  Tick(*b_, now_ + kDeadAfter + 1ms);  // the mass begins: held
  Tick(*b_, now_ + kDeadAfter * (kMassSilenceDeadAfters - 1));
  Pump(*b_);
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u);
  Tick(*b_, now_ + kDeadAfter * (kMassSilenceDeadAfters + 2));  // held long enough: all DOWN
  Pump(*b_);
  EXPECT_EQ(b_->directory->LivenessChanges().down, static_cast<uint64_t>(kMassSwitches));
}

// The 10 x dead_after limit counts from the last tick at which the mass had shrunk by a tenth
// (here one switch): a long storm whose Hellos keep coming in, however slowly, is held past it;
// once it stops shrinking, the rest are DOWN 10 x dead_after later.
TEST_F(ReplicaLivenessTest, AMassStillShrinkingIsHeldPastTenDeadAfters) {
  ASSERT_NO_FATAL_FAILURE(SwitchesOnALoseTheirSessions());
  const Clock::time_point lost = now_;
  Tick(*b_, lost + kDeadAfter + 1ms);  // the mass begins: 8 due, held
  int back = 0;
  // At `at`: the ones back beat (they are not silent), then a tick.
  auto tick_at = [&](Clock::time_point at) {
    now_ = at;
    v1::SwitchMessage heartbeat;
    heartbeat.mutable_heartbeat()->set_sequence(1);
    for (int j = 0; j < back; ++j) Say(*b_, 200 + j, heartbeat);
    Tick(*b_, at);
    Pump(*b_);
  };
  auto comes_back = [&](Clock::time_point at) {
    tick_at(at);
    ASSERT_NO_FATAL_FAILURE(Connect(*b_, 200 + back, "host-" + std::to_string(back),
                                    "192.0.2." + std::to_string(100 + back)));
    ++back;
    tick_at(at + 1ms);
  };
  ASSERT_NO_FATAL_FAILURE(comes_back(lost + kDeadAfter * (kMassSilenceDeadAfters - 1)));
  tick_at(lost + kDeadAfter * (kMassSilenceDeadAfters + 5));  // past 10 x from the start
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u) << "a shrinking mass was cut off";
  ASSERT_NO_FATAL_FAILURE(comes_back(lost + kDeadAfter * (2 * kMassSilenceDeadAfters - 3)));
  tick_at(lost + kDeadAfter * (3 * kMassSilenceDeadAfters - 4));
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u);
  // No more for 10 x dead_after since the last shrink: the six left are DOWN.
  tick_at(lost + kDeadAfter * (3 * kMassSilenceDeadAfters - 2));
  EXPECT_EQ(b_->directory->LivenessChanges().down, 6u);
  for (int i = 0; i < kMassSwitches; ++i) {
    EXPECT_EQ(b_->directory->IsDown("host-" + std::to_string(i)), i >= 2) << i;
  }
}

// A switch registered through the API (no state, never a stream: a kernel VXLAN host wired by
// hand) is nobody's liveness decision: no replica marks it DOWN, however long it stays silent.
TEST_F(ReplicaLivenessTest, ASwitchRegisteredThroughTheApiIsNeverMarkedDown) {
  v1::Switch kernel_host;
  kernel_host.set_name("k2");
  kernel_host.set_tunnel_ip("192.0.2.9");
  ASSERT_TRUE(a_->registry->Create(kernel_host));
  Pump(*a_);
  Pump(*b_);
  for (auto at : {now_, now_ + kDeadAfter * 2, now_ + kDeadAfter * 4}) {
    Tick(*a_, at);
    Tick(*b_, at);
    Pump(*a_);
    Pump(*b_);
  }
  EXPECT_EQ(StoredState(*a_, "k2"), v1::Switch::STATE_UNSPECIFIED);
  EXPECT_EQ(a_->directory->LivenessChanges().down, 0u);
  EXPECT_EQ(b_->directory->LivenessChanges().down, 0u);
}

TEST_F(ReplicaLivenessTest, TwoReplicasHearingTheDeathWriteOneDown) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  auto c = Start("ctl-c");
  Pump(*b_);
  Pump(*c);
  Tick(*b_, now_);  // both running
  Tick(*c, now_);
  ASSERT_TRUE(store_.RevokeLease(a_->lease));
  Pump(*b_);
  Pump(*c);
  // Both decide (dead_after later) before either writes.
  Output b_out = b_->directory->OnTick(now_ + kDeadAfter + 1ms);
  Output c_out = c->directory->OnTick(now_ + kDeadAfter + 1ms);
  EXPECT_TRUE(b_->directory->IsDown("host-a"));
  EXPECT_TRUE(c->directory->IsDown("host-a"));
  Settle(*b_, std::move(b_out));
  Settle(*c, std::move(c_out));
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN}));
}

TEST_F(ReplicaLivenessTest, ASwitchThatMovedToBBeforeADiedIsNeverDown) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  HostBCachesVm1OnB();
  Pump(*b_);
  const size_t before = b_->sent.size();
  // host-a's connection to A is half-open; it says Hello to B.
  Connect(*b_, 10, "host-a", "192.0.2.1");
  auto key = store_.Get(SessionKey("host-a"));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->lease, b_->lease);
  // A hears of it: ends its leftover stream without a DOWN.
  Output a_out = Pump(*a_);
  ASSERT_EQ(a_out.closes.size(), 1u);
  EXPECT_EQ(a_out.closes[0].session, 1u);
  EXPECT_EQ(a_out.closes[0].code, kAborted);
  Settle(*a_, a_->directory->OnDisconnect(1, now_));
  // Then A dies.
  ASSERT_TRUE(store_.RevokeLease(a_->lease));
  Pump(*b_);
  Tick(*b_, now_ + kDeadAfter / 2);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  EXPECT_TRUE(b_->directory->IsLive("host-a"));
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{});
  for (auto state : HostAStates()) EXPECT_EQ(state, v1::Switch::STATE_UP);  // B's heartbeats
  EXPECT_TRUE(store_.Get(SessionKey("host-a")));
}

TEST_F(ReplicaLivenessTest, AConditionalDownLosesToAConcurrentHello) {
  size_t before = 0;
  ASSERT_NO_FATAL_FAILURE(HostAOnADies(&before));
  // B decides DOWN (no Hello anywhere within dead_after of the news), and before its write is
  // made host-a says Hello to C.
  Output decided;
  ASSERT_NO_FATAL_FAILURE(BDecidesHostADown(&decided));
  auto c = Start("ctl-c");
  c->pumped = store_.CurrentRevision().value();
  Connect(*c, 30, "host-a", "192.0.2.1");
  Settle(*b_, std::move(decided));
  EXPECT_EQ(HostAStates(), std::vector<v1::Switch::State>{v1::Switch::STATE_UP});
  bool logged = false;
  for (const auto& line : b_->logs)
    logged = logged || line.find("not written") != std::string::npos;
  EXPECT_TRUE(logged);
  // B's view follows the key C put: UP again for its cachers.
  Pump(*b_);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), (std::vector<bool>{true, false}));
}

// A's death, then host-a's Hello to C within dead_after (every replica restarting, or C
// answering a storm of Hellos): nobody marks it DOWN, its cachers on B hear nothing.
TEST_F(ReplicaLivenessTest, ASwitchBackOnAnotherReplicaWithinDeadAfterIsNeverDown) {
  size_t before = 0;
  ASSERT_NO_FATAL_FAILURE(HostAOnADies(&before));
  Pump(*b_);
  Tick(*b_, now_ + kDeadAfter / 2);
  auto c = Start("ctl-c");
  c->pumped = store_.CurrentRevision().value();
  Connect(*c, 30, "host-a", "192.0.2.1");
  Pump(*b_);
  // (Only B's clock runs: C would find host-a silent, its heartbeats not simulated here.)
  for (auto at : {now_ + kDeadAfter + 1ms, now_ + kDeadAfter * 3}) {
    Tick(*b_, at);
    Pump(*b_);
    Pump(*c);
  }
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  EXPECT_TRUE(c->directory->IsLive("host-a"));
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), std::vector<bool>{});
  for (auto state : HostAStates()) EXPECT_EQ(state, v1::Switch::STATE_UP);
}

// The other order (switch_sim's failover under load): host-a's Hello to C is answered, but
// before C's claim of the session key is written, B's DOWN lands (the key was absent). C,
// whose stream it is, puts the record back UP; B follows.
TEST_F(ReplicaLivenessTest, ADownRecordedWhileTheSwitchIsLiveOnAnotherReplicaIsUndone) {
  size_t before = 0;
  ASSERT_NO_FATAL_FAILURE(HostAOnADies(&before));
  Output decided;
  ASSERT_NO_FATAL_FAILURE(BDecidesHostADown(&decided));
  auto c = Start("ctl-c");
  c->pumped = store_.CurrentRevision().value();
  Output greeted = c->directory->OnMessage(30, Hello("host-a", "192.0.2.1"), now_);
  ASSERT_TRUE(greeted.closes.empty());
  Settle(*b_, std::move(decided));  // B's DOWN first: the key is absent
  Settle(*c, std::move(greeted));   // then C's claim of the key
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN}));
  Pump(*c);
  EXPECT_EQ(HostAStates(),
            (std::vector<v1::Switch::State>{v1::Switch::STATE_UP, v1::Switch::STATE_DOWN,
                                            v1::Switch::STATE_UP}));
  EXPECT_EQ(store_.Get(SessionKey("host-a"))->lease, c->lease);
  EXPECT_TRUE(c->directory->IsLive("host-a"));
  Pump(*b_);
  Pump(*c);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  EXPECT_EQ(StoredState(*b_, "host-a"), v1::Switch::STATE_UP);
  EXPECT_EQ(Vm1DownFlags(*b_, 20, before), (std::vector<bool>{true, false}));
  EXPECT_EQ(HostAStates().size(), 3u) << "no write back and forth";
}

TEST_F(ReplicaLivenessTest, AReplicaStartingWhileTheSwitchIsLiveElsewhereLeavesItUp) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  // host-z: stored UP, served by nobody (its replica died before its key was written).
  v1::Switch orphan;
  orphan.set_name("host-z");
  orphan.set_tunnel_ip("192.0.2.26");
  orphan.set_state(v1::Switch::STATE_UP);
  ASSERT_TRUE(a_->registry->Create(orphan));
  auto c = Start("ctl-c");
  Tick(*c, now_);
  Tick(*c, now_ + kDeadAfter / 2);
  EXPECT_EQ(StoredState(*c, "host-z"), v1::Switch::STATE_UP);
  Tick(*c, now_ + kDeadAfter + 1ms);
  Pump(*c);
  EXPECT_FALSE(c->directory->IsDown("host-a"));
  EXPECT_EQ(StoredState(*c, "host-a"), v1::Switch::STATE_UP);
  EXPECT_TRUE(c->directory->IsDown("host-z"));
  EXPECT_EQ(StoredState(*c, "host-z"), v1::Switch::STATE_DOWN);
}

// Every replica restarting (switch_sim's restart at 1,000 switches): C loads while host-a's key
// is still there, and hears it deleted (its old replica's lease expired) before its first tick.
// The switches could not say Hello to anyone before C was up: dead_after runs from C's start,
// not from the clock C had not read yet (which marked every switch DOWN at C's first tick).
TEST_F(ReplicaLivenessTest, ASessionEndingBeforeTheReplicasFirstTickGetsDeadAfterFromItsStart) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  auto c = Start("ctl-c");
  ASSERT_TRUE(store_.RevokeLease(a_->lease));
  Pump(*c);
  const auto start = now_ + 30s;
  Tick(*c, start);
  EXPECT_FALSE(c->directory->IsDown("host-a"));
  Tick(*c, start + kDeadAfter / 2);
  EXPECT_FALSE(c->directory->IsDown("host-a"));
  EXPECT_EQ(StoredState(*c, "host-a"), v1::Switch::STATE_UP);
  Tick(*c, start + kDeadAfter + 1ms);
  EXPECT_TRUE(c->directory->IsDown("host-a"));
  EXPECT_EQ(StoredState(*c, "host-a"), v1::Switch::STATE_DOWN);
}

TEST_F(ReplicaLivenessTest, ARecordPutUpWithoutASessionGoesDownAfterDeadAfter) {
  Tick(*b_, now_);
  // Another writer (a replica that died before claiming the key) records host-a UP.
  v1::Switch record;
  record.set_name("host-a");
  record.set_tunnel_ip("192.0.2.1");
  record.set_state(v1::Switch::STATE_UP);
  ASSERT_TRUE(a_->registry->Create(record));
  Pump(*b_);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  Tick(*b_, now_ + kDeadAfter / 2);
  EXPECT_FALSE(b_->directory->IsDown("host-a"));
  Tick(*b_, now_ + kDeadAfter + 1ms);
  EXPECT_TRUE(b_->directory->IsDown("host-a"));
  EXPECT_EQ(StoredState(*b_, "host-a"), v1::Switch::STATE_DOWN);
}

TEST_F(ReplicaLivenessTest, LosingTheLeaseEndsEveryStreamAndRefusesHellosUntilANewOne) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  Output lost = Settle(*a_, a_->directory->OnLeaseLost("test: expired"));
  ASSERT_EQ(lost.closes.size(), 1u);
  EXPECT_EQ(lost.closes[0].session, 1u);
  EXPECT_EQ(lost.closes[0].code, kUnavailable);
  EXPECT_FALSE(a_->directory->TakesHellos());
  Output refused = Say(*a_, 2, Hello("host-a", "192.0.2.1"));
  ASSERT_EQ(refused.closes.size(), 1u);
  EXPECT_EQ(refused.closes[0].code, kUnavailable);
  EXPECT_NE(refused.closes[0].message.find("store lease"), std::string::npos);
  // A new lease: Hellos again, the key with the new lease.
  auto lease = store_.GrantLease(3);
  ASSERT_TRUE(lease);
  Settle(*a_, a_->directory->OnLeaseGranted(lease->id));
  Connect(*a_, 3, "host-a", "192.0.2.1");
  auto key = store_.Get(SessionKey("host-a"));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->lease, lease->id);
}

TEST_F(ReplicaLivenessTest, TheSessionKeysAreNotObjects) {
  Connect(*a_, 1, "host-a", "192.0.2.1");
  Pump(*b_);
  EXPECT_EQ(a_->registry->Stats().undecodable, 0u);
  EXPECT_EQ(b_->registry->Stats().undecodable, 0u);
  EXPECT_EQ(b_->registry->Counts().switches, 1u);
  // A registry opened on a store holding session keys loads it.
  auto opened = Registry::Open(&store_);
  ASSERT_TRUE(opened) << opened.error().message;
}

}  // namespace
}  // namespace dove::controller::southbound
