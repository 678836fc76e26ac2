// Helpers of the kernel routing integration tests (host_routing_test.cc,
// host_routing_icmp_test.cc): shell commands, their output, and VMs as network namespaces on
// veth ports of the host's bridges. Each test runs inside RunInNetworkNamespace (the host);
// the VMs' namespaces are named after the test process, so parallel runs never meet, and go
// with the Vm object (or with the process, when a test is killed, at the next `ip netns`).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dswitch/kernel/host_routing.h"
#include "dswitch/kernel/nft_session.h"
#include "unit/io/network_namespace.h"

namespace dove::dswitch::kernel::testing {

using dove::dswitch::io::testing::Shell;

// The standard output of `command` (run by /bin/sh).
inline std::string Output(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    out.append(buffer.data(), n);
  }
  return out;
}

// The parts, joined (shell commands built in loops).
inline std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto part : parts) out += part;
  return out;
}

inline bool Succeeds(const std::string& command) { return std::system(command.c_str()) == 0; }

// One VM: a namespace named after this process with eth0, whose peer `port` sits on `bridge`
// in the host namespace. With `host_neighbours`, the host gets a permanent neighbour entry for
// each address on the bridge (as if the L2 part had installed it); without, the kernel
// resolves the VM by ARP / ND as it would for a port the L2 part only enslaved.
class Vm {
 public:
  Vm(const std::string& name, const std::string& bridge, const std::string& mac,
     const std::vector<std::string>& addresses, const std::string& gateway4,
     const std::string& gateway6, bool host_neighbours = true)
      : netns_("kr" + std::to_string(::getpid()) + name), port_("v" + name) {
    Shell("ip netns add " + netns_);
    Shell("ip link add " + port_ + " type veth peer name eth0 netns " + netns_);
    Shell("ip link set " + port_ + " master " + bridge + " up");
    Shell(In("ip link set lo up && ip link set eth0 address " + mac + " up"));
    for (const auto& address : addresses) {
      const bool v6 = address.find(':') != std::string::npos;
      Shell(In("ip addr add " + address + " dev eth0" + (v6 ? " nodad" : "")));
      if (!host_neighbours) continue;
      const std::string ip = address.substr(0, address.find('/'));
      Shell("ip neigh replace " + ip + " lladdr " + mac + " dev " + bridge + " nud permanent");
    }
    if (!gateway4.empty()) Shell(In("ip route add default via " + gateway4));
    if (!gateway6.empty()) Shell(In("ip -6 route add default via " + gateway6));
  }
  ~Vm() { (void)std::system(("ip netns del " + netns_ + " 2>/dev/null").c_str()); }
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // `command` run by sh inside the VM (it must not contain a single quote).
  std::string In(const std::string& command) const {
    return "ip netns exec " + netns_ + " sh -c '" + command + "'";
  }
  const std::string& netns() const { return netns_; }
  const std::string& port() const { return port_; }

 private:
  std::string netns_;
  std::string port_;
};

// The packets counted so far by the counter `name` of our nftables tables (0: no such counter).
inline uint64_t Packets(NftSession& nft, const std::string& name) {
  auto counters = nft.Counters();
  if (!counters) return 0;
  // Summed over both tables: the bridge table counts stateless routed arrivals under the
  // names of the inet table's (nft_ruleset.h), as the switch's status does.
  uint64_t total = 0;
  for (const auto& counter : *counters) {
    if (counter.name == name) total += counter.packets;
  }
  return total;
}

// Runs `body` in a child process inside the named network namespace `netns`; true when the
// body returned true.
inline bool InNamedNamespace(const std::string& netns, const std::function<bool()>& body) {
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) std::_Exit(2);
    const bool ok = body();
    std::fflush(stdout);
    std::_Exit(ok ? 0 : 1);
  }
  int status = 0;
  return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// Applies `plan` in the current namespace with fresh sessions; prints the problems.
inline bool ApplyHere(const RoutePlan& plan) {
  auto rtnl = netlink::Rtnl::Open();
  auto rules = RouteRules::Open();
  auto nft = NftSession::Open();
  if (!rtnl || !rules || !nft) return false;
  HostRouting routing(**rtnl, **rules, **nft);
  const auto problems = routing.Apply(plan);
  for (const auto& problem : problems) std::printf("apply: %s\n", problem.c_str());
  return problems.empty();
}

}  // namespace dove::dswitch::kernel::testing
