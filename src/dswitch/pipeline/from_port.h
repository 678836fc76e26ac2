// FromPort: the first stage for frames a VM port sent. Parses them and enforces port
// security; what passes is tagged with the port's network (Frame::vni).
//
// Port security (DESIGN.md: a port may send only from its own MAC and IPs):
//   - the frame is untagged Ethernet II whose source is the port's MAC;
//   - it is IPv4, IPv6 or ARP, nothing else;
//   - ARP: the sender MAC is the port's, the sender IP one of the port's (or 0.0.0.0, an
//     RFC 5227 probe);
//   - IPv4: the source is one of the port's IPs, or 0.0.0.0 for UDP to port 67 (DHCP before
//     the VM has an address); the header checksum verifies;
//   - IPv6: the source is one of the port's IPs or the link-local address derived from its
//     MAC, or :: for ICMPv6 (duplicate address detection, MLD before DAD);
//   - Neighbor Solicitation: its source link-layer address option, when present, is the port's
//     MAC; Neighbor Advertisement: its target is an address the port may use and its target
//     link-layer address option, when present, is the port's MAC.
// Anything else is dropped with the reason of the first rule it breaks.
//
// Reads `tables` and writes `counters`, both owned by the caller and outliving the stage.
// Process filters the batch in place; it never throws. Frames must carry Frame::port.
#pragma once

#include <optional>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/tables.h"
#include "net/ethernet.h"

namespace dove::dswitch::pipeline {

class FromPort final {
 public:
  FromPort(const Tables& tables, Counters& counters) : tables_(tables), counters_(counters) {}

  // Keeps the frames that pass, with Frame::vni set; drops and counts the others.
  void Process(Batch& batch);

 private:
  // Why `frame` may not pass, or nullopt when it may.
  static std::optional<DropReason> Check(const LocalPort& port, const net::EthernetFrame& frame);

  const Tables& tables_;
  Counters& counters_;
};

}  // namespace dove::dswitch::pipeline
