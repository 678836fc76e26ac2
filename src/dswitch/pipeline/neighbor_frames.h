// Neighbour announcements as whole Ethernet frames: an ARP reply and an unsolicited IPv6
// neighbour advertisement (override flag) on behalf of an address's owner. The kernel backend
// writes them to complete a VM's pending neighbour entry (kernel/neigh_announcer.h); the
// userspace datapath announces a VM whose port came up (a new or moved VM) to the other local
// ports of its network: a gratuitous ARP is BuildArpReply(mac, ip, broadcast, ip), an
// unsolicited NA BuildNeighAdvert(mac, ip, 33:33:00:00:00:01).
//
// Pure: no I/O; each call allocates the frame it returns. Thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

// An ARP reply "`sender_ip` is at `sender_mac`" to `target_mac`/`target_ip` (IPv4 only).
std::vector<uint8_t> BuildArpReply(const net::MacAddress& sender_mac,
                                   const net::IpAddress& sender_ip,
                                   const net::MacAddress& target_mac,
                                   const net::IpAddress& target_ip);
// A neighbour advertisement (solicited=0, override=1) for `sender_ip` from `sender_mac` to the
// all-nodes address, Ethernet destination `target_mac`, with a target link-layer option and a
// valid ICMPv6 checksum (IPv6 only; source address `sender_ip`).
std::vector<uint8_t> BuildNeighAdvert(const net::MacAddress& sender_mac,
                                      const net::IpAddress& sender_ip,
                                      const net::MacAddress& target_mac);

}  // namespace dove::dswitch::pipeline
