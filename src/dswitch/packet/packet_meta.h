// PacketMeta: what the pipeline knows about a packet besides its bytes. It rides with the
// packet from the device that received it to the device that sends it, so no stage parses
// what an earlier one parsed (the Open vSwitch l3_ofs/l4_ofs idea, BESS's metadata).
//
// Who writes what:
//   - the receiving device: in_port (a TAP port), or tunnel (the sender of a datagram from the
//     underlay); everything else is at its default;
//   - pipeline::Classify (first stage on either path): the parse fields, from the first byte
//     of the (inner) Ethernet header; `parsed` says they are set;
//   - the stages that decide: vni, out_port, tunnel (the VTEP a frame goes to), flow_hash.
// Offsets stay valid while the packet's first byte is the inner Ethernet header: VxlanEncap's
// Prepend and the underlay's VXLAN header before decapsulation are the only exceptions, and
// the devices that see those know it.
#pragma once

#include <cstdint>
#include <limits>

#include "net/ipv4_address.h"

namespace dove::dswitch::packet {

using PortId = uint32_t;
inline constexpr PortId kNoPort = std::numeric_limits<PortId>::max();
// VNIs are 24 bits: this value is never one.
inline constexpr uint32_t kNoVni = std::numeric_limits<uint32_t>::max();

struct PacketMeta {
  PortId in_port = kNoPort;   // the TAP port it came from
  PortId out_port = kNoPort;  // the TAP port it goes to
  uint32_t vni = kNoVni;      // its network, once decided
  net::Ipv4Address tunnel;    // remote VTEP: outer source in, outer destination out
  uint32_t flow_hash = 0;     // inner flow hash (VxlanEncap: outer source port / socket)

  // Set by Classify. l3/l4 offsets are 0 when the frame has no such layer.
  bool parsed = false;
  uint16_t ether_type = 0;  // after one 802.1Q tag, when there is one
  bool vlan_tagged = false;
  uint8_t ip_proto = 0;  // IPv4 protocol / IPv6 upper-layer protocol (after extensions)
  bool ip_fragment = false;
  uint16_t l3_offset = 0;  // IP or ARP header
  uint16_t l4_offset = 0;  // TCP/UDP/ICMP header (not in non-first fragments)

  // A live trace's slot in the datapath's TraceRecorder (dovectl trace --live): the stages tell
  // what they do to the packet (pipeline/trace_sink.h); 0: not traced. Copied to clones and to
  // the replies the stages build for it, so nothing traced reaches a port unless asked.
  uint16_t trace = 0;
};

}  // namespace dove::dswitch::packet
