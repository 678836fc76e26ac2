#include "model/validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "model/free_ranges.h"
#include "world.h"

namespace dove::model {
namespace {

using testing::MakeEndpoint;
using testing::MakeNetwork;
using testing::MakeSubnet;
using testing::MakeWorld;

// A rule check: an empty code means the object is accepted.
template <typename T>
struct RuleCase {
  const char* description;
  std::function<void(T*)> change;  // applied to a valid object
  const char* code;
  const char* message_part;
};

template <typename T>
void Check(const RuleCase<T>& c, const T& valid,
           const std::function<ModelResult<void>(const T&)>& validate) {
  SCOPED_TRACE(c.description);
  T object = valid;
  c.change(&object);
  auto result = validate(object);
  if (std::string(c.code).empty()) {
    EXPECT_TRUE(result) << result.error().code << ": " << result.error().message;
    return;
  }
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, c.code);
  EXPECT_NE(result.error().message.find(c.message_part), std::string::npos)
      << result.error().message;
}

TEST(ValidateNameTest, Rules) {
  struct Case {
    std::string name;
    bool ok;
  };
  const Case cases[] = {
      {"web", true},
      {"a", true},
      {"web-1.prod_x", true},
      {"9lives", true},
      {"", false},
      {std::string(63, 'a'), true},
      {std::string(64, 'a'), false},
      {"-web", false},
      {".web", false},
      {"_web", false},
      {"web server", false},
      {"web/1", false},
      {"caf\xc3\xa9", false},
      {"a\nb", false},
  };
  for (const auto& c : cases) {
    auto result = ValidateName("name", c.name);
    EXPECT_EQ(static_cast<bool>(result), c.ok) << "\"" << c.name << "\"";
    if (!result) {
      EXPECT_EQ(result.error().code, "invalid_value");
    }
  }
}

TEST(IsReservedAddressTest, Table) {
  struct Case {
    const char* prefix;
    const char* ip;
    bool reserved;
  };
  const Case cases[] = {
      {"10.0.0.0/24", "10.0.0.0", true},         {"10.0.0.0/24", "10.0.0.255", true},
      {"10.0.0.0/24", "10.0.0.7", false},        {"10.0.0.0/29", "10.0.0.7", true},
      {"10.0.0.0/30", "10.0.0.3", true},         {"10.0.0.0/31", "10.0.0.0", false},
      {"10.0.0.0/31", "10.0.0.1", false},        {"10.0.0.9/32", "10.0.0.9", false},
      {"2001:db8::/64", "2001:db8::", true},     {"2001:db8::/64", "2001:db8::ffff", false},
      {"2001:db8::/126", "2001:db8::", true},    {"2001:db8::/127", "2001:db8::", false},
      {"2001:db8::1/128", "2001:db8::1", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsReservedAddress(*net::IpPrefix::Parse(c.prefix), *net::IpAddress::Parse(c.ip)),
              c.reserved)
        << c.prefix << " " << c.ip;
  }
}

TEST(ValidateDomainTest, Rules) {
  v1::Domain valid;
  valid.set_id("d9");
  valid.set_name("tenant-a");
  const RuleCase<v1::Domain> cases[] = {
      {"valid", [](v1::Domain*) {}, "", ""},
      {"empty id", [](v1::Domain* d) { d->clear_id(); }, "invalid_value", "id"},
      {"empty name", [](v1::Domain* d) { d->clear_name(); }, "invalid_value", "name"},
      {"bad name", [](v1::Domain* d) { d->set_name("a b"); }, "invalid_value", "\"a b\""},
  };
  for (const auto& c : cases) {
    Check<v1::Domain>(c, valid, [](const v1::Domain& d) { return ValidateDomain(d); });
  }
}

TEST(ValidateNetworkTest, Rules) {
  const auto view = MakeWorld();
  const auto valid = MakeNetwork("n9", "d1", 900);
  const RuleCase<v1::Network> cases[] = {
      {"valid", [](v1::Network*) {}, "", ""},
      {"replacing itself keeps its vni", [](v1::Network* n) { n->set_id("n1"), n->set_vni(100); },
       "", ""},
      {"max vni", [](v1::Network* n) { n->set_vni(16777215); }, "", ""},
      {"vni 0", [](v1::Network* n) { n->set_vni(0); }, "invalid_value", "vni 0"},
      {"vni 2^24", [](v1::Network* n) { n->set_vni(16777216); }, "invalid_value", "16777216"},
      {"vni taken", [](v1::Network* n) { n->set_vni(300); }, "conflict", "network \"n3\""},
      {"unknown domain", [](v1::Network* n) { n->set_domain_id("dx"); }, "not_found", "\"dx\""},
      {"bad name", [](v1::Network* n) { n->set_name(""); }, "invalid_value", "name"},
  };
  for (const auto& c : cases) {
    Check<v1::Network>(c, valid, [&](const v1::Network& n) { return ValidateNetwork(view, n); });
  }
}

// A view that keeps free VNIs: AllocateVni answers from them, not by looking networks up.
TEST(AllocateVniTest, AnswersFromTheViewsFreeVnis) {
  class Kept final : public InMemoryModelView {
   public:
    const FreeRanges* FreeVnis() const override { return &free; }
    FreeRanges free{kMinVni, kMaxVni};
  };
  Kept view;
  view.free.RemoveRange(1, 99);
  EXPECT_EQ(AllocateVni(view).value(), 100u);
  EXPECT_EQ(AllocateVni(view, 5000).value(), 5000u);
  view.free.RemoveRange(100, kMaxVni);
  auto none = AllocateVni(view);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "vni_exhausted");
}

TEST(AllocateVniTest, LowestUnusedFromStart) {
  InMemoryModelView view;
  EXPECT_EQ(AllocateVni(view).value(), 1u);
  view.Put(MakeNetwork("a", "d", 1));
  view.Put(MakeNetwork("b", "d", 2));
  view.Put(MakeNetwork("c", "d", 4));
  EXPECT_EQ(AllocateVni(view).value(), 3u);
  EXPECT_EQ(AllocateVni(view, 0).value(), 3u);
  EXPECT_EQ(AllocateVni(view, 4).value(), 5u);
  EXPECT_EQ(AllocateVni(view, 5000).value(), 5000u);
  view.Put(MakeNetwork("z", "d", kMaxVni));
  auto none = AllocateVni(view, kMaxVni);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "vni_exhausted");
}

TEST(ValidateSubnetTest, Rules) {
  const auto view = MakeWorld();
  auto valid = MakeSubnet("s9", "n2", "10.2.0.0/24", "10.2.0.1");
  valid.mutable_dhcp_range()->set_first("10.2.0.10");
  valid.mutable_dhcp_range()->set_last("10.2.0.20");
  valid.add_dns_servers("10.2.0.1");
  valid.set_mtu(1450);
  const RuleCase<v1::Subnet> cases[] = {
      {"valid", [](v1::Subnet*) {}, "", ""},
      {"no gateway, no dhcp", [](v1::Subnet* s) { s->clear_gateway(), s->clear_dhcp_range(); }, "",
       ""},
      {"same prefix in another domain",
       [](v1::Subnet* s) {
         s->set_network_id("n3"), s->set_cidr("10.1.0.0/24"), s->set_gateway("10.1.0.1"),
             s->clear_dhcp_range(), s->clear_dns_servers();
       },
       "", ""},
      {"replacing itself", [](v1::Subnet* s) { s->set_id("s2"), s->set_cidr("10.1.0.0/16"); },
       "invalid_value", "gateway"},
      {"unknown network", [](v1::Subnet* s) { s->set_network_id("nx"); }, "not_found", "\"nx\""},
      {"bad cidr", [](v1::Subnet* s) { s->set_cidr("10.2.0/24"); }, "invalid_value",
       "not a prefix"},
      {"prefix too long", [](v1::Subnet* s) { s->set_cidr("10.2.0.0/33"); }, "invalid_value",
       "not a prefix"},
      {"host bits", [](v1::Subnet* s) { s->set_cidr("10.2.0.7/24"); }, "invalid_value",
       "did you mean 10.2.0.0/24?"},
      {"gateway outside", [](v1::Subnet* s) { s->set_gateway("10.3.0.1"); }, "invalid_value",
       "gateway \"10.3.0.1\" is not inside 10.2.0.0/24"},
      {"gateway not an ip", [](v1::Subnet* s) { s->set_gateway("router"); }, "invalid_value",
       "gateway"},
      {"gateway is network address", [](v1::Subnet* s) { s->set_gateway("10.2.0.0"); },
       "invalid_value", "network or broadcast"},
      {"gateway is broadcast", [](v1::Subnet* s) { s->set_gateway("10.2.0.255"); }, "invalid_value",
       "network or broadcast"},
      {"gateway other family", [](v1::Subnet* s) { s->set_gateway("2001:db8::1"); },
       "invalid_value", "not inside"},
      {"gateway in dhcp range", [](v1::Subnet* s) { s->set_gateway("10.2.0.15"); }, "invalid_value",
       "inside dhcp_range"},
      {"dhcp first outside", [](v1::Subnet* s) { s->mutable_dhcp_range()->set_first("10.9.0.1"); },
       "invalid_value", "dhcp_range.first"},
      {"dhcp last outside", [](v1::Subnet* s) { s->mutable_dhcp_range()->set_last("10.9.0.1"); },
       "invalid_value", "dhcp_range.last"},
      {"dhcp reversed", [](v1::Subnet* s) { s->mutable_dhcp_range()->set_first("10.2.0.30"); },
       "invalid_value", "is after dhcp_range.last"},
      {"dhcp single address",
       [](v1::Subnet* s) { s->mutable_dhcp_range()->set_first("10.2.0.20"); }, "", ""},
      {"bad dns", [](v1::Subnet* s) { s->add_dns_servers("dns.example"); }, "invalid_value",
       "dns_servers"},
      {"mtu 0 is the default", [](v1::Subnet* s) { s->set_mtu(0); }, "", ""},
      {"mtu 68", [](v1::Subnet* s) { s->set_mtu(68); }, "", ""},
      {"mtu 67", [](v1::Subnet* s) { s->set_mtu(67); }, "invalid_value", "68..9000 for IPv4"},
      {"mtu 9000", [](v1::Subnet* s) { s->set_mtu(9000); }, "", ""},
      {"mtu 9001", [](v1::Subnet* s) { s->set_mtu(9001); }, "invalid_value", "mtu 9001"},
      {"ipv6 mtu 1279",
       [](v1::Subnet* s) {
         s->set_cidr("2001:db8:9::/64"), s->clear_gateway(), s->clear_dhcp_range(),
             s->set_mtu(1279);
       },
       "invalid_value", "1280..9000 for IPv6"},
      {"ipv6 mtu 1280",
       [](v1::Subnet* s) {
         s->set_cidr("2001:db8:9::/64"), s->clear_gateway(), s->clear_dhcp_range(),
             s->set_mtu(1280);
       },
       "", ""},
      {"overlaps a subnet of another network of the domain",
       [](v1::Subnet* s) {
         s->set_cidr("10.0.0.128/25"), s->clear_gateway(), s->clear_dhcp_range();
       },
       "conflict", "overlaps 10.0.0.0/24 of subnet \"s4\""},
      {"contains a subnet of the domain",
       [](v1::Subnet* s) { s->set_cidr("10.0.0.0/8"), s->clear_dhcp_range(); }, "conflict",
       "subnet \"s4\""},
      {"ipv6 overlap",
       [](v1::Subnet* s) {
         s->set_cidr("2001:db8::/48"), s->clear_gateway(), s->clear_dhcp_range();
       },
       "conflict", "subnet \"s6\""},
  };
  for (const auto& c : cases) {
    Check<v1::Subnet>(c, valid, [&](const v1::Subnet& s) { return ValidateSubnet(view, s); });
  }
}

TEST(ValidateEndpointTest, Rules) {
  const auto view = MakeWorld();
  const auto valid = MakeEndpoint("e9", "n1", "52:54:00:00:00:09", "10.0.0.9");
  const RuleCase<v1::Endpoint> cases[] = {
      {"valid", [](v1::Endpoint*) {}, "", ""},
      {"two families", [](v1::Endpoint* e) { e->add_ips("2001:db8::9"); }, "", ""},
      {"upper-case mac", [](v1::Endpoint* e) { e->set_mac("52:54:00:00:00:0A"); }, "", ""},
      {"bound to a switch port",
       [](v1::Endpoint* e) { e->set_switch_name("host-1"), e->set_port_name("tap9"); }, "", ""},
      {"replacing itself keeps its mac and ip",
       [](v1::Endpoint* e) { e->set_id("e1"), e->set_mac("52:54:00:00:00:01"); }, "", ""},
      {"same ip in another domain",
       [](v1::Endpoint* e) { e->set_network_id("n3"), e->clear_ips(), e->add_ips("10.0.0.5"); }, "",
       ""},
      {"same mac in another network",
       [](v1::Endpoint* e) {
         e->set_network_id("n2"), e->set_mac("52:54:00:00:00:01"), e->clear_ips(),
             e->add_ips("10.1.0.5");
       },
       "", ""},
      {"unknown network", [](v1::Endpoint* e) { e->set_network_id("nx"); }, "not_found", "\"nx\""},
      {"bad mac", [](v1::Endpoint* e) { e->set_mac("52-54-00-00-00-09"); }, "invalid_value", "mac"},
      {"multicast mac", [](v1::Endpoint* e) { e->set_mac("01:00:5e:00:00:01"); }, "invalid_value",
       "unicast"},
      {"broadcast mac", [](v1::Endpoint* e) { e->set_mac("ff:ff:ff:ff:ff:ff"); }, "invalid_value",
       "unicast"},
      {"zero mac", [](v1::Endpoint* e) { e->set_mac("00:00:00:00:00:00"); }, "invalid_value",
       "unicast"},
      {"mac taken in network", [](v1::Endpoint* e) { e->set_mac("52:54:00:00:00:01"); }, "conflict",
       "endpoint \"e1\""},
      {"bad ip", [](v1::Endpoint* e) { e->add_ips("10.0.0"); }, "invalid_value", "\"10.0.0\""},
      {"ip twice", [](v1::Endpoint* e) { e->add_ips("10.0.0.9"); }, "invalid_value", "twice"},
      {"ip outside subnets", [](v1::Endpoint* e) { e->add_ips("10.1.0.9"); }, "invalid_value",
       "not inside any subnet of network \"n1\""},
      {"ip is network address", [](v1::Endpoint* e) { e->add_ips("10.0.0.0"); }, "invalid_value",
       "network or broadcast"},
      {"ip is broadcast", [](v1::Endpoint* e) { e->add_ips("10.0.0.255"); }, "invalid_value",
       "network or broadcast"},
      {"ip is gateway", [](v1::Endpoint* e) { e->add_ips("10.0.0.1"); }, "conflict",
       "gateway of subnet \"s4\""},
      {"ip taken in domain", [](v1::Endpoint* e) { e->add_ips("10.0.0.5"); }, "conflict",
       "endpoint \"e1\""},
      {"bad switch name", [](v1::Endpoint* e) { e->set_switch_name("host 1"); }, "invalid_value",
       "switch_name"},
      {"bad port name", [](v1::Endpoint* e) { e->set_port_name("tap/9"); }, "invalid_value",
       "port_name"},
      {"a packet port",
       [](v1::Endpoint* e) { e->set_port_name("vnet3"), e->set_port_kind(v1::PORT_KIND_PACKET); },
       "", ""},
      {"a tap port named",
       [](v1::Endpoint* e) { e->set_port_name("tap9"), e->set_port_kind(v1::PORT_KIND_TAP); }, "",
       ""},
      {"a tap port unnamed", [](v1::Endpoint* e) { e->set_port_kind(v1::PORT_KIND_TAP); }, "", ""},
      {"named", [](v1::Endpoint* e) { e->set_name("vm-9"); }, "", ""},
      {"bad name", [](v1::Endpoint* e) { e->set_name("vm 9"); }, "invalid_value", "name \"vm 9\""},
      {"labelled",
       [](v1::Endpoint* e) {
         (*e->mutable_labels())["vm-uuid"] = "4f2a", (*e->mutable_labels())["x"] = "";
       },
       "", ""},
      {"bad label key", [](v1::Endpoint* e) { (*e->mutable_labels())["vm uuid"] = "1"; },
       "invalid_value", "label key \"vm uuid\""},
      {"bad label value", [](v1::Endpoint* e) { (*e->mutable_labels())["k"] = "a,b"; },
       "invalid_value", "the value of label \"k\""},
      {"a packet port needs its interface's name",
       [](v1::Endpoint* e) { e->set_port_kind(v1::PORT_KIND_PACKET); }, "invalid_value",
       "needs a port_name"},
      {"unknown port kind", [](v1::Endpoint* e) { e->set_port_kind(static_cast<v1::PortKind>(7)); },
       "invalid_value", "port_kind 7 is not a known kind"},
  };
  for (const auto& c : cases) {
    Check<v1::Endpoint>(c, valid, [&](const v1::Endpoint& e) { return ValidateEndpoint(view, e); });
  }
}

TEST(ValidateEndpointTest, IpTakenInAnotherNetworkOfTheDomainNamesTheHolder) {
  auto view = MakeWorld();
  // s2 of n2 holds 10.1.0.0/24; an endpoint there at .7; another n2 endpoint wants .7 too.
  view.Put(MakeEndpoint("e2", "n2", "52:54:00:00:00:02", "10.1.0.7"));
  auto result = ValidateEndpoint(view, MakeEndpoint("e3", "n2", "52:54:00:00:00:03", "10.1.0.7"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "conflict");
  EXPECT_EQ(result.error().message,
            "ip 10.1.0.7 is already used by endpoint \"e2\" in domain \"d1\".");
}

TEST(ValidateSwitchTest, Rules) {
  v1::Switch valid;
  valid.set_id("sw1");
  valid.set_name("host-1");
  valid.set_tunnel_ip("192.0.2.1");
  valid.set_state(v1::Switch::STATE_UP);
  const RuleCase<v1::Switch> cases[] = {
      {"valid", [](v1::Switch*) {}, "", ""},
      {"ipv6 tunnel", [](v1::Switch* s) { s->set_tunnel_ip("2001:db8::1"); }, "", ""},
      {"bad name", [](v1::Switch* s) { s->set_name(""); }, "invalid_value", "name"},
      {"bad tunnel ip", [](v1::Switch* s) { s->set_tunnel_ip("host"); }, "invalid_value",
       "tunnel_ip"},
      {"unknown state", [](v1::Switch* s) { s->set_state(static_cast<v1::Switch::State>(9)); },
       "invalid_value", "state 9"},
  };
  for (const auto& c : cases) {
    Check<v1::Switch>(c, valid, [](const v1::Switch& s) { return ValidateSwitch(s); });
  }
}

TEST(ValidatePolicyTest, Rules) {
  const auto view = MakeWorld();
  v1::Policy valid;
  valid.set_id("p1");
  valid.set_domain_id("d1");
  valid.set_source_network_id("n1");
  valid.set_destination_network_id("n2");
  valid.set_action(v1::Policy::ACTION_ALLOW);
  valid.set_protocol(6);
  valid.mutable_port_range()->set_first(80);
  valid.mutable_port_range()->set_last(443);
  const RuleCase<v1::Policy> cases[] = {
      {"valid", [](v1::Policy*) {}, "", ""},
      {"any protocol", [](v1::Policy* p) { p->set_protocol(0), p->clear_port_range(); }, "", ""},
      {"udp single port",
       [](v1::Policy* p) {
         p->set_protocol(17), p->mutable_port_range()->set_first(53),
             p->mutable_port_range()->set_last(53);
       },
       "", ""},
      {"deny", [](v1::Policy* p) { p->set_action(v1::Policy::ACTION_DENY); }, "", ""},
      {"reject", [](v1::Policy* p) { p->set_action(v1::Policy::ACTION_REJECT); }, "", ""},
      {"unknown domain", [](v1::Policy* p) { p->set_domain_id("dx"); }, "not_found", "\"dx\""},
      {"unknown source", [](v1::Policy* p) { p->set_source_network_id("nx"); }, "not_found",
       "source_network_id \"nx\""},
      {"unknown destination", [](v1::Policy* p) { p->set_destination_network_id("nx"); },
       "not_found", "destination_network_id \"nx\""},
      {"destination in another domain", [](v1::Policy* p) { p->set_destination_network_id("n3"); },
       "invalid_value", "domain \"d2\""},
      {"action unspecified", [](v1::Policy* p) { p->set_action(v1::Policy::ACTION_UNSPECIFIED); },
       "invalid_value", "action"},
      {"action unknown number",
       [](v1::Policy* p) { p->set_action(static_cast<v1::Policy::Action>(7)); }, "invalid_value",
       "action"},
      {"protocol 256", [](v1::Policy* p) { p->set_protocol(256), p->clear_port_range(); },
       "invalid_value", "protocol 256"},
      {"ports without tcp/udp", [](v1::Policy* p) { p->set_protocol(1); }, "invalid_value",
       "port_range needs"},
      {"ports with any protocol", [](v1::Policy* p) { p->set_protocol(0); }, "invalid_value",
       "port_range needs"},
      {"port 0", [](v1::Policy* p) { p->mutable_port_range()->set_first(0); }, "invalid_value",
       "1..65535"},
      {"port 65536", [](v1::Policy* p) { p->mutable_port_range()->set_last(65536); },
       "invalid_value", "1..65535"},
      {"ports reversed", [](v1::Policy* p) { p->mutable_port_range()->set_first(444); },
       "invalid_value", "is after port_range.last"},
  };
  for (const auto& c : cases) {
    Check<v1::Policy>(c, valid, [&](const v1::Policy& p) { return ValidatePolicy(view, p); });
  }
}

TEST(ValidateEndpointTest, ANameIsUniqueInItsNetworkOnly) {
  auto view = MakeWorld();
  auto named = MakeEndpoint("e2", "n1", "52:54:00:00:00:02", "10.0.0.6");
  named.set_name("web-1");
  view.Put(named);
  auto same_name = MakeEndpoint("e9", "n1", "52:54:00:00:00:09", "10.0.0.9");
  same_name.set_name("web-1");
  auto refused = ValidateEndpoint(view, same_name);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "conflict");
  EXPECT_NE(refused.error().message.find("name \"web-1\" is already used by endpoint \"e2\""),
            std::string::npos)
      << refused.error().message;
  // The endpoint itself, replaced with its own name, does not conflict.
  EXPECT_TRUE(ValidateEndpoint(view, named));
  // Another network may use the name.
  same_name.set_network_id("n3");
  same_name.clear_ips();
  same_name.add_ips("10.0.0.9");
  EXPECT_TRUE(ValidateEndpoint(view, same_name));
}

}  // namespace
}  // namespace dove::model
