// PacketSpec: the packet a trace follows (dovectl trace, POST /v1/trace), from the short
// description an operator types. The source is always an endpoint (its MAC and its first
// address of the destination's family); the description says only where it goes:
//
//   icmp to IP                  an echo request (ICMPv6 for an IPv6 address)
//   tcp to IP:PORT              a TCP SYN; an IPv6 address as [IP]:PORT
//   udp to IP:PORT              a UDP datagram
//   udp to MAC [port N]         a datagram to a MAC address (ff:ff:ff:ff:ff:ff: a broadcast,
//                               whose IP destination is 255.255.255.255); no port: 9 (discard)
//   arp who-has IP              an ARP request (for an IPv6 address: a Neighbor Solicitation)
//
// Words are separated by spaces; keywords are lower case. ParsePacketSpec answers with one
// sentence naming what was typed for the first problem. A pure function, thread-safe; fuzzed
// by packet_spec_fuzz.
//
//   auto packet = ParsePacketSpec("tcp to 10.0.1.5:443");
//   if (!packet) return Fail(packet.error());
//   packet->protocol();  // 6
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::trace {

struct PacketSpec {
  enum class Kind { kIcmp, kTcp, kUdp, kArp };

  Kind kind = Kind::kIcmp;
  std::optional<net::IpAddress> ip;    // the destination (arp: the address asked for)
  std::optional<net::MacAddress> mac;  // the destination MAC (udp to MAC); else resolved
  uint16_t port = 0;                   // tcp/udp: the destination port

  // The IP protocol number: ICMP 1, ICMPv6 58, TCP 6, UDP 17; 0 for ARP.
  uint8_t protocol() const;
  // The description in its normal form ("tcp to [2001:db8::5]:443", "udp to MAC port 9").
  std::string Text() const;
};

Expected<PacketSpec, std::string> ParsePacketSpec(std::string_view text);

}  // namespace dove::trace
