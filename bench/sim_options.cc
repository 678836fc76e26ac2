#include "sim_options.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace dove::bench {
namespace {

// Parses flag values; keeps the first error.
class Flags {
 public:
  // A number >= minimum (minimum on an error).
  int Count(std::string_view flag, const char* text, int minimum);
  // "0" or "0,1": CPU numbers this machine has.
  std::vector<int> Cpus(std::string_view flag, const char* text);
  const std::string& error() const { return error_; }

 private:
  void Fail(std::string text) {
    if (error_.empty()) error_ = std::move(text);
  }
  std::string error_;
};

int Flags::Count(std::string_view flag, const char* text, int minimum) {
  int value = 0;
  const std::string_view view(text);
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size() || value < minimum) {
    Fail(std::string(flag) + " needs a number >= " + std::to_string(minimum));
  }
  return value;
}

std::vector<int> Flags::Cpus(std::string_view flag, const char* text) {
  std::vector<int> cpus;
  std::string_view rest = text;
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  while (true) {
    const size_t comma = rest.find(',');
    const std::string item(rest.substr(0, comma));
    const int cpu = Count(flag, item.c_str(), 0);
    if (cpu >= online) {
      Fail(std::string(flag) + ": CPU " + item + " does not exist (this machine has " +
           std::to_string(online) + ")");
    }
    cpus.push_back(cpu);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return cpus;
}

void PrintHelp() {
  std::printf(
      "usage: switch_sim [--switches N] [--endpoints M] [--endpoints-per-network K]\n"
      "                  [--resolve-rate R] [--resolve-seconds S] [--ip-percent P]\n"
      "                  [--moves X] [--move-rate MR] [--cachers C] [--spread W]\n"
      "                  [--domains D]\n"
      "                  [--fill-clients F] [--fill-replicas K]\n"
      "                  [--attaches A] [--attach-rate AR] [--probes P] [--quick]\n"
      "                  [--controller-bin PATH] [--controller-arg ARG]...\n"
      "                  [--controller-cpus LIST] [--sim-cpus LIST] [--latency-log FILE]\n"
      "                  [--controller-logs FILE]\n"
      "                  [--etcd] [--replicas N] [--failover-seconds F]\n"
      "                  [--no-index-cache]\n"
      "  --switches               simulated switches, one gRPC stream each (1000)\n"
      "  --endpoints              endpoints per switch (100)\n"
      "  --endpoints-per-network  endpoints per network; one /24 subnet each, <= 250 (100)\n"
      "  --spread                 switches a network's endpoints are spread over (10)\n"
      "  --domains                tenants: the networks split into D domains of consecutive\n"
      "                           networks, so a domain spans about switches/D switches and\n"
      "                           each switch holds the routes and tunnel IPs of its own\n"
      "                           domain only (1: every network in one domain, every switch\n"
      "                           told of every other; at most the number of networks)\n"
      "  --resolve-rate           resolves per second, all switches together, open loop (10000)\n"
      "  --resolve-seconds        length of the resolve phase (10)\n"
      "  --ip-percent             share of ResolveIp among the resolves, the rest ResolveMac (50)\n"
      "  --moves                  endpoint moves measured one after the other (200)\n"
      "  --move-rate              moves started per second, each after the last one completed\n"
      "                           (default: spread evenly over the resolve phase, 20/s;\n"
      "                           0: back to back, as fast as the controller completes them)\n"
      "  --cachers                switches that resolve an endpoint before it moves (10)\n"
      "  --fill-clients           parallel REST clients for the fill (8)\n"
      "  --fill-replicas K        with --replicas: fill client i goes through replica i %% K\n"
      "                           (default: all N replicas)\n"
      "  --attaches               unplaced endpoints attached by a switch serving their network,\n"
      "                           each a store write (2000)\n"
      "  --attach-rate            attaches per second, open loop (1000)\n"
      "  --probes                 resolves of each kind that must be refused or not found (1000)\n"
      "  --quick                  small sizes, every phase, a few seconds (the ctest smoke);\n"
      "                           flags after it still apply\n"
      "  --etcd                   keep the controller's state in a one-member etcd (Debian's\n"
      "                           /usr/bin/etcd, started here on loopback) instead of SQLite:\n"
      "                           --store etcd; etcd's database size is reported\n"
      "  --replicas N             N controller replicas on one etcd prefix (1); N > 1 implies\n"
      "                           --etcd with a 3-member cluster; switch s connects to replica\n"
      "                           s %% N, move m is PUT through replica m %% N; figures per\n"
      "                           replica; the restart kills -9 every replica\n"
      "  --failover-seconds F     replicas only: the failover phase, before the restart, kills\n"
      "                           -9 the last replica a quarter into F seconds of open-loop\n"
      "                           resolves (--resolve-rate, asked by the other replicas'\n"
      "                           switches); its switches reconnect to the next replica (3;\n"
      "                           2 with --quick; 0: no failover phase)\n"
      "  --no-index-cache         with etcd: start the controllers without --cache-dir, so\n"
      "                           every start (the restart, the failover's) reads etcd whole\n"
      "                           (default: each replica has its own --cache-dir here)\n"
      "  --controller-bin         the dove-controller to start (default: the one built here)\n"
      "  --controller-arg ARG     one more argument for the controller (repeatable), e.g.\n"
      "                           --controller-arg --switch-dead-after-ms=60000\n"
      "  --controller-cpus LIST   pin every thread of the controller to these CPUs (\"0\", "
      "\"0,1\"),\n"
      "                           so it does not share them with the simulator (default: not "
      "pinned)\n"
      "  --sim-cpus LIST          pin the simulator itself to these CPUs (default: not pinned)\n"
      "  --latency-log FILE       write every measured resolve as a line \"planned_ms "
      "from_schedule_ms\n"
      "                           from_send_ms\" (planned: since the phase began, whose\n"
      "                           CLOCK_MONOTONIC time the first line gives), in planned order,\n"
      "                           to see when the slow ones happened\n"
      "  --controller-logs FILE   write every controller's log (each replica's, in order) to FILE\n"
      "                           after the restart phase, to see what the controllers did\n");
}

}  // namespace

Expected<Options, std::string> ParseOptions(int argc, char** argv) {
  Options options;
  Flags flags;
#ifdef DOVE_CONTROLLER_BIN
  options.controller_bin = DOVE_CONTROLLER_BIN;
#endif
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      std::exit(0);
    }
    if (arg == "--etcd") {
      options.etcd = true;
      continue;
    }
    if (arg == "--no-index-cache") {
      options.index_cache = false;
      continue;
    }
    if (arg == "--quick") {
      options.switches = 20;
      options.endpoints = 10;
      options.per_network = 10;
      options.spread = 5;
      options.resolve_rate = 500;
      options.resolve_seconds = 2;
      options.moves = 10;
      options.cachers = 3;
      options.attaches = 40;
      options.attach_rate = 200;
      options.probes = 40;
      options.failover_seconds = 2;
      continue;
    }
    if (i + 1 >= argc) return Unexpected(std::string(arg) + " needs a value (see --help)");
    const char* value = argv[++i];
    if (arg == "--switches") {
      options.switches = flags.Count(arg, value, 1);
    } else if (arg == "--endpoints") {
      options.endpoints = flags.Count(arg, value, 1);
    } else if (arg == "--endpoints-per-network") {
      options.per_network = flags.Count(arg, value, 1);
    } else if (arg == "--spread") {
      options.spread = flags.Count(arg, value, 1);
    } else if (arg == "--domains") {
      options.domains = flags.Count(arg, value, 1);
    } else if (arg == "--resolve-rate") {
      options.resolve_rate = flags.Count(arg, value, 1);
    } else if (arg == "--resolve-seconds") {
      options.resolve_seconds = flags.Count(arg, value, 0);
    } else if (arg == "--ip-percent") {
      options.ip_percent = flags.Count(arg, value, 0);
    } else if (arg == "--moves") {
      options.moves = flags.Count(arg, value, 0);
    } else if (arg == "--move-rate") {
      options.move_rate = flags.Count(arg, value, 0);
    } else if (arg == "--cachers") {
      options.cachers = flags.Count(arg, value, 1);
    } else if (arg == "--attaches") {
      options.attaches = flags.Count(arg, value, 0);
    } else if (arg == "--attach-rate") {
      options.attach_rate = flags.Count(arg, value, 1);
    } else if (arg == "--probes") {
      options.probes = flags.Count(arg, value, 0);
    } else if (arg == "--fill-clients") {
      options.fill_clients = flags.Count(arg, value, 1);
    } else if (arg == "--fill-replicas") {
      options.fill_replicas = flags.Count(arg, value, 1);
    } else if (arg == "--controller-bin") {
      options.controller_bin = value;
    } else if (arg == "--controller-arg") {
      options.controller_args.emplace_back(value);
    } else if (arg == "--controller-cpus") {
      options.controller_cpus = flags.Cpus(arg, value);
    } else if (arg == "--sim-cpus") {
      options.sim_cpus = flags.Cpus(arg, value);
    } else if (arg == "--latency-log") {
      options.latency_log = value;
    } else if (arg == "--controller-logs") {
      options.controller_logs = value;
    } else if (arg == "--replicas") {
      options.replicas = flags.Count(arg, value, 1);
    } else if (arg == "--failover-seconds") {
      options.failover_seconds = flags.Count(arg, value, 0);
    } else {
      return Unexpected("unknown argument " + std::string(arg) + " (see --help)");
    }
    if (!flags.error().empty()) return Unexpected(flags.error());
  }
  if (options.per_network > 250) {
    return Unexpected(std::string("--endpoints-per-network must be <= 250 (one /24 each)"));
  }
  if (options.ip_percent > 100) return Unexpected(std::string("--ip-percent must be <= 100"));
  if (options.controller_bin.empty()) {
    return Unexpected(std::string("no controller binary: pass --controller-bin"));
  }
  if (options.replicas > 1) options.etcd = true;
  return options;
}

}  // namespace dove::bench
