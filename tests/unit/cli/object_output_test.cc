// How objects become table rows. The Resolver points at a port nobody listens on, so names
// fall back to ids, as they do when a lookup fails for real.
#include "cli/object_output.h"

#include <gtest/gtest.h>

namespace dove::cli {
namespace {

class ObjectOutputTest : public ::testing::Test {
 protected:
  // Port 1 on loopback: refused at once, no timeout to wait for.
  ApiClient client_{{ControllerUrl{"127.0.0.1", 1}, "", std::chrono::seconds(1)}};
  Resolver resolver_{&client_};
};

TEST_F(ObjectOutputTest, PolicyRowNamesProtocolPortsAndAction) {
  const auto policy = nlohmann::json::parse(R"({
      "id":"p1","domain_id":"d1","source_network_id":"n1","destination_network_id":"n2",
      "action":"ACTION_ALLOW","protocol":6,"port_range":{"first":5432,"last":5432},"priority":10})");
  EXPECT_EQ(PolicyColumns().row(policy, resolver_),
            (std::vector<std::string>{"p1", "d1", "n1", "n2", "allow", "tcp", "5432", "10"}));

  const auto any = nlohmann::json::parse(R"({
      "id":"p2","action":"ACTION_DENY","protocol":0,"port_range":{"first":0,"last":0},
      "priority":0})");
  const auto row = PolicyColumns().row(any, resolver_);
  EXPECT_EQ(row[4], "deny");
  EXPECT_EQ(row[5], "any");
  EXPECT_EQ(row[6], "any");

  const auto range =
      nlohmann::json::parse(R"({"protocol":17,"port_range":{"first":1000,"last":2000}})");
  EXPECT_EQ(PolicyColumns().row(range, resolver_)[6], "1000-2000");
}

TEST_F(ObjectOutputTest, EndpointRowJoinsIps) {
  const auto endpoint = nlohmann::json::parse(R"({
      "id":"e1","network_id":"n1","mac":"52:54:00:00:00:01","ips":["10.1.0.2","2001:db8::2"],
      "switch_name":"hv1","port_name":"tap0","version":3})");
  EXPECT_EQ(EndpointColumns().row(endpoint, resolver_),
            (std::vector<std::string>{"e1", "", "n1", "52:54:00:00:00:01", "10.1.0.2,2001:db8::2",
                                      "hv1", "tap0", "", "3"}));
}

TEST_F(ObjectOutputTest, EndpointRowShowsNameAndLabelsInKeyOrder) {
  const auto endpoint = nlohmann::json::parse(R"({
      "id":"e1","name":"vm-1","network_id":"n1","mac":"52:54:00:00:00:01","ips":[],
      "labels":{"vm-uuid":"4f2a","app":"web","x":""},"version":1})");
  const auto row = EndpointColumns().row(endpoint, resolver_);
  ASSERT_EQ(row.size(), EndpointColumns().headers.size());
  EXPECT_EQ(row[1], "vm-1");
  EXPECT_EQ(row[7], "app=web,vm-uuid=4f2a,x=");
}

TEST_F(ObjectOutputTest, SubnetAndSwitchRows) {
  const auto subnet = nlohmann::json::parse(R"({
      "id":"s1","network_id":"n1","cidr":"10.1.0.0/24","gateway":"10.1.0.1",
      "dhcp_range":{"first":"10.1.0.100","last":"10.1.0.200"},"dns_servers":["1.1.1.1"],"mtu":0})");
  EXPECT_EQ(SubnetColumns().row(subnet, resolver_),
            (std::vector<std::string>{"s1", "n1", "10.1.0.0/24", "10.1.0.1",
                                      "10.1.0.100-10.1.0.200", "1.1.1.1", ""}));
  const auto sw = nlohmann::json::parse(R"({
      "id":"w1","name":"hv1","tunnel_ip":"192.0.2.1","state":"STATE_UP",
      "software_version":"1.2","last_heartbeat":"2026-01-01T00:00:00Z"})");
  EXPECT_EQ(
      SwitchColumns().row(sw, resolver_),
      (std::vector<std::string>{"w1", "hv1", "192.0.2.1", "up", "1.2", "2026-01-01T00:00:00Z"}));
}

TEST_F(ObjectOutputTest, MissingFieldsReadAsEmpty) {
  const auto row = NetworkColumns().row(nlohmann::json::object(), resolver_);
  EXPECT_EQ(row, (std::vector<std::string>{"", "", "", ""}));
  // Not even an object: still no crash.
  EXPECT_EQ(DomainColumns().row(nlohmann::json::array(), resolver_),
            (std::vector<std::string>{"", ""}));
}

}  // namespace
}  // namespace dove::cli
