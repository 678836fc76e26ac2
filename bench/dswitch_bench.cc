// dove-switch against the Linux kernel's own VXLAN, in one lab, measured alternately.
//
// One dove-lab topology holds both paths on the same underlay: hosts h1, h2 run dove-switch
// (VMs a -> b), hosts k1, k2 are kernel-VXLAN hosts (bridge + vxlan device + static FDB, as
// ../shared/tools/kernel-vxlan-baseline.sh builds them; VMs ka -> kb). Each round runs every
// measurement on the DOVE pair and then on the kernel pair, so load from the rest of the
// machine hits both alike; the report gives medians over the rounds and the ratio
// dove-switch / kernel.
//   - TCP throughput VM to VM with iperf3: 1 and 4 streams, both directions (-R);
//   - ping RTT (20 pings at 50 ms);
//   - first-packet latency: the first ping to a VM this switch never talked to (ARP and a
//     resolve through the controller on the DOVE side; the kernel's proxy ARP from static
//     entries on the kernel side), one fresh target per round.
// Needs root, iperf3, and the built dove-controller and dove-switch:
//   build/bench/dswitch_bench [--rounds 3] [--seconds 5]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lab/lab.h"
#include "lab/spec.h"

namespace {

using dove::lab::Lab;

constexpr int kMaxRounds = 9;

std::string Spec() {
  std::ostringstream spec;
  spec << "host h1\nhost h2\nhost k1 kernel\nhost k2 kernel\n"
       << "network dove/bench 10.10.0.0/24\nnetwork kern/bench 10.20.0.0/24\n"
       << "vm a h1 dove/bench 10.10.0.1\nvm b h2 dove/bench 10.10.0.2\n"
       << "vm ka k1 kern/bench 10.20.0.1\nvm kb k2 kern/bench 10.20.0.2\n";
  // Fresh targets for the first-packet latency, one per round.
  for (int i = 0; i < kMaxRounds; ++i) {
    spec << "vm f" << i << " h2 dove/bench 10.10.0." << 10 + i << "\n";
    spec << "vm kf" << i << " k2 kern/bench 10.20.0." << 10 + i << "\n";
  }
  return spec.str();
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Gbit/s of one iperf3 run from `client_vm` to `server_ip` (0 on failure, with a message).
double Iperf(Lab& lab, const std::string& client_vm, const std::string& server_vm,
             const std::string& server_ip, int streams, bool reverse, int seconds) {
  lab.Exec(lab.VmNamespace(server_vm), {"iperf3", "-s", "-D", "-1"});
  usleep(300'000);
  std::vector<std::string> argv = {
      "iperf3", "-c", server_ip, "-t", std::to_string(seconds), "-P", std::to_string(streams),
      "-J"};
  if (reverse) argv.push_back("-R");
  auto run = lab.Exec(lab.VmNamespace(client_vm), argv, std::chrono::seconds(seconds + 30));
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  if (run.exit_code != 0 || doc.is_discarded() || !doc.contains("end")) {
    std::cerr << "iperf3 " << client_vm << " -> " << server_ip << " failed: " << run.err
              << run.out.substr(0, 300) << "\n";
    return 0;
  }
  return doc["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
}

// Median RTT in ms of `count` pings (0 on failure).
double PingRtt(Lab& lab, const std::string& vm, const std::string& ip, int count) {
  auto run = lab.Exec(lab.VmNamespace(vm),
                      {"ping", "-n", "-c", std::to_string(count), "-i", "0.05", "-W", "1", ip});
  std::vector<double> rtts;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("time=");
    if (at != std::string::npos) rtts.push_back(std::stod(line.substr(at + 5)));
  }
  return Median(rtts);
}

// RTT in ms of the first ping to `ip` (its ARP and, on DOVE, the resolve included).
double FirstPacket(Lab& lab, const std::string& vm, const std::string& ip) {
  auto run = lab.Exec(lab.VmNamespace(vm), {"ping", "-n", "-c", "1", "-W", "3", ip});
  const auto at = run.out.find("time=");
  return at == std::string::npos ? 0 : std::stod(run.out.substr(at + 5));
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  int seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rounds") rounds = std::clamp(std::atoi(argv[i + 1]), 1, kMaxRounds);
    if (flag == "--seconds") seconds = std::clamp(std::atoi(argv[i + 1]), 1, 60);
  }
  if (geteuid() != 0) {
    std::cerr << "dswitch_bench: needs root (network namespaces)\n";
    return 2;
  }
  auto spec = dove::lab::ParseSpec(Spec());
  if (!spec) {
    std::cerr << "dswitch_bench: " << spec.error() << "\n";
    return 1;
  }
  const std::string bin_dir =
      (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "src")
          .string();
  auto lab = Lab::Up(*spec, {.bin_dir = bin_dir, .progress = &std::cerr});
  if (!lab) {
    std::cerr << "dswitch_bench: " << lab.error() << "\n";
    return 1;
  }
  // Warm both paths (ARP, resolves) before anything is timed.
  (*lab)->Ping("a", "10.10.0.2", 2, std::chrono::seconds(1));
  (*lab)->Ping("ka", "10.20.0.2", 2, std::chrono::seconds(1));

  struct Path {
    std::string name, client, server, server_ip, fresh_prefix, fresh_net;
  };
  const Path paths[] = {{"dove-switch", "a", "b", "10.10.0.2", "f", "10.10.0."},
                        {"kernel", "ka", "kb", "10.20.0.2", "kf", "10.20.0."}};
  const std::vector<std::pair<std::string, std::pair<int, bool>>> tcp = {
      {"TCP 1 stream a->b (Gbit/s)", {1, false}},
      {"TCP 1 stream b->a (Gbit/s)", {1, true}},
      {"TCP 4 streams a->b (Gbit/s)", {4, false}},
      {"TCP 4 streams b->a (Gbit/s)", {4, true}}};
  std::map<std::string, std::map<std::string, std::vector<double>>> results;  // metric, path
  for (int round = 0; round < rounds; ++round) {
    std::cerr << "round " << round + 1 << "/" << rounds << "\n";
    for (const auto& path : paths) {
      for (const auto& [metric, how] : tcp) {
        results[metric][path.name].push_back(
            Iperf(**lab, path.client, path.server, path.server_ip, how.first, how.second, seconds));
      }
      results["ping RTT median (ms)"][path.name].push_back(
          PingRtt(**lab, path.client, path.server_ip, 20));
      results["first packet to a new VM (ms)"][path.name].push_back(
          FirstPacket(**lab, path.client, path.fresh_net + std::to_string(10 + round)));
    }
  }
  std::printf("\n%-32s %14s %14s %10s\n", "metric (median of rounds)", "dove-switch", "kernel",
              "ratio");
  for (const auto& [metric, by_path] : results) {
    const double dove = Median(by_path.at("dove-switch"));
    const double kernel = Median(by_path.at("kernel"));
    std::printf("%-32s %14.3f %14.3f %10.2f\n", metric.c_str(), dove, kernel,
                kernel == 0 ? 0.0 : dove / kernel);
  }
  std::printf("(%d rounds, iperf3 %d s each, 2 shared cores: compare ratios, not absolutes)\n",
              rounds, seconds);
  return 0;
}
