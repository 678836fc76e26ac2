// The command line of bench/switch_sim: its options, their defaults and --help.
//
// ParseOptions reads argv (--help prints the usage and exits 0; --quick sets the small sizes of
// the ctest smoke, and the flags after it still apply). Errors: an unknown flag, a flag without
// its value, a number out of range or a CPU the machine does not have, as text naming the flag;
// nothing else is checked here (the layout's limits are the simulator's).
#pragma once

#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::bench {

struct Options {
  int switches = 1000;
  int endpoints = 100;  // per switch
  int per_network = 100;
  int spread = 10;  // switches a network's endpoints are spread over
  int domains = 1;  // tenants: the networks split into this many domains of consecutive networks
  int resolve_rate = 10000;
  int resolve_seconds = 10;
  int ip_percent = 50;  // share of ResolveIp among the resolves
  int moves = 200;
  double move_rate = -1;  // moves started per second; 0: back to back; < 0: spread over the
                          // resolve phase (moves / resolve_seconds)
  int cachers = 10;
  int attaches = 2000;     // unplaced endpoints that switches attach (each a store write)
  int attach_rate = 1000;  // per second, open loop
  int probes = 1000;       // resolves of each refused / nonexistent kind
  int fill_clients = 8;
  int fill_replicas = 0;  // the fill's clients go through the first K replicas; 0: all
  std::string controller_bin;
  std::vector<std::string> controller_args;  // extra flags, e.g. --switch-dead-after-ms 60000
  std::vector<int> controller_cpus;          // empty: not pinned
  std::vector<int> sim_cpus;
  std::string latency_log;      // empty: none
  std::string controller_logs;  // empty: none
  bool etcd = false;            // the controller's state in a one-member etcd instead of SQLite
  int replicas = 1;             // > 1: that many controllers on a 3-member etcd (implies etcd)
  int failover_seconds = 3;     // replicas: the open-loop load around the kill of one; 0: no
                                // failover phase
  bool index_cache = true;      // etcd: each replica gets a --cache-dir
};

Expected<Options, std::string> ParseOptions(int argc, char** argv);

}  // namespace dove::bench
