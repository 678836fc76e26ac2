// Controller replicas: two dove-controller processes on one etcd key prefix, both active,
// both serving REST and the southbound. A write through either is seen by the other (its
// index follows etcd's watch), uniqueness and allocation hold under racing clients on
// different replicas (compare-and-put claims in etcd), a move made through A reaches a switch
// attached to B, and A's kill -9 loses nothing B serves.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/test_switch.h"
#include "support/controller_process.h"
#include "support/etcd_cluster.h"
#include "support/rest_call.h"

namespace dove::test_support {
namespace {

using nlohmann::json;

bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class ReplicasTest : public testing::Test {
 protected:
  void SetUp() override {
    auto cluster = EtcdCluster::Start(1);
    ASSERT_TRUE(cluster) << cluster.error();
    etcd_ = std::move(*cluster);
    for (auto* replica : {&a_, &b_}) {
      auto started = ControllerProcess::Start({"--store", "etcd", "--etcd-endpoints",
                                               etcd_->Endpoints(), "--etcd-prefix", "/replicas/"});
      ASSERT_TRUE(started) << started.error();
      *replica = std::move(*started);
    }
  }

  int A() const { return a_->port(); }
  int B() const { return b_->port(); }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<ControllerProcess> a_;
  std::unique_ptr<ControllerProcess> b_;
};

TEST_F(ReplicasTest, AWriteThroughOneIsSeenByTheOther) {
  ASSERT_EQ(Call(A(), "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);
  EXPECT_TRUE(Eventually([&] { return Call(B(), "GET", "/v1/domains/d1").status == 200; }))
      << "B never saw the domain created through A";
  ASSERT_EQ(Call(B(), "POST", "/v1/networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}})
                .status,
            201);
  EXPECT_TRUE(Eventually([&] { return Call(A(), "GET", "/v1/networks/n1").status == 200; }));
}

// The same name created through both at once, many times: exactly one wins each round.
TEST_F(ReplicasTest, RacingCreatesOfOneNameOnTwoReplicasHaveOneWinner) {
  for (int round = 0; round < 20; ++round) {
    const std::string name = "tenant-" + std::to_string(round);
    int statuses[2] = {0, 0};
    std::thread other([&] {
      statuses[1] = Call(B(), "POST", "/v1/domains", {{"name", name}}).status;
    });
    statuses[0] = Call(A(), "POST", "/v1/domains", {{"name", name}}).status;
    other.join();
    const int created = (statuses[0] == 201) + (statuses[1] == 201);
    EXPECT_EQ(created, 1) << name << ": " << statuses[0] << " and " << statuses[1];
    for (int status : statuses) EXPECT_TRUE(status == 201 || status == 409) << status;
  }
}

// Networks without a VNI created through both at once: the VNIs allocated are all distinct.
TEST_F(ReplicasTest, VnisAllocatedOnBothReplicasAreDistinct) {
  ASSERT_EQ(Call(A(), "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);
  ASSERT_TRUE(Eventually([&] { return Call(B(), "GET", "/v1/domains/d1").status == 200; }));
  std::vector<json> made[2];
  auto create = [&](int side, int port) {
    for (int i = 0; i < 15; ++i) {
      const std::string name = "net-" + std::to_string(side) + "-" + std::to_string(i);
      Answer answer = Call(port, "POST", "/v1/networks", {{"domain_id", "d1"}, {"name", name}});
      if (answer.status == 201) made[side].push_back(answer.body);
      EXPECT_TRUE(answer.status == 201 || answer.status == 409 || answer.status == 503)
          << answer.status << " " << answer.body.dump();
    }
  };
  std::thread other([&] { create(1, B()); });
  create(0, A());
  other.join();
  std::set<int64_t> vnis;
  size_t total = 0;
  for (const auto& side : made) {
    for (const json& network : side) {
      vnis.insert(network.value("vni", int64_t{-1}));
      ++total;
    }
  }
  EXPECT_GE(total, 20u) << "most creates should succeed (a lost race is retried)";
  EXPECT_EQ(vnis.size(), total) << "a VNI was given twice";
}

// Endpoints without addresses in one small subnet, created through both: every IP and MAC is
// distinct, and the subnet filling up is subnet_full, never a duplicate.
TEST_F(ReplicasTest, AddressesAllocatedOnBothReplicasAreDistinct) {
  ASSERT_EQ(Call(A(), "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);
  ASSERT_EQ(Call(A(), "POST", "/v1/networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}})
                .status,
            201);
  ASSERT_EQ(Call(A(), "POST", "/v1/subnets",
                 {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/27"}})
                .status,
            201);
  ASSERT_TRUE(Eventually([&] { return Call(B(), "GET", "/v1/subnets/s1").status == 200; }));
  std::vector<json> made[2];
  int full[2] = {0, 0};
  auto create = [&](int side, int port) {
    for (int i = 0; i < 25; ++i) {
      Answer answer = Call(port, "POST", "/v1/endpoints", {{"network_id", "n1"}});
      if (answer.status == 201) made[side].push_back(answer.body);
      if (answer.status == 409 &&
          answer.body.value("error", json::object()).value("code", "") == "subnet_full") {
        ++full[side];
      }
    }
  };
  std::thread other([&] { create(1, B()); });
  create(0, A());
  other.join();
  std::set<std::string> ips;
  std::set<std::string> macs;
  size_t total = 0;
  for (const auto& side : made) {
    for (const json& endpoint : side) {
      for (const auto& ip : endpoint.value("ips", json::array())) ips.insert(ip.get<std::string>());
      macs.insert(endpoint.value("mac", ""));
      ++total;
    }
  }
  EXPECT_EQ(ips.size(), total) << "an IP was given twice";
  EXPECT_EQ(macs.size(), total) << "a MAC was given twice";
  EXPECT_GT(full[0] + full[1], 0) << "50 endpoints cannot fit a /27: the rest must be refused";
}

// A switch attached to B caches an endpoint; the endpoint is moved through A's API: the switch
// hears of it from B.
TEST_F(ReplicasTest, AMoveThroughOneReachesASwitchAttachedToTheOther) {
  ASSERT_EQ(Call(A(), "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status, 201);
  Answer network =
      Call(A(), "POST", "/v1/networks", {{"id", "n1"}, {"domain_id", "d1"}, {"name", "web"}});
  ASSERT_EQ(network.status, 201);
  const auto vni = network.body.value("vni", uint32_t{0});
  ASSERT_EQ(Call(A(), "POST", "/v1/subnets",
                 {{"id", "s1"}, {"network_id", "n1"}, {"cidr", "10.0.0.0/24"}})
                .status,
            201);
  ASSERT_EQ(Call(A(), "POST", "/v1/endpoints",
                 {{"id", "vm1"}, {"network_id", "n1"}, {"switch_name", "host-a"}})
                .status,
            201);
  ASSERT_EQ(Call(A(), "POST", "/v1/endpoints",
                 {{"id", "port-b"}, {"network_id", "n1"}, {"switch_name", "host-b"}})
                .status,
            201);
  ASSERT_TRUE(Eventually([&] { return Call(B(), "GET", "/v1/endpoints/port-b").status == 200; }));
  api_test::TestSwitch host_b(b_->southbound_port());
  ASSERT_TRUE(host_b.Hello("host-b", "192.0.2.2"));
  const std::string mac = Call(B(), "GET", "/v1/endpoints/vm1").body.value("mac", "");
  auto found = host_b.ResolveMac(1, vni, mac);
  ASSERT_TRUE(found) << "B's log:\n" << b_->Log();
  ASSERT_EQ(found->status(), v1::ResolveReply::STATUS_FOUND) << found->DebugString();

  ASSERT_EQ(Call(A(), "PUT", "/v1/endpoints/vm1", {{"network_id", "n1"}, {"switch_name", "host-c"}})
                .status,
            200);
  auto update = host_b.ReadUntil([](const auto& m) {
    return m.has_location_update() && m.location_update().location().switch_name() == "host-c";
  });
  EXPECT_TRUE(update) << "the switch on B never heard of the move made through A";
}

// kill -9 of A: B still serves everything A acknowledged.
TEST_F(ReplicasTest, WhatOneAcknowledgedSurvivesItsKillOnTheOther) {
  for (int i = 0; i < 30; ++i) {
    const std::string id = "d" + std::to_string(i);
    ASSERT_EQ(Call(A(), "POST", "/v1/domains", {{"id", id}, {"name", id}}).status, 201);
  }
  a_->Signal(SIGKILL);
  ASSERT_TRUE(a_->WaitForExit(std::chrono::seconds(5)));
  for (int i = 0; i < 30; ++i) {
    const std::string id = "d" + std::to_string(i);
    EXPECT_TRUE(Eventually([&] { return Call(B(), "GET", "/v1/domains/" + id).status == 200; }))
        << id;
  }
}

}  // namespace
}  // namespace dove::test_support
