// The frames a live trace sends for an endpoint (dovectl trace --live; trace_recorder.h), built
// as the endpoint's own stack would: first an ARP request / Neighbor Solicitation for the next
// hop, then the packet itself to the MAC the switch answered, carrying the trace's marker as
// its payload so that every switch it reaches can tell it from the endpoint's own traffic.
//
// Pure: no I/O, each call allocates the frame it returns. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/byte_order.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::userspace {

enum class TraceKind : uint8_t { kIcmp, kTcp, kUdp, kArp };

// An ARP request (IPv4) or a Neighbor Solicitation (IPv6: to the target's solicited-node group,
// hop limit 255, with the source link-layer address option) from `mac`/`source` asking for
// `target`. `source` and `target` are of one family.
std::vector<uint8_t> BuildSolicit(const net::MacAddress& mac, const net::IpAddress& source,
                                  const net::IpAddress& target);

// What a trace of `kind` (not kArp) sends: an ICMP/ICMPv6 echo request (identifier `id`), a TCP
// SYN (source port 32768 + id % 28232, sequence `id`) or a UDP datagram (the same source port)
// to `port`, from `mac`/`source` to `destination_mac`/`destination` (of the source's family),
// TTL / hop limit 64, with `marker` as its payload, every checksum complete.
std::vector<uint8_t> BuildTracePacket(TraceKind kind, const net::MacAddress& mac,
                                      const net::IpAddress& source,
                                      const net::MacAddress& destination_mac,
                                      const net::IpAddress& destination, uint16_t port, uint16_t id,
                                      net::ByteSpan marker);

// The MAC `frame` answers for `target`: an ARP reply "target is-at MAC", or a Neighbor
// Advertisement for `target` with a target link-layer address option. nullopt for anything
// else.
std::optional<net::MacAddress> AnsweredMac(net::ByteSpan frame, const net::IpAddress& target);

}  // namespace dove::dswitch::userspace
