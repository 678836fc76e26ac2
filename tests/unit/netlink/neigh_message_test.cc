// DecodeNeighMessage over hand-built messages, laid out as the kernel sends them
// (../shared/reference/linux-vxlan-dove.md, "Miss notifications"): each row is a message and
// the event (or the error) a person reading the table expects.
#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "netlink/neigh_events.h"

namespace dove::netlink {
namespace {

using Kind = NeighEvent::Kind;

const net::MacAddress kMac = *net::MacAddress::Parse("52:54:00:12:34:56");
const net::IpAddress kIp4 = *net::IpAddress::Parse("10.0.0.99");
const net::IpAddress kIp6 = *net::IpAddress::Parse("fd00::99");
const net::IpAddress kRemote = *net::IpAddress::Parse("192.0.2.2");

// A netlink message with an ndmsg and attributes, as the kernel lays it out.
class Message {
 public:
  Message(uint16_t type, uint16_t flags, uint8_t family, int ifindex, uint16_t state,
          uint8_t ndm_flags = 0) {
    bytes_.resize(NLMSG_HDRLEN);
    ndmsg ndm{};
    ndm.ndm_family = family;
    ndm.ndm_ifindex = ifindex;
    ndm.ndm_state = state;
    ndm.ndm_flags = ndm_flags;
    Append(&ndm, sizeof(ndm));
    type_ = type;
    flags_ = flags;
  }
  Message& Attr(uint16_t type, const void* data, size_t size) {
    nlattr attr{};
    attr.nla_len = static_cast<uint16_t>(NLA_HDRLEN + size);
    attr.nla_type = type;
    Append(&attr, sizeof(attr));
    Append(data, size);
    return *this;
  }
  Message& Mac(const net::MacAddress& mac) { return Attr(NDA_LLADDR, mac.bytes().data(), 6); }
  Message& Ip(const net::IpAddress& ip) {
    return Attr(NDA_DST, ip.bytes().data(), ip.is_v4() ? 4 : 16);
  }
  Message& Vni(uint32_t vni) { return Attr(NDA_VNI, &vni, 4); }
  std::vector<uint8_t> Bytes() const {
    std::vector<uint8_t> out = bytes_;
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(out.size());
    h.nlmsg_type = type_;
    h.nlmsg_flags = flags_;
    std::memcpy(out.data(), &h, sizeof(h));
    return out;
  }

 private:
  void Append(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()));
  }
  std::vector<uint8_t> bytes_;
  uint16_t type_ = 0;
  uint16_t flags_ = 0;
};

struct Row {
  std::string description;
  std::vector<uint8_t> message;
  Kind kind;
  uint8_t family;
  std::optional<net::MacAddress> mac;
  std::optional<net::IpAddress> ip;
};

TEST(DecodeNeighMessageTest, KindsAsTheKernelSendsThem) {
  const std::vector<Row> rows = {
      {"l2miss: GETNEIGH, flags 0, STALE, AF_INET, NDA_LLADDR (+NDA_VNI)",
       Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Mac(kMac).Vni(0).Bytes(), Kind::kL2Miss,
       AF_INET, kMac, std::nullopt},
      {"l3miss v4: GETNEIGH, flags 0, STALE, NDA_DST of 4 bytes",
       Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Ip(kIp4).Vni(0).Bytes(), Kind::kL3Miss,
       AF_INET, std::nullopt, kIp4},
      {"l3miss v6: GETNEIGH, flags 0, STALE, NDA_DST of 16 bytes",
       Message(RTM_GETNEIGH, 0, AF_INET6, 7, NUD_STALE).Ip(kIp6).Bytes(), Kind::kL3Miss, AF_INET6,
       std::nullopt, kIp6},
      {"app_solicit: GETNEIGH with NLM_F_REQUEST, INCOMPLETE, NDA_DST",
       Message(RTM_GETNEIGH, NLM_F_REQUEST, AF_INET, 7, NUD_INCOMPLETE).Ip(kIp4).Bytes(),
       Kind::kAppSolicit, AF_INET, std::nullopt, kIp4},
      {"echo of our own neighbour write: NEWNEIGH, PERMANENT",
       Message(RTM_NEWNEIGH, 0, AF_INET, 7, NUD_PERMANENT).Ip(kIp4).Mac(kMac).Bytes(),
       Kind::kNewNeigh, AF_INET, kMac, kIp4},
      {"AF_BRIDGE FDB event of the vxlan device: NEWNEIGH, NTF_SELF, dst = remote",
       Message(RTM_NEWNEIGH, 0, AF_BRIDGE, 7, NUD_PERMANENT, NTF_SELF)
           .Mac(kMac)
           .Ip(kRemote)
           .Bytes(),
       Kind::kNewNeigh, AF_BRIDGE, kMac, kRemote},
      {"deleted entry", Message(RTM_DELNEIGH, 0, AF_INET, 7, NUD_PERMANENT).Ip(kIp4).Bytes(),
       Kind::kDelNeigh, AF_INET, std::nullopt, kIp4},
      {"GETNEIGH that is no miss (state REACHABLE)",
       Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_REACHABLE).Ip(kIp4).Bytes(), Kind::kOther, AF_INET,
       std::nullopt, kIp4},
      {"GETNEIGH with both MAC and IP is no miss",
       Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Ip(kIp4).Mac(kMac).Bytes(), Kind::kOther,
       AF_INET, kMac, kIp4},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.description);
    auto event = DecodeNeighMessage(row.message);
    ASSERT_TRUE(event) << event.error();
    EXPECT_EQ(event->kind, row.kind);
    EXPECT_EQ(event->family, row.family);
    EXPECT_EQ(event->ifindex, 7);
    EXPECT_EQ(event->mac, row.mac);
    EXPECT_EQ(event->ip, row.ip);
  }
}

TEST(DecodeNeighMessageTest, ANonNeighbourMessageIsOther) {
  std::vector<uint8_t> link(NLMSG_HDRLEN + sizeof(ifinfomsg));
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(link.size());
  h.nlmsg_type = RTM_NEWLINK;
  std::memcpy(link.data(), &h, sizeof(h));
  auto event = DecodeNeighMessage(link);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->kind, Kind::kOther);
}

TEST(DecodeNeighMessageTest, TruncatedAndInconsistentMessagesAreErrors) {
  const auto good = Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Ip(kIp4).Bytes();
  auto with_length = [&](uint32_t length) {
    auto m = good;
    std::memcpy(m.data(), &length, sizeof(length));
    return m;
  };
  auto attr_length = [&](uint16_t length) {
    auto m = good;
    std::memcpy(m.data() + NLMSG_HDRLEN + sizeof(ndmsg), &length, sizeof(length));
    return m;
  };
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> rows = {
      {"empty", {}},
      {"half a header", std::vector<uint8_t>(good.begin(), good.begin() + 8)},
      {"nlmsg_len past the bytes received", with_length(static_cast<uint32_t>(good.size() + 4))},
      {"nlmsg_len shorter than the header", with_length(8)},
      {"no room for the ndmsg", with_length(NLMSG_HDRLEN + 4)},
      {"attribute longer than the message", attr_length(200)},
      {"attribute shorter than its header", attr_length(2)},
      {"attribute header cut", with_length(NLMSG_HDRLEN + sizeof(ndmsg) + 2)},
      {"NDA_DST of 5 bytes",
       Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Attr(NDA_DST, "abcde", 5).Bytes()},
  };
  for (const auto& [description, bytes] : rows) {
    SCOPED_TRACE(description);
    EXPECT_FALSE(DecodeNeighMessage(bytes));
  }
}

TEST(DecodeNeighMessageTest, ReadsOnlyItsOwnMessageOfABatch) {
  auto first = Message(RTM_GETNEIGH, 0, AF_INET, 7, NUD_STALE).Mac(kMac).Bytes();
  const auto second = Message(RTM_GETNEIGH, 0, AF_INET, 9, NUD_STALE).Ip(kIp4).Bytes();
  first.insert(first.end(), second.begin(), second.end());
  auto event = DecodeNeighMessage(first);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->kind, Kind::kL2Miss);
  EXPECT_FALSE(event->ip);
}

}  // namespace
}  // namespace dove::netlink
