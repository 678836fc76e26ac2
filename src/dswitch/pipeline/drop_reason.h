// DropReason: why the pipeline dropped a packet. Every drop has one; Counters counts them.
//
// The names (DropReasonName) are stable: they are the counters' names on the command line and
// in metrics. Add new reasons before kCount; never reuse a name for another meaning, never
// remove one (a reason no longer produced stays, documented as such, so dashboards keep
// resolving it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dove::dswitch::pipeline {

enum class DropReason : uint8_t {
  // FromPort: parsing and port security.
  kUnknownPort,          // the frame came from a port the tables do not hold
  kEthernetMalformed,    // Classify refused its Ethernet header
  kVlanTagged,           // VM ports are untagged
  kSourceMacSpoofed,     // the Ethernet source is not the port's MAC
  kEtherTypeNotAllowed,  // neither IPv4, IPv6 nor ARP
  kArpMalformed,         // ParseArp refused it
  kArpSenderSpoofed,     // ARP sender MAC or IP is not the port's
  kIpv4Malformed,        // a malformed IPv4 header (Classify), or its checksum is wrong
  kIpv6Malformed,        // a malformed IPv6 header or extension header chain (Classify)
  kSourceIpSpoofed,      // the IP source is not one of the port's addresses
  kNdMalformed,          // an NS or NA that ICMPv6 / ND parsing refused
  kNdSpoofed,            // NS source link-layer address, or NA target / its MAC, not the port's
  // LocalResponder.
  kArpTargetUnknown,  // a miss: nobody in the network is known to have the address
  kArpForOwnAddress,  // the requester asks for its own address (a probe): no answer
  kArpNotAnswered,    // an ARP reply or announcement: absorbed, never forwarded
  kNdTargetUnknown,   // a miss, as for ARP
  kNdForOwnAddress,   // duplicate address detection of the solicitor's own address
  kNdNotAnswered,     // an NA, or an NS the reply builder refused: absorbed
  // L2Forward.
  kUnknownNetwork,        // the frame's VNI has no tables
  kHairpin,               // unicast back to the port it came from
  kParkOverflow,          // unknown unicast while the VNI's parking lot is full
  kArpNdNotFlooded,       // ARP or ND reached the flood path: they never cross the underlay
  kRouterNotImplemented,  // no longer produced: frames to the router MAC go to the Router
  // VxlanEncap.
  kEncapFailed,  // no headroom for the VXLAN header, a VNI over 24 bits, or too large a datagram
  // Not produced by the UDP underlay: the kernel's UDP socket checks the outer headers and
  // hands over only datagrams to our port. Kept for the names' stability.
  kOuterMalformed,  // outer Ethernet, IPv4 or UDP refused by its parser
  kOuterNotVxlan,   // not IPv4/UDP to port 4789, or a fragment
  kOuterNotForUs,   // the outer destination is not this switch's tunnel IP
  // FromTunnel.
  kVxlanMalformed,           // ParseVxlan refused it (I flag clear, reserved bits set)
  kVxlanUnknownVni,          // a VNI this switch does not carry
  kVtepNotAllowed,           // the outer source is not in the VNI's flood list
  kInnerMalformed,           // the inner Ethernet frame is refused by ParseEthernet
  kInnerSourceInvalid,       // inner source multicast, or the MAC of a port of this switch
  kInnerDestinationUnknown,  // unicast to a MAC no local port of the VNI has
  // The switch (after the stages).
  kResolveFailed,     // a parked frame whose destination the controller did not find in time
  kPortWriteFailed,   // the port's TAP queue was full or the write failed
  kTunnelSendFailed,  // the underlay socket refused the datagram
  // Any stage.
  kPoolExhausted,  // a reply or a replicated copy could not get a packet buffer
  // L2Forward, FromTunnel.
  kFloodNoDestination,  // broadcast or multicast with nowhere to go: no other port, no peer VTEP
  // Router and policy.
  kRouterNotIp,           // to the router MAC but not a well-formed IPv4/IPv6 unicast packet
  kRouterToGateway,       // to a gateway address: not an echo request, or over the ICMP limit
  kRouteNone,             // the destination is in no subnet of the domain (ICMP unreachable)
  kTtlExpired,            // TTL / hop limit 1 or 0 on arrival (ICMP time exceeded)
  kPolicyDenied,          // a deny or reject rule (also counted per policy: policy.<id>.denied)
  kPolicyDefaultDeny,     // between two networks, and no rule allows it
  kRouteHostUnknown,      // in a subnet of the domain, but nobody has the address (resolved)
  kRoutedVtepNotAllowed,  // a routed frame from a VTEP that is not a peer of the domain
  kRoutedSourceUnknown,   // a routed frame whose inner source IP is in no subnet of the domain
  // DhcpResponder: every UDP datagram to port 67 from a port is consumed; these are not answered.
  kDhcpMalformed,    // ParseDhcp refused it, or it is a server's message (op BOOTREPLY)
  kDhcpNoAddress,    // the port has no IPv4 address inside an IPv4 subnet of its network
  kDhcpNotAnswered,  // RELEASE, DECLINE, a REQUEST for another server, relayed, or unbuildable
  // RouterAdvertiser.
  kRsNotAnswered,  // a Router Solicitation refused by its parser, or in a network without IPv6
  kRaFromPort,     // a Router Advertisement from a VM: only the switch advertises routers
  // MtuGuard: a frame bound for the tunnel that does not fit the overlay (or path) MTU.
  kMtuFragNeeded,    // IPv4 with DF: answered with ICMP fragmentation needed
  kMtuPacketTooBig,  // IPv6: answered with ICMPv6 packet too big
  kMtuNotAnswered,   // too big, and the rules of ICMP forbid an error about it (or none builds)
  kCount,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

// "source_mac_spoofed", "vtep_not_allowed", ...; "unknown" for kCount or out of range.
std::string_view DropReasonName(DropReason reason);

}  // namespace dove::dswitch::pipeline
