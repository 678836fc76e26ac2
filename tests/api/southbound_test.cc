// The southbound service of a real dove-controller, driven by raw gRPC clients (one stream per
// simulated switch) and, for the objects, by the REST API.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api_client.h"
#include "dove/v1/switch.grpc.pb.h"
#include "test_switch.h"

namespace dove::api_test {
namespace {

using namespace std::chrono_literals;

// The stored state of switch `name` once it is `want`, or as last seen after 5 s. The switch
// record is written after the peers are told, and a GET shows it once that write is durable
// (reads never wait for a write in flight).
std::string SwitchStateWithin5s(ApiFixture& api, const std::string& name, const std::string& want) {
  std::string seen;
  for (int i = 0; i < 500; ++i) {
    seen = api.Send("GET", "/v1/switches/" + name).Json().value("state", "");
    if (seen == want) break;
    std::this_thread::sleep_for(10ms);
  }
  return seen;
}

class SouthboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(api_.controller().southbound_port(), 0);
    Post("/v1/domains", {{"id", "d1"}, {"name", "acme"}});
    Post("/v1/networks", {{"id", "web"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", 100}});
    Post("/v1/networks", {{"id", "db"}, {"domain_id", "d1"}, {"name", "db"}, {"vni", 200}});
    Post("/v1/subnets", {{"id", "web4"}, {"network_id", "web"}, {"cidr", "10.0.0.0/24"}});
    Post("/v1/subnets", {{"id", "db4"}, {"network_id", "db"}, {"cidr", "10.1.0.0/24"}});
    Post("/v1/endpoints", {{"id", "vm1"},
                           {"network_id", "web"},
                           {"mac", "52:54:00:00:00:01"},
                           {"ips", {"10.0.0.11"}}});
    Post("/v1/endpoints", {{"id", "db1"},
                           {"network_id", "db"},
                           {"mac", "52:54:00:00:01:01"},
                           {"ips", {"10.1.0.11"}}});
  }

  void Post(const std::string& path, const json& body) {
    const Reply reply = api_.Send("POST", path, body.dump());
    ASSERT_EQ(reply.status, 201) << path << ": " << reply.body;
  }

  std::unique_ptr<TestSwitch> NewSwitch() {
    return std::make_unique<TestSwitch>(api_.controller().southbound_port());
  }

  // Places `endpoint` (of `network`) on switch `name` through the REST API: how an endpoint is
  // put on a switch, or moved to another one.
  void Place(const std::string& endpoint, const std::string& network, const std::string& name) {
    const Reply reply = api_.Send("PUT", "/v1/endpoints/" + endpoint,
                                  json{{"network_id", network}, {"switch_name", name}}.dump());
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Placed through the API, then attached by `sw`: the acknowledgement.
  std::optional<v1::Location> PlaceAndAttach(TestSwitch& sw, const std::string& endpoint,
                                             const std::string& network, const std::string& name) {
    Place(endpoint, network, name);
    return sw.Attach(endpoint);
  }

  // Gives switch `name` a port in `network` (a new endpoint placed on it through the API), so
  // that it may resolve there, and waits for the network's config to reach it.
  void Serve(TestSwitch& sw, const std::string& name, const std::string& network) {
    Post("/v1/endpoints",
         {{"id", "port-" + name + "-" + network}, {"network_id", network}, {"switch_name", name}});
    ASSERT_TRUE(sw.ReadUntil([&](const auto& m) {
      return m.has_network_config() && m.network_config().network().id() == network;
    })) << name
        << " got no config of " << network;
  }

  // The value of the metrics line that starts with `series` (-1 when absent).
  long long Metric(const std::string& series) {
    const std::string text = api_.Send("GET", "/metrics").body;
    const size_t at = text.find(series + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + series.size() + 1));
  }

  ApiFixture api_;
};

TEST_F(SouthboundTest, HelloIsWelcomedAndRegistersTheSwitch) {
  auto a = NewSwitch();
  auto welcome = a->Hello("host-a", "192.0.2.1");
  ASSERT_TRUE(welcome);
  EXPECT_FALSE(welcome->switch_id().empty());
  EXPECT_GT(welcome->heartbeat_interval_ms(), 0u);
  const Reply listed = api_.Send("GET", "/v1/switches/host-a");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Json()["tunnel_ip"], "192.0.2.1");
  EXPECT_EQ(listed.Json()["state"], "STATE_UP");
}

TEST_F(SouthboundTest, ResolveBeforeHelloEndsTheStream) {
  auto a = NewSwitch();
  v1::SwitchMessage resolve;
  resolve.mutable_resolve_mac()->set_vni(100);
  resolve.mutable_resolve_mac()->set_mac("52:54:00:00:00:01");
  a->Write(resolve);
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(SouthboundTest, OversizedMessageEndsTheStream) {
  auto a = NewSwitch();
  v1::SwitchMessage hello;
  hello.mutable_hello()->set_switch_name("host-a");
  hello.mutable_hello()->set_software_version(std::string(size_t{2} * 1024 * 1024, 'x'));
  a->Write(hello);
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The controller still serves others.
  auto b = NewSwitch();
  EXPECT_TRUE(b->Hello("host-b", "192.0.2.2"));
}

TEST_F(SouthboundTest, DuplicateTunnelIpIsRefusedAndTheOtherSwitchUndisturbed) {
  auto a = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  auto b = NewSwitch();
  v1::SwitchMessage hello;
  hello.mutable_hello()->set_switch_name("host-b");
  hello.mutable_hello()->set_tunnel_ip("192.0.2.1");
  b->Write(hello);
  auto refusal = b->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error().code(), "conflict");
  EXPECT_EQ(b->Finish().error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(api_.controller().Log().find("refused the Hello of switch host-b: conflict"),
            std::string::npos)
      << api_.controller().Log();
  ASSERT_TRUE(PlaceAndAttach(*a, "vm1", "web", "host-a"));
  auto found = a->ResolveMac(1, 100, "52:54:00:00:00:01");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status(), v1::ResolveReply::STATUS_FOUND);
}

TEST_F(SouthboundTest, AttachThenResolveFromAnotherSwitch) {
  auto a = NewSwitch();
  auto b = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b->Hello("host-b", "192.0.2.2"));
  auto attached = PlaceAndAttach(*a, "vm1", "web", "host-a");
  ASSERT_TRUE(attached);
  EXPECT_EQ(attached->switch_name(), "host-a");
  Serve(*b, "host-b", "web");
  auto reply = b->ResolveIp(7, 100, "10.0.0.11");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(reply->location().tunnel_ip(), "192.0.2.1");
  EXPECT_EQ(reply->location().mac(), "52:54:00:00:00:01");
  const Reply stored = api_.Send("GET", "/v1/endpoints/vm1");
  EXPECT_EQ(stored.Json()["switch_name"], "host-a");
  EXPECT_EQ(stored.Json()["port_name"], "tap-vm1");
}

TEST_F(SouthboundTest, ResolveInAnUnknownNetworkIsRefused) {
  auto a = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  v1::SwitchMessage resolve;
  resolve.mutable_resolve_mac()->set_query_id(3);
  resolve.mutable_resolve_mac()->set_vni(999);
  resolve.mutable_resolve_mac()->set_mac("52:54:00:00:00:01");
  a->Write(resolve);
  auto refusal = a->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error().code(), "not_found");
  EXPECT_EQ(refusal->error().query_id(), 3u);
}

TEST_F(SouthboundTest, ResolveDeniedByPolicy) {
  auto a = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  Serve(*a, "host-a", "web");
  auto reply = a->ResolveIp(4, 100, "10.1.0.11");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status(), v1::ResolveReply::STATUS_DENIED);
  EXPECT_FALSE(reply->reason().empty());
}

// The distributed router's view over the wire (issue 14): a switch with a port only in web gets
// every subnet of its domain with its network's VNI and the tunnel IPs of the domain's other
// switches (db's), follows their changes, resolves across networks when a policy could allow
// traffic either way; another tenant's subnets, switches and addresses never show.
TEST_F(SouthboundTest, TheDistributedRouterSeesItsWholeDomainAndNothingElse) {
  Post("/v1/domains", {{"id", "d2"}, {"name", "other"}});
  Post("/v1/networks", {{"id", "far"}, {"domain_id", "d2"}, {"name", "far"}, {"vni", 400}});
  Post("/v1/subnets", {{"id", "far4"}, {"network_id", "far"}, {"cidr", "10.0.0.0/24"}});
  Post("/v1/subnets", {{"id", "far9"}, {"network_id", "far"}, {"cidr", "10.9.0.0/24"}});
  Post("/v1/endpoints", {{"id", "far1"}, {"network_id", "far"}, {"ips", {"10.9.0.5"}}});
  auto a = NewSwitch();
  auto b = NewSwitch();
  auto far = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b->Hello("host-b", "192.0.2.2"));
  ASSERT_TRUE(far->Hello("host-far", "192.0.2.9"));
  std::vector<v1::ControllerMessage> seen;  // what host-a read (but resolve replies)
  auto read_a = [&](const std::function<bool(const v1::ControllerMessage&)>& want) {
    return a->ReadUntil([&](const v1::ControllerMessage& m) {
      seen.push_back(m);
      return want(m);
    });
  };
  auto config_of = [](const std::string& network) {
    return [network](const v1::ControllerMessage& m) {
      return m.has_network_config() && m.network_config().network().id() == network;
    };
  };
  auto routes = [](const v1::NetworkConfig& config) {
    std::set<std::string> out;
    for (const auto& subnet : config.domain_subnets()) {
      out.insert(subnet.cidr() + " " + std::to_string(subnet.vni()) + " " + subnet.network_id());
    }
    return out;
  };

  Place("far1", "far", "host-far");
  auto far_config = far->ReadUntil(config_of("far"));
  ASSERT_TRUE(far_config);
  EXPECT_EQ(routes(far_config->network_config()),
            (std::set<std::string>{"10.0.0.0/24 400 far", "10.9.0.0/24 400 far"}));
  EXPECT_EQ(far_config->network_config().domain_tunnel_ips_size(), 0);

  Place("vm1", "web", "host-a");
  ASSERT_TRUE(read_a(config_of("web")));
  Place("db1", "db", "host-b");
  ASSERT_TRUE(b->ReadUntil(config_of("db")));
  auto flood = read_a([](const auto& m) {
    return m.has_flood_list() && m.flood_list().domain_tunnel_ips_added_size() == 1;
  });
  ASSERT_TRUE(flood) << "host-a did not hear of host-b's first port in the domain";
  EXPECT_EQ(flood->flood_list().vni(), 100u);
  EXPECT_EQ(flood->flood_list().domain_tunnel_ips_added(0), "192.0.2.2") << "the change only";
  EXPECT_EQ(flood->flood_list().domain_tunnel_ips_removed_size(), 0);
  EXPECT_EQ(flood->flood_list().tunnel_ips_size(), 0) << "host-b has no port in web";

  // A subnet added to db reaches host-a, which has no port in db: the change only.
  Post("/v1/subnets", {{"id", "db6"}, {"network_id", "db"}, {"cidr", "2001:db8:1::/64"}});
  auto change = read_a([](const auto& m) { return m.has_domain_routes(); });
  ASSERT_TRUE(change) << "db's new subnet did not reach host-a";
  EXPECT_EQ(change->domain_routes().domain_id(), "d1");
  ASSERT_EQ(change->domain_routes().added_size(), 1);
  EXPECT_EQ(change->domain_routes().added(0).cidr(), "2001:db8:1::/64");
  EXPECT_EQ(change->domain_routes().added(0).vni(), 200u);
  EXPECT_EQ(change->domain_routes().added(0).network_id(), "db");
  EXPECT_EQ(change->domain_routes().removed_size(), 0);

  // ResolveIp across the domain: DENIED without a policy, FOUND with an ALLOW of TCP 443 only,
  // from both sides (the replies).
  auto reply = a->ResolveIp(1, 100, "10.1.0.11");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status(), v1::ResolveReply::STATUS_DENIED);
  Post("/v1/policies", {{"domain_id", "d1"},
                        {"source_network_id", "web"},
                        {"destination_network_id", "db"},
                        {"action", "ACTION_ALLOW"},
                        {"protocol", 6},
                        {"port_range", {{"first", 443}, {"last", 443}}}});
  reply = a->ResolveIp(2, 100, "10.1.0.11");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status(), v1::ResolveReply::STATUS_FOUND) << reply->reason();
  EXPECT_EQ(reply->location().endpoint_id(), "db1");
  EXPECT_EQ(reply->location().vni(), 200u);
  EXPECT_EQ(reply->location().tunnel_ip(), "192.0.2.2");
  reply = b->ResolveIp(3, 200, "10.0.0.11");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status(), v1::ResolveReply::STATUS_FOUND) << reply->reason();
  EXPECT_EQ(reply->location().endpoint_id(), "vm1");
  // Another tenant's address: the answer for an address nobody holds, word for word.
  auto elsewhere = a->ResolveIp(4, 100, "10.9.0.5");
  auto nowhere = a->ResolveIp(5, 100, "10.9.0.6");
  ASSERT_TRUE(elsewhere && nowhere);
  EXPECT_EQ(elsewhere->status(), v1::ResolveReply::STATUS_NOT_FOUND);
  EXPECT_EQ(nowhere->status(), v1::ResolveReply::STATUS_NOT_FOUND);
  std::string expected = nowhere->reason();
  expected.replace(expected.find("10.9.0.6"), 8, "10.9.0.5");
  EXPECT_EQ(elsewhere->reason(), expected);

  // host-b going DOWN leaves host-a's domain set.
  b->Close();
  flood = read_a([](const auto& m) {
    return m.has_flood_list() && m.flood_list().domain_tunnel_ips_removed_size() == 1;
  });
  ASSERT_TRUE(flood) << "host-b, DOWN, is still in host-a's domain set";
  EXPECT_EQ(flood->flood_list().domain_tunnel_ips_removed(0), "192.0.2.2");
  EXPECT_EQ(flood->flood_list().domain_tunnel_ips_added_size(), 0);

  for (const auto& message : seen) {
    const std::string text = message.DebugString();
    for (const char* foreign : {"192.0.2.9", "10.9.0.", "\"far\"", "vni: 400"}) {
      EXPECT_EQ(text.find(foreign), std::string::npos) << foreign << " in " << text;
    }
  }
  EXPECT_GE(seen.size(), 4u);
}

TEST_F(SouthboundTest, MigrationReachesCachersAndTheSwitchItLeft) {
  auto a = NewSwitch();
  auto b = NewSwitch();
  auto c = NewSwitch();
  auto d = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b->Hello("host-b", "192.0.2.2"));
  ASSERT_TRUE(c->Hello("host-c", "192.0.2.3"));
  ASSERT_TRUE(d->Hello("host-d", "192.0.2.4"));
  auto first = PlaceAndAttach(*a, "vm1", "web", "host-a");
  ASSERT_TRUE(first);
  Serve(*b, "host-b", "web");
  Serve(*c, "host-c", "web");
  ASSERT_EQ(b->ResolveMac(1, 100, "52:54:00:00:00:01")->status(), v1::ResolveReply::STATUS_FOUND);
  ASSERT_EQ(c->ResolveIp(1, 100, "10.0.0.11")->status(), v1::ResolveReply::STATUS_FOUND);

  // The move is made through the API; D's attach then records its port.
  auto moved_to_d = PlaceAndAttach(*d, "vm1", "web", "host-d");
  ASSERT_TRUE(moved_to_d);
  EXPECT_GT(moved_to_d->version(), first->version());
  for (TestSwitch* cacher : {b.get(), c.get()}) {
    auto update = cacher->ReadUntil([&](const auto& m) {
      return m.has_location_update() &&
             m.location_update().location().version() == moved_to_d->version();
    });
    ASSERT_TRUE(update);
    EXPECT_EQ(update->location_update().location().tunnel_ip(), "192.0.2.4");
    EXPECT_EQ(update->location_update().location().version(), moved_to_d->version());
  }
  auto moved = a->ReadUntil([](const auto& m) { return m.has_endpoint_moved(); });
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->endpoint_moved().location().switch_name(), "host-d");
}

TEST_F(SouthboundTest, RestChangesReachTheSwitchesThatCachedTheEndpoint) {
  auto a = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  Serve(*a, "host-a", "web");
  auto found = a->ResolveMac(1, 100, "52:54:00:00:00:01");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->status(), v1::ResolveReply::STATUS_FOUND);
  const int64_t before = found->location().version();

  json replacement = {{"network_id", "web"}, {"mac", "52:54:00:00:00:01"}, {"ips", {"10.0.0.50"}}};
  const Reply replaced = api_.Send("PUT", "/v1/endpoints/vm1", replacement.dump());
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  auto update = a->ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().endpoint_id() == "vm1";
  });
  ASSERT_TRUE(update);
  EXPECT_EQ(update->location_update().location().ips(0), "10.0.0.50");
  EXPECT_GT(update->location_update().location().version(), before);
  const int64_t update_revision = update->revision();

  ASSERT_EQ(api_.Send("DELETE", "/v1/endpoints/vm1").status, 200);
  auto invalidate = a->ReadUntil([](const auto& m) { return m.has_invalidate(); });
  ASSERT_TRUE(invalidate);
  EXPECT_EQ(invalidate->invalidate().endpoint_id(), "vm1");
  EXPECT_GT(invalidate->revision(), update_revision);

  // A new endpoint is found by the next resolve.
  Post("/v1/endpoints", {{"id", "vm9"}, {"network_id", "web"}, {"mac", "52:54:00:00:00:09"}});
  auto created = a->ResolveMac(2, 100, "52:54:00:00:00:09");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status(), v1::ResolveReply::STATUS_FOUND);
}

// Over the wire: flood lists follow placement; a stale-version attach and a detach by a switch
// that does not hold the endpoint are refused; a detach is acknowledged and reaches cachers; a
// Hello with a multicast tunnel IP or an unknown protocol version ends only that stream; a
// network deleted through REST is NetworkRemoved for the switch that carries it.
TEST_F(SouthboundTest, DetachFloodListsRefusalsAndNetworkRemovalOverTheWire) {
  Post(
      "/v1/endpoints",
      {{"id", "vm2"}, {"network_id", "web"}, {"mac", "52:54:00:00:00:02"}, {"ips", {"10.0.0.12"}}});
  auto a = NewSwitch();
  auto b = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b->Hello("host-b", "192.0.2.2"));
  auto vm1 = PlaceAndAttach(*a, "vm1", "web", "host-a");
  ASSERT_TRUE(vm1);
  ASSERT_TRUE(PlaceAndAttach(*b, "vm2", "web", "host-b"));
  // B joined web after A: A's flood list for VNI 100 now names B's tunnel IP.
  auto flood = a->ReadUntil(
      [](const auto& m) { return m.has_flood_list() && m.flood_list().tunnel_ips_size() == 1; });
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood->flood_list().vni(), 100u);
  EXPECT_EQ(flood->flood_list().tunnel_ips(0), "192.0.2.2");

  v1::SwitchMessage stale;
  stale.mutable_attach()->set_endpoint_id("vm1");
  stale.mutable_attach()->set_port_name("tap-x");
  stale.mutable_attach()->set_version(vm1->version() + 5);
  ASSERT_TRUE(b->Write(stale));
  auto refused = b->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error().code(), "conflict");
  EXPECT_EQ(refused->error().endpoint_id(), "vm1");

  v1::SwitchMessage not_mine;
  not_mine.mutable_detach()->set_endpoint_id("vm1");
  ASSERT_TRUE(b->Write(not_mine));
  refused = b->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error().code(), "not_found");

  ASSERT_EQ(b->ResolveMac(9, 100, "52:54:00:00:00:01")->status(), v1::ResolveReply::STATUS_FOUND);
  v1::SwitchMessage detach;
  detach.mutable_detach()->set_endpoint_id("vm1");
  ASSERT_TRUE(a->Write(detach));
  auto ack = a->ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().switch_name().empty();
  });
  ASSERT_TRUE(ack) << "the detach was not acknowledged";
  auto told = b->ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().endpoint_id() == "vm1";
  });
  ASSERT_TRUE(told);
  EXPECT_TRUE(told->location_update().location().tunnel_ip().empty());
  EXPECT_EQ(api_.Send("GET", "/v1/endpoints/vm1").Json()["switch_name"], "");

  auto bad_ip = NewSwitch();
  v1::SwitchMessage hello;
  hello.mutable_hello()->set_switch_name("host-x");
  hello.mutable_hello()->set_tunnel_ip("224.0.0.1");
  ASSERT_TRUE(bad_ip->Write(hello));
  auto why = bad_ip->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(why);
  EXPECT_EQ(why->error().code(), "invalid_value");
  EXPECT_EQ(bad_ip->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto future = NewSwitch();
  hello.mutable_hello()->set_tunnel_ip("192.0.2.9");
  hello.mutable_hello()->set_protocol_version(2);
  ASSERT_TRUE(future->Write(hello));
  auto version_refusal = future->ReadUntil([](const auto& m) { return m.has_error(); });
  ASSERT_TRUE(version_refusal) << "no Refusal before the stream ended";
  EXPECT_EQ(version_refusal->error().code(), "failed_precondition");
  EXPECT_EQ(future->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(api_.controller().Log().find("refused the Hello of switch host-x: failed_precondition"),
            std::string::npos)
      << api_.controller().Log();
  EXPECT_EQ(api_.Send("GET", "/v1/switches/host-x").status, 404);

  ASSERT_EQ(api_.Send("DELETE", "/v1/networks/web?force=true").status, 200);
  auto removed = b->ReadUntil([](const auto& m) { return m.has_network_removed(); });
  ASSERT_TRUE(removed) << "B carries web (vm2) and was not told it is gone";
  EXPECT_EQ(removed->network_removed().network_id(), "web");
  EXPECT_EQ(removed->network_removed().vni(), 100u);
}

// Heartbeats stop (the stream stays open): DOWN within the dead-after time (plus the 200 ms tick),
// a peer caching one of its endpoints is told and its flood list leaves it out; a heartbeat
// brings it back UP and the peer hears that too.
TEST(SouthboundLivenessTest, MissedHeartbeatsShowAsDownInTheApiUntilTheSwitchBeats) {
  ApiFixture api({"--switch-dead-after-ms", "600"});
  api.Send("POST", "/v1/domains", json{{"id", "d1"}, {"name", "acme"}}.dump());
  api.Send("POST", "/v1/networks",
           json{{"id", "web"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", 100}}.dump());
  api.Send("POST", "/v1/subnets",
           json{{"id", "web4"}, {"network_id", "web"}, {"cidr", "10.0.0.0/24"}}.dump());
  for (const auto& [id, host] : {std::pair{"vm1", "host-a"}, std::pair{"vm2", "host-b"}}) {
    const Reply made =
        api.Send("POST", "/v1/endpoints",
                 json{{"id", id}, {"network_id", "web"}, {"switch_name", host}}.dump());
    ASSERT_EQ(made.status, 201) << made.body;
  }
  TestSwitch a(api.controller().southbound_port());
  TestSwitch b(api.controller().southbound_port());
  ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b.Hello("host-b", "192.0.2.2"));
  const std::string mac = api.Send("GET", "/v1/endpoints/vm1").Json()["mac"].get<std::string>();
  ASSERT_EQ(b.ResolveMac(1, 100, mac)->status(), v1::ResolveReply::STATUS_FOUND);
  auto state = [&](const std::string& want) { return SwitchStateWithin5s(api, "host-a", want); };
  EXPECT_EQ(state("STATE_UP"), "STATE_UP");

  // A says nothing more; B beats every 100 ms and watches for the news.
  const auto silent_from = std::chrono::steady_clock::now();
  bool told = false;
  bool flood_without_a = false;
  for (uint64_t sequence = 1; !(told && flood_without_a) && sequence < 50; ++sequence) {
    for (const auto& message : b.Beat(sequence)) {
      told |= message.has_location_update() && message.location_update().location().switch_down();
      flood_without_a |= message.has_flood_list() && message.flood_list().tunnel_ips_size() == 0;
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - silent_from);
  std::printf("heartbeats stopped to DOWN seen by the peer: %lld ms (dead after 600 ms)\n",
              static_cast<long long>(took.count()));
  EXPECT_TRUE(told) << "the peer caching vm1 was not told host-a is down";
  EXPECT_TRUE(flood_without_a) << "host-a is still in the peer's flood list";
  ASSERT_EQ(state("STATE_DOWN"), "STATE_DOWN");
  EXPECT_NE(api.controller().Log().find("switch host-a is DOWN: nothing heard for"),
            std::string::npos)
      << api.controller().Log();

  ASSERT_FALSE(a.Beat(1).empty());
  EXPECT_EQ(state("STATE_UP"), "STATE_UP");
  auto up = b.ReadUntil([](const auto& m) {
    return m.has_location_update() && !m.location_update().location().switch_down();
  });
  ASSERT_TRUE(up) << "the peer was not told host-a is back";
}

// Tenancy: host-x has valid credentials and serves its own tenant's network (evil, VNI 300), but
// no port in web (acme's). It cannot resolve in web, learn an endpoint of it from a Hello, take
// one with an Attach, nor detach one; what it hears is what it hears of things that do not
// exist; every refusal is counted per switch and logged. A move authorized through the API
// works, and hands it web's configuration only then.
TEST_F(SouthboundTest, ASwitchWithoutAPortInTheNetworkCannotResolveLearnSubscribeOrMove) {
  Post("/v1/domains", {{"id", "d2"}, {"name", "other"}});
  Post("/v1/networks", {{"id", "evil"}, {"domain_id", "d2"}, {"name", "evil"}, {"vni", 300}});
  Post("/v1/subnets", {{"id", "evil4"}, {"network_id", "evil"}, {"cidr", "10.9.0.0/24"}});
  auto a = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(PlaceAndAttach(*a, "vm1", "web", "host-a"));
  auto x = NewSwitch();
  ASSERT_TRUE(x->Hello("host-x", "192.0.2.66"));
  Serve(*x, "host-x", "evil");
  ASSERT_EQ(x->ResolveIp(1, 300, "10.0.0.11")->status(), v1::ResolveReply::STATUS_NOT_FOUND);

  // Resolve: an existing VNI and address of another tenant, and a VNI that does not exist, get
  // the same refusal (but for the VNI they name).
  auto refusal_of = [&](const v1::SwitchMessage& message) {
    EXPECT_TRUE(x->Write(message));
    auto got = x->ReadUntil([](const auto& m) { return m.has_error(); });
    EXPECT_TRUE(got);
    return got ? *got : v1::ControllerMessage{};
  };
  v1::SwitchMessage resolve;
  resolve.mutable_resolve_mac()->set_query_id(5);
  resolve.mutable_resolve_mac()->set_vni(100);
  resolve.mutable_resolve_mac()->set_mac("52:54:00:00:00:01");
  const auto existing = refusal_of(resolve);
  resolve.mutable_resolve_mac()->set_vni(999);
  const auto missing = refusal_of(resolve);
  v1::SwitchMessage by_ip;
  by_ip.mutable_resolve_ip()->set_query_id(5);
  by_ip.mutable_resolve_ip()->set_vni(100);
  by_ip.mutable_resolve_ip()->set_ip("10.0.0.11");
  const auto existing_ip = refusal_of(by_ip);
  EXPECT_EQ(existing.error().code(), "not_found");
  EXPECT_EQ(existing.error().query_id(), 5u);
  std::string shown = missing.error().message();
  shown.replace(shown.find("999"), 3, "100");
  EXPECT_EQ(existing.error().message(), shown);
  EXPECT_EQ(existing.error().SerializeAsString(), existing_ip.error().SerializeAsString());

  // Attach (a move it was not given) and detach: as for an endpoint that does not exist.
  EXPECT_FALSE(x->Attach("vm1"));
  const v1::Refusal taken = x->last_refusal();
  EXPECT_FALSE(x->Attach("no-such-vm"));
  EXPECT_EQ(taken.code(), "not_found");
  std::string unknown = x->last_refusal().message();
  unknown.replace(unknown.find("no-such-vm"), 10, "vm1");
  EXPECT_EQ(taken.message(), unknown);
  v1::SwitchMessage detach;
  detach.mutable_detach()->set_endpoint_id("vm1");
  EXPECT_EQ(refusal_of(detach).error().code(), "not_found");
  const Reply stored = api_.Send("GET", "/v1/endpoints/vm1");
  EXPECT_EQ(stored.Json()["switch_name"], "host-a");
  EXPECT_EQ(stored.Json()["port_name"], "tap-vm1");

  // Subscribe: a Hello listing vm1 as cached gets no location of it, and later changes of vm1
  // do not reach it.
  x.reset();
  auto x2 = NewSwitch();
  const auto caught_up = x2->Rejoin("host-x", "192.0.2.66", {"vm1"});
  ASSERT_FALSE(caught_up.empty());
  for (const auto& message : caught_up) {
    EXPECT_FALSE(message.has_location_update() &&
                 message.location_update().location().endpoint_id() == "vm1");
    EXPECT_FALSE(message.has_network_config() && message.network_config().network().id() == "web");
  }
  const Reply moved_ip = api_.Send("PUT", "/v1/endpoints/vm1",
                                   json{{"network_id", "web"},
                                        {"switch_name", "host-a"},
                                        {"port_name", "tap-vm1"},
                                        {"ips", {"10.0.0.77"}}}
                                       .dump());
  ASSERT_EQ(moved_ip.status, 200) << moved_ip.body;
  ASSERT_TRUE(a->ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().ips(0) == "10.0.0.77";
  }));
  for (const auto& message : x2->Beat(1)) {  // anything sent before the heartbeat's answer
    EXPECT_FALSE(message.has_location_update()) << message.DebugString();
  }

  // Counted per switch and kind, and logged.
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-x",kind="resolve"})"), 3);
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-x",kind="attach"})"), 2);
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-x",kind="detach"})"), 1);
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-x",kind="subscribe"})"), 1);
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-a",kind="resolve"})"), -1);
  EXPECT_NE(api_.controller().Log().find("refused resolve from switch host-x: VNI 100"),
            std::string::npos)
      << api_.controller().Log();

  // The move, authorized through the API: the attach works and brings web's configuration.
  Place("vm1", "web", "host-x");
  auto config = x2->ReadUntil([](const auto& m) {
    return m.has_network_config() && m.network_config().network().id() == "web";
  });
  ASSERT_TRUE(config);
  auto moved = x2->Attach("vm1");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->switch_name(), "host-x");
  EXPECT_EQ(moved->tunnel_ip(), "192.0.2.66");
  auto left = a->ReadUntil([](const auto& m) { return m.has_endpoint_moved(); });
  ASSERT_TRUE(left);
  EXPECT_EQ(left->endpoint_moved().location().switch_name(), "host-x");
}

// A switch that serves the network may not move an endpoint to itself either: the refusal says
// how to authorize the move, and nothing changes.
TEST_F(SouthboundTest, AnUnauthorizedMoveWithinTheTenantIsRefused) {
  Post(
      "/v1/endpoints",
      {{"id", "vm2"}, {"network_id", "web"}, {"mac", "52:54:00:00:00:02"}, {"ips", {"10.0.0.12"}}});
  auto a = NewSwitch();
  auto b = NewSwitch();
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b->Hello("host-b", "192.0.2.2"));
  ASSERT_TRUE(PlaceAndAttach(*a, "vm1", "web", "host-a"));
  ASSERT_TRUE(PlaceAndAttach(*b, "vm2", "web", "host-b"));
  EXPECT_FALSE(b->Attach("vm1"));
  EXPECT_EQ(b->last_refusal().code(), "permission_denied");
  EXPECT_NE(b->last_refusal().message().find("through the API"), std::string::npos);
  EXPECT_EQ(api_.Send("GET", "/v1/endpoints/vm1").Json()["switch_name"], "host-a");
  EXPECT_EQ(Metric(R"(dove_southbound_refused_total{switch="host-b",kind="attach"})"), 1);
}

// Liveness over the wire: a stream that ends marks the switch DOWN at once (a peer caching its
// endpoint is told, its flood list leaves it out), LAST_HEARTBEAT is set, and the switch is UP
// again when it says Hello.
TEST(SouthboundLivenessTest, AStreamThatEndsIsDownAndPeersAreToldUntilItReconnects) {
  ApiFixture api({"--switch-dead-after-ms", "3000"});
  api.Send("POST", "/v1/domains", json{{"id", "d1"}, {"name", "acme"}}.dump());
  api.Send("POST", "/v1/networks",
           json{{"id", "web"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", 100}}.dump());
  api.Send("POST", "/v1/subnets",
           json{{"id", "web4"}, {"network_id", "web"}, {"cidr", "10.0.0.0/24"}}.dump());
  for (const auto& [id, host] : {std::pair{"vm1", "host-a"}, std::pair{"vm2", "host-b"}}) {
    const Reply made =
        api.Send("POST", "/v1/endpoints",
                 json{{"id", id}, {"network_id", "web"}, {"switch_name", host}}.dump());
    ASSERT_EQ(made.status, 201) << made.body;
  }
  auto state = [&](const std::string& want) { return SwitchStateWithin5s(api, "host-a", want); };
  auto a = std::make_unique<TestSwitch>(api.controller().southbound_port());
  TestSwitch b(api.controller().southbound_port());
  ASSERT_TRUE(a->Hello("host-a", "192.0.2.1"));
  ASSERT_TRUE(b.Hello("host-b", "192.0.2.2"));
  const std::string mac = api.Send("GET", "/v1/endpoints/vm1").Json()["mac"].get<std::string>();
  auto found = b.ResolveMac(1, 100, mac);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->status(), v1::ResolveReply::STATUS_FOUND);
  EXPECT_EQ(state("STATE_UP"), "STATE_UP");
  EXPECT_FALSE(api.Send("GET", "/v1/switches/host-a").Json().value("last_heartbeat", "").empty());

  const auto ended = std::chrono::steady_clock::now();
  a->Close();
  a.reset();
  auto down = b.ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().switch_down();
  });
  ASSERT_TRUE(down) << "the peer caching vm1 was not told host-a is down";
  auto flood = b.ReadUntil([](const auto& m) { return m.has_flood_list(); });
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood->flood_list().tunnel_ips_size(), 0) << "host-a is still in the flood list";
  EXPECT_EQ(state("STATE_DOWN"), "STATE_DOWN");
  std::printf("stream end to DOWN seen by the peer: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - ended)
                                         .count()));
  EXPECT_NE(api.controller().Log().find("switch host-a is DOWN: its stream ended"),
            std::string::npos)
      << api.controller().Log();

  TestSwitch again(api.controller().southbound_port());
  ASSERT_TRUE(again.Hello("host-a", "192.0.2.1"));
  EXPECT_EQ(state("STATE_UP"), "STATE_UP");
  auto up = b.ReadUntil([](const auto& m) {
    return m.has_location_update() && !m.location_update().location().switch_down();
  });
  ASSERT_TRUE(up) << "the peer was not told host-a is back";
  auto back = b.ReadUntil([](const auto& m) { return m.has_flood_list(); });
  ASSERT_TRUE(back);
  ASSERT_EQ(back->flood_list().tunnel_ips_size(), 1);
  EXPECT_EQ(back->flood_list().tunnel_ips(0), "192.0.2.1");
}

}  // namespace
}  // namespace dove::api_test
