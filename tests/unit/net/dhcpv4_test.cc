// DHCPv4: a request built by scapy, every parse error, the options getters, and replies
// (OFFER, ACK, ACK to INFORM, NAK) checked byte for byte and re-parsed.
#include "net/dhcpv4.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "net/frame_builder.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {

inline void PrintTo(DhcpMessageType type, std::ostream* out) {
  *out << "DhcpMessageType(" << static_cast<int>(type) << ")";
}

namespace {

using Type = DhcpMessageType;

constexpr uint32_t kXid = 0xdeadbeef;
const MacAddress kClient = *MacAddress::Parse("52:54:00:00:00:01");
const Ipv4Address kServer = *Ipv4Address::Parse("10.0.0.1");
const Ipv4Address kOffered = *Ipv4Address::Parse("10.0.0.5");

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> TypeOption(Type type) { return Bytes({53, 1, static_cast<int>(type)}); }

// A message from kClient: the fixed part with `op`, the magic cookie, then `options` as given
// (END included only if the caller puts it there).
std::vector<uint8_t> Message(const std::vector<uint8_t>& options, uint8_t op = dhcp::kBootRequest) {
  DhcpHeader header{};
  header.op = op;
  header.htype = dhcp::kHtypeEthernet;
  header.hlen = 6;
  header.xid = Be32::Of(kXid);
  header.flags = Be16::Of(dhcp::kFlagBroadcast);
  header.giaddr = *Ipv4Address::Parse("10.0.0.254");
  for (size_t i = 0; i < 6; ++i) header.chaddr[i] = kClient.bytes()[i];
  FrameBuilder builder;
  builder.Append(header);
  builder.Append(Be32::Of(dhcp::kMagicCookie));
  builder.Append(options);
  return builder.bytes();
}

std::vector<uint8_t> Request(Type type, const std::vector<uint8_t>& more_options = {}) {
  return Message(Concat(Concat(TypeOption(type), more_options), Bytes({255})));
}

bool Inside(ByteSpan view, const std::vector<uint8_t>& buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

std::vector<uint8_t> ToVector(std::optional<ByteSpan> span) {
  if (!span) return {};
  return {span->begin(), span->end()};
}

// /usr/bin/python3 -c 'from scapy.all import *; print(bytes(
//   BOOTP(chaddr=bytes.fromhex("525400000001"), xid=0x12345678, flags=0x8000)/
//   DHCP(options=[("message-type","request"), ("requested_addr","10.0.0.5"),
//                 ("server_id","10.0.0.1"), ("hostname","vm1"),
//                 ("param_req_list",[1,3,6,15,26]), ("client_id", b"\x01RT\x00\x00\x00\x01"),
//                 ("lease_time", 3600), "end"])).hex())'                   (scapy 2.5.0)
const std::vector<uint8_t> kScapyRequest = FromHex(
    "0101060012345678000080000000000000000000000000000000000052540000000100000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000006382536335010332040a00000536040a0000010c03766d3137050103"
    "060f1a3d0701525400000001330400000e10ff");

TEST(DhcpTest, ParsesScapyRequest) {
  ASSERT_EQ(kScapyRequest.size(), 283u);
  auto message = ParseDhcp(kScapyRequest);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->op(), dhcp::kBootRequest);
  EXPECT_EQ(message->xid(), 0x12345678u);
  EXPECT_EQ(message->secs(), 0);
  EXPECT_EQ(message->flags(), 0x8000);
  EXPECT_TRUE(message->broadcast());
  EXPECT_EQ(message->header.hops, 0);
  EXPECT_TRUE(message->ciaddr().IsUnspecified());
  EXPECT_TRUE(message->yiaddr().IsUnspecified());
  EXPECT_TRUE(message->siaddr().IsUnspecified());
  EXPECT_TRUE(message->giaddr().IsUnspecified());
  EXPECT_EQ(message->client_mac(), kClient);
  EXPECT_EQ(message->type, Type::kRequest);
  // 43 bytes follow the cookie; the options area stops before END.
  EXPECT_EQ(message->options.data(), kScapyRequest.data() + 240);
  EXPECT_EQ(message->options.size(), 42u);

  EXPECT_EQ(RequestedIp(*message), kOffered);
  EXPECT_EQ(ServerId(*message), kServer);
  EXPECT_EQ(Hostname(*message), "vm1");
  EXPECT_EQ(ToVector(ParameterRequestList(*message)), Bytes({1, 3, 6, 15, 26}));
  EXPECT_EQ(ToVector(ClientId(*message)), Bytes({1, 0x52, 0x54, 0, 0, 0, 1}));
  EXPECT_EQ(LeaseTime(*message), 3600u);
  EXPECT_EQ(MaxMessageSize(*message), std::nullopt);
  EXPECT_EQ(FindOption(*message, dhcp_option::kDnsServer), std::nullopt);
}

TEST(DhcpTest, RefusesMalformedMessages) {
  struct Case {
    const char* description;
    std::vector<uint8_t> message;
    Error error;
  };
  const auto good = Request(Type::kDiscover);
  auto with = [&good](size_t offset, uint8_t value) {
    auto bytes = good;
    bytes[offset] = value;
    return bytes;
  };
  const std::vector<Case> cases = {
      {"empty", {}, Error::kTruncated},
      {"235 bytes", std::vector<uint8_t>(good.begin(), good.begin() + 235), Error::kTruncated},
      {"op 0", with(0, 0), Error::kBadField},
      {"op 3", with(0, 3), Error::kBadField},
      {"htype 6 (IEEE 802)", with(1, 6), Error::kUnsupported},
      {"hlen 16", with(2, 16), Error::kUnsupported},
      {"fixed part only", std::vector<uint8_t>(good.begin(), good.begin() + 236),
       Error::kTruncated},
      {"cookie cut short", std::vector<uint8_t>(good.begin(), good.begin() + 239),
       Error::kTruncated},
      {"bad cookie", with(239, 0x64), Error::kBadField},
      {"no options (BOOTP)", Message({}), Error::kBadField},
      {"END only", Message(Bytes({255})), Error::kBadField},
      {"type after END", Message(Concat(Bytes({255}), TypeOption(Type::kDiscover))),
       Error::kBadField},
      {"code without length", Message(Concat(TypeOption(Type::kDiscover), Bytes({12}))),
       Error::kTruncated},
      {"value past the end", Message(Concat(TypeOption(Type::kDiscover), Bytes({12, 4, 'v', 'm'}))),
       Error::kTruncated},
      {"type value past the end", Message(Bytes({53, 1})), Error::kTruncated},
      {"type 0", Request(Type(0)), Error::kBadField},
      {"type 9", Request(Type(9)), Error::kBadField},
      {"type of 2 bytes", Message(Bytes({53, 2, 1, 1, 255})), Error::kBadField},
      {"type of 0 bytes", Message(Bytes({53, 0, 255})), Error::kBadField},
      {"type twice", Request(Type::kDiscover, TypeOption(Type::kDiscover)), Error::kBadField},
      {"requested IP of 3 bytes", Request(Type::kRequest, Bytes({50, 3, 10, 0, 0})),
       Error::kBadLength},
      {"server id of 5 bytes", Request(Type::kRequest, Bytes({54, 5, 10, 0, 0, 1, 0})),
       Error::kBadLength},
      {"lease of 2 bytes", Request(Type::kRequest, Bytes({51, 2, 0, 1})), Error::kBadLength},
      {"DNS of 6 bytes", Request(Type::kRequest, Bytes({6, 6, 1, 1, 1, 1, 8, 8})),
       Error::kBadLength},
      {"router of 0 bytes", Request(Type::kRequest, Bytes({3, 0})), Error::kBadLength},
      {"max size of 1 byte", Request(Type::kRequest, Bytes({57, 1, 2})), Error::kBadLength},
      {"MTU of 4 bytes", Request(Type::kRequest, Bytes({26, 4, 0, 0, 5, 0xdc})), Error::kBadLength},
      {"client id of 1 byte", Request(Type::kRequest, Bytes({61, 1, 1})), Error::kBadLength},
      {"empty hostname", Request(Type::kRequest, Bytes({12, 0})), Error::kBadLength},
      {"empty parameter list", Request(Type::kRequest, Bytes({55, 0})), Error::kBadLength},
      {"option overload", Request(Type::kRequest, Bytes({52, 1, 3})), Error::kUnsupported},
      {"bad length before overload", Message(Bytes({50, 1, 0, 52, 1, 3, 53, 1, 1, 255})),
       Error::kBadLength},
  };
  for (const auto& c : cases) {
    auto parsed = ParseDhcp(c.message);
    ASSERT_FALSE(parsed) << c.description;
    EXPECT_EQ(parsed.error(), c.error) << c.description;
  }
}

TEST(DhcpTest, AcceptsWhatClientsReallySend) {
  struct Case {
    const char* description;
    std::vector<uint8_t> message;
    Type type;
    size_t options_size;
  };
  const std::vector<Case> cases = {
      {"minimal", Request(Type::kDiscover), Type::kDiscover, 3},
      {"no END", Message(TypeOption(Type::kInform)), Type::kInform, 3},
      {"pads before and between",
       Message(
           Concat(Concat(Bytes({0, 0}), TypeOption(Type::kRelease)), Bytes({0, 12, 1, 'a', 255}))),
       Type::kRelease, 9},
      {"padding after END", Concat(Request(Type::kDecline), std::vector<uint8_t>(56, 0)),
       Type::kDecline, 3},
      {"garbage after END", Concat(Request(Type::kDecline), Bytes({52, 1, 1, 53, 9})),
       Type::kDecline, 3},
      {"unknown option with any length", Request(Type::kRequest, Bytes({224, 0, 81, 3, 0, 0, 0})),
       Type::kRequest, 10},
      {"BOOTREPLY", Message(Concat(TypeOption(Type::kAck), Bytes({255})), dhcp::kBootReply),
       Type::kAck, 3},
  };
  for (const auto& c : cases) {
    auto parsed = ParseDhcp(c.message);
    ASSERT_TRUE(parsed) << c.description << ": " << ErrorName(parsed.error());
    EXPECT_EQ(parsed->type, c.type) << c.description;
    EXPECT_EQ(parsed->options.size(), c.options_size) << c.description;
    EXPECT_EQ(parsed->options.data(), c.message.data() + 240) << c.description;
    EXPECT_EQ(parsed->xid(), kXid) << c.description;
    EXPECT_EQ(parsed->client_mac(), kClient) << c.description;
  }
}

TEST(DhcpTest, FindOptionWalksTheOptions) {
  const auto bytes = Request(Type::kRequest,
                             Bytes({0, 12, 2, 'a', 'b', 12, 2, 'c', 'd', 0, 0, 57, 2, 0x05, 0xdc}));
  auto message = ParseDhcp(bytes);
  ASSERT_TRUE(message);
  // The first instance wins (RFC 3396 concatenation is not done).
  EXPECT_EQ(Hostname(*message), "ab");
  EXPECT_EQ(MaxMessageSize(*message), 1500);
  EXPECT_EQ(ToVector(FindOption(*message, dhcp_option::kMessageType)), Bytes({3}));
  EXPECT_TRUE(Inside(*FindOption(*message, dhcp_option::kMaxMessageSize), bytes));
  EXPECT_EQ(FindOption(*message, dhcp_option::kPad), std::nullopt);
  EXPECT_EQ(FindOption(*message, dhcp_option::kEnd), std::nullopt);
  EXPECT_EQ(FindOption(*message, dhcp_option::kRequestedIp), std::nullopt);
  EXPECT_EQ(RequestedIp(*message), std::nullopt);
  EXPECT_EQ(ServerId(*message), std::nullopt);
  EXPECT_EQ(LeaseTime(*message), std::nullopt);
  EXPECT_EQ(ParameterRequestList(*message), std::nullopt);
  EXPECT_EQ(ClientId(*message), std::nullopt);
}

TEST(DhcpTest, HostnameDropsTrailingNuls) {
  const auto bytes = Request(Type::kRequest, Bytes({12, 5, 'v', 'm', '7', 0, 0}));
  auto message = ParseDhcp(bytes);
  ASSERT_TRUE(message);
  EXPECT_EQ(Hostname(*message), "vm7");
  const auto only_nuls = Request(Type::kRequest, Bytes({12, 2, 0, 0}));
  EXPECT_EQ(Hostname(*ParseDhcp(only_nuls)), std::nullopt);
}

TEST(DhcpTest, GettersRefuseWrongLengthsInHandMadeMessages) {
  const auto options = Bytes({50, 3, 10, 0, 0, 51, 3, 0, 0, 1, 57, 1, 2, 61, 1, 1, 55, 0});
  DhcpMessage message;
  message.options = options;
  EXPECT_EQ(RequestedIp(message), std::nullopt);
  EXPECT_EQ(LeaseTime(message), std::nullopt);
  EXPECT_EQ(MaxMessageSize(message), std::nullopt);
  EXPECT_EQ(ClientId(message), std::nullopt);
  EXPECT_EQ(ParameterRequestList(message), std::nullopt);
  DhcpMessage cut;
  const auto short_options = Bytes({50, 4, 10});
  cut.options = short_options;
  EXPECT_EQ(FindOption(cut, dhcp_option::kRequestedIp), std::nullopt);
}

DhcpReplyParams OfferParams() {
  DhcpReplyParams params;
  params.type = Type::kOffer;
  params.your_ip = kOffered;
  params.server_id = kServer;
  params.lease_seconds = 3600;
  params.subnet_mask = *Ipv4Address::Parse("255.255.255.0");
  params.broadcast_address = *Ipv4Address::Parse("10.0.0.255");
  params.routers = {kServer};
  params.dns_servers = {kServer, *Ipv4Address::Parse("192.0.2.53")};
  params.mtu = 1450;
  params.hostname = "vm1";
  return params;
}

std::optional<Ipv4Address> SubnetMask(const DhcpMessage& message) {
  const auto value = FindOption(message, dhcp_option::kSubnetMask);
  if (!value || value->size() != 4) return std::nullopt;
  return Ipv4Address({(*value)[0], (*value)[1], (*value)[2], (*value)[3]});
}

const std::vector<uint8_t> kClientIdOption = Bytes({61, 7, 1, 0x52, 0x54, 0, 0, 0, 1});

TEST(DhcpTest, OfferHasExactlyTheseBytes) {
  const auto request_bytes = Request(Type::kDiscover, kClientIdOption);
  auto request = ParseDhcp(request_bytes);
  ASSERT_TRUE(request);
  auto reply = BuildDhcpReply(*request, OfferParams());
  ASSERT_TRUE(reply) << ErrorName(reply.error());

  DhcpHeader expected{};
  expected.op = 2;
  expected.htype = 1;
  expected.hlen = 6;
  expected.xid = Be32::Of(kXid);
  expected.flags = Be16::Of(0x8000);
  expected.yiaddr = kOffered;
  expected.siaddr = kServer;
  expected.giaddr = *Ipv4Address::Parse("10.0.0.254");
  for (size_t i = 0; i < 6; ++i) expected.chaddr[i] = kClient.bytes()[i];
  FrameBuilder fixed;
  fixed.Append(expected);
  EXPECT_EQ(std::vector<uint8_t>(reply->begin(), reply->begin() + 236), fixed.bytes());

  const auto options = Bytes({
      0x63, 0x82, 0x53, 0x63,                             // cookie
      53,   1,    2,                                      // OFFER
      54,   4,    10,   0,    0,    1,                    // server id
      51,   4,    0,    0,    0x0e, 0x10,                 // lease 3600
      58,   4,    0,    0,    0x07, 0x08,                 // T1 1800
      59,   4,    0,    0,    0x0c, 0x4e,                 // T2 3150
      1,    4,    255,  255,  255,  0,                    // subnet mask
      28,   4,    10,   0,    0,    255,                  // broadcast
      3,    4,    10,   0,    0,    1,                    // router
      6,    8,    10,   0,    0,    1,    192, 0, 2, 53,  // DNS
      26,   2,    0x05, 0xaa,                             // MTU 1450
      12,   3,    'v',  'm',  '1',                        // hostname
      61,   7,    1,    0x52, 0x54, 0,    0,   0, 1,      // client id, echoed
      255,
  });
  // 314 bytes: already above the 300-byte minimum, so no padding follows END.
  EXPECT_EQ(std::vector<uint8_t>(reply->begin() + 236, reply->end()), options);
}

TEST(DhcpTest, RepliesParseBack) {
  struct Case {
    const char* description;
    Type request_type;
    Type reply_type;
    Ipv4Address ciaddr;  // in the request
    // What the parsed reply must say.
    Ipv4Address yiaddr;
    Ipv4Address reply_ciaddr;
    Ipv4Address siaddr;
    std::optional<uint32_t> lease;
    std::optional<Ipv4Address> subnet_mask;
  };
  const Ipv4Address zero;
  const Ipv4Address mask = *Ipv4Address::Parse("255.255.255.0");
  const Ipv4Address renewing = *Ipv4Address::Parse("10.0.0.9");
  const std::vector<Case> cases = {
      {"OFFER", Type::kDiscover, Type::kOffer, zero, kOffered, zero, kServer, 3600, mask},
      {"ACK", Type::kRequest, Type::kAck, zero, kOffered, zero, kServer, 3600, mask},
      {"ACK to renewal", Type::kRequest, Type::kAck, renewing, kOffered, renewing, kServer, 3600,
       mask},
      {"ACK to INFORM", Type::kInform, Type::kAck, renewing, zero, renewing, kServer, std::nullopt,
       mask},
      {"NAK", Type::kRequest, Type::kNak, renewing, zero, zero, zero, std::nullopt, std::nullopt},
  };
  for (const auto& c : cases) {
    auto request_bytes = Request(c.request_type, kClientIdOption);
    std::copy(c.ciaddr.bytes().begin(), c.ciaddr.bytes().end(), request_bytes.begin() + 12);
    auto request = ParseDhcp(request_bytes);
    ASSERT_TRUE(request) << c.description;
    auto params = OfferParams();
    params.type = c.reply_type;
    auto bytes = BuildDhcpReply(*request, params);
    ASSERT_TRUE(bytes) << c.description << ": " << ErrorName(bytes.error());
    EXPECT_GE(bytes->size(), 300u) << c.description;
    auto reply = ParseDhcp(*bytes);
    ASSERT_TRUE(reply) << c.description << ": " << ErrorName(reply.error());
    EXPECT_EQ(reply->op(), dhcp::kBootReply) << c.description;
    EXPECT_EQ(reply->type, c.reply_type) << c.description;
    EXPECT_EQ(reply->xid(), kXid) << c.description;
    EXPECT_TRUE(reply->broadcast()) << c.description;
    EXPECT_EQ(reply->client_mac(), kClient) << c.description;
    EXPECT_EQ(reply->giaddr(), *Ipv4Address::Parse("10.0.0.254")) << c.description;
    EXPECT_EQ(reply->yiaddr(), c.yiaddr) << c.description;
    EXPECT_EQ(reply->ciaddr(), c.reply_ciaddr) << c.description;
    EXPECT_EQ(reply->siaddr(), c.siaddr) << c.description;
    EXPECT_EQ(ServerId(*reply), kServer) << c.description;
    EXPECT_EQ(LeaseTime(*reply), c.lease) << c.description;
    EXPECT_EQ(SubnetMask(*reply), c.subnet_mask) << c.description;
    // A NAK configures nothing: no DNS, no hostname.
    EXPECT_EQ(FindOption(*reply, dhcp_option::kDnsServer).has_value(), c.subnet_mask.has_value())
        << c.description;
    EXPECT_EQ(Hostname(*reply).has_value(), c.subnet_mask.has_value()) << c.description;
    EXPECT_EQ(ToVector(ClientId(*reply)), ToVector(ClientId(*request))) << c.description;
  }
}

TEST(DhcpTest, ReplyTimersDefaultAndStayInOrder) {
  struct Case {
    const char* description;
    uint32_t lease;
    std::optional<uint32_t> t1, t2;
    std::optional<uint32_t> sent_t1, sent_t2;
  };
  const std::vector<Case> cases = {
      {"defaults", 86400, std::nullopt, std::nullopt, 43200, 75600},
      {"given", 600, 100, 200, 100, 200},
      {"T2 below lease / 2", 1000, std::nullopt, 300, 300, 300},
      {"T1 above 7/8 lease", 1000, 900, std::nullopt, 900, 900},
      {"one second", 1, std::nullopt, std::nullopt, 0, 0},
      {"largest finite", 0xfffffffe, std::nullopt, std::nullopt, 0x7fffffff, 0xdffffffe},
      {"infinite", dhcp::kInfiniteLease, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {"infinite, timers given", dhcp::kInfiniteLease, 100, 200, 100, 200},
  };
  const auto request_bytes = Request(Type::kDiscover);
  auto request = ParseDhcp(request_bytes);
  ASSERT_TRUE(request);
  auto read32 = [](const DhcpMessage& m, uint8_t code) -> std::optional<uint32_t> {
    auto value = FindOption(m, code);
    if (!value || value->size() != 4) return std::nullopt;
    return LoadHeader<Be32>(*value)->value();
  };
  for (const auto& c : cases) {
    auto params = OfferParams();
    params.lease_seconds = c.lease;
    params.renewal_seconds = c.t1;
    params.rebinding_seconds = c.t2;
    auto bytes = BuildDhcpReply(*request, params);
    ASSERT_TRUE(bytes) << c.description << ": " << ErrorName(bytes.error());
    auto reply = ParseDhcp(*bytes);
    ASSERT_TRUE(reply) << c.description;
    EXPECT_EQ(LeaseTime(*reply), c.lease) << c.description;
    EXPECT_EQ(read32(*reply, dhcp_option::kRenewalTime), c.sent_t1) << c.description;
    EXPECT_EQ(read32(*reply, dhcp_option::kRebindingTime), c.sent_t2) << c.description;
  }
}

TEST(DhcpTest, ReplyBuilderRefusesBadParams) {
  struct Case {
    const char* description;
    Type request_type;
    void (*mutate)(DhcpReplyParams&);
    Error error;
  };
  const std::vector<Case> cases = {
      {"OFFER to REQUEST", Type::kRequest, [](DhcpReplyParams&) {}, Error::kBadField},
      {"ACK to DISCOVER", Type::kDiscover, [](DhcpReplyParams& p) { p.type = Type::kAck; },
       Error::kBadField},
      {"NAK to DISCOVER", Type::kDiscover, [](DhcpReplyParams& p) { p.type = Type::kNak; },
       Error::kBadField},
      {"NAK to INFORM", Type::kInform, [](DhcpReplyParams& p) { p.type = Type::kNak; },
       Error::kBadField},
      {"ACK to RELEASE", Type::kRelease, [](DhcpReplyParams& p) { p.type = Type::kAck; },
       Error::kBadField},
      {"reply type REQUEST", Type::kDiscover, [](DhcpReplyParams& p) { p.type = Type::kRequest; },
       Error::kBadField},
      {"no server id", Type::kDiscover, [](DhcpReplyParams& p) { p.server_id = {}; },
       Error::kBadField},
      {"NAK without server id", Type::kRequest,
       [](DhcpReplyParams& p) {
         p.type = Type::kNak;
         p.server_id = {};
       },
       Error::kBadField},
      {"no address offered", Type::kDiscover, [](DhcpReplyParams& p) { p.your_ip = {}; },
       Error::kBadField},
      {"lease 0", Type::kDiscover, [](DhcpReplyParams& p) { p.lease_seconds = 0; },
       Error::kOutOfRange},
      {"T1 after T2", Type::kDiscover,
       [](DhcpReplyParams& p) {
         p.renewal_seconds = 3000;
         p.rebinding_seconds = 2000;
       },
       Error::kOutOfRange},
      {"T2 after lease", Type::kDiscover, [](DhcpReplyParams& p) { p.rebinding_seconds = 3601; },
       Error::kOutOfRange},
      {"T1 after lease", Type::kDiscover, [](DhcpReplyParams& p) { p.renewal_seconds = 3601; },
       Error::kOutOfRange},
      {"64 DNS servers", Type::kDiscover,
       [](DhcpReplyParams& p) { p.dns_servers.assign(64, kServer); }, Error::kOutOfRange},
      {"64 routers", Type::kDiscover, [](DhcpReplyParams& p) { p.routers.assign(64, kServer); },
       Error::kOutOfRange},
      {"hostname of 256 bytes", Type::kDiscover,
       [](DhcpReplyParams& p) { p.hostname.assign(256, 'h'); }, Error::kOutOfRange},
      {"MTU 67", Type::kDiscover, [](DhcpReplyParams& p) { p.mtu = 67; }, Error::kOutOfRange},
      {"63 DNS servers in 548 bytes", Type::kDiscover,
       [](DhcpReplyParams& p) { p.dns_servers.assign(63, kServer); }, Error::kNoSpace},
  };
  for (const auto& c : cases) {
    const auto request_bytes = Request(c.request_type);
    auto request = ParseDhcp(request_bytes);
    ASSERT_TRUE(request) << c.description;
    auto params = OfferParams();
    c.mutate(params);
    auto reply = BuildDhcpReply(*request, params);
    ASSERT_FALSE(reply) << c.description;
    EXPECT_EQ(reply.error(), c.error) << c.description;
  }
  // A BOOTREPLY is never answered.
  const auto offer_bytes = Message(Concat(TypeOption(Type::kDiscover), Bytes({255})), 2);
  auto offer = ParseDhcp(offer_bytes);
  ASSERT_TRUE(offer);
  EXPECT_EQ(BuildDhcpReply(*offer, OfferParams()).error(), Error::kBadField);
}

TEST(DhcpTest, ReplyBuilderFillsOptionsToTheirLimits) {
  // 63 addresses are 252 bytes, the most an option can hold; the client must allow the size.
  const auto request_bytes = Request(Type::kDiscover, Bytes({57, 2, 0x05, 0xdc}));  // 1500
  auto request = ParseDhcp(request_bytes);
  ASSERT_TRUE(request);
  auto params = OfferParams();
  params.dns_servers.assign(63, *Ipv4Address::Parse("192.0.2.53"));
  params.routers.assign(63, kServer);
  params.hostname.assign(255, 'h');
  params.mtu = 68;
  auto bytes = BuildDhcpReply(*request, params);
  ASSERT_TRUE(bytes) << ErrorName(bytes.error());
  EXPECT_LE(bytes->size(), 1500u - 28u);
  auto reply = ParseDhcp(*bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(FindOption(*reply, dhcp_option::kDnsServer)->size(), 252u);
  EXPECT_EQ(FindOption(*reply, dhcp_option::kRouter)->size(), 252u);
  EXPECT_EQ(Hostname(*reply)->size(), 255u);
  EXPECT_EQ(ToVector(FindOption(*reply, dhcp_option::kInterfaceMtu)), Bytes({0, 68}));

  // Without option 57 the same reply does not fit 576 - 28 bytes; a max size below the legal
  // minimum of 576 is read as 576.
  const auto small_bytes = Request(Type::kDiscover, Bytes({57, 2, 0x01, 0x00}));
  auto small = ParseDhcp(small_bytes);
  ASSERT_TRUE(small);
  EXPECT_EQ(BuildDhcpReply(*small, params).error(), Error::kNoSpace);
}

TEST(DhcpTest, MinimalReplyIsPaddedTo300Bytes) {
  const auto request_bytes = Request(Type::kDiscover);
  auto request = ParseDhcp(request_bytes);
  ASSERT_TRUE(request);
  DhcpReplyParams params;
  params.your_ip = kOffered;
  params.server_id = kServer;
  auto bytes = BuildDhcpReply(*request, params);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 300u);
  auto reply = ParseDhcp(*bytes);
  ASSERT_TRUE(reply);
  // 53, 54, 51, 58, 59: 3 + 6 + 6 + 6 + 6 bytes before END.
  EXPECT_EQ(reply->options.size(), 27u);
  EXPECT_EQ(FindOption(*reply, dhcp_option::kDnsServer), std::nullopt);
  EXPECT_EQ(FindOption(*reply, dhcp_option::kHostname), std::nullopt);
  EXPECT_EQ(FindOption(*reply, dhcp_option::kClientId), std::nullopt);
}

}  // namespace
}  // namespace dove::net
