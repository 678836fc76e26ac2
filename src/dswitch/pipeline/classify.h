// Classify: parses a packet's headers once and records what every later stage needs in its
// metadata (the Open vSwitch l3_ofs/l4_ofs idea): the EtherType, whether it had an 802.1Q tag,
// where the IP or ARP header starts, the IP protocol, whether it is a fragment, and where the
// TCP/UDP/ICMP header starts. After it, no stage parses the Ethernet or IP headers again; a
// stage reads the L4 header, the ARP body or the ICMPv6 message it needs from the offsets,
// through the views below.
//
// What it accepts and records (offsets from the first byte, the (inner) Ethernet header):
//   - Ethernet II, untagged or with one 802.1Q tag (as net::ParseEthernet: 802.3 length frames
//     and stacked tags are refused). Refused: Classify returns false and sets nothing else;
//   - ARP: l3_offset at the ARP body (not parsed: the stage that reads it does);
//   - IPv4: version 4, IHL >= 5, the header and Total Length within the frame (Ethernet
//     padding after Total Length is allowed). A TCP super-frame (packet.offload.is_gso()) may
//     have Total Length 0: Linux's BIG TCP writes 0 when the super-frame exceeds 64 KiB, and
//     its length is then the frame's. The header checksum is NOT verified here (FromPort does
//     it, once, for frames from VMs; the rest come from places that already did);
//   - IPv6: as net::ParseIpv6, extension headers walked;
//   - ip_fragment for every piece of a fragmented packet; l4_offset is 0 for a non-first
//     fragment (what follows is not a header).
// An IPv4 or IPv6 header that does not parse leaves l3_offset (and ip_proto, l4_offset) 0
// with ether_type set: stages read that as "malformed IP" (ipv4_malformed, ipv6_malformed).
// Classify always returns true when the Ethernet header parses.
//
// Pure function of the packet's bytes and offload state; writes only packet.meta's parse fields
// (meta.parsed and below). Allocation-free, never throws.
//
//   if (!Classify(*packet)) return DropPacket(DropReason::kEthernetMalformed, ...);
//   if (packet->meta.ether_type == net::ether_type::kArp) HandleArp(L3Bytes(*packet));
#pragma once

#include "dswitch/pipeline/packet_types.h"
#include "net/byte_order.h"
#include "net/ethernet.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

// Parses `packet` and fills its metadata's parse fields; false when the Ethernet header does
// not parse.
bool Classify(Packet& packet);

// Views of a classified packet (meta.parsed set). They read fields at the recorded offsets;
// none validates anything.

// The Ethernet destination and source (the first 12 bytes; a classified packet has them).
net::MacAddress DestinationMac(const Packet& packet);
net::MacAddress SourceMac(const Packet& packet);

// The Ethernet frame as net::ParseEthernet would give it, for the net/ builders that take one
// (replies.h). Built from the metadata and the header bytes.
net::EthernetFrame EthernetView(const Packet& packet);

// The bytes from l3_offset to the end of the frame (ARP body, IP header); empty without an L3
// header.
net::ByteSpan L3Bytes(const Packet& packet);

// The IP payload from l4_offset to the end of the IP packet as its length field says (Ethernet
// padding excluded; to the frame's end for a super-frame with length 0); empty without an L4
// offset.
net::ByteSpan L4Bytes(const Packet& packet);

}  // namespace dove::dswitch::pipeline
