// Datapath: the userspace backend's packet loop. Port devices and the underlay device in, the
// pipeline stages in between, port devices and the underlay device out. It talks only to
// io::Device and io::PortFactory: the switch gives it TAP ports and the UDP tunnel, the unit
// tests give it MemoryDevices and drive it packet by packet without root.
//
// One thread runs Run() (or the test calls Poll()): an epoll loop over every port's device,
// the underlay device and a wakeup eventfd. Each ready device gives one batch (at most
// packet::kMaxBurst packets) per round, so one busy port cannot starve the others:
//   from a port:     FromPort -> LocalResponder -> DhcpResponder, RouterAdvertiser -+
//                                     |                 |                           |
//                                     `-----------------`-> replies to the port     |
//       +---------------------------------------------------------------------------+
//       +-> L2Forward (the rest) -+-> local ports
//       |                         `-> MtuGuard -> VxlanEncap -> underlay
//       `-> Router (to the router MAC) -> the same, ICMP replies to the port, misses parked
//   from the tunnel: FromTunnel -> TcpCoalescer -> local ports
// Packets live in one PacketPool allocated when the datapath is made; a TCP super-frame from a
// VM stays one packet all the way (the egress device hands it to the kernel whole: the TAP
// with a virtio GSO header, the underlay with UDP GSO), and segments from the underlay are
// merged back into super-frames before they are written to a port.
//
// Misses do not block the loop. A unicast frame to an unknown MAC is parked and the MAC is
// resolved; an ARP request or neighbour solicitation for an unknown address is parked in a
// second lot and the address is resolved. The answer (found, or not) comes back through Post()
// and the parked frames of that VNI run again; what is still unknown then is dropped as
// resolve_failed. A routed packet to an address the router does not know is parked in a third
// lot under the SENDER's VNI and the address asked domain-wide (ResolveIp(sender VNI, ip));
// still unknown after the answer, the router answers ICMP host unreachable
// (route_host_unknown). Each (VNI, address) is asked at most once at a time. The remote table is
// fed only by the agent's cache (Apply / ApplyDelta): a resolve answer reaches the cache
// first, and its delta is posted before the answer, so the retry finds it.
//
// Moves: when one delta takes a local port away and brings the same endpoint (same cache key)
// back as a remote (EndpointMoved: the VM now runs behind another switch), the datapath keeps
// a redirect (pipeline/redirect_table.h) of its (VNI, MAC) to the new VTEP for
// options.redirect_grace: frames for it still arriving from the tunnel (peers whose caches
// are not updated yet) are sent on there (counter network.<vni>.redirected); frames from the
// local ports follow the remote entry anyway. The redirect goes when the grace ends or the
// endpoint's port comes back here.
//
// Announcements: when a port opens (a new VM, a VM moved here, or a switch restart), the
// other local ports of its network get a gratuitous ARP for each of its IPv4 addresses and an
// unsolicited neighbour advertisement (override) for each IPv6 one, from the VM's MAC
// (pipeline/neighbor_frames.h; counter announce.frames), so local peers update at once.
//
// State changes: ApplyDelta() upserts or removes exactly the ports, networks and remote
// endpoints that changed (O(change)); Apply() replaces everything (after a snapshot). Both run
// on the loop thread between batches. A port whose device cannot be opened is kept in error
// (shown by Status()) and tried again every retry_ports_every.
//
// Live traces (dovectl trace --live; Trace(), datapath_trace.cc): for an order with inject, the
// loop builds the packet the endpoint would send (trace_frames.h: first the ARP request / NS
// for its next hop, which the responder answers as it would the VM; then the packet to the MAC
// it answered) and receives it from the endpoint's port like any frame, marked traced
// (packet.meta.trace). The stages note what they do to it (TraceRecorder); what is traced is
// sent into the tunnel for real (the receiving switch traces it by its marker) but never handed
// to a port unless the order says deliver: SendToPorts notes it as delivered (or as the answer
// the source gets) and frees it. Traced packets are counted like any other. Without an open
// trace, each batch costs one branch more.
//
// Threading: Run()/Poll() on one thread; Post(), Apply(), ApplyDelta(), Status(), Stop() from
// any thread. The Resolver's methods are called on the loop thread and may answer on any.
#pragma once

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
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/device.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/offload/tcp_coalescer.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/dhcp_responder.h"
#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/l2_forward.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/mtu_guard.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/policy_gate.h"
#include "dswitch/pipeline/redirect_table.h"
#include "dswitch/pipeline/remote_table.h"
#include "dswitch/pipeline/return_flows.h"
#include "dswitch/pipeline/router.h"
#include "dswitch/pipeline/router_advertiser.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "dswitch/userspace/desired_state.h"
#include "dswitch/userspace/trace_frames.h"
#include "dswitch/userspace/trace_recorder.h"

namespace dove::dswitch::userspace {

// How the loop asks the controller. `done` is called exactly once, on any thread, when the
// question is settled (found, not found, refused or timed out). The answer itself does not
// travel with it: a found endpoint reaches the data plane as a cache delta (ApplyDelta), posted
// before `done` runs, so the one path for table changes is the cache's.
class Resolver {
 public:
  using Done = std::function<void()>;
  virtual ~Resolver() = default;
  virtual void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done done) = 0;
  virtual void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done done) = 0;
  // The switch has `port_name` open for the endpoint, whose stored port name differs: record it
  // (called again at each change of the port until the controller's record matches).
  virtual void PortOpened(const dove::v1::Location& location, const std::string& port_name) = 0;
};

struct DatapathOptions {
  std::chrono::milliseconds retry_ports_every{3000};
  // After a round that handled something, Run() keeps polling without sleeping for this long
  // (the window starts again at every round that finds work) before it blocks in epoll_wait
  // again. The answer to what was just sent (a ping's reply, a TCP ACK) usually arrives within
  // it, so it is taken without the wakeup of a sleeping thread (tens of microseconds on a
  // virtual machine, several per round trip). An idle switch sleeps: the window costs CPU
  // only right after traffic. 0: always sleep.
  std::chrono::microseconds poll_after_traffic{50};
  // While a resolve the loop sent (a parked frame's MAC, an ARP or ND target) is unanswered,
  // the window stays open up to this long after the last round with work: the controller's
  // answer then wakes nobody (first packet p50 0.82 -> 0.72 ms here, docs/benchmarks.md).
  // A resolve that is not answered costs at most this much polling; only with
  // poll_after_traffic > 0.
  std::chrono::microseconds poll_while_resolving{2000};
  packet::PoolOptions pool;
  size_t park_per_vni = pipeline::ParkingLot::kDefaultPerVni;
  // The router's return-flow table (pipeline/return_flows.h): slots and idle expiry.
  size_t return_flows = pipeline::ReturnFlows::kDefaultCapacity;
  std::chrono::nanoseconds return_flow_idle = pipeline::ReturnFlows::kDefaultIdle;
  // The lease DHCP gives (pipeline/dhcp_responder.h), and the overlay MTU: the largest IP
  // packet a port may send through the tunnel (underlay MTU - 50), which DHCP (option 26) and
  // router advertisements hand out when a subnet sets no MTU of its own.
  uint32_t dhcp_lease_seconds = 3600;
  uint32_t overlay_mtu = 1450;
  // Path MTU discovery on the underlay: every path_mtu_every, the loop asks path_mtu_of (when
  // set) for the path MTU toward each VTEP its networks name (flood and domain lists), and
  // holds what goes to a VTEP whose path is below overlay_mtu + 50 to that path less 50 (an
  // answer of 0, or one at least that, lifts it). The switch gives io::KernelPathMtu: the
  // kernel learns the path MTU from the ICMP fragmentation-needed a router of the underlay
  // sends back for our datagrams.
  std::function<uint32_t(const net::Ipv4Address&)> path_mtu_of{};
  std::chrono::milliseconds path_mtu_every{2000};
  // How long frames for an endpoint that moved away are sent on to its new VTEP (see Moves
  // above). 0: no redirects.
  std::chrono::milliseconds redirect_grace{10000};
};

// One port as Status() shows it.
struct PortStatus {
  std::string name;
  // "tap" (the switch's own TAP), "packet" (a packet socket on an interface it does not own), or
  // "enslaved" (the kernel backend: the interface is a port of its bridge).
  std::string kind = "tap";
  std::string endpoint_id;
  uint32_t vni = 0;
  std::string mac;
  std::vector<std::string> ips;
  bool open = false;
  std::string error;  // why the device is not open
  pipeline::PortCounters counters;
};

struct DatapathStatus {
  std::vector<PortStatus> ports;             // by port name
  std::map<std::string, uint64_t> counters;  // pipeline, io, pool and gro counters by name
  std::map<std::string, uint64_t> drops;     // every drop reason, zero ones too
  size_t networks = 0;
  size_t remotes = 0;
  size_t redirects = 0;  // moved-away endpoints whose frames are still sent on
  size_t parked = 0;
  size_t resolving = 0;
  uint32_t overlay_mtu = 0;  // the largest IP packet a port may send into the tunnel
};

class Datapath {
 public:
  // A datapath over `underlay` (the VTEP: packets from it start at the VXLAN header) and the
  // ports `ports` opens. Both, and `resolver`, outlive it. Errors: epoll or eventfd failed.
  static Expected<std::unique_ptr<Datapath>, std::string> Create(DatapathOptions options,
                                                                 io::Device& underlay,
                                                                 io::PortFactory& ports,
                                                                 Resolver& resolver);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  // Runs the loop until Stop(), polling on without sleeping for options.poll_after_traffic
  // after each round that found work. Port devices are closed, not removed, at the end (a TAP
  // is persistent: a restarted switch finds it again).
  void Run();
  void Stop();
  // One round of the loop: waits up to `timeout` for a ready device or a posted command, then
  // handles everything ready. Returns whether anything was. Loop thread only.
  bool Poll(std::chrono::milliseconds timeout);

  // Runs `command` on the loop thread between batches.
  void Post(std::function<void()> command);
  void Apply(DesiredState desired);
  void ApplyDelta(DesiredDelta delta);
  // Takes part in a live trace (see above): injects the packet when `order` says inject, and
  // watches the tunnel for its marker either way. `report` gets the switch's TraceReport, on the
  // loop thread, when the trace settles or its time is up (a receiver that saw nothing of it
  // reports nothing).
  void Trace(dove::v1::TraceOrder order, TraceRecorder::Report report);
  // The underlay path MTU toward `vtep` became `path_mtu` (0: forget it): what goes to it is
  // held to path_mtu - 50 (pipeline/mtu_guard.h).
  void SetPathMtu(const net::Ipv4Address& vtep, uint32_t path_mtu);
  // A copy of the ports and counters, taken on the loop thread; an empty status when the loop
  // does not answer within `timeout`.
  DatapathStatus Status(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
  // The same, taken on the calling thread, which must be the loop thread (tests).
  DatapathStatus StatusNow() const;

 private:
  struct Port {
    packet::PortId id = packet::kNoPort;
    std::string name;
    io::PortKind kind = io::PortKind::kTap;
    DesiredPort desired;
    std::unique_ptr<io::Device> device;
    std::string error;
  };

  Datapath(DatapathOptions options, io::Device& underlay, io::PortFactory& ports,
           Resolver& resolver, io::FileDescriptor epoll, io::FileDescriptor wake);

  void RunCommands();
  void ApplyNow(DesiredDelta& change);
  // Ports, networks and remotes, one at a time.
  void UpsertPort(DesiredPort desired);
  void RemovePort(const std::string& endpoint_id);
  void UpsertNetwork(const DesiredNetwork& network);
  void RemoveNetwork(uint32_t vni);
  void UpsertRemote(const DesiredRemote& remote);
  void InstallPort(Port& port);
  void OpenPort(Port& port);
  void ClosePort(Port& port, bool remove);
  void RetryPorts();
  void RefreshPathMtus();
  // The gratuitous ARPs / unsolicited NAs for `port`, to the other ports of its network.
  void AnnouncePort(const Port& port);

  void FromPortBatch(Port& port);
  // The stages for rx_, frames of one port (received, or a trace's injected frame).
  void ProcessFromPort();
  void FromTunnelBatch();
  // L2Forward and what follows, for packets of one port (hence of one network).
  void Forward(packet::PacketBatch& batch, uint32_t vni);
  // The Router and what follows, for packets of one port to the router MAC.
  void Route(packet::PacketBatch& batch);
  void SendRouted();
  void SendToPorts(packet::PacketBatch& batch);
  void SendToTunnels(packet::PacketBatch& batch);
  // Resolves the destinations of what L2Forward / LocalResponder parked.
  void ResolveParked(uint32_t vni);
  void ParkSolicits(packet::PacketBatch& misses);
  void ParkRouted(packet::PacketBatch& misses);
  // Asks the controller for `ip` in `vni` unless that question is already out.
  void AskIp(uint32_t vni, const net::IpAddress& ip);
  void Resolved(uint32_t vni);
  void Retry(uint32_t vni);

  // Live traces (datapath_trace.cc).
  struct Injection {
    packet::PortId port = packet::kNoPort;
    TraceKind kind = TraceKind::kIcmp;
    net::IpAddress source;
    net::IpAddress destination;
    net::IpAddress next_hop;  // what the first frame solicits
    uint16_t port_number = 0;
    bool resolving = false;  // the solicitation for next_hop is underway
  };
  void StartTrace(const dove::v1::TraceOrder& order, const TraceRecorder::Report& report);
  // Receives `frame` from the injection's port, traced in `slot`.
  void Inject(uint16_t slot, const Injection& injection, const std::vector<uint8_t>& frame);
  // The packet itself, once the next hop answered `mac`.
  void InjectPacket(uint16_t slot, const net::MacAddress& mac);
  // Takes the traced packets out of `batch` (SendToPorts): notes them delivered (or the answer
  // the source gets), hands them to their port when the order says deliver, frees the rest.
  void InterceptTraced(packet::PacketBatch& batch);
  // Notes where the traced packets of `batch` go into the tunnel (SendToTunnels).
  void NoteEncapsulated(const packet::PacketBatch& batch);
  // Marks what carries an open trace's marker in rx_ from the tunnel (FromTunnelBatch).
  void MarkTracedFromTunnel();
  // Notes what the traced packets still in rx_ passed (after `stage`).
  void NotePassed(const char* stage, const char* detail);

  DatapathOptions options_;
  io::Device& underlay_;
  io::PortFactory& port_factory_;
  Resolver& resolver_;
  io::FileDescriptor epoll_;
  io::FileDescriptor wake_;
  std::atomic<bool> stopping_{false};

  std::mutex commands_mu_;
  std::deque<std::function<void()>> commands_;

  // Loop-thread state.
  packet::PacketPool pool_;
  std::map<std::string, Port> ports_;              // by endpoint (cache) key
  std::map<std::string, std::string> port_owner_;  // port name -> endpoint id
  std::vector<Port*> ports_by_id_;                 // by PortId (dense, from 1)
  std::vector<packet::PortId> free_port_ids_;
  std::map<uint32_t, DesiredNetwork> networks_;  // by VNI
  pipeline::Tables tables_;
  pipeline::RemoteTable remotes_;
  pipeline::Counters counters_;
  io::IoCounters io_counters_;
  pipeline::ParkingLot unicast_parking_;
  pipeline::ParkingLot solicit_parking_;
  pipeline::ParkingLot routed_parking_;
  // What was asked and not answered yet, by (VNI, address). (Hash sets of a small struct: an
  // ordered set of pairs would instantiate the addresses' defaulted operator<=>, which trips
  // clang-tidy's modernize-use-nullptr.)
  template <typename Address>
  struct Question {
    uint32_t vni = 0;
    Address address;
    friend bool operator==(const Question&, const Question&) = default;
  };
  template <typename Address>
  struct QuestionHash {
    size_t operator()(const Question<Address>& question) const {
      return std::hash<Address>{}(question.address) ^
             (size_t{question.vni} * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_set<Question<net::MacAddress>, QuestionHash<net::MacAddress>> resolving_macs_;
  std::unordered_set<Question<net::IpAddress>, QuestionHash<net::IpAddress>> resolving_ips_;
  std::chrono::steady_clock::time_point next_port_retry_{};
  pipeline::ReturnFlows return_flows_;
  pipeline::PolicyGate policy_gate_;
  std::chrono::steady_clock::time_point next_path_mtu_{};
  std::unordered_map<net::Ipv4Address, uint32_t> path_mtus_;  // by VTEP: what is in force
  pipeline::FromPort from_port_;
  pipeline::LocalResponder responder_;
  pipeline::DhcpResponder dhcp_;
  pipeline::RouterAdvertiser advertiser_;
  pipeline::L2Forward l2_forward_;
  pipeline::MtuGuard mtu_guard_;
  pipeline::VxlanEncap encap_;
  pipeline::RedirectTable redirects_;
  uint64_t announcements_ = 0;  // frames AnnouncePort handed to ports
  pipeline::FromTunnel from_tunnel_;
  pipeline::Router router_;
  offload::TcpCoalescer coalescer_;
  TraceRecorder traces_;
  std::map<uint16_t, Injection> injections_;  // by trace slot: the traces this switch sends
  // Scratch batches, reused every round (no allocation in steady state).
  packet::PacketBatch rx_, replies_, misses_, to_ports_, to_tunnels_, scratch_, send_, routed_,
      routed_misses_, mtu_replies_;
};

}  // namespace dove::dswitch::userspace
