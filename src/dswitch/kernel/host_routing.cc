#include "dswitch/kernel/host_routing.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "dswitch/kernel/nft_ruleset.h"
#include "net/ipv6_address.h"

namespace dove::dswitch::kernel {
namespace {

constexpr uint32_t kMainTable = 254;

bool OurTable(uint32_t table) {
  return table >= kDomainKeyBase && table <= kDomainKeyBase + 0xffffff;
}

std::string SysctlProblem(const std::string& key, const std::string& value, const char* what) {
  std::string problem = "sysctl ";
  problem += key;
  problem += "=";
  problem += value;
  problem += ": ";
  problem += what;
  return problem;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::string value;
  std::getline(in, value);
  return value;
}

bool Write(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value << "\n";
  out.flush();
  return static_cast<bool>(out);
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool SameRoute(const netlink::RouteEntry& a, const netlink::RouteEntry& b) {
  return std::tie(a.table, a.prefix, a.ifindex, a.local) ==
         std::tie(b.table, b.prefix, b.ifindex, b.local);
}

}  // namespace

HostRouting::HostRouting(netlink::Rtnl& rtnl, RouteRules& rules, NftSession& nft,
                         std::string sysctl_root)
    : rtnl_(rtnl), rules_(rules), nft_(nft), sysctl_root_(std::move(sysctl_root)) {}

void HostRouting::SaveAndSet(const std::string& key, const std::string& value,
                             std::vector<std::string>& problems) {
  const std::string path = sysctl_root_ + "/" + key;
  if (!saved_sysctls_.contains(key)) saved_sysctls_[key] = Read(path);
  if (Read(path) == value) return;
  if (!Write(path, value)) problems.push_back(SysctlProblem(key, value, "cannot write"));
}

void HostRouting::ApplyBridge(const RoutedNetwork& network, const net::MacAddress& router_mac,
                              std::vector<std::string>& problems) {
  const auto link = rtnl_.GetLink(network.bridge);
  if (!link) {
    problems.push_back("bridge " + network.bridge + " (VNI " + std::to_string(network.vni) +
                       "): " + link.error().message);
    return;
  }
  // br_netfilter for this bridge alone: on where flows routed between hosts arrive
  // (tracked_arrivals), off elsewhere, so frames only bridged skip the IP hooks. The host's
  // bridge-nf-call-iptables=1 (the default where br_netfilter is loaded) overrides it: then
  // every bridge passes the hooks, ours included.
  if (auto done = rtnl_.SetBridgeNetfilter(link->ifindex, network.tracked_arrivals); !done) {
    problems.push_back("bridge " + network.bridge + ": " + done.error().message);
  }
  // Per-bridge sysctls vanish with the bridge: no need to save them.
  const std::string& name = network.bridge;
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"net/ipv4/conf/" + name + "/arp_ignore", "1"},
      {"net/ipv4/conf/" + name + "/arp_announce", "2"},
      {"net/ipv4/conf/" + name + "/src_valid_mark", "1"},
      {"net/ipv4/neigh/" + name + "/app_solicit", "1"},
      {"net/ipv6/conf/" + name + "/accept_dad", "0"},
      {"net/ipv6/neigh/" + name + "/app_solicit", "1"},
  };
  for (const auto& [key, value] : settings) {
    const std::string path = sysctl_root_ + "/" + key;
    if (!Exists(path)) continue;  // IPv6 disabled on the bridge
    if (Read(path) != value && !Write(path, value)) {
      problems.push_back(SysctlProblem(key, value, "cannot write"));
    }
  }

  std::vector<netlink::AddressEntry> wanted;
  bool any_v6 = false;
  for (const auto& subnet : network.subnets) {
    if (!subnet.gateway) continue;
    wanted.push_back({link->ifindex, *subnet.gateway, subnet.prefix.length()});
    any_v6 = any_v6 || subnet.gateway->is_v6();
  }
  // The router's link-local address, the same on every host (from the domain's router MAC):
  // the kernel sends neighbour solicitations only from a link-local source, and a bridge made
  // where addr_gen_mode is 1 (dove-lab's hosts) has none of its own.
  const bool ipv6_on = Exists(sysctl_root_ + "/net/ipv6/conf/" + name + "/disable_ipv6") &&
                       Read(sysctl_root_ + "/net/ipv6/conf/" + name + "/disable_ipv6") == "0";
  if (any_v6 && ipv6_on) {
    wanted.push_back(
        {link->ifindex, net::IpAddress(net::Ipv6Address::LinkLocalFromMac(router_mac)), 64});
  }
  auto present = rtnl_.ListAddresses(link->ifindex);
  if (!present) {
    problems.push_back("addresses of " + name + ": " + present.error().message);
    return;
  }
  auto same = [](const netlink::AddressEntry& a, const netlink::AddressEntry& b) {
    return a.address == b.address && a.prefix_length == b.prefix_length;
  };
  for (const auto& address : *present) {
    // Link-local addresses are never removed (the kernel's own one may be there too).
    if (address.address.is_v6() && address.address.v6().IsLinkLocal()) continue;
    if (std::none_of(wanted.begin(), wanted.end(),
                     [&](const auto& w) { return same(w, address); })) {
      if (auto done = rtnl_.DeleteAddress(address); !done) {
        problems.push_back("delete " + address.address.ToString() + " from " + name + ": " +
                           done.error().message);
      }
    }
  }
  for (const auto& address : wanted) {
    const bool there = std::any_of(present->begin(), present->end(),
                                   [&](const auto& p) { return same(p, address); });
    if (!there) {
      if (auto done = rtnl_.AddAddress(address); !done && done.error().code != EEXIST) {
        problems.push_back("add " + address.address.ToString() + " to " + name + ": " +
                           done.error().message);
        continue;
      }
    }
    // The kernel routes an address's prefix in the main table: tenants' subnets belong only
    // in their domain's table (the host must not route to them, nor two domains collide).
    // fe80::/64 stays: it is every interface's.
    if (address.address.is_v6() && address.address.v6().IsLinkLocal()) continue;
    auto prefix = net::IpPrefix::Masked(address.address, address.prefix_length);
    if (prefix) {
      (void)rtnl_.DeleteRoute(
          {.table = kMainTable, .prefix = *prefix, .ifindex = link->ifindex, .local = false});
    }
  }
  gateways_[name] = wanted;
}

void HostRouting::ApplyTable(const DomainPlan& domain, std::vector<std::string>& problems) {
  std::vector<netlink::RouteEntry> wanted;
  for (const auto& network : domain.networks) {
    const auto link = rtnl_.GetLink(network.bridge);
    if (!link) continue;  // reported by ApplyBridge
    for (const auto& subnet : network.subnets) {
      wanted.push_back(
          {.table = domain.key, .prefix = subnet.prefix, .ifindex = link->ifindex, .local = false});
      if (subnet.gateway) {
        auto host = net::IpPrefix::Make(*subnet.gateway, subnet.gateway->bits());
        if (host) {
          wanted.push_back(
              {.table = domain.key, .prefix = *host, .ifindex = link->ifindex, .local = true});
        }
      }
    }
  }
  for (const bool ipv6 : {false, true}) {
    auto present = rtnl_.ListRoutes(domain.key, ipv6);
    if (!present) {
      problems.push_back("routes of table " + std::to_string(domain.key) + ": " +
                         present.error().message);
      continue;
    }
    for (const auto& route : *present) {
      const bool keep = std::any_of(wanted.begin(), wanted.end(),
                                    [&](const auto& w) { return SameRoute(w, route); });
      if (!keep) (void)rtnl_.DeleteRoute(route);
    }
  }
  for (const auto& route : wanted) {
    if (auto done = rtnl_.ReplaceRoute(route); !done) {
      problems.push_back("route " + route.prefix.ToString() + " in table " +
                         std::to_string(route.table) + ": " + done.error().message);
    }
  }
}

void HostRouting::FlushTable(uint32_t table, std::vector<std::string>& problems) {
  for (const bool ipv6 : {false, true}) {
    auto present = rtnl_.ListRoutes(table, ipv6);
    if (!present) {
      problems.push_back("routes of table " + std::to_string(table) + ": " +
                         present.error().message);
      continue;
    }
    for (const auto& route : *present) (void)rtnl_.DeleteRoute(route);
  }
}

void HostRouting::ApplyRules(const RoutePlan& plan, std::vector<std::string>& problems) {
  std::set<uint32_t> keys;
  for (const auto& domain : plan.domains) keys.insert(domain.key);
  std::set<uint32_t> stale_tables;
  for (const bool ipv6 : {false, true}) {
    // The local table after the domains' rules.
    if (!moved_local_rule_.contains(ipv6)) {
      auto listed = rules_.List(ipv6);
      if (!listed) {
        problems.push_back(listed.error());
        continue;
      }
      moved_local_rule_[ipv6] = std::any_of(listed->begin(), listed->end(), [](const auto& r) {
        return r.priority == 0 && r.table == kLocalTable && r.fwmark == 0;
      });
    }
    const RouteRule local_late{ipv6, kLocalRulePriority, kLocalTable, 0};
    if (auto done = rules_.Add(local_late); !done) {
      problems.push_back(done.error());
      continue;  // never remove the local rule without its replacement
    }
    if (auto done = rules_.Delete({ipv6, 0, kLocalTable, 0}); !done) {
      problems.push_back(done.error());
    }

    auto listed = rules_.List(ipv6);
    if (!listed) {
      problems.push_back(listed.error());
      continue;
    }
    for (const auto& rule : *listed) {
      if (rule.priority != kDomainRulePriority || !OurTable(rule.table)) continue;
      if (keys.contains(rule.table) && rule.fwmark == rule.table) continue;
      if (auto done = rules_.Delete(rule); !done) problems.push_back(done.error());
      if (!keys.contains(rule.table)) stale_tables.insert(rule.table);
    }
    for (const uint32_t key : keys) {
      if (auto done = rules_.Add({ipv6, kDomainRulePriority, key, key}); !done) {
        problems.push_back(done.error());
      }
    }
  }
  for (const uint32_t table : stale_tables) FlushTable(table, problems);
}

std::vector<std::string> HostRouting::Apply(const RoutePlan& plan) {
  // Nothing to route or guard: the host stays (or becomes again) as it was.
  if (plan.domains.empty() && plan.ports.empty() && plan.underlay.vnis.empty()) return Remove();
  std::vector<std::string> problems;
  if (auto loaded = nft_.Apply(NftRuleset(plan)); !loaded) {
    // Without the policy in force no route may open: stop here.
    problems.push_back(loaded.error());
    return problems;
  }
  SaveAndSet("net/ipv4/ip_forward", "1", problems);
  SaveAndSet("net/ipv6/conf/all/forwarding", "1", problems);
  SaveAndSet("net/ipv4/fwmark_reflect", "1", problems);
  SaveAndSet("net/ipv6/fwmark_reflect", "1", problems);

  std::set<std::string> bridges;
  for (const auto& domain : plan.domains) {
    for (const auto& network : domain.networks) {
      bridges.insert(network.bridge);
      ApplyBridge(network, domain.router_mac, problems);
    }
    ApplyTable(domain, problems);
  }
  // Bridges that left the plan but still exist lose our gateway addresses.
  for (auto it = gateways_.begin(); it != gateways_.end();) {
    if (bridges.contains(it->first)) {
      ++it;
      continue;
    }
    for (const auto& address : it->second) (void)rtnl_.DeleteAddress(address);
    it = gateways_.erase(it);
  }
  ApplyRules(plan, problems);
  return problems;
}

std::vector<std::string> HostRouting::Remove() {
  std::vector<std::string> problems;
  std::set<uint32_t> tables;
  for (const bool ipv6 : {false, true}) {
    auto listed = rules_.List(ipv6);
    if (!listed) {
      problems.push_back(listed.error());
      continue;
    }
    for (const auto& rule : *listed) {
      if (rule.priority != kDomainRulePriority || !OurTable(rule.table)) continue;
      if (auto done = rules_.Delete(rule); !done) problems.push_back(done.error());
      tables.insert(rule.table);
    }
    const auto moved = moved_local_rule_.find(ipv6);
    if (moved != moved_local_rule_.end() && moved->second) {
      if (auto done = rules_.Add({ipv6, 0, kLocalTable, 0}); !done) {
        problems.push_back(done.error());
      } else if (auto removed = rules_.Delete({ipv6, kLocalRulePriority, kLocalTable, 0});
                 !removed) {
        problems.push_back(removed.error());
      }
    }
  }
  moved_local_rule_.clear();
  for (const uint32_t table : tables) FlushTable(table, problems);
  for (const auto& [bridge, addresses] : gateways_) {
    for (const auto& address : addresses) (void)rtnl_.DeleteAddress(address);
  }
  gateways_.clear();
  if (auto removed = nft_.Remove(); !removed) problems.push_back(removed.error());
  for (const auto& [key, value] : saved_sysctls_) {
    if (!value.empty() && !Write(sysctl_root_ + "/" + key, value)) {
      problems.push_back(SysctlProblem(key, value, "cannot restore"));
    }
  }
  saved_sysctls_.clear();
  return problems;
}

}  // namespace dove::dswitch::kernel
