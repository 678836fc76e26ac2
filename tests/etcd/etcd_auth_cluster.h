// The etcd of the auth tests (etcd_auth_test.cc, and the Store conformance suite as user dove
// in etcd_store_test.cc): one member with user/password authentication enabled by etcdctl
// (user root with role root; user dove whose role dove may read and write every key starting
// with "/auth-"; `auth enable`) and simple tokens dropped after kTokenTtlSeconds unused
// (--auth-token-ttl). Started on first use, shared by the binary, killed at exit (EtcdCluster).
// Use from the test thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/etcd_store.h"
#include "support/etcd_cluster.h"

namespace dove::test_support {

inline constexpr int kTokenTtlSeconds = 2;
inline constexpr const char* kRootPassword = "root-secret";
inline constexpr const char* kDovePassword = "dove secret, with spaces";

// `etcdctl ARGS` (v3 API) against `endpoint`: its exit status and output. The arguments are
// the tests' own (no single quote in them).
inline std::pair<int, std::string> Etcdctl(const std::string& endpoint,
                                           const std::vector<std::string>& args) {
  std::string command = "ETCDCTL_API=3 etcdctl --dial-timeout=5s --endpoints=" + endpoint;
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A one-member etcd with authentication enabled: root (role root) and dove (role dove:
// readwrite on every key starting with "/auth-"). nullptr after ADD_FAILURE.
inline EtcdCluster* AuthCluster() {
  static std::unique_ptr<EtcdCluster> cluster;
  if (cluster) return cluster.get();
  EtcdCluster::Options options;
  options.member_args = {"--auth-token-ttl=" + std::to_string(kTokenTtlSeconds)};
  auto started = EtcdCluster::Start(1, options);
  if (!started) {
    ADD_FAILURE() << started.error();
    return nullptr;
  }
  const std::string endpoint = (*started)->Endpoint(0);
  const std::vector<std::vector<std::string>> setup = {
      {"user", "add", std::string("root:") + kRootPassword},
      {"user", "grant-role", "root", "root"},
      {"user", "add", std::string("dove:") + kDovePassword},
      {"role", "add", "dove"},
      {"role", "grant-permission", "dove", "--prefix=true", "readwrite", "/auth-"},
      {"user", "grant-role", "dove", "dove"},
      {"auth", "enable"},
  };
  for (const auto& step : setup) {
    auto [code, output] = Etcdctl(endpoint, step);
    if (code != 0) {
      ADD_FAILURE() << "etcdctl " << step[0] << " " << step[1] << ": " << output;
      return nullptr;
    }
  }
  cluster = std::move(*started);
  return cluster.get();
}

inline std::string FreshAuthPrefix() {
  static std::atomic<int> next{0};
  return "/auth-" + std::to_string(::getpid()) + "-" + std::to_string(next++) + "/";
}

inline store::EtcdStore::Options DoveOptions(const EtcdCluster& cluster) {
  store::EtcdStore::Options options;
  options.endpoints = cluster.Endpoints();
  options.key_prefix = FreshAuthPrefix();
  options.deadline = std::chrono::milliseconds(3000);
  options.user = "dove";
  options.password = kDovePassword;
  return options;
}

inline std::unique_ptr<store::Store> OpenAsDove() {
  EtcdCluster* cluster = AuthCluster();
  if (cluster == nullptr) return nullptr;
  auto store = store::EtcdStore::Open(DoveOptions(*cluster));
  if (!store) {
    ADD_FAILURE() << store.error().Describe();
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace dove::test_support
