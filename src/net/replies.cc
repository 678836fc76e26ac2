#include "net/replies.h"

#include <optional>

#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/udp.h"

namespace dove::net {
namespace {

// Ethernet multicast address of ff02::1.
constexpr MacAddress kAllNodesMac({0x33, 0x33, 0, 0, 0, 1});
// IP precedence "internetwork control", which routers give the ICMP errors they originate
// (RFC 1812 section 4.3.2.5).
constexpr uint8_t kInternetControlTos = 0xc0;

// Appends the reply's Ethernet header, with the request's 802.1Q tag when it had one.
void AppendEthernet(FrameBuilder& builder, const EthernetFrame& request,
                    const MacAddress& destination, const MacAddress& source, uint16_t type) {
  if (!request.vlan) {
    builder.Append(MakeEthernetHeader(destination, source, type));
    return;
  }
  builder.Append(MakeEthernetHeader(destination, source, ether_type::kVlan));
  VlanTag tag = *request.vlan;
  tag.ether_type = Be16::Of(type);
  builder.Append(tag);
}

// The whole IP packet a parsed view came from: header(s) and payload, without the padding
// the frame may have after it. nullopt when the view was not parsed from this frame's payload.
std::optional<ByteSpan> WholePacket(const EthernetFrame& frame, size_t header_size,
                                    ByteSpan payload) {
  const size_t size = header_size + payload.size();
  if (size > frame.payload.size() || payload.data() != frame.payload.data() + header_size) {
    return std::nullopt;
  }
  return frame.payload.first(size);
}

// ICMPv4 messages that are queries or answers, about which an error may be sent (RFC 1812
// section 4.3.2.7). Any other type, unknown ones included, is treated as an error message,
// as Linux does.
bool IsIcmpv4Informational(uint8_t type) {
  switch (type) {
    case 0:   // echo reply
    case 8:   // echo request
    case 9:   // router advertisement
    case 10:  // router solicitation
    case 13:  // timestamp
    case 14:  // timestamp reply
    case 15:  // information request
    case 16:  // information reply
    case 17:  // address mask request
    case 18:  // address mask reply
      return true;
    default:
      return false;
  }
}

bool MayAnswerWithIcmpv4Error(const EthernetFrame& frame, const Ipv4Packet& packet) {
  if (packet.header.fragment_offset() != 0) return false;
  if (frame.destination.IsMulticast()) return false;
  const Ipv4Address& to = packet.destination();
  if (to.IsBroadcast() || to.IsMulticast()) return false;
  const Ipv4Address& from = packet.source();
  // "This host on this network" (0/8) and the reserved class E (240/4, broadcast included)
  // name no single host (RFC 1812 sections 4.3.2.7 and 5.3.7).
  const uint8_t first_octet = from.bytes()[0];
  if (first_octet == 0 || first_octet >= 240 || from.IsMulticast() || from.IsLoopback()) {
    return false;
  }
  if (packet.protocol() == ip_proto::kIcmp) {
    return !packet.payload.empty() && IsIcmpv4Informational(packet.payload[0]);
  }
  return true;
}

bool MayAnswerWithIcmpv6Error(const EthernetFrame& frame, const Ipv6Packet& packet, uint8_t type) {
  const Ipv6Address& from = packet.source();
  if (from.IsUnspecified() || from.IsMulticast()) return false;
  // Packet too big is the one error sent about multicast, so that path MTU discovery works
  // for it (RFC 4443 section 2.4 (e.3)).
  const bool to_multicast = packet.destination().IsMulticast() || frame.destination.IsMulticast();
  if (to_multicast && type != icmpv6::kPacketTooBig) return false;
  const bool first_piece = !packet.fragment || packet.fragment->fragment_offset() == 0;
  if (packet.upper_protocol == ip_proto::kIcmpv6 && first_piece) {
    // Informational messages may be answered with an error, Redirect excepted (RFC 4443
    // section 2.4 (e.2)).
    return !packet.payload.empty() && packet.payload[0] >= icmpv6::kEchoRequest &&
           packet.payload[0] != icmpv6::kRedirect;
  }
  return true;
}

}  // namespace

Result<void> BuildArpReplyInto(FrameBuilder& out, const EthernetFrame& frame,
                               const ArpPacket& request, const MacAddress& owner_mac) {
  out.Clear();
  if (request.operation.value() != arp::kRequest || request.sender_mac != frame.source ||
      !request.sender_mac.IsUnicast() || request.sender_ip == request.target_ip) {
    return Unexpected(Error::kBadField);
  }
  AppendEthernet(out, frame, request.sender_mac, owner_mac, ether_type::kArp);
  out.Append(
      MakeArp(arp::kReply, owner_mac, request.target_ip, request.sender_mac, request.sender_ip));
  return {};
}

Result<std::vector<uint8_t>> BuildArpReply(const EthernetFrame& frame, const ArpPacket& request,
                                           const MacAddress& owner_mac) {
  FrameBuilder builder;
  if (auto built = BuildArpReplyInto(builder, frame, request, owner_mac); !built) {
    return Unexpected(built.error());
  }
  return std::move(builder).Take();
}

Result<void> BuildNeighborAdvertisementInto(FrameBuilder& out, const EthernetFrame& frame,
                                            const Ipv6Packet& packet,
                                            const NeighborSolicitation& solicitation,
                                            const MacAddress& owner_mac, bool router) {
  out.Clear();
  if (packet.hop_limit() != nd::kHopLimit) return Unexpected(Error::kBadField);
  const bool duplicate_address_detection = packet.source().IsUnspecified();
  const Ipv6Address destination =
      duplicate_address_detection ? Ipv6Address::AllNodes() : packet.source();
  const MacAddress destination_mac = duplicate_address_detection ? kAllNodesMac : frame.source;
  NeighborAdvertisement advertisement;
  advertisement.target = solicitation.target;
  advertisement.router_flag = router;
  advertisement.solicited_flag = !duplicate_address_detection;
  advertisement.override_flag = true;
  advertisement.target_mac = owner_mac;

  AppendEthernet(out, frame, destination_mac, owner_mac, ether_type::kIpv6);
  auto header =
      MakeIpv6Header(solicitation.target, destination, ip_proto::kIcmpv6, nd::kHopLimit, 0);
  if (!header) {
    out.Clear();
    return Unexpected(header.error());
  }
  const size_t ip_at = out.Append(*header);
  AppendNeighborAdvertisement(out, solicitation.target, destination, advertisement);
  if (auto finished = FinishIpv6(out.From(ip_at)); !finished) {
    out.Clear();
    return Unexpected(finished.error());
  }
  return {};
}

Result<std::vector<uint8_t>> BuildNeighborAdvertisement(const EthernetFrame& frame,
                                                        const Ipv6Packet& packet,
                                                        const NeighborSolicitation& solicitation,
                                                        const MacAddress& owner_mac, bool router) {
  FrameBuilder builder;
  if (auto built =
          BuildNeighborAdvertisementInto(builder, frame, packet, solicitation, owner_mac, router);
      !built) {
    return Unexpected(built.error());
  }
  return std::move(builder).Take();
}

namespace {

// A Router Advertisement from the router at `router_mac` to (`destination`, `destination_mac`),
// with the request's 802.1Q tag (`request` may be a default frame: untagged).
Result<std::vector<uint8_t>> RouterAdvertisementFrame(const EthernetFrame& request,
                                                      const Ipv6Address& destination,
                                                      const MacAddress& destination_mac,
                                                      const RouterAdvertisement& advertisement,
                                                      const MacAddress& router_mac) {
  const Ipv6Address source = Ipv6Address::LinkLocalFromMac(router_mac);
  RouterAdvertisement sent = advertisement;
  sent.source_mac = router_mac;
  FrameBuilder builder(128 + 32 * advertisement.prefixes.size());
  AppendEthernet(builder, request, destination_mac, router_mac, ether_type::kIpv6);
  auto header = MakeIpv6Header(source, destination, ip_proto::kIcmpv6, nd::kHopLimit, 0);
  if (!header) return Unexpected(header.error());
  const size_t ip_at = builder.Append(*header);
  AppendRouterAdvertisement(builder, source, destination, sent);
  if (auto finished = FinishIpv6(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

}  // namespace

Result<std::vector<uint8_t>> BuildRouterAdvertisement(const EthernetFrame& frame,
                                                      const Ipv6Packet& packet,
                                                      const RouterAdvertisement& advertisement,
                                                      const MacAddress& router_mac) {
  if (packet.hop_limit() != nd::kHopLimit) return Unexpected(Error::kBadField);
  const bool to_all = packet.source().IsUnspecified();
  return RouterAdvertisementFrame(frame, to_all ? Ipv6Address::AllNodes() : packet.source(),
                                  to_all ? kAllNodesMac : frame.source, advertisement, router_mac);
}

Result<std::vector<uint8_t>> BuildUnsolicitedRouterAdvertisement(
    const RouterAdvertisement& advertisement, const MacAddress& router_mac) {
  return RouterAdvertisementFrame(EthernetFrame{}, Ipv6Address::AllNodes(), kAllNodesMac,
                                  advertisement, router_mac);
}

Result<std::vector<uint8_t>> BuildIcmpv4Error(const EthernetFrame& frame, const Ipv4Packet& packet,
                                              uint8_t type, uint8_t code, uint32_t rest,
                                              const Icmpv4Sender& sender) {
  if (type != icmpv4::kDestinationUnreachable && type != icmpv4::kTimeExceeded) {
    return Unexpected(Error::kBadField);
  }
  const auto offending = WholePacket(frame, packet.header_size, packet.payload);
  if (!offending) return Unexpected(Error::kBadField);
  if (!MayAnswerWithIcmpv4Error(frame, packet)) return Unexpected(Error::kUnsupported);
  FrameBuilder builder;
  AppendEthernet(builder, frame, frame.source, sender.mac, ether_type::kIpv4);
  auto header = MakeIpv4Header(sender.ip, packet.source(), ip_proto::kIcmp, kReplyTtl, 0, 0, true,
                               kInternetControlTos);
  if (!header) return Unexpected(header.error());
  const size_t ip_at = builder.Append(*header);
  AppendIcmpv4Error(builder, type, code, rest, *offending);
  if (auto finished = FinishIpv4(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

Result<std::vector<uint8_t>> BuildFragmentationNeeded(const EthernetFrame& frame,
                                                      const Ipv4Packet& packet, uint16_t mtu,
                                                      const Icmpv4Sender& sender) {
  return BuildIcmpv4Error(frame, packet, icmpv4::kDestinationUnreachable,
                          icmpv4::kFragmentationNeeded, mtu, sender);
}

Result<std::vector<uint8_t>> BuildIcmpv4TimeExceeded(const EthernetFrame& frame,
                                                     const Ipv4Packet& packet,
                                                     const Icmpv4Sender& sender) {
  return BuildIcmpv4Error(frame, packet, icmpv4::kTimeExceeded, icmpv4::kTtlExceeded, 0, sender);
}

Result<std::vector<uint8_t>> BuildIcmpv6Error(const EthernetFrame& frame, const Ipv6Packet& packet,
                                              uint8_t type, uint8_t code, uint32_t first_word,
                                              const Icmpv6Sender& sender) {
  if (type >= icmpv6::kEchoRequest) return Unexpected(Error::kBadField);
  const auto offending = WholePacket(frame, packet.header_size, packet.payload);
  if (!offending) return Unexpected(Error::kBadField);
  if (!MayAnswerWithIcmpv6Error(frame, packet, type)) return Unexpected(Error::kUnsupported);
  FrameBuilder builder;
  AppendEthernet(builder, frame, frame.source, sender.mac, ether_type::kIpv6);
  auto header = MakeIpv6Header(sender.ip, packet.source(), ip_proto::kIcmpv6, kReplyTtl, 0);
  if (!header) return Unexpected(header.error());
  const size_t ip_at = builder.Append(*header);
  AppendIcmpv6Error(builder, sender.ip, packet.source(), type, code, first_word, *offending);
  if (auto finished = FinishIpv6(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

Result<std::vector<uint8_t>> BuildPacketTooBig(const EthernetFrame& frame, const Ipv6Packet& packet,
                                               uint32_t mtu, const Icmpv6Sender& sender) {
  constexpr uint32_t kIpv6MinimumMtu = 1280;
  if (mtu < kIpv6MinimumMtu) return Unexpected(Error::kOutOfRange);
  return BuildIcmpv6Error(frame, packet, icmpv6::kPacketTooBig, 0, mtu, sender);
}

Result<std::vector<uint8_t>> BuildIcmpv6TimeExceeded(const EthernetFrame& frame,
                                                     const Ipv6Packet& packet,
                                                     const Icmpv6Sender& sender) {
  return BuildIcmpv6Error(frame, packet, icmpv6::kTimeExceeded, icmpv6::kHopLimitExceeded, 0,
                          sender);
}

Result<std::vector<uint8_t>> BuildIcmpv4EchoReply(const EthernetFrame& frame,
                                                  const Ipv4Packet& packet,
                                                  const MacAddress& sender_mac) {
  if (!WholePacket(frame, packet.header_size, packet.payload)) return Unexpected(Error::kBadField);
  if (packet.protocol() != ip_proto::kIcmp || packet.IsFragment()) {
    return Unexpected(Error::kBadField);
  }
  auto request = ParseIcmpv4(packet.payload);
  if (!request || request->type() != icmpv4::kEchoRequest) return Unexpected(Error::kBadField);
  const Ipv4Address& from = packet.source();
  const uint8_t first_octet = from.bytes()[0];
  if (frame.destination.IsMulticast() || packet.destination().IsBroadcast() ||
      packet.destination().IsMulticast() || first_octet == 0 || first_octet >= 240 ||
      from.IsMulticast() || from.IsLoopback()) {
    return Unexpected(Error::kUnsupported);
  }
  FrameBuilder builder(64 + packet.payload.size());
  AppendEthernet(builder, frame, frame.source, sender_mac, ether_type::kIpv4);
  auto header = MakeIpv4Header(packet.destination(), from, ip_proto::kIcmp, kReplyTtl, 0);
  if (!header) return Unexpected(header.error());
  const size_t ip_at = builder.Append(*header);
  const size_t icmp_at = builder.Append(
      MakeIcmpv4Header(icmpv4::kEchoReply, 0, static_cast<uint32_t>(request->header.rest.value())));
  builder.Append(request->body);
  FinishIcmpv4(builder.From(icmp_at));
  if (auto finished = FinishIpv4(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

Result<std::vector<uint8_t>> BuildIcmpv6EchoReply(const EthernetFrame& frame,
                                                  const Ipv6Packet& packet,
                                                  const MacAddress& sender_mac) {
  if (!WholePacket(frame, packet.header_size, packet.payload)) return Unexpected(Error::kBadField);
  if (packet.upper_protocol != ip_proto::kIcmpv6 || packet.IsFragment()) {
    return Unexpected(Error::kBadField);
  }
  auto request = ParseIcmpv6(packet.payload, packet.source(), packet.destination());
  if (!request || request->type() != icmpv6::kEchoRequest) return Unexpected(Error::kBadField);
  const Ipv6Address& from = packet.source();
  if (frame.destination.IsMulticast() || packet.destination().IsMulticast() ||
      from.IsUnspecified() || from.IsMulticast()) {
    return Unexpected(Error::kUnsupported);
  }
  FrameBuilder builder(64 + packet.payload.size());
  AppendEthernet(builder, frame, frame.source, sender_mac, ether_type::kIpv6);
  auto header = MakeIpv6Header(packet.destination(), from, ip_proto::kIcmpv6, kReplyTtl, 0);
  if (!header) return Unexpected(header.error());
  const size_t ip_at = builder.Append(*header);
  const size_t icmp_at = builder.Append(MakeIcmpv6Header(icmpv6::kEchoReply, 0));
  builder.Append(request->body);
  FinishIcmpv6(builder.From(icmp_at), packet.destination(), from);
  if (auto finished = FinishIpv6(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

Result<std::vector<uint8_t>> BuildDhcpReplyFrame(const EthernetFrame& frame,
                                                 const DhcpMessage& request,
                                                 const DhcpReplyParams& params,
                                                 const MacAddress& server_mac) {
  if (!request.giaddr().IsUnspecified()) return Unexpected(Error::kUnsupported);
  auto reply = BuildDhcpReply(request, params);
  if (!reply) return Unexpected(reply.error());

  // RFC 2131 section 4.1, for a server on the client's link. An ACK to an INFORM from a
  // client without ciaddr has no yiaddr either: broadcast, never send to 0.0.0.0.
  Ipv4Address destination = Ipv4Address::Broadcast();
  MacAddress destination_mac = MacAddress::Broadcast();
  if (params.type == DhcpMessageType::kNak) {
    // broadcast
  } else if (!request.ciaddr().IsUnspecified()) {
    destination = request.ciaddr();
    destination_mac = frame.source;
  } else if (!request.broadcast() && !params.your_ip.IsUnspecified()) {
    destination = params.your_ip;
    destination_mac = request.client_mac();
  }

  FrameBuilder builder(64 + reply->size());
  AppendEthernet(builder, frame, destination_mac, server_mac, ether_type::kIpv4);
  auto ip_header = MakeIpv4Header(params.server_id, destination, ip_proto::kUdp, kReplyTtl, 0);
  if (!ip_header) return Unexpected(ip_header.error());
  const size_t ip_at = builder.Append(*ip_header);
  auto udp_header = MakeUdpHeader(dhcp::kServerPort, dhcp::kClientPort, reply->size());
  if (!udp_header) return Unexpected(udp_header.error());
  const size_t udp_at = builder.Append(*udp_header);
  builder.Append(*reply);
  if (auto finished = FinishUdp(builder.From(udp_at), params.server_id, destination); !finished) {
    return Unexpected(finished.error());
  }
  if (auto finished = FinishIpv4(builder.From(ip_at)); !finished) {
    return Unexpected(finished.error());
  }
  return std::move(builder).Take();
}

}  // namespace dove::net
