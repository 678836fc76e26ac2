// VxlanEncap: wraps each frame bound for a remote VTEP in its outer headers (RFC 7348):
//
//   outer Ethernet (14) | IPv4 (20, DF set) | UDP (8) -> 4789 | VXLAN (8, VNI) | inner frame
//
// The UDP source port is VxlanSourcePort(InnerFlowHash(inner frame)): stable per inner flow
// (MACs, EtherType, IPs and L4 ports when present) and in 49152..65535, so the underlay's ECMP
// spreads flows without reordering one. The UDP checksum is 0 (allowed over IPv4, RFC 7348
// section 5); the IPv4 header checksum is filled.
//
// Input frames carry Frame::vni and Frame::tunnel (the remote VTEP); Process replaces each
// frame's bytes with the encapsulated frame, in place, and counts it in its network's
// to_tunnel. A frame whose headers cannot be built (an inner frame over 65535 - 36 bytes, a
// VNI over 24 bits) is dropped as encap_failed. The overlay MTU is enforced before this stage
// (DESIGN.md: an ICMP error, never a silent drop).
#pragma once

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/frame.h"
#include "dswitch/pipeline/underlay.h"

namespace dove::dswitch::pipeline {

class VxlanEncap final {
 public:
  VxlanEncap(const Underlay& underlay, Counters& counters)
      : underlay_(underlay), counters_(counters) {}

  void Process(Batch& batch);

 private:
  // Encapsulates `frame` in place; false when its headers cannot be built.
  bool Encapsulate(Frame& frame) const;

  Underlay underlay_;
  Counters& counters_;
};

}  // namespace dove::dswitch::pipeline
