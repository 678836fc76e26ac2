// MtuGuard: the overlay MTU, enforced on what a port sends into the tunnel. Runs on the packets
// bound for a remote VTEP (meta.tunnel set: after L2Forward, and after the router), before
// VxlanEncap. Frames to local ports are not checked: they never leave the host.
//
// The overlay MTU is the largest IP packet (header included) a VM may send through the tunnel:
// the underlay MTU less 50 bytes of encapsulation (outer IPv4 20 + UDP 8 + VXLAN 8 + the inner
// Ethernet header 14). Toward a VTEP whose underlay path is known to be smaller (SetPathMtu:
// an ICMP fragmentation-needed from a router of the underlay), it is that path MTU less 50.
//
// The size checked is the IP packet's: the frame after its Ethernet header; for a TCP
// super-frame (GSO), the size of each wire segment it stands for (IP and TCP headers +
// gso_size). A packet that fits passes. One that does not:
//   - IPv4 with DF (a TCP super-frame's segments carry the DF of its header): answered with
//     ICMP destination unreachable / fragmentation needed, next-hop MTU = the MTU toward that
//     VTEP; dropped as mtu_frag_needed;
//   - IPv4 without DF: passes, counted in outer_fragmented. The kernel fragments the outer
//     datagram (as Linux's own VXLAN does: the inner packet allows fragmentation, and an outer
//     fragment is reassembled by the receiving host's kernel before the switch sees it);
//     fragmenting the inner packet instead would cost the switch a copy per fragment for no gain.
//     (A TCP super-frame without DF whose segments exceed the MTU, which Linux never sends with
//     path MTU discovery on, passes too; UDP GSO cannot fragment, so the kernel may refuse it:
//     tunnel_send_failed, counted.)
//   - IPv6: answered with ICMPv6 packet too big (IPv6 routers never fragment); dropped as
//     mtu_packet_too_big. Below 1280 (an underlay under 1330 bytes) no PTB may be sent:
//     mtu_not_answered;
//   - anything else (ARP is never that big), and packets the rules of ICMP forbid an error
//     about (an ICMP error, a fragment, to a broadcast or multicast address, from 0.0.0.0...):
//     dropped as mtu_not_answered. Never a silent drop.
// The ICMP error comes from the gateway of the sender's subnet (in the sender's port's
// network: a routed packet's meta.vni is already the destination's), from the router MAC; in
// a subnet without a gateway, from the packet's own destination address and MAC, as Linux's
// tunnels do (skb_tunnel_check_pmtu): the VM takes it as the destination's answer. The error
// goes to the sending port only, at its MAC.
//
// Errors are built on the slow path (net::BuildFragmentationNeeded / BuildPacketTooBig
// allocate), counted in replies_built. Reads `tables`, writes `counters`; takes reply packets
// from and frees dropped ones to `pool`; all outlive the stage. Never throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/tables.h"
#include "net/ipv4_address.h"

namespace dove::dswitch::pipeline {

// Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14).
inline constexpr uint32_t kVxlanOverhead = 50;

struct MtuCounters {
  uint64_t outer_fragmented = 0;  // IPv4 without DF, larger than the MTU: passed
  uint64_t frag_needed = 0;       // ICMP fragmentation needed sent
  uint64_t packet_too_big = 0;    // ICMPv6 packet too big sent
  uint64_t replies_built = 0;     // slow-path (allocating) error builds

  // "mtu.<name>" for each counter, zero ones too.
  std::map<std::string, uint64_t> Dump() const;
};

class MtuGuard final {
 public:
  MtuGuard(const Tables& tables, Counters& counters, PacketPool& pool, uint32_t overlay_mtu)
      : tables_(tables), counters_(counters), pool_(pool), overlay_mtu_(overlay_mtu) {}

  // Keeps in `to_tunnels` what fits; appends the ICMP errors to `replies`.
  void Process(PacketBatch& to_tunnels, PacketBatch& replies);

  void set_overlay_mtu(uint32_t mtu) { overlay_mtu_ = mtu; }
  uint32_t overlay_mtu() const { return overlay_mtu_; }
  // The underlay path MTU toward `vtep` (learned from the kernel); 0 forgets it.
  void SetPathMtu(const net::Ipv4Address& vtep, uint32_t underlay_path_mtu);
  // The largest inner IP packet toward `vtep`.
  uint32_t MtuTo(const net::Ipv4Address& vtep) const;
  const MtuCounters& counters() const { return mtu_counters_; }

 private:
  // Whether `packet` passes; when it does not, the error (if any) is in reply_ and `drop` says
  // why.
  bool Check(const Packet& packet, DropReason& drop);

  const Tables& tables_;
  Counters& counters_;
  PacketPool& pool_;
  uint32_t overlay_mtu_;
  std::unordered_map<net::Ipv4Address, uint32_t> path_mtus_;  // by VTEP: underlay path MTU
  MtuCounters mtu_counters_;
  std::vector<uint8_t> reply_;
};

}  // namespace dove::dswitch::pipeline
