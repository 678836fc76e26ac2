// EtcdCluster: a real etcd cluster (Debian's etcd-server, /usr/bin/etcd) run as child processes,
// n members forming one new cluster. dove-lab runs one for its controller replicas
// (`--controllers N`: the members in the lab's namespace "P etcd" on the management network);
// the tests of the etcd store and of replicas run theirs on loopback (tests/support/etcd_cluster.h
// is this class).
//
// Start(n, options) starts the members and waits until every one answers GET /health with
// "true" (a leader is elected), asked on each member's plain-HTTP metrics port, so it works with
// TLS on the client port too. Where they listen: Options::addresses (one per member), or by
// default 127.0.0.1 with free ports. Options::netns: the members run in that network namespace
// (/run/netns/NAME, entered with setns between fork and exec) and are asked for their health
// from inside it. Options::https serves the client URLs as https:// (pass the certificate flags
// in Options::member_args). Each member logs to DIR/m<i>.log (Log(i)) and keeps its data in
// DIR/m<i> (DataDir(i)); DIR is Options::dir, or a fresh temporary directory the destructor
// removes. The members run with short heartbeats and elections (100 ms / 1 s: loaded CI
// machines need the margin), so a lost leader is replaced within about a second.
//
// Kill(i) sends SIGKILL and reaps; Restart(i) starts the member again on the same addresses and
// data (it rejoins) and waits for its health: what a test of failures needs.
//
// Cleanup: the destructor kills every member (SIGKILL) and reaps it. With
// Options::die_with_parent (the default) each member also gets SIGKILL when the thread that
// started it exits (PR_SET_PDEATHSIG), so even a crashing test leaves no etcd behind: start and
// restart members from a thread that lives as long as the cluster (the main thread). Release()
// forgets the members without killing them (dove-lab --keep; then die_with_parent must be off).
//
// Errors: one sentence naming the member and the end of its log. Not thread-safe: use from one
// thread.
//
//   auto cluster = EtcdCluster::Start(3);
//   if (!cluster) return Unexpected(cluster.error());
//   options.endpoints = (*cluster)->Endpoints();   // "http://127.0.0.1:P1,http://..."
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::lab {

inline constexpr const char* kEtcdBinary = "/usr/bin/etcd";

class EtcdCluster {
 public:
  // Where one member listens.
  struct MemberAddress {
    std::string ip;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;  // plain HTTP: /health and /metrics
  };

  struct Options {
    std::vector<std::string> member_args{};  // more flags for every member
    bool https = false;                      // client URLs are https://
    std::chrono::milliseconds timeout = std::chrono::seconds(20);
    // One per member; empty: 127.0.0.1 with ports nobody listens on.
    std::vector<MemberAddress> addresses{};
    // The network namespace the members run in; empty: this process's.
    std::string netns{};
    // Data and logs; empty: a fresh directory under $TMPDIR, removed by the destructor. A given
    // directory is created when missing and left in place.
    std::filesystem::path dir{};
    bool die_with_parent = true;  // PR_SET_PDEATHSIG, see above
  };

  static Expected<std::unique_ptr<EtcdCluster>, std::string> Start(int members);
  static Expected<std::unique_ptr<EtcdCluster>, std::string> Start(int members, Options options);

  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster();  // kills every member, removes a directory it made

  int size() const { return static_cast<int>(members_.size()); }
  // Member i's client URL ("http://IP:PORT").
  std::string Endpoint(int i) const;
  // Every member's client URL, comma-separated (what --etcd-endpoints takes).
  std::string Endpoints() const;
  const MemberAddress& Address(int i) const { return members_[i].address; }
  bool Running(int i) const { return members_[i].pid > 0; }
  pid_t Pid(int i) const { return members_[i].pid; }
  // Member i's data directory (its database is member/snap/db in it).
  std::filesystem::path DataDir(int i) const;
  std::string LogPath(int i) const;
  std::string Log(int i) const;  // the whole log

  // Sends `signal` to member i (SIGSTOP: it stops answering, as if cut off; SIGCONT: back);
  // nothing when it is not running.
  void Signal(int i, int signal) const;
  // SIGKILL and reap; nothing when the member is not running.
  void Kill(int i);
  // Starts a killed member again (same addresses, same data) and waits until it is healthy.
  Expected<void, std::string> Restart(int i,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // The running member that is the leader now (etcd_server_is_leader on /metrics), or -1.
  int Leader() const;
  // Whether member i answers GET /health with "true" now (it sees a leader).
  bool Healthy(int i) const;
  // Waits until every running member is healthy.
  Expected<void, std::string> WaitHealthy(std::chrono::milliseconds timeout);
  // Forgets every member without signalling it (they keep running).
  void Release();

 private:
  struct Member {
    std::string name;
    MemberAddress address;
    pid_t pid = -1;
  };

  explicit EtcdCluster(Options options) : options_(std::move(options)) {}

  std::string PeerUrl(int i) const;
  Expected<void, std::string> Launch(int i);
  Expected<void, std::string> WaitMemberHealthy(int i, std::chrono::milliseconds timeout);
  // GET `path` on member i's metrics port over plain HTTP/1.0: the whole answer, or "".
  std::string Get(int i, const std::string& path) const;

  Options options_;
  std::filesystem::path dir_;
  bool own_dir_ = false;
  std::vector<Member> members_;
};

}  // namespace dove::lab
