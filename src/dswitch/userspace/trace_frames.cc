#include "dswitch/userspace/trace_frames.h"

#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/tcp.h"
#include "net/udp.h"

namespace dove::dswitch::userspace {

namespace {

constexpr uint8_t kTtl = 64;

uint16_t SourcePort(uint16_t id) { return static_cast<uint16_t>(32768 + id % 28232); }

// The IP protocol a trace of `kind` sends (kArp is no IP packet: treated as UDP).
uint8_t ProtocolOf(TraceKind kind, bool v6) {
  switch (kind) {
    case TraceKind::kIcmp:
      return v6 ? net::ip_proto::kIcmpv6 : net::ip_proto::kIcmp;
    case TraceKind::kTcp:
      return net::ip_proto::kTcp;
    case TraceKind::kUdp:
    case TraceKind::kArp:
      break;
  }
  return net::ip_proto::kUdp;
}

// The L4 message (header and marker) of `kind` in `builder` from its current end; returns its
// offset.
size_t AppendL4(net::FrameBuilder& builder, TraceKind kind, bool v6, uint16_t port, uint16_t id,
                net::ByteSpan marker) {
  size_t at = 0;
  switch (kind) {
    case TraceKind::kIcmp:
      // The ICMPv6 echo header is the ICMPv4 one's layout: type, code, checksum, id, sequence.
      at = builder.Append(net::MakeIcmpv4EchoHeader(
          v6 ? net::icmpv6::kEchoRequest : net::icmpv4::kEchoRequest, id, 1));
      break;
    case TraceKind::kTcp:
      at = builder.Append(
          *net::MakeTcpHeader(SourcePort(id), port, id, 0, net::tcp_flag::kSyn, 64240));
      break;
    case TraceKind::kUdp:
    case TraceKind::kArp:
      at = builder.Append(*net::MakeUdpHeader(SourcePort(id), port, marker.size()));
      break;
  }
  builder.Append(marker);
  return at;
}

void FinishL4(net::MutableByteSpan l4, uint8_t protocol, const net::IpAddress& source,
              const net::IpAddress& destination) {
  if (source.is_v6()) {
    const net::Ipv6Address from = source.v6();
    const net::Ipv6Address to = destination.v6();
    if (protocol == net::ip_proto::kTcp) {
      (void)net::FinishTcp(l4, from, to);
    } else if (protocol == net::ip_proto::kUdp) {
      (void)net::FinishUdp(l4, from, to);
    } else {
      net::FinishIcmpv6(l4, from, to);
    }
    return;
  }
  const net::Ipv4Address from = source.v4();
  const net::Ipv4Address to = destination.v4();
  if (protocol == net::ip_proto::kTcp) {
    (void)net::FinishTcp(l4, from, to);
  } else if (protocol == net::ip_proto::kUdp) {
    (void)net::FinishUdp(l4, from, to);
  } else {
    net::FinishIcmpv4(l4);
  }
}

}  // namespace

std::vector<uint8_t> BuildSolicit(const net::MacAddress& mac, const net::IpAddress& source,
                                  const net::IpAddress& target) {
  net::FrameBuilder builder;
  if (target.is_v4()) {
    builder.Append(
        net::MakeEthernetHeader(net::MacAddress::Broadcast(), mac, net::ether_type::kArp));
    builder.Append(
        net::MakeArp(net::arp::kRequest, mac, source.v4(), net::MacAddress(), target.v4()));
    return std::move(builder).Take();
  }
  const net::Ipv6Address group = target.v6().SolicitedNodeMulticast();
  builder.Append(net::MakeEthernetHeader(net::MacAddress::ForIpv6Multicast(group.bytes()), mac,
                                         net::ether_type::kIpv6));
  const size_t ip_at = builder.Append(
      *net::MakeIpv6Header(source.v6(), group, net::ip_proto::kIcmpv6, net::nd::kHopLimit, 0));
  net::AppendNeighborSolicitation(builder, source.v6(), group,
                                  {.target = target.v6(), .source_mac = mac});
  (void)net::FinishIpv6(builder.From(ip_at));
  return std::move(builder).Take();
}

std::vector<uint8_t> BuildTracePacket(TraceKind kind, const net::MacAddress& mac,
                                      const net::IpAddress& source,
                                      const net::MacAddress& destination_mac,
                                      const net::IpAddress& destination, uint16_t port, uint16_t id,
                                      net::ByteSpan marker) {
  const bool v6 = source.is_v6();
  net::FrameBuilder builder;
  builder.Append(net::MakeEthernetHeader(destination_mac, mac,
                                         v6 ? net::ether_type::kIpv6 : net::ether_type::kIpv4));
  const uint8_t protocol = ProtocolOf(kind, v6);
  const size_t ip_at =
      v6 ? builder.Append(*net::MakeIpv6Header(source.v6(), destination.v6(), protocol, kTtl, 0))
         : builder.Append(*net::MakeIpv4Header(source.v4(), destination.v4(), protocol, kTtl, 0));
  const size_t l4_at = AppendL4(builder, kind, v6, port, id, marker);
  FinishL4(builder.From(l4_at), protocol, source, destination);
  if (v6) {
    (void)net::FinishIpv6(builder.From(ip_at));
  } else {
    (void)net::FinishIpv4(builder.From(ip_at));
  }
  return std::move(builder).Take();
}

std::optional<net::MacAddress> AnsweredMac(net::ByteSpan frame, const net::IpAddress& target) {
  const auto ethernet = net::ParseEthernet(frame);
  if (!ethernet) return std::nullopt;
  if (target.is_v4()) {
    if (ethernet->ether_type != net::ether_type::kArp) return std::nullopt;
    const auto arp = net::ParseArp(ethernet->payload);
    if (!arp || arp->operation.value() != net::arp::kReply || arp->sender_ip != target.v4()) {
      return std::nullopt;
    }
    return arp->sender_mac;
  }
  if (ethernet->ether_type != net::ether_type::kIpv6) return std::nullopt;
  const auto ip = net::ParseIpv6(ethernet->payload);
  if (!ip || ip->upper_protocol != net::ip_proto::kIcmpv6) return std::nullopt;
  const auto icmp = net::ParseIcmpv6(ip->payload, ip->header.source, ip->header.destination);
  if (!icmp || icmp->type() != net::icmpv6::kNeighborAdvertisement) return std::nullopt;
  const auto advert = net::ParseNeighborAdvertisement(*icmp);
  if (!advert || advert->target != target.v6()) return std::nullopt;
  return advert->target_mac;
}

}  // namespace dove::dswitch::userspace
