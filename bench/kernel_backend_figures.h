// Figures of dove-switch's kernel backend for dswitch_bench (docs/benchmarks.md, "Issue 15:
// kernel backend"): the time from a miss to the installed entry, and a flood of misses.
//
// Both send from a VM's namespace through an AF_PACKET socket on its eth0 (no process started
// per packet, so the clock starts at the send itself) ARP requests for IPs the VM never asked
// for: the kernel's vxlan device behind the VM's bridge has no neighbour entry for them, so
// its `proxy` + `l3miss` send an RTM_GETNEIGH miss to dove-switch, which resolves it through
// the controller and installs a PERMANENT neighbour entry. MeasureMissToEntry watches for that
// entry with a NeighListener (src/netlink/neigh_events.h) opened in the host's namespace.
// Root only (setns, AF_PACKET). Not thread-safe; errors are one sentence.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::bench {

// The sending VM: its namespace, its eth0's MAC and its IPv4 address.
struct MissSender {
  std::string ns;
  std::string mac;  // "02:00:00:00:03:01"
  std::string ip;   // "10.30.0.1"
};

struct MissLatency {
  std::vector<double> ms;          // one sample per target whose entry appeared in time
  int timed_out = 0;               // targets whose entry did not appear within the timeout
  uint64_t listener_overruns = 0;  // ENOBUFS on the listener (events lost: samples may be too)
};

// One ARP request per target, one target at a time: milliseconds from just before the send to
// the RTM_NEWNEIGH with NUD_PERMANENT for that IP seen in `host_ns` (any device: the switch
// installs it on its dvx<VNI>). Each target must be an IP the host has no entry for yet.
Expected<MissLatency, std::string> MeasureMissToEntry(const std::string& host_ns,
                                                      const MissSender& sender,
                                                      const std::vector<std::string>& targets,
                                                      std::chrono::milliseconds timeout);

// A running flood: ARP requests for distinct never-known IPs (10.200.0.0 upwards), `rate` per
// second in 1 ms batches, from `sender` until Stop(). Sent() counts what sendto accepted.
class MissFlood {
 public:
  static Expected<std::unique_ptr<MissFlood>, std::string> Start(const MissSender& sender,
                                                                 int rate);
  ~MissFlood();  // Stop()
  MissFlood(const MissFlood&) = delete;
  MissFlood& operator=(const MissFlood&) = delete;
  void Stop();
  uint64_t Sent() const;
  double Seconds() const;  // from Start to Stop (or now)

 private:
  MissFlood() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dove::bench
