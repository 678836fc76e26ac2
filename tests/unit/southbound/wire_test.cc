// wire.h: what the southbound assembles by hand parses with protobuf's own parser exactly as
// the messages it stands for; RevisionOf reads what ControllerMessage.revision says.
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
  EXPECT_EQ(RevisionOf(wire), 300);
}

TEST(WireTest, RevisionOfReadsTheFieldWhereverItIsAndZeroOtherwise) {
  v1::ControllerMessage message;
  message.mutable_sync_done();
  EXPECT_EQ(RevisionOf(message.SerializeAsString()), 0) << "absent";
  message.set_revision(int64_t{1} << 40);
  EXPECT_EQ(RevisionOf(message.SerializeAsString()), int64_t{1} << 40);
  // After another field (a parser takes fields in any order).
  v1::ControllerMessage body_only;
  body_only.mutable_sync_done();
  std::string wire = body_only.SerializeAsString();
  v1::ControllerMessage revision_only;
  revision_only.set_revision(77);
  wire += revision_only.SerializeAsString();
  EXPECT_EQ(RevisionOf(wire), 77);
  EXPECT_EQ(RevisionOf(std::string("\xff\xff\xff", 3)), 0) << "undecodable";
  EXPECT_EQ(RevisionOf(""), 0);
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
