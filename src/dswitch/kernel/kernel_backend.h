// KernelBackend: dove-switch's `kernel` backend. The Linux kernel forwards (a bridge and a
// vxlan device per network, created with the DOVE options `nolearning proxy l2miss l3miss
// rsc`); this object keeps the kernel's devices and tables equal to the DesiredState the
// agent's cache gives, and turns the kernel's miss notifications into questions to the
// controller. Facts about the kernel side: ../shared/reference/linux-vxlan-dove.md.
//
// What it makes, per network (DesiredNetwork) of the desired state:
//   dvb<VNI>  a bridge, MAC = the network's router MAC, MTU = overlay MTU, up;
//   dvx<VNI>  a vxlan `id VNI dstport PORT local TUNNEL-IP nolearning proxy l2miss l3miss rsc`,
//             MTU = kUncheckedMtu (see "MTU" below), enslaved to dvb<VNI>, up;
//   for every remote endpoint of the VNI (DesiredRemote): a PERMANENT FDB entry MAC -> its
//   tunnel IP (NTF_SELF on dvx) and a PERMANENT neighbour entry per IP -> MAC on dvx (the
//   kernel's proxy answers ARP/ND from them); for every VTEP of the flood list: an all-zeros
//   FDB entry (appended) to it.
// Ports (DesiredPort): port_name names an interface that already exists (a veth, a TAP); it is
// enslaved to its network's bridge, set to kUncheckedMtu and up, and released (never
// deleted) when the port goes. An interface that does not exist yet is shown as waiting and
// tried again every retry_ports_every; once enslaved, Resolver::PortOpened reports it as the
// userspace backend does, and the port is served DHCPv4 and router advertisements
// (PortServices: an AF_PACKET socket on the interface, the userspace backend's DhcpResponder and
// RouterAdvertiser; a socket that cannot be opened is logged and counted in
// kernel_services_errors, and the port stays enslaved). Their counters (dhcp.*, ra.*,
// services.*) are in Status() with the kernel_* ones, their drop reasons in its drops.
//
// MTU: the overlay MTU (the underlay's less 50) is enforced where the userspace backend's
// MtuGuard enforces it, by the kernel: a packet a VM sends into the tunnel that does not fit
// reaches the vxlan device (ports and dvx accept up to kUncheckedMtu, so neither the veth nor
// the bridge drops it silently), whose tunnel PMTU check (skb_tunnel_check_pmtu) answers IPv4
// with DF by ICMP fragmentation needed and IPv6 by packet too big, with the underlay route's
// MTU less 50, from the packet's destination address (lets IPv4 without DF through: the outer
// datagram is fragmented); a routed packet is answered by the kernel's forwarding, from the
// bridge's (gateway) address, against the bridge's overlay MTU. With underlay_ifindex set the
// kernel caps the vxlan device at the underlay's MTU less 50: dvx then gets the overlay MTU
// and too-big bridged frames are dropped by the bridge unanswered.
//
// Entries: the backend keeps a record of what it installed and changes the kernel by the
// difference between that record and what the desired state asks for, so a move, an
// invalidation or a removal touches exactly the affected entries.
//
// Misses: an l2miss (unknown MAC) on a dvx asks Resolver::ResolveMac(vni, mac), an l3miss
// (unknown IP) ResolveIp(vni, ip), through a MissGate (de-duplication and a token bucket);
// the answer comes back as a cache change (ApplyDelta) that installs the entries. A miss for
// an endpoint the desired state already has (its entry lost in the kernel) is not asked: the
// network's entries are read back and what is missing installed. Misses on
// devices that are not ours are ignored and counted. An overflow of the notification socket
// (ENOBUFS) is answered by a resynchronisation: the kernel's FDB and neighbour entries of our
// devices are read back and the difference to the desired state applied.
//
// Routing (with KernelOptions::routing): the networks of RoutePlan::extra_vnis (named by a
// domain's routes, served nowhere here) get their dvb/dvx as above (the domain's router MAC),
// made before HostRouting::Apply and deleted when no plan names them; their misses are asked
// through a served network of the domain (the controller answers only for served VNIs). The
// kernel's app_solicit requests on our bridges (NeighEvent::kAppSolicit) go through the same
// MissGate under the key of an l3miss of that VNI and IP: a local port's address is answered
// with a REACHABLE bridge entry at once, anything else with ResolveIp; every remote endpoint of
// a routed network has a PERMANENT neighbour entry on the bridge too, installed and removed
// with its other entries, so the kernel's INCOMPLETE entry resolves as the answer lands.
//
// Announcements (with KernelOptions::frames): once an l3miss is answered, an ARP reply / NA
// from the endpoint is written to each local port of that VNI (neigh_announcer.h), so the VM
// whose request the vxlan proxy dropped sends at once instead of at its retry.
//
// Ownership: Create() looks at every link named dvb<N>/dvx<N>: one that is exactly what this
// run would create is adopted (its entries then reconciled against the desired state when its
// network appears), any other bridge or vxlan of such a name is deleted (an interface of
// another kind is left alone: a port could be named so). Adopted devices no network claims
// are deleted at the first full state (Apply, or a delta with reset). Shutdown() deletes every
// device this object owns and releases the ports, unless keep_on_exit. Nothing else is
// touched but the ports' master, MTU and up state.
//
// Threading: one thread runs Run() (or a test calls Poll()); Apply(), ApplyDelta(), Status()
// and Stop() may be called from any thread: changes are queued and run on the loop thread.
// LinkOps, MissSource and the Resolver are borrowed and used on the loop thread only; the
// Resolver's `done` may be called on any thread, also after the backend is gone.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/kernel/host_routing.h"
#include "dswitch/kernel/link_ops.h"
#include "dswitch/kernel/miss_gate.h"
#include "dswitch/kernel/neigh_announcer.h"
#include "dswitch/kernel/port_services.h"
#include "dswitch/kernel/route_plan.h"
#include "dswitch/userspace/datapath.h"
#include "dswitch/userspace/desired_state.h"

namespace dove::dswitch::kernel {

struct KernelOptions {
  net::Ipv4Address tunnel_ip;
  uint16_t vxlan_port = 4789;
  // The vxlan devices compute the outer UDP checksum; false: they send zero (RFC 7348's
  // SHOULD; receivers accept both).
  bool udp_checksum = false;
  uint32_t overlay_mtu = 1450;
  int underlay_ifindex = 0;   // IFLA_VXLAN_LINK of the vxlan devices; 0: none
  bool keep_on_exit = false;  // Shutdown() leaves the devices and the ports as they are
  MissGateOptions misses;
  std::chrono::milliseconds retry_ports_every{1000};
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
  // Routing between a tenant's networks, policy and port security (host_routing.h); borrowed,
  // outlives the backend, used on the loop thread. After every change the backend hands it the
  // RoutePlan of what it now carries (HostRouting::Apply; problems counted in
  // kernel_routing_problems and logged), and Shutdown() removes it (HostRouting::Remove)
  // before the devices go. nullptr: no routing (unit tests of the L2 part).
  HostRouting* routing = nullptr;
  // Writes the ARP replies / neighbour advertisements that tell a VM at once what an l3miss
  // it caused was answered with (neigh_announcer.h); borrowed, used on the loop thread.
  // nullptr: none sent (the VM finds out at its next retry).
  FrameWriter* frames = nullptr;
};

class KernelBackend {
 public:
  using Clock = std::chrono::steady_clock;
  // The MTU of ports and vxlan devices: above what a VM sends (the largest common jumbo frame,
  // within a TAP's and a veth's limits), so the kernel's tunnel PMTU check sees every frame.
  static constexpr uint32_t kUncheckedMtu = 9000;

  // Adopts or deletes the leftovers of an earlier run (see above). Errors: the links cannot
  // be listed, or the wakeup eventfd or epoll instance cannot be made.
  static Expected<std::unique_ptr<KernelBackend>, std::string> Create(
      KernelOptions options, LinkOps& links, MissSource& misses, userspace::Resolver& resolver);
  ~KernelBackend();
  KernelBackend(const KernelBackend&) = delete;
  KernelBackend& operator=(const KernelBackend&) = delete;

  // Runs the loop until Stop().
  void Run();
  void Stop();
  // One round: waits up to `timeout` for a notification or a queued change, handles what is
  // there, and the periodic work when it is due. Returns whether something was handled.
  bool Poll(std::chrono::milliseconds timeout);
  // After the loop has ended: deletes our devices and releases the ports (unless
  // keep_on_exit). On the caller's thread; nothing may run the loop any more.
  void Shutdown();

  void Apply(userspace::DesiredState desired);
  void ApplyDelta(userspace::DesiredDelta delta);

  // The status in the userspace backend's shape: ports (open = enslaved; error = why not),
  // counters (kernel_*), networks, remotes, resolving.
  userspace::DatapathStatus Status() const;

 private:
  struct Network {
    userspace::DesiredNetwork desired;
    int bridge = 0;
    int vxlan = 0;
    std::string error;                                           // why the devices are not there
    std::set<std::pair<net::MacAddress, net::Ipv4Address>> fdb;  // installed
    std::map<net::IpAddress, net::MacAddress> neigh;             // installed
    std::set<std::string> remotes;                               // keys
    // Neighbour entries installed on the BRIDGE (routed networks only, those with a subnet in
    // the route plan: the kernel's router finds a remote's MAC there without asking).
    std::map<net::IpAddress, net::MacAddress> bridge_neigh;
    // Created for RoutePlan::extra_vnis: routed into, no configuration (nor port) of its own;
    // `desired` holds only the VNI and the domain's router MAC.
    bool route_only = false;
  };
  struct Port {
    userspace::DesiredPort desired;
    uint32_t vni = 0;
    int ifindex = 0;  // enslaved; 0: not
    int bridge = 0;
    std::string error;
  };
  // Shared with the `done` callbacks handed to the resolver, which may outlive the backend.
  struct Inbox {
    std::mutex mu;
    std::deque<std::function<void(KernelBackend&)>> commands;
    io::FileDescriptor event_fd;
    void Post(std::function<void(KernelBackend&)> command);
  };

  KernelBackend(KernelOptions options, LinkOps& links, MissSource& misses,
                userspace::Resolver& resolver);
  Expected<void, std::string> Adopt();
  void ApplyNow(userspace::DesiredDelta& delta);
  // Hands HostRouting the plan of the networks and ports held now (options_.routing).
  // Creates the route-only networks of the plan's extra_vnis and deletes those it no longer
  // names, then (on a reset) deletes unclaimed leftovers, then hands HostRouting the plan.
  void ApplyRouting(bool reset);
  void SyncRouteOnly(const RoutePlan& plan);
  // The VNI to ask the controller with about `vni`: itself when served, else a served network
  // of the same domain (same router MAC); 0 when there is none.
  uint32_t AskVni(uint32_t vni) const;
  void OnAppSolicit(const netlink::NeighEvent& event);
  // After an l3miss on `vni` for `ip` was answered: an ARP reply / NA from the endpoint to each
  // local port of `vni` (options_.frames).
  void Announce(uint32_t vni, const net::IpAddress& ip);
  const userspace::DesiredRemote* FindRemote(const Network& network,
                                             const net::IpAddress& ip) const;
  void UpsertNetwork(const userspace::DesiredNetwork& desired);
  void RemoveNetwork(uint32_t vni);
  bool EnsureDevices(Network& network);
  void DeleteDevices(Network& network);
  void UpsertRemote(userspace::DesiredRemote remote, std::set<uint32_t>& touched);
  void RemoveRemote(const std::string& key, std::set<uint32_t>& touched);
  void SyncEntries(Network& network);
  void UpsertPort(userspace::DesiredPort desired);
  void RemovePort(const std::string& key);
  void AttachPort(Port& port);
  void ReleasePort(Port& port);
  // Has services_ answer DHCP and router solicitations on an enslaved port (port_services.h).
  void ServePort(const Port& port);
  void CheckPorts();
  void DeleteUnclaimed();
  void OnEvent(const netlink::NeighEvent& event);
  void Resync();
  void ReadBack(Network& network);
  void ReadMisses();
  void RunCommands();
  void Count(const std::string& counter, uint64_t n = 1) { counters_[counter] += n; }
  uint32_t PortMtu() const { return std::max(kUncheckedMtu, options_.overlay_mtu); }
  uint32_t VxlanMtu() const {
    return options_.underlay_ifindex != 0 ? options_.overlay_mtu : PortMtu();
  }
  bool Failed(const std::string& what, const netlink::Error& error);

  KernelOptions options_;
  LinkOps& links_;
  MissSource& misses_;
  userspace::Resolver& resolver_;
  std::shared_ptr<Inbox> inbox_;
  io::FileDescriptor epoll_fd_;
  std::atomic<bool> stopping_{false};

  // Loop-thread state; mu_ guards it against Status() on other threads.
  mutable std::mutex mu_;
  std::map<uint32_t, Network> networks_;
  std::map<std::string, Port> ports_;                        // by key
  std::map<std::string, userspace::DesiredRemote> remotes_;  // by key
  std::map<int, uint32_t> vni_of_vxlan_;                     // ifindex -> VNI
  std::map<int, uint32_t> vni_of_bridge_;                    // ifindex -> VNI
  std::map<std::string, netlink::LinkInfo> adopted_;         // unclaimed leftovers by name
  std::map<std::string, uint64_t> counters_;
  MissGate gate_;
  std::set<uint32_t> routed_vnis_;   // networks with a subnet in the last plan
  std::optional<RoutePlan> routed_;  // the plan HostRouting last applied without problems
  Clock::time_point next_tick_;
  PortServices services_;  // DHCP and RA for the enslaved ports; its sockets are in epoll_fd_
};

}  // namespace dove::dswitch::kernel
