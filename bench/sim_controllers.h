// ControllerSet: the dove-controller processes bench/switch_sim drives, and the etcd they share.
//
// One controller on SQLite (the default), one on a one-member etcd (--etcd), or N replicas on
// one etcd prefix (--replicas N > 1: a 3-member etcd cluster, so the replicas' store is what a
// production deployment runs). Each replica has its own API and southbound ports (picked free
// at the first start, kept by Restart(.same_ports = true)) and its own log; with etcd no
// replica has a data directory (dove-controller refuses --data-dir with --store etcd).
//
// Errors: Start, Restart, Stop and StartAgain return the first controller's or etcd's failure as
// text (the processes already started are killed by the destructor). Exited() names a replica that
// died. Cleanup: the destructor and KillAll() SIGKILL every controller and every etcd member and
// reap them; every child also dies with the simulator (PR_SET_PDEATHSIG, set by
// ControllerProcess and EtcdCluster). KillAll() and RemoveFiles() are what switch_sim's Die()
// calls before _Exit.
// Threading: not thread-safe; Start/Restart start the replicas in parallel internally.
//
//   auto set = ControllerSet::Start({.binary = bin, .replicas = 3, .etcd = true});
//   if (!set) Die(set.error());
//   int api_port = (*set)->replica(0).port();
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "support/controller_process.h"
#include "support/etcd_cluster.h"

namespace dove::bench {

class ControllerSet {
 public:
  struct Options {
    std::string binary;
    int replicas = 1;                // >= 1; > 1 needs etcd
    bool etcd = false;               // the store is etcd (a one-member cluster for 1 replica)
    std::filesystem::path data_dir;  // SQLite only: the one controller's data directory
    // etcd only: replica r keeps its index cache in cache_dir/replica-r (--cache-dir); empty:
    // none (every start reads etcd whole).
    std::filesystem::path cache_dir;
    std::vector<std::string> extra;  // more flags for every controller (--controller-arg)
    std::string etcd_prefix = "/switch-sim/";
  };
  // How a restart starts the replicas again.
  struct RestartOptions {
    bool same_ports = false;  // the API and southbound ports they had (a restarted controller)
    std::chrono::milliseconds ready_timeout{120000};
  };

  // Starts the etcd (when options.etcd) and then every replica, in parallel; returns once each
  // printed its ready line.
  static Expected<std::unique_ptr<ControllerSet>, std::string> Start(
      Options options, std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));

  ControllerSet(const ControllerSet&) = delete;
  ControllerSet& operator=(const ControllerSet&) = delete;
  ~ControllerSet();

  int size() const { return static_cast<int>(replicas_.size()); }
  test_support::ControllerProcess& replica(int r) { return *replicas_[static_cast<size_t>(r)]; }
  const test_support::ControllerProcess& replica(int r) const {
    return *replicas_[static_cast<size_t>(r)];
  }
  std::vector<pid_t> Pids() const;
  // Null without etcd.
  const test_support::EtcdCluster* etcd() const { return etcd_.get(); }

  // Sends `signal` to every replica, waits up to `timeout` for all to exit, then starts them
  // all again (in parallel) on the same store. An error when one did not exit or not start.
  Expected<void, std::string> Restart(int signal, RestartOptions restart,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // One replica killed and started again, the others serving on (a replica failing over).
  // Stop sends `signal` to replica r and waits up to `timeout` for it to exit (reaped: Exited()
  // does not report it; Logs() still has its log). StartAgain starts it on the API and
  // southbound ports it had, on the same store, and returns once it printed its ready line; its
  // new log replaces the old one. An error when it did not exit or not start.
  Expected<void, std::string> Stop(int r, int signal,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Expected<void, std::string> StartAgain(
      int r, std::chrono::milliseconds ready_timeout = std::chrono::seconds(120));

  // The ids of the leases etcd holds now (`etcdctl lease list`): each replica holds one for
  // its switches' session keys, so a killed replica's lease is gone from here once etcd has
  // expired it. An error without etcd or when etcdctl fails.
  Expected<std::vector<int64_t>, std::string> EtcdLeases() const;

  // A replica that has exited since it was started: "replica R (pid P) exited (wait status S);
  // log tail: ..."; nullopt while all run. Reaps it.
  std::optional<std::string> Exited();

  // SIGKILL every controller and etcd member and reap them (idempotent).
  void KillAll();
  // Removes the replicas' logs and etcd's data directory, for a process about to exit without
  // running destructors (switch_sim's Die); call after KillAll().
  void RemoveFiles() const;

  // Every line the replicas logged so far, concatenated (for counting log events).
  std::string Logs() const;

 private:
  explicit ControllerSet(Options options) : options_(std::move(options)) {}

  // The controller's command line (after the binary) for replica r; ports "0" pick free ones.
  std::vector<std::string> Args(int r, int api_port, int southbound_port) const;
  // Starts every replica, in parallel, on these ports (0: free ones).
  Expected<void, std::string> StartReplicas(const std::vector<int>& api_ports,
                                            const std::vector<int>& southbound_ports,
                                            std::chrono::milliseconds ready_timeout);

  Options options_;
  bool plaintext_flag_ = false;  // the binary knows --southbound-plaintext
  std::unique_ptr<test_support::EtcdCluster> etcd_;
  std::vector<std::unique_ptr<test_support::ControllerProcess>> replicas_;
};

}  // namespace dove::bench
