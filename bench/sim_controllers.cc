#include "sim_controllers.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace dove::bench {
namespace {

using test_support::ControllerProcess;
using test_support::EtcdCluster;

// Whether `binary --help` mentions `text` (so flags that appear later are passed only then).
bool HelpMentions(const std::string& binary, const std::string& text) {
  const std::string command = "'" + binary + "' --help 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  std::string help;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) help.append(buffer, got);
  ::pclose(pipe);
  return help.find(text) != std::string::npos;
}

std::string Tail(const std::string& text, size_t size) {
  return text.size() > size ? text.substr(text.size() - size) : text;
}

}  // namespace

Expected<std::unique_ptr<ControllerSet>, std::string> ControllerSet::Start(
    Options options, std::chrono::milliseconds ready_timeout) {
  if (options.replicas < 1) return Unexpected(std::string("replicas must be >= 1"));
  if (options.replicas > 1 && !options.etcd) {
    return Unexpected(std::string("several replicas share one store: etcd is needed"));
  }
  std::unique_ptr<ControllerSet> set(new ControllerSet(std::move(options)));
  // TLS on the southbound is coming: a plaintext southbound will then need this flag.
  set->plaintext_flag_ = HelpMentions(set->options_.binary, "--southbound-plaintext");
  if (set->options_.etcd) {
    // etcd's default 2 GB backend quota, and no auto-compaction: the controller compacts.
    // Replicas get three members (a quorum that survives one), one controller one member.
    auto etcd = EtcdCluster::Start(set->options_.replicas > 1 ? 3 : 1);
    if (!etcd) return Unexpected("etcd: " + etcd.error());
    set->etcd_ = std::move(*etcd);
  }
  const std::vector<int> free(static_cast<size_t>(set->options_.replicas), 0);
  if (auto started = set->StartReplicas(free, free, ready_timeout); !started) {
    return Unexpected(started.error());
  }
  return set;
}

ControllerSet::~ControllerSet() { KillAll(); }

std::vector<pid_t> ControllerSet::Pids() const {
  std::vector<pid_t> pids;
  for (const auto& each : replicas_) pids.push_back(each->pid());
  return pids;
}

std::vector<std::string> ControllerSet::Args(int r, int api_port, int southbound_port) const {
  std::vector<std::string> args = {"--listen", "127.0.0.1:" + std::to_string(api_port),
                                   "--southbound", "127.0.0.1:" + std::to_string(southbound_port)};
  if (etcd_ != nullptr) {
    args.insert(args.end(), {"--store", "etcd", "--etcd-endpoints", etcd_->Endpoints(),
                             "--etcd-prefix", options_.etcd_prefix});
    if (!options_.cache_dir.empty()) {
      args.insert(args.end(), {"--cache-dir",
                               (options_.cache_dir / ("replica-" + std::to_string(r))).string()});
    }
  } else {
    args.insert(args.end(), {"--data-dir", options_.data_dir.string()});
  }
  if (plaintext_flag_) args.emplace_back("--southbound-plaintext");
  args.insert(args.end(), options_.extra.begin(), options_.extra.end());
  return args;
}

Expected<void, std::string> ControllerSet::StartReplicas(const std::vector<int>& api_ports,
                                                         const std::vector<int>& southbound_ports,
                                                         std::chrono::milliseconds ready_timeout) {
  // Forked here, not from helper threads: a child's PR_SET_PDEATHSIG fires when the thread
  // that forked it ends. They start together; the waits for their ready lines overlap.
  const size_t count = api_ports.size();
  std::vector<Expected<std::unique_ptr<ControllerProcess>, std::string>> results;
  results.reserve(count);
  for (size_t r = 0; r < count; ++r) {
    results.push_back(ControllerProcess::Launch(ControllerProcess::Options{
        .args = Args(static_cast<int>(r), api_ports[r], southbound_ports[r]),
        .env = {},
        .ready_timeout = ready_timeout,
        .binary = options_.binary}));
  }
  for (auto& result : results) {
    if (!result) continue;
    if (auto ready = (*result)->WaitReady(); !ready) result = Unexpected(ready.error());
  }
  replicas_.clear();
  std::string errors;
  for (size_t r = 0; r < count; ++r) {
    auto& result = results[r];
    if (result) {
      replicas_.push_back(std::move(*result));
    } else {
      errors +=
          (errors.empty() ? "" : "\n") + ("replica " + std::to_string(r) + ": ") + result.error();
    }
  }
  if (!errors.empty()) {
    KillAll();
    return Unexpected(errors);
  }
  return {};
}

Expected<void, std::string> ControllerSet::Restart(int signal, RestartOptions restart,
                                                   std::chrono::milliseconds timeout) {
  std::vector<int> api_ports(replicas_.size(), 0);
  std::vector<int> southbound_ports(replicas_.size(), 0);
  for (size_t r = 0; r < replicas_.size(); ++r) {
    if (restart.same_ports) {
      api_ports[r] = replicas_[r]->port();
      southbound_ports[r] = replicas_[r]->southbound_port();
    }
    replicas_[r]->Signal(signal);
  }
  for (size_t r = 0; r < replicas_.size(); ++r) {
    if (!replicas_[r]->WaitForExit(timeout)) {
      return Unexpected("replica " + std::to_string(r) + " did not exit within " +
                        std::to_string(timeout.count()) + " ms of signal " +
                        std::to_string(signal));
    }
  }
  return StartReplicas(api_ports, southbound_ports, restart.ready_timeout);
}

Expected<void, std::string> ControllerSet::Stop(int r, int signal,
                                                std::chrono::milliseconds timeout) {
  ControllerProcess& each = replica(r);
  each.Signal(signal);
  if (!each.WaitForExit(timeout)) {
    return Unexpected("replica " + std::to_string(r) + " did not exit within " +
                      std::to_string(timeout.count()) + " ms of signal " + std::to_string(signal));
  }
  return {};
}

Expected<void, std::string> ControllerSet::StartAgain(int r,
                                                      std::chrono::milliseconds ready_timeout) {
  // Forked from the caller's thread, as in StartReplicas (PR_SET_PDEATHSIG).
  const ControllerProcess& old = replica(r);
  auto started = ControllerProcess::Launch(
      ControllerProcess::Options{.args = Args(r, old.port(), old.southbound_port()),
                                 .env = {},
                                 .ready_timeout = ready_timeout,
                                 .binary = options_.binary});
  if (!started) return Unexpected("replica " + std::to_string(r) + ": " + started.error());
  if (auto ready = (*started)->WaitReady(); !ready) {
    return Unexpected("replica " + std::to_string(r) + ": " + ready.error());
  }
  replicas_[static_cast<size_t>(r)] = std::move(*started);
  return {};
}

Expected<std::vector<int64_t>, std::string> ControllerSet::EtcdLeases() const {
  if (etcd_ == nullptr) return Unexpected(std::string("no etcd"));
  // "found N leases" and then one id (hex) a line.
  const std::string command =
      "ETCDCTL_API=3 etcdctl --endpoints='" + etcd_->Endpoints() + "' lease list 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return Unexpected("cannot run etcdctl: " + std::string(std::strerror(errno)));
  std::string output;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, got);
  const int status = ::pclose(pipe);
  if (status != 0 || output.rfind("found ", 0) != 0) {
    return Unexpected("etcdctl lease list: " + Tail(output, 400));
  }
  std::vector<int64_t> leases;
  size_t at = output.find('\n');
  while (at != std::string::npos && at + 1 < output.size()) {
    const size_t end = output.find('\n', at + 1);
    const std::string line = output.substr(at + 1, end == std::string::npos ? end : end - at - 1);
    if (!line.empty())
      leases.push_back(static_cast<int64_t>(std::strtoull(line.c_str(), nullptr, 16)));
    at = end;
  }
  return leases;
}

std::optional<std::string> ControllerSet::Exited() {
  for (size_t r = 0; r < replicas_.size(); ++r) {
    ControllerProcess& each = *replicas_[r];
    const pid_t pid = each.pid();
    if (pid <= 0) continue;
    if (auto status = each.WaitForExit(std::chrono::milliseconds(0)); status) {
      const std::string who = replicas_.size() == 1 ? std::string("the controller")
                                                    : "replica " + std::to_string(r) + " (pid " +
                                                          std::to_string(pid) + ")";
      return who + " exited (wait status " + std::to_string(*status) + "); log tail:\n" +
             Tail(each.Log(), 4000);
    }
  }
  return std::nullopt;
}

void ControllerSet::KillAll() {
  for (auto& each : replicas_) each->KillNow();
  if (etcd_ != nullptr) {
    for (int i = 0; i < etcd_->size(); ++i) etcd_->Kill(i);
  }
}

void ControllerSet::RemoveFiles() const {
  std::error_code ignored;
  for (const auto& each : replicas_) std::filesystem::remove_all(each->LogDir(), ignored);
  if (etcd_ != nullptr) std::filesystem::remove_all(etcd_->DataDir(0).parent_path(), ignored);
}

std::string ControllerSet::Logs() const {
  std::string logs;
  for (const auto& each : replicas_) logs += each->Log();
  return logs;
}

}  // namespace dove::bench
