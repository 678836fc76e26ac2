#include "dswitch/kernel/kernel_backend.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

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
bool SameVxlan(const netlink::VxlanSpec& have, const netlink::VxlanSpec& want) {
  return have.vni == want.vni && have.local == want.local && have.port == want.port &&
         have.learning == want.learning && have.proxy == want.proxy && have.l2miss == want.l2miss &&
         have.l3miss == want.l3miss && have.rsc == want.rsc;
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
  for (const char* counter :
       {"kernel_misses_l2", "kernel_misses_l3", "kernel_misses_asked", "kernel_misses_known",
        "kernel_misses_deduplicated", "kernel_misses_rate_limited", "kernel_misses_foreign",
        "kernel_resyncs", "kernel_fdb_installed", "kernel_fdb_deleted", "kernel_neigh_installed",
        "kernel_neigh_deleted", "kernel_devices_created", "kernel_devices_adopted",
        "kernel_devices_deleted", "kernel_errors", "kernel_services_errors"}) {
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
      std::cerr << "dove-switch: kernel: " << link.name << " is a " << link.kind
                << " interface, not one of ours: left alone\n";
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
      std::cerr << "dove-switch: kernel: adopting " << link.name << " (left by an earlier run)\n";
      continue;
    }
    std::cerr << "dove-switch: kernel: deleting " << link.name
              << " (left by an earlier run, not what this run would create)\n";
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
  std::cerr << "dove-switch: kernel: " << what << ": " << error.message << "\n";
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
      if (!networks.contains(vni)) delta.removed_networks.push_back(vni);
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
  if (delta.reset) DeleteUnclaimed();
  ApplyRouting();
}

void KernelBackend::ApplyRouting() {
  if (options_.routing == nullptr) return;
  std::vector<pipeline::NetworkSettings> networks;
  networks.reserve(networks_.size());
  for (const auto& [vni, network] : networks_) networks.push_back(network.desired.Settings());
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
  if (routed_ == plan) return;  // a change of remote endpoints only: nothing to route anew
  const auto problems = options_.routing->Apply(plan);
  routed_.reset();
  if (problems.empty()) routed_ = std::move(plan);
  if (!problems.empty()) {
    Count("kernel_routing_problems", problems.size());
    std::cerr << "dove-switch: kernel: routing: " << problems.front()
              << (problems.size() > 1 ? " (and more)" : "") << "\n";
  }
}

void KernelBackend::UpsertNetwork(const userspace::DesiredNetwork& desired) {
  auto [it, created] = networks_.try_emplace(desired.vni);
  Network& network = it->second;
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
                                .underlay_ifindex = options_.underlay_ifindex};
  network.fdb.clear();
  network.neigh.clear();
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
  for (const auto& [what, done] :
       {std::pair{"enslave " + vxlan_name, links_.SetMaster(network.vxlan, network.bridge)},
        std::pair{"set up " + vxlan_name, links_.SetUp(network.vxlan, true)},
        std::pair{"set up " + bridge_name, links_.SetUp(network.bridge, true)}}) {
    if (!done) return fail(what, done.error());
  }
  network.error.clear();
  std::cerr << "dove-switch: kernel: network " << vni << ": " << bridge_name << " and "
            << vxlan_name << " up\n";
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
  network.fdb.clear();
  network.neigh.clear();
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
  std::cerr << "dove-switch: kernel: port " << name << " enslaved to " << BridgeName(port.vni)
            << " for endpoint " << port.desired.location.endpoint_id() << "\n";
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
    std::cerr << "dove-switch: kernel: port " << port.desired.port_name
              << ": no DHCP or router advertisements: " << opened.error() << "\n";
    return;
  }
  if (*opened < 0) return;  // served already
  epoll_event event{.events = EPOLLIN, .data = {.fd = *opened}};
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, *opened, &event) != 0) {
    Count("kernel_services_errors");
    std::cerr << "dove-switch: kernel: port " << port.desired.port_name
              << ": epoll_ctl: " << std::strerror(errno) << "\n";
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
    std::cerr << "dove-switch: kernel: deleting " << name << " (no network of ours needs it)\n";
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
      return;
    }
  }
  Count("kernel_misses_asked");
  auto done = [inbox = std::weak_ptr<Inbox>(inbox_), key] {
    if (auto alive = inbox.lock()) {
      alive->Post([key](KernelBackend& backend) {
        std::lock_guard answered(backend.mu_);
        backend.gate_.Answered(key, backend.options_.now());
      });
    }
  };
  if (l2) {
    resolver_.ResolveMac(vni->second, *event.mac, std::move(done));
  } else {
    resolver_.ResolveIp(vni->second, *event.ip, std::move(done));
  }
}

void KernelBackend::Resync() {
  std::lock_guard lock(mu_);
  Count("kernel_resyncs");
  std::cerr << "dove-switch: kernel: neighbour notifications were lost (ENOBUFS): "
               "re-reading our FDB and neighbour entries\n";
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
  SyncEntries(network);
}

void KernelBackend::Shutdown() {
  std::lock_guard lock(mu_);
  if (options_.keep_on_exit) {
    std::cerr << "dove-switch: kernel: leaving the devices and ports for the next run\n";
    return;
  }
  if (options_.routing != nullptr) {
    routed_.reset();
    for (const auto& problem : options_.routing->Remove()) {
      std::cerr << "dove-switch: kernel: routing: " << problem << "\n";
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
    userspace::PortStatus shown{.name = port.desired.port_name,
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
