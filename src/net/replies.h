// The frames a DOVE switch sends back to a VM port instead of forwarding: answers to ARP and
// Neighbor Solicitation from the controller's knowledge, ICMP errors from the distributed
// router (fragmentation needed / packet too big when a packet would not fit the overlay MTU,
// time exceeded when routing runs the TTL out), and DHCP offers and acknowledgements.
//
// Each builder takes the request as parsed by this library (the Ethernet frame and the layer
// the reply answers) and returns the complete Ethernet frame of the reply, checksums filled.
// A request carrying an 802.1Q tag is answered with the same tag. Replies are built on the
// slow path: they allocate.
//
//   auto frame = ParseEthernet(bytes);
//   auto arp = ParseArp(frame->payload);
//   auto reply = BuildArpReply(*frame, *arp, owner_mac);   // send *reply out the same port
//
// The parsed layers must have been parsed from `frame.payload` (the ICMP errors quote the
// packet from it): kBadField otherwise.
//
// Errors common to all: kBadField when the request is not something the builder answers
// (each function says which); kUnsupported when the rules of ICMP forbid an answer (RFC 1812
// section 4.3.2.7, RFC 4443 section 2.4 (e)): the caller drops the packet without a reply and
// counts it.
#pragma once

#include <cstdint>
#include <vector>

#include "net/arp.h"
#include "net/dhcpv4.h"
#include "net/error.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/mac_address.h"
#include "net/neighbor_discovery.h"

namespace dove::net {

// Hop limit and TTL of the packets the switch originates.
inline constexpr uint8_t kReplyTtl = 64;

// The ARP reply telling the requester that `owner_mac` has the requested address: sent to the
// requester's MAC, sender = (owner_mac, request.target_ip), target = the requester.
// kBadField unless `request` is a request (operation 1) whose sender MAC is the frame's
// source and unicast. Gratuitous requests (sender IP == target IP) are kBadField too: they
// announce, they do not ask.
Result<std::vector<uint8_t>> BuildArpReply(const EthernetFrame& frame, const ArpPacket& request,
                                           const MacAddress& owner_mac);
// The same, built in `out` (cleared first): the data plane keeps one builder and reuses its
// buffer, so answering allocates nothing in steady state. On error `out` holds no reply.
Result<void> BuildArpReplyInto(FrameBuilder& out, const EthernetFrame& frame,
                               const ArpPacket& request, const MacAddress& owner_mac);

// The Neighbor Advertisement answering `solicitation` (carried in `packet`) on behalf of the
// target's owner: source address = the target, Solicited and Override set, Router as given,
// a target link-layer address option with `owner_mac`, hop limit 255. Sent to the solicitor,
// or to all nodes (ff02::1, Solicited clear) when the solicitor is unspecified (duplicate
// address detection). kBadField when the packet's hop limit is not 255 (RFC 4861 section
// 7.1.1: an NS from off-link is invalid).
Result<std::vector<uint8_t>> BuildNeighborAdvertisement(const EthernetFrame& frame,
                                                        const Ipv6Packet& packet,
                                                        const NeighborSolicitation& solicitation,
                                                        const MacAddress& owner_mac, bool router);
// The same, built in `out` (cleared first), as BuildArpReplyInto.
Result<void> BuildNeighborAdvertisementInto(FrameBuilder& out, const EthernetFrame& frame,
                                            const Ipv6Packet& packet,
                                            const NeighborSolicitation& solicitation,
                                            const MacAddress& owner_mac, bool router);

// The Router Advertisement answering a Router Solicitation (carried in `packet`) from the
// distributed router at `router_mac`: source address its link-local address (fe80:: + the
// modified EUI-64 of router_mac), hop limit 255, a source link-layer address option with
// router_mac (whatever `advertisement.source_mac` says), then `advertisement`'s MTU and prefix
// options. Sent to the solicitor's address and MAC, or to all nodes (ff02::1,
// 33:33:00:00:00:01) when the solicitor is unspecified (RFC 4861 section 6.2.6). kBadField when
// the packet's hop limit is not 255 (section 6.1.1).
Result<std::vector<uint8_t>> BuildRouterAdvertisement(const EthernetFrame& frame,
                                                      const Ipv6Packet& packet,
                                                      const RouterAdvertisement& advertisement,
                                                      const MacAddress& router_mac);

// The same sent unsolicited (section 6.2.4: when an interface comes up): untagged, to all nodes
// (ff02::1, 33:33:00:00:00:01).
Result<std::vector<uint8_t>> BuildUnsolicitedRouterAdvertisement(
    const RouterAdvertisement& advertisement, const MacAddress& router_mac);

// Who sends an ICMP error: the distributed router, with its MAC and its address on the
// offending packet's subnet.
struct Icmpv4Sender {
  MacAddress mac;
  Ipv4Address ip;
};
struct Icmpv6Sender {
  MacAddress mac;
  Ipv6Address ip;
};

// An ICMPv4 error about `packet` (carried in `frame`), sent back to its source: destination
// unreachable or time exceeded, quoting the offending header and 8 bytes of its payload.
// kUnsupported when no error may be sent about this packet: it is itself an ICMP error (or
// unparseable ICMP), a non-initial fragment, sent to a broadcast or multicast address (IP or
// Ethernet), or from an address that is not one host (0.0.0.0/8, 240.0.0.0/4 and the
// broadcast address, multicast, loopback). kBadField when `type` is not destination unreachable or
// time exceeded.
Result<std::vector<uint8_t>> BuildIcmpv4Error(const EthernetFrame& frame, const Ipv4Packet& packet,
                                              uint8_t type, uint8_t code, uint32_t rest,
                                              const Icmpv4Sender& sender);
// Destination unreachable, fragmentation needed, with the MTU that would have passed.
Result<std::vector<uint8_t>> BuildFragmentationNeeded(const EthernetFrame& frame,
                                                      const Ipv4Packet& packet, uint16_t mtu,
                                                      const Icmpv4Sender& sender);
// Time exceeded in transit (TTL ran out while routing).
Result<std::vector<uint8_t>> BuildIcmpv4TimeExceeded(const EthernetFrame& frame,
                                                     const Ipv4Packet& packet,
                                                     const Icmpv4Sender& sender);

// An ICMPv6 error about `packet` (carried in `frame`), sent back to its source, quoting as
// much of it as fits the minimum MTU. kUnsupported when no error may be sent: it is itself
// an ICMPv6 error or a Redirect, its source is unspecified or multicast, or it was sent to a
// multicast address (IP or Ethernet) and the error is not packet too big. kBadField when `type` is
// not an error type (below 128).
Result<std::vector<uint8_t>> BuildIcmpv6Error(const EthernetFrame& frame, const Ipv6Packet& packet,
                                              uint8_t type, uint8_t code, uint32_t first_word,
                                              const Icmpv6Sender& sender);
// Packet too big, with the MTU that would have passed; kOutOfRange below 1280, the IPv6
// minimum.
Result<std::vector<uint8_t>> BuildPacketTooBig(const EthernetFrame& frame, const Ipv6Packet& packet,
                                               uint32_t mtu, const Icmpv6Sender& sender);
// Time exceeded, hop limit exceeded in transit.
Result<std::vector<uint8_t>> BuildIcmpv6TimeExceeded(const EthernetFrame& frame,
                                                     const Ipv6Packet& packet,
                                                     const Icmpv6Sender& sender);

// The echo reply a router sends for an ICMP echo request to one of its own addresses (the
// distributed router's gateway addresses): from the address pinged (packet.destination())
// and `sender_mac`, to the request's source IP and Ethernet source, identifier, sequence and
// data echoed, TTL kReplyTtl, checksums filled. kBadField unless `packet` carries an ICMP echo
// request (not a fragment) whose checksum verifies; kUnsupported when the request went to a
// broadcast or multicast address (IP or Ethernet) or came from one that is not one host (as
// for the ICMP errors).
Result<std::vector<uint8_t>> BuildIcmpv4EchoReply(const EthernetFrame& frame,
                                                  const Ipv4Packet& packet,
                                                  const MacAddress& sender_mac);
// The same for ICMPv6 (RFC 4443 section 4.2): from packet.destination(), hop limit
// kReplyTtl. kBadField unless `packet` carries an ICMPv6 echo request (type 128, not a
// fragment) whose checksum verifies; kUnsupported when it went to a multicast address or came
// from the unspecified or a multicast one.
Result<std::vector<uint8_t>> BuildIcmpv6EchoReply(const EthernetFrame& frame,
                                                  const Ipv6Packet& packet,
                                                  const MacAddress& sender_mac);

// The DHCP OFFER, ACK or NAK answering `request` (carried in `frame`), from the switch's
// local DHCP server at `server_mac` / params.server_id, UDP 67 -> 68, addressed as RFC 2131
// section 4.1 says for a server on the client's link: a NAK to 255.255.255.255 and
// ff:ff:ff:ff:ff:ff; else a client with ciaddr set to ciaddr (whatever the broadcast flag);
// else, with the broadcast flag, to 255.255.255.255; else to yiaddr at the client's MAC. An
// ACK to an INFORM without ciaddr (so without yiaddr) is broadcast. kUnsupported for a relayed
// request (giaddr set): the switch answers only its own ports. Errors of BuildDhcpReply pass
// through.
Result<std::vector<uint8_t>> BuildDhcpReplyFrame(const EthernetFrame& frame,
                                                 const DhcpMessage& request,
                                                 const DhcpReplyParams& params,
                                                 const MacAddress& server_mac);

}  // namespace dove::net
