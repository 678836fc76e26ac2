#include "dswitch/pipeline/drop_reason.h"

#include <array>

namespace dove::dswitch::pipeline {

namespace {

constexpr std::array<std::string_view, kDropReasonCount> kNames = {
    "unknown_port",
    "ethernet_malformed",
    "vlan_tagged",
    "source_mac_spoofed",
    "ethertype_not_allowed",
    "arp_malformed",
    "arp_sender_spoofed",
    "ipv4_malformed",
    "ipv6_malformed",
    "source_ip_spoofed",
    "nd_malformed",
    "nd_spoofed",
    "arp_target_unknown",
    "arp_for_own_address",
    "arp_not_answered",
    "nd_target_unknown",
    "nd_for_own_address",
    "nd_not_answered",
    "unknown_network",
    "hairpin",
    "park_overflow",
    "arp_nd_not_flooded",
    "router_not_implemented",
    "encap_failed",
    "outer_malformed",
    "outer_not_vxlan",
    "outer_not_for_us",
    "vxlan_malformed",
    "vxlan_unknown_vni",
    "vtep_not_allowed",
    "inner_malformed",
    "inner_source_invalid",
    "inner_destination_unknown",
    "resolve_failed",
    "port_write_failed",
    "tunnel_send_failed",
    "pool_exhausted",
    "flood_no_destination",
    "router_not_ip",
    "router_to_gateway",
    "route_none",
    "ttl_expired",
    "policy_denied",
    "policy_default_deny",
    "route_host_unknown",
    "routed_vtep_not_allowed",
    "routed_source_unknown",
    "dhcp_malformed",
    "dhcp_no_address",
    "dhcp_not_answered",
    "rs_not_answered",
    "ra_from_port",
    "mtu_frag_needed",
    "mtu_packet_too_big",
    "mtu_not_answered",
};

}  // namespace

std::string_view DropReasonName(DropReason reason) {
  const auto i = static_cast<size_t>(reason);
  return i < kNames.size() ? kNames[i] : "unknown";
}

}  // namespace dove::dswitch::pipeline
