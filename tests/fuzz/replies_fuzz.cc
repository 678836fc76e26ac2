// Feeds arbitrary frames to the parsers and, for whatever parses, builds the reply a switch
// would send (ARP reply, neighbor advertisement, router advertisement, ICMP errors, DHCP
// reply); every reply built
// must parse back with checksums verified. Aborts otherwise.
#include <cstdint>
#include <cstdlib>

#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/replies.h"
#include "net/udp.h"

namespace {

using dove::net::ByteSpan;

const dove::net::MacAddress kOwner({0x52, 0x54, 0, 0, 0, 2});
const dove::net::Icmpv4Sender kRouter4{dove::net::MacAddress({2, 0xd0, 0x5e, 0, 0, 1}),
                                       dove::net::Ipv4Address({10, 0, 0, 254})};
const dove::net::Icmpv6Sender kRouter6{
    dove::net::MacAddress({2, 0xd0, 0x5e, 0, 0, 1}),
    dove::net::Ipv6Address({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe})};

void Require(bool condition) {
  if (!condition) std::abort();
}

// The reply must be a frame whose IPv4 header and ICMP checksum verify.
void CheckIpv4Reply(const std::vector<uint8_t>& reply) {
  auto frame = dove::net::ParseEthernet(reply);
  Require(frame.has_value());
  auto ip = dove::net::ParseIpv4(frame->payload);
  Require(ip.has_value());
  if (ip->protocol() == dove::net::ip_proto::kIcmp) {
    Require(dove::net::ParseIcmpv4(ip->payload).has_value());
  } else {
    Require(dove::net::ParseUdp(ip->payload, ip->source(), ip->destination()).has_value());
  }
}

void CheckIpv6Reply(const std::vector<uint8_t>& reply) {
  auto frame = dove::net::ParseEthernet(reply);
  Require(frame.has_value());
  auto ip = dove::net::ParseIpv6(frame->payload);
  Require(ip.has_value());
  Require(ip->payload.size() + ip->header_size <= 1280);
  Require(dove::net::ParseIcmpv6(ip->payload, ip->source(), ip->destination()).has_value());
}

void ReplyToIpv4(const dove::net::EthernetFrame& frame) {
  auto ip = dove::net::ParseIpv4(frame.payload);
  if (!ip) return;
  if (auto reply = dove::net::BuildFragmentationNeeded(frame, *ip, 1450, kRouter4)) {
    CheckIpv4Reply(*reply);
  }
  if (auto reply = dove::net::BuildIcmpv4EchoReply(frame, *ip, kRouter4.mac)) {
    CheckIpv4Reply(*reply);
    Require(reply->size() == 14 + 20 + ip->payload.size());  // the whole request echoed
  }
  if (ip->protocol() != dove::net::ip_proto::kUdp) return;
  auto udp = dove::net::ParseUdp(ip->payload);
  if (!udp) return;
  auto dhcp = dove::net::ParseDhcp(udp->payload);
  if (!dhcp) return;
  dove::net::DhcpReplyParams params;
  params.type = dhcp->type == dove::net::DhcpMessageType::kDiscover
                    ? dove::net::DhcpMessageType::kOffer
                    : dove::net::DhcpMessageType::kAck;
  params.your_ip = dove::net::Ipv4Address({10, 0, 0, 7});
  params.server_id = kRouter4.ip;
  if (auto reply = dove::net::BuildDhcpReplyFrame(frame, *dhcp, params, kRouter4.mac)) {
    CheckIpv4Reply(*reply);
  }
}

void ReplyToIpv6(const dove::net::EthernetFrame& frame) {
  auto ip = dove::net::ParseIpv6(frame.payload);
  if (!ip) return;
  if (auto reply = dove::net::BuildPacketTooBig(frame, *ip, 1280, kRouter6)) CheckIpv6Reply(*reply);
  if (auto reply = dove::net::BuildIcmpv6EchoReply(frame, *ip, kRouter6.mac)) {
    auto parsed = dove::net::ParseEthernet(*reply);
    Require(parsed.has_value());
    auto reply_ip = dove::net::ParseIpv6(parsed->payload);
    Require(reply_ip.has_value());
    Require(reply_ip->payload.size() == ip->payload.size());
    Require(dove::net::ParseIcmpv6(reply_ip->payload, reply_ip->source(), reply_ip->destination())
                .has_value());
  }
  if (ip->upper_protocol != dove::net::ip_proto::kIcmpv6) return;
  auto icmp = dove::net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  if (!icmp) return;
  if (auto rs = dove::net::ParseRouterSolicitation(*icmp)) {
    dove::net::RouterAdvertisement advertisement;
    advertisement.hop_limit = 64;
    advertisement.router_lifetime = 1800;
    advertisement.mtu = 1450;
    advertisement.prefixes.push_back({.prefix = kRouter6.ip,
                                      .length = 64,
                                      .on_link = true,
                                      .autonomous = true,
                                      .valid_lifetime = 2592000,
                                      .preferred_lifetime = 604800});
    if (auto reply = dove::net::BuildRouterAdvertisement(frame, *ip, advertisement, kRouter6.mac)) {
      CheckIpv6Reply(*reply);
      // It parses back as the advertisement it was built from, from the router.
      auto out = dove::net::ParseEthernet(*reply);
      auto out_ip = dove::net::ParseIpv6(out->payload);
      auto out_icmp =
          dove::net::ParseIcmpv6(out_ip->payload, out_ip->source(), out_ip->destination());
      auto parsed = dove::net::ParseRouterAdvertisement(*out_icmp);
      Require(parsed.has_value() && parsed->source_mac == kRouter6.mac);
      advertisement.source_mac = kRouter6.mac;
      Require(*parsed == advertisement);
    }
    return;
  }
  auto ns = dove::net::ParseNeighborSolicitation(*icmp);
  if (!ns) return;
  if (auto reply = dove::net::BuildNeighborAdvertisement(frame, *ip, *ns, kOwner, false)) {
    CheckIpv6Reply(*reply);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frame = dove::net::ParseEthernet(ByteSpan(data, size));
  if (!frame) return 0;
  switch (frame->ether_type) {
    case dove::net::ether_type::kArp:
      if (auto arp = dove::net::ParseArp(frame->payload)) {
        if (auto reply = dove::net::BuildArpReply(*frame, *arp, kOwner)) {
          Require(dove::net::ParseEthernet(*reply).has_value());
        }
      }
      break;
    case dove::net::ether_type::kIpv4:
      ReplyToIpv4(*frame);
      break;
    case dove::net::ether_type::kIpv6:
      ReplyToIpv6(*frame);
      break;
    default:
      break;
  }
  return 0;
}
