// EtcdCluster: real etcd members (Debian's etcd-server, /usr/bin/etcd) started as child
// processes on loopback, for tests of the etcd store and of controller replicas.
//
// Start(n) picks free loopback ports, starts n members as one new cluster in a TempDir and
// waits until every member answers GET /health with "true" (a leader is elected; asked on
// each member's plain-HTTP metrics port, so it works with TLS on the client port too).
// Options.https serves the client URLs as https:// (pass the certificate flags in
// Options.member_args, e.g. --cert-file, --key-file, --client-cert-auth, --trusted-ca-file). Each
// member logs to <dir>/m<i>.log (Log(i) returns it, for failure messages). Kill(i) sends SIGKILL;
// Restart(i) starts the member again on the same ports and data directory (it rejoins);
// both are what a test of failures needs. The members run with short heartbeats and
// elections (100 ms / 1 s; loaded CI machines need the margin), so that a lost leader is
// replaced within about a second.
//
// Cleanup: the destructor kills every member with SIGKILL and reaps it, and each member is
// started with PR_SET_PDEATHSIG, so that even a crashing test leaves no etcd behind. Not
// thread-safe; use from the test's thread.
//
//   auto cluster = EtcdCluster::Start(3);
//   ASSERT_TRUE(cluster) << cluster.error();
//   options.endpoints = (*cluster)->Endpoints();   // "http://127.0.0.1:P1,http://..."
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "support/temp_dir.h"

namespace dove::test_support {

inline constexpr const char* kEtcdBinary = "/usr/bin/etcd";

class EtcdCluster {
 public:
  struct Options {
    std::vector<std::string> member_args;  // more flags for every member
    bool https = false;                    // client URLs are https://
    std::chrono::milliseconds timeout = std::chrono::seconds(20);
  };

  static Expected<std::unique_ptr<EtcdCluster>, std::string> Start(int members) {
    return Start(members, Options{});
  }

  static Expected<std::unique_ptr<EtcdCluster>, std::string> Start(int members, Options options) {
    if (::access(kEtcdBinary, X_OK) != 0) {
      return Unexpected(std::string(kEtcdBinary) +
                        " is missing: install etcd-server (scripts/install-deps does)");
    }
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(std::move(options)));
    std::vector<int> ports = DistinctFreePorts(3 * members);
    for (int i = 0; i < members; ++i) {
      cluster->members_.push_back(
          Member{"m" + std::to_string(i), ports[3 * i], ports[3 * i + 1], ports[3 * i + 2], -1});
    }
    for (int i = 0; i < members; ++i) {
      if (auto started = cluster->Launch(i); !started) return Unexpected(started.error());
    }
    if (auto healthy = cluster->WaitHealthy(cluster->options_.timeout); !healthy) {
      return Unexpected(healthy.error());
    }
    return cluster;
  }

  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster() {
    for (size_t i = 0; i < members_.size(); ++i) Kill(static_cast<int>(i));
  }

  int size() const { return static_cast<int>(members_.size()); }
  std::string Endpoint(int i) const {
    return std::string(options_.https ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(members_[i].client_port);
  }
  // Every member's client URL, comma-separated (what --etcd-endpoints takes).
  std::string Endpoints() const {
    std::string list;
    for (int i = 0; i < size(); ++i) list += (i == 0 ? "" : ",") + Endpoint(i);
    return list;
  }
  bool Running(int i) const { return members_[i].pid > 0; }
  // Member i's data directory (its database is member/snap/db in it).
  std::filesystem::path DataDir(int i) const { return dir_.path() / members_[i].name; }

  // Sends `signal` to member i (SIGSTOP: it stops answering, as if cut off; SIGCONT: back);
  // nothing when it is not running.
  void Signal(int i, int signal) const {
    if (members_[i].pid > 0) ::kill(members_[i].pid, signal);
  }

  // SIGKILL and reap; nothing when the member is not running.
  void Kill(int i) {
    Member& member = members_[i];
    if (member.pid <= 0) return;
    ::kill(member.pid, SIGKILL);
    int status = 0;
    ::waitpid(member.pid, &status, 0);
    member.pid = -1;
  }

  // Starts a killed member again (same ports, same data) and waits until it is healthy.
  Expected<void, std::string> Restart(
      int i, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    if (Running(i)) return Unexpected("member " + members_[i].name + " is running");
    if (auto started = Launch(i); !started) return started;
    return WaitMemberHealthy(i, timeout);
  }

  // The running member that is the leader now (from etcd_server_is_leader on /metrics), or -1.
  int Leader() const {
    for (int i = 0; i < size(); ++i) {
      if (Running(i) &&
          Get(members_[i].metrics_port, "/metrics").find("\netcd_server_is_leader 1") !=
              std::string::npos) {
        return i;
      }
    }
    return -1;
  }

  // Waits until every running member reports itself healthy (it sees a leader).
  Expected<void, std::string> WaitHealthy(std::chrono::milliseconds timeout) {
    for (int i = 0; i < size(); ++i) {
      if (!Running(i)) continue;
      if (auto healthy = WaitMemberHealthy(i, timeout); !healthy) return healthy;
    }
    return {};
  }

  std::string Log(int i) const {
    std::ifstream in(dir_.path() / (members_[i].name + ".log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  struct Member {
    std::string name;
    int client_port;
    int peer_port;
    int metrics_port;  // plain HTTP: /health and /metrics
    pid_t pid;
  };

  explicit EtcdCluster(Options options) : options_(std::move(options)) {}

  std::string PeerUrl(int i) const {
    return "http://127.0.0.1:" + std::to_string(members_[i].peer_port);
  }

  Expected<void, std::string> Launch(int i) {
    Member& member = members_[i];
    std::string initial_cluster;
    for (int j = 0; j < size(); ++j) {
      initial_cluster += (j == 0 ? "" : ",") + members_[j].name + "=" + PeerUrl(j);
    }
    std::vector<std::string> args = {
        kEtcdBinary,
        "--name=" + member.name,
        "--data-dir=" + (dir_.path() / member.name).string(),
        "--listen-client-urls=" + Endpoint(i),
        "--advertise-client-urls=" + Endpoint(i),
        "--listen-peer-urls=" + PeerUrl(i),
        "--initial-advertise-peer-urls=" + PeerUrl(i),
        "--initial-cluster=" + initial_cluster,
        "--initial-cluster-state=new",
        "--initial-cluster-token=dove-test-" + std::to_string(::getpid()),
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        "--logger=zap",
        "--log-outputs=stderr",
        "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(member.metrics_port),
    };
    args.insert(args.end(), options_.member_args.begin(), options_.member_args.end());
    const std::string log = (dir_.path() / (member.name + ".log")).string();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Unexpected("fork: " + std::string(std::strerror(errno)));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the test died before prctl
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
      }
      std::vector<char*> argv;
      argv.reserve(args.size() + 1);
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      ::execv(kEtcdBinary, argv.data());
      ::_exit(127);
    }
    member.pid = pid;
    return {};
  }

  Expected<void, std::string> WaitMemberHealthy(int i, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(members_[i].pid, &status, WNOHANG) == members_[i].pid) {
        members_[i].pid = -1;
        return Unexpected("etcd member " + members_[i].name + " exited; its log:\n" + Log(i));
      }
      if (Healthy(members_[i].metrics_port)) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Unexpected("etcd member " + members_[i].name + " not healthy after " +
                      std::to_string(timeout.count()) + " ms; its log:\n" + Log(i));
  }

  static bool Healthy(int port) {
    return Get(port, "/health").find("\"health\":\"true\"") != std::string::npos;
  }

  // `count` loopback ports nobody listens on, all different: each bound to an ephemeral port
  // and held until all are chosen (one at a time, the kernel may hand out the same one twice).
  static std::vector<int> DistinctFreePorts(int count) {
    std::vector<int> fds;
    std::vector<int> ports;
    for (int i = 0; i < count; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
      socklen_t length = sizeof(address);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
      fds.push_back(fd);
      ports.push_back(ntohs(address.sin_port));
    }
    for (int fd : fds) ::close(fd);
    return ports;
  }

  // GET `path` on a member's metrics port (plain HTTP/1.0): the whole answer, or "".
  static std::string Get(int port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
        char buffer[512];
        ssize_t got = 0;
        while ((got = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) answer.append(buffer, got);
      }
    }
    ::close(fd);
    return answer;
  }

  Options options_;
  TempDir dir_{"dove-etcd"};
  std::vector<Member> members_;
};

}  // namespace dove::test_support
