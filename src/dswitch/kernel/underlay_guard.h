// UnderlayGuard: which VXLAN datagrams the kernel backend's vxlan devices may take, as nftables
// rules. The kernel's vxlan device takes a datagram from ANY sender for a VNI it has (it checks
// the header, not who sent it); DESIGN.md wants VXLAN only from the VTEPs the controller listed,
// which the userspace backend's FromTunnel stage checks (pipeline/from_tunnel.h). These rules
// give the kernel backend the same checks, in the same order, with the same drop reasons, as
// named counters of `table inet dove`:
//   - the VXLAN header is valid (flags exactly the I flag, reserved bits zero, as the kernel's
//     vxlan device requires: it would drop these too, uncounted) and an Ethernet header
//     follows                                                            (vxlan_malformed);
//   - the VNI is one the switch carries a network for                 (vxlan_unknown_vni);
//   - the sender is one of the network's peers: its flood list, and the VTEPs of the remote
//     endpoints the switch holds in it (AddPeers; the userspace backend takes the flood list
//     only: the kernel forwards by itself while dove-switch restarts, and a peer the
//     controller has just declared down must still reach the endpoints it holds)
//     (vtep_not_allowed); except a routed frame (inner source MAC = the domain's router MAC:
//     another switch's distributed router sent it), which may come from any VTEP of the domain
//                                                               (routed_vtep_not_allowed).
// Only UDP to the switch's tunnel IP and VXLAN port is looked at (hook input, before the
// kernel's UDP socket hands it to the vxlan device); anything else on the host is untouched.
// The common case is one rule of the input hook: the datagram's length and one lookup of
// (sender, the whole 8-byte VXLAN header) in the set `vxlan_peers`, whose elements are each
// peer with the exact header of a VNI it may send (every rule an arriving datagram passes
// costs throughput: see docs/benchmarks.md). What that lookup does not take goes to the chain
// `vxlan_in`, which finds why: the length, the header but the VNI in one masked comparison,
// then by VNI to the chain `vxlan_<VNI>` (routed frames, the counted drops).
// IPv4 underlay (tunnel IPs are IPv4, DesiredNetwork).
//
//   UnderlayPlan guard = PlanUnderlay(networks);  // inside PlanRoutes
//   guard.tunnel_ip = tunnel_ip; guard.port = 4789;
//   AppendUnderlayGuard(guard, text);             // inside `table inet dove { ... }`
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/pipeline/network_settings.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::kernel {

// One network the switch carries, as the underlay guard sees it.
struct UnderlayVni {
  uint32_t vni = 0;
  std::vector<net::Ipv4Address> peers;         // sorted, unique: flood list and AddPeers
  net::MacAddress router_mac;                  // all zeros: not routed
  std::vector<net::Ipv4Address> domain_peers;  // sorted, unique

  friend bool operator==(const UnderlayVni&, const UnderlayVni&) = default;
};

struct UnderlayPlan {
  std::optional<net::Ipv4Address> tunnel_ip;  // unset: any local address
  uint16_t port = 4789;
  std::vector<UnderlayVni> vnis;  // by VNI

  friend bool operator==(const UnderlayPlan&, const UnderlayPlan&) = default;
};

// The drop counters the guard declares, in the order of its checks.
inline constexpr std::array<const char*, 4> kUnderlayCounters = {
    "vxlan_malformed", "vxlan_unknown_vni", "vtep_not_allowed", "routed_vtep_not_allowed"};

// The guard of `networks` (tunnel_ip and port left for the caller). Deterministic.
UnderlayPlan PlanUnderlay(const std::vector<pipeline::NetworkSettings>& networks);

// Adds `tunnel_ips` (the VTEPs of remote endpoints held in the network) to its peers.
void AddPeers(UnderlayVni& vni, const std::vector<net::Ipv4Address>& tunnel_ips);

// Appends the guard's counters, set and chains to the body of a `table inet ...` (see above).
// A plan without VNIs appends nothing: no vxlan device, nothing to guard. With `own_hook` the
// guard has its own base chain `underlay` (hook input, priority filter - 10); without, the
// caller puts UnderlayGuardRules(plan) first in its own input chain, so an arriving datagram
// passes one hook, not two (each costs, per datagram).
void AppendUnderlayGuard(const UnderlayPlan& plan, std::string& out, bool own_hook = true);

// The rules that take the tunnel's datagrams ("[ip daddr T] udp dport P ..."): the common
// case's lookup (when some VNI has a peer), then the jump to `vxlan_in`; none for a plan
// without VNIs.
std::vector<std::string> UnderlayGuardRules(const UnderlayPlan& plan);

}  // namespace dove::dswitch::kernel
