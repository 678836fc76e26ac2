#include "dswitch/kernel/nft_ruleset.h"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "dswitch/kernel/device_names.h"
#include "dswitch/kernel/underlay_guard.h"
#include "net/ipv6_address.h"

namespace dove::dswitch::kernel {
namespace {

std::string Identifier(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return out;
}

std::string Quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

// The first line of a netdev chain on the ingress of `device`: what the device receives (a
// port: what its VM sends; a vxlan device: what it decapsulated), before the bridge. The
// kernel keeps the chain while the device is away and hooks it when a device of that name
// appears.
std::string IngressOf(std::string_view device) {
  return "\t\ttype filter hook ingress device " + Quoted(device) +
         " priority filter; policy accept;\n";
}

// "{ a, b }" of the items; the caller never passes an empty list (nft refuses `{ }`).
std::string Set(const std::vector<std::string>& items) {
  std::string out = "{ ";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out + " }";
}

std::string PairChain(uint32_t source_vni, uint32_t destination_vni) {
  return "route_" + std::to_string(source_vni) + "_" + std::to_string(destination_vni);
}

// The match of a policy: its protocol, and its destination port range when it has one.
std::string PolicyMatch(const pipeline::PolicyRule& rule) {
  std::string match;
  if (rule.protocol != 0) match += "meta l4proto " + std::to_string(rule.protocol) + " ";
  if (rule.first_port != 0 || rule.last_port != 0) {
    match += "th dport " + std::to_string(rule.first_port);
    if (rule.last_port != rule.first_port) match += "-" + std::to_string(rule.last_port);
    match += " ";
  }
  return match;
}

std::string PolicyVerdict(uint32_t domain_key, const pipeline::PolicyRule& rule) {
  switch (rule.action) {
    case pipeline::PolicyRule::Action::kAllow:
      return "ct mark set " + std::to_string(AllowTag(domain_key, rule)) + " accept";
    case pipeline::PolicyRule::Action::kDeny:
      return "counter name " + Quoted(PolicyCounterName(rule.id)) + " drop";
    case pipeline::PolicyRule::Action::kReject:
      return "counter name " + Quoted(PolicyCounterName(rule.id)) +
             " reject with icmpx admin-prohibited";
  }
  return "drop";
}

using PairChains = std::vector<std::pair<std::string, std::vector<const pipeline::PolicyRule*>>>;

// "route_42_43" -> "arrive_42_43".
std::string ArrivalChain(const std::string& pair_chain) {
  return "arrive" + pair_chain.substr(pair_chain.find('_'));
}

// Frames another host's router sent into a local network (inner source MAC = the domain's
// router MAC; br_netfilter shows them bridged, the same bridge in and out) are checked against
// the policy again, as the userspace backend's FromTunnel does: the source address gives the
// source network, whose pair chain decides (its arrival twin); no policy for the pair is the
// default deny; a source in no subnet of the domain is dropped (routed_source_unknown).
// Neighbour discovery and link-local sources (a remote gateway's own ND) pass.
std::vector<std::string> ArrivalRules(const RoutePlan& plan, const PairChains& chains) {
  std::set<std::string> pair_chains;
  for (const auto& [chain, rules] : chains) pair_chains.insert(chain);
  std::vector<std::string> rules;
  for (const auto& domain : plan.domains) {
    for (const auto& to : domain.networks) {
      if (!to.local) continue;  // nothing is delivered into a route-only network here
      const std::string arriving = "iifname " + Quoted(to.bridge) + " oifname " +
                                   Quoted(to.bridge) + " ether saddr " +
                                   domain.router_mac.ToString();
      rules.push_back(arriving + " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept");
      rules.push_back(arriving + " ip6 saddr fe80::/10 accept");
      for (const auto& from : domain.networks) {
        const std::string chain = PairChain(from.vni, to.vni);
        const std::string verdict = from.vni == to.vni ? "jump same_network"
                                    : pair_chains.contains(chain)
                                        ? "jump " + ArrivalChain(chain)
                                        : "counter name \"policy_default_deny\" drop";
        for (const auto& subnet : from.subnets) {
          std::string rule = arriving;
          rule += subnet.prefix.address().is_v4() ? " ip saddr " : " ip6 saddr ";
          rule += subnet.prefix.ToString();
          rule += " ";
          rule += verdict;
          rules.push_back(std::move(rule));
        }
      }
      rules.push_back(arriving +
                      " meta nfproto { ipv4, ipv6 } counter name "
                      "\"routed_source_unknown\" drop");
    }
  }
  return rules;
}

// The raw prerouting chain of a host that keeps connection state: the tunnel's datagrams are
// not tracked; a frame in from a domain's bridge gets the domain's mark (its routing table),
// and its conntrack zone when it is from or to the router MAC (routed here, or routed on
// another host and arriving); frames only bridged inside a network are never routed here and
// need no connection state: conntrack skips them.
void AppendTrackedPrerouting(const RoutePlan& plan, const std::string& tunnel_ip,
                             const std::string& tunnel_port, std::string& out) {
  out += "\tchain prerouting {\n\t\ttype filter hook prerouting priority raw; policy accept;\n";
  // What comes from no bridge of ours (the tunnel's datagrams most of all) leaves at once.
  out += "\t\tiifname != @bridges " + (tunnel_ip.empty() ? "" : "ip daddr " + tunnel_ip) +
         tunnel_port + " notrack accept\n";
  out += "\t\tiifname != @bridges accept\n";
  for (const auto& domain : plan.domains) {
    std::vector<std::string> bridges;
    for (const auto& network : domain.networks) bridges.push_back(Quoted(network.bridge));
    const std::string mark = "meta mark set " + std::to_string(domain.key);
    // One MAC match per rule: nftables 1.0.6 merges `ether saddr != A ether daddr != A` into
    // one 12-byte comparison, true when EITHER address differs, which left every routed frame
    // untracked. And `notrack` only after the zone rules: a frame that `ct zone set` gave a
    // conntrack template would ignore it.
    const std::string router = domain.router_mac.ToString();
    const std::string zone = mark + " ct zone set " + std::to_string(domain.zone) + " accept\n";
    for (const char* field : {"saddr", "daddr"}) {
      out += "\t\tiifname " + Set(bridges) + " ether " + field + " " + router + " ";
      out += zone;
    }
    out += "\t\tiifname " + Set(bridges) + " " + mark + " notrack\n";
  }
  out += "\t}\n";
}

void AppendInetTable(const RoutePlan& plan, std::string& out) {
  std::vector<std::string> all_bridges;
  std::set<std::string> policy_counters;
  std::set<uint32_t> tags{kBridgedFlowTag};
  for (const auto& domain : plan.domains) {
    for (const auto& network : domain.networks) all_bridges.push_back(Quoted(network.bridge));
    for (const auto& rule : domain.policies) {
      if (rule.action != pipeline::PolicyRule::Action::kAllow) {
        policy_counters.insert(PolicyCounterName(rule.id));
      } else {
        tags.insert(AllowTag(domain.key, rule));
      }
    }
  }
  if (all_bridges.empty()) {
    // Nothing routed here: the table guards the underlay only (or is not there at all).
    if (plan.underlay.vnis.empty()) return;
    out += "table inet dove {\n";
    AppendUnderlayGuard(plan.underlay, out);
    out += "}\n";
    return;
  }

  out += "table inet dove {\n";
  // The guard's rules open the input chain below: one hook per arriving datagram.
  AppendUnderlayGuard(plan.underlay, out, /*own_hook=*/false);
  for (const char* name : {"policy_default_deny", "no_route", "to_host", "routed_source_unknown"}) {
    out += "\tcounter " + std::string(name) + " { }\n";
  }
  for (const auto& name : policy_counters) out += "\tcounter " + name + " { }\n";
  out += "\tset bridges {\n\t\ttype ifname\n\t\telements = " + Set(all_bridges) + "\n\t}\n";
  std::vector<std::string> tag_texts;
  tag_texts.reserve(tags.size());
  for (const uint32_t tag : tags) tag_texts.push_back(std::to_string(tag));
  if (plan.connection_state) {
    out += "\tset allowed_flows {\n\t\ttype mark\n\t\telements = " + Set(tag_texts) + "\n\t}\n";
  }

  // Datagrams of the tunnel, ours out and the peers' in: the guard checks them without
  // connection state, so conntrack skips them (for outer UDP it would only cost).
  const std::string tunnel_ip =
      plan.underlay.tunnel_ip ? plan.underlay.tunnel_ip->ToString() + " " : "";
  const std::string tunnel_port = "udp dport " + std::to_string(plan.underlay.port);

  // Without connection state the bridge table marks what its bridges pass up (chain
  // to_router): no inet prerouting hook at all, which every arriving datagram would pass.
  const bool tracked = plan.connection_state;
  if (tracked) AppendTrackedPrerouting(plan, tunnel_ip, tunnel_port, out);

  if (tracked) {
    out += "\tchain output {\n\t\ttype filter hook output priority raw; policy accept;\n";
    out += "\t\t" + (tunnel_ip.empty() ? "" : "ip saddr " + tunnel_ip) + tunnel_port +
           " notrack accept\n";
    for (const auto& domain : plan.domains) {
      out += "\t\tmeta mark " + std::to_string(domain.key) + " ct zone set " +
             std::to_string(domain.zone) + "\n";
    }
    out += "\t}\n";
  }

  // The (in, out) pairs: a network to itself is bridged traffic; pairs with policies jump.
  std::vector<std::string> pairs;
  PairChains chains;
  std::vector<uint32_t> keys;  // the domain key of each rule in `chains`, in their order
  for (const auto& domain : plan.domains) {
    std::map<uint32_t, const RoutedNetwork*> by_vni;
    for (const auto& network : domain.networks) {
      by_vni[network.vni] = &network;
      pairs.push_back(Quoted(network.bridge) + " . " + Quoted(network.bridge) +
                      " : jump same_network");
    }
    for (const auto& rule : domain.policies) {
      const auto source = by_vni.find(rule.source_vni);
      const auto destination = by_vni.find(rule.destination_vni);
      if (source == by_vni.end() || destination == by_vni.end()) continue;  // not routed here
      const std::string chain = PairChain(rule.source_vni, rule.destination_vni);
      if (chains.empty() || chains.back().first != chain) {
        chains.push_back({chain, {}});
        pairs.push_back(Quoted(source->second->bridge) + " . " +
                        Quoted(destination->second->bridge) + " : jump " + chain);
      }
      chains.back().second.push_back(&rule);
      keys.push_back(domain.key);
    }
  }

  const std::vector<std::string> arrivals = ArrivalRules(plan, chains);
  out += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n";
  out += "\t\tiifname != @bridges oifname != @bridges accept\n";
  if (tracked) {
    out += "\t\tct state established ct direction reply ct mark @allowed_flows accept\n";
    out += "\t\tct state related accept\n";
  }
  for (const auto& rule : arrivals) out += "\t\t" + rule + "\n";
  out += "\t\tiifname . oifname vmap " + Set(pairs) + "\n";
  out +=
      "\t\tiifname @bridges oifname != @bridges counter name \"no_route\" "
      "reject with icmpx no-route\n";
  out += "\t\tcounter name \"policy_default_deny\" drop\n";
  out += "\t}\n";

  if (!tracked) {
    // After forward decided (a dropped or rejected packet never gets here: a reject's ICMP
    // needs the mark to be routed back in the tenant's table): the routing is done, and a
    // packet leaving through a vxlan device must have its tunnel routed in the host's tables.
    out +=
        "\tchain forward_done {\n\t\ttype filter hook forward priority filter + 10; policy "
        "accept;\n\t\tiifname @bridges meta mark set 0\n\t}\n";
  }
  out += "\tchain same_network {\n";
  if (tracked) out += "\t\tct mark 0 ct mark set " + std::to_string(kBridgedFlowTag) + "\n";
  out += "\t\taccept\n\t}\n";
  size_t rule_index = 0;
  for (const auto& [chain, rules] : chains) {
    const size_t first_rule = rule_index;
    out += "\tchain " + chain + " {\n";
    for (const auto* rule : rules) {
      out += "\t\t" + PolicyMatch(*rule) + PolicyVerdict(keys[rule_index++], *rule) + "\n";
    }
    out += "\t\tcounter name \"policy_default_deny\" drop\n\t}\n";
    // The same policies for what another host routed here (see ArrivalRules): an allow tags
    // the flow as the sending host's did (its replies, routed here, pass while the allow
    // exists); a reject only drops on arrival, the sending host answered for it.
    out += "\tchain " + ArrivalChain(chain) + " {\n";
    rule_index = first_rule;
    for (const auto* rule : rules) {
      const uint32_t key = keys[rule_index++];
      const std::string verdict =
          rule->action == pipeline::PolicyRule::Action::kReject
              ? "counter name " + Quoted(PolicyCounterName(rule->id)) + " drop"
              : PolicyVerdict(key, *rule);
      out += "\t\t" + PolicyMatch(*rule) + verdict + "\n";
    }
    out += "\t\tcounter name \"policy_default_deny\" drop\n\t}\n";
  }

  out += "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n";
  for (const auto& rule : UnderlayGuardRules(plan.underlay)) out += "\t\t" + rule + "\n";
  out += "\t\tiifname != @bridges accept\n";
  if (tracked) {
    out += "\t\tct state established,related accept\n";
  } else {
    // From a port the plan does not know (the bridge table gave it no domain mark): the host's
    // answer would be routed in the host's own tables.
    out += "\t\tmeta mark 0 counter name \"to_host\" drop\n";
  }
  out += "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  for (const auto& domain : plan.domains) {
    std::vector<std::string> bridges;
    std::vector<std::string> gateways_v4;
    std::vector<std::string> gateways_v6;
    for (const auto& network : domain.networks) {
      bridges.push_back(Quoted(network.bridge));
      for (const auto& subnet : network.subnets) {
        if (!subnet.gateway) continue;
        (subnet.gateway->is_v4() ? gateways_v4 : gateways_v6).push_back(subnet.gateway->ToString());
      }
    }
    if (!gateways_v4.empty()) {
      out += "\t\tiifname " + Set(bridges) + " ip daddr " + Set(gateways_v4) +
             " icmp type echo-request accept\n";
    }
    if (!gateways_v6.empty()) {
      out += "\t\tiifname " + Set(bridges) + " ip6 daddr " + Set(gateways_v6) +
             " icmpv6 type echo-request accept\n";
    }
  }
  out += "\t\tcounter name \"to_host\" drop\n\t}\n";
  out += "}\n";
}

void AppendPortChain(const PortPlan& port, std::string& out) {
  const std::string mac = port.mac.ToString();
  std::vector<std::string> v4;
  std::vector<std::string> v6{net::Ipv6Address::LinkLocalFromMac(port.mac).ToString()};
  for (const auto& ip : port.ips) (ip.is_v4() ? v4 : v6).push_back(ip.ToString());
  auto counter = [&](std::string_view reason) {
    return "counter name " + Quoted(PortCounterName(port.interface, reason));
  };
  std::vector<std::string> arp_sources{"0.0.0.0"};
  arp_sources.insert(arp_sources.end(), v4.begin(), v4.end());

  out += "\tchain port_" + Identifier(port.interface) + " {\n" + IngressOf(port.interface);
  // The bulk of a port's frames first, one rule each: TCP from its MAC and addresses (no rule
  // below drops TCP that these pass).
  if (!v4.empty()) {
    out += "\t\tether saddr " + mac + " ip saddr " + Set(v4) + " meta l4proto tcp accept\n";
  }
  out += "\t\tether saddr " + mac + " ip6 saddr " + Set(v6) + " meta l4proto tcp accept\n";
  out += "\t\tether saddr != " + mac + " " + counter("bad_mac") + " drop\n";
  out += "\t\tether type arp arp saddr ether != " + mac + " " + counter("bad_mac") + " drop\n";
  // Taken by PortServices' socket on the port before the bridge: answered there, not flooded.
  out += "\t\tether type ip udp dport 67 " + counter("dhcp_taken") + " drop\n";
  // The common case (IPv4 from the port's address) next, so it costs three rules.
  if (!v4.empty()) out += "\t\tether type ip ip saddr " + Set(v4) + " accept\n";
  out += "\t\tether type ip6 icmpv6 type nd-router-solicit " + counter("rs_taken") + " drop\n";
  out += "\t\tether type arp arp saddr ip " + Set(arp_sources) + " accept\n";
  out += "\t\tether type arp " + counter("bad_ip") + " drop\n";
  out += "\t\tether type ip6 icmpv6 type nd-router-advert " + counter("router_advert") + " drop\n";
  out += "\t\tether type ip6 ip6 saddr " + Set(v6) + " accept\n";
  out += "\t\tether type ip6 ip6 saddr :: meta l4proto ipv6-icmp accept\n";
  out += "\t\tether type { ip, ip6 } " + counter("bad_ip") + " drop\n";
  out += "\t\t" + counter("not_ip") + " drop\n";
  out += "\t}\n";
}

// Routed arrivals into a local network that no ALLOW policy starts or ends in (its bridge
// does without br_netfilter, see nft_ruleset.h): a frame from the domain's router MAC comes
// from another host's router and can only be neighbour discovery, link-local, or from the
// network's own subnets (a remote gateway's own answers); from another network of the domain
// it is the default deny, from anywhere else routed_source_unknown, as the inet table's
// arrival rules decide for a tracked network. Appends the counters and one chain per network
// (arrive_<VNI>, on the ingress of its vxlan device) to `out`.
void AppendStatelessArrivals(const RoutePlan& plan, std::string& out) {
  bool counters = false;
  for (const auto& domain : plan.domains) {
    for (const auto& network : domain.networks) {
      if (!network.local || network.tracked_arrivals) continue;
      if (!counters) {
        out += "\tcounter policy_default_deny { }\n\tcounter routed_source_unknown { }\n";
        counters = true;
      }
      const std::string chain = "arrive_" + std::to_string(network.vni);
      std::vector<std::string> own[2];
      std::vector<std::string> others[2];
      for (const auto& other : domain.networks) {
        for (const auto& subnet : other.subnets) {
          const int family = subnet.prefix.address().is_v4() ? 0 : 1;
          (other.vni == network.vni ? own : others)[family].push_back(subnet.prefix.ToString());
        }
      }
      out += "\tchain " + chain + " {\n" + IngressOf(VxlanName(network.vni));
      out += "\t\tether saddr != " + domain.router_mac.ToString() + " accept\n";
      out += "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";
      out += "\t\tip6 saddr fe80::/10 accept\n";
      for (const int family : {0, 1}) {
        const std::string saddr = family == 0 ? "ip saddr " : "ip6 saddr ";
        if (!own[family].empty()) out += "\t\t" + saddr + Set(own[family]) + " accept\n";
        if (!others[family].empty()) {
          out +=
              "\t\t" + saddr + Set(others[family]) + " counter name \"policy_default_deny\" drop\n";
        }
      }
      out += "\t\tether type { ip, ip6 } counter name \"routed_source_unknown\" drop\n\t}\n";
    }
  }
}

// Whether the plan has a network whose arrivals are decided statelessly (see above).
bool HasStatelessArrivals(const RoutePlan& plan) {
  for (const auto& domain : plan.domains) {
    for (const auto& network : domain.networks) {
      if (network.local && !network.tracked_arrivals) return true;
    }
  }
  return false;
}

// Port security and stateless arrivals: a chain on the ingress hook of each port and of each
// such vxlan device, so a frame passes the rules of the interface it came in on and nothing
// else (a vxlan device without arrival rules, and a bridge's other ports, have no hook).
void AppendNetdevTable(const RoutePlan& plan, std::string& out) {
  if (plan.ports.empty() && !HasStatelessArrivals(plan)) return;
  out += "table netdev dove {\n";
  for (const auto& port : plan.ports) {
    for (const char* reason :
         {"bad_mac", "dhcp_taken", "rs_taken", "bad_ip", "router_advert", "not_ip"}) {
      out += "\tcounter " + PortCounterName(port.interface, reason) + " { }\n";
    }
  }
  for (const auto& port : plan.ports) AppendPortChain(port, out);
  AppendStatelessArrivals(plan, out);
  out += "}\n";
}

void AppendBridgeTable(const RoutePlan& plan, std::string& out) {
  if (plan.domains.empty()) return;
  out += "table bridge dove {\n";
  if (!plan.connection_state) {
    // What a domain's bridge passes up to the host (routed, or for the host itself) gets the
    // domain's mark, which picks its routing table (the inet table's prerouting does this
    // when the host keeps connection state). Frames only bridged never pass this hook. Keyed
    // by the port the frame came in on (the bridge's name, `meta ibrname`, needs
    // CONFIG_NFT_BRIDGE_META, which kernels go without): the vxlan device of each network and
    // each port of the plan. A port the plan does not know gets no mark: the inet table's
    // input drops what it sends the host, and its forward what it sends elsewhere.
    std::map<uint32_t, uint32_t> key_of_vni;
    std::vector<std::string> marks;
    for (const auto& domain : plan.domains) {
      for (const auto& network : domain.networks) {
        key_of_vni[network.vni] = domain.key;
        marks.push_back(Quoted(VxlanName(network.vni)) + " : " + std::to_string(domain.key));
      }
    }
    for (const auto& port : plan.ports) {
      const auto key = key_of_vni.find(port.vni);
      if (key == key_of_vni.end()) continue;
      marks.push_back(Quoted(port.interface) + " : " + std::to_string(key->second));
    }
    out += "\tchain to_router {\n\t\ttype filter hook input priority 0; policy accept;\n";
    out += "\t\tmeta mark set iifname map " + Set(marks) + "\n\t}\n";
  }
  if (plan.connection_state) {
    // The inet prerouting marks every frame of a domain's bridges, bridged ones too (where
    // br_netfilter shows them): frames leaving through a vxlan device (`dvx*`) lose the mark,
    // so the tunnel's route is looked up in the host's tables, never a tenant's. (Without
    // connection state only routed packets carry a mark, and the inet table's forward_done
    // clears it: no hook on every frame the bridges send.)
    out += "\tchain to_tunnels {\n\t\ttype filter hook postrouting priority 0; policy accept;\n";
    // The mark first: a frame only bridged has none, and stops at one comparison.
    out += "\t\tmeta mark != 0 oifname \"dvx*\" meta mark set 0\n\t}\n";
  }
  out += "}\n";
}

}  // namespace

uint32_t AllowTag(uint32_t domain_key, const pipeline::PolicyRule& rule) {
  // FNV-1a over what makes the rule: a changed rule is a new tag.
  uint32_t hash = 2166136261u;
  const auto mix = [&hash](std::string_view bytes) {
    for (const char c : bytes) {
      hash ^= static_cast<uint8_t>(c);
      hash *= 16777619u;
    }
  };
  for (const uint32_t field :
       {domain_key, rule.source_vni, rule.destination_vni, uint32_t{rule.protocol},
        uint32_t{rule.first_port}, uint32_t{rule.last_port}}) {
    mix(std::to_string(field));
    mix("/");
  }
  mix(rule.id);
  // 0 (no tag) and kBridgedFlowTag are not policies' tags.
  return hash <= kBridgedFlowTag ? hash + kBridgedFlowTag + 1 : hash;
}

std::string PolicyCounterName(std::string_view policy_id) {
  return "policy_" + Identifier(policy_id) + "_denied";
}

std::string PortCounterName(std::string_view interface, std::string_view reason) {
  return "port_" + Identifier(interface) + "_" + std::string(reason);
}

std::string NftRuleset(const RoutePlan& plan) {
  std::string out;
  AppendInetTable(plan, out);
  AppendNetdevTable(plan, out);
  AppendBridgeTable(plan, out);
  return out;
}

}  // namespace dove::dswitch::kernel
