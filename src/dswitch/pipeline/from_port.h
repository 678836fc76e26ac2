// FromPort: the first stage for packets a VM port sent. Classifies them (Classify: the one
// parse of their headers) and enforces port security; what passes is tagged with the port's
// network (meta.vni).
//
// Port security (DESIGN.md: a port may send only from its own MAC and IPs):
//   - the frame is untagged Ethernet II whose source is the port's MAC;
//   - it is IPv4, IPv6 or ARP, nothing else;
//   - ARP: the sender MAC is the port's, the sender IP one of the port's (or 0.0.0.0, an
//     RFC 5227 probe);
//   - IPv4: the header parses and its checksum verifies (here, once for the whole pipeline);
//     the source is one of the port's IPs, or 0.0.0.0 for UDP to port 67 (DHCP before the VM
//     has an address);
//   - IPv6: the header chain parses; the source is one of the port's IPs or the link-local
//     address derived from its MAC, or :: for ICMPv6 (duplicate address detection, MLD before
//     DAD);
//   - Neighbor Solicitation: its source link-layer address option, when present, is the port's
//     MAC; Neighbor Advertisement: its target is an address the port may use and its target
//     link-layer address option, when present, is the port's MAC.
// Anything else is dropped with the reason of the first rule it breaks.
//
// Offloads: a TCP super-frame or a frame with a partial checksum (packet.offload) is checked
// like any frame and passes whole, offload state untouched. Its IPv4 Total Length may be the
// super-frame's or 0 (see Classify); the IPv4 header checksum is always complete (Linux fills
// it for super-frames too); the partial TCP/UDP checksum is not looked at.
//
// Reads `tables`, writes `counters`, frees dropped packets to `pool`; all owned by the caller
// and outliving the stage. Process filters the batch in place; it never throws or allocates.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/tables.h"

namespace dove::dswitch::pipeline {

class FromPort final {
 public:
  FromPort(const Tables& tables, Counters& counters, PacketPool& pool)
      : tables_(tables), counters_(counters), pool_(pool) {}

  // Packets must carry meta.in_port. Keeps the packets that pass, classified and with meta.vni
  // set; drops, counts and frees the others.
  void Process(PacketBatch& batch);

 private:
  // Why `packet` (classified) may not pass, or nullopt when it may.
  static std::optional<DropReason> Check(const LocalPort& port, const Packet& packet);

  const Tables& tables_;
  Counters& counters_;
  PacketPool& pool_;
};

}  // namespace dove::dswitch::pipeline
