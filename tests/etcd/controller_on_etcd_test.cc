// dove-controller with --store etcd, started for real against etcd processes: acknowledged
// writes survive kill -9 of the controller, an etcd that lost its quorum refuses writes
// with a clear 503 while reads go on, until the quorum is back, and a restart with --cache-dir
// reads its index cache and only etcd's changes since.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/controller_process.h"
#include "support/etcd_cluster.h"
#include "support/rest_call.h"
#include "support/temp_dir.h"

namespace dove::test_support {
namespace {

using nlohmann::json;

std::string FreshPrefix() {
  static int next = 0;
  return "/ctl-" + std::to_string(::getpid()) + "-" + std::to_string(next++) + "/";
}

Expected<std::unique_ptr<ControllerProcess>, std::string> StartOnEtcd(const EtcdCluster& cluster,
                                                                      const std::string& prefix) {
  return ControllerProcess::Start({"--store", "etcd", "--etcd-endpoints", cluster.Endpoints(),
                                   "--etcd-prefix", prefix, "--etcd-timeout-ms", "3000"});
}

// Domain d1 "acme", its network n1 "web" with subnet s1 10.0.0.0/24, through the API.
void CreateWebNetwork(int port) {
  ASSERT_EQ(Call(port, "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);
  ASSERT_EQ(Call(port, "POST", "/v1/networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}})
                .status,
            201);
  ASSERT_EQ(Call(port, "POST", "/v1/subnets",
                 {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}})
                .status,
            201);
}

// A forced delete is one transaction with an operation per object and claim: past etcd's
// --max-txn-ops it is refused with a clear 413 (not a 503 to retry), and nothing is deleted.
TEST(ControllerOnEtcd, AForcedDeleteBeyondEtcdsTxnLimitIsRefusedAndChangesNothing) {
  auto cluster = EtcdCluster::Start(1, {.member_args = {"--max-txn-ops", "32"}});
  ASSERT_TRUE(cluster) << cluster.error();
  auto controller = StartOnEtcd(**cluster, FreshPrefix());
  ASSERT_TRUE(controller) << controller.error();
  const int port = (*controller)->port();
  ASSERT_NO_FATAL_FAILURE(CreateWebNetwork(port));
  for (int i = 0; i < 12; ++i) {
    Answer created = Call(port, "POST", "/v1/endpoints",
                          {{"id", "ep-" + std::to_string(i)}, {"network_id", "n1"}});
    ASSERT_EQ(created.status, 201) << created.body.dump();
  }
  const Answer before = Call(port, "GET", "/healthz");
  const Answer refused = Call(port, "DELETE", "/v1/domains/d1?force=true");
  EXPECT_EQ(refused.status, 413) << refused.body.dump();
  EXPECT_EQ(refused.body["error"]["code"], "too_large") << refused.body.dump();
  EXPECT_NE(refused.body.dump().find("--max-txn-ops"), std::string::npos) << refused.body.dump();
  EXPECT_EQ(Call(port, "GET", "/healthz").body["revision"], before.body["revision"]);
  const Answer listed = Call(port, "GET", "/v1/endpoints");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["items"].size(), 12u) << listed.body.dump();
  // In parts it goes: the endpoints one by one, then the domain with the rest.
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(Call(port, "DELETE", "/v1/endpoints/ep-" + std::to_string(i)).status, 200);
  }
  EXPECT_EQ(Call(port, "DELETE", "/v1/domains/d1?force=true").status, 200);
}

TEST(ControllerOnEtcd, AcknowledgedWritesSurviveKillNine) {
  auto cluster = EtcdCluster::Start(1);
  ASSERT_TRUE(cluster) << cluster.error();
  const std::string prefix = FreshPrefix();
  auto first = StartOnEtcd(**cluster, prefix);
  ASSERT_TRUE(first) << first.error();
  const int port = (*first)->port();
  ASSERT_NO_FATAL_FAILURE(CreateWebNetwork(port));
  std::map<std::string, json> acknowledged;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "ep-" + std::to_string(i);
    Answer created = Call(port, "POST", "/v1/endpoints", {{"id", id}, {"network_id", "n1"}});
    ASSERT_EQ(created.status, 201) << created.body.dump();
    acknowledged[id] = created.body;
  }
  (*first)->Signal(SIGKILL);
  ASSERT_TRUE((*first)->WaitForExit(std::chrono::seconds(5)));

  auto second = StartOnEtcd(**cluster, prefix);
  ASSERT_TRUE(second) << second.error();
  for (const auto& [id, body] : acknowledged) {
    Answer read = Call((*second)->port(), "GET", "/v1/endpoints/" + id);
    ASSERT_EQ(read.status, 200) << id;
    EXPECT_EQ(read.body, body) << id;
  }
  // Another prefix on the same etcd is another, empty, deployment.
  auto other = StartOnEtcd(**cluster, FreshPrefix());
  ASSERT_TRUE(other) << other.error();
  EXPECT_EQ(Call((*other)->port(), "GET", "/v1/endpoints/ep-0").status, 404);
}

std::vector<std::string> CacheArgs(const EtcdCluster& cluster, const std::string& prefix,
                                   const std::filesystem::path& cache_dir) {
  return {
      "--store",           "etcd", "--etcd-endpoints", cluster.Endpoints(), "--etcd-prefix", prefix,
      "--etcd-timeout-ms", "3000", "--cache-dir",      cache_dir.string()};
}

// The value of an unlabelled metric in /metrics, or -1.
double Metric(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  if (!response) return -1;
  const std::string line = "\n" + name + " ";
  const size_t at = response->body.find(line);
  if (at == std::string::npos) return -1;
  return std::stod(response->body.substr(at + line.size()));
}

// A controller stopped cleanly writes its index cache; started again after another replica
// changed things (creates, a replace, deletes), it reads the cache and only those changes, and
// serves exactly what etcd holds. A cache is for one etcd prefix and one controller at a time.
TEST(ControllerOnEtcd, ARestartReadsItsIndexCacheAndOnlyTheChangesSince) {
  auto cluster = EtcdCluster::Start(1);
  ASSERT_TRUE(cluster) << cluster.error();
  const std::string prefix = FreshPrefix();
  TempDir dir("dove-index-cache");
  const auto cache = dir.path() / "replica-a";
  auto a = ControllerProcess::Start(CacheArgs(**cluster, prefix, cache));
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(Metric((*a)->port(), "dove_registry_loaded_from_index_cache"), 0);
  ASSERT_NO_FATAL_FAILURE(CreateWebNetwork((*a)->port()));
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(Call((*a)->port(), "POST", "/v1/endpoints",
                   {{"id", "ep-" + std::to_string(i)}, {"network_id", "n1"}})
                  .status,
              201);
  }
  // The same directory is refused to a second controller while A holds it.
  auto twin = ControllerProcess::Start(CacheArgs(**cluster, prefix, cache));
  ASSERT_FALSE(twin);
  EXPECT_NE(twin.error().find("in use by another running controller"), std::string::npos)
      << twin.error();
  (*a)->Signal(SIGTERM);
  ASSERT_EQ((*a)->WaitForExit(std::chrono::seconds(10)), 0);
  EXPECT_NE((*a)->Log().find("index cache written at revision"), std::string::npos) << (*a)->Log();

  // Another replica changes things while A is down.
  auto b = StartOnEtcd(**cluster, prefix);
  ASSERT_TRUE(b) << b.error();
  const int b_port = (*b)->port();
  for (int i = 30; i < 35; ++i) {
    ASSERT_EQ(Call(b_port, "POST", "/v1/endpoints",
                   {{"id", "ep-" + std::to_string(i)}, {"network_id", "n1"}})
                  .status,
              201);
  }
  ASSERT_EQ(Call(b_port, "DELETE", "/v1/endpoints/ep-3").status, 200);
  ASSERT_EQ(Call(b_port, "DELETE", "/v1/endpoints/ep-4").status, 200);
  Answer moved = Call(b_port, "GET", "/v1/endpoints/ep-5");
  ASSERT_EQ(moved.status, 200);
  moved.body["switch_name"] = "sw1";
  moved.body["port_name"] = "tap1";
  ASSERT_EQ(Call(b_port, "PUT", "/v1/endpoints/ep-5", moved.body).status, 200);

  auto again = ControllerProcess::Start(CacheArgs(**cluster, prefix, cache));
  ASSERT_TRUE(again) << again.error();
  const std::string log = (*again)->Log();
  EXPECT_NE(log.find("objects from the index cache"), std::string::npos) << log;
  EXPECT_NE(log.find("then 8 object changes since"), std::string::npos) << log;  // 5 + 2 + 1
  EXPECT_EQ(Metric((*again)->port(), "dove_registry_loaded_from_index_cache"), 1);
  const Answer held = Call((*again)->port(), "GET", "/v1/endpoints");
  const Answer truth = Call(b_port, "GET", "/v1/endpoints");
  ASSERT_EQ(held.status, 200);
  EXPECT_EQ(held.body["items"].size(), 33u);
  EXPECT_EQ(held.body, truth.body);
  EXPECT_EQ(Call((*again)->port(), "GET", "/v1/endpoints/ep-5").body["switch_name"], "sw1");
  (*again)->Signal(SIGKILL);
  ASSERT_TRUE((*again)->WaitForExit(std::chrono::seconds(5)));

  // Another prefix on the same etcd: the cache is set aside, saying why.
  auto other = ControllerProcess::Start(CacheArgs(**cluster, FreshPrefix(), cache));
  ASSERT_TRUE(other) << other.error();
  EXPECT_NE((*other)->Log().find("set aside (taken from another store"), std::string::npos)
      << (*other)->Log();
  EXPECT_EQ(Metric((*other)->port(), "dove_registry_loaded_from_index_cache"), 0);
  EXPECT_EQ(Call((*other)->port(), "GET", "/v1/endpoints/ep-0").status, 404);
}

// One of three members dying (the leader) stops nothing; two: writes are 503 and reads go on;
// back to three: writes resume.
TEST(ControllerOnEtcd, LeaderLossIsRiddenOutAndWithoutQuorumWritesAre503) {
  auto cluster = EtcdCluster::Start(3);
  ASSERT_TRUE(cluster) << cluster.error();
  const std::string prefix = FreshPrefix();
  auto controller = StartOnEtcd(**cluster, prefix);
  ASSERT_TRUE(controller) << controller.error();
  const int port = (*controller)->port();
  ASSERT_EQ(Call(port, "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);

  // The leader dies. A write already on its way to it when it died has an unknown outcome
  // (503 store_unavailable: the client may ask again); once the others have elected a new
  // leader (election timeout 1 s here) writes go on. Creates with a fixed id are asked again
  // until 201, or 409 when an earlier unanswered attempt had been applied.
  const int leader = (*cluster)->Leader();
  ASSERT_GE(leader, 0);
  (*cluster)->Kill(leader);
  const auto killed_at = std::chrono::steady_clock::now();
  int unavailable = 0;
  std::chrono::steady_clock::duration first_success{};
  for (int i = 0; i < 10; ++i) {
    const std::string id = "during-" + std::to_string(i);
    int status = 0;
    for (int attempt = 0; attempt < 20 && status != 201 && status != 409; ++attempt) {
      status = Call(port, "POST", "/v1/domains", {{"id", id}, {"name", id}}).status;
      if (status == 503) ++unavailable;
    }
    ASSERT_TRUE(status == 201 || status == 409) << id << ": " << status;
    if (i == 0) first_success = std::chrono::steady_clock::now() - killed_at;
  }
  std::printf(
      "leader killed: %d writes answered 503 first; the first write succeeded %.0f ms "
      "after the kill\n",
      unavailable, std::chrono::duration<double, std::milli>(first_success).count());
  ASSERT_TRUE((*cluster)->Restart(leader));

  const int survivor = (leader + 1) % 3;
  for (int i = 0; i < 3; ++i) {
    if (i != survivor) (*cluster)->Kill(i);
  }
  Answer refused = Call(port, "POST", "/v1/domains", {{"id", "d2"}, {"name", "other"}});
  EXPECT_EQ(refused.status, 503) << refused.body.dump();
  const json error = refused.body.value("error", json::object());
  EXPECT_EQ(error.value("code", ""), "store_unavailable") << refused.body.dump();
  EXPECT_NE(error.value("message", "").find("etcd at "), std::string::npos) << refused.body.dump();
  Answer read = Call(port, "GET", "/v1/domains/d1");
  EXPECT_EQ(read.status, 200) << "reads of the cached state must go on without quorum";

  for (int i = 0; i < 3; ++i) {
    if (i != survivor) {
      ASSERT_TRUE((*cluster)->Restart(i));
    }
  }
  // The first write after the quorum returns may still meet a member catching up: retry
  // briefly, as a client would on 503.
  int status = 0;
  for (int attempt = 0; attempt < 20 && status != 201; ++attempt) {
    status = Call(port, "POST", "/v1/domains", {{"id", "d3"}, {"name", "third"}}).status;
    if (status != 201) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 201) << (*controller)->Log();
  EXPECT_EQ(Call(port, "GET", "/v1/domains/d3").status, 200);

  // A controller started afresh reads the store: every write that was answered 201 or 409 is
  // there.
  (*controller)->Signal(SIGKILL);
  ASSERT_TRUE((*controller)->WaitForExit(std::chrono::seconds(5)));
  auto again = StartOnEtcd(**cluster, prefix);
  ASSERT_TRUE(again) << again.error();
  for (const std::string id : {"d1", "d3", "during-0", "during-5", "during-9"}) {
    EXPECT_EQ(Call((*again)->port(), "GET", "/v1/domains/" + id).status, 200) << id;
  }
}

}  // namespace
}  // namespace dove::test_support
