// Lab: a whole DOVE deployment in network namespaces on one machine, built from a Spec.
//
// Namespaces, all named with the per-run prefix P = "dl<pid>-" (pid of the process that built
// the lab):
//   P ul        the data underlay: bridge br0; host i (1-based) reaches it through "ul0"
//               (192.0.2.(10+i)/24 = its tunnel IP, MTU the spec's underlay mtu (1500), peer
//               "u-HOST" in br0), with
//               permanent neighbour entries between all hosts: the underlay carries no ARP.
//   P mg        the management network: bridge br0; host i has "mg0" 198.51.100.(10+i)/24.
//   P ctl       the controller (LabOptions::controllers = 1, the default: SQLite in TEMP/ctl),
//               "mg0" 198.51.100.1/24; REST on 127.0.0.1:8740 (inside P ctl; every address with
//               LabOptions::rest_on_management), southbound gRPC
//               on 198.51.100.1:8741 (plaintext). Its traffic never touches the underlay.
//   P ctl<i>    with controllers = N > 1 (at most kMaxControllers): replica i = 1..N instead,
//               "mg0" 198.51.100.i/24, its own REST on 127.0.0.1:8740 inside P ctl<i>,
//               southbound on 198.51.100.i:8741; every replica runs `--store etcd` on the lab's
//               etcd cluster, key prefix /dove/ (so they share every object).
//   P etcd      with controllers > 1: the etcd cluster (kEtcdMembers members of Debian's etcd,
//               EtcdCluster) on "mg0" 198.51.100.6, .7, .8/24: member i listens on .(6+i):2379
//               (clients), :2380 (peers), :2381 (plain-HTTP /health and /metrics); data and
//               logs in TEMP/etcd (m<i>, m<i>.log).
//   P HOST      one per host. A DOVE host runs `dove-switch --name HOST ...` (with
//               `--backend kernel` on a dove-kernel host) whose `--controller` lists every
//               replica's southbound, the k-th DOVE host's list starting at replica k mod N (so
//               the switches spread over the replicas; a switch takes the first that answers); a
//               kernel host has per network a bridge brN and a VXLAN device vxN (N = network index)
//               wired from the controller's endpoints (RefreshKernelHosts()), with outer UDP
//               checksums as its spec says (noudpcsum unless "udpcsum"); when a kernel or
//               dove-kernel host has a userspace dove-switch peer, its ul0's transmit checksum
//               offload is off (RefreshKernelHosts()).
//   P vm-VM     one per VM: "eth0" (MAC 02:00:00:00:<network index+1>:<vm index+1>, the spec's
//               IPs (IPv6 on when it has one), MTU the network's mtu or 1450, a default route
//               via each family's gateway; a dhcp VM: no address, MTU 1500, busybox udhcpc
//               started once the switches are up), peer "v-VM" in its host. On a userspace
//               DOVE host the lab also makes the persistent TAP "t-VM" (vnet_hdr) the switch
//               opens, and joins v-VM and t-VM with tc mirred redirects both ways (matchall, or
//               u32 "match u32 0 0" where the kernel lacks matchall); on a kernel host v-VM is in
//               brN; on a dove-kernel host (dove-switch --backend kernel) v-VM is the endpoint's
//               port_name, up, and the switch enslaves it to the bridge dvb<VNI> it makes itself.
// IPv6 is disabled in every namespace so that no stray ND/MLD traffic appears in captures; in a
// dove-kernel host's namespace the devices the switch makes (dvb/dvx) have IPv6 on but no
// address (addr_gen_mode 1), for the switch's IPv6 neighbours; ul0, mg0 and v-VM have it off.
//
// Up() builds everything, starts the etcd cluster (waits for every member's health), the
// controller or replicas (waits for each one's /healthz) and the switches, creates domains,
// networks, subnets (gateway, mtu, dns), policies, kernel switches and endpoints through the REST
// API, waits until every DOVE switch is STATE_UP and every endpoint is listed (by every replica),
// then starts the dhcp
// VMs' clients (it does not wait for their leases: WaitDhcpEvent); whether traffic flows is for
// the caller to check (Ping). Down() (also run by the destructor unless Options::keep) stops every
// process and deletes every namespace of the prefix and the temp dir. CleanLeftovers() removes what
// labs of dead processes left behind.
//
// REST calls (ControllerRest and what uses it) go to one replica and fall over to the next when
// it cannot be reached (see ControllerRest).
//
// Errors are one sentence naming the command that failed and its stderr. Not thread-safe:
// drive a Lab from one thread (Ping/Exec may run in parallel on several threads; they only
// run commands; so may ControllerRest and RestAt, also while a replica is killed).
//
//   auto spec = ParseSpec(DemoSpecText());
//   auto lab = Lab::Up(*spec, {.bin_dir = "/work/build/src"});
//   if (!lab) FAIL() << lab.error();
//   EXPECT_EQ((*lab)->Ping("red1", "10.0.0.12", 3, std::chrono::seconds(1)), 3);
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "lab/command.h"
#include "lab/etcd_cluster.h"
#include "lab/spec.h"

namespace dove::lab {

inline constexpr int kRestPort = 8740;
inline constexpr int kSouthboundPort = 8741;
inline constexpr int kMetricsPort = 9741;
inline constexpr const char* kControllerIp = "198.51.100.1";  // replica i: 198.51.100.i
inline constexpr int kMaxControllers = 5;
inline constexpr int kEtcdMembers = 3;
inline constexpr int kEtcdClientPort = 2379;
inline constexpr int kEtcdPeerPort = 2380;
inline constexpr int kEtcdMetricsPort = 2381;
inline constexpr int kEtcdFirstOctet = 6;  // member i: 198.51.100.(6 + i)
inline constexpr const char* kEtcdPrefix = "/dove/";
inline constexpr const char* kUnderlayBridge = "br0";  // in UnderlayNamespace()

// Where dove-controller and dove-switch are. An empty field means "look it up": in bin_dir
// (or its controller/, dswitch/, dswitch/app/ subfolders) when given; else next to the running
// executable, then in ../controller/, ../dswitch/ and ../dswitch/app/ relative to it (the build
// tree: build/src/lab/dove-lab, build/src/dswitch/app/dove-switch), then in PATH.
struct Binaries {
  std::string controller;
  std::string switch_binary;
};
// Resolves both; a binary that cannot be found stays empty.
Binaries FindBinaries(const std::string& bin_dir);

struct LabOptions {
  std::string bin_dir;  // see Binaries
  bool keep = false;    // the destructor leaves everything running (Down() still works)
  std::chrono::milliseconds ready_timeout{30000};
  // 1: one controller on SQLite (P ctl). 2..kMaxControllers: that many replicas on an etcd
  // cluster the lab starts (P ctl1.., P etcd). Up() refuses other values.
  int controllers = 1;
  std::vector<std::string> switch_args{};     // appended to every dove-switch's command line
  std::ostream* progress = nullptr;           // one line per step when set
  const std::atomic<bool>* cancel = nullptr;  // Up() gives up between steps when it turns true
  // Not empty: every controller runs with `--token-file` holding it (TEMP/token), and the lab's
  // own REST calls send it as "Authorization: Bearer <token>".
  std::string token{};
  // The controllers' REST API on every address of their namespace (0.0.0.0:8740) instead of
  // 127.0.0.1 only, so that the hosts reach it over the management network at
  // ControllerIp(replica):8740 (dove-cni on a host does).
  bool rest_on_management = false;
};

struct VmInfo {
  std::string name;
  std::string host;
  std::string domain;
  std::string network;     // name in its domain
  std::string network_id;  // the controller's id
  uint32_t vni = 0;
  std::string ip;  // IPv4, without prefix (a dhcp VM: what the controller allocated)
  int prefix_length = 0;
  std::string ipv6;  // the first IPv6 address, without prefix; empty: none
  int ipv6_prefix_length = 0;
  // Every address of the endpoint as "IP/LENGTH", IPv4 and IPv6, as the controller stored them.
  std::vector<std::string> addresses;
  std::string gateway;   // the IPv4 subnet's gateway (the VM's default route); empty: none
  std::string gateway6;  // the IPv6 subnet's gateway; empty: none
  bool dhcp = false;     // configured by busybox udhcpc, not statically
  int mtu = 0;           // eth0's MTU as the lab set it (a dhcp VM: 1500 until its lease)
  std::string mac;
  std::string endpoint_id;
  std::string ns;         // its namespace
  std::string host_ns;    // its host's namespace
  std::string veth_peer;  // "v-VM", in veth_ns
  // Where v-VM is: its first host's namespace (MoveVm leaves it there, see there).
  std::string veth_ns;
  // The device in host_ns whose frames go to the VM's TAP and back: v-VM, or after a move to
  // another host than its first the far end of the cable from v-VM ("n-VM" or "p-VM").
  std::string host_link;
  std::string cable;    // that cable's near end in veth_ns ("m-VM" or "o-VM"); empty: none
  std::string tap;      // "t-VM" in host_ns (userspace dove-switch hosts; empty elsewhere)
  bool packet = false;  // the switch serves v-VM through a packet socket (no TAP)
};

// One line of a dhcp VM's client log: what udhcpc's script was called with.
struct DhcpEvent {
  double time = 0;    // CLOCK_REALTIME seconds when the script ran
  std::string event;  // deconfig, bound, renew, leasefail, nak
  std::string ip;
  int mask = 0;  // prefix length
  std::string router;
  int mtu = 0;
  std::string dns;
  int lease = 0;  // seconds
  std::string server_id;
};

struct HostInfo {
  std::string name;
  bool kernel = false;          // kernel VXLAN with static entries computed by the lab
  bool kernel_backend = false;  // dove-switch --backend kernel ("dove-kernel")
  std::string ns;
  std::string tunnel_ip;
  std::string management_ip;
  std::string underlay_mac;   // of ul0
  bool udp_checksum = false;  // kernel hosts: the VXLAN devices' outer UDP checksums (udpcsum)
  // Kernel and dove-kernel hosts: ul0's transmit checksum offload is off, so the kernel
  // completes every checksum before the veth (see RefreshKernelHosts). False until
  // RefreshKernelHosts runs.
  bool completes_checksums = false;
};

class Lab {
 public:
  // Builds the lab; on failure everything built so far is torn down again.
  static Expected<std::unique_ptr<Lab>, std::string> Up(const Spec& spec, LabOptions options);

  // Deletes the namespaces "dl<pid>-*" whose <pid> no longer runs (killing what still runs in
  // them: a controller or switch of a lab that was killed) and their temp dirs
  // /tmp/dove-lab-<pid>. Returns how many namespaces were removed.
  static Expected<int, std::string> CleanLeftovers();

  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;
  ~Lab();  // Down() unless options.keep

  // Stops captures, switches and controller (SIGTERM, SIGKILL after 3 s), deletes every
  // namespace with the prefix and the temp dir. Idempotent. Returns the first error.
  Expected<void, std::string> Down();

  const std::string& prefix() const { return prefix_; }
  const std::filesystem::path& temp_dir() const { return temp_dir_; }
  const Spec& spec() const { return spec_; }
  const std::vector<VmInfo>& vms() const { return vms_; }
  const std::vector<HostInfo>& hosts() const { return hosts_; }
  const VmInfo& Vm(const std::string& vm) const;        // aborts when unknown
  const HostInfo& Host(const std::string& host) const;  // aborts when unknown

  std::string VmNamespace(const std::string& vm) const { return prefix_ + "vm-" + vm; }
  std::string HostNamespace(const std::string& host) const { return prefix_ + host; }
  std::string UnderlayNamespace() const { return prefix_ + "ul"; }
  std::string ManagementNamespace() const { return prefix_ + "mg"; }
  // Replicas are numbered 0..controllers()-1 here (replica r lives in "P ctl<r+1>" when there
  // are several; the one controller of a lab without replicas is replica 0, in "P ctl").
  int controllers() const { return options_.controllers; }
  std::string ControllerNamespace(int replica = 0) const;
  std::string ControllerIp(int replica = 0) const;  // "198.51.100.<replica+1>"
  // Its southbound "IP:8741": what a switch's `dovectl switch show` says it is connected to.
  std::string ControllerAddress(int replica) const;
  // The replica whose southbound is `address` ("IP:PORT"), or -1.
  int ReplicaOf(const std::string& address) const;
  std::string EtcdNamespace() const { return prefix_ + "etcd"; }
  // The lab's etcd cluster (kill and restart members through it); nullptr with one controller.
  EtcdCluster* etcd() { return etcd_.get(); }
  const EtcdCluster* etcd() const { return etcd_.get(); }
  // The switch's --control-socket and log.
  std::string ControlSocket(const std::string& host) const;
  std::string SwitchLog(const std::string& host) const;
  std::string ControllerLog(int replica = 0) const;

  // Runs argv in namespace `ns` (`ip netns exec NS ...`) and waits at most `timeout`.
  CommandResult Exec(const std::string& ns, const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // `ping -c count -W timeout` from the VM's namespace; how many replies came back (0 on any
  // failure). `payload_bytes` > 0: ICMP payloads of that size that must not be fragmented
  // (`-s N -M do`; 1422 fills a VM's 1450-byte MTU). Safe to call from several threads at once.
  int Ping(const std::string& from_vm, const std::string& ip, int count,
           std::chrono::seconds timeout, int payload_bytes = 0) const;

  // Sends `signal` to the host's dove-switch (SIGKILL: a crash); waits for it to exit when the
  // signal is SIGKILL or SIGTERM. StartSwitch starts it again with the same arguments.
  Expected<void, std::string> KillSwitch(const std::string& host, int signal);
  Expected<void, std::string> StartSwitch(const std::string& host);
  // SIGTERM (SIGKILL after 3 s); StartController restarts it with the same data dir (or etcd
  // cluster) and addresses and waits for /healthz. KillController: SIGKILL (a crash), reaped.
  // Errors for a replica that is not running (Stop, Kill) or is (Start), or out of range.
  Expected<void, std::string> StopController(int replica = 0);
  Expected<void, std::string> StartController(int replica = 0);
  Expected<void, std::string> KillController(int replica);

  // One REST exchange with one replica, whatever its answer.
  struct RestReply {
    int status = 0;     // the HTTP status; 0: no answer (see error)
    std::string body;   // as received
    std::string error;  // no answer: why ("cannot reach the controller in NS: Connection")
    // No answer, and the request never left (the connection could not be made): safe to send
    // elsewhere. False once it may have reached the replica (a write may have been applied).
    bool unsent = false;
  };
  // The REST call to replica `replica` only, inside its namespace: method GET/POST/PUT/DELETE,
  // path "/v1/...", body (ignored for GET/DELETE). Thread-safe.
  RestReply RestAt(int replica, const std::string& method, const std::string& path,
                   const nlohmann::json& body = {}) const;
  // The REST call to a live replica: the one that answered the last call first, then the next
  // ones in order when it cannot be reached (a connection that cannot be made; a GET also on
  // any failure to get an answer: a write that may have reached a replica is not sent again).
  // The replica that answers is tried first next time. The decoded 2xx body, or
  // "METHOD PATH: HTTP 409 conflict: .." (an HTTP error is the answer: no other replica is
  // asked), or "METHOD PATH: cannot reach the controller: .." naming each replica tried.
  // Thread-safe.
  Expected<nlohmann::json, std::string> ControllerRest(const std::string& method,
                                                       const std::string& path,
                                                       const nlohmann::json& body = {}) const;
  // The decoded 2xx body of `reply` to METHOD PATH, or the error ControllerRest describes.
  static Expected<nlohmann::json, std::string> DecodeRest(const std::string& method,
                                                          const std::string& path,
                                                          const RestReply& reply);
  // DELETE /v1/endpoints/<the VM's endpoint id>.
  Expected<void, std::string> DeleteEndpoint(const std::string& vm);
  // Adds a VM to the running lab: `statement` is a spec line ("vm n1 h1 t/web 10.0.0.31", the
  // file's rules, checked against the lab's spec: ParseVm); builds it as Up() does (endpoint
  // through the REST API, namespace, veth, TAP and redirects; a dhcp VM's client; kernel
  // hosts rewired) and returns once it is built; whether its switch has opened its port yet
  // is for the caller to see (Ping). On failure what was built of it stays until Down().
  Expected<void, std::string> AddVm(const std::string& statement);
  // Re-attaches the tc redirects between a DOVE host's v-VM (host_link after a move) and t-VM,
  // replacing what is there.
  // Needed after the VM's endpoint was deleted and created again: dove-switch deletes a port's
  // TAP for good when its endpoint goes and makes a new device when it returns, so the old
  // redirect points at a device that no longer exists. Call it once the switch has the port
  // open again. Does nothing on a dove-kernel host (the switch enslaves v-VM again itself);
  // fails for a VM on a kernel host (it has no TAP).
  Expected<void, std::string> RewirePort(const std::string& vm);

  // Live migration: moves a running VM to another host. The VM keeps its namespace (eth0, its
  // IPs and MAC, its TCP connections, its neighbour entries: its link never drops); its frames
  // stop going to the old host's switch and go to the new host's. In this order, for the
  // shortest gap: (1) prepared, nothing changed for the VM yet: the TAP "t-VM" is made on the
  // new host; unless the new host is the one v-VM is in (VmInfo::veth_ns: the VM's first
  // host), a cable (a veth pair "m-VM"/"n-VM", or "o-VM"/"p-VM" when the VM has the first
  // one) from v-VM's namespace to the new host, wired with tc mirred redirects: cable -> v-VM
  // there, cable <-> t-VM on the new host (else t-VM -> v-VM); (2) the controller is told
  // through the REST API (GET the endpoint, PUT it with switch_name = `to_host`, port_name
  // t-VM, its version: the move's authorization); (3) the new host's switch opens the TAP
  // (awaited: its carrier comes up) and attaches the endpoint, and the old host's switch gets
  // EndpointMoved (it deletes its TAP and keeps a redirect); (4) the switch-over: v-VM's
  // ingress redirect is pointed at the new cable (or the new TAP) over netlink: one request
  // with u32 (about 0.1 ms), three with matchall (qdisc made again); then the old cable, if
  // any, is deleted. Frames are lost only
  // from the old switch dropping its port to the switch-over. v-VM itself never moves (moving
  // a link between namespaces takes 15-35 ms here and drops the VM's carrier): after a move
  // to another host its frames cross v-VM's namespace by tc only, past that host's switch.
  // Both hosts must be userspace DOVE hosts (errors otherwise, and for an unknown VM or host,
  // the VM's own host, or a step that fails: its command or netlink request and the error; a
  // failure in the switch-over says that the VM is cut off). Vm(vm).host, host_ns, host_link
  // and cable follow the VM. `timeout`: for the new switch to open the TAP.
  Expected<void, std::string> MoveVm(const std::string& vm, const std::string& to_host,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Where the last MoveVm's time went (zeros before the first; a failed move keeps what it
  // measured until it failed). The VM's frames are lost from about the PUT (the old switch
  // drops its port on EndpointMoved) to the end of the switch-over.
  struct MoveTiming {
    std::chrono::microseconds prepare{};      // TAP, sockets, ifindexes, GET: nothing changed yet
    std::chrono::microseconds put{};          // the REST PUT, until its answer
    std::chrono::microseconds tap_open{};     // then until the new switch's TAP is running
    std::chrono::microseconds switch_over{};  // v-VM moved and joined (netlink)
  };
  const MoveTiming& last_move() const { return last_move_; }

  // Creates the policy through the REST API; returns its id. ParsePolicy makes one from text.
  Expected<std::string, std::string> CreatePolicy(const SpecPolicy& policy);
  Expected<void, std::string> DeletePolicy(const std::string& id);
  // The ids of the spec's policies as created by Up(), in file order.
  const std::vector<std::string>& policy_ids() const { return policy_ids_; }

  // A dhcp VM's client: every event its script saw so far (empty before the first), waiting
  // for a bound lease, a renewal (SIGUSR1 to udhcpc: it unicasts a REQUEST to its server), and
  // the client's log path.
  std::vector<DhcpEvent> DhcpEvents(const std::string& vm) const;
  // Waits until the VM's client has `count` events of kind `event` ("bound", "renew"); returns
  // the last of them. The error says what the client logged.
  Expected<DhcpEvent, std::string> WaitDhcpEvent(const std::string& vm, const std::string& event,
                                                 size_t count, std::chrono::milliseconds timeout);
  Expected<void, std::string> RenewDhcp(const std::string& vm);
  // Stops the VM's client and starts a new one (a new DISCOVER; the old lease is not released).
  Expected<void, std::string> RestartDhcp(const std::string& vm);
  std::string DhcpLog(const std::string& vm) const;

  // Polls GET /v1/switches and /v1/endpoints until every DOVE host is STATE_UP and every VM's
  // endpoint is listed, or `timeout` passes (the message names what is missing). With
  // replicas: asked of every replica that runs (each must see it all), and every etcd member
  // that runs must be healthy.
  Expected<void, std::string> WaitReady(std::chrono::milliseconds timeout);

  // Recomputes the static VXLAN state of every kernel host from GET /v1/endpoints and
  // GET /v1/switches: per network, unicast fdb entries and permanent neighbours for every
  // endpoint on another switch, and 00:00:00:00:00:00 fdb entries (head-end replication) to
  // every other switch with an endpoint there. Stale entries are removed.
  // It also decides each kernel and dove-kernel host's checksums on the underlay (the entries
  // of a dove-kernel host are its switch's, never touched here): when any of its peers is a
  // userspace dove-switch (any switch that is not a kernel or dove-kernel host), ul0's checksum
  // offload goes off, so the kernel completes the inner TCP/UDP checksums a veth would
  // otherwise carry partial to a userspace reader (docs/lab.md, "Checksums on the underlay");
  // between kernel hosts only it stays on (the kernel on the other side trusts a partial
  // checksum, and segmentation offload keeps the kernel's VXLAN at full speed).
  Expected<void, std::string> RefreshKernelHosts();

  // Starts `tcpdump -i IFACE -w FILE -U --immediate-mode` in `ns` (every frame written as it
  // arrives: without immediate mode frames wait in the kernel's ring for up to a second and
  // are lost when tcpdump is stopped) and returns once the file has its pcap header (plus a
  // short settle). StopCapture stops that capture (SIGTERM: the file is complete);
  // StopAllCaptures every running one.
  Expected<void, std::string> StartCapture(const std::string& ns, const std::string& iface,
                                           const std::string& pcap_path);
  Expected<void, std::string> StopCapture(const std::string& pcap_path);
  void StopAllCaptures();

 private:
  Lab(Spec spec, LabOptions options, Binaries binaries);

  Expected<void, std::string> Build();
  Expected<void, std::string> Step(const std::string& what);
  Expected<void, std::string> Run(const std::vector<std::string>& argv) const;
  Expected<void, std::string> AddNamespace(const std::string& ns);
  Expected<void, std::string> BuildUnderlayAndManagement();
  Expected<void, std::string> CreateObjects();
  Expected<void, std::string> BuildVm(VmInfo& vm);
  Expected<void, std::string> WaitHealthy(int replica, std::chrono::milliseconds timeout);
  Expected<void, std::string> StartEtcd();
  // Errors for a replica number out of range.
  Expected<void, std::string> CheckReplica(int replica) const;
  // The VM of the spec's `spec_vm` built, appended to vms_.
  Expected<void, std::string> BuildSpecVm(const SpecVm& spec_vm);
  // tc ingress redirect of every frame arriving on `from` out of `to` (both in `ns`).
  Expected<void, std::string> Redirect(const std::string& ns, const std::string& from,
                                       const std::string& to) const;
  std::vector<std::string> SwitchArgv(const HostInfo& host) const;
  Expected<void, std::string> StartDhcpClient(const VmInfo& vm);
  Expected<void, std::string> WriteDhcpScript();
  // One kernel host's static VXLAN state for one network, as RefreshKernelHosts computed it.
  struct KernelWiring {
    std::string vxlan;                                  // "vxN"
    std::set<std::pair<std::string, std::string>> fdb;  // (MAC, dst tunnel IP)
    std::map<std::string, std::string> neighbours;      // IP -> MAC
  };
  // Makes vxN's fdb and neighbour entries exactly `wiring` (adds the missing, removes the stale).
  Expected<void, std::string> ApplyKernelWiring(const HostInfo& host,
                                                const KernelWiring& wiring) const;

  Spec spec_;
  LabOptions options_;
  Binaries binaries_;
  std::string prefix_;
  std::filesystem::path temp_dir_;
  std::vector<HostInfo> hosts_;
  std::vector<VmInfo> vms_;
  std::map<std::string, std::string> domain_ids_;  // by name
  std::vector<std::string> network_ids_;           // by spec network index
  std::vector<uint32_t> network_vnis_;
  std::vector<std::unique_ptr<ChildProcess>> controllers_;  // by replica; null: never started
  std::unique_ptr<EtcdCluster> etcd_;
  mutable std::atomic<int> rest_replica_{0};  // the replica ControllerRest tries first
  std::map<std::string, std::unique_ptr<ChildProcess>> switches_;
  std::map<std::string, std::unique_ptr<ChildProcess>> captures_;      // by pcap path
  std::map<std::string, std::unique_ptr<ChildProcess>> dhcp_clients_;  // by VM
  std::vector<std::string> policy_ids_;
  MoveTiming last_move_;
  bool redirect_probed_ = false;  // MoveVm has looked for tc's matchall classifier
  bool redirect_u32_ = false;     // it found none: its redirects use u32
  bool down_ = false;
};

}  // namespace dove::lab
