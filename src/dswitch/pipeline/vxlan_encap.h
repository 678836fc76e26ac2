// VxlanEncap: puts the VXLAN header (RFC 7348) in front of each packet bound for a remote VTEP,
// in place, in the packet's headroom:
//
//   before:            [ headroom ............ | inner Ethernet frame ]
//   after:             [ headroom ... | VXLAN (8: flags 0x08, VNI) | inner Ethernet frame ]
//
// and nothing else: the outer IPv4/UDP (and Ethernet) headers are the kernel's, since the
// underlay sends through UDP sockets (io/). It records meta.flow_hash =
// net::InnerFlowHash(inner frame): stable per inner flow (MACs, EtherType, IPs and L4 ports
// when present), which the underlay device turns into the outer UDP source port (the socket
// it sends on), so ECMP spreads flows without reordering one.
//
// Input packets carry meta.vni and meta.tunnel (the remote VTEP); they stay in the batch,
// encapsulated, and each counts in its network's to_tunnel. Metadata offsets stay relative to
// the inner Ethernet header, and offload state (a TCP super-frame, a partial checksum) is kept
// for the underlay device to carry out (UDP GSO, or segmentation in software).
//
// Dropped as encap_failed: no headroom for 8 bytes, a VNI over 24 bits, or a packet without
// offload too large for one UDP datagram over IPv4 (65507 bytes of VXLAN header and frame).
// The overlay MTU is enforced before this stage (DESIGN.md: an ICMP error, never a silent
// drop).
//
// Writes `counters`, frees dropped packets to `pool`; both outlive the stage. Never throws or
// allocates.
#pragma once

#include <cstddef>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/packet_types.h"

namespace dove::dswitch::pipeline {

class VxlanEncap final {
 public:
  // The largest UDP payload an IPv4 datagram holds: 65535 - 20 (IPv4) - 8 (UDP).
  static constexpr size_t kMaxDatagramPayload = 65507;

  VxlanEncap(Counters& counters, PacketPool& pool) : counters_(counters), pool_(pool) {}

  void Process(PacketBatch& batch);

 private:
  // Encapsulates `packet` in place; false, and the packet unchanged, when it cannot be.
  static bool Encapsulate(Packet& packet);

  Counters& counters_;
  PacketPool& pool_;
};

}  // namespace dove::dswitch::pipeline
