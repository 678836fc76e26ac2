// Directory: hello/welcome, the refusals, resolve (MAC, IP, policy), cache tracking, the
// migration fan-out, store events, liveness, tenancy (what a switch may ask about). A real
// Registry over a MemoryStore.
#include "controller/southbound/directory.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/southbound/message_check.h"
#include "controller/store_keys.h"
#include "unit/southbound/directory_fixture.h"

namespace dove::controller::southbound::directory_test {
namespace {

using namespace std::chrono_literals;

TEST_F(DirectoryTest, HelloRegistersTheSwitchAndWelcomes) {
  auto out = Send(1, Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(out.closes.empty());
  auto mine = For(out, 1);
  ASSERT_EQ(mine.size(), 2u);  // no endpoint on it yet: welcome, sync done
  EXPECT_EQ(mine[0].welcome().controller_id(), "dove-controller");
  EXPECT_FALSE(mine[0].welcome().switch_id().empty());
  EXPECT_EQ(mine[0].revision(), registry_->Revision());
  auto record = registry_->Get<v1::Switch>("host-a");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->tunnel_ip(), "192.0.2.1");
  EXPECT_EQ(record->state(), v1::Switch::STATE_UP);
  EXPECT_TRUE(directory_->IsLive("host-a"));
}

// A new switch's Hello is answered only once its record is written, and the write is handed to
// the caller (made outside its lock): nothing is stored, nothing sent, until OnRegistered.
TEST_F(DirectoryTest, ANewSwitchIsWelcomedOnlyOnceItsRecordIsWritten) {
  const int64_t before = registry_->Revision();
  auto out = directory_->OnMessage(1, Hello("host-a", "192.0.2.1"), now_);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_TRUE(out.closes.empty());
  ASSERT_EQ(out.registrations.size(), 1u);
  EXPECT_EQ(out.registrations[0].record.tunnel_ip(), "192.0.2.1");
  EXPECT_FALSE(out.registrations[0].before.has_value());
  EXPECT_EQ(registry_->Revision(), before);
  EXPECT_FALSE(directory_->IsLive("host-a"));
  auto answered = Settled(directory_->OnRegistered(
      out.registrations[0], PerformRegistration(*registry_, out.registrations[0]), now_));
  auto mine = For(answered, 1);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].welcome().switch_id(), registry_->Get<v1::Switch>("host-a")->id());
  EXPECT_TRUE(mine[1].has_sync_done());
  EXPECT_TRUE(directory_->IsLive("host-a"));
}

// The stream ends while its switch's record is written: the switch is left DOWN (nobody
// serves it), and nothing is sent to the gone stream.
TEST_F(DirectoryTest, AStreamEndingWhileItsSwitchIsRegisteredLeavesItDown) {
  auto out = directory_->OnMessage(1, Hello("host-a", "192.0.2.1"), now_);
  ASSERT_EQ(out.registrations.size(), 1u);
  Disconnect(1, now_);
  auto answered = Settled(directory_->OnRegistered(
      out.registrations[0], PerformRegistration(*registry_, out.registrations[0]), now_));
  EXPECT_TRUE(For(answered, 1).empty());
  ASSERT_TRUE(registry_->Get<v1::Switch>("host-a"));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_DOWN);
  EXPECT_FALSE(directory_->IsLive("host-a"));
}

// A newer stream of a switch replaces one still registering it (as it does a greeted one); the
// newer one's own registration loses the race for the name to the older's and is welcomed as
// the record says (the same tunnel IP); the older's answer changes nothing.
TEST_F(DirectoryTest, ANewerStreamReplacesOneStillRegisteringTheSameSwitch) {
  auto first = directory_->OnMessage(1, Hello("host-a", "192.0.2.1"), now_);
  ASSERT_EQ(first.registrations.size(), 1u);
  auto second = directory_->OnMessage(2, Hello("host-a", "192.0.2.1"), now_);
  ASSERT_EQ(second.registrations.size(), 1u);
  ASSERT_EQ(second.closes.size(), 1u);
  EXPECT_EQ(second.closes[0].session, 1u);
  auto older = Settled(directory_->OnRegistered(
      first.registrations[0], PerformRegistration(*registry_, first.registrations[0]), now_));
  EXPECT_TRUE(older.messages.empty());
  EXPECT_TRUE(older.closes.empty());
  const auto lost = PerformRegistration(*registry_, second.registrations[0]);
  ASSERT_FALSE(lost);  // the name is taken
  auto newer = Settled(directory_->OnRegistered(second.registrations[0], lost, now_));
  auto mine = For(newer, 2);
  ASSERT_FALSE(mine.empty());
  EXPECT_TRUE(mine.front().has_welcome());
  EXPECT_TRUE(newer.closes.empty());
  EXPECT_TRUE(directory_->IsLive("host-a"));
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(7);
  auto answered = Send(2, beat);  // session 2 is greeted
  EXPECT_TRUE(answered.closes.empty());
  ASSERT_EQ(For(answered, 2).size(), 1u);
  EXPECT_EQ(For(answered, 2)[0].heartbeat().sequence(), 7u);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
}

// A registration the registry refuses (the tunnel IP is a stored switch's, one not live) ends
// the stream with the registry's reason.
TEST_F(DirectoryTest, ARegistrationTheRegistryRefusesRefusesTheHello) {
  Connect(1, "host-a", "192.0.2.1");
  Disconnect(1, now_);
  auto out = Send(2, Hello("host-b", "192.0.2.1"));
  ASSERT_EQ(out.closes.size(), 1u);
  EXPECT_EQ(out.closes[0].session, 2u);
  EXPECT_EQ(out.closes[0].code, kAlreadyExists);
  auto mine = For(out, 2);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "conflict");
  EXPECT_FALSE(registry_->Get<v1::Switch>("host-b"));
  EXPECT_FALSE(directory_->IsLive("host-b"));
}

TEST_F(DirectoryTest, WelcomeCarriesTheConfigOfNetworksWithLocalEndpoints) {
  Connect(1, "host-a", "192.0.2.1");
  ASSERT_TRUE(Take(1, "vm1", "tap1").closes.empty());
  Disconnect(1);
  auto out = Send(2, Hello("host-a", "192.0.2.1"));
  auto mine = For(out, 2);
  ASSERT_EQ(mine.size(), 3u);
  ASSERT_TRUE(mine[1].has_network_config());
  EXPECT_EQ(mine[1].network_config().network().vni(), 100u);
  EXPECT_EQ(mine[1].network_config().subnets_size(), 1);
  ASSERT_EQ(mine[1].network_config().local_endpoints_size(), 1);
  EXPECT_EQ(mine[1].network_config().local_endpoints(0).endpoint_id(), "vm1");
}

TEST_F(DirectoryTest, EachNetworkConfigListsOnlyItsOwnNetworksLocalEndpoints) {
  // A switch with ports in two networks: after a reconnect, one config per network, each with
  // that network's endpoints on the switch and no other's.
  Connect(1, "host-a", "192.0.2.1");
  ASSERT_TRUE(Take(1, "vm1", "tap1").closes.empty());
  ASSERT_TRUE(Take(1, "vm2", "tap2").closes.empty());
  ASSERT_TRUE(Take(1, "db1", "tap3").closes.empty());
  Disconnect(1);
  auto mine = For(Send(2, Hello("host-a", "192.0.2.1")), 2);
  std::map<uint32_t, std::set<std::string>> local;  // VNI -> local endpoint ids
  for (const auto& message : mine) {
    if (!message.has_network_config()) continue;
    auto& ids = local[message.network_config().network().vni()];
    for (const auto& location : message.network_config().local_endpoints()) {
      ids.insert(location.endpoint_id());
    }
  }
  EXPECT_EQ(local,
            (std::map<uint32_t, std::set<std::string>>{{100u, {"vm1", "vm2"}}, {200u, {"db1"}}}));
}

TEST_F(DirectoryTest, AnythingBeforeHelloClosesTheStream) {
  auto out = Send(1, ResolveMac(7, 100, "52:54:00:00:00:01"));
  EXPECT_TRUE(out.messages.empty());
  ASSERT_EQ(out.closes.size(), 1u);
  EXPECT_EQ(out.closes[0].code, kFailedPrecondition);
}

TEST_F(DirectoryTest, SecondHelloClosesTheStream) {
  Connect(1, "host-a", "192.0.2.1");
  auto out = Send(1, Hello("host-a", "192.0.2.1"));
  ASSERT_EQ(out.closes.size(), 1u);
  EXPECT_EQ(out.closes[0].code, kFailedPrecondition);
}

TEST_F(DirectoryTest, TunnelIpOfAnotherLiveSwitchIsRefused) {
  Connect(1, "host-a", "192.0.2.1");
  auto out = Send(2, Hello("host-b", "192.0.2.1"));
  ASSERT_EQ(out.closes.size(), 1u);
  EXPECT_EQ(out.closes[0].code, kAlreadyExists);
  auto mine = For(out, 2);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "conflict");
  EXPECT_TRUE(directory_->IsLive("host-a"));  // the other one is undisturbed
  EXPECT_FALSE(directory_->IsLive("host-b"));
}

TEST_F(DirectoryTest, ResolveMacFindsTheEndpointAndRecordsTheCache) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");  // host-b serves web too
  auto reply = Resolved(Send(2, ResolveMac(7, 100, "52:54:00:00:00:01")), 2);
  EXPECT_EQ(reply.query_id(), 7u);
  ASSERT_EQ(reply.status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(reply.location().endpoint_id(), "vm1");
  EXPECT_EQ(reply.location().switch_name(), "host-a");
  EXPECT_EQ(reply.location().tunnel_ip(), "192.0.2.1");
  EXPECT_EQ(reply.location().vni(), 100u);
  EXPECT_EQ(directory_->CachersOf("vm1"), (std::set<SessionId>{2}));
  EXPECT_EQ(directory_->CacheRecords(), 1u);
  // Asked again: still one record (they count what is cached, not how often it was asked).
  Resolved(Send(2, ResolveMac(8, 100, "52:54:00:00:00:01")), 2);
  EXPECT_EQ(directory_->CacheRecords(), 1u);
}

TEST_F(DirectoryTest, ResolveOfAnUnknownMacIsNotFound) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm2", "tap2");
  auto reply = Resolved(Send(1, ResolveMac(8, 100, "52:54:00:99:99:99")), 1);
  EXPECT_EQ(reply.status(), v1::ResolveReply::STATUS_NOT_FOUND);
  EXPECT_FALSE(reply.reason().empty());
  EXPECT_TRUE(directory_->CachersOf("vm1").empty());
}

TEST_F(DirectoryTest, ResolveInAnUnknownNetworkIsRefused) {
  Connect(1, "host-a", "192.0.2.1");
  for (const auto& message :
       {ResolveMac(9, 999, "52:54:00:00:00:01"), ResolveIp(9, 999, "10.0.0.11")}) {
    auto mine = For(Send(1, message), 1);
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0].error().code(), "not_found");
    EXPECT_EQ(mine[0].error().query_id(), 9u);
  }
}

TEST_F(DirectoryTest, ResolveIpAppliesPolicyBetweenNetworks) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  auto same = Resolved(Send(1, ResolveIp(1, 100, "10.0.0.12")), 1);
  EXPECT_EQ(same.status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(same.location().endpoint_id(), "vm2");

  auto denied = Resolved(Send(1, ResolveIp(2, 100, "10.1.0.11")), 1);
  EXPECT_EQ(denied.status(), v1::ResolveReply::STATUS_DENIED);
  EXPECT_NE(denied.reason().find("policy"), std::string::npos);
  EXPECT_TRUE(directory_->CachersOf("db1").empty());

  v1::Policy allow;
  allow.set_id("p1");
  allow.set_domain_id("d1");
  allow.set_source_network_id("web");
  allow.set_destination_network_id("db");
  allow.set_action(v1::Policy::ACTION_ALLOW);
  ASSERT_TRUE(registry_->Create(allow));
  auto allowed = Resolved(Send(1, ResolveIp(3, 100, "10.1.0.11")), 1);
  EXPECT_EQ(allowed.status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(allowed.location().vni(), 200u);
}

TEST_F(DirectoryTest, AttachUnderAStaleVersionIsRefused) {
  Connect(1, "host-a", "192.0.2.1");
  Place("vm1", "host-a");
  auto current = registry_->Get<v1::Endpoint>("vm1");
  ASSERT_TRUE(current);
  ASSERT_TRUE(Send(1, Attach("vm1", "tap1", current->version())).closes.empty());
  auto mine = For(Send(1, Attach("vm1", "tap1", current->version())), 1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "conflict");
  EXPECT_EQ(mine[0].error().endpoint_id(), "vm1");
  EXPECT_NE(mine[0].error().message().find("stale version"), std::string::npos);
}

TEST_F(DirectoryTest, AttachOfAnUnknownEndpointIsRefused) {
  Connect(1, "host-a", "192.0.2.1");
  auto mine = For(Send(1, Attach("nope", "tap1")), 1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "not_found");
}

TEST_F(DirectoryTest, AttachSendsConfigAndAcknowledgesWithTheNewVersion) {
  Connect(1, "host-a", "192.0.2.1");
  auto mine = For(Take(1, "vm1", "tap1"), 1);
  ASSERT_GE(mine.size(), 2u);
  EXPECT_TRUE(mine[0].has_network_config());
  const auto& ack = mine[1].location_update().location();
  EXPECT_EQ(ack.endpoint_id(), "vm1");
  EXPECT_EQ(ack.switch_name(), "host-a");
  auto stored = registry_->Get<v1::Endpoint>("vm1");
  EXPECT_EQ(ack.version(), stored->version());
  EXPECT_EQ(stored->port_name(), "tap1");
}

// A SwitchBatch is handled as its messages one after the other: each Attach acknowledged (or
// refused) as if it had come alone; a batch that holds a hello or a batch, or too many
// messages, is refused whole and changes nothing.
TEST_F(DirectoryTest, ABatchIsHandledAsItsMessagesInOrder) {
  Connect(1, "host-a", "192.0.2.1");
  Place("vm1", "host-a");
  Place("vm2", "host-a");
  v1::SwitchMessage batch;
  *batch.mutable_batch()->add_messages() = Attach("vm1", "tap1");
  *batch.mutable_batch()->add_messages() = Attach("nope", "tap9");
  *batch.mutable_batch()->add_messages() = Attach("vm2", "bad name!");  // refused by the checks
  *batch.mutable_batch()->add_messages() = Attach("vm2", "tap2");
  auto mine = For(Send(1, batch), 1);
  std::vector<std::string> seen;
  for (const auto& message : mine) {
    if (message.has_location_update()) {
      seen.push_back("ack " + message.location_update().location().endpoint_id());
    } else if (message.has_error()) {
      seen.push_back(message.error().code() + " " + message.error().endpoint_id());
    }
  }
  // Each answered in turn; an acknowledgement waits for its write, which the fixture makes once
  // the whole batch is handled (SwitchService makes each before the next message is handled:
  // SouthboundBatchTest).
  EXPECT_EQ(seen, (std::vector<std::string>{"not_found nope", "invalid_value vm2", "ack vm1",
                                            "ack vm2"}));
  EXPECT_EQ(registry_->Get<v1::Endpoint>("vm2")->port_name(), "tap2");

  const int64_t before = registry_->Revision();
  for (const auto& inner : {Hello("host-a", "192.0.2.1"), batch}) {
    v1::SwitchMessage bad;
    *bad.mutable_batch()->add_messages() = Attach("vm1", "tap7");
    *bad.mutable_batch()->add_messages() = inner;
    auto refused = For(Send(1, bad), 1);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].error().code(), "invalid_value");
    EXPECT_NE(refused[0].error().message().find("which a batch may not hold"), std::string::npos)
        << refused[0].error().message();
  }
  v1::SwitchMessage too_many;
  for (size_t i = 0; i <= kMaxBatchMessages; ++i) {
    *too_many.mutable_batch()->add_messages() = Attach("vm1", "tap7");
  }
  auto refused = For(Send(1, too_many), 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].error().message(), "batch.messages holds 1001 messages; at most 1000");
  EXPECT_EQ(registry_->Revision(), before) << "nothing in a refused batch was handled";
  EXPECT_EQ(registry_->Get<v1::Endpoint>("vm1")->port_name(), "tap1");
}

TEST_F(DirectoryTest, MigrationTellsCachersAndTheSwitchItLeft) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Connect(3, "host-c", "192.0.2.3");
  Connect(4, "host-d", "192.0.2.4");
  AddEndpoint("vm3", "web", "52:54:00:00:00:03", "10.0.0.13");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Take(3, "vm3", "tap3");
  ASSERT_EQ(Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2).status(),
            v1::ResolveReply::STATUS_FOUND);
  ASSERT_EQ(Resolved(Send(3, ResolveIp(1, 100, "10.0.0.11")), 3).status(),
            v1::ResolveReply::STATUS_FOUND);
  const int64_t before = registry_->Revision();

  // Not authorized through the API: refused, nothing changes. host-b serves web (it may know
  // vm1 exists); host-d does not, and hears what it would hear of an unknown endpoint.
  auto unauthorized = For(Send(2, Attach("vm1", "tap9")), 2);
  ASSERT_EQ(unauthorized.size(), 1u);
  EXPECT_EQ(unauthorized[0].error().code(), "permission_denied");
  auto stranger = For(Send(4, Attach("vm1", "tap9")), 4);
  auto unknown = For(Send(4, Attach("nope", "tap9")), 4);
  ASSERT_EQ(stranger.size(), 1u);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(stranger[0].error().code(), "not_found");
  EXPECT_EQ(unknown[0].error().code(), "not_found");
  EXPECT_EQ(registry_->Revision(), before);
  EXPECT_EQ(directory_->Refused().at("host-d").at("attach"), 2u);
  EXPECT_EQ(directory_->Refused().at("host-b").at("attach"), 1u);

  Place("vm1", "host-d");  // the move, through the API
  auto out = Send(4, Attach("vm1", "tap9"));
  ASSERT_TRUE(out.closes.empty());
  for (SessionId cacher : {2u, 3u}) {
    auto mine = WithoutFloodLists(For(out, cacher));
    ASSERT_EQ(mine.size(), 1u) << cacher;
    ASSERT_TRUE(mine[0].has_location_update());
    EXPECT_EQ(mine[0].location_update().location().switch_name(), "host-d");
    EXPECT_EQ(mine[0].location_update().location().tunnel_ip(), "192.0.2.4");
    EXPECT_GT(mine[0].revision(), before);
  }
  bool moved = false;
  for (const auto& message : For(out, 1)) {
    if (!message.has_endpoint_moved()) continue;
    moved = true;
    EXPECT_EQ(message.endpoint_moved().location().switch_name(), "host-d");
    EXPECT_GT(message.revision(), before);
  }
  EXPECT_TRUE(moved);
  // D holds it now: its own acknowledgement, no EndpointMoved.
  for (const auto& message : For(out, 4)) EXPECT_FALSE(message.has_endpoint_moved());

  // The store event of the same change is not reported twice; a later move is, with a
  // higher revision.
  auto events = store_.Changes("/dove/v1/endpoints/", before + 1);
  ASSERT_TRUE(events);
  EXPECT_TRUE(directory_->OnStoreEvents(*events).messages.empty());
  const int64_t first_move = WithoutFloodLists(For(out, 2))[0].revision();
  Place("vm1", "host-a");
  auto back = Send(1, Attach("vm1", "tap1"));
  auto again = WithoutFloodLists(For(back, 2));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_GT(again[0].revision(), first_move);
}

// A VM moved twice (a -> d -> c): host-a, which learned the first move from EndpointMoved and
// still serves the network (vm2's port), hears the second move too: the switch a VM left keeps
// it cached.
TEST_F(DirectoryTest, TheSwitchAnEndpointLeftHearsOfItsNextMove) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(3, "host-c", "192.0.2.3");
  Connect(4, "host-d", "192.0.2.4");
  Take(1, "vm1", "tap1");
  Take(1, "vm2", "tap2");  // host-a keeps a port in web after vm1 leaves
  Place("vm1", "host-d");
  auto first = For(Send(4, Attach("vm1", "tap9")), 1);
  ASSERT_TRUE(std::any_of(first.begin(), first.end(),
                          [](const auto& m) { return m.has_endpoint_moved(); }));
  EXPECT_EQ(directory_->CachersOf("vm1").count(1), 1u);

  Place("vm1", "host-c");
  auto second = Send(3, Attach("vm1", "tap7"));
  bool heard = false;
  for (const auto& message : For(second, 1)) {
    if (!message.has_location_update()) continue;
    heard = message.location_update().location().switch_name() == "host-c";
  }
  EXPECT_TRUE(heard) << "host-a was not told of vm1's second move";
  // host-d, which vm1 left now, is told with EndpointMoved and keeps it cached in turn.
  auto left = For(second, 4);
  EXPECT_TRUE(
      std::any_of(left.begin(), left.end(), [](const auto& m) { return m.has_endpoint_moved(); }));
}

// A switch left with no port in the endpoint's network (nor one that may exchange with it) does
// not keep it cached: it hears nothing of its later moves.
TEST_F(DirectoryTest, ASwitchThatNoLongerServesTheNetworkDoesNotKeepTheMovedEndpoint) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(4, "host-d", "192.0.2.4");
  Take(1, "vm1", "tap1");
  Place("vm1", "host-d");
  Send(4, Attach("vm1", "tap9"));
  EXPECT_EQ(directory_->CachersOf("vm1").count(1), 0u);
}

// The registry answers a resolve before the store watch has reported the endpoint to the
// directory: the cache record is kept all the same, the watch's report fills the endpoint in,
// and its deletion tells the cacher and frees the record.
TEST_F(CatchUpTest, AnEndpointCachedBeforeTheWatchReportedItIsTrackedAndForgotten) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Pump();
  v1::Endpoint endpoint;
  endpoint.set_id("vm9");
  endpoint.set_network_id("web");
  endpoint.set_mac("52:54:00:00:00:09");
  endpoint.add_ips("10.0.0.19");
  endpoint.set_switch_name("host-a");
  endpoint.set_port_name("tap9");
  ASSERT_TRUE(registry_->Create(endpoint));
  const size_t records = directory_->CacheRecords();
  EXPECT_EQ(Resolved(Send(2, ResolveMac(9, 100, "52:54:00:00:00:09")), 2).status(),
            v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(directory_->CachersOf("vm9"), std::set<SessionId>{2});
  EXPECT_EQ(directory_->CacheRecords(), records + 1);

  const auto reported = WithoutFloodLists(For(Pump(), 2));  // the watch catches up
  EXPECT_EQ(directory_->CachersOf("vm9"), std::set<SessionId>{2});
  ASSERT_FALSE(reported.empty());
  EXPECT_EQ(reported.back().location_update().location().switch_name(), "host-a");

  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm9", false));
  const auto deleted = WithoutFloodLists(For(Pump(), 2));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].invalidate().endpoint_id(), "vm9");
  EXPECT_TRUE(directory_->CachersOf("vm9").empty());
  EXPECT_EQ(directory_->CacheRecords(), records);
  Disconnect(2, now_);  // the session's records go with it, none dangling
  EXPECT_EQ(directory_->CacheRecords(), 0u);
}

TEST_F(DirectoryTest, StoreChangesReachCachersOnly) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Connect(3, "host-c", "192.0.2.3");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2);
  const int64_t from = registry_->Revision() + 1;

  auto changed = registry_->Get<v1::Endpoint>("vm1");
  changed->clear_ips();
  changed->add_ips("10.0.0.50");
  changed->set_version(0);
  ASSERT_TRUE(registry_->Replace("vm1", *changed));
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm1", false));
  auto events = store_.Changes("/dove/v1/", from);
  ASSERT_TRUE(events);
  auto out = directory_->OnStoreEvents(*events);
  auto cacher = WithoutFloodLists(For(out, 2));
  ASSERT_EQ(cacher.size(), 2u);
  EXPECT_EQ(cacher[0].location_update().location().ips(0), "10.0.0.50");
  EXPECT_EQ(cacher[1].invalidate().endpoint_id(), "vm1");
  EXPECT_EQ(cacher[1].invalidate().vni(), 100u);
  EXPECT_LT(cacher[0].revision(), cacher[1].revision());
  EXPECT_TRUE(For(out, 3).empty());
  EXPECT_TRUE(directory_->CachersOf("vm1").empty());
}

TEST_F(DirectoryTest, TheHoldingSwitchHearsOfItsEndpointsPortNameUnbindingAndDeletion) {
  Connect(1, "host-a", "192.0.2.1");
  std::string port_name = "(no LocationUpdate)";
  for (const auto& message : For(Take(1, "vm1", "t-vm1"), 1)) {
    if (message.has_location_update()) port_name = message.location_update().location().port_name();
  }
  EXPECT_EQ(port_name, "t-vm1");
  Take(1, "vm2", "t-vm2");
  const int64_t from = registry_->Revision() + 1;

  // vm1 unbound through the API (switch_name cleared): host-a is told it left.
  auto unbound = registry_->Get<v1::Endpoint>("vm1");
  unbound->clear_switch_name();
  unbound->set_version(0);
  ASSERT_TRUE(registry_->Replace("vm1", *unbound));
  // vm2 deleted: host-a, which never cached it, gets an Invalidate to drop its port.
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm2", false));
  auto events = store_.Changes("/dove/v1/", from);
  ASSERT_TRUE(events);
  auto holder = For(directory_->OnStoreEvents(*events), 1);
  bool moved = false;
  bool invalidated = false;
  for (const auto& message : holder) {
    if (message.has_endpoint_moved()) {
      moved = true;
      EXPECT_EQ(message.endpoint_moved().location().endpoint_id(), "vm1");
      EXPECT_EQ(message.endpoint_moved().location().switch_name(), "");
    }
    if (message.has_invalidate()) {
      invalidated = true;
      EXPECT_EQ(message.invalidate().endpoint_id(), "vm2");
      EXPECT_EQ(message.invalidate().vni(), 100u);
    }
  }
  EXPECT_TRUE(moved);
  EXPECT_TRUE(invalidated);
}

TEST_F(DirectoryTest, ASwitchConnectingForTheFirstTimeJoinsTheFloodListsOfItsEndpoints) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");  // host-a carries web
  // vm2 is placed on host-b through the API before host-b ever connected.
  auto placed = registry_->Get<v1::Endpoint>("vm2");
  placed->set_switch_name("host-b");
  placed->set_version(0);
  const int64_t from = registry_->Revision() + 1;
  ASSERT_TRUE(registry_->Replace("vm2", *placed));
  auto events = store_.Changes("/dove/v1/", from);
  ASSERT_TRUE(events);
  directory_->OnStoreEvents(*events);

  auto out = Send(2, Hello("host-b", "192.0.2.2"));
  std::vector<std::string> flood;
  for (const auto& message : For(out, 1)) {
    if (message.has_flood_list() && message.flood_list().vni() == 100) {
      flood.assign(message.flood_list().tunnel_ips().begin(),
                   message.flood_list().tunnel_ips().end());
    }
  }
  EXPECT_EQ(flood, std::vector<std::string>{"192.0.2.2"});
}

TEST_F(DirectoryTest, FloodListsFollowPlacement) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  auto out = Take(2, "vm2", "tap2");
  bool a_told = false;
  for (const auto& message : For(out, 1)) {
    if (!message.has_flood_list()) continue;
    a_told = true;
    EXPECT_EQ(message.flood_list().vni(), 100u);
    ASSERT_EQ(message.flood_list().tunnel_ips_size(), 1);
    EXPECT_EQ(message.flood_list().tunnel_ips(0), "192.0.2.2");
  }
  EXPECT_TRUE(a_told);
  // B's config (first endpoint of the network on it) lists A.
  auto mine = For(out, 2);
  ASSERT_TRUE(mine[0].has_network_config());
  ASSERT_EQ(mine[0].network_config().flood_tunnel_ips_size(), 1);
  EXPECT_EQ(mine[0].network_config().flood_tunnel_ips(0), "192.0.2.1");
}

TEST_F(DirectoryTest, DetachNeedsTheEndpointOnThisSwitch) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  v1::SwitchMessage detach;
  detach.mutable_detach()->set_endpoint_id("vm1");
  auto refused = For(Send(2, detach), 2);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].error().code(), "not_found");
  auto done = For(Send(1, detach), 1);
  ASSERT_FALSE(done.empty());
  EXPECT_TRUE(done[0].location_update().location().switch_name().empty());
  EXPECT_TRUE(registry_->Get<v1::Endpoint>("vm1")->switch_name().empty());
}

// An interface the switch does not own: its kind reaches the switch with the location, and a
// detach keeps its name (the API named the interface; a TAP's name is the switch's to forget).
TEST_F(DirectoryTest, APacketPortsKindReachesItsSwitchAndItsNameOutlivesADetach) {
  Connect(1, "host-a", "192.0.2.1");
  auto stored = registry_->Get<v1::Endpoint>("vm1");
  ASSERT_TRUE(stored);
  stored->set_switch_name("host-a");
  stored->set_port_name("vnet3");
  stored->set_port_kind(v1::PORT_KIND_PACKET);
  stored->set_version(0);
  ASSERT_TRUE(registry_->Replace("vm1", *stored));
  const auto attached = For(Send(1, Attach("vm1", "vnet3")), 1);
  const v1::Location* location = nullptr;
  for (const auto& message : attached) {
    if (message.has_location_update()) location = &message.location_update().location();
  }
  ASSERT_NE(location, nullptr);
  EXPECT_EQ(location->port_name(), "vnet3");
  EXPECT_EQ(location->port_kind(), v1::PORT_KIND_PACKET);
  v1::SwitchMessage detach;
  detach.mutable_detach()->set_endpoint_id("vm1");
  ASSERT_FALSE(For(Send(1, detach), 1).empty());
  const auto detached = registry_->Get<v1::Endpoint>("vm1");
  EXPECT_TRUE(detached->switch_name().empty());
  EXPECT_EQ(detached->port_name(), "vnet3");
  EXPECT_EQ(detached->port_kind(), v1::PORT_KIND_PACKET);
  // A TAP's name goes with the detach.
  Take(1, "vm2", "tap2");
  detach.mutable_detach()->set_endpoint_id("vm2");
  ASSERT_FALSE(For(Send(1, detach), 1).empty());
  EXPECT_TRUE(registry_->Get<v1::Endpoint>("vm2")->port_name().empty());
}

TEST_F(DirectoryTest, MissedHeartbeatsMarkTheSwitchDownAndAHeartbeatBringsItBack) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2);
  v1::SwitchMessage b_beat;
  b_beat.mutable_heartbeat()->set_sequence(1);
  SendAt(2, b_beat, now_ + 3s);
  EXPECT_TRUE(Tick(now_ + 2s).messages.empty());
  EXPECT_TRUE(directory_->IsLive("host-a"));
  auto ticked = Tick(now_ + 4s);
  auto all = For(ticked, 2);
  auto down = WithoutFloodLists(all);
  EXPECT_FALSE(directory_->IsLive("host-a"));
  EXPECT_TRUE(directory_->IsLive("host-b"));
  ASSERT_EQ(down.size(), 1u);
  EXPECT_TRUE(down[0].location_update().location().switch_down());
  EXPECT_EQ(down[0].location_update().location().switch_name(), "host-a");  // it stays
  // B's flood list of web leaves A out (after the domain round's delta); the log says why.
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].flood_list().domain_tunnel_ips_removed_size(), 1);
  EXPECT_TRUE(all[2].has_flood_list());
  EXPECT_EQ(all[2].flood_list().tunnel_ips_size(), 0);
  ASSERT_FALSE(ticked.logs.empty());
  EXPECT_NE(ticked.logs[0].find("host-a is DOWN"), std::string::npos) << ticked.logs[0];
  auto record = registry_->Get<v1::Switch>("host-a");
  EXPECT_EQ(record->state(), v1::Switch::STATE_DOWN);
  EXPECT_GT(record->last_heartbeat().seconds(), 0);
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(5);
  now_ += 5s;
  auto up = Send(1, beat);
  auto mine = WithoutFloodLists(For(up, 1));
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].heartbeat().sequence(), 5u);
  auto told = For(up, 2);
  ASSERT_EQ(told.size(), 3u);  // the location, the domain round's delta, web's own list
  EXPECT_FALSE(told[0].location_update().location().switch_down());
  EXPECT_EQ(told[1].flood_list().domain_tunnel_ips_added_size(), 1);
  EXPECT_EQ(told[2].flood_list().tunnel_ips_size(), 1);  // A is back in it
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
}

TEST_F(DirectoryTest, DisconnectForgetsTheCaches) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm2", "tap2");
  Resolved(Send(1, ResolveMac(1, 100, "52:54:00:00:00:01")), 1);
  EXPECT_EQ(directory_->CacheRecords(), 1u);
  Disconnect(1);
  EXPECT_TRUE(directory_->CachersOf("vm1").empty());
  EXPECT_EQ(directory_->CacheRecords(), 0u);
  EXPECT_FALSE(directory_->IsLive("host-a"));
}

// ---- catch-up on reconnect, configuration pushes, checks ----------------------------------

TEST_F(CatchUpTest, AReconnectGetsOnlyWhatChangedSinceItsRevision) {
  const int64_t applied = Populate();
  Disconnect(2);
  Take(3, "vm1", "tap7");  // vm1 moves to C while B is away
  Pump();

  // The catch-up reflects the store as the Hello found it (B's record, UP again, is written
  // after the answer).
  const int64_t found = registry_->Revision();
  auto out = Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"}));
  auto mine = For(out, 4);
  ASSERT_EQ(mine.size(), 4u);  // welcome, the config of web (vm3), the one change, sync done
  EXPECT_FALSE(mine[0].welcome().snapshot());
  EXPECT_TRUE(mine[1].has_network_config());
  ASSERT_TRUE(mine[2].has_location_update());
  EXPECT_EQ(mine[2].location_update().location().endpoint_id(), "vm1");
  EXPECT_EQ(mine[2].location_update().location().switch_name(), "host-c");
  EXPECT_EQ(mine[3].revision(), found);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-b")->state(), v1::Switch::STATE_UP);
  EXPECT_EQ(directory_->Syncs().incremental, 1u);
  // It caches both again: a later change of vm2 reaches it without a resolve.
  EXPECT_EQ(directory_->CachersOf("vm2"), (std::set<SessionId>{4}));
  auto moved = WithoutFloodLists(For(Take(3, "vm2", "tap8"), 4));
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].location_update().location().switch_name(), "host-c");
}

TEST_F(CatchUpTest, NothingChangedMeansNothingSent) {
  const int64_t applied = Populate();
  Disconnect(2);
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 4);
  ASSERT_EQ(mine.size(), 3u);  // welcome, the config of web, sync done
  EXPECT_FALSE(mine[0].welcome().snapshot());
  EXPECT_TRUE(mine[2].has_sync_done());
}

TEST_F(CatchUpTest, AnEndpointDeletedWhileAwayIsInvalidated) {
  const int64_t applied = Populate();
  Disconnect(2);
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm2", false));
  Pump();
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 4);
  ASSERT_EQ(mine.size(), 4u);
  EXPECT_EQ(mine[2].invalidate().endpoint_id(), "vm2");
  EXPECT_TRUE(directory_->CachersOf("vm2").empty());
  EXPECT_EQ(directory_->CachersOf("vm1"), (std::set<SessionId>{4}));
}

TEST_F(CatchUpTest, CompactedHistoryMeansASnapshotOfTheListedEndpoints) {
  const int64_t applied = Populate();
  Disconnect(2);
  Take(3, "vm1", "tap7");
  v1::Domain other;
  other.set_id("d2");
  other.set_name("other");
  ASSERT_TRUE(registry_->Create(other));
  ASSERT_TRUE(store_.Compact(registry_->Revision()));       // the move's event is gone
  const uint64_t snapshots = directory_->Syncs().snapshot;  // fresh switches count too
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2", "gone"})), 4);
  ASSERT_EQ(mine.size(), 5u);  // welcome, web, vm1, vm2, sync done; "gone" is simply not sent
  EXPECT_TRUE(mine[0].welcome().snapshot());
  EXPECT_EQ(mine[2].location_update().location().endpoint_id(), "vm1");
  EXPECT_EQ(mine[2].location_update().location().switch_name(), "host-c");
  EXPECT_EQ(mine[3].location_update().location().endpoint_id(), "vm2");
  EXPECT_EQ(directory_->Syncs().snapshot, snapshots + 1);
  // host-a, which vm1 left (it keeps vm2 in web), caches it since the move, and the rejoined
  // host-b again.
  EXPECT_EQ(directory_->CachersOf("vm1"), (std::set<SessionId>{1, 4}));
}

TEST_F(CatchUpTest, ARevisionAheadOfTheControllerMeansASnapshot) {
  Populate();
  Disconnect(2);
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", registry_->Revision() + 1000, {"vm1"})), 4);
  ASSERT_EQ(mine.size(), 4u);
  EXPECT_TRUE(mine[0].welcome().snapshot());
  EXPECT_EQ(mine[2].location_update().location().endpoint_id(), "vm1");
}

// With StartHistory the catch-up is answered from the changes OnStoreEvents noted: the store's
// history is not read, so even once compacted away it is incremental.
TEST_F(CatchUpTest, FromTheNotesAReconnectIsIncrementalWithoutTheStoresHistory) {
  directory_->StartHistory(pumped_ + 1);
  const int64_t applied = Populate();
  Disconnect(2);
  Take(3, "vm1", "tap7");  // vm1 moves to C while B is away
  Pump();
  ASSERT_TRUE(store_.Compact(registry_->Revision()));  // the move's event is gone from the store
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 4);
  ASSERT_EQ(mine.size(), 4u);  // welcome, the config of web, the one change, sync done
  EXPECT_FALSE(mine[0].welcome().snapshot());
  EXPECT_EQ(mine[2].location_update().location().endpoint_id(), "vm1");
  EXPECT_EQ(mine[2].location_update().location().switch_name(), "host-c");
  EXPECT_TRUE(mine[3].has_sync_done());
  EXPECT_EQ(directory_->Syncs().incremental, 1u);
  // Without the notes (the same reconnect on a directory that has none) it is a snapshot.
  directory_->StartHistory(registry_->Revision() + 1);
  auto again = For(Send(5, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 5);
  ASSERT_FALSE(again.empty());
  EXPECT_TRUE(again[0].welcome().snapshot());
}

// The registry may be ahead of the changes the watch delivered: SyncDone then says only what
// was noted, and the rest reaches the session (listed endpoints this directory wrote after the
// notes are sent in the catch-up: their events will not be fanned out again).
TEST_F(CatchUpTest, FromTheNotesSyncDoneSaysTheLastNotedRevision) {
  directory_->StartHistory(pumped_ + 1);
  const int64_t applied = Populate();
  Disconnect(2);
  Take(3, "vm1", "tap7");
  Pump();
  const int64_t noted = pumped_;
  Take(3, "vm2", "tap8");  // in the registry, not yet delivered to the directory
  ASSERT_GT(registry_->Revision(), noted);
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 4);
  ASSERT_FALSE(mine.empty());
  EXPECT_FALSE(mine[0].welcome().snapshot());
  EXPECT_EQ(mine.back().revision(), noted);
  ASSERT_TRUE(mine.back().has_sync_done());
  // vm2's move (after `noted`, made through this directory, so fanned out before B cached it)
  // is in the catch-up or comes with its event: B learns it either way.
  auto later = WithoutFloodLists(For(Pump(), 4));
  later.insert(later.begin(), mine.begin(), mine.end());
  bool told = false;
  for (const auto& message : later) {
    if (message.has_location_update() &&
        message.location_update().location().endpoint_id() == "vm2") {
      told = message.location_update().location().switch_name() == "host-c";
    }
  }
  EXPECT_TRUE(told);
}

// A controller that has just started reads the store's recent history once (BackfillHistory):
// a switch whose last revision is before the start is caught up from memory too.
TEST_F(CatchUpTest, ABackfilledHistoryCatchesUpAReconnectFromBeforeTheStart) {
  const int64_t applied = Populate();
  Disconnect(2);
  Take(3, "vm1", "tap7");
  // The restarted controller: a new directory at the registry's revision, its watch from there.
  const int64_t start = registry_->Revision() + 1;
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, DirectoryOptions{});
  directory_->StartHistory(start);
  auto history = store_.Changes("/dove/v1/", applied - 2);
  ASSERT_TRUE(history);
  directory_->BackfillHistory(applied - 2, *history);
  EXPECT_EQ(directory_->HistoryFrom(), applied - 2);
  ASSERT_TRUE(store_.Compact(registry_->Revision()));  // answered from the notes, not the store
  auto mine = For(Send(4, Rejoin("host-b", "192.0.2.2", applied, {"vm1", "vm2"})), 4);
  ASSERT_EQ(mine.size(), 4u);
  EXPECT_FALSE(mine[0].welcome().snapshot());
  EXPECT_EQ(mine[2].location_update().location().endpoint_id(), "vm1");
  // Trimmed as the store compacts: a reconnect from before the notes is a snapshot.
  directory_->TrimHistory(registry_->Revision());
  auto trimmed = For(Send(5, Rejoin("host-c", "192.0.2.3", applied, {"vm2"})), 5);
  ASSERT_FALSE(trimmed.empty());
  EXPECT_TRUE(trimmed[0].welcome().snapshot());
}

TEST_F(CatchUpTest, AttachOfAnEndpointAlreadyThereIsAcknowledgedWithoutAWrite) {
  Populate();
  const int64_t before = registry_->Revision();
  auto mine = For(Send(1, Attach("vm1", "tap1")), 1);
  EXPECT_EQ(registry_->Revision(), before);
  ASSERT_FALSE(mine.empty());
  EXPECT_EQ(mine.back().location_update().location().endpoint_id(), "vm1");
  EXPECT_EQ(mine.back().location_update().location().switch_name(), "host-a");
}

TEST_F(CatchUpTest, SubnetAndNetworkChangesSendTheConfigAgain) {
  Populate();
  v1::Subnet extra;
  extra.set_id("web-v6");
  extra.set_network_id("web");
  extra.set_cidr("2001:db8::/64");
  ASSERT_TRUE(registry_->Create(extra));
  auto out = Pump();
  auto to_a = For(out, 1);
  ASSERT_EQ(to_a.size(), 2u) << "the domain's new route, then web's config";
  ASSERT_TRUE(to_a[0].has_domain_routes());
  ASSERT_EQ(to_a[0].domain_routes().added_size(), 1);
  EXPECT_EQ(to_a[0].domain_routes().added(0).cidr(), "2001:db8::/64");
  EXPECT_EQ(to_a[0].domain_routes().added(0).vni(), 100u);
  ASSERT_TRUE(to_a[1].has_network_config());
  EXPECT_EQ(to_a[1].network_config().subnets_size(), 2);
  EXPECT_EQ(to_a[1].network_config().router_mac(), RouterMacOf("d1"));
  EXPECT_TRUE(For(out, 3).empty());  // C has no port in web

  ASSERT_TRUE(registry_->Delete<v1::Network>("web", true));
  auto after_delete = Pump();
  bool invalidated = false;
  for (const auto& message : For(after_delete, 2)) invalidated |= message.has_invalidate();
  EXPECT_TRUE(invalidated);
  auto removed = For(after_delete, 1);
  bool told = false;
  for (const auto& message : removed) {
    if (message.has_network_removed()) {
      told = true;
      EXPECT_EQ(message.network_removed().network_id(), "web");
      EXPECT_EQ(message.network_removed().vni(), 100u);
    }
  }
  EXPECT_TRUE(told);
  // B cached vm1 and vm2, deleted with the network: forgotten.
  EXPECT_TRUE(directory_->CachersOf("vm1").empty());
}

TEST_F(CatchUpTest, APolicyChangeInvalidatesWhatIsNoLongerAllowed) {
  Populate();
  // C has a port in db; it resolves vm1 (web) by IP, allowed by a policy.
  v1::Policy allow;
  allow.set_id("p1");
  allow.set_domain_id("d1");
  allow.set_source_network_id("db");
  allow.set_destination_network_id("web");
  allow.set_action(v1::Policy::ACTION_ALLOW);
  ASSERT_TRUE(registry_->Create(allow));
  Take(3, "db1", "tapd");
  Pump();
  ASSERT_EQ(Resolved(Send(3, ResolveIp(9, 200, "10.0.0.11")), 3).status(),
            v1::ResolveReply::STATUS_FOUND);
  ASSERT_TRUE(registry_->Delete<v1::Policy>("p1", false));
  auto mine = For(Pump(), 3);
  bool invalidated = false;
  bool config = false;
  for (const auto& message : mine) {
    invalidated |= message.has_invalidate() && message.invalidate().endpoint_id() == "vm1";
    config |= message.has_network_config() && message.network_config().policies_size() == 0;
  }
  EXPECT_TRUE(invalidated);
  EXPECT_TRUE(config);
  EXPECT_EQ(directory_->CachersOf("vm1").count(3), 0u);  // B still caches it: it serves web
}

TEST_F(CatchUpTest, MalformedMessagesAreRefusedAndTheStreamGoesOn) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm2", "tap2");
  auto out = Send(1, ResolveMac(42, 100, "not-a-mac"));
  ASSERT_TRUE(out.closes.empty());
  auto mine = For(out, 1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "invalid_value");
  EXPECT_EQ(mine[0].error().query_id(), 42u);
  auto port = For(Send(1, Attach("vm1", "a-port-name-far-too-long")), 1);
  ASSERT_EQ(port.size(), 1u);
  EXPECT_EQ(port[0].error().endpoint_id(), "vm1");
  EXPECT_EQ(Resolved(Send(1, ResolveMac(43, 100, "52:54:00:00:00:01")), 1).status(),
            v1::ResolveReply::STATUS_FOUND);
}

TEST_F(CatchUpTest, ABadHelloClosesTheStream) {
  auto bad_ip = Send(1, Hello("host-a", "224.0.0.1"));
  ASSERT_EQ(bad_ip.closes.size(), 1u);
  EXPECT_EQ(bad_ip.closes[0].code, 3);  // INVALID_ARGUMENT
  auto future = Hello("host-a", "192.0.2.1");
  future.mutable_hello()->set_protocol_version(2);
  auto out = Send(2, future);
  ASSERT_EQ(out.closes.size(), 1u);
  EXPECT_EQ(out.closes[0].code, kFailedPrecondition);
  EXPECT_FALSE(registry_->Get<v1::Switch>("host-a"));
}

TEST_F(CatchUpTest, StatsAreKeptPerSwitchUntilItDisconnects) {
  Connect(1, "host-a", "192.0.2.1");
  v1::SwitchMessage stats;
  (*stats.mutable_stats()->mutable_counters())["rx_frames"] = 7;
  EXPECT_TRUE(Send(1, stats).messages.empty());
  ASSERT_EQ(directory_->Stats().count("host-a"), 1u);
  EXPECT_EQ(directory_->Stats().at("host-a").counters().at("rx_frames"), 7u);
  (*stats.mutable_stats()->mutable_counters())["Bad-Name"] = 1;
  EXPECT_EQ(For(Send(1, stats), 1)[0].error().code(), "invalid_value");
  Disconnect(1);
  EXPECT_TRUE(directory_->Stats().empty());
}

TEST_F(CatchUpTest, ANewTunnelIpReachesCachersAndFloodLists) {
  Populate();
  Take(3, "db1", "tapd");  // C: db; A: web; B cached vm1, vm2
  Disconnect(1);
  auto out = Send(5, Hello("host-a", "192.0.2.11"));
  ASSERT_TRUE(out.closes.empty());
  bool told = false;
  for (const auto& message : For(out, 2)) {
    if (message.has_location_update()) {
      told = true;
      EXPECT_EQ(message.location_update().location().tunnel_ip(), "192.0.2.11");
    }
  }
  EXPECT_TRUE(told);
  EXPECT_EQ(RouterMacOf("0123456789ab"), "02:23:45:67:89:ab");
  EXPECT_EQ(RouterMacOf("d1").size(), 17u);
}

TEST_F(CatchUpTest, AnyMessageIsASignOfLife) {
  Populate();
  // Only B keeps beating; A is marked DOWN, then a resolve from A (no heartbeat) revives it.
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  SendAt(2, beat, now_ + 3s);
  SendAt(3, beat, now_ + 3s);
  Tick(now_ + 4s);
  ASSERT_FALSE(directory_->IsLive("host-a"));
  auto out = SendAt(1, ResolveMac(5, 100, "52:54:00:00:00:02"), now_ + 5s);
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
  bool told = false;  // B cached vm1 and vm2, both on A: told A is up again
  for (const auto& message : For(out, 2)) {
    told |= message.has_location_update() && !message.location_update().location().switch_down();
  }
  EXPECT_TRUE(told);
  auto reply = WithoutFloodLists(For(out, 1));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].resolve_reply().query_id(), 5u);
}

// ---- tenancy and liveness --------------------------------------------------------------

TEST_F(DirectoryTest, AResolveInAVniNotServedIsAnsweredAsOneThatDoesNotExist) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");  // host-a serves web (100), not db (200)
  auto served = Resolved(Send(1, ResolveIp(1, 100, "10.0.0.12")), 1);
  EXPECT_EQ(served.status(), v1::ResolveReply::STATUS_FOUND);
  auto exists = For(Send(1, ResolveMac(7, 200, "52:54:00:00:01:01")), 1);
  auto missing = For(Send(1, ResolveMac(7, 201, "52:54:00:00:01:01")), 1);
  auto by_ip = For(Send(1, ResolveIp(7, 200, "10.1.0.11")), 1);
  ASSERT_EQ(exists.size(), 1u);
  ASSERT_EQ(missing.size(), 1u);
  ASSERT_EQ(by_ip.size(), 1u);
  auto text = [](v1::ControllerMessage message, const std::string& vni) {
    std::string shown = message.error().message();
    shown.replace(shown.find(vni), vni.size(), "N");
    message.mutable_error()->set_message(shown);
    return message.SerializeAsString();
  };
  EXPECT_EQ(exists[0].error().code(), "not_found");
  EXPECT_EQ(exists[0].error().query_id(), 7u);
  EXPECT_EQ(text(exists[0], "200"), text(missing[0], "201"));
  EXPECT_EQ(exists[0].SerializeAsString(), by_ip[0].SerializeAsString());
  EXPECT_TRUE(directory_->CachersOf("db1").empty());
  EXPECT_EQ(directory_->Refused().at("host-a").at("resolve"), 3u);
  // The first and second refusals are logged, the third is not (powers of two).
  auto fourth = Send(1, ResolveMac(8, 200, "52:54:00:00:01:01"));
  ASSERT_EQ(fourth.logs.size(), 1u);
  EXPECT_NE(fourth.logs[0].find("host-a"), std::string::npos);
  EXPECT_TRUE(Send(1, ResolveMac(9, 200, "52:54:00:00:01:01")).logs.empty());
}

TEST_F(DirectoryTest, ASwitchWithoutAPortInTheNetworkLearnsNothingOfIt) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  Connect(2, "host-x", "192.0.2.9");  // valid, but no port anywhere
  EXPECT_EQ(For(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2)[0].error().code(),
            "not_found");
  // Listing vm1 as cached in a Hello gets no location and no later updates.
  Disconnect(2);
  auto rejoin = Hello("host-x", "192.0.2.9");
  rejoin.mutable_hello()->add_cached_endpoint_ids("vm1");
  auto mine = For(Send(3, rejoin), 3);
  for (const auto& message : mine) EXPECT_FALSE(message.has_location_update());
  EXPECT_TRUE(directory_->CachersOf("vm1").empty());
  EXPECT_EQ(directory_->Refused().at("host-x").at("subscribe"), 1u);
  // Nor can it take vm1, nor detach it.
  auto attach = For(Send(3, Attach("vm1", "tapx")), 3);
  ASSERT_EQ(attach.size(), 1u);
  EXPECT_EQ(attach[0].error().code(), "not_found");
  v1::SwitchMessage detach;
  detach.mutable_detach()->set_endpoint_id("vm1");
  EXPECT_EQ(For(Send(3, detach), 3)[0].error().code(), "not_found");
  EXPECT_EQ(registry_->Get<v1::Endpoint>("vm1")->switch_name(), "host-a");
  EXPECT_EQ(directory_->Refused().at("host-x").at("resolve"), 1u);
  EXPECT_EQ(directory_->Refused().at("host-x").at("attach"), 1u);
  EXPECT_EQ(directory_->Refused().at("host-x").at("detach"), 1u);
}

TEST_F(DirectoryTest, AnUnplacedEndpointIsTakenOnlyByASwitchServingItsNetwork) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  EXPECT_EQ(For(Send(2, Attach("vm2", "tap2")), 2)[0].error().code(), "not_found");
  auto mine = For(Send(1, Attach("vm2", "tap2")), 1);
  ASSERT_FALSE(mine.empty());
  EXPECT_EQ(mine.back().location_update().location().switch_name(), "host-a");
}

TEST_F(DirectoryTest, AStreamThatEndsMarksTheSwitchDownUntilItSaysHelloAgain) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2);
  auto gone = Disconnect(1, now_);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_DOWN);
  auto told = For(gone, 2);
  ASSERT_EQ(told.size(), 3u);  // the location, the domain round's delta, web's own list
  EXPECT_TRUE(told[0].location_update().location().switch_down());
  EXPECT_EQ(told[1].flood_list().domain_tunnel_ips_removed_size(), 1);
  EXPECT_EQ(told[2].flood_list().tunnel_ips_size(), 0);
  ASSERT_EQ(gone.logs.size(), 1u);
  EXPECT_NE(gone.logs[0].find("stream ended"), std::string::npos);

  auto back = Send(3, Hello("host-a", "192.0.2.1"));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
  auto again = For(back, 2);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_FALSE(again[0].location_update().location().switch_down());
  EXPECT_EQ(again[1].flood_list().domain_tunnel_ips_added_size(), 1);
  EXPECT_EQ(again[2].flood_list().tunnel_ips_size(), 1);
}

TEST_F(DirectoryTest, AReplacedStreamDoesNotMarkTheSwitchDown) {
  Connect(1, "host-a", "192.0.2.1");
  auto replaced = Send(2, Hello("host-a", "192.0.2.1"));  // the same switch on a new stream
  ASSERT_EQ(replaced.closes.size(), 1u);
  EXPECT_EQ(replaced.closes[0].session, 1u);
  auto old = Disconnect(1, now_);
  EXPECT_TRUE(old.messages.empty());
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
}

// A controller that falls behind: A's messages were received (they wait for the caller's lock)
// but not handled for longer than dead_after. That is not silence: no DOWN, no LocationUpdate,
// no flood list, no round; only a switch that really sent nothing goes DOWN.
TEST_F(DirectoryTest, AMessageReceivedButNotYetHandledKeepsTheSwitchUp) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");
  Take(2, "vm2", "tap2");
  Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2);
  std::map<SessionId, Clock::time_point> received = {{1, now_ + 3s}};
  auto last_received = [&](SessionId session) -> std::optional<Clock::time_point> {
    auto it = received.find(session);
    if (it == received.end()) return std::nullopt;
    return it->second;
  };
  auto ticked = Settled(directory_->OnTick(now_ + 4s, last_received));
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_FALSE(directory_->IsLive("host-b"));  // nothing received from B: DOWN
  EXPECT_EQ(directory_->LivenessChanges().down, 1u);
  EXPECT_EQ(directory_->LivenessChanges().up, 0u);
  for (const auto& message : For(ticked, 2)) {
    EXPECT_FALSE(message.has_location_update()) << "A did not change: " << message.DebugString();
  }
  // What was received counts from its reception: silent for dead_after after it, A goes DOWN.
  EXPECT_TRUE(Settled(directory_->OnTick(now_ + 6s, last_received)).logs.empty());
  Settled(directory_->OnTick(now_ + 6s + 1ms, last_received));
  EXPECT_FALSE(directory_->IsLive("host-a"));
  EXPECT_EQ(directory_->LivenessChanges().down, 2u);
  // Its message handled at last: UP again, counted.
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  SendAt(1, beat, now_ + 7s);
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_EQ(directory_->LivenessChanges().up, 1u);
}

// Ticks while the caller is behind (messages wait for its lock) do not count as silence: a
// switch goes DOWN after dead_after of time the controller kept up, not before.
TEST_F(DirectoryTest, TimeSpentBehindIsNobodysSilence) {
  Connect(1, "host-a", "192.0.2.1");
  Take(1, "vm1", "tap1");
  Tick(now_);
  for (auto at : {1s, 2s, 3s, 4s, 5s}) {
    EXPECT_TRUE(Settled(directory_->OnTick(now_ + at, nullptr, /*behind=*/true)).logs.empty());
  }
  EXPECT_TRUE(directory_->IsLive("host-a"));
  // Caught up again: 5 s behind left out, the 3 s of dead_after count from now on.
  Settled(directory_->OnTick(now_ + 7s, nullptr, /*behind=*/false));
  EXPECT_TRUE(directory_->IsLive("host-a"));
  EXPECT_EQ(directory_->LivenessChanges().down, 0u);
  Settled(directory_->OnTick(now_ + 8s + 1ms, nullptr, /*behind=*/false));
  EXPECT_FALSE(directory_->IsLive("host-a"));
  EXPECT_EQ(directory_->LivenessChanges().down, 1u);
}

// Twelve switches: one silent goes DOWN as always; eleven silent at once (more than 5 and a
// tenth of them) are taken for the controller's own backlog, for at most 10 x dead_after.
TEST_F(DirectoryTest, ManySwitchesSilentAtOnceAreTheControllersBacklogForAWhile) {
  constexpr int kSwitches = 12;
  for (int i = 1; i <= kSwitches; ++i) {
    Connect(i, "host-" + std::to_string(i), "192.0.2." + std::to_string(10 + i));
  }
  Tick(now_);
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  for (int i = 2; i <= kSwitches; ++i) SendAt(i, beat, now_ + 3s);
  Tick(now_ + 4s);
  EXPECT_FALSE(directory_->IsLive("host-1")) << "one silent switch: DOWN";
  EXPECT_EQ(directory_->LivenessChanges().down, 1u);
  // Nothing more from anyone: 11 silent from 6 s on.
  for (auto at = 5s; at <= 30s; at += 1s) Tick(now_ + at);
  EXPECT_TRUE(directory_->IsLive("host-2"));
  EXPECT_EQ(directory_->LivenessChanges().down, 1u);
  EXPECT_GT(directory_->MassSilenceTicks(), 0u);
  // 10 x dead_after after the first such tick (7 s), then dead_after of silence: all DOWN.
  for (auto at = 31s; at <= 45s; at += 1s) Tick(now_ + at);
  for (int i = 2; i <= kSwitches; ++i)
    EXPECT_FALSE(directory_->IsLive("host-" + std::to_string(i)));
  EXPECT_EQ(directory_->LivenessChanges().down, static_cast<uint64_t>(kSwitches));
}

TEST_F(DirectoryTest, SwitchesUpAtStartThatNeverSayHelloGoDown) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  // A new controller (directory) over the same registry: both are stored UP; only B returns.
  directory_ = std::make_unique<Directory>(registry_.get(), &store_, TestOptions());
  Tick(now_);
  Connect(3, "host-b", "192.0.2.2");
  EXPECT_TRUE(Tick(now_ + 2s).logs.empty());
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  SendAt(3, beat, now_ + 3s);
  auto later = Tick(now_ + 4s);
  ASSERT_EQ(later.logs.size(), 1u);
  EXPECT_NE(later.logs[0].find("host-a"), std::string::npos);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_DOWN);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-b")->state(), v1::Switch::STATE_UP);
}

TEST_F(DirectoryTest, LastHeartbeatIsRecordedEveryIntervalWhileUp) {
  directory_ = std::make_unique<Directory>(registry_.get(), &store_,
                                           DirectoryOptions{.heartbeat_record_interval = 10s});
  Connect(1, "host-a", "192.0.2.1");
  const int64_t first = registry_->Get<v1::Switch>("host-a")->last_heartbeat().seconds();
  EXPECT_GT(first, 0);
  const int64_t revision = registry_->Revision();
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  for (auto at : {1s, 2s, 3s}) {
    SendAt(1, beat, now_ + at);
    Tick(now_ + at);
  }
  EXPECT_EQ(registry_->Revision(), revision);  // not every heartbeat is a write
  SendAt(1, beat, now_ + 11s);
  Tick(now_ + 11s);
  EXPECT_EQ(registry_->Revision(), revision + 1);
}

// The directory decides writes; the caller makes them without its lock (directory.h, "Writes").
TEST_F(DirectoryTest, ASwitchLeftWithoutAPortInANetworkIsToldToDropIt) {
  Connect(1, "host-a", "192.0.2.1");
  Connect(2, "host-b", "192.0.2.2");
  Take(1, "vm1", "tap1");  // host-a's only port in web
  Take(2, "vm2", "tap2");
  Place("vm1", "host-b");  // moved away through the API
  auto moved = Send(2, Attach("vm1", "tap9"));
  auto told = For(moved, 1);
  ASSERT_FALSE(told.empty());
  EXPECT_TRUE(told.front().has_endpoint_moved());
  ASSERT_TRUE(told.back().has_network_removed());
  EXPECT_EQ(told.back().network_removed().network_id(), "web");
  EXPECT_EQ(told.back().network_removed().vni(), 100u);
  // It may no longer resolve there.
  auto refused = For(Send(1, ResolveMac(7, 100, "52:54:00:00:00:02")), 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].error().code(), "not_found");
  // A switch that keeps another port in the network is not told.
  Connect(3, "host-c", "192.0.2.3");
  AddEndpoint("vm3", "web", "52:54:00:00:00:03", "10.0.0.13");
  AddEndpoint("vm4", "web", "52:54:00:00:00:04", "10.0.0.14");
  Take(3, "vm3", "tap3");
  Take(3, "vm4", "tap4");
  const int64_t from = registry_->Revision() + 1;
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm3", false));
  auto events = store_.Changes("/dove/v1/", from);
  ASSERT_TRUE(events);
  auto deleted = For(directory_->OnStoreEvents(*events), 3);
  ASSERT_FALSE(deleted.empty());
  for (const auto& message : deleted) EXPECT_FALSE(message.has_network_removed());
  // ...and the last one's deletion is.
  const int64_t later = registry_->Revision() + 1;
  ASSERT_TRUE(registry_->Delete<v1::Endpoint>("vm4", false));
  auto more = store_.Changes("/dove/v1/", later);
  ASSERT_TRUE(more);
  auto last = For(directory_->OnStoreEvents(*more), 3);
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(last.back().has_network_removed());
}

TEST_F(DirectoryTest, AnAttachIsAnsweredOnlyOnceItsWriteIsDone) {
  Connect(1, "host-a", "192.0.2.1");
  Place("vm1", "host-a");
  const int64_t before = registry_->Revision();
  auto decided = directory_->OnMessage(1, Attach("vm1", "tap1"), now_);
  ASSERT_EQ(decided.endpoint_writes.size(), 1u);
  EXPECT_EQ(decided.endpoint_writes[0].kind, EndpointWrite::Kind::kAttach);
  EXPECT_EQ(decided.endpoint_writes[0].endpoint.port_name(), "tap1");
  EXPECT_TRUE(WithoutFloodLists(For(decided, 1)).empty()) << "acknowledged before the write";
  EXPECT_EQ(registry_->Revision(), before) << "the directory wrote itself";
  const auto& write = decided.endpoint_writes[0];
  auto answered = directory_->OnEndpointWritten(write, PerformEndpointWrite(*registry_, write));
  EXPECT_EQ(registry_->Get<v1::Endpoint>("vm1")->port_name(), "tap1");
  bool acknowledged = false;
  for (const auto& message : For(answered, 1)) {
    acknowledged = acknowledged || (message.has_location_update() &&
                                    message.location_update().location().endpoint_id() == "vm1");
  }
  EXPECT_TRUE(acknowledged);
}

TEST_F(DirectoryTest, AnAttachWhoseEndpointChangedBeforeItsWriteIsRefusedAndChangesNothing) {
  Connect(1, "host-a", "192.0.2.1");
  Place("vm1", "host-a");
  auto decided = directory_->OnMessage(1, Attach("vm1", "tap1"), now_);
  ASSERT_EQ(decided.endpoint_writes.size(), 1u);
  // Meanwhile (between the decision and the write, without the lock) the API moves it.
  Place("vm1", "host-z");
  const auto& write = decided.endpoint_writes[0];
  auto answered = directory_->OnEndpointWritten(write, PerformEndpointWrite(*registry_, write));
  auto mine = For(answered, 1);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].error().code(), "conflict");
  EXPECT_EQ(registry_->Get<v1::Endpoint>("vm1")->switch_name(), "host-z");
  EXPECT_TRUE(registry_->Get<v1::Endpoint>("vm1")->port_name().empty());
}

TEST_F(DirectoryTest, SwitchRecordWritesKeepOnlyTheLatestDecision) {
  Connect(1, "host-a", "192.0.2.1");
  const int64_t before = registry_->Revision();
  // DOWN (stream ended), then UP again (a new stream), before any write is made.
  auto down = directory_->OnDisconnect(1, now_);
  EXPECT_TRUE(down.switch_writes);
  auto up = directory_->OnMessage(2, Hello("host-a", "192.0.2.1"), now_);
  EXPECT_TRUE(up.switch_writes);
  EXPECT_EQ(registry_->Revision(), before);
  auto writes = directory_->TakeSwitchWrites();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_TRUE(writes[0].up);
  auto answered =
      directory_->OnSwitchWritten(writes[0], PerformSwitchWrite(*registry_, &store_, writes[0]));
  EXPECT_FALSE(answered.switch_writes);
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
  EXPECT_TRUE(directory_->TakeSwitchWrites().empty());
}

TEST_F(DirectoryTest, AnOlderSwitchWriteLandingLastIsWrittenOver) {
  Connect(1, "host-a", "192.0.2.1");
  Output down = directory_->OnDisconnect(1, now_);
  auto stale = directory_->TakeSwitchWrites();  // taken by one writer...
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_FALSE(stale[0].up);
  // ...while the switch comes back and another write of UP is made first.
  Settled(directory_->OnMessage(2, Hello("host-a", "192.0.2.1"), now_));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
  auto late =
      directory_->OnSwitchWritten(stale[0], PerformSwitchWrite(*registry_, &store_, stale[0]));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_DOWN);
  EXPECT_TRUE(late.switch_writes) << "the store must follow the latest decision";
  Settled(std::move(late));
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
  EXPECT_TRUE(directory_->IsLive("host-a"));
}

// PerformSwitchWrites: the session keys claimed alone share one transaction; a batch the store
// refuses is done one write at a time, so only the bad write fails.
TEST_F(DirectoryTest, ClaimsAloneShareOneTransactionAndABadOneFailsAlone) {
  auto lease = store_.GrantLease(10);
  ASSERT_TRUE(lease);
  auto claim = [&](const std::string& name, int64_t lease_id) {
    SwitchWrite write;
    write.switch_name = name;
    write.record = false;
    write.session = SwitchWrite::SessionOp::kClaim;
    write.session_value = "stream of " + name;
    write.lease = lease_id;
    return write;
  };
  const int64_t before = registry_->Revision();
  const std::vector<SwitchWrite> good = {claim("host-a", lease->id), claim("host-b", lease->id),
                                         claim("host-c", lease->id)};
  for (const auto& done : PerformSwitchWrites(*registry_, &store_, good)) {
    EXPECT_TRUE(done) << done.error();
  }
  EXPECT_EQ(*store_.CurrentRevision(), before + 1);  // one transaction for the three
  for (const char* name : {"host-a", "host-b", "host-c"}) {
    auto key = store_.Get(controller::SessionKey(name));
    ASSERT_TRUE(key) << name;
    EXPECT_EQ(key->value, std::string("stream of ") + name);
    EXPECT_EQ(key->lease, lease->id);
  }
  // A lease the store does not know refuses the batch: the others are still written.
  const std::vector<SwitchWrite> mixed = {claim("host-d", lease->id), claim("host-e", 987654),
                                          claim("host-f", lease->id)};
  const auto results = PerformSwitchWrites(*registry_, &store_, mixed);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0]);
  EXPECT_FALSE(results[1]);
  EXPECT_TRUE(results[2]);
  EXPECT_TRUE(store_.Get(controller::SessionKey("host-d")));
  EXPECT_FALSE(store_.Get(controller::SessionKey("host-e")));
  EXPECT_TRUE(store_.Get(controller::SessionKey("host-f")));
}

// PerformSwitchWrites: the records written without a condition (heartbeats, an UP with its
// session key) share one transaction; when the store refuses it, each is written alone, so only
// the bad one fails.
TEST_F(DirectoryTest, RecordsWithoutAConditionShareOneTransactionAndABadOneFailsAlone) {
  auto lease = store_.GrantLease(10);
  ASSERT_TRUE(lease);
  for (int i = 0; i < 4; ++i) {
    v1::Switch sw;
    sw.set_name("host-" + std::to_string(i));
    sw.set_tunnel_ip("192.0.2." + std::to_string(10 + i));
    sw.set_state(v1::Switch::STATE_UP);
    ASSERT_TRUE(registry_->Create(sw));
  }
  const auto beat = std::chrono::system_clock::now();
  auto record = [&](const std::string& name, int64_t lease_id) {
    SwitchWrite write;
    write.switch_name = name;
    write.up = true;
    write.record = true;
    write.last_heartbeat = beat;
    if (lease_id != 0) {
      write.session = SwitchWrite::SessionOp::kClaim;
      write.session_value = "stream of " + name;
      write.lease = lease_id;
    }
    return write;
  };
  const int64_t before = registry_->Revision();
  const std::vector<SwitchWrite> good = {record("host-0", 0), record("host-1", 0),
                                         record("host-2", lease->id)};
  for (const auto& done : PerformSwitchWrites(*registry_, &store_, good)) {
    EXPECT_TRUE(done) << done.error();
  }
  EXPECT_EQ(*store_.CurrentRevision(), before + 1) << "one transaction for the three records";
  for (const char* name : {"host-0", "host-1", "host-2"}) {
    EXPECT_TRUE(registry_->Get<v1::Switch>(name)->has_last_heartbeat()) << name;
  }
  EXPECT_TRUE(store_.Get(controller::SessionKey("host-2")));
  // A lease the store does not know refuses the transaction: the others are still written.
  const std::vector<SwitchWrite> mixed = {record("host-0", lease->id), record("host-1", 987654),
                                          record("host-3", 0)};
  const auto results = PerformSwitchWrites(*registry_, &store_, mixed);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0]);
  EXPECT_FALSE(results[1]);
  EXPECT_TRUE(results[2]);
  EXPECT_TRUE(store_.Get(controller::SessionKey("host-0")));
  EXPECT_FALSE(store_.Get(controller::SessionKey("host-1")));
  EXPECT_TRUE(registry_->Get<v1::Switch>("host-3")->has_last_heartbeat());
}

// A Hello that changes nothing does not make its switch's heartbeat record due at once: it is
// due heartbeat_record_interval after the stored one (a restart's Hellos would otherwise queue a
// record write each).
TEST_F(DirectoryTest, AnUnchangedHelloLeavesTheHeartbeatRecordDueWhenItWas) {
  directory_ = std::make_unique<Directory>(registry_.get(), &store_,
                                           DirectoryOptions{.heartbeat_record_interval = 10s});
  Connect(1, "host-a", "192.0.2.1");  // new: the record is written with the Hello
  Disconnect(1);
  Connect(2, "host-a", "192.0.2.1");  // DOWN before: UP is written (a change)
  const int64_t revision = registry_->Revision();
  // A new directory (a restarted controller), the same switch saying Hello unchanged.
  directory_ = std::make_unique<Directory>(registry_.get(), &store_,
                                           DirectoryOptions{.heartbeat_record_interval = 10s});
  Connect(3, "host-a", "192.0.2.1");
  v1::SwitchMessage beat;
  beat.mutable_heartbeat()->set_sequence(1);
  for (auto at : {1s, 2s, 3s, 5s, 8s}) {
    SendAt(3, beat, now_ + at);
    Tick(now_ + at);
  }
  EXPECT_EQ(registry_->Revision(), revision);  // no record write: the stored one is recent
  SendAt(3, beat, now_ + 11s);
  Tick(now_ + 11s);
  EXPECT_EQ(registry_->Revision(), revision + 1);  // due again, written
  EXPECT_EQ(registry_->Get<v1::Switch>("host-a")->state(), v1::Switch::STATE_UP);
}

}  // namespace
}  // namespace dove::controller::southbound::directory_test
