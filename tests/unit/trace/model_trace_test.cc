// The trace from the model: one tenant "acme" with networks web (VNI 100) and db (VNI 200), a
// second tenant "blue" reusing web's subnet and addresses; switches h1, h2 up and h3 down.
// Each scenario checks the outcome, the stages' verdicts in order, and what the deciding
// stages say (the VNI and tunnel IP of the encapsulation, the policy that decided).
#include "trace/model_trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "model/model_view.h"
#include "trace/packet_spec.h"
#include "unit/model/world.h"

namespace dove::trace {
namespace {

using model::testing::MakeEndpoint;
using model::testing::MakeNetwork;
using model::testing::MakeSubnet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kRouterMac = "02:00:00:00:ac:4e";

v1::Endpoint Placed(v1::Endpoint endpoint, const std::string& switch_name) {
  endpoint.set_switch_name(switch_name);
  endpoint.set_port_name("tap-" + endpoint.id());
  return endpoint;
}

v1::Policy MakePolicy(const std::string& id, v1::Policy::Action action, uint32_t protocol,
                      uint32_t port, uint32_t priority) {
  v1::Policy policy;
  policy.set_id(id);
  policy.set_domain_id("acme");
  policy.set_source_network_id("web");
  policy.set_destination_network_id("db");
  policy.set_action(action);
  policy.set_protocol(protocol);
  if (port != 0) {
    policy.mutable_port_range()->set_first(port);
    policy.mutable_port_range()->set_last(port);
  }
  policy.set_priority(priority);
  return policy;
}

class ModelTraceTest : public ::testing::Test {
 protected:
  ModelTraceTest() {
    for (const char* id : {"acme", "blue"}) {
      v1::Domain domain;
      domain.set_id(id);
      domain.set_name(id);
      view_.Put(domain);
    }
    view_.Put(MakeNetwork("web", "acme", 100));
    view_.Put(MakeNetwork("db", "acme", 200));
    view_.Put(MakeNetwork("bweb", "blue", 300));
    view_.Put(MakeSubnet("s-web", "web", "10.0.0.0/24", "10.0.0.1"));
    view_.Put(MakeSubnet("s-db", "db", "10.1.0.0/24", "10.1.0.1"));
    view_.Put(MakeSubnet("s-bweb", "bweb", "10.0.0.0/24", "10.0.0.1"));
    view_.Put(Placed(MakeEndpoint("w1", "web", "52:54:00:00:00:11", "10.0.0.11"), "h1"));
    view_.Put(Placed(MakeEndpoint("w2", "web", "52:54:00:00:00:12", "10.0.0.12"), "h2"));
    view_.Put(Placed(MakeEndpoint("w3", "web", "52:54:00:00:00:13", "10.0.0.13"), "h1"));
    view_.Put(Placed(MakeEndpoint("w4", "web", "52:54:00:00:00:14", "10.0.0.14"), "h3"));
    view_.Put(MakeEndpoint("w5", "web", "52:54:00:00:00:15", "10.0.0.15"));  // on no switch
    view_.Put(Placed(MakeEndpoint("d1", "db", "52:54:00:00:00:21", "10.1.0.21"), "h2"));
    view_.Put(Placed(MakeEndpoint("b1", "bweb", "52:54:00:00:01:11", "10.0.0.11"), "h1"));
    view_.Put(Placed(MakeEndpoint("b2", "bweb", "52:54:00:00:01:12", "10.0.0.12"), "h2"));
    view_.Put(MakePolicy("allow-pg", v1::Policy::ACTION_ALLOW, 6, 5432, 10));
    view_.Put(MakePolicy("reject-ssh", v1::Policy::ACTION_REJECT, 6, 22, 20));
    switches_ = {{"h1", {.tunnel_ip = "192.0.2.11", .up = true}},
                 {"h2", {.tunnel_ip = "192.0.2.12", .up = true}},
                 {"h3", {.tunnel_ip = "192.0.2.13", .up = false}}};
  }

  v1::TraceResult Trace(const std::string& source, const std::string& packet) {
    const auto spec = ParsePacketSpec(packet);
    EXPECT_TRUE(spec) << spec.error();
    v1::Endpoint endpoint;
    for (const auto& network : {"web", "db", "bweb"}) {
      for (const auto& e : view_.EndpointsOfNetwork(network)) {
        if (e.id() == source) endpoint = e;
      }
    }
    EXPECT_EQ(endpoint.id(), source);
    const TraceContext context{
        .switches = [this](std::string_view name) -> std::optional<SwitchInfo> {
          const auto found = switches_.find(std::string(name));
          if (found == switches_.end()) return std::nullopt;
          return found->second;
        },
        .router_mac = kRouterMac};
    return TraceFromModel(view_, context, endpoint, *spec);
  }

  // "stage:verdict" of every stage, in order.
  static std::vector<std::string> Path(const v1::TraceResult& result) {
    std::vector<std::string> path;
    for (const auto& stage : result.stages()) path.push_back(stage.stage() + ":" + stage.verdict());
    return path;
  }
  static const v1::TraceStage& Stage(const v1::TraceResult& result, const std::string& name) {
    for (const auto& stage : result.stages()) {
      if (stage.stage() == name) return stage;
    }
    ADD_FAILURE() << "no stage " << name;
    return result.stages(0);
  }
  static std::vector<std::string> Reached(const v1::TraceResult& result) {
    return {result.reached().begin(), result.reached().end()};
  }

  model::InMemoryModelView view_;
  std::map<std::string, SwitchInfo> switches_;
};

TEST_F(ModelTraceTest, ToAnotherHostOfTheNetworkIsEncapsulatedWithItsVniToItsTunnel) {
  const auto result = Trace("w1", "icmp to 10.0.0.12");
  EXPECT_EQ(result.outcome(), "delivered");
  EXPECT_THAT(Reached(result), ElementsAre("w2"));
  EXPECT_THAT(Path(result), ElementsAre("source:pass", "port_security:pass", "responder:answer",
                                        "policy:pass", "l2_lookup:pass", "encapsulation:pass",
                                        "receiving_switch:pass", "delivery:deliver"));
  EXPECT_THAT(Stage(result, "encapsulation").detail(),
              HasSubstr("VXLAN VNI 100 (\"web\"), from 192.0.2.11 to 192.0.2.12"));
  EXPECT_THAT(Stage(result, "responder").detail(), HasSubstr("52:54:00:00:00:12"));
  EXPECT_EQ(result.packet(), "icmp to 10.0.0.12");
}

TEST_F(ModelTraceTest, OnTheSameSwitchThereIsNoEncapsulation) {
  const auto result = Trace("w1", "tcp to 10.0.0.13:80");
  EXPECT_EQ(result.outcome(), "delivered");
  EXPECT_THAT(Path(result), ElementsAre("source:pass", "port_security:pass", "responder:answer",
                                        "policy:pass", "l2_lookup:pass", "delivery:deliver"));
  EXPECT_THAT(Stage(result, "delivery").detail(), HasSubstr("port tap-w3"));
}

TEST_F(ModelTraceTest, RoutedTrafficNamesTheRuleThatAllowedItAndTakesTheDestinationsVni) {
  const auto result = Trace("w1", "tcp to 10.1.0.21:5432");
  EXPECT_EQ(result.outcome(), "delivered");
  EXPECT_THAT(Reached(result), ElementsAre("d1"));
  EXPECT_THAT(Path(result),
              ElementsAre("source:pass", "port_security:pass", "responder:answer", "router:pass",
                          "policy:pass", "l2_lookup:pass", "encapsulation:pass",
                          "receiving_switch:pass", "delivery:deliver"));
  EXPECT_EQ(Stage(result, "policy").policy_id(), "allow-pg");
  EXPECT_THAT(Stage(result, "responder").detail(), HasSubstr(kRouterMac));
  EXPECT_THAT(Stage(result, "encapsulation").detail(), HasSubstr("VXLAN VNI 200"));
  EXPECT_THAT(Stage(result, "receiving_switch").detail(), HasSubstr("checked again"));
}

TEST_F(ModelTraceTest, APolicyDenialNamesItsRuleAndDefaultDenyNamesNone) {
  const auto rejected = Trace("w1", "tcp to 10.1.0.21:22");
  EXPECT_EQ(rejected.outcome(), "dropped");
  EXPECT_EQ(rejected.drop_reason(), "policy_denied");
  EXPECT_EQ(Path(rejected).back(), "policy:drop");
  EXPECT_EQ(Stage(rejected, "policy").policy_id(), "reject-ssh");
  EXPECT_THAT(Stage(rejected, "policy").detail(), HasSubstr("administratively prohibited"));
  const auto unmatched = Trace("w1", "udp to 10.1.0.21:53");
  EXPECT_EQ(unmatched.drop_reason(), "policy_default_deny");
  EXPECT_TRUE(Stage(unmatched, "policy").policy_id().empty());
  EXPECT_TRUE(unmatched.reached().empty());
}

TEST_F(ModelTraceTest, TheGatewayAnswersPingsOnlyAndArpForItWithTheRouterMac) {
  EXPECT_EQ(Trace("w1", "icmp to 10.0.0.1").outcome(), "answered");
  EXPECT_EQ(Trace("w1", "icmp to 10.1.0.1").outcome(), "answered") << "any gateway of the domain";
  EXPECT_EQ(Trace("w1", "tcp to 10.0.0.1:80").drop_reason(), "router_to_gateway");
  const auto arp = Trace("w1", "arp who-has 10.0.0.1");
  EXPECT_EQ(arp.outcome(), "answered");
  EXPECT_THAT(Stage(arp, "responder").detail(), HasSubstr(kRouterMac));
}

TEST_F(ModelTraceTest, ArpIsAnsweredForTheNetworkOnlyAndNeverForOneself) {
  const auto known = Trace("w1", "arp who-has 10.0.0.12");
  EXPECT_EQ(known.outcome(), "answered");
  EXPECT_THAT(Stage(known, "responder").detail(), HasSubstr("52:54:00:00:00:12"));
  EXPECT_EQ(Trace("w1", "arp who-has 10.0.0.77").drop_reason(), "resolve_failed");
  EXPECT_EQ(Trace("w1", "arp who-has 10.1.0.21").drop_reason(), "resolve_failed")
      << "another network's endpoint is not answered for";
  EXPECT_EQ(Trace("w1", "arp who-has 10.0.0.11").drop_reason(), "arp_for_own_address");
}

TEST_F(ModelTraceTest, UnknownDestinationsEndWhereTheSwitchGivesUp) {
  EXPECT_EQ(Trace("w1", "icmp to 10.0.0.77").drop_reason(), "resolve_failed");
  EXPECT_EQ(Trace("w1", "icmp to 10.9.9.9").drop_reason(), "route_none");
  EXPECT_EQ(Trace("w1", "tcp to 10.1.0.99:5432").drop_reason(), "route_host_unknown");
  EXPECT_EQ(Trace("w1", "udp to 52:54:00:99:99:99 port 7").drop_reason(), "resolve_failed");
  EXPECT_EQ(Trace("w1", "icmp to 10.0.0.15").drop_reason(), "resolve_failed")
      << "w5 is on no switch";
  EXPECT_EQ(Trace("w5", "icmp to 10.0.0.12").drop_reason(), "unknown_port")
      << "nothing sends for an endpoint on no switch";
  EXPECT_EQ(Trace("w1", "icmp to 2001:db8::5").drop_reason(), "source_ip_spoofed")
      << "w1 has no IPv6 address";
}

TEST_F(ModelTraceTest, ABroadcastReachesEveryOtherPortOfItsNetworkOnUpSwitches) {
  const auto result = Trace("w1", "udp to ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(result.outcome(), "flooded");
  EXPECT_THAT(Reached(result), ElementsAre("w2", "w3")) << "w4's switch is down, w5 on none";
  EXPECT_THAT(Stage(result, "l2_lookup").detail(), HasSubstr("192.0.2.12"));
  EXPECT_THAT(Path(result), ::testing::Contains("delivery:warn"));
}

TEST_F(ModelTraceTest, TenantsWithTheSameAddressesNeverReachEachOther) {
  const auto acme = Trace("w1", "icmp to 10.0.0.12");
  EXPECT_THAT(Reached(acme), ElementsAre("w2"));
  const auto blue = Trace("b1", "icmp to 10.0.0.12");
  EXPECT_THAT(Reached(blue), ElementsAre("b2"));
  EXPECT_THAT(Stage(blue, "encapsulation").detail(), HasSubstr("VNI 300"));
  EXPECT_EQ(Trace("b1", "tcp to 10.1.0.21:5432").drop_reason(), "route_none")
      << "acme's db is no route of blue's";
}

TEST_F(ModelTraceTest, ADownSwitchIsAWarningNotAVerdict) {
  const auto to_down = Trace("w1", "icmp to 10.0.0.14");
  EXPECT_EQ(to_down.outcome(), "delivered");
  EXPECT_EQ(Stage(to_down, "l2_lookup").verdict(), "warn");
  const auto from_down = Trace("w4", "icmp to 10.0.0.12");
  EXPECT_EQ(Stage(from_down, "source").verdict(), "warn");
  EXPECT_EQ(Stage(from_down, "receiving_switch").verdict(), "warn");
}

}  // namespace
}  // namespace dove::trace
