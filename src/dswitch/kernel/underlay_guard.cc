#include "dswitch/kernel/underlay_guard.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace dove::dswitch::kernel {
namespace {

// Bit offsets from the UDP header (nftables' `@th`): the VXLAN header follows the 8-byte UDP
// header; the inner Ethernet header follows the 8-byte VXLAN header.
constexpr int kVxlanHeader = 64;       // flags (8), reserved (24), VNI (24), reserved (8)
constexpr int kVxlanVni = 96;          // VNI (24)
constexpr int kInnerSourceMac = 176;   // 64 + 64 + the inner destination MAC (48)
constexpr int kShortestDatagram = 30;  // UDP 8 + VXLAN 8 + Ethernet 14 bytes

std::vector<net::Ipv4Address> SortedUnique(std::vector<net::Ipv4Address> ips) {
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  return ips;
}

std::string AddressSet(const std::vector<net::Ipv4Address>& ips) {
  std::string out = "{ ";
  for (size_t i = 0; i < ips.size(); ++i) {
    if (i > 0) out += ", ";
    out += ips[i].ToString();
  }
  return out + " }";
}

// The MAC as the 48-bit integer nftables compares a raw payload field with.
std::string MacNumber(const net::MacAddress& mac) {
  std::string out = "0x";
  for (const uint8_t byte : mac.bytes()) {
    std::array<char, 3> hex{};
    std::snprintf(hex.data(), hex.size(), "%02x", byte);
    out += hex.data();
  }
  return out;
}

std::string Offset(int bits, int width) {
  return "@th," + std::to_string(bits) + "," + std::to_string(width);
}

std::string Drop(const char* counter) {
  return "counter name \"" + std::string(counter) + "\" drop\n";
}

std::string VniChain(uint32_t vni) { return "vxlan_" + std::to_string(vni); }

bool HasPeers(const UnderlayPlan& plan) {
  return std::any_of(plan.vnis.begin(), plan.vnis.end(),
                     [](const UnderlayVni& vni) { return !vni.peers.empty(); });
}

// A well-formed VXLAN header of `vni` as the 64-bit number `@th,64,64` reads: the I flag, 24
// reserved bits, the VNI, 8 reserved bits.
std::string HeaderNumber(uint32_t vni) {
  std::array<char, 19> hex{};
  std::snprintf(hex.data(), hex.size(), "0x%016llx",
                (0x08ULL << 56) | (static_cast<unsigned long long>(vni & 0xffffff) << 8));
  return hex.data();
}

}  // namespace

UnderlayPlan PlanUnderlay(const std::vector<pipeline::NetworkSettings>& networks) {
  UnderlayPlan plan;
  for (const auto& network : networks) {
    plan.vnis.push_back({.vni = network.vni,
                         .peers = SortedUnique(network.flood_tunnel_ips),
                         .router_mac = network.router_mac,
                         .domain_peers = SortedUnique(network.domain_tunnel_ips)});
  }
  std::sort(plan.vnis.begin(), plan.vnis.end(),
            [](const UnderlayVni& a, const UnderlayVni& b) { return a.vni < b.vni; });
  return plan;
}

void AddPeers(UnderlayVni& vni, const std::vector<net::Ipv4Address>& tunnel_ips) {
  vni.peers.insert(vni.peers.end(), tunnel_ips.begin(), tunnel_ips.end());
  vni.peers = SortedUnique(std::move(vni.peers));
}

std::vector<std::string> UnderlayGuardRules(const UnderlayPlan& plan) {
  if (plan.vnis.empty()) return {};
  std::string tunnel;
  if (plan.tunnel_ip) tunnel += "ip daddr " + plan.tunnel_ip->ToString() + " ";
  tunnel += "udp dport " + std::to_string(plan.port) + " ";
  std::vector<std::string> rules;
  if (HasPeers(plan)) {
    // The common case at one lookup: long enough for an inner Ethernet header, and (sender,
    // the whole VXLAN header) one of the set's: the flags exactly the I flag, every reserved
    // bit zero, a carried VNI, from one of its peers.
    rules.push_back(tunnel + "udp length >= " + std::to_string(kShortestDatagram) + " ip saddr . " +
                    Offset(kVxlanHeader, 64) + " @vxlan_peers accept");
  }
  rules.push_back(tunnel + "jump vxlan_in");
  return rules;
}

void AppendUnderlayGuard(const UnderlayPlan& plan, std::string& out, bool own_hook) {
  if (plan.vnis.empty()) return;
  for (const char* counter : kUnderlayCounters)
    out += "\tcounter " + std::string(counter) + " { }\n";

  // (sender, the VXLAN header of the VNI) of every peer of every carried network: the
  // common case's lookup (UnderlayGuardRules), before the chain below.
  std::string peer_elements;
  for (const auto& vni : plan.vnis) {
    for (const auto& peer : vni.peers) {
      if (!peer_elements.empty()) peer_elements += ", ";
      peer_elements += peer.ToString() + " . " + HeaderNumber(vni.vni);
    }
  }
  if (!peer_elements.empty()) {
    out += "\tset vxlan_peers {\n\t\ttypeof ip saddr . " + Offset(kVxlanHeader, 64) +
           "\n\t\telements = { " + peer_elements + " }\n\t}\n";
  }
  if (own_hook) {
    // Before the table's other input chains (priority filter): a datagram dropped here never
    // reaches the vxlan device.
    out += "\tchain underlay {\n\t\ttype filter hook input priority filter - 10; policy accept;\n";
    for (const auto& rule : UnderlayGuardRules(plan)) out += "\t\t" + rule + "\n";
    out += "\t}\n";
  }

  // What the lookup did not take: why, counted.
  out += "\tchain vxlan_in {\n";
  out += "\t\tudp length < " + std::to_string(kShortestDatagram) + " " + Drop("vxlan_malformed");
  // The whole header but the VNI in one comparison: the flags exactly the I flag, every
  // reserved bit zero.
  out += "\t\t" + Offset(kVxlanHeader, 64) + " & 0xffffffff000000ff != 0x0800000000000000 " +
         Drop("vxlan_malformed");
  // The rest, by VNI: routed frames from the domain's VTEPs, and the counted drops.
  out += "\t\t" + Offset(kVxlanVni, 24) + " vmap { ";
  for (size_t i = 0; i < plan.vnis.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(plan.vnis[i].vni) + " : jump " + VniChain(plan.vnis[i].vni);
  }
  out += " }\n\t\t" + Drop("vxlan_unknown_vni") + "\t}\n";

  for (const auto& vni : plan.vnis) {
    out += "\tchain " + VniChain(vni.vni) + " {\n";
    if (!vni.router_mac.IsZero()) {
      const std::string routed = Offset(kInnerSourceMac, 48) + " " + MacNumber(vni.router_mac);
      if (!vni.domain_peers.empty()) {
        out += "\t\t" + routed + " ip saddr " + AddressSet(vni.domain_peers) + " accept\n";
      }
      out += "\t\t" + routed + " " + Drop("routed_vtep_not_allowed");
    }
    out += "\t\t" + Drop("vtep_not_allowed") + "\t}\n";
  }
}

}  // namespace dove::dswitch::kernel
