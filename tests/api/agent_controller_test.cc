// The switch-side ControllerClient (src/dswitch/agent) against a real dove-controller process:
// no fakes on either side. Objects are made through the REST API, endpoints are attached by one
// agent and resolved by another, and what the controller pushes (migration, delete) must reach
// the cache of the agent that resolved; a controller crash leaves the agents serving from their
// caches until they reconnect by themselves to the restarted controller.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api_client.h"
#include "dswitch/agent/controller_client.h"

namespace dove::api_test {
namespace {

using namespace std::chrono_literals;
using dswitch::agent::CachedEndpoint;
using dswitch::agent::ClientOptions;
using dswitch::agent::ControllerClient;
using dswitch::agent::ResolveErrorCodeName;
using dswitch::agent::ResolveResult;

constexpr uint32_t kVni = 100;
constexpr const char* kMac = "52:54:00:00:00:01";
constexpr const char* kIp = "10.0.0.11";

// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool Connected(const ControllerClient& agent) { return agent.State().controller != "none"; }

// The cached entry of `endpoint_id`, looked at without resolving anything.
std::optional<CachedEndpoint> Cached(const ControllerClient& agent,
                                     const std::string& endpoint_id) {
  for (const auto& entry : agent.DumpCache().endpoints) {
    if (entry.location.endpoint_id() == endpoint_id) return entry;
  }
  return std::nullopt;
}

std::string Describe(const ResolveResult& result) {
  if (result) return "found on " + result->switch_name() + " (" + result->tunnel_ip() + ")";
  return std::string(ResolveErrorCodeName(result.error().code)) + ": " + result.error().message;
}

// A resolve answered from the cache: the future is ready when Resolve returns (a miss would go
// to the controller and come back later, or fail). Its result, nullopt when it was not ready.
std::optional<ResolveResult> ResolvedAtOnce(std::future<ResolveResult> future) {
  if (future.wait_for(0s) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// A resolve that may go to the controller: its result within 3 s, nullopt otherwise.
std::optional<ResolveResult> ResolvedWithin3s(std::future<ResolveResult> future) {
  if (future.wait_for(3s) != std::future_status::ready) return std::nullopt;
  return future.get();
}

class AgentControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = ControllerProcess::Start({"--data-dir", DataDir()});
    ASSERT_TRUE(started) << started.error();
    controller_ = std::move(*started);
    ASSERT_GT(controller_->southbound_port(), 0);
    Post("/v1/domains", {{"id", "d1"}, {"name", "acme"}});
    Post("/v1/networks", {{"id", "web"}, {"domain_id", "d1"}, {"name", "web"}, {"vni", kVni}});
    Post("/v1/subnets", {{"id", "web4"}, {"network_id", "web"}, {"cidr", "10.0.0.0/24"}});
    Post("/v1/endpoints", {{"id", "vm1"}, {"network_id", "web"}, {"mac", kMac}, {"ips", {kIp}}});
  }

  void TearDown() override {
    for (auto& agent : agents_) agent->Stop();
  }

  std::string DataDir() const { return (dir_.path() / "data").string(); }

  void Post(const std::string& path, const json& body) {
    const Reply reply = Send(controller_->port(), "POST", path, body.dump());
    ASSERT_EQ(reply.status, 201) << path << ": " << reply.body;
  }

  // A new controller on the same data dir and the same southbound port (the agents know only
  // that address). The port may be briefly unavailable after a crash: retried for 3 s. "" when
  // it started, else the last failure.
  std::string RestartOnSouthboundPort(int southbound_port) {
    const std::vector<std::string> args = {"--data-dir", DataDir(), "--southbound",
                                           "127.0.0.1:" + std::to_string(southbound_port)};
    std::string last_failure = "not started";
    Eventually(
        [&] {
          auto restarted = ControllerProcess::Start(args);
          if (!restarted) {
            last_failure = restarted.error();
            return false;
          }
          controller_ = std::move(*restarted);
          last_failure.clear();
          return true;
        },
        3s);
    return last_failure;
  }

  // A started agent of this controller, connected (welcomed) within 5 s; `on_trace` gets its
  // live-trace orders (none: the client answers them with an error itself).
  ControllerClient& NewAgent(
      const std::string& name, const std::string& tunnel_ip,
      std::function<void(ControllerClient&, const dove::v1::TraceOrder&)> on_trace = {}) {
    ClientOptions options{
        .controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())},
        .switch_name = name,
        .tunnel_ip = tunnel_ip,
        .software_version = "agent_controller_test",
        .backoff = {.initial = 20ms, .max = 200ms, .jitter = 0.2},
        .connect_timeout = 500ms,
        .resolve_timeout = 2000ms,
        .plaintext = true,
    };
    ControllerClient** self = &self_slots_.emplace_back(nullptr);
    if (on_trace) {
      options.on_trace = [on_trace, self](const dove::v1::TraceOrder& order) {
        on_trace(**self, order);
      };
    }
    agents_.push_back(std::make_unique<ControllerClient>(std::move(options)));
    ControllerClient& agent = *agents_.back();
    *self = &agent;
    agent.Start();
    EXPECT_TRUE(Eventually([&] { return Connected(agent); }, 5s))
        << name << ": " << agent.State().last_error;
    return agent;
  }

  // Places `endpoint` on switch `name` through the REST API (how a move is authorized).
  void Place(const std::string& endpoint, const std::string& name) {
    const Reply reply = Send(controller_->port(), "PUT", "/v1/endpoints/" + endpoint,
                             json{{"network_id", "web"}, {"switch_name", name}}.dump());
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Gives `agent` (switch `name`) a port in web, so it may resolve there (a switch resolves only
  // in the networks it serves), and waits for web's config to reach it.
  void ServeWeb(ControllerClient& agent, const std::string& name) {
    Post("/v1/endpoints", {{"id", "port-" + name}, {"network_id", "web"}, {"switch_name", name}});
    ASSERT_TRUE(Eventually(
        [&] {
          for (const auto& network : agent.DumpCache().networks) {
            if (network.vni == kVni && network.config) return true;
          }
          return false;
        },
        2s))
        << name << " did not get the config of web";
  }

  // vm1 is placed on `name` through the API, then `agent` attaches it and sees the
  // acknowledgement (its own LocationUpdate) within 2 s.
  void AttachVm1(ControllerClient& agent, const std::string& name) {
    Place("vm1", name);
    auto attached = agent.Attach("vm1", "tap-vm1", 0);
    ASSERT_TRUE(attached) << attached.error();
    ASSERT_TRUE(Eventually(
        [&] {
          auto entry = Cached(agent, "vm1");
          return entry && entry->location.switch_name() == name;
        },
        2s))
        << name
        << " saw no acknowledgement of its attach; last error: " << agent.State().last_error;
  }

  TempDir dir_{"dove-agent-api"};
  std::unique_ptr<ControllerProcess> controller_;
  std::vector<std::unique_ptr<ControllerClient>> agents_;
  std::deque<ControllerClient*> self_slots_;  // each agent's address, for its own callbacks
};

TEST_F(AgentControllerTest, AttachedOnOneAgentResolvedByAnotherThenServedFromItsCache) {
  ControllerClient& a = NewAgent("host-a", "192.0.2.1");
  ControllerClient& b = NewAgent("host-b", "192.0.2.2");
  AttachVm1(a, "host-a");
  ServeWeb(b, "host-b");

  auto by_mac = ResolvedWithin3s(b.Resolve(kVni, kMac));
  ASSERT_TRUE(by_mac) << "no answer to the resolve by MAC";
  ASSERT_TRUE(*by_mac) << Describe(*by_mac);
  EXPECT_EQ((*by_mac)->endpoint_id(), "vm1");
  EXPECT_EQ((*by_mac)->switch_name(), "host-a");
  EXPECT_EQ((*by_mac)->tunnel_ip(), "192.0.2.1");

  auto by_ip = ResolvedWithin3s(b.ResolveIp(kVni, kIp));
  ASSERT_TRUE(by_ip) << "no answer to the resolve by IP";
  ASSERT_TRUE(*by_ip) << Describe(*by_ip);
  EXPECT_EQ((*by_ip)->mac(), kMac);
  EXPECT_EQ((*by_ip)->tunnel_ip(), "192.0.2.1");

  // Now both are cache hits: answered before Resolve returns, nothing pending.
  auto hit_mac = ResolvedAtOnce(b.Resolve(kVni, kMac));
  ASSERT_TRUE(hit_mac) << "the resolve by MAC went to the controller";
  ASSERT_TRUE(*hit_mac) << Describe(*hit_mac);
  EXPECT_EQ((*hit_mac)->tunnel_ip(), "192.0.2.1");
  auto hit_ip = ResolvedAtOnce(b.ResolveIp(kVni, kIp));
  ASSERT_TRUE(hit_ip) << "the resolve by IP went to the controller";
  ASSERT_TRUE(*hit_ip) << Describe(*hit_ip);
  EXPECT_EQ((*hit_ip)->tunnel_ip(), "192.0.2.1");
  EXPECT_EQ(b.State().pending_queries, 0u);
}

TEST_F(AgentControllerTest, MigrationReachesTheCacheOfTheResolverWithin2s) {
  ControllerClient& a = NewAgent("host-a", "192.0.2.1");
  ControllerClient& b = NewAgent("host-b", "192.0.2.2");
  ControllerClient& c = NewAgent("host-c", "192.0.2.3");
  AttachVm1(a, "host-a");
  ServeWeb(b, "host-b");
  auto first = ResolvedWithin3s(b.Resolve(kVni, kMac));
  ASSERT_TRUE(first && *first);
  ASSERT_EQ((*first)->tunnel_ip(), "192.0.2.1");

  // C attaching vm1 on its own is refused: a move is authorized through the API only.
  ASSERT_TRUE(c.Attach("vm1", "tap-vm1", 0));
  EXPECT_TRUE(Eventually([&] { return !c.State().last_error.empty(); }, 2s));
  EXPECT_NE(c.State().last_error.find("not_found"), std::string::npos) << c.State().last_error;
  EXPECT_EQ(Cached(b, "vm1")->location.tunnel_ip(), "192.0.2.1");
  AttachVm1(c, "host-c");
  // B asks nothing: the controller pushes the new location into its cache.
  EXPECT_TRUE(Eventually(
      [&] {
        auto entry = Cached(b, "vm1");
        return entry && entry->location.tunnel_ip() == "192.0.2.3";
      },
      2s))
      << "B's cache still says "
      << (Cached(b, "vm1") ? Cached(b, "vm1")->location.tunnel_ip() : std::string("nothing"));
  auto hit = ResolvedAtOnce(b.Resolve(kVni, kMac));
  ASSERT_TRUE(hit) << "the resolve after the migration went to the controller";
  ASSERT_TRUE(*hit) << Describe(*hit);
  EXPECT_EQ((*hit)->switch_name(), "host-c");
  EXPECT_EQ((*hit)->tunnel_ip(), "192.0.2.3");
  EXPECT_GT((*hit)->version(), (*first)->version());
  // The switch it left had no other port in web: it is told to drop the network, and with it
  // what it knew of web's endpoints (a switch learns nothing of a network it does not serve).
  EXPECT_TRUE(Eventually([&] { return !Cached(a, "vm1").has_value(); }, 2s))
      << "A still caches vm1";
}

TEST_F(AgentControllerTest, HeadlessAgentServesItsCacheAndReconnectsToTheRestartedController) {
  ControllerClient& a = NewAgent("host-a", "192.0.2.1");
  ControllerClient& b = NewAgent("host-b", "192.0.2.2");
  AttachVm1(a, "host-a");
  ServeWeb(b, "host-b");
  auto resolved = ResolvedWithin3s(b.Resolve(kVni, kMac));
  ASSERT_TRUE(resolved && *resolved);
  const uint64_t connections_before = b.State().connections;

  const int southbound_port = controller_->southbound_port();
  controller_->KillNow();
  ASSERT_TRUE(Eventually([&] { return !Connected(b); }, 2s)) << "B did not notice the crash";
  EXPECT_EQ(b.State().controller, "none");
  auto headless = ResolvedAtOnce(b.Resolve(kVni, kMac));
  ASSERT_TRUE(headless) << "a headless cache hit must answer at once";
  ASSERT_TRUE(*headless) << Describe(*headless);
  EXPECT_EQ((*headless)->tunnel_ip(), "192.0.2.1");

  ASSERT_EQ(RestartOnSouthboundPort(southbound_port), "");
  ASSERT_EQ(controller_->southbound_port(), southbound_port);

  ASSERT_TRUE(Eventually([&] { return Connected(b); }, 10s))
      << "B did not reconnect; last error: " << b.State().last_error;
  EXPECT_GT(b.State().connections, connections_before);
  // Caught up from its revision, not a snapshot: the cache survived the reconnect.
  ASSERT_TRUE(
      Eventually([&] { return b.State().last_revision > 0 && !b.DumpCache().syncing; }, 2s));
  EXPECT_TRUE(Cached(b, "vm1")) << "the reconnect emptied B's cache";
  const Reply metrics = Send(controller_->port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("dove_southbound_syncs_total{kind=\"snapshot\"} 0"),
            std::string::npos)
      << metrics.body;
  auto after = ResolvedWithin3s(b.ResolveIp(kVni, kIp));
  ASSERT_TRUE(after) << "no answer after the reconnect";
  ASSERT_TRUE(*after) << Describe(*after);
  EXPECT_EQ((*after)->endpoint_id(), "vm1");
  EXPECT_EQ((*after)->tunnel_ip(), "192.0.2.1");
}

TEST_F(AgentControllerTest, DeleteThroughRestInvalidatesTheResolversCache) {
  ControllerClient& a = NewAgent("host-a", "192.0.2.1");
  ControllerClient& b = NewAgent("host-b", "192.0.2.2");
  AttachVm1(a, "host-a");
  ServeWeb(b, "host-b");
  auto resolved = ResolvedWithin3s(b.Resolve(kVni, kMac));
  ASSERT_TRUE(resolved && *resolved);
  ASSERT_TRUE(Cached(b, "vm1"));

  const Reply deleted = Send(controller_->port(), "DELETE", "/v1/endpoints/vm1");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(Eventually([&] { return !Cached(b, "vm1"); }, 2s))
      << "B still caches the deleted endpoint";
  // The next resolve goes to the controller, which knows it no more.
  auto gone = ResolvedWithin3s(b.Resolve(kVni, kMac));
  ASSERT_TRUE(gone) << "no answer to the resolve after the delete";
  ASSERT_FALSE(*gone) << Describe(*gone);
  EXPECT_EQ(gone->error().code, dswitch::agent::ResolveError::Code::kNotFound) << Describe(*gone);
}

// The restart test: 50 agents, each with its own endpoint attached and a neighbour's
// cached; kill -9 of the controller; restart. Every agent catches up from its revision (no
// snapshot, nothing resolved again), every acknowledged attach is still there, and the restarted
// controller knows who caches what (a move after the restart reaches the cacher unasked).
TEST_F(AgentControllerTest, FiftyAgentsCatchUpFromTheirRevisionsAfterAControllerKill) {
  constexpr int kAgents = 50;
  auto endpoint = [](int i) {
    char id[8];
    std::snprintf(id, sizeof id, "ep-%02d", i);
    return std::string(id);
  };
  auto mac = [](int i) {
    char text[18];
    std::snprintf(text, sizeof text, "52:54:00:00:10:%02x", i);
    return std::string(text);
  };
  std::vector<ControllerClient*> agents;
  for (int i = 0; i < kAgents; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "sw-%02d", i);
    Post("/v1/endpoints", {{"id", endpoint(i)},
                           {"network_id", "web"},
                           {"mac", mac(i)},
                           {"ips", {"10.0.0." + std::to_string(100 + i)}},
                           {"switch_name", name}});
    agents.push_back(&NewAgent(name, "198.51.100." + std::to_string(i + 1)));
    ASSERT_TRUE(agents.back()->Attach(endpoint(i), "tap-" + endpoint(i), 0));
  }
  // Every attach acknowledged (the agent's own LocationUpdate), then each caches its neighbour.
  for (int i = 0; i < kAgents; ++i) {
    ASSERT_TRUE(Eventually([&] { return Cached(*agents[i], endpoint(i)).has_value(); }, 5s))
        << "no acknowledgement of " << endpoint(i) << ": " << agents[i]->State().last_error;
  }
  for (int i = 0; i < kAgents; ++i) {
    auto found = ResolvedWithin3s(agents[i]->Resolve(kVni, mac((i + 1) % kAgents)));
    ASSERT_TRUE(found && *found) << i;
  }
  std::vector<uint64_t> connections(kAgents);
  for (int i = 0; i < kAgents; ++i) connections[i] = agents[i]->State().connections;

  const int southbound_port = controller_->southbound_port();
  controller_->KillNow();
  ASSERT_EQ(RestartOnSouthboundPort(southbound_port), "");

  for (int i = 0; i < kAgents; ++i) {
    ASSERT_TRUE(Eventually(
        [&] {
          const auto state = agents[i]->State();
          return state.connections > connections[i] && !agents[i]->DumpCache().syncing;
        },
        15s))
        << "agent " << i << " did not reconnect: " << agents[i]->State().last_error;
  }
  const Reply metrics = Send(controller_->port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("dove_southbound_syncs_total{kind=\"incremental\"} 50"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("dove_southbound_syncs_total{kind=\"snapshot\"} 0"),
            std::string::npos)
      << metrics.body;
  // Nothing acknowledged is lost: every endpoint is still on its switch; every cache kept its
  // neighbour, and answers it at once.
  for (int i = 0; i < kAgents; ++i) {
    const Reply stored = Send(controller_->port(), "GET", "/v1/endpoints/" + endpoint(i));
    ASSERT_EQ(stored.status, 200) << stored.body;
    EXPECT_EQ(json::parse(stored.body)["switch_name"], "sw-" + endpoint(i).substr(3));
    auto hit = ResolvedAtOnce(agents[i]->Resolve(kVni, mac((i + 1) % kAgents)));
    ASSERT_TRUE(hit && *hit) << "agent " << i << " lost its cache";
  }
  // The restarted controller learned the caches from the Hellos: a move reaches the cacher.
  Place(endpoint(1), "sw-10");
  ASSERT_TRUE(agents[10]->Attach(endpoint(1), "tap-moved", 0));
  EXPECT_TRUE(Eventually(
      [&] {
        auto entry = Cached(*agents[0], endpoint(1));
        return entry && entry->location.switch_name() == "sw-10";
      },
      2s))
      << "agent 0 did not hear that ep-01 moved to sw-10";
}

// What the controller pushes besides locations, and what it refuses, between real processes:
// a subnet created through REST reaches the agent's network config; a malformed resolve is
// refused by the controller without ending the stream; the statistics an agent reports show on
// the controller's /metrics.
TEST_F(AgentControllerTest, ConfigPushesRefusalsAndStatsOverTheRealStream) {
  ControllerClient& a = NewAgent("host-a", "192.0.2.1");
  AttachVm1(a, "host-a");
  auto subnets_of_web = [&] {
    for (const auto& network : a.DumpCache().networks) {
      if (network.vni == kVni && network.config) return network.config->subnets_size();
    }
    return -1;
  };
  ASSERT_TRUE(Eventually([&] { return subnets_of_web() == 1; }, 2s));
  const auto router_mac = [&] {
    for (const auto& network : a.DumpCache().networks) {
      if (network.vni == kVni && network.config) return network.config->router_mac();
    }
    return std::string();
  }();
  EXPECT_EQ(router_mac.substr(0, 3), "02:");
  Post("/v1/subnets", {{"id", "web6"}, {"network_id", "web"}, {"cidr", "2001:db8::/64"}});
  EXPECT_TRUE(Eventually([&] { return subnets_of_web() == 2; }, 2s))
      << "the new subnet did not reach the agent's config";

  auto bad = ResolvedWithin3s(a.Resolve(kVni, "52:54:00:zz:00:01"));
  ASSERT_TRUE(bad) << "no answer to a malformed resolve";
  ASSERT_FALSE(*bad);
  EXPECT_EQ(bad->error().code, dswitch::agent::ResolveError::Code::kRefused) << Describe(*bad);
  EXPECT_NE(bad->error().message.find("invalid_value"), std::string::npos) << Describe(*bad);
  EXPECT_TRUE(Connected(a)) << "a refusal must not end the stream";

  // A summary's names become counter families (stats_families.h); one it does not know is
  // counted as unmapped, not shown.
  ASSERT_TRUE(a.ReportStats({{"port_tap_frames_rx", 42},
                             {"tunnel_bytes_tx", 9000},
                             {"drop_source_mac_spoofed", 3},
                             {"rx_frames", 5}}));
  std::string page;
  EXPECT_TRUE(Eventually(
      [&] {
        page = Send(controller_->port(), "GET", "/metrics").body;
        return page.find(
                   "dove_switch_port_frames_total{switch=\"host-a\",kind=\"tap\","
                   "direction=\"rx\"} 42\n") != std::string::npos;
      },
      2s))
      << page;
  for (const char* line :
       {"# TYPE dove_switch_port_frames_total counter",
        "dove_switch_tunnel_bytes_total{switch=\"host-a\",direction=\"tx\"} 9000",
        "dove_switch_drops_total{switch=\"host-a\",reason=\"source_mac_spoofed\"} 3",
        "dove_switch_stats_unmapped{switch=\"host-a\"} 1"}) {
    EXPECT_NE(page.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << page;
  }
  EXPECT_EQ(page.find("rx_frames"), std::string::npos);
}

// dovectl trace --live over the real stream: the controller orders every other connected switch
// to watch and, once they acknowledged, the source endpoint's switch to inject; it gathers their
// reports until the switch the source encapsulated to has answered, and compares them with the
// model.
TEST_F(AgentControllerTest, ALiveTraceOrdersTheSwitchesAndComparesTheirReports) {
  std::mutex mu;
  std::vector<dove::v1::TraceOrder> orders;
  const auto stage = [](dove::v1::TraceReport& report, const std::string& name,
                        const std::string& verdict) -> dove::v1::TraceStage& {
    dove::v1::TraceStage& added = *report.add_stages();
    added.set_stage(name);
    added.set_verdict(verdict);
    return added;
  };
  const auto on_trace = [&](ControllerClient& agent, const dove::v1::TraceOrder& order) {
    {
      std::lock_guard lock(mu);
      orders.push_back(order);
    }
    dove::v1::TraceReport report;
    report.set_trace_id(order.trace_id());
    report.set_source(order.inject());
    if (!order.inject()) {
      dove::v1::TraceReport armed = report;
      armed.set_armed(true);
      ASSERT_TRUE(agent.ReportTrace(armed));
    }
    if (order.inject()) {
      stage(report, "source", "pass");
      stage(report, "encapsulation", "pass").set_tunnel_ip("192.0.2.2");
    } else {
      stage(report, "receiving_switch", "pass");
      stage(report, "delivery", "deliver").add_endpoint_ids("vm2");
    }
    ASSERT_TRUE(agent.ReportTrace(report));
  };
  ControllerClient& a = NewAgent("host-a", "192.0.2.1", on_trace);
  NewAgent("host-b", "192.0.2.2", on_trace);
  // A switch that cannot watch (as the kernel backend answers) and that the packet never reaches:
  // its refusal is no part of the answer.
  NewAgent("host-c", "192.0.2.3", [&](ControllerClient& agent, const dove::v1::TraceOrder& order) {
    {
      std::lock_guard lock(mu);
      orders.push_back(order);
    }
    dove::v1::TraceReport refused;
    refused.set_trace_id(order.trace_id());
    refused.set_armed(true);
    refused.set_error("cannot watch");
    ASSERT_TRUE(agent.ReportTrace(refused));
  });
  AttachVm1(a, "host-a");
  Post("/v1/endpoints", {{"id", "vm2"},
                         {"network_id", "web"},
                         {"mac", "52:54:00:00:00:02"},
                         {"ips", {"10.0.0.12"}},
                         {"switch_name", "host-b"}});

  const Reply reply =
      Send(controller_->port(), "POST", "/v1/trace",
           json{{"source", "vm1"}, {"packet", "udp to 52:54:00:00:00:02 port 7"}, {"live", true}}
               .dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json result = json::parse(reply.body);
  EXPECT_EQ(result["live_outcome"], "delivered") << reply.body;
  EXPECT_EQ(result["live_reached"], json::array({"vm2"})) << reply.body;
  ASSERT_EQ(result["switches"].size(), 2u) << reply.body;
  EXPECT_EQ(result["switches"][0]["switch_name"], "host-a");
  EXPECT_EQ(result["switches"][0]["role"], "source");
  EXPECT_EQ(result["switches"][1]["switch_name"], "host-b");
  EXPECT_EQ(result["switches"][1]["role"], "receiver");
  // The model (vm2's MAC, switch host-b at 192.0.2.2) says the same: nothing to flag.
  EXPECT_EQ(result["outcome"], "delivered") << reply.body;
  EXPECT_TRUE(result["disagreements"].empty()) << reply.body;

  std::lock_guard lock(mu);
  ASSERT_EQ(orders.size(), 3u) << "host-b and host-c watch, host-a injects";
  EXPECT_TRUE(orders.back().inject()) << "the watchers acknowledged before the source injects";
  std::stable_partition(orders.begin(), orders.end(),
                        [](const auto& order) { return !order.inject(); });
  for (const auto& order : orders) {
    EXPECT_EQ(order.marker().size(), 16u);
    EXPECT_GT(order.timeout_ms(), 0u);
    if (order.inject()) {
      EXPECT_EQ(order.endpoint_id(), "vm1");
      EXPECT_EQ(order.kind(), dove::v1::TraceOrder::KIND_UDP);
      EXPECT_EQ(order.mac(), "52:54:00:00:00:02");
      EXPECT_EQ(order.port(), 7u);
    } else {
      EXPECT_EQ(order.endpoint_id(), "") << "a watcher is told nothing of the packet";
      EXPECT_EQ(order.kind(), dove::v1::TraceOrder::KIND_UNSPECIFIED);
    }
  }
  EXPECT_TRUE(orders[2].inject());
  EXPECT_EQ(orders[0].trace_id(), orders[2].trace_id());
  EXPECT_EQ(orders[0].marker(), orders[2].marker());
}

// A switch the controller refuses (here: its tunnel IP is held by another live switch) learns
// why before the stream closes: State().refusal and last_error say it, and its log has a
// "refused by" line; the controller's metrics are untouched by it. Its connection, and its
// disconnection when the controller goes away, are log lines too.
TEST_F(AgentControllerTest, ARefusedAgentLearnsWhyAndLogsItAndConnectionsAreLogged) {
  // Shared with the agents' threads, which may outlive this body when an assertion fails.
  struct Lines {
    std::mutex mu;
    std::vector<std::string> lines;
  };
  auto sink = std::make_shared<Lines>();
  auto log = [sink](const std::string& line) {
    std::lock_guard lock(sink->mu);
    sink->lines.push_back(line);
  };
  auto logged = [sink](const std::string& prefix) {
    std::lock_guard lock(sink->mu);
    for (const auto& line : sink->lines) {
      if (line.rfind(prefix, 0) == 0) return line;
    }
    return std::string();
  };
  NewAgent("host-a", "192.0.2.1");
  ClientOptions options{
      .controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())},
      .switch_name = "host-b",
      .tunnel_ip = "192.0.2.1",  // host-a's
      .software_version = "agent_controller_test",
      .backoff = {.initial = 200ms, .max = 1000ms, .jitter = 0.2},
      .connect_timeout = 500ms,
      .plaintext = true,
      .log = log,
  };
  agents_.push_back(std::make_unique<ControllerClient>(std::move(options)));
  ControllerClient& refused = *agents_.back();
  refused.Start();
  ASSERT_TRUE(Eventually([&] { return !refused.State().refusal.empty(); }, 3s))
      << refused.State().last_error;
  EXPECT_NE(refused.State().refusal.find("tunnel IP 192.0.2.1"), std::string::npos)
      << refused.State().refusal;
  EXPECT_TRUE(Eventually([&] { return !logged("refused by").empty(); }, 2s));
  EXPECT_NE(logged("refused by").find("host-a"), std::string::npos) << logged("refused by");
  EXPECT_TRUE(Eventually(
      [&] { return refused.State().last_error.find("refused: conflict") != std::string::npos; },
      2s))
      << refused.State().last_error;
  EXPECT_FALSE(Connected(refused));
  refused.Stop();

  // An agent that is welcomed logs it, then logs the controller going away.
  {
    std::lock_guard lock(sink->mu);
    sink->lines.clear();
  }
  ClientOptions good{
      .controllers = {"127.0.0.1:" + std::to_string(controller_->southbound_port())},
      .switch_name = "host-c",
      .tunnel_ip = "192.0.2.3",
      .software_version = "agent_controller_test",
      .backoff = {.initial = 200ms, .max = 1000ms, .jitter = 0.2},
      .connect_timeout = 500ms,
      .plaintext = true,
      .log = log,
  };
  agents_.push_back(std::make_unique<ControllerClient>(std::move(good)));
  ControllerClient& c = *agents_.back();
  c.Start();
  ASSERT_TRUE(Eventually([&] { return !logged("connected to").empty(); }, 3s));
  controller_->KillNow();
  EXPECT_TRUE(Eventually([&] { return !logged("disconnected from").empty(); }, 3s));
  EXPECT_TRUE(Eventually([&] { return !logged("controller unreachable").empty(); }, 3s));
  c.Stop();
}

}  // namespace
}  // namespace dove::api_test
