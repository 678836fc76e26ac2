#include "lab/probe.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace dove::lab {
namespace {

using Error = Unexpected<std::string>;

// argv: ready file, stop file, seconds, "6" (dual-stack) or "4", then "tcp:PORT" /
// "udp:PORT"... Prints every line it reads on any of them until the time is up or the stop file
// exists (checked every 100 ms).
constexpr const char* kListener = R"(import os, selectors, socket, sys, time
ready, stop, seconds, six = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == '6'
family = socket.AF_INET6 if six else socket.AF_INET
sel = selectors.DefaultSelector()
for spec in sys.argv[5:]:
  proto, port = spec.split(':')
  s = socket.socket(family, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
  s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  if six:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
  s.bind(('::' if six else '0.0.0.0', int(port)))
  if proto == 'tcp':
    s.listen(16)
  s.setblocking(False)
  sel.register(s, selectors.EVENT_READ, proto)
open(ready, 'w').close()
end = time.monotonic() + seconds
while time.monotonic() < end and not os.path.exists(stop):
  for key, _ in sel.select(min(0.1, max(0.0, end - time.monotonic()))):
    s = key.fileobj
    if key.data == 'tcp':
      c, _ = s.accept()
      c.setblocking(False)
      sel.register(c, selectors.EVENT_READ, 'conn')
      continue
    data = s.recv(65536)
    if data:
      print(data.decode(errors='replace').strip(), flush=True)
    elif key.data == 'conn':
      sel.unregister(s)
      s.close()
)";

std::string Token(size_t index) {
  return "dove-probe-" + std::to_string(::getpid()) + "-" + std::to_string(index);
}

bool HoldsIp(const VmInfo& vm, const std::string& ip) {
  for (const auto& address : vm.addresses) {
    if (address.substr(0, address.find('/')) == ip) return true;
  }
  return false;
}

}  // namespace

std::string Describe(const Probe& probe) {
  switch (probe.protocol) {
    case ProbeProtocol::kIcmp:
      return "icmp " + probe.ip;
    case ProbeProtocol::kTcp:
      return "tcp " + probe.ip + ":" + std::to_string(probe.port);
    case ProbeProtocol::kUdp:
      return "udp " + probe.ip + ":" + std::to_string(probe.port);
  }
  return probe.ip;
}

Expected<std::vector<ProbeResult>, std::string> RunProbes(const Lab& lab,
                                                          const std::vector<Probe>& probes,
                                                          std::chrono::milliseconds listen_for) {
  // Listeners: per VM holding a probed IP, the set of "tcp:PORT" / "udp:PORT".
  std::map<std::string, std::set<std::string>> listens;
  for (const auto& probe : probes) {
    if (probe.protocol == ProbeProtocol::kIcmp) continue;
    for (const auto& vm : lab.vms()) {
      if (!HoldsIp(vm, probe.ip)) continue;
      listens[vm.name].insert((probe.protocol == ProbeProtocol::kTcp ? "tcp:" : "udp:") +
                              std::to_string(probe.port));
    }
  }
  const double seconds = static_cast<double>(listen_for.count()) / 1000.0;
  const std::string stop = (lab.temp_dir() / "probe-stop").string();
  std::filesystem::remove(stop);
  std::map<std::string, std::future<CommandResult>> listeners;
  std::vector<std::string> ready_files;
  for (const auto& [name, specs] : listens) {
    const VmInfo& vm = lab.Vm(name);
    const std::string ready = (lab.temp_dir() / ("probe-ready-" + name)).string();
    std::filesystem::remove(ready);
    ready_files.push_back(ready);
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     "-c",
                                     kListener,
                                     ready,
                                     stop,
                                     std::to_string(seconds),
                                     (!vm.ipv6.empty() && !vm.dhcp) ? "6" : "4"};
    argv.insert(argv.end(), specs.begin(), specs.end());
    listeners[name] = std::async(std::launch::async, [&lab, ns = vm.ns, argv, listen_for] {
      return lab.Exec(ns, argv, listen_for + std::chrono::seconds(10));
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (const auto& ready : ready_files) {
    while (!std::filesystem::exists(ready)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::string outputs;
        for (auto& [name, listener] : listeners) {
          const CommandResult result = listener.get();
          outputs += " " + name + ": " + result.err;
        }
        return Error("a probe listener did not start within 10 s:" + outputs);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::vector<std::future<CommandResult>> senders;
  senders.reserve(probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& probe = probes[i];
    const std::string token = Token(i);
    std::vector<std::string> argv;
    switch (probe.protocol) {
      case ProbeProtocol::kIcmp:
        argv = {"ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", probe.ip};
        break;
      case ProbeProtocol::kTcp:
        argv = {
            "sh", "-c",
            "echo " + token + " | nc -n -N -w 2 " + probe.ip + " " + std::to_string(probe.port)};
        break;
      case ProbeProtocol::kUdp: {
        std::string script = "(echo " + token;
        script += "; sleep 0.2; echo " + token;
        script += "; sleep 0.2; echo " + token;
        script += ") | nc -n -u -w 1 " + probe.ip + " " + std::to_string(probe.port);
        argv = {"sh", "-c", script};
        break;
      }
    }
    senders.push_back(
        std::async(std::launch::async, [&lab, ns = lab.VmNamespace(probe.from), argv] {
          return lab.Exec(ns, argv, std::chrono::seconds(15));
        }));
  }
  std::vector<ProbeResult> results(probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    const CommandResult sent = senders[i].get();
    results[i].detail = sent.out + sent.err;
    // ping exits 0 when a reply came; nc when it connected (TCP) or sent (UDP).
    results[i].replied = sent.exit_code == 0;
  }
  // Every sender is done (a denied TCP connect gave up after nc's 2 s): what is still in
  // flight arrives within a moment; then the listeners stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ofstream{stop}.put('\n');
  for (auto& [name, listener] : listeners) {
    const CommandResult heard = listener.get();
    for (size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].protocol == ProbeProtocol::kIcmp) continue;
      // Tokens are unique; "-1" must not match "-10": look for the token at a line's end.
      const std::string token = Token(i);
      size_t at = heard.out.find(token);
      bool found = false;
      while (at != std::string::npos && !found) {
        const size_t end = at + token.size();
        found = end == heard.out.size() || heard.out[end] == '\n' || heard.out[end] == '\r';
        at = heard.out.find(token, at + 1);
      }
      if (found) results[i].received_by.push_back(name);
    }
  }
  return results;
}

bool PolicyAllows(const Spec& spec, const std::string& domain, const std::string& from,
                  const std::string& to, ProbeProtocol protocol, int port) {
  if (from == to) return true;
  const uint32_t number = protocol == ProbeProtocol::kTcp   ? 6
                          : protocol == ProbeProtocol::kUdp ? 17
                                                            : 1;
  bool matched = false;
  bool allowed = false;
  uint32_t best = 0;
  for (const auto& policy : spec.policies) {
    if (policy.domain != domain || policy.from != from || policy.to != to) continue;
    if (policy.protocol != 0 && policy.protocol != number) continue;
    if (policy.first_port != 0 &&
        (protocol == ProbeProtocol::kIcmp || static_cast<uint32_t>(port) < policy.first_port ||
         static_cast<uint32_t>(port) > policy.last_port)) {
      continue;
    }
    const bool allow = policy.action == PolicyAction::kAllow;
    if (!matched || policy.priority > best) {
      matched = true;
      best = policy.priority;
      allowed = allow;
    } else if (policy.priority == best && !allow) {
      allowed = false;  // deny and reject win ties
    }
  }
  return matched && allowed;
}

}  // namespace dove::lab
