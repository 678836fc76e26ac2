#include "lab/etcd_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "lab/child_setup.h"
#include "lab/netns.h"

namespace dove::lab {
namespace {

namespace fs = std::filesystem;
using Error = Unexpected<std::string>;

// `count` loopback ports nobody listens on, all different: each bound to an ephemeral port and
// held until all are chosen (one at a time, the kernel may hand out the same one twice).
std::vector<int> DistinctFreePorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A failed bind leaves port 0: etcd then fails to listen and says so in its log.
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    fds.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (const int fd : fds) ::close(fd);
  return ports;
}

std::string HttpGet(const std::string& ip, int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + ip + "\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[512];
      ssize_t got = 0;
      while ((got = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        answer.append(buffer, static_cast<size_t>(got));
      }
    }
  }
  ::close(fd);
  return answer;
}

std::string LastBytes(const std::string& text, size_t bytes) {
  return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
}

}  // namespace

Expected<std::unique_ptr<EtcdCluster>, std::string> EtcdCluster::Start(int members) {
  return Start(members, Options{});
}

Expected<std::unique_ptr<EtcdCluster>, std::string> EtcdCluster::Start(int members,
                                                                       Options options) {
  if (::access(kEtcdBinary, X_OK) != 0) {
    return Error(std::string(kEtcdBinary) +
                 " is missing: install etcd-server (scripts/install-deps does)");
  }
  if (members < 1) return Error("an etcd cluster needs at least one member");
  if (!options.addresses.empty() && static_cast<int>(options.addresses.size()) != members) {
    return Error("etcd cluster: " + std::to_string(options.addresses.size()) + " addresses for " +
                 std::to_string(members) + " members");
  }
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(std::move(options)));
  std::error_code error;
  if (cluster->options_.dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "dove-etcd-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    cluster->dir_ = pattern;
    cluster->own_dir_ = true;
  } else {
    cluster->dir_ = cluster->options_.dir;
    fs::create_directories(cluster->dir_, error);
    if (error) return Error("cannot create " + cluster->dir_.string() + ": " + error.message());
  }
  std::vector<MemberAddress> addresses = cluster->options_.addresses;
  if (addresses.empty()) {
    const std::vector<int> ports = DistinctFreePorts(3 * members);
    for (size_t i = 0; i < static_cast<size_t>(members); ++i) {
      addresses.push_back({"127.0.0.1", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]});
    }
  }
  for (int i = 0; i < members; ++i) {
    cluster->members_.push_back(Member{"m" + std::to_string(i), addresses[i], -1});
  }
  for (int i = 0; i < members; ++i) {
    if (auto started = cluster->Launch(i); !started) return Error(started.error());
  }
  if (auto healthy = cluster->WaitHealthy(cluster->options_.timeout); !healthy) {
    return Error(healthy.error());
  }
  return cluster;
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
  if (own_dir_) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

std::string EtcdCluster::Endpoint(int i) const {
  const MemberAddress& address = members_[i].address;
  return std::string(options_.https ? "https" : "http") + "://" + address.ip + ":" +
         std::to_string(address.client_port);
}

std::string EtcdCluster::Endpoints() const {
  std::string list;
  for (int i = 0; i < size(); ++i) list += (i == 0 ? "" : ",") + Endpoint(i);
  return list;
}

fs::path EtcdCluster::DataDir(int i) const { return dir_ / members_[i].name; }

std::string EtcdCluster::LogPath(int i) const {
  return (dir_ / (members_[i].name + ".log")).string();
}

std::string EtcdCluster::Log(int i) const {
  std::ifstream in(LogPath(i));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void EtcdCluster::Signal(int i, int signal) const {
  if (members_[i].pid > 0) ::kill(members_[i].pid, signal);
}

void EtcdCluster::Kill(int i) {
  Member& member = members_[i];
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGKILL);
  int status = 0;
  while (::waitpid(member.pid, &status, 0) < 0 && errno == EINTR) {
  }
  member.pid = -1;
}

Expected<void, std::string> EtcdCluster::Restart(int i, std::chrono::milliseconds timeout) {
  if (Running(i)) return Error("etcd member " + members_[i].name + " is running");
  if (auto started = Launch(i); !started) return started;
  return WaitMemberHealthy(i, timeout);
}

int EtcdCluster::Leader() const {
  for (int i = 0; i < size(); ++i) {
    if (Running(i) && Get(i, "/metrics").find("\netcd_server_is_leader 1") != std::string::npos) {
      return i;
    }
  }
  return -1;
}

bool EtcdCluster::Healthy(int i) const {
  return Running(i) && Get(i, "/health").find("\"health\":\"true\"") != std::string::npos;
}

Expected<void, std::string> EtcdCluster::WaitHealthy(std::chrono::milliseconds timeout) {
  for (int i = 0; i < size(); ++i) {
    if (!Running(i)) continue;
    if (auto healthy = WaitMemberHealthy(i, timeout); !healthy) return healthy;
  }
  return {};
}

void EtcdCluster::Release() {
  for (auto& member : members_) member.pid = -1;
}

std::string EtcdCluster::PeerUrl(int i) const {
  const MemberAddress& address = members_[i].address;
  return "http://" + address.ip + ":" + std::to_string(address.peer_port);
}

Expected<void, std::string> EtcdCluster::Launch(int i) {
  Member& member = members_[i];
  const MemberAddress& address = member.address;
  std::string initial_cluster;
  for (int j = 0; j < size(); ++j) {
    initial_cluster += (j == 0 ? "" : ",") + members_[j].name + "=" + PeerUrl(j);
  }
  std::vector<std::string> args = {
      kEtcdBinary,
      "--name=" + member.name,
      "--data-dir=" + DataDir(i).string(),
      "--listen-client-urls=" + Endpoint(i),
      "--advertise-client-urls=" + Endpoint(i),
      "--listen-peer-urls=" + PeerUrl(i),
      "--initial-advertise-peer-urls=" + PeerUrl(i),
      "--initial-cluster=" + initial_cluster,
      "--initial-cluster-state=new",
      "--initial-cluster-token=dove-" + std::to_string(::getpid()),
      "--heartbeat-interval=100",
      "--election-timeout=1000",
      "--logger=zap",
      "--log-outputs=stderr",
      "--listen-metrics-urls=http://" + address.ip + ":" + std::to_string(address.metrics_port),
  };
  args.insert(args.end(), options_.member_args.begin(), options_.member_args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log = LogPath(i);
  int netns_fd = -1;
  if (!options_.netns.empty()) {
    const std::string path = "/run/netns/" + options_.netns;
    netns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      return Error("etcd member " + member.name + ": cannot open " + path + ": " +
                   std::strerror(errno));
    }
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    if (netns_fd >= 0) ::close(netns_fd);
    return Error("etcd member " + member.name + ": fork: " + why);
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    if (options_.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    }
    PrepareChildAfterFork();  // a Ctrl-C in the terminal reaches the parent only
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) ::_exit(126);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execv(kEtcdBinary, argv.data());
    ::_exit(127);
  }
  if (netns_fd >= 0) ::close(netns_fd);
  member.pid = pid;
  return {};
}

Expected<void, std::string> EtcdCluster::WaitMemberHealthy(int i,
                                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Member& member = members_[i];
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(member.pid, &status, WNOHANG) == member.pid) {
      member.pid = -1;
      const std::string how = WIFEXITED(status) && WEXITSTATUS(status) == 126
                                  ? " (it could not enter network namespace " + options_.netns + ")"
                                  : "";
      return Error("etcd member " + member.name + " exited" + how + "; the end of its log " +
                   LogPath(i) + ":\n" + LastBytes(Log(i), 3000));
    }
    if (Healthy(i)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error("etcd member " + member.name + " not healthy after " +
               std::to_string(timeout.count()) + " ms; the end of its log " + LogPath(i) + ":\n" +
               LastBytes(Log(i), 3000));
}

std::string EtcdCluster::Get(int i, const std::string& path) const {
  const MemberAddress& address = members_[i].address;
  if (options_.netns.empty()) return HttpGet(address.ip, address.metrics_port, path);
  std::string answer;
  (void)RunInNetns(options_.netns,
                   [&] { answer = HttpGet(address.ip, address.metrics_port, path); });
  return answer;
}

}  // namespace dove::lab
