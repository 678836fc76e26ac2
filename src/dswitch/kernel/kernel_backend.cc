#include "dswitch/kernel/kernel_backend.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "base/log.h"
#include "dswitch/kernel/device_names.h"
#include "dswitch/kernel/nft_status.h"

namespace dove::dswitch::kernel {
namespace {

std::string RemoteKey(const userspace::DesiredRemote& remote) {
  return remote.key.empty() ? std::to_string(remote.vni) + "/" + remote.mac.ToString() : remote.key;
}

std::string PortKey(const userspace::DesiredPort& port) {
  return port.key.empty() ? port.port_name : port.key;
}

void Wake(int event_fd) {
  const uint64_t one = 1;
  if (::write(event_fd, &one, sizeof(one)) < 0) {
    // Already signalled (the counter cannot overflow at one per change): nothing lost.
  }
}

// Whether a leftover vxlan device is the one this run would create for its VNI: the options
// that cannot change on a live device (the MTU can: it is set when the device is adopted).
constexpr uint16_t kNudReachable = 0x02;
constexpr uint16_t kNudPermanent = 0x80;

bool SameVxlan(const netlink::VxlanSpec& have, const netlink::VxlanSpec& want) {
  return have.vni == want.vni && have.local == want.local && have.port == want.port &&
         have.learning == want.learning && have.proxy == want.proxy && have.l2miss == want.l2miss &&
         have.l3miss == want.l3miss && have.rsc == want.rsc &&
         have.udp_checksum == want.udp_checksum;
}

}  // namespace

void KernelBackend::Inbox::Post(std::function<void(KernelBackend&)> command) {
  {
    std::lock_guard lock(mu);
    commands.push_back(std::move(command));
  }
  Wake(event_fd.get());
}

KernelBackend::KernelBackend(KernelOptions options, LinkOps& links, MissSource& misses,
                             userspace::Resolver& resolver)
    : options_(std::move(options)),
      links_(links),
      misses_(misses),
      resolver_(resolver),
      inbox_(std::make_shared<Inbox>()),
      gate_(options_.misses, options_.now()),
      next_tick_(options_.now() + options_.retry_ports_every),
      services_(options_.overlay_mtu) {
  for (const char* counter : {"kernel_misses_l2",
                              "kernel_misses_l3",
                              "kernel_misses_asked",
                              "kernel_misses_known",
                              "kernel_misses_deduplicated",
                              "kernel_misses_rate_limited",
                              "kernel_misses_foreign",
                              "kernel_resyncs",
                              "kernel_fdb_installed",
                              "kernel_fdb_deleted",
                              "kernel_neigh_installed",
                              "kernel_neigh_deleted",
                              "kernel_devices_created",
                              "kernel_devices_adopted",
                              "kernel_devices_deleted",
                              "kernel_errors",
                              "kernel_services_errors",
                              "kernel_misses_unserved",
                              "kernel_app_solicits",
                              "kernel_app_solicits_answered",
                              "kernel_app_solicits_unknown",
                              "kernel_app_solicits_deduplicated",
                              "kernel_app_solicits_rate_limited",
                              "kernel_bridge_neigh_installed",
                              "kernel_bridge_neigh_deleted",
                              "kernel_announcements_sent"}) {
    counters_[counter] = 0;
  }
}

KernelBackend::~KernelBackend() = default;

Expected<std::unique_ptr<KernelBackend>, std::string> KernelBackend::Create(
    KernelOptions options, LinkOps& links, MissSource& misses, userspace::Resolver& resolver) {
  std::unique_ptr<KernelBackend> backend(
      new KernelBackend(std::move(options), links, misses, resolver));
  backend->inbox_->event_fd = io::FileDescriptor(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  backend->epoll_fd_ = io::FileDescriptor(::epoll_create1(EPOLL_CLOEXEC));
  if (!backend->inbox_->event_fd.valid() || !backend->epoll_fd_.valid()) {
    return Unexpected(std::string("kernel backend: eventfd/epoll: ") + std::strerror(errno));
  }
  for (const int fd : {backend->inbox_->event_fd.get(), misses.fd()}) {
    epoll_event event{.events = EPOLLIN, .data = {.fd = fd}};
    if (::epoll_ctl(backend->epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return Unexpected(std::string("kernel backend: epoll_ctl: ") + std::strerror(errno));
    }
  }
  if (auto adopted = backend->Adopt(); !adopted) return Unexpected(adopted.error());
  return backend;
}

Expected<void, std::string> KernelBackend::Adopt() {
  auto links = links_.ListLinks();
  if (!links) return Unexpected("kernel backend: list links: " + links.error().message);
  std::lock_guard lock(mu_);
  for (const auto& link : *links) {
    auto owned = ParseOwnedName(link.name);
    if (!owned) continue;
    if (link.kind != "bridge" && link.kind != "vxlan") {
      DOVE_LOG(kWarning).With("DEVICE", link.name)
          << "kernel: " << link.name << " is a " << link.kind
          << " interface, not one of ours: left alone";
      continue;
    }
    bool keep = false;
    if (owned->vxlan && link.kind == "vxlan") {
      auto spec = links_.GetVxlan(link.ifindex);
      keep = spec && SameVxlan(*spec, {.name = link.name,
                                       .vni = owned->vni,
                                       .local = options_.tunnel_ip,
                                       .port = options_.vxlan_port,
                                       .mtu = options_.overlay_mtu});
    } else if (!owned->vxlan && link.kind == "bridge") {
      keep = true;
    }
    if (keep) {
      adopted_[link.name] = link;
      Count("kernel_devices_adopted");
      DOVE_LOG(kInfo).With("DEVICE", link.name)
          << "kernel: adopting " << link.name << " (left by an earlier run)";
      continue;
    }
    DOVE_LOG(kInfo).With("DEVICE", link.name)
        << "kernel: deleting " << link.name
        << " (left by an earlier run, not what this run would create)";
    if (auto deleted = links_.DeleteLink(link.ifindex); deleted) {
      Count("kernel_devices_deleted");
    } else {
      Failed("delete " + link.name, deleted.error());
    }
  }
  return {};
}

bool KernelBackend::Failed(const std::string& what, const netlink::Error& error) {
  Count("kernel_errors");
  // Also reached per miss and per neighbour event on the packet thread: limited (every failure
  // is counted in kernel_errors all the same).
  DOVE_LOG_LIMITED(kWarning, 10, std::chrono::seconds(10)).With("REASON", error.message)
      << "kernel: " << what << ": " << error.message;
  return false;
}

void KernelBackend::Run() {
  while (!stopping_.load()) {
    const auto until_tick =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_tick_ - options_.now());
    Poll(std::clamp(until_tick, std::chrono::milliseconds(1), options_.retry_ports_every));
  }
}

void KernelBackend::Stop() {
  stopping_ = true;
  Wake(inbox_->event_fd.get());
}

bool KernelBackend::Poll(std::chrono::milliseconds timeout) {
  std::array<epoll_event, 4> events{};
  const int ready = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                                 static_cast<int>(timeout.count()));
  bool handled = false;
  for (int i = 0; i < ready; ++i) {
    if (events[i].data.fd == misses_.fd()) {
      ReadMisses();
    } else if (events[i].data.fd != inbox_->event_fd.get()) {
      std::lock_guard lock(mu_);
      services_.Read(events[i].data.fd);
    } else {
      uint64_t count = 0;
      if (::read(inbox_->event_fd.get(), &count, sizeof(count)) < 0) {
        // Spurious wakeup: the queue below says what there is.
      }
    }
    handled = true;
  }
  RunCommands();
  if (const auto now = options_.now(); now >= next_tick_) {
    next_tick_ = now + options_.retry_ports_every;
    std::lock_guard lock(mu_);
    gate_.Expire(now);
    CheckPorts();
  }
  return handled;
}

void KernelBackend::RunCommands() {
  std::deque<std::function<void(KernelBackend&)>> commands;
  {
    std::lock_guard lock(inbox_->mu);
    commands.swap(inbox_->commands);
  }
  for (auto& command : commands) command(*this);
}

void KernelBackend::Apply(userspace::DesiredState desired) {
  userspace::DesiredDelta delta;
  delta.reset = true;
  delta.upserted_ports = std::move(desired.ports);
  delta.upserted_networks = std::move(desired.networks);
  delta.upserted_remotes = std::move(desired.remotes);
  ApplyDelta(std::move(delta));
}

void KernelBackend::ApplyDelta(userspace::DesiredDelta delta) {
  inbox_->Post([delta = std::move(delta)](KernelBackend& backend) mutable {
    std::lock_guard lock(backend.mu_);
    backend.ApplyNow(delta);
  });
}

void KernelBackend::ApplyNow(userspace::DesiredDelta& delta) {
  if (delta.reset) {
    std::set<std::string> ports;
    std::set<std::string> remotes;
    std::set<uint32_t> networks;
    for (const auto& port : delta.upserted_ports) ports.insert(PortKey(port));
    for (const auto& remote : delta.upserted_remotes) remotes.insert(RemoteKey(remote));
    for (const auto& network : delta.upserted_networks) networks.insert(network.vni);
    for (const auto& [key, port] : ports_) {
      if (!ports.contains(key)) delta.removed_ports.push_back(key);
    }
    for (const auto& [key, remote] : remotes_) {
      if (!remotes.contains(key)) delta.removed_remotes.push_back(key);
    }
    for (const auto& [vni, network] : networks_) {
      if (!networks.contains(vni) && !network.route_only) delta.removed_networks.push_back(vni);
    }
  }
  std::set<uint32_t> touched;
  for (const auto& network : delta.upserted_networks) {
    UpsertNetwork(network);
    touched.insert(network.vni);
  }
  for (const auto& key : delta.removed_remotes) RemoveRemote(key, touched);
  for (auto& remote : delta.upserted_remotes) UpsertRemote(std::move(remote), touched);
  for (const auto& key : delta.removed_ports) RemovePort(key);
  for (auto& port : delta.upserted_ports) UpsertPort(std::move(port));
  for (const uint32_t vni : delta.removed_networks) {
    RemoveNetwork(vni);
    touched.erase(vni);
  }
  for (const uint32_t vni : touched) {
    if (auto found = networks_.find(vni); found != networks_.end()) SyncEntries(found->second);
  }
  ApplyRouting(delta.reset);
}

void KernelBackend::ApplyRouting(bool reset) {
  std::vector<pipeline::NetworkSettings> networks;
  networks.reserve(networks_.size());
  for (const auto& [vni, network] : networks_) {
    if (!network.route_only) networks.push_back(network.desired.Settings());
  }
  std::vector<PortPlan> ports;
  ports.reserve(ports_.size());
  for (const auto& [key, port] : ports_) {
    ports.push_back({port.desired.port_name, port.vni, port.desired.mac, port.desired.ips});
  }
  RoutePlan plan = PlanRoutes(networks, ports);
  plan.underlay.tunnel_ip = options_.tunnel_ip;
  plan.underlay.port = options_.vxlan_port;
  for (auto& guarded : plan.underlay.vnis) {
    const auto network = networks_.find(guarded.vni);
    if (network == networks_.end()) continue;
    std::vector<net::Ipv4Address> holders;
    for (const auto& key : network->second.remotes) holders.push_back(remotes_.at(key).tunnel_ip);
    AddPeers(guarded, holders);
  }
  // Which networks are routed (have a subnet in the plan): their bridges get the remotes'
  // neighbour entries.
  std::set<uint32_t> routed;
  for (const auto& domain : plan.domains) {
    for (const auto& network : domain.networks) {
      if (!network.subnets.empty()) routed.insert(network.vni);
    }
  }
  std::vector<uint32_t> changed;
  std::set_symmetric_difference(routed.begin(), routed.end(), routed_vnis_.begin(),
                                routed_vnis_.end(), std::back_inserter(changed));
  routed_vnis_ = std::move(routed);
  // The bridges of the plan before HostRouting::Apply, and leftovers adopted for them claimed
  // before the unclaimed ones go.
  SyncRouteOnly(plan);
  for (const uint32_t vni : changed) {
    if (auto found = networks_.find(vni); found != networks_.end()) SyncEntries(found->second);
  }
  if (reset) DeleteUnclaimed();
  if (options_.routing == nullptr) return;
  if (routed_ == plan) return;  // a change of remote endpoints only: nothing to route anew
  const auto problems = options_.routing->Apply(plan);
  routed_.reset();
  if (problems.empty()) routed_ = std::move(plan);
  if (!problems.empty()) {
    Count("kernel_routing_problems", problems.size());
    DOVE_LOG(kWarning) << "kernel: routing: " << problems.front()
                       << (problems.size() > 1 ? " (and more)" : "");
  }
}

void KernelBackend::SyncRouteOnly(const RoutePlan& plan) {
  std::map<uint32_t, net::MacAddress> wanted;  // VNI -> the domain's router MAC
  for (const auto& domain : plan.domains) {
    for (const auto& routed : domain.networks) {
      if (std::binary_search(plan.extra_vnis.begin(), plan.extra_vnis.end(), routed.vni)) {
        wanted[routed.vni] = domain.router_mac;
      }
    }
  }
  for (auto it = networks_.begin(); it != networks_.end();) {
    if (!it->second.route_only || wanted.contains(it->first)) {
      ++it;
      continue;
    }
    DOVE_LOG(kInfo).With("VNI", it->first)
        << "kernel: network " << it->first << " is no longer routed into: deleting its devices";
    DeleteDevices(it->second);
    it = networks_.erase(it);
  }
  for (const auto& [vni, router_mac] : wanted) {
    auto [it, created] = networks_.try_emplace(vni);
    Network& network = it->second;
    if (created) {
      network.route_only = true;
      network.desired.vni = vni;
      network.desired.router_mac = router_mac;
      for (const auto& [key, remote] : remotes_) {
        if (remote.vni == vni) network.remotes.insert(key);
      }
    } else if (!network.route_only) {
      continue;  // served here after all: its own configuration rules
    } else if (network.desired.router_mac != router_mac) {
      network.desired.router_mac = router_mac;
      if (network.bridge != 0) {
        if (auto set = links_.SetMac(network.bridge, router_mac); !set) {
          Failed("set the router MAC of " + BridgeName(vni), set.error());
        }
      }
    }
    if (network.bridge == 0 && EnsureDevices(network)) SyncEntries(network);
  }
}

uint32_t KernelBackend::AskVni(uint32_t vni) const {
  auto found = networks_.find(vni);
  if (found == networks_.end()) return 0;
  if (!found->second.route_only) return vni;
  for (const auto& [other, network] : networks_) {
    if (!network.route_only && !network.desired.router_mac.IsZero() &&
        network.desired.router_mac == found->second.desired.router_mac) {
      return other;
    }
  }
  return 0;
}

void KernelBackend::UpsertNetwork(const userspace::DesiredNetwork& desired) {
  auto [it, created] = networks_.try_emplace(desired.vni);
  Network& network = it->second;
  if (network.route_only) {
    // Routed into so far, now served: same devices, now with the network's configuration.
    network.route_only = false;
  }
  const bool new_mac = !created && network.desired.router_mac != desired.router_mac;
  network.desired = desired;
  services_.UpsertNetwork(desired.Settings());
  if (created) {
    for (const auto& [key, remote] : remotes_) {
      if (remote.vni == desired.vni) network.remotes.insert(key);
    }
  }
  if (network.bridge == 0) {
    if (EnsureDevices(network)) {
      for (auto& [key, port] : ports_) {
        if (port.vni == desired.vni && port.ifindex == 0) AttachPort(port);
      }
    }
  } else if (new_mac) {
    if (auto set = links_.SetMac(network.bridge, desired.router_mac); !set) {
      Failed("set the router MAC of " + BridgeName(desired.vni), set.error());
    }
  }
}

bool KernelBackend::EnsureDevices(Network& network) {
  const uint32_t vni = network.desired.vni;
  const std::string bridge_name = BridgeName(vni);
  const std::string vxlan_name = VxlanName(vni);
  const auto fail = [&](const std::string& what, const netlink::Error& error) {
    network.error = what + ": " + error.message;
    return Failed(what, error);
  };
  // The bridge: adopted, or made.
  if (auto adopted = adopted_.find(bridge_name); adopted != adopted_.end()) {
    network.bridge = adopted->second.ifindex;
    adopted_.erase(adopted);
    if (auto set = links_.SetMac(network.bridge, network.desired.router_mac); !set) {
      return fail("set the MAC of " + bridge_name, set.error());
    }
  } else {
    auto made = links_.CreateBridge(
        {.name = bridge_name, .mtu = options_.overlay_mtu, .mac = network.desired.router_mac});
    if (!made && made.error().code == EEXIST) {
      // Made after our start (by another run with our prefix): it is ours to replace.
      if (auto other = links_.GetLink(bridge_name); other) (void)links_.DeleteLink(other->ifindex);
      made = links_.CreateBridge(
          {.name = bridge_name, .mtu = options_.overlay_mtu, .mac = network.desired.router_mac});
    }
    if (!made) return fail("create " + bridge_name, made.error());
    network.bridge = *made;
    Count("kernel_devices_created");
  }
  // The overlay MTU, set as a change (to another value and back): only then does the kernel
  // keep it; an MTU given at creation, or set to the value it has, follows the smallest port's,
  // and ports are bigger (kUncheckedMtu).
  for (const uint32_t mtu : {PortMtu() + 1, options_.overlay_mtu}) {
    if (auto set = links_.SetMtu(network.bridge, mtu); !set) {
      return fail("set the MTU of " + bridge_name, set.error());
    }
  }
  // The vxlan device: adopted (its entries read back, to be reconciled), or made.
  const netlink::VxlanSpec spec{.name = vxlan_name,
                                .vni = vni,
                                .local = options_.tunnel_ip,
                                .port = options_.vxlan_port,
                                .mtu = VxlanMtu(),
                                .underlay_ifindex = options_.underlay_ifindex,
                                .udp_checksum = options_.udp_checksum};
  network.fdb.clear();
  network.neigh.clear();
  network.bridge_neigh.clear();
  if (auto neigh = links_.ListNeigh(network.bridge); neigh) {
    // Ours on an adopted bridge are the PERMANENT ones (the kernel's own are not).
    for (const auto& entry : *neigh) {
      if (entry.state == kNudPermanent) network.bridge_neigh[entry.ip] = entry.mac;
    }
  }
  if (auto adopted = adopted_.find(vxlan_name); adopted != adopted_.end()) {
    network.vxlan = adopted->second.ifindex;
    adopted_.erase(adopted);
    if (auto set = links_.SetMtu(network.vxlan, VxlanMtu()); !set) {
      return fail("set the MTU of " + vxlan_name, set.error());
    }
    if (auto fdb = links_.ListFdb(network.vxlan); fdb) {
      for (const auto& entry : *fdb) network.fdb.insert({entry.mac, entry.remote});
    }
    if (auto neigh = links_.ListNeigh(network.vxlan); neigh) {
      for (const auto& entry : *neigh) network.neigh[entry.ip] = entry.mac;
    }
  } else {
    auto made = links_.CreateVxlan(spec);
    if (!made && made.error().code == EEXIST) {
      if (auto other = links_.GetLink(vxlan_name); other) (void)links_.DeleteLink(other->ifindex);
      made = links_.CreateVxlan(spec);
    }
    if (!made) return fail("create " + vxlan_name, made.error());
    network.vxlan = *made;
    Count("kernel_devices_created");
  }
  vni_of_vxlan_[network.vxlan] = vni;
  vni_of_bridge_[network.bridge] = vni;
  for (const auto& [what, done] :
       {std::pair{"enslave " + vxlan_name, links_.SetMaster(network.vxlan, network.bridge)},
        std::pair{"set up " + vxlan_name, links_.SetUp(network.vxlan, true)},
        std::pair{"set up " + bridge_name, links_.SetUp(network.bridge, true)}}) {
    if (!done) return fail(what, done.error());
  }
  network.error.clear();
  DOVE_LOG(kInfo).With("VNI", vni)
      << "kernel: network " << vni << ": " << bridge_name << " and " << vxlan_name << " up";
  return true;
}

void KernelBackend::DeleteDevices(Network& network) {
  for (int* ifindex : {&network.vxlan, &network.bridge}) {
    if (*ifindex == 0) continue;
    if (auto deleted = links_.DeleteLink(*ifindex); deleted || deleted.error().code == ENODEV) {
      Count("kernel_devices_deleted");
    } else {
      Failed("delete a device of network " + std::to_string(network.desired.vni), deleted.error());
    }
    *ifindex = 0;
  }
  std::erase_if(vni_of_vxlan_,
                [&](const auto& entry) { return entry.second == network.desired.vni; });
  std::erase_if(vni_of_bridge_,
                [&](const auto& entry) { return entry.second == network.desired.vni; });
  network.fdb.clear();
  network.neigh.clear();
  network.bridge_neigh.clear();
}

void KernelBackend::RemoveNetwork(uint32_t vni) {
  auto found = networks_.find(vni);
  if (found == networks_.end()) return;
  for (auto& [key, port] : ports_) {
    if (port.vni == vni) {
      ReleasePort(port);
      port.error = "waiting: network " + std::to_string(vni) + " has no configuration";
    }
  }
  DeleteDevices(found->second);
  services_.RemoveNetwork(vni);
  networks_.erase(found);
}

void KernelBackend::UpsertRemote(userspace::DesiredRemote remote, std::set<uint32_t>& touched) {
  const std::string key = RemoteKey(remote);
  if (auto old = remotes_.find(key); old != remotes_.end() && old->second.vni != remote.vni) {
    RemoveRemote(key, touched);
  }
  touched.insert(remote.vni);
  if (auto network = networks_.find(remote.vni); network != networks_.end()) {
    network->second.remotes.insert(key);
  }
  remotes_[key] = std::move(remote);
}

void KernelBackend::RemoveRemote(const std::string& key, std::set<uint32_t>& touched) {
  auto found = remotes_.find(key);
  if (found == remotes_.end()) return;
  touched.insert(found->second.vni);
  if (auto network = networks_.find(found->second.vni); network != networks_.end()) {
    network->second.remotes.erase(key);
  }
  remotes_.erase(found);
}

void KernelBackend::SyncEntries(Network& network) {
  if (network.vxlan == 0) return;
  const net::MacAddress flood;  // all zeros
  // What the desired state asks for: MAC -> remotes (one for a unicast MAC), IP -> MAC.
  std::map<net::MacAddress, std::set<net::Ipv4Address>> want_fdb;
  std::map<net::IpAddress, net::MacAddress> want_neigh;
  for (const auto& key : network.remotes) {
    const auto& remote = remotes_.at(key);
    if (remote.tunnel_ip == options_.tunnel_ip || remote.mac.IsZero()) continue;
    want_fdb[remote.mac] = {remote.tunnel_ip};
    for (const auto& ip : remote.ips) want_neigh[ip] = remote.mac;
  }
  for (const auto& tunnel_ip : network.desired.flood_tunnel_ips) {
    if (tunnel_ip != options_.tunnel_ip) want_fdb[flood].insert(tunnel_ip);
  }
  std::map<net::MacAddress, std::set<net::Ipv4Address>> have_fdb;
  for (const auto& [mac, remote] : network.fdb) have_fdb[mac].insert(remote);

  const auto remove = [&](const net::MacAddress& mac, const net::Ipv4Address& remote) {
    auto deleted = links_.DeleteFdb({.ifindex = network.vxlan, .mac = mac, .remote = remote});
    if (deleted || deleted.error().code == ENOENT) {
      network.fdb.erase({mac, remote});
      Count("kernel_fdb_deleted");
    } else {
      Failed("delete fdb " + mac.ToString() + " -> " + remote.ToString(), deleted.error());
    }
  };
  // Entries no longer wanted (a unicast MAC's one remote that only changed is replaced below).
  for (const auto& [mac, remotes] : have_fdb) {
    auto want = want_fdb.find(mac);
    std::vector<net::Ipv4Address> extra;
    for (const auto& remote : remotes) {
      if (want == want_fdb.end() || !want->second.contains(remote)) extra.push_back(remote);
    }
    const bool replaced = !mac.IsZero() && want != want_fdb.end() && extra.size() == remotes.size();
    if (replaced) extra.pop_back();  // the last one left is moved by ReplaceFdb
    for (const auto& remote : extra) remove(mac, remote);
  }
  // Entries wanted and not there.
  for (const auto& [mac, remotes] : want_fdb) {
    for (const auto& remote : remotes) {
      if (network.fdb.contains({mac, remote})) continue;
      const netlink::FdbEntry entry{.ifindex = network.vxlan, .mac = mac, .remote = remote};
      auto done = mac.IsZero() ? links_.AppendFdb(entry) : links_.ReplaceFdb(entry);
      if (!done && !(mac.IsZero() && done.error().code == EEXIST)) {
        Failed("install fdb " + mac.ToString() + " -> " + remote.ToString(), done.error());
        continue;
      }
      if (!mac.IsZero()) {
        std::erase_if(network.fdb,
                      [&unicast = mac](const auto& have) { return have.first == unicast; });
      }
      network.fdb.insert({mac, remote});
      Count("kernel_fdb_installed");
    }
  }
  // Neighbour entries.
  for (auto it = network.neigh.begin(); it != network.neigh.end();) {
    if (want_neigh.contains(it->first)) {
      ++it;
      continue;
    }
    auto deleted =
        links_.DeleteNeigh({.ifindex = network.vxlan, .ip = it->first, .mac = it->second});
    if (deleted || deleted.error().code == ENOENT) {
      Count("kernel_neigh_deleted");
      it = network.neigh.erase(it);
    } else {
      Failed("delete neigh " + it->first.ToString(), deleted.error());
      ++it;
    }
  }
  for (const auto& [ip, mac] : want_neigh) {
    if (auto have = network.neigh.find(ip); have != network.neigh.end() && have->second == mac) {
      continue;
    }
    if (auto done = links_.ReplaceNeigh({.ifindex = network.vxlan, .ip = ip, .mac = mac}); !done) {
      Failed("install neigh " + ip.ToString() + " -> " + mac.ToString(), done.error());
      continue;
    }
    network.neigh[ip] = mac;
    Count("kernel_neigh_installed");
  }
  // The same on the bridge of a routed network, for the kernel's router: a routed packet to a
  // remote endpoint finds its MAC without asking.
  if (network.bridge == 0) return;
  if (!routed_vnis_.contains(network.desired.vni)) want_neigh.clear();
  for (auto it = network.bridge_neigh.begin(); it != network.bridge_neigh.end();) {
    if (auto want = want_neigh.find(it->first); want != want_neigh.end()) {
      ++it;
      continue;
    }
    auto deleted =
        links_.DeleteNeigh({.ifindex = network.bridge, .ip = it->first, .mac = it->second});
    if (deleted || deleted.error().code == ENOENT) {
      Count("kernel_bridge_neigh_deleted");
      it = network.bridge_neigh.erase(it);
    } else {
      Failed("delete neigh " + it->first.ToString() + " on " + BridgeName(network.desired.vni),
             deleted.error());
      ++it;
    }
  }
  for (const auto& [ip, mac] : want_neigh) {
    if (auto have = network.bridge_neigh.find(ip);
        have != network.bridge_neigh.end() && have->second == mac) {
      continue;
    }
    if (auto done = links_.ReplaceNeigh({.ifindex = network.bridge, .ip = ip, .mac = mac}); !done) {
      Failed("install neigh " + ip.ToString() + " -> " + mac.ToString() + " on " +
                 BridgeName(network.desired.vni),
             done.error());
      continue;
    }
    network.bridge_neigh[ip] = mac;
    Count("kernel_bridge_neigh_installed");
  }
}

void KernelBackend::UpsertPort(userspace::DesiredPort desired) {
  const std::string key = PortKey(desired);
  auto [it, created] = ports_.try_emplace(key);
  Port& port = it->second;
  const uint32_t vni = desired.location.vni();
  if (!created && (port.desired.port_name != desired.port_name || port.vni != vni)) {
    ReleasePort(port);
  }
  port.vni = vni;
  port.desired = std::move(desired);
  if (port.ifindex == 0) {
    AttachPort(port);
    return;
  }
  ServePort(port);  // its addresses may have changed
  if (port.desired.location.port_name() != port.desired.port_name) {
    // Enslaved, but the controller has not recorded the name yet (the last Attach was lost).
    resolver_.PortOpened(port.desired.location, port.desired.port_name);
  }
}

void KernelBackend::RemovePort(const std::string& key) {
  auto found = ports_.find(key);
  if (found == ports_.end()) return;
  ReleasePort(found->second);
  ports_.erase(found);
}

void KernelBackend::AttachPort(Port& port) {
  const std::string& name = port.desired.port_name;
  auto network = networks_.find(port.vni);
  if (network == networks_.end() || network->second.bridge == 0) {
    port.error = "waiting: network " + std::to_string(port.vni) + " has no devices yet";
    return;
  }
  if (ParseOwnedName(name)) {
    port.error = "refused: " + name + " is a name of the backend's own devices";
    return;
  }
  auto link = links_.GetLink(name);
  if (!link) {
    port.error = link.error().code == ENODEV ? "waiting: no interface " + name + " yet"
                                             : link.error().message;
    return;
  }
  const int bridge = network->second.bridge;
  for (const auto& [what, done] :
       {std::pair{"set the MTU of " + name, links_.SetMtu(link->ifindex, PortMtu())},
        std::pair{"enslave " + name, links_.SetMaster(link->ifindex, bridge)},
        std::pair{"set up " + name, links_.SetUp(link->ifindex, true)}}) {
    if (!done) {
      port.error = what + ": " + done.error().message;
      Failed(what, done.error());
      return;
    }
  }
  port.ifindex = link->ifindex;
  port.bridge = bridge;
  port.error.clear();
  DOVE_LOG(kInfo).With("PORT", name).With("ENDPOINT", port.desired.location.endpoint_id())
      << "kernel: port " << name << " enslaved to " << BridgeName(port.vni) << " for endpoint "
      << port.desired.location.endpoint_id();
  if (port.desired.location.port_name() != name) {
    resolver_.PortOpened(port.desired.location, name);
  }
  ServePort(port);
}

void KernelBackend::ServePort(const Port& port) {
  auto opened = services_.OpenPort(port.desired.port_name, port.ifindex, port.vni, port.desired.mac,
                                   port.desired.ips);
  if (!opened) {
    Count("kernel_services_errors");
    DOVE_LOG(kWarning).With("PORT", port.desired.port_name)
        << "kernel: port " << port.desired.port_name
        << ": no DHCP or router advertisements: " << opened.error();
    return;
  }
  if (*opened < 0) return;  // served already
  epoll_event event{.events = EPOLLIN, .data = {.fd = *opened}};
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, *opened, &event) != 0) {
    Count("kernel_services_errors");
    DOVE_LOG(kWarning).With("PORT", port.desired.port_name)
        << "kernel: port " << port.desired.port_name << ": epoll_ctl: " << std::strerror(errno);
    services_.ClosePort(port.desired.port_name);
  }
}

void KernelBackend::ReleasePort(Port& port) {
  services_.ClosePort(port.desired.port_name);
  if (port.ifindex == 0) return;
  // Only if it is still the interface we enslaved, and still in our bridge.
  if (auto link = links_.GetLink(port.desired.port_name);
      link && link->ifindex == port.ifindex && link->master == port.bridge) {
    if (auto released = links_.SetMaster(port.ifindex, 0); !released) {
      Failed("release " + port.desired.port_name, released.error());
    }
  }
  port.ifindex = 0;
  port.bridge = 0;
}

void KernelBackend::CheckPorts() {
  for (auto& [vni, network] : networks_) {
    if (network.bridge == 0 && EnsureDevices(network)) SyncEntries(network);
  }
  for (auto& [key, port] : ports_) {
    if (port.ifindex != 0) {
      // Still there, still ours? An interface deleted and made again is enslaved again.
      auto link = links_.GetLink(port.desired.port_name);
      if (link && link->ifindex == port.ifindex && link->master == port.bridge) continue;
      services_.ClosePort(port.desired.port_name);
      port.ifindex = 0;
      port.bridge = 0;
    }
    AttachPort(port);
  }
}

void KernelBackend::DeleteUnclaimed() {
  for (const auto& [name, link] : adopted_) {
    DOVE_LOG(kInfo).With("DEVICE", name)
        << "kernel: deleting " << name << " (no network of ours needs it)";
    if (auto deleted = links_.DeleteLink(link.ifindex); deleted || deleted.error().code == ENODEV) {
      Count("kernel_devices_deleted");
    } else {
      Failed("delete " + name, deleted.error());
    }
  }
  adopted_.clear();
}

void KernelBackend::ReadMisses() {
  auto read = misses_.Read([this](const netlink::NeighEvent& event) { OnEvent(event); });
  if (!read && read.error().code == ENOBUFS) {
    Resync();
  } else if (!read) {
    std::lock_guard lock(mu_);
    Failed("read neighbour events", read.error());
  }
}

void KernelBackend::OnEvent(const netlink::NeighEvent& event) {
  using Kind = netlink::NeighEvent::Kind;
  if (event.kind == Kind::kAppSolicit) {
    OnAppSolicit(event);
    return;
  }
  const bool l2 = event.kind == Kind::kL2Miss && event.mac.has_value();
  const bool l3 = event.kind == Kind::kL3Miss && event.ip.has_value();
  if (!l2 && !l3) return;  // echoes of our writes, the bridge's own FDB events
  std::lock_guard lock(mu_);
  auto vni = vni_of_vxlan_.find(event.ifindex);
  if (vni == vni_of_vxlan_.end()) {
    Count("kernel_misses_foreign");
    return;
  }
  Count(l2 ? "kernel_misses_l2" : "kernel_misses_l3");
  const uint32_t vni_number = vni->second;
  const std::string key =
      std::to_string(vni->second) + "/" + (l2 ? event.mac->ToString() : event.ip->ToString());
  switch (gate_.Admit(key, options_.now())) {
    case MissGate::Verdict::kDeduplicated:
      Count("kernel_misses_deduplicated");
      return;
    case MissGate::Verdict::kRateLimited:
      Count("kernel_misses_rate_limited");
      return;
    case MissGate::Verdict::kAsk:
      break;
  }
  // A miss for what we already know: the kernel lost our entry (deleted behind our back, or
  // never taken): read the network's entries back and install what is missing; the
  // controller would answer with nothing new.
  if (auto network = networks_.find(vni->second); network != networks_.end()) {
    const bool known = std::any_of(network->second.remotes.begin(), network->second.remotes.end(),
                                   [&](const auto& remote_key) {
                                     const auto& remote = remotes_.at(remote_key);
                                     return l2 ? remote.mac == *event.mac
                                               : std::find(remote.ips.begin(), remote.ips.end(),
                                                           *event.ip) != remote.ips.end();
                                   });
    if (known) {
      Count("kernel_misses_known");
      ReadBack(network->second);
      gate_.Answered(key, options_.now());
      if (l3) Announce(vni_number, *event.ip);
      return;
    }
  }
  // A network only routed into is not served here: the controller answers for the IP through
  // a served network of the same domain; a MAC it would not look up there.
  const uint32_t ask = AskVni(vni_number);
  if (ask == 0 || (l2 && ask != vni_number)) {
    Count("kernel_misses_unserved");
    gate_.Answered(key, options_.now());
    return;
  }
  Count("kernel_misses_asked");
  std::optional<net::IpAddress> announce;
  if (l3) announce = *event.ip;
  auto done = [inbox = std::weak_ptr<Inbox>(inbox_), key, vni_number, announce] {
    if (auto alive = inbox.lock()) {
      alive->Post([key, vni_number, announce](KernelBackend& backend) {
        std::lock_guard answered(backend.mu_);
        backend.gate_.Answered(key, backend.options_.now());
        if (announce) backend.Announce(vni_number, *announce);
      });
    }
  };
  if (l2) {
    resolver_.ResolveMac(ask, *event.mac, std::move(done));
  } else {
    resolver_.ResolveIp(ask, *event.ip, std::move(done));
  }
}

const userspace::DesiredRemote* KernelBackend::FindRemote(const Network& network,
                                                          const net::IpAddress& ip) const {
  for (const auto& key : network.remotes) {
    const auto& remote = remotes_.at(key);
    if (remote.tunnel_ip == options_.tunnel_ip || remote.mac.IsZero()) continue;
    if (std::find(remote.ips.begin(), remote.ips.end(), ip) != remote.ips.end()) return &remote;
  }
  return nullptr;
}

void KernelBackend::OnAppSolicit(const netlink::NeighEvent& event) {
  if (!event.ip) return;
  std::lock_guard lock(mu_);
  auto bridge = vni_of_bridge_.find(event.ifindex);
  if (bridge == vni_of_bridge_.end()) {
    Count("kernel_misses_foreign");
    return;
  }
  const uint32_t vni = bridge->second;
  const net::IpAddress ip = *event.ip;
  Count("kernel_app_solicits");
  // The key of an l3miss of the same VNI and address: one question for both.
  const std::string key = std::to_string(vni) + "/" + ip.ToString();
  switch (gate_.Admit(key, options_.now())) {
    case MissGate::Verdict::kDeduplicated:
      Count("kernel_app_solicits_deduplicated");
      return;
    case MissGate::Verdict::kRateLimited:
      Count("kernel_app_solicits_rate_limited");
      return;
    case MissGate::Verdict::kAsk:
      break;
  }
  Network& network = networks_.at(vni);
  // A local port: its MAC is known here; the entry is the kernel's to age and check (REACHABLE,
  // not PERMANENT), so nothing is left behind when the port goes.
  for (const auto& [port_key, port] : ports_) {
    if (port.vni != vni || port.ifindex == 0 ||
        std::find(port.desired.ips.begin(), port.desired.ips.end(), ip) == port.desired.ips.end()) {
      continue;
    }
    if (auto done = links_.ReplaceNeigh(
            {.ifindex = network.bridge, .ip = ip, .mac = port.desired.mac, .state = kNudReachable});
        done) {
      Count("kernel_app_solicits_answered");
    } else {
      Failed("install neigh " + ip.ToString() + " on " + BridgeName(vni), done.error());
    }
    gate_.Answered(key, options_.now());
    return;
  }
  // A remote endpoint we know: its bridge entry was lost (or never taken): install it again.
  if (FindRemote(network, ip) != nullptr) {
    network.bridge_neigh.erase(ip);
    SyncEntries(network);
    Count("kernel_app_solicits_answered");
    gate_.Answered(key, options_.now());
    return;
  }
  const uint32_t ask = AskVni(vni);
  if (ask == 0) {
    Count("kernel_misses_unserved");
    Count("kernel_app_solicits_unknown");
    gate_.Answered(key, options_.now());
    return;
  }
  Count("kernel_misses_asked");
  // The answer arrives as a cache delta before `done`: by then SyncEntries has put the entry
  // on the bridge, and the kernel's INCOMPLETE entry is resolved with its queued packets.
  resolver_.ResolveIp(ask, ip, [inbox = std::weak_ptr<Inbox>(inbox_), key, vni, ip] {
    if (auto alive = inbox.lock()) {
      alive->Post([key, vni, ip](KernelBackend& backend) {
        std::lock_guard answered(backend.mu_);
        backend.gate_.Answered(key, backend.options_.now());
        auto found = backend.networks_.find(vni);
        const bool known =
            found != backend.networks_.end() && backend.FindRemote(found->second, ip) != nullptr;
        backend.Count(known ? "kernel_app_solicits_answered" : "kernel_app_solicits_unknown");
      });
    }
  });
}

void KernelBackend::Announce(uint32_t vni, const net::IpAddress& ip) {
  if (options_.frames == nullptr) return;
  auto network = networks_.find(vni);
  if (network == networks_.end()) return;
  const userspace::DesiredRemote* remote = FindRemote(network->second, ip);
  if (remote == nullptr) return;  // not found, or a port of this host (it answers itself)
  for (const auto& [key, port] : ports_) {
    if (port.vni != vni || port.ifindex == 0) continue;
    std::vector<uint8_t> frame;
    if (ip.is_v4()) {
      auto own = std::find_if(port.desired.ips.begin(), port.desired.ips.end(),
                              [](const net::IpAddress& address) { return address.is_v4(); });
      if (own == port.desired.ips.end()) continue;
      frame = BuildArpReply(remote->mac, ip, port.desired.mac, *own);
    } else {
      frame = BuildNeighAdvert(remote->mac, ip, port.desired.mac);
    }
    if (auto sent = options_.frames->Send(port.ifindex, frame); sent) {
      Count("kernel_announcements_sent");
    } else {
      Failed("announce " + ip.ToString() + " to " + port.desired.port_name, sent.error());
    }
  }
}

void KernelBackend::Resync() {
  std::lock_guard lock(mu_);
  Count("kernel_resyncs");
  // As often as the kernel's queue overflows under a flood of misses: limited.
  DOVE_LOG_LIMITED(kWarning, 3, std::chrono::seconds(30))
      << "kernel: neighbour notifications were lost (ENOBUFS): re-reading our FDB and "
         "neighbour entries";
  for (auto& [vni, network] : networks_) ReadBack(network);
}

void KernelBackend::ReadBack(Network& network) {
  if (network.vxlan == 0) return;
  auto fdb = links_.ListFdb(network.vxlan);
  auto neigh = links_.ListNeigh(network.vxlan);
  if (!fdb || !neigh) {
    Failed("re-read the entries of " + VxlanName(network.desired.vni),
           !fdb ? fdb.error() : neigh.error());
    return;
  }
  network.fdb.clear();
  for (const auto& entry : *fdb) network.fdb.insert({entry.mac, entry.remote});
  network.neigh.clear();
  for (const auto& entry : *neigh) network.neigh[entry.ip] = entry.mac;
  if (network.bridge != 0) {
    if (auto on_bridge = links_.ListNeigh(network.bridge); on_bridge) {
      network.bridge_neigh.clear();
      for (const auto& entry : *on_bridge) {
        if (entry.state == kNudPermanent) network.bridge_neigh[entry.ip] = entry.mac;
      }
    }
  }
  SyncEntries(network);
}

void KernelBackend::Shutdown() {
  std::lock_guard lock(mu_);
  if (options_.keep_on_exit) {
    DOVE_LOG(kInfo) << "kernel: leaving the devices and ports for the next run";
    return;
  }
  if (options_.routing != nullptr) {
    routed_.reset();
    for (const auto& problem : options_.routing->Remove()) {
      DOVE_LOG(kWarning) << "kernel: routing: " << problem;
    }
  }
  for (auto& [key, port] : ports_) ReleasePort(port);
  for (auto& [vni, network] : networks_) DeleteDevices(network);
  DeleteUnclaimed();
}

userspace::DatapathStatus KernelBackend::Status() const {
  std::lock_guard lock(mu_);
  userspace::DatapathStatus status;
  for (const auto& [key, port] : ports_) {
    // The kernel backend enslaves either kind of port to its bridge.
    userspace::PortStatus shown{.name = port.desired.port_name,
                                .kind = "enslaved",
                                .endpoint_id = port.desired.location.endpoint_id(),
                                .vni = port.vni,
                                .mac = port.desired.mac.ToString(),
                                .ips = {},
                                .open = port.ifindex != 0,
                                .error = port.error,
                                .counters = {}};
    for (const auto& ip : port.desired.ips) shown.ips.push_back(ip.ToString());
    status.ports.push_back(std::move(shown));
  }
  std::sort(status.ports.begin(), status.ports.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  status.counters = counters_;
  for (const auto& [name, value] : services_.Dump()) status.counters[name] = value;
  status.drops = services_.Drops();
  uint64_t fdb = 0;
  uint64_t neigh = 0;
  for (const auto& [vni, network] : networks_) {
    fdb += network.fdb.size();
    neigh += network.neigh.size();
  }
  status.counters["kernel_fdb_entries"] = fdb;
  status.counters["kernel_neigh_entries"] = neigh;
  status.counters["kernel_route_only_networks"] = static_cast<uint64_t>(
      std::count_if(networks_.begin(), networks_.end(),
                    [](const auto& entry) { return entry.second.route_only; }));
  status.networks = networks_.size();
  status.remotes = remotes_.size();
  status.resolving = gate_.in_flight();
  status.overlay_mtu = options_.overlay_mtu;
  if (options_.routing != nullptr) {
    // Under mu_, as every other use of the routing's nftables session.
    if (auto counters = options_.routing->Counters(); counters) {
      AddNftCounters(*counters, routed_ ? &*routed_ : nullptr, status);
    } else {
      status.counters["kernel_nft_counters_unreadable"] = 1;
    }
  }
  return status;
}

}  // namespace dove::dswitch::kernel
