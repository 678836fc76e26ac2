// WalkFrame: runs one Ethernet frame through every DOVE codec that applies, outermost first,
// the way a receiver would: Ethernet -> ARP, or IPv4 (checksum verified) / IPv6 -> UDP
// (checksum verified; zero allowed over IPv4 only; see WalkOptions for checksums a capture
// shows unfinished) -> VXLAN on port 4789 -> the inner frame
// again, or DHCP on ports 67/68; TCP (checksum verified, options walked for an MSS); ICMP
// (checksum verified); ICMPv6 (checksum verified) -> Neighbor Discovery for NS and NA (hop limit
// 255 required).
//
// It answers what the frame is ("arp request", "icmpv6 echo reply", "ns", ...) and, when one
// parser refuses it, which layer did and why, so tests over whole captures and over the bad
// vectors need no per-frame code:
//
//   auto walk = WalkFrame(frame);
//   if (!walk) ADD_FAILURE() << walk.error().layer << ": " << ErrorName(walk.error().error);
//   else ++kinds[walk->kind];
//
// Layer names are scapy's, lower case, as MANIFEST.tsv's "fault=" prefixes use them: ether,
// arp, ip, ipv6, udp, tcp, icmp, icmpv6, nd, vxlan, dhcp. Test code: nothing here is fast.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "net/vxlan.h"

namespace dove::net {

// The layer whose parser refused a frame, and its error.
struct WalkError {
  std::string_view layer;
  Error error = Error::kTruncated;
};

// What a walk found. For a VXLAN frame, `kind` is the inner frame's and `vni` is set.
struct FrameWalk {
  std::string kind;
  std::optional<uint32_t> vni;
  // UDP checksums accepted as unfinished (see WalkOptions), 0 unless that is allowed.
  int partial_udp_checksums = 0;
};

struct WalkOptions {
  VxlanReceivePolicy vxlan = VxlanReceivePolicy::kStrict;
  // A sender whose device computes UDP checksums (CHECKSUM_PARTIAL in Linux) leaves in the
  // field only the folded pseudo-header sum, for the device to finish. A capture taken on the
  // sending host, or across a veth pair (which never finishes it: the receiving kernel trusts
  // the skb), holds that value. When true, a UDP checksum equal to it is accepted; it proves
  // nothing about the data.
  bool allow_partial_udp_checksum = false;
};

using WalkResult = Expected<FrameWalk, WalkError>;

namespace frame_walk_internal {

inline WalkResult Refused(std::string_view layer, Error error) {
  return Unexpected(WalkError{layer, error});
}

inline WalkResult Found(std::string kind) { return FrameWalk{std::move(kind), std::nullopt}; }

inline WalkResult WalkEthernet(ByteSpan bytes, const WalkOptions& options, bool inside_vxlan);

// ParseUdp with the checksum verified, or (when allowed) holding the unfinished sum: then
// `partial` is set.
template <typename Address>
Result<UdpDatagram> ParseUdpChecked(ByteSpan datagram, const Address& source,
                                    const Address& destination, const WalkOptions& options,
                                    bool& partial) {
  auto udp = ParseUdp(datagram, source, destination);
  if (udp || udp.error() != Error::kBadChecksum || !options.allow_partial_udp_checksum) {
    return udp;
  }
  auto unverified = ParseUdp(datagram);
  const uint16_t unfinished = static_cast<uint16_t>(~ChecksumFold(PseudoHeaderSum(
      source, destination, ip_proto::kUdp, static_cast<uint16_t>(datagram.size()))));
  if (!unverified || unverified->header.checksum.value() != unfinished) return udp;
  partial = true;
  return unverified;
}

// The UDP payload: VXLAN (unless already inside it), DHCP, or plain data.
inline WalkResult WalkUdpPayload(const UdpDatagram& udp, const WalkOptions& options,
                                 bool inside_vxlan) {
  if (udp.destination_port() == kVxlanPort && !inside_vxlan) {
    auto vxlan = ParseVxlan(udp.payload, options.vxlan);
    if (!vxlan) return Refused("vxlan", vxlan.error());
    auto inner = WalkEthernet(vxlan->inner_frame, options, true);
    if (inner) inner->vni = vxlan->vni;
    return inner;
  }
  const uint16_t ports[] = {udp.source_port(), udp.destination_port()};
  if ((ports[0] == dhcp::kServerPort || ports[0] == dhcp::kClientPort) &&
      (ports[1] == dhcp::kServerPort || ports[1] == dhcp::kClientPort)) {
    auto message = ParseDhcp(udp.payload);
    if (!message) return Refused("dhcp", message.error());
    return Found("dhcp " + std::to_string(static_cast<int>(message->type)));
  }
  return Found("udp");
}

inline WalkResult WalkTcp(const Result<TcpSegment>& tcp) {
  if (!tcp) return Refused("tcp", tcp.error());
  auto mss = FindMss(tcp->options);
  if (!mss) return Refused("tcp", mss.error());
  return Found(tcp->HasFlags(tcp_flag::kSyn) ? "tcp syn" : "tcp");
}

inline WalkResult WalkIpv4(ByteSpan bytes, const WalkOptions& options, bool inside_vxlan) {
  auto ip = ParseIpv4(bytes);
  if (!ip) return Refused("ip", ip.error());
  if (ip->header.fragment_offset() != 0) return Found("ipv4 fragment");
  switch (ip->protocol()) {
    case ip_proto::kUdp: {
      bool partial = false;
      auto udp = ParseUdpChecked(ip->payload, ip->source(), ip->destination(), options, partial);
      if (!udp) return Refused("udp", udp.error());
      auto walk = WalkUdpPayload(*udp, options, inside_vxlan);
      if (walk) walk->partial_udp_checksums += partial ? 1 : 0;
      return walk;
    }
    case ip_proto::kTcp:
      return WalkTcp(ParseTcp(ip->payload, ip->source(), ip->destination()));
    case ip_proto::kIcmp: {
      auto icmp = ParseIcmpv4(ip->payload);
      if (!icmp) return Refused("icmp", icmp.error());
      if (icmp->type() == icmpv4::kEchoRequest) return Found("icmp echo request");
      if (icmp->type() == icmpv4::kEchoReply) return Found("icmp echo reply");
      return Found("icmp type " + std::to_string(icmp->type()));
    }
    default:
      return Found("ipv4 protocol " + std::to_string(ip->protocol()));
  }
}

inline WalkResult WalkIcmpv6(const Ipv6Packet& ip) {
  auto icmp = ParseIcmpv6(ip.payload, ip.source(), ip.destination());
  if (!icmp) return Refused("icmpv6", icmp.error());
  switch (icmp->type()) {
    case icmpv6::kNeighborSolicitation: {
      if (ip.hop_limit() != nd::kHopLimit) return Refused("nd", Error::kBadField);
      auto ns = ParseNeighborSolicitation(*icmp);
      if (!ns) return Refused("nd", ns.error());
      return Found("ns");
    }
    case icmpv6::kNeighborAdvertisement: {
      if (ip.hop_limit() != nd::kHopLimit) return Refused("nd", Error::kBadField);
      auto na = ParseNeighborAdvertisement(*icmp);
      if (!na) return Refused("nd", na.error());
      return Found("na");
    }
    case icmpv6::kEchoRequest:
      return Found("icmpv6 echo request");
    case icmpv6::kEchoReply:
      return Found("icmpv6 echo reply");
    default:
      return Found("icmpv6 type " + std::to_string(icmp->type()));
  }
}

inline WalkResult WalkIpv6(ByteSpan bytes, const WalkOptions& options, bool inside_vxlan) {
  auto ip = ParseIpv6(bytes);
  if (!ip) return Refused("ipv6", ip.error());
  // Even a first fragment holds only part of the upper-layer datagram: its checksum cannot be
  // verified until reassembly.
  if (ip->IsFragment()) return Found("ipv6 fragment");
  switch (ip->upper_protocol) {
    case ip_proto::kUdp: {
      bool partial = false;
      auto udp = ParseUdpChecked(ip->payload, ip->source(), ip->destination(), options, partial);
      if (!udp) return Refused("udp", udp.error());
      auto walk = WalkUdpPayload(*udp, options, inside_vxlan);
      if (walk) walk->partial_udp_checksums += partial ? 1 : 0;
      return walk;
    }
    case ip_proto::kTcp:
      return WalkTcp(ParseTcp(ip->payload, ip->source(), ip->destination()));
    case ip_proto::kIcmpv6:
      return WalkIcmpv6(*ip);
    default:
      return Found("ipv6 next header " + std::to_string(ip->upper_protocol));
  }
}

inline WalkResult WalkEthernet(ByteSpan bytes, const WalkOptions& options, bool inside_vxlan) {
  auto frame = ParseEthernet(bytes);
  if (!frame) return Refused("ether", frame.error());
  switch (frame->ether_type) {
    case ether_type::kArp: {
      auto arp = ParseArp(frame->payload);
      if (!arp) return Refused("arp", arp.error());
      return Found(arp->operation.value() == arp::kRequest ? "arp request" : "arp reply");
    }
    case ether_type::kIpv4:
      return WalkIpv4(frame->payload, options, inside_vxlan);
    case ether_type::kIpv6:
      return WalkIpv6(frame->payload, options, inside_vxlan);
    default:
      return Found("ethertype " + std::to_string(frame->ether_type));
  }
}

}  // namespace frame_walk_internal

// Walks `frame` as the file comment says. VXLAN is recognised by destination port 4789; a
// VXLAN frame inside VXLAN is not unwrapped again.
inline WalkResult WalkFrame(ByteSpan frame, const WalkOptions& options = {}) {
  return frame_walk_internal::WalkEthernet(frame, options, false);
}

}  // namespace dove::net
