// kill -9 in the middle of a stream of creates (one client, then 8 concurrent ones): every
// acknowledged endpoint survives whole, nothing half-written is visible, and the stream can be
// finished after a restart. And /healthz and /metrics answer every time while 16 writers keep
// the store busy.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "api/api_client.h"

namespace dove::api_test {
namespace {

std::string EndpointId(int i) {
  char id[16];
  std::snprintf(id, sizeof(id), "ep-%04d", i);
  return id;
}

// Domain d1, network n1 and its subnet s1 (10.0.0.0/16): where the crash tests create.
void CreateWebNetwork(ApiFixture& api) {
  api.Create("domains", {{"id", "d1"}, {"name", "acme"}});
  api.Create("networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  api.Create("subnets", {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/16"}});
}

// A fresh seed each run (the tests print it); DOVE_CRASH_SEED=<n> replays one.
uint32_t CrashSeed() {
  const char* fixed = std::getenv("DOVE_CRASH_SEED");
  const uint32_t seed = fixed != nullptr ? static_cast<uint32_t>(std::strtoul(fixed, nullptr, 10))
                                         : std::random_device()();
  return seed;
}

TEST(ApiCrashTest, KillNineWhileCreating) {
  constexpr int kTotal = 1000;
  ApiFixture api;
  ASSERT_TRUE(api.running());
  CreateWebNetwork(api);

  const uint32_t seed = CrashSeed();
  std::mt19937 random(seed);
  const int kill_after = 150 + static_cast<int>(random() % 701);
  // Up to ~one create's time past the ack, so the kill lands anywhere inside a request.
  const auto kill_delay = std::chrono::microseconds(random() % 3000);
  std::printf("seed %u: SIGKILL after %d acknowledged creates\n", seed, kill_after);
  RecordProperty("seed", std::to_string(seed));

  std::map<std::string, json> acknowledged;  // id -> the object the 201 carried
  std::atomic<int> acks{0};
  std::atomic<bool> killed{false};
  int next = 0;
  std::thread killer([&] {
    while (acks.load() < kill_after) std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::this_thread::sleep_for(kill_delay);
    api.controller().Signal(SIGKILL);
    killed = true;
  });
  // A connection per request: a keep-alive connection the server closes between two requests
  // would look like a lost request.
  httplib::Client client("127.0.0.1", api.port());
  int in_flight = -1;   // the index whose create got no answer
  std::string failure;  // set when something went wrong before the kill
  for (; next < kTotal; ++next) {
    const json body = {{"id", EndpointId(next)}, {"network_id", "n1"}};
    auto result = client.Post("/v1/endpoints", body.dump(), "application/json");
    if (!result) {
      if (acks.load() < kill_after) failure = "request failed before the kill";
      in_flight = next;
      break;
    }
    if (result->status != 201) {
      failure = EndpointId(next) + ": " + std::to_string(result->status) + " " + result->body;
      break;
    }
    acknowledged[EndpointId(next)] = json::parse(result->body);
    ++acks;
  }
  acks = kTotal;  // releases the killer whatever happened
  killer.join();
  ASSERT_TRUE(failure.empty()) << failure << "\n" << api.controller().Log();
  ASSERT_TRUE(killed.load());
  ASSERT_GE(static_cast<int>(acknowledged.size()), kill_after);
  if (in_flight < 0) in_flight = next;  // the loop ended on an answer; the next may be lost
  api.controller().KillNow();           // reap

  api.Start();
  ASSERT_TRUE(api.running());
  const Reply list = api.Send("GET", "/v1/endpoints");
  ASSERT_EQ(list.status, 200);
  std::map<std::string, json> stored;
  const json items = list.Json()["items"];  // a copy: the range must not dangle
  for (const json& endpoint : items) {
    const std::string id = endpoint["id"].get<std::string>();
    EXPECT_EQ(endpoint["network_id"], "n1") << id;
    EXPECT_FALSE(endpoint["mac"].get<std::string>().empty()) << id;
    EXPECT_EQ(endpoint["ips"].size(), 1U) << id;
    EXPECT_EQ(endpoint["version"], 1) << id;
    stored[id] = endpoint;
  }
  for (const auto& [id, endpoint] : acknowledged) {
    ASSERT_EQ(stored.count(id), 1U) << "acknowledged endpoint " << id << " lost";
    EXPECT_EQ(stored[id]["mac"], endpoint["mac"]) << id;
    EXPECT_EQ(stored[id]["ips"], endpoint["ips"]) << id;
  }
  std::printf("acknowledged %zu; %s (unanswered) is %s after the restart\n", acknowledged.size(),
              EndpointId(in_flight).c_str(),
              stored.count(EndpointId(in_flight)) != 0 ? "stored" : "absent");
  // At most the one in flight is stored beyond the acknowledged ones.
  EXPECT_LE(stored.size(), acknowledged.size() + 1);
  for (const auto& [id, endpoint] : stored) {
    if (acknowledged.count(id) == 0) {
      EXPECT_EQ(id, EndpointId(in_flight));
    }
  }

  httplib::Client again("127.0.0.1", api.port());
  for (int i = in_flight; i < kTotal; ++i) {
    const json body = {{"id", EndpointId(i)}, {"network_id", "n1"}};
    auto result = again.Post("/v1/endpoints", body.dump(), "application/json");
    ASSERT_TRUE(result) << EndpointId(i);
    if (i == in_flight && result->status == 409) continue;  // it did make it before the kill
    ASSERT_EQ(result->status, 201) << EndpointId(i) << ": " << result->body;
  }
  const json final_list = api.Send("GET", "/v1/endpoints").Json()["items"];
  ASSERT_EQ(final_list.size(), static_cast<size_t>(kTotal));
  std::set<std::string> ips;
  std::set<std::string> macs;
  for (const json& endpoint : final_list) {
    ips.insert(endpoint["ips"][0].get<std::string>());
    macs.insert(endpoint["mac"].get<std::string>());
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(macs.size(), static_cast<size_t>(kTotal));
}

// 8 writers at once, each on its own connection per request, SIGKILL at a random point:
// every create any of them saw acknowledged is stored as acknowledged; beyond those, at most
// one per writer (its request in flight) is stored; no two endpoints share an address.
TEST(ApiCrashTest, KillNineWhileEightWritersCreate) {
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 200;
  ApiFixture api;
  ASSERT_TRUE(api.running());
  CreateWebNetwork(api);
  const uint32_t seed = CrashSeed();
  std::mt19937 random(seed);
  const int kill_after = 100 + static_cast<int>(random() % 1000);
  const auto kill_delay = std::chrono::microseconds(random() % 3000);
  std::printf("seed %u: SIGKILL after %d acknowledged creates of %d writers\n", seed, kill_after,
              kWriters);
  RecordProperty("seed", std::to_string(seed));

  std::atomic<int> acks{0};
  std::vector<std::map<std::string, json>> acknowledged(kWriters);
  std::vector<std::string> in_flight(kWriters);
  std::vector<std::string> failures(kWriters);
  auto id_of = [](int writer, int i) {
    return "w" + std::to_string(writer) + "-" + std::to_string(i);
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        httplib::Client client("127.0.0.1", api.port());
        const json body = {{"id", id_of(w, i)}, {"network_id", "n1"}};
        auto result = client.Post("/v1/endpoints", body.dump(), "application/json");
        if (!result) {
          if (acks.load() < kill_after) failures[w] = "request failed before the kill";
          in_flight[w] = id_of(w, i);
          return;
        }
        if (result->status != 201) {
          failures[w] = id_of(w, i) + ": " + std::to_string(result->status) + " " + result->body;
          return;
        }
        acknowledged[w][id_of(w, i)] = json::parse(result->body);
        ++acks;
      }
    });
  }
  while (acks.load() < kill_after) std::this_thread::sleep_for(std::chrono::microseconds(50));
  std::this_thread::sleep_for(kill_delay);
  api.controller().Signal(SIGKILL);
  for (auto& writer : writers) writer.join();
  for (const auto& failure : failures) ASSERT_TRUE(failure.empty()) << failure;
  api.controller().KillNow();  // reap

  api.Start();
  ASSERT_TRUE(api.running());
  const Reply list = api.Send("GET", "/v1/endpoints");
  ASSERT_EQ(list.status, 200);
  std::map<std::string, json> stored;
  std::set<std::string> ips;
  const json items = list.Json()["items"];
  for (const json& endpoint : items) {
    const std::string id = endpoint["id"].get<std::string>();
    EXPECT_EQ(endpoint["version"], 1) << id;
    ASSERT_EQ(endpoint["ips"].size(), 1U) << id;
    EXPECT_TRUE(ips.insert(endpoint["ips"][0].get<std::string>()).second) << id;
    stored[id] = endpoint;
  }
  size_t total = 0;
  for (int w = 0; w < kWriters; ++w) {
    total += acknowledged[w].size();
    for (const auto& [id, endpoint] : acknowledged[w]) {
      ASSERT_EQ(stored.count(id), 1U) << "acknowledged endpoint " << id << " lost";
      EXPECT_EQ(stored[id]["mac"], endpoint["mac"]) << id;
      EXPECT_EQ(stored[id]["ips"], endpoint["ips"]) << id;
    }
  }
  for (const auto& [id, endpoint] : stored) {
    bool known = false;
    for (int w = 0; w < kWriters; ++w) {
      known = known || acknowledged[w].count(id) != 0 || in_flight[w] == id;
    }
    EXPECT_TRUE(known) << id << " is stored but was neither acknowledged nor in flight";
  }
  std::printf("acknowledged %zu, stored %zu after the restart\n", total, stored.size());
  EXPECT_GE(total, static_cast<size_t>(kill_after));
}

// 16 writers create endpoints as fast as the store lets them while a prober asks /healthz and
// /metrics: every probe is answered 200 with a revision that never goes back. Latencies are
// printed (probe vs create), never asserted. The probes read the registry's index, which a
// write locks only after its fsync (registry.h), not during it.
TEST(ApiHealthUnderWrites, HealthAndMetricsAnswerWhileSixteenWritersCreate) {
  constexpr int kWriters = 16;
  ApiFixture api;
  ASSERT_TRUE(api.running());
  CreateWebNetwork(api);
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> stop{false};
  std::atomic<int> creates{0};
  std::vector<std::vector<double>> create_ms(kWriters);
  std::vector<std::string> failures(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      httplib::Client client("127.0.0.1", api.port());
      for (int i = 0; !stop.load(); ++i) {
        const json body = {{"id", "w" + std::to_string(w) + "-" + std::to_string(i)},
                           {"network_id", "n1"}};
        const auto start = Clock::now();
        auto result = client.Post("/v1/endpoints", body.dump(), "application/json");
        if (!result || result->status != 201) {
          failures[w] = result ? std::to_string(result->status) + " " + result->body : "no answer";
          return;
        }
        create_ms[w].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        ++creates;
      }
    });
  }
  while (creates.load() < kWriters) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<double> probe_ms;
  int64_t last_revision = 0;
  httplib::Client prober("127.0.0.1", api.port());
  for (int i = 0; i < 200; ++i) {
    const char* path = i % 2 == 0 ? "/healthz" : "/metrics";
    const auto start = Clock::now();
    auto result = prober.Get(path);
    probe_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ASSERT_TRUE(result) << path << " got no answer while writers were busy";
    ASSERT_EQ(result->status, 200) << path << ": " << result->body;
    if (i % 2 == 0) {
      const int64_t revision = json::parse(result->body)["revision"].get<int64_t>();
      EXPECT_GE(revision, last_revision);
      last_revision = revision;
    }
  }
  const int during = creates.load();
  stop = true;
  for (auto& writer : writers) writer.join();
  for (const auto& failure : failures) EXPECT_TRUE(failure.empty()) << failure;
  std::vector<double> all_creates;
  for (const auto& each : create_ms)
    all_creates.insert(all_creates.end(), each.begin(), each.end());
  auto summary = [](std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    char text[96];
    std::snprintf(text, sizeof(text), "median %.2f ms, p99 %.2f ms, max %.2f ms", ms[ms.size() / 2],
                  ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back());
    return std::string(text);
  };
  std::printf("%d creates by %d writers while probing; probes: %s; creates: %s\n", during, kWriters,
              summary(probe_ms).c_str(), summary(all_creates).c_str());
  EXPECT_GT(during, kWriters) << "the writers were not busy during the probes";
}

}  // namespace
}  // namespace dove::api_test
