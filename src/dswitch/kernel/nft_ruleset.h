// NftRuleset: the kernel backend's policy and port security as nftables text, a pure function
// of the RoutePlan (route_plan.h). NftSession (nft_session.h) loads it in one transaction.
//
// Three tables, and nothing outside them:
//
// `table inet dove` (routing between a tenant's networks, and its policy):
//   - prerouting (priority raw): a frame in from a domain's bridge gets the domain's firewall
//     mark (its routing table is chosen by `ip rule fwmark`, host_routing.h); one from or to
//     the domain's router MAC (routed here, or a routed arrival) also its conntrack zone, one
//     only bridged inside a network `notrack` (it needs no connection state). The tunnel's
//     datagrams (to our tunnel IP and port, and from it in output) are not tracked either.
//     output (raw): the kernel's own answers (ping of a gateway, ICMP errors, rejects) carry
//     the reflected mark (fwmark_reflect) and get the same zone.
//   - forward: what neither enters nor leaves one of our bridges is not ours (accept). Then
//       * replies of established flows (`ct direction reply`) whose conntrack mark is in the
//         set `allowed_flows`, and ICMP errors about flows (`ct state related`) pass: the
//         return traffic of an allowed flow, like the userspace backend's return-flow table.
//         An ALLOW sets the flow's ct mark to its AllowTag; the set holds the tags of this
//         ruleset's allows and kBridgedFlowTag, so a reload without an allow stops the replies
//         of its flows in the same transaction;
//       * a frame another host's router sent into a local network (inner source MAC = the
//         domain's router MAC, the same bridge in and out) meets the policy again: its source
//         address gives the source network and the pair's `arrive_S_D` chain decides (the
//         pair's policies: an ALLOW tags the flow as below, so its replies routed here stop
//         with the allow; a REJECT only drops: the sender answered); no policy: the
//         default deny; a source in no subnet of the domain: dropped, `routed_source_unknown`;
//         neighbour discovery and link-local sources pass;
//       * a frame bridged inside one network (br_netfilter shows it with the same bridge in and
//         out) passes (chain `same_network`, which tags a new flow kBridgedFlowTag: its replies,
//         routed on this host when the flow was routed on another, pass): inside a network
//         everything is allowed;
//       * a (source bridge, destination bridge) pair of one domain that has policies jumps to
//         its chain: the policies in the compiled order of pipeline::PolicyTable, so the first
//         match decides, as pipeline::PolicyTable::Evaluate does. ALLOW tags and accepts; DENY
//         drops and counts `policy_<id>_denied`; REJECT counts and answers ICMP destination
//         unreachable, administratively prohibited (IPv4 3/13, IPv6 1/1: `icmpx
//         admin-prohibited`), what the userspace backend answers, for TCP too;
//       * a frame from a bridge routed anywhere else (the domain's table had no route) is
//         answered "no route" (IPv4 net unreachable, IPv6 no route) and counted `no_route`;
//       * anything else between our bridges is the default deny: dropped, `policy_default_deny`.
//   - input: from our bridges the host accepts only echo requests to the domain's gateway
//     addresses, neighbour discovery, and what belongs to flows it answered; the rest is
//     dropped and counted `to_host` (a tenant never reaches the host's own services).
//   Connection state is kept only where an ALLOW needs it (RoutePlan::connection_state). A
//   plan whose domains have no ALLOW between their networks gets the same decisions without
//   any conntrack expression: no zones, no `notrack`, no output chain, no `allowed_flows`,
//   `same_network` only accepts, and the input chain has no rule for flows the host answered
//   (nothing routed needs one: without an allow every routed decision is per packet). Then
//   conntrack's hooks are not registered in the host's namespace at all, and no packet, the
//   tunnel's included, pays for them (a quarter of the backend's gap to the plain kernel VXLAN
//   in docs/benchmarks.md). The first ALLOW turns it on in the same transaction.
//
// `table netdev dove` (port security, DESIGN.md: a port sends only from its own MAC and IPs;
// the rules of pipeline::FromPort), one chain on the ingress hook of each interface that needs
// rules, so a frame passes only its own interface's rules, without a lookup of the interface,
// and one in from a vxlan device without arrival rules (a network that is not routed, or that
// tracks its arrivals) passes none. (One bridge prerouting hook for every frame, keyed by
// interface, cost 1-3 % of TCP throughput against the plain kernel VXLAN: docs/benchmarks.md.)
// The kernel keeps a chain whose device is not there, and hooks it when the device appears.
//   - port_<interface> (ingress of the port): TCP from its MAC and addresses first, at one
//     rule (the bulk of its frames): the source MAC must be the port's; IPv4 UDP
//     to port 67 (DHCP) and router solicitations are dropped, counted dhcp_taken and rs_taken: the
//     switch's PortServices (port_services.h) read them on the port before the bridge and answer
//     them, and they go no further; ARP: sender MAC the port's, sender IP one of its IPv4 addresses
//     or 0.0.0.0; IPv4: source one of its addresses; IPv6: source one of its addresses or the
//     link-local address of its MAC, or :: for ICMPv6 (DAD, MLD); router advertisements from a VM
//     are dropped; other EtherTypes (VLAN tags included) are dropped. Each drop counts in a named
//     counter `port_<interface>_<reason>`, reason bad_mac, dhcp_taken, rs_taken, bad_ip,
//     router_advert or not_ip.
//   - arrive_<VNI> (ingress of the network's vxlan device): routed arrivals into a network that
//     no ALLOW starts or ends in (RoutedNetwork::tracked_arrivals false: its bridge does without
//     br_netfilter, host_routing.h) are decided here without conntrack, as the inet table's
//     arrival rules would: a frame from the router MAC passes when it is neighbour discovery,
//     from a link-local source or from the network's own subnets; from another network of the
//     domain it is dropped, `policy_default_deny`, from anywhere else `routed_source_unknown`
//     (counters of those names in this table; the switch's status adds them to the inet table's).
//
// `table bridge dove` (the domain's mark, only where a domain is):
//   - to_router (input; only without connection state): what a domain's ports and vxlan devices
//     pass up to the host gets the domain's mark (the inet prerouting's job otherwise).
//   - to_tunnels (postrouting; only with connection state, where the inet prerouting marks
//     bridged frames too): frames leaving through a vxlan device (`dvx*`) lose the firewall
//     mark, so the underlay route of the tunnel is looked up in the host's tables, never a
//     tenant's. Without connection state only routed packets carry a mark, and the inet
//     table's `forward_done` (after forward accepted them) clears it.
//
// Counter names use only [A-Za-z0-9_]: other characters of a policy id or interface name
// become '_'. An empty plan (no domain, no port) gives the empty string: no table.
//
//   std::string text = NftRuleset(plan);
//   session->Apply(text);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dswitch/kernel/route_plan.h"

namespace dove::dswitch::kernel {

// The nftables text of the three tables for `plan` (see above).
std::string NftRuleset(const RoutePlan& plan);

// Conntrack marks of the forward chain: a flow accepted by an ALLOW policy carries the rule's
// tag, a flow first seen bridged inside one network kBridgedFlowTag. Replies pass only with a
// tag the ruleset still holds (set `allowed_flows`).
inline constexpr uint32_t kBridgedFlowTag = 1;
// The tag of an ALLOW rule of the domain `domain_key`: a hash of the rule (id, networks,
// protocol, ports), never 0 or kBridgedFlowTag; the same rule gives the same tag in every
// ruleset, so reloading for another change keeps its flows.
uint32_t AllowTag(uint32_t domain_key, const pipeline::PolicyRule& rule);

// The counter names the ruleset declares for a policy and for a port's drops.
std::string PolicyCounterName(std::string_view policy_id);
std::string PortCounterName(std::string_view interface, std::string_view reason);

}  // namespace dove::dswitch::kernel
