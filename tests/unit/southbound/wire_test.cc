// wire.h: what the southbound assembles by hand parses with protobuf's own parser exactly as
// the messages it stands for.
#include "controller/southbound/wire.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "dove/v1/switch.pb.h"

namespace dove::controller::southbound {
namespace {

TEST(WireTest, AHandAssembledConfigParsesAsTheMessage) {
  v1::ControllerMessage whole;
  whole.set_revision(300);  // a two-byte varint
  auto* config = whole.mutable_network_config();
  config->mutable_network()->set_id("web");
  config->add_flood_tunnel_ips("192.0.2.2");
  for (int i = 0; i < 200; ++i) {  // lengths over 127: multi-byte varints
    auto* routed = config->add_domain_subnets();
    routed->set_cidr("10." + std::to_string(i) + ".0.0/24");
    routed->set_network_id(std::string(150, 'n'));
    routed->set_vni(static_cast<uint32_t>(100 + i));
  }
  config->add_domain_tunnel_ips("192.0.2.3");
  config->add_domain_tunnel_ips("192.0.2.4");

  // As SendConfig builds it: the config without its domain part, then the domain's fields.
  v1::NetworkConfig plain = *config;
  plain.clear_domain_subnets();
  plain.clear_domain_tunnel_ips();
  std::string body = plain.SerializeAsString();
  for (const auto& routed : config->domain_subnets()) {
    AppendLengthDelimited(v1::NetworkConfig::kDomainSubnetsFieldNumber, routed.SerializeAsString(),
                          &body);
  }
  for (const auto& ip : config->domain_tunnel_ips()) {
    AppendLengthDelimited(v1::NetworkConfig::kDomainTunnelIpsFieldNumber, ip, &body);
  }
  v1::ControllerMessage head;
  head.set_revision(300);
  std::string wire = head.SerializeAsString();
  AppendLengthDelimited(v1::ControllerMessage::kNetworkConfigFieldNumber, body, &wire);

  v1::ControllerMessage parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, whole))
      << parsed.ShortDebugString().substr(0, 400);
}

TEST(WireTest, AppendVarintMatchesProtobufsEncoding) {
  for (uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                         uint64_t{1} << 35, ~uint64_t{0}}) {
    v1::ControllerMessage message;
    message.set_revision(static_cast<int64_t>(value));
    std::string expected = message.SerializeAsString();
    std::string built;
    if (value != 0) {
      built.push_back(static_cast<char>(0x08));  // field 1, varint
      AppendVarint(value, &built);
    }
    EXPECT_EQ(built, expected) << value;
  }
}

}  // namespace
}  // namespace dove::controller::southbound
