// Create, list, get, replace and delete every kind over HTTP against a real dove-controller;
// filters, headers, force cascades, and persistence across a clean restart.
#include <sys/wait.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "api/api_client.h"

namespace dove::api_test {
namespace {

// One domain "acme" with networks web (n1) and db (n2), a subnet on each, an endpoint on
// web, a switch and a policy web -> db.
void Populate(const ApiFixture& api) {
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  api.Create("networks", {{"id", "n2"}, {"domain_id", "d1"}, {"name", "db"}, {"vni", 500}});
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}});
  api.Create("subnets", {{"id", "s2"}, {"network_id", "n2"}, {"cidr", "10.1.0.0/24"}});
  api.Create("switches", {{"id", "sw1"}, {"name", "host1"}, {"tunnel_ip", "192.0.2.1"}});
  api.Create("endpoints", {{"id", "e1"}, {"network_id", "n1"}, {"switch_name", "host1"}});
  api.Create("policies", {{"id", "p1"},
                          {"domain_id", "d1"},
                          {"source_network_id", "n1"},
                          {"destination_network_id", "n2"},
                          {"action", "ACTION_ALLOW"}});
}

std::vector<std::string> Ids(const Reply& reply) {
  std::vector<std::string> ids;
  const json value = reply.Json();
  if (!value.contains("items")) return ids;
  for (const auto& item : value["items"]) ids.push_back(item["id"].get<std::string>());
  return ids;
}

TEST(ApiCrudTest, CreateFillsControllerFieldsAndSetsHeaders) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const int64_t before = api.Revision();
  const Reply domain = api.Send("POST", "/v1/domains", R"({"name":"acme"})");
  ASSERT_EQ(domain.status, 201) << domain.body;
  const std::string id = domain.Json()["id"].get<std::string>();
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(domain.Header("Location"), "/v1/domains/" + id);
  EXPECT_EQ(std::stoll(domain.Header("X-Dove-Revision")), before + 1);
  EXPECT_EQ(api.Revision(), before + 1);

  const json network = api.Create("networks", {{"domain_id", id}, {"name", "web"}});
  EXPECT_GE(network["vni"].get<int64_t>(), 1);
  api.Create("subnets", {{"network_id", network["id"]}, {"cidr", "10.0.0.0/24"}});
  const json endpoint = api.Create("endpoints", {{"network_id", network["id"]}});
  EXPECT_FALSE(endpoint["mac"].get<std::string>().empty());
  ASSERT_EQ(endpoint["ips"].size(), 1U);
  EXPECT_EQ(endpoint["ips"][0].get<std::string>().rfind("10.0.0.", 0), 0U);
  EXPECT_EQ(endpoint["version"], 1);
  // The whole object, every field, as stored.
  for (const char* field :
       {"id", "network_id", "mac", "ips", "switch_name", "port_name", "port_kind"}) {
    EXPECT_TRUE(endpoint.contains(field)) << field;
  }
}

// port_kind by name: PORT_KIND_PACKET with the interface's name is stored and shown; without a
// name, by number or by an unknown name it is refused (400 invalid_value) and nothing changes.
TEST(ApiCrudTest, APacketPortNeedsItsInterfacesNameAndTheKindByName) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  const json packet = api.Create("endpoints", {{"network_id", "n1"},
                                               {"switch_name", "host1"},
                                               {"port_name", "vnet3"},
                                               {"port_kind", "PORT_KIND_PACKET"}});
  EXPECT_EQ(packet["port_kind"], "PORT_KIND_PACKET");
  EXPECT_EQ(packet["port_name"], "vnet3");
  const int64_t before = api.Revision();
  const std::vector<std::pair<json, std::string>> refused = {
      {{{"network_id", "n1"}, {"port_kind", "PORT_KIND_PACKET"}}, "needs a port_name"},
      {{{"network_id", "n1"}, {"port_name", "vnet4"}, {"port_kind", 2}}, "port_kind"},
      {{{"network_id", "n1"}, {"port_name", "vnet4"}, {"port_kind", "PORT_KIND_VETH"}},
       "port_kind"},
  };
  for (const auto& [body, words] : refused) {
    const Reply reply = api.Send("POST", "/v1/endpoints", body.dump());
    EXPECT_EQ(reply.status, 400) << body.dump() << " " << reply.body;
    EXPECT_EQ(reply.Json()["error"]["code"], "invalid_value") << reply.body;
    EXPECT_NE(reply.body.find(words), std::string::npos) << reply.body;
  }
  EXPECT_EQ(api.Revision(), before);
}

TEST(ApiCrudTest, ConflictsAreRefusedWith409AndVniZeroMeansAllocate) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  // VNI 0 given explicitly: allocated, never stored as 0.
  const json network = api.Create("networks", {{"domain_id", "d1"}, {"name", "x"}, {"vni", 0}});
  EXPECT_GE(network["vni"].get<int64_t>(), 1);
  EXPECT_NE(network["vni"].get<int64_t>(), 500);
  api.Create("endpoints",
             {{"id", "e2"}, {"network_id", "n1"}, {"switch_name", "host1"}, {"port_name", "t1"}});
  const int64_t before = api.Revision();
  const std::vector<std::pair<std::string, json>> refused = {
      {"/v1/endpoints",
       {{"id", "e3"}, {"network_id", "n2"}, {"switch_name", "host1"}, {"port_name", "t1"}}},
      {"/v1/policies",
       {{"domain_id", "d1"},
        {"source_network_id", "n1"},
        {"destination_network_id", "n2"},
        {"action", "ACTION_ALLOW"}}},
  };
  for (const auto& [path, body] : refused) {
    const Reply reply = api.Send("POST", path, body.dump());
    EXPECT_EQ(reply.status, 409) << path << " " << reply.body;
    EXPECT_EQ(reply.Json()["error"]["code"], "conflict") << reply.body;
  }
  EXPECT_EQ(api.Revision(), before);
}

TEST(ApiCrudTest, EveryKindListGetReplaceDelete) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  struct Case {
    std::string collection;
    std::string id;
    json replacement;  // a whole object for PUT
    std::string changed_field;
  };
  const std::vector<Case> cases = {
      {"domains", "d1", {{"name", "acme2"}}, "name"},
      {"networks", "n1", {{"domain_id", "d1"}, {"name", "web2"}}, "name"},
      {"subnets", "s1", {{"network_id", "n1"}, {"cidr", "10.0.0.0/24"}, {"mtu", 1400}}, "mtu"},
      {"endpoints", "e1", {{"network_id", "n1"}, {"port_name", "tap7"}}, "port_name"},
      {"switches", "sw1", {{"name", "host1"}, {"tunnel_ip", "192.0.2.9"}}, "tunnel_ip"},
      {"policies",
       "p1",
       {{"domain_id", "d1"},
        {"source_network_id", "n1"},
        {"destination_network_id", "n2"},
        {"action", "ACTION_DENY"}},
       "action"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.collection);
    const Reply list = api.Send("GET", "/v1/" + c.collection);
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.Json()["revision"].get<int64_t>(), api.Revision());
    EXPECT_FALSE(list.Header("X-Dove-Revision").empty());
    const auto ids = Ids(list);
    EXPECT_NE(std::find(ids.begin(), ids.end(), c.id), ids.end());
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

    const Reply got = api.Send("GET", "/v1/" + c.collection + "/" + c.id);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.Json()["id"], c.id);

    const Reply replaced =
        api.Send("PUT", "/v1/" + c.collection + "/" + c.id, c.replacement.dump());
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_EQ(replaced.Json()["id"], c.id);
    EXPECT_EQ(replaced.Json()[c.changed_field], c.replacement[c.changed_field]);
    EXPECT_EQ(api.Send("GET", "/v1/" + c.collection + "/" + c.id).Json(), replaced.Json());
  }
  // Endpoint replace bumped its version and kept its IPs.
  const json endpoint = api.Send("GET", "/v1/endpoints/e1").Json();
  EXPECT_EQ(endpoint["version"], 2);
  EXPECT_EQ(endpoint["ips"].size(), 1U);
  // Domains and switches are found by name too.
  EXPECT_EQ(api.Send("GET", "/v1/domains/acme2").Json()["id"], "d1");
  EXPECT_EQ(api.Send("GET", "/v1/switches/host1").Json()["id"], "sw1");

  // Deletes, dependants first; each answers what it removed and the new revision.
  for (const auto& [collection, id] : std::vector<std::pair<std::string, std::string>>{
           {"policies", "p1"}, {"endpoints", "e1"}, {"subnets", "s1"}, {"switches", "sw1"}}) {
    const Reply deleted = api.Send("DELETE", "/v1/" + collection + "/" + id);
    ASSERT_EQ(deleted.status, 200) << collection << " " << deleted.body;
    EXPECT_EQ(deleted.Json()["deleted"], 1);
    EXPECT_EQ(deleted.Json()["revision"].get<int64_t>(), api.Revision());
    EXPECT_EQ(deleted.Header("X-Dove-Revision"), std::to_string(api.Revision()));
    EXPECT_EQ(api.Send("GET", "/v1/" + collection + "/" + id).status, 404);
  }
}

TEST(ApiCrudTest, PolicyActionsAllowDenyRejectAndNothingElse) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  const json rejected = api.Create("policies", {{"domain_id", "d1"},
                                                {"source_network_id", "n2"},
                                                {"destination_network_id", "n1"},
                                                {"action", "ACTION_REJECT"},
                                                {"protocol", 6},
                                                {"port_range", {{"first", 22}, {"last", 22}}}});
  ASSERT_TRUE(rejected.contains("id")) << rejected.dump();
  const std::string id = rejected["id"].get<std::string>();
  EXPECT_EQ(rejected["action"], "ACTION_REJECT");
  EXPECT_EQ(api.Send("GET", "/v1/policies/" + id).Json()["action"], "ACTION_REJECT");
  // REJECT and DENY are different actions: the same rule with DENY is no duplicate.
  json deny = {{"domain_id", "d1"},
               {"source_network_id", "n2"},
               {"destination_network_id", "n1"},
               {"action", "ACTION_DENY"},
               {"protocol", 6},
               {"port_range", {{"first", 22}, {"last", 22}}}};
  EXPECT_EQ(api.Send("POST", "/v1/policies", deny.dump()).status, 201);
  // A replace to ALLOW and back.
  json replacement = deny;
  replacement["action"] = "ACTION_ALLOW";
  const Reply allowed = api.Send("PUT", "/v1/policies/" + id, replacement.dump());
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(allowed.Json()["action"], "ACTION_ALLOW");
  replacement["action"] = "ACTION_REJECT";
  EXPECT_EQ(api.Send("PUT", "/v1/policies/" + id, replacement.dump()).Json()["action"],
            "ACTION_REJECT");
  // Anything else is refused and changes nothing.
  const int64_t before = api.Revision();
  for (const char* action : {"ACTION_UNSPECIFIED", "REJECT", "reject", "ACTION_DROP"}) {
    json bad = deny;
    bad["action"] = action;
    bad["priority"] = 99;
    const Reply refused = api.Send("POST", "/v1/policies", bad.dump());
    EXPECT_EQ(refused.status, 400) << action << ": " << refused.body;
    EXPECT_EQ(refused.Code(), "invalid_value") << action << ": " << refused.body;
  }
  json unspecified = deny;
  unspecified["action"] = "ACTION_UNSPECIFIED";
  EXPECT_NE(api.Send("POST", "/v1/policies", unspecified.dump()).body.find("ACTION_REJECT"),
            std::string::npos)
      << "the refusal lists the valid actions";
  EXPECT_EQ(api.Revision(), before);
}

TEST(ApiCrudTest, Filters) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  api.Create("domains", {{"id", "d2"}, {"name", "other"}});
  api.Create("networks", {{"id", "n3"}, {"domain_id", "d2"}, {"name", "web"}});
  api.Create("subnets", {{"id", "s3"}, {"network_id", "n3"}, {"cidr", "10.0.0.0/24"}});
  api.Create("endpoints", {{"id", "e2"}, {"network_id", "n3"}});
  api.Create("endpoints", {{"id", "e3"}, {"network_id", "n2"}, {"switch_name", "host1"}});

  using Ids_ = std::vector<std::string>;
  EXPECT_EQ(Ids(api.Send("GET", "/v1/domains?name=acme")), Ids_({"d1"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/networks?domain=d1")), Ids_({"n1", "n2"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/networks?domain=other")), Ids_({"n3"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/networks?name=web")), Ids_({"n1", "n3"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/networks?domain=d2&name=web")), Ids_({"n3"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/subnets?network=n1")), Ids_({"s1"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/subnets?domain=d1")), Ids_({"s1", "s2"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?domain=d1")), Ids_({"e1", "e3"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?network=n3")), Ids_({"e2"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?switch=host1")), Ids_({"e1", "e3"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/switches?name=host1")), Ids_({"sw1"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/policies?domain=d1")), Ids_({"p1"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/policies?domain=d2")), Ids_({}));
  EXPECT_EQ(api.Send("GET", "/v1/networks?domain=nope").status, 404);

  // Endpoints by name and by label selector (percent-encoded as a client sends it).
  api.Create("endpoints", {{"id", "e4"},
                           {"network_id", "n1"},
                           {"name", "vm-4"},
                           {"labels", {{"vm-uuid", "4f 2a"}, {"app", "web"}}}});
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?network=n1&name=vm-4")), Ids_({"e4"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?network=n3&name=vm-4")), Ids_({}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?label=vm-uuid%3D4f%202a%2Capp")), Ids_({"e4"}));
  EXPECT_EQ(Ids(api.Send("GET", "/v1/endpoints?label=app=db")), Ids_({}));
  const Reply bad = api.Send("GET", "/v1/endpoints?label=app,,x");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("empty term"), std::string::npos) << bad.body;
  EXPECT_EQ(api.Send("GET", "/v1/networks?label=app").status, 400);
  const Reply refused =
      api.Send("POST", "/v1/endpoints", R"({"network_id":"n1","labels":{"bad key":"x"}})");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("label key \\\"bad key\\\""), std::string::npos) << refused.body;
  const Reply taken = api.Send("POST", "/v1/endpoints", R"({"network_id":"n1","name":"vm-4"})");
  EXPECT_EQ(taken.status, 409) << taken.body;
}

TEST(ApiCrudTest, ForceDeleteCascades) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  const Reply refused = api.Send("DELETE", "/v1/domains/d1");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.Code(), "not_empty");
  EXPECT_EQ(api.Send("DELETE", "/v1/domains/d1?force=false").status, 409);
  const Reply deleted = api.Send("DELETE", "/v1/domains/acme?force=true");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  // domain, 2 networks, 2 subnets, 1 endpoint, 1 policy
  EXPECT_EQ(deleted.Json()["deleted"], 7);
  for (const char* collection : {"domains", "networks", "subnets", "endpoints", "policies"}) {
    EXPECT_TRUE(Ids(api.Send("GET", std::string("/v1/") + collection)).empty()) << collection;
  }
  EXPECT_EQ(Ids(api.Send("GET", "/v1/switches")), std::vector<std::string>{"sw1"});
}

TEST(ApiCrudTest, PersistsAcrossCleanRestart) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  Populate(api);
  std::map<std::string, json> before;
  for (const char* collection :
       {"domains", "networks", "subnets", "endpoints", "switches", "policies"}) {
    before[collection] = api.Send("GET", std::string("/v1/") + collection).Json()["items"];
  }
  const int64_t revision = api.Revision();
  const int status = api.Stop();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << api.controller().Log();
  EXPECT_NE(api.controller().Log().find("stopped"), std::string::npos);

  api.Start();
  ASSERT_TRUE(api.running());
  EXPECT_EQ(api.Revision(), revision);
  for (const auto& [collection, items] : before) {
    EXPECT_EQ(api.Send("GET", "/v1/" + collection).Json()["items"], items) << collection;
  }
}

// SIGTERM while clients create: exit 0, and every create a client saw acknowledged is stored.
TEST(ApiCrudTest, SigtermFinishesInFlightRequests) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  constexpr int kClients = 4;
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> answers{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 100000; ++i) {
        const std::string name = "c" + std::to_string(c) + "-" + std::to_string(i);
        const Reply reply = api.Send("POST", "/v1/domains", json{{"name", name}}.dump());
        if (reply.status == 0) return;  // the controller is gone
        EXPECT_EQ(reply.status, 201) << reply.body;
        const std::lock_guard lock(mutex);
        acknowledged.insert(name);
        ++answers;
      }
    });
  }
  while (answers.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int status = api.Stop();
  for (auto& client : clients) client.join();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << api.controller().Log();

  api.Start();
  ASSERT_TRUE(api.running());
  std::set<std::string> stored;
  const json items = api.Send("GET", "/v1/domains").Json()["items"];
  for (const json& domain : items) stored.insert(domain["name"].get<std::string>());
  for (const std::string& name : acknowledged) EXPECT_EQ(stored.count(name), 1U) << name;
  EXPECT_LE(stored.size(), acknowledged.size() + kClients);
}

}  // namespace
}  // namespace dove::api_test
