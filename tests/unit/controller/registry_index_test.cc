// RegistryIndex: endpoints kept encoded come back exactly as put, children lists keep their
// insertion order through replaces and removals, and the secondary indexes follow a move.
#include "controller/registry_index.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dove::controller {
namespace {

v1::Endpoint MakeEndpoint(const std::string& id, const std::string& network, const std::string& mac,
                          const std::string& ip, const std::string& switch_name) {
  v1::Endpoint e;
  e.set_id(id);
  e.set_network_id(network);
  e.set_mac(mac);
  e.add_ips(ip);
  e.set_switch_name(switch_name);
  e.set_port_name("tap-" + id);
  e.set_version(1);
  return e;
}

std::vector<std::string> Ids(const std::vector<v1::Endpoint>& endpoints) {
  std::vector<std::string> ids;
  ids.reserve(endpoints.size());
  for (const auto& e : endpoints) ids.push_back(e.id());
  return ids;
}

class RegistryIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Domain domain;
    domain.set_id("d1");
    domain.set_name("acme");
    index_.Put(domain, 1);
    v1::Network network;
    network.set_id("n1");
    network.set_domain_id("d1");
    network.set_name("web");
    network.set_vni(100);
    index_.Put(network, 2);
    a_ = MakeEndpoint("a", "n1", "52:54:00:00:00:0a", "10.0.0.10", "sw1");
    b_ = MakeEndpoint("b", "n1", "52:54:00:00:00:0b", "10.0.0.11", "sw1");
    c_ = MakeEndpoint("c", "n1", "52:54:00:00:00:0c", "10.0.0.12", "sw2");
    index_.Put(a_, 3);
    index_.Put(b_, 4);
    index_.Put(c_, 5);
  }

  RegistryIndex index_;
  v1::Endpoint a_, b_, c_;
};

TEST_F(RegistryIndexTest, EndpointsComeBackExactlyAsPut) {
  auto found = index_.FindEndpointByMac("n1", *net::MacAddress::Parse("52:54:00:00:00:0b"));
  ASSERT_TRUE(found);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*found, b_));
  auto by_ip = index_.FindEndpointByIp("d1", *net::IpAddress::Parse("10.0.0.12"));
  ASSERT_TRUE(by_ip);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*by_ip, c_));
  const auto* entry = index_.Find<v1::Endpoint>("a");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->mod_revision, 3);
  EXPECT_EQ(TextOf(entry->domain_id), "d1");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ObjectOf(*entry), a_));
  EXPECT_FALSE(index_.FindEndpointByIp("d2", *net::IpAddress::Parse("10.0.0.12")));
}

TEST_F(RegistryIndexTest, AReplaceKeepsItsPlaceAndMovesTheSecondaryIndexes) {
  v1::Endpoint moved = b_;
  moved.set_switch_name("sw2");
  moved.set_mac("52:54:00:00:00:bb");
  moved.set_version(2);
  index_.Put(moved, 6);
  EXPECT_EQ(Ids(index_.EndpointsOfNetwork("n1")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Ids(index_.EndpointsOfSwitch("sw1")), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ids(index_.EndpointsOfSwitch("sw2")), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(index_.FindEndpointByMac("n1", *net::MacAddress::Parse("52:54:00:00:00:0b")));
  auto found = index_.FindEndpointByMac("n1", *net::MacAddress::Parse("52:54:00:00:00:bb"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version(), 2u);
  EXPECT_EQ(index_.Find<v1::Endpoint>("b")->mod_revision, 6);
}

// Those of a network on a switch: the intersection of both lists, through a move, a second
// network and an endpoint on no switch.
TEST_F(RegistryIndexTest, EndpointsOfANetworkOnASwitchAreThoseInBoth) {
  v1::Network other;
  other.set_id("n2");
  other.set_domain_id("d1");
  other.set_name("db");
  other.set_vni(200);
  index_.Put(other, 6);
  index_.Put(MakeEndpoint("d", "n2", "52:54:00:00:00:0d", "10.0.1.10", "sw1"), 7);
  index_.Put(MakeEndpoint("e", "n1", "52:54:00:00:00:0e", "10.0.0.13", ""), 8);
  index_.Put(MakeEndpoint("f", "n1", "52:54:00:00:00:0f", "10.0.0.14", "sw1"), 9);
  EXPECT_EQ(Ids(index_.EndpointsOfNetworkOnSwitch("n1", "sw1")),
            (std::vector<std::string>{"a", "b", "f"}));
  EXPECT_EQ(Ids(index_.EndpointsOfNetworkOnSwitch("n2", "sw1")), (std::vector<std::string>{"d"}));
  EXPECT_EQ(Ids(index_.EndpointsOfNetworkOnSwitch("n1", "sw2")), (std::vector<std::string>{"c"}));
  v1::Endpoint moved = a_;
  moved.set_switch_name("sw2");
  moved.set_version(2);
  index_.Put(moved, 10);
  EXPECT_EQ(Ids(index_.EndpointsOfNetworkOnSwitch("n1", "sw1")),
            (std::vector<std::string>{"b", "f"}));
  EXPECT_EQ(Ids(index_.EndpointsOfNetworkOnSwitch("n1", "sw2")),
            (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(index_.EndpointsOfNetworkOnSwitch("n2", "sw2").empty());
  EXPECT_TRUE(index_.EndpointsOfNetworkOnSwitch("n1", "no-such-switch").empty());
  EXPECT_TRUE(index_.EndpointsOfNetworkOnSwitch("no-such-network", "sw1").empty());
}

TEST_F(RegistryIndexTest, ErasedEndpointsLeaveEveryIndex) {
  index_.Erase<v1::Endpoint>("a");
  index_.Erase<v1::Endpoint>("c");
  EXPECT_EQ(Ids(index_.EndpointsOfNetwork("n1")), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(index_.EndpointsOfSwitch("sw2").empty());
  EXPECT_FALSE(index_.FindEndpointByIp("d1", *net::IpAddress::Parse("10.0.0.10")));
  EXPECT_FALSE(index_.FindEndpointByMac("n1", *net::MacAddress::Parse("52:54:00:00:00:0c")));
  EXPECT_EQ(index_.Find<v1::Endpoint>("a"), nullptr);
  EXPECT_EQ(index_.Counts().endpoints, 1u);
  // A new endpoint goes after the survivors.
  index_.Put(MakeEndpoint("a", "n1", "52:54:00:00:00:0a", "10.0.0.10", "sw1"), 7);
  EXPECT_EQ(Ids(index_.EndpointsOfNetwork("n1")), (std::vector<std::string>{"b", "a"}));
}

}  // namespace
}  // namespace dove::controller
