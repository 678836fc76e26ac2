// The fixtures of the Directory tests: a real Registry over a MemoryStore with domain acme (d1)
// holding networks web (VNI 100, 10.0.0.0/24) and db (VNI 200, 10.1.0.0/24) and endpoints vm1,
// vm2 (web) and db1 (db); switches connected through Hello, endpoints placed as the API does,
// the store's events fed to the directory (CatchUpTest::Pump).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "controller/southbound/directory.h"
#include "store/memory_store.h"

namespace dove::controller::southbound::directory_test {

inline constexpr int kAlreadyExists = 6;
inline constexpr int kFailedPrecondition = 9;

inline v1::SwitchMessage Hello(const std::string& name, const std::string& tunnel_ip) {
  v1::SwitchMessage message;
  message.mutable_hello()->set_switch_name(name);
  message.mutable_hello()->set_tunnel_ip(tunnel_ip);
  message.mutable_hello()->set_software_version("test");
  return message;
}

inline v1::SwitchMessage Attach(const std::string& endpoint, const std::string& port,
                                uint32_t version = 0) {
  v1::SwitchMessage message;
  message.mutable_attach()->set_endpoint_id(endpoint);
  message.mutable_attach()->set_port_name(port);
  message.mutable_attach()->set_version(version);
  return message;
}

inline v1::SwitchMessage ResolveMac(uint64_t query, uint32_t vni, const std::string& mac) {
  v1::SwitchMessage message;
  message.mutable_resolve_mac()->set_query_id(query);
  message.mutable_resolve_mac()->set_vni(vni);
  message.mutable_resolve_mac()->set_mac(mac);
  return message;
}

inline v1::SwitchMessage ResolveIp(uint64_t query, uint32_t vni, const std::string& ip) {
  v1::SwitchMessage message;
  message.mutable_resolve_ip()->set_query_id(query);
  message.mutable_resolve_ip()->set_vni(vni);
  message.mutable_resolve_ip()->set_ip(ip);
  return message;
}

// The message an Outbound carries, decoded from its wire form when it has one (as the switch
// does); such an Outbound's `message` must hold the same revision (the stream's queue takes a
// batch's revision from it).
inline v1::ControllerMessage Decoded(const Outbound& each) {
  if (each.encoded.empty()) return each.message;
  v1::ControllerMessage message;
  EXPECT_TRUE(message.ParseFromString(each.encoded));
  EXPECT_EQ(each.message.revision(), message.revision()) << "the revision beside the wire form";
  return message;
}

// The messages of `out` for `session`.
inline std::vector<v1::ControllerMessage> For(const Output& out, SessionId session) {
  std::vector<v1::ControllerMessage> messages;
  for (const auto& each : out.messages) {
    if (each.session == session) messages.push_back(Decoded(each));
  }
  return messages;
}

// Those of them that are not a FloodList (which follows every change of a network's switches).
inline std::vector<v1::ControllerMessage> WithoutFloodLists(
    const std::vector<v1::ControllerMessage>& in) {
  std::vector<v1::ControllerMessage> out;
  for (const auto& message : in) {
    if (!message.has_flood_list()) out.push_back(message);
  }
  return out;
}

// The options of the tests: every change of a domain's tunnel IP set sent at once (the
// coalescing of a storm of them has its own test,
// DomainRouterTest.AStormOfDomainChangesIsCoalescedIntoOneRoundPerInterval).
inline DirectoryOptions TestOptions() {
  DirectoryOptions options;
  options.domain_round_interval = std::chrono::milliseconds(0);
  options.domain_round_per_switch = std::chrono::microseconds(0);
  return options;
}

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = controller::Registry::Open(&store_);
    ASSERT_TRUE(opened);
    registry_ = std::move(*opened);
    v1::Domain domain;
    domain.set_id("d1");
    domain.set_name("acme");
    ASSERT_TRUE(registry_->Create(domain));
    for (auto [id, name, vni, cidr] : {std::tuple{"web", "web", 100u, "10.0.0.0/24"},
                                       std::tuple{"db", "db", 200u, "10.1.0.0/24"}}) {
      v1::Network network;
      network.set_id(id);
      network.set_domain_id("d1");
      network.set_name(name);
      network.set_vni(vni);
      ASSERT_TRUE(registry_->Create(network));
      v1::Subnet subnet;
      subnet.set_id(std::string(id) + "-v4");
      subnet.set_network_id(id);
      subnet.set_cidr(cidr);
      ASSERT_TRUE(registry_->Create(subnet));
    }
    AddEndpoint("vm1", "web", "52:54:00:00:00:01", "10.0.0.11");
    AddEndpoint("vm2", "web", "52:54:00:00:00:02", "10.0.0.12");
    AddEndpoint("db1", "db", "52:54:00:00:01:01", "10.1.0.11");
    directory_ = std::make_unique<Directory>(registry_.get(), &store_, TestOptions());
  }

  void AddEndpoint(const std::string& id, const std::string& network, const std::string& mac,
                   const std::string& ip) {
    v1::Endpoint endpoint;
    endpoint.set_id(id);
    endpoint.set_network_id(network);
    endpoint.set_mac(mac);
    endpoint.add_ips(ip);
    ASSERT_TRUE(registry_->Create(endpoint));
  }

  Output Send(SessionId session, const v1::SwitchMessage& message) {
    return SendAt(session, message, now_);
  }
  Output SendAt(SessionId session, const v1::SwitchMessage& message, Clock::time_point at) {
    return Settled(directory_->OnMessage(session, message, at));
  }
  Output Disconnect(SessionId session, Clock::time_point at = Clock::now()) {
    return Settled(directory_->OnDisconnect(session, at));
  }
  Output Tick(Clock::time_point at) { return Settled(directory_->OnTick(at)); }

  // `out` with the writes it asks for performed, as SwitchService does outside its lock, and
  // what the directory answered to them appended.
  Output Settled(Output out) {
    for (size_t i = 0; i < out.registrations.size(); ++i) {
      const Registration registration = out.registrations[i];
      Append(out, directory_->OnRegistered(registration,
                                           PerformRegistration(*registry_, registration), now_));
    }
    for (size_t i = 0; i < out.endpoint_writes.size(); ++i) {
      const EndpointWrite write = out.endpoint_writes[i];
      Append(out, directory_->OnEndpointWritten(write, PerformEndpointWrite(*registry_, write)));
    }
    while (out.switch_writes) {
      out.switch_writes = false;
      for (const auto& write : directory_->TakeSwitchWrites()) {
        Append(out,
               directory_->OnSwitchWritten(write, PerformSwitchWrite(*registry_, &store_, write)));
      }
    }
    return Sent(std::move(out));
  }

  // Records the messages of `out` in sent_ (in the order the streams carry them); returns it.
  Output Sent(Output out) {
    // Messages kept in their wire form are decoded, as the switch does.
    for (auto& each : out.messages) {
      if (each.encoded.empty()) continue;
      each.message = Decoded(each);
      each.encoded.clear();
    }
    sent_.insert(sent_.end(), out.messages.begin(), out.messages.end());
    return out;
  }

  // Places `endpoint` on `switch_name` through the registry, as the REST API does (the
  // directory hears of it when a test feeds it the store's events).
  void Place(const std::string& endpoint, const std::string& switch_name) {
    auto stored = registry_->Get<v1::Endpoint>(endpoint);
    ASSERT_TRUE(stored);
    stored->set_switch_name(switch_name);
    stored->set_version(0);
    ASSERT_TRUE(registry_->Replace(endpoint, *stored));
  }

  // The endpoint placed on the switch of `session` (connected with Connect), then its Attach.
  Output Take(SessionId session, const std::string& endpoint, const std::string& port) {
    Place(endpoint, names_[session]);
    return Send(session, Attach(endpoint, port));
  }

  // Hello from switch `name` on session `session`; expects a welcome.
  void Connect(SessionId session, const std::string& name, const std::string& tunnel_ip) {
    names_[session] = name;
    auto out = Send(session, Hello(name, tunnel_ip));
    ASSERT_TRUE(out.closes.empty()) << out.closes[0].message;
    auto mine = For(out, session);
    ASSERT_FALSE(mine.empty());
    EXPECT_TRUE(mine.front().has_welcome());
    EXPECT_TRUE(mine.back().has_sync_done());
  }

  v1::ResolveReply Resolved(const Output& out, SessionId session) {
    auto mine = For(out, session);
    EXPECT_EQ(mine.size(), 1u);
    return mine.empty() ? v1::ResolveReply{} : mine[0].resolve_reply();
  }

  store::MemoryStore store_;
  std::map<SessionId, std::string> names_;  // switch names of the sessions Connect made
  std::unique_ptr<controller::Registry> registry_;
  std::unique_ptr<Directory> directory_;
  Clock::time_point now_ = Clock::now();
  std::vector<Outbound> sent_;  // every message the directory sent, in order (Settled, Pump)
};

class CatchUpTest : public DirectoryTest {
 protected:
  // Every store change since the last Pump, through OnStoreEvents.
  Output Pump() {
    auto events = store_.Changes("/dove/v1/", pumped_ + 1);
    EXPECT_TRUE(events);
    if (!events) return {};
    for (const auto& event : *events) pumped_ = std::max(pumped_, event.kv.mod_revision);
    return Sent(directory_->OnStoreEvents(*events));
  }

  static v1::SwitchMessage Rejoin(const std::string& name, const std::string& tunnel_ip,
                                  int64_t last_revision, std::vector<std::string> cached) {
    auto message = Hello(name, tunnel_ip);
    message.mutable_hello()->set_last_revision(last_revision);
    for (auto& id : cached) message.mutable_hello()->add_cached_endpoint_ids(std::move(id));
    return message;
  }

  // A, B, C connected; vm1 and vm2 on A, vm3 (web) on B; B cached vm1 and vm2. Returns B's
  // applied revision.
  int64_t Populate() {
    Connect(1, "host-a", "192.0.2.1");
    Connect(2, "host-b", "192.0.2.2");
    Connect(3, "host-c", "192.0.2.3");
    AddEndpoint("vm3", "web", "52:54:00:00:00:03", "10.0.0.13");
    Take(1, "vm1", "tap1");
    Take(1, "vm2", "tap2");
    Take(2, "vm3", "tap3");
    Pump();
    EXPECT_EQ(Resolved(Send(2, ResolveMac(1, 100, "52:54:00:00:00:01")), 2).status(),
              v1::ResolveReply::STATUS_FOUND);
    EXPECT_EQ(Resolved(Send(2, ResolveMac(2, 100, "52:54:00:00:00:02")), 2).status(),
              v1::ResolveReply::STATUS_FOUND);
    return registry_->Revision();
  }

  int64_t pumped_ = 0;
};

}  // namespace dove::controller::southbound::directory_test
