// SwitchApp: dove-switch put together. The agent (ControllerClient) keeps the cache the
// controller fills; each change becomes a DesiredDelta for the data plane (after a catch-up
// completes, never half-way through one); the data plane runs on its own thread: the userspace
// Datapath (backend "userspace") or the KernelBackend (backend "kernel"); the control socket
// and /metrics read snapshots of both, in one shape (userspace::DatapathStatus) for either.
//
// RunSwitch() blocks until SIGTERM or SIGINT (which it handles itself) and returns the exit
// code: 0 after a clean stop, 1 when a part could not start (the reason on stderr).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "dswitch/agent/client_options.h"
#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::app {

struct SwitchConfig {
  std::string name;
  std::string tunnel_ip;  // IPv4: this switch's VTEP
  std::vector<std::string> controllers;
  std::string backend = "userspace";
  bool plaintext = false;
  agent::ClientTls tls{};
  std::string control_socket;  // unix socket path for dovectl switch ...
  std::string metrics_listen;  // ADDR:PORT of /metrics; empty: none
  uint16_t vxlan_port = 4789;
  bool kernel_udp_checksum = false;                // backend kernel: KernelOptions::udp_checksum
  std::chrono::milliseconds stats_interval{5000};  // StatsSummary to the controller
  // userspace::DatapathOptions::poll_after_traffic: polling on after traffic before sleeping.
  std::chrono::microseconds poll_after_traffic{userspace::DatapathOptions{}.poll_after_traffic};
  // The lease DHCP gives the ports (option 51).
  uint32_t dhcp_lease_seconds = userspace::DatapathOptions{}.dhcp_lease_seconds;
  // userspace::DatapathOptions::redirect_grace: how long a moved-away VM's frames are sent on.
  std::chrono::milliseconds redirect_grace{userspace::DatapathOptions{}.redirect_grace};
  // The underlay MTU; 0: that of the interface holding tunnel_ip (1500 when none does). The
  // overlay MTU is 50 bytes less.
  uint32_t underlay_mtu = 0;
  // Backend kernel (dswitch/kernel/kernel_backend.h): leave the devices on stop; the miss
  // token bucket.
  bool kernel_keep_on_exit = false;
  double kernel_miss_rate = 1000;
  double kernel_miss_burst = 200;
};

int RunSwitch(const SwitchConfig& config);

}  // namespace dove::dswitch::app
