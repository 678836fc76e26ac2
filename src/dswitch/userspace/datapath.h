// Datapath: the userspace backend's packet loop. TAP ports and the underlay socket in, the
// pipeline stages in between, TAP ports and the underlay socket out.
//
// One thread runs Run(): an epoll loop over every port's TAP, the underlay socket and a wakeup
// eventfd. Each ready device gives one batch (at most kBatchSize frames) per round, so one busy
// port cannot starve the others:
//   from a port:    FromPort -> LocalResponder -> L2Forward -> VxlanEncap -> underlay
//                                     |               `-> local ports
//                                     `-> replies to the port
//   from the tunnel: FromTunnel -> local ports
// Misses do not block the loop. A unicast frame to an unknown MAC is parked (ParkingLot) and the
// MAC is resolved; an ARP request or neighbour solicitation for an unknown address is parked in a
// second lot and the address is resolved. The answer (found, or not) comes back through Post()
// and the parked frames of that VNI run again; what is still unknown then is dropped as
// resolve_failed. Each (VNI, address) is asked at most once at a time.
//
// Everything the loop reads is its own: Apply() hands it a new DesiredState (from the agent's
// cache) through the same queue as every other command, and the loop rebuilds its Tables and
// remote table between batches, opens the TAPs of new ports and removes the TAPs of ports that
// went away. A TAP that cannot be opened is kept as a port in error (shown by Status()) and
// tried again on every Apply and every few seconds.
//
// Threading: Run() on one thread; Post(), Apply(), Status(), Stop() from any thread. The
// Resolver's methods are called on the loop thread and may answer on any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/io/tap_device.h"
#include "dswitch/io/underlay_socket.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/from_port.h"
#include "dswitch/pipeline/from_tunnel.h"
#include "dswitch/pipeline/l2_forward.h"
#include "dswitch/pipeline/local_responder.h"
#include "dswitch/pipeline/parking_lot.h"
#include "dswitch/pipeline/remote_lookup.h"
#include "dswitch/pipeline/tables.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "dswitch/userspace/desired_state.h"

namespace dove::dswitch::userspace {

// How the loop asks the controller. `done` gets the endpoint (nullopt: not found, refused or
// no answer) exactly once, on any thread.
class Resolver {
 public:
  using Done = std::function<void(std::optional<DesiredRemote>)>;
  virtual ~Resolver() = default;
  virtual void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done done) = 0;
  virtual void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done done) = 0;
  // The switch has `port_name` open for the endpoint, whose stored port name differs: record it
  // (called again at each Apply until the controller's record matches).
  virtual void PortOpened(const dove::v1::Location& location, const std::string& port_name) = 0;
};

struct DatapathOptions {
  net::Ipv4Address tunnel_ip;
  uint16_t vxlan_port = 4789;
  std::chrono::milliseconds retry_ports_every{3000};
};

// One port as Status() shows it.
struct PortStatus {
  std::string name;
  std::string endpoint_id;
  uint32_t vni = 0;
  std::string mac;
  std::vector<std::string> ips;
  bool open = false;
  std::string error;  // why the TAP is not open
  pipeline::PortCounters counters;
};

struct DatapathStatus {
  std::vector<PortStatus> ports;
  std::map<std::string, uint64_t> counters;  // pipeline and io counters by name
  std::map<std::string, uint64_t> drops;     // every drop reason, zero ones too
  size_t networks = 0;
  size_t remotes = 0;
  size_t parked = 0;
  size_t resolving = 0;
};

class Datapath {
 public:
  // Opens the underlay socket on options.tunnel_ip. Errors: the socket cannot be made or bound.
  static Expected<std::unique_ptr<Datapath>, std::string> Open(DatapathOptions options,
                                                               Resolver& resolver);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  // Runs the loop until Stop(). Leaves the TAPs in place (persistent): a restarted switch
  // finds them again.
  void Run();
  void Stop();

  // Runs `command` on the loop thread between batches.
  void Post(std::function<void()> command);
  void Apply(DesiredState desired);
  // A copy of the ports and counters, taken on the loop thread; an empty status when the loop
  // does not answer within `timeout`.
  DatapathStatus Status(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

 private:
  struct Port {
    pipeline::PortId id = pipeline::kNoPort;
    DesiredPort desired;
    std::optional<io::TapDevice> tap;
    std::string error;
  };

  Datapath(DatapathOptions options, Resolver& resolver, io::UnderlaySocket socket, int epoll_fd,
           int wake_fd);

  void RunCommands();
  void ApplyNow(DesiredState desired);
  void RebuildTables();
  void OpenPort(Port& port);
  void ClosePort(Port& port, bool remove);
  void RetryPorts();

  void FromPortBatch(pipeline::Batch& batch);
  void FromTunnelBatch(pipeline::Batch& batch);
  // L2Forward and what follows, for frames of one port (hence of one network).
  void Forward(pipeline::Batch& batch);
  void SendToPorts(pipeline::Batch& batch);
  void SendToTunnels(pipeline::Batch& batch);
  // Resolves the destinations of what L2Forward / LocalResponder parked.
  void ResolveParked(uint32_t vni);
  void ResolveSolicited(pipeline::Batch& misses);
  void Resolved(uint32_t vni, const std::string& key, std::optional<DesiredRemote> found);
  void Retry(uint32_t vni);

  DatapathOptions options_;
  Resolver& resolver_;
  io::UnderlaySocket socket_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};

  std::mutex commands_mu_;
  std::deque<std::function<void()>> commands_;

  // Loop-thread state.
  std::map<std::string, Port> ports_;  // by TAP name
  std::map<pipeline::PortId, std::string> port_names_;
  pipeline::PortId next_port_id_ = 1;
  pipeline::Tables tables_;
  pipeline::MapRemoteLookup remotes_;
  size_t remote_count_ = 0;  // remote endpoints in the last Apply
  std::vector<DesiredNetwork> networks_;
  pipeline::Counters counters_;
  io::IoCounters io_counters_;
  pipeline::ParkingLot unicast_parking_;
  pipeline::ParkingLot solicit_parking_;
  std::set<std::string> resolving_;  // "vni/mac" and "vni/ip" asked and not answered yet
  std::chrono::steady_clock::time_point next_port_retry_{};
  pipeline::FromPort from_port_;
  pipeline::LocalResponder responder_;
  pipeline::L2Forward l2_forward_;
  pipeline::VxlanEncap encap_;
  pipeline::FromTunnel from_tunnel_;
};

}  // namespace dove::dswitch::userspace
