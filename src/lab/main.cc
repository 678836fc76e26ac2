// dove-lab: builds a DOVE deployment (controller, switches, VMs) in network namespaces on this
// machine from a topology file, and runs the demo that proves tenant isolation. See docs/lab.md.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/read_file.h"
#include "base/version.h"
#include "lab/demo.h"
#include "lab/lab.h"
#include "lab/spec.h"

namespace {

using dove::lab::Lab;
using dove::lab::LabOptions;

std::atomic<bool> g_stop{false};

// SIGINT and SIGTERM are blocked in every thread and taken by this one, so the main thread
// can tear the lab down in order (children start with an empty mask, see command.h).
void WatchSignals(sigset_t set) {
  int signal = 0;
  while (sigwait(&set, &signal) == 0) {
    if (g_stop.exchange(true)) {
      std::cerr << "dove-lab: second signal, exiting without teardown; run `dove-lab clean`\n";
      std::_Exit(130);
    }
    std::cerr << "\ndove-lab: signal " << signal << ", stopping (again to exit at once)\n";
  }
}

void PrintLab(const Lab& lab) {
  std::cout << "\n"
            << std::left << std::setw(14) << "VM" << std::setw(24) << "NAMESPACE" << std::setw(16)
            << "IP" << std::setw(19) << "MAC" << std::setw(10) << "HOST"
            << "NETWORK\n";
  for (const auto& vm : lab.vms()) {
    std::cout << std::setw(14) << vm.name << std::setw(24) << vm.ns << std::setw(16)
              << (vm.ip + "/" + std::to_string(vm.prefix_length)) << std::setw(19) << vm.mac
              << std::setw(10) << vm.host << vm.domain << "/" << vm.network << " (VNI " << vm.vni
              << ")";
    if (vm.dhcp) std::cout << ", by DHCP (busybox udhcpc; log " << lab.DhcpLog(vm.name) << ")";
    if (!vm.ipv6.empty() && !vm.dhcp) std::cout << ", " << vm.ipv6 << "/" << vm.ipv6_prefix_length;
    if (!vm.gateway.empty() && !vm.dhcp) std::cout << ", default via " << vm.gateway;
    std::cout << "\n";
  }
  if (!lab.spec().policies.empty()) {
    std::cout << "\nPOLICIES\n";
    for (size_t i = 0; i < lab.spec().policies.size(); ++i) {
      std::cout << "  " << lab.spec().policies[i].Text() << "  (id " << lab.policy_ids()[i]
                << ")\n";
    }
  }
  std::cout << "\nHOSTS\n";
  for (const auto& host : lab.hosts()) {
    std::cout << "  " << std::setw(14) << host.name << std::setw(24) << host.ns << "tunnel "
              << std::setw(14) << host.tunnel_ip;
    if (!host.kernel) {
      std::cout << (host.kernel_backend ? "dove-switch --backend kernel" : "dove-switch");
      std::cout << (host.completes_checksums ? " (ul0 tx-checksumming off)\n" : "\n");
      continue;
    }
    std::cout << "kernel VXLAN (" << (host.udp_checksum ? "udpcsum" : "noudpcsum")
              << (host.completes_checksums ? ", ul0 tx-checksumming off" : "") << ")\n";
  }
  if (lab.controllers() > 1) {
    std::cout << "\nCONTROLLERS (replicas on etcd, prefix " << dove::lab::kEtcdPrefix << ")\n";
    for (int replica = 0; replica < lab.controllers(); ++replica) {
      std::cout << "  " << std::setw(24) << lab.ControllerNamespace(replica) << "southbound "
                << std::setw(20) << lab.ControllerAddress(replica) << "log "
                << lab.ControllerLog(replica) << "\n";
    }
    std::cout << "  " << std::setw(24) << lab.EtcdNamespace() << "etcd members "
              << lab.etcd()->Endpoints() << "\n";
  }
  const std::string first_vm = lab.vms().empty() ? "NAME" : lab.vms().front().name;
  std::cout << std::right << "\nEnter a VM:         ip netns exec " << lab.VmNamespace(first_vm)
            << " bash\n"
            << "Ask the controller: ip netns exec " << lab.ControllerNamespace()
            << " dovectl endpoint list     (REST on 127.0.0.1:8740 inside that namespace"
            << (lab.controllers() > 1 ? ", and in each replica's" : "") << ")\n"
            << "Logs:               " << lab.temp_dir().string() << "/\n";
}

// One command typed while the lab is up: "move VM HOST" (live migration, Lab::MoveVm). Says
// what it did, or why not, on stdout / stderr.
void RunLabCommand(Lab& lab, const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  std::string vm;
  std::string host;
  std::string extra;
  words >> verb >> vm >> host >> extra;
  if (verb.empty()) return;
  if (verb != "move" || host.empty() || !extra.empty()) {
    std::cerr << "dove-lab: unknown command \"" << line << "\" (try: move VM HOST)\n";
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  if (auto moved = lab.MoveVm(vm, host); !moved) {
    std::cerr << "dove-lab: " << moved.error() << "\n";
    return;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  std::cout << "dove-lab: vm " << vm << " moved to " << host << " (" << ms << " ms)\n"
            << std::flush;
}

// Waits for Ctrl-C, running the commands read from stdin meanwhile (until its end).
void ServeCommands(Lab& lab) {
  std::string pending;
  bool input = true;
  while (!g_stop.load()) {
    if (!input) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    pollfd stdin_fd{.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
    if (poll(&stdin_fd, 1, 100) <= 0) continue;
    std::array<char, 512> buffer{};
    const ssize_t got = read(STDIN_FILENO, buffer.data(), buffer.size());
    if (got <= 0) {
      input = false;  // stdin closed: keep the lab up until Ctrl-C
      continue;
    }
    pending.append(buffer.data(), static_cast<size_t>(got));
    for (size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      RunLabCommand(lab, pending.substr(0, end));
      pending.erase(0, end + 1);
    }
  }
}

int Up(const dove::lab::Spec& spec, LabOptions options, bool demo) {
  options.progress = &std::cerr;
  options.cancel = &g_stop;
  auto lab = Lab::Up(spec, options);
  if (!lab) {
    std::cerr << "dove-lab: " << lab.error() << "\n";
    return 1;
  }
  PrintLab(**lab);
  int code = 0;
  if (demo) {
    std::cout << "\n";
    auto passed = dove::lab::RunDemoChecks(**lab, std::cout);
    if (!passed) {
      std::cerr << "dove-lab: the demo could not run its checks: " << passed.error() << "\n";
      code = 1;
    } else {
      code = *passed ? 0 : 1;
    }
  } else {
    std::cout << "\nThe lab is up. Commands on stdin: move VM HOST (live migration). Ctrl-C "
                 "tears it down.\n"
              << std::flush;
    ServeCommands(**lab);
  }
  if (options.keep) {
    std::cout << "dove-lab: --keep: leaving the lab running; remove it with: dove-lab clean\n";
  } else {
    std::cerr << "dove-lab: tearing down\n";
  }
  lab->reset();
  return code;
}

int Main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WatchSignals, set).detach();

  CLI::App app{
      "dove-lab: a DOVE deployment in network namespaces on this machine (needs root).\n\n"
      "  dove-lab up FILE   build the topology of FILE, print its VMs (namespace, IP, MAC, host)\n"
      "                     and how to enter them (ip netns exec NS bash) and reach the\n"
      "                     controller (ip netns exec dl<pid>-ctl dovectl ...); stays up until\n"
      "                     Ctrl-C, then tears everything down; meanwhile it reads commands\n"
      "                     on stdin, one a line: `move VM HOST` moves a running VM to another\n"
      "                     (userspace dove-switch) host, live (docs/lab.md)\n"
      "  dove-lab demo      the built-in demo: hosts h1..h3, tenants red and blue with the same\n"
      "                     subnet 10.0.0.0/24 and the same IPs; pings, captures, and PASS/FAIL\n"
      "                     for connectivity, isolation and a VXLAN-only underlay; exit 0 when\n"
      "                     every check passes\n"
      "  dove-lab clean     remove namespaces and temp dirs left by labs whose process is gone\n\n"
      "Topology file, one statement per line ('#' comments):\n"
      "  host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]\n"
      "                                   a dove-switch host (dove-kernel: --backend kernel), or\n"
      "                                   a kernel-VXLAN host with static entries (outer UDP\n"
      "                                   checksums computed, or zero: the default)\n"
      "  network DOMAIN/NAME CIDR [vni N]\n"
      "  vm NAME HOST DOMAIN/NAME [IP]\n"
      "Host and VM names: at most 13 bytes (interface names derived from them must fit in 15).\n\n"
      "Binaries: dove-controller and dove-switch are taken from --bin-dir, else from next to\n"
      "dove-lab, its build tree (../controller, ../dswitch), or PATH.",
      "dove-lab"};
  app.set_version_flag("--version", dove::base::VersionLine("dove-lab"));
  app.require_subcommand(1);
  std::string bin_dir;
  bool keep = false;
  app.add_option("--bin-dir", bin_dir, "directory holding dove-controller and dove-switch")
      ->check(CLI::ExistingDirectory);
  int ready_timeout = 30;
  app.add_option("--ready-timeout", ready_timeout,
                 "seconds to wait for every switch to be STATE_UP and every endpoint listed")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--keep", keep,
               "do not tear the lab down on exit (for debugging); `dove-lab clean` removes it");
  auto* up = app.add_subcommand("up", "build the lab of FILE and keep it until Ctrl-C");
  std::string file;
  up->add_option("FILE", file, "topology file")->required();
  auto* demo = app.add_subcommand("demo", "run the built-in two-tenant demo and its checks");
  int controllers = 1;
  const std::string controllers_help =
      "1: one dove-controller on SQLite; 2.." + std::to_string(dove::lab::kMaxControllers) +
      ": that many replicas on a 3-member etcd cluster the lab starts, each switch given all of "
      "them (docs/lab.md)";
  for (auto* command : {up, demo}) {
    command->add_option("--controllers", controllers, controllers_help)
        ->capture_default_str()
        ->check(CLI::Range(1, dove::lab::kMaxControllers));
  }
  bool kernel_hosts = false;
  std::string backend_name = "userspace";
  auto* backend_option =
      demo->add_option("--backend", backend_name,
                       "the data plane of every demo host's dove-switch: userspace (TAPs read by "
                       "dove-switch) or kernel (dove-switch --backend kernel: the kernel's VXLAN "
                       "under DOVE control)")
          ->check(CLI::IsMember({"userspace", "kernel"}));
  demo->add_flag("--kernel-hosts", kernel_hosts,
                 "make every demo host a kernel-VXLAN host (a baseline that needs no dove-switch)")
      ->excludes(backend_option);
  auto* clean = app.add_subcommand("clean", "remove leftovers of labs whose process is gone");
  CLI11_PARSE(app, argc, argv);

  if (geteuid() != 0) {
    std::cerr << "dove-lab: needs root (it creates network namespaces); run it with sudo\n";
    return 1;
  }
  LabOptions options;
  options.bin_dir = bin_dir;
  options.keep = keep;
  options.ready_timeout = std::chrono::seconds(ready_timeout);
  options.controllers = controllers;
  if (clean->parsed()) {
    auto removed = Lab::CleanLeftovers();
    if (!removed) {
      std::cerr << "dove-lab: " << removed.error() << "\n";
      return 1;
    }
    std::cout << "dove-lab: removed " << *removed << " namespace(s) of dead runs\n";
    return 0;
  }
  if (demo->parsed()) {
    auto spec = dove::lab::ParseSpec(dove::lab::DemoSpecText());
    if (!spec) {
      std::cerr << "dove-lab: the built-in demo spec: " << spec.error() << "\n";
      return 1;
    }
    dove::lab::Backend backend = dove::lab::Backend::kUserspace;
    (void)dove::lab::ParseBackend(backend_name, &backend);  // CLI11 checked it
    dove::lab::UseBackend(*spec, backend);
    if (kernel_hosts) {
      for (auto& host : spec->hosts) {
        host.kernel = true;
        host.kernel_backend = false;
      }
    }
    return Up(*spec, options, /*demo=*/true);
  }
  auto text = dove::ReadFile(file);
  if (!text) {
    std::cerr << "dove-lab: " << text.error() << "\n";
    return 1;
  }
  auto spec = dove::lab::ParseSpec(*text);
  if (!spec) {
    std::cerr << "dove-lab: " << file << ": " << spec.error() << "\n";
    return 1;
  }
  return Up(*spec, options, /*demo=*/false);
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "dove-lab: error: " << e.what() << "\n";
    return 1;
  }
}
