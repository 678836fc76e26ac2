// dswitch_bench: dove-switch against the Linux kernel's own VXLAN, in one lab, alternating.
//
// One dove-lab topology holds both paths on the same underlay bridge: hosts h1, h2 run
// dove-switch (VM a on h1 -> VM b on h2), hosts k1, k2 are kernel-VXLAN hosts (bridge + vxlan
// device + static FDB and neighbour entries; VM ka on k1 -> VM kb on k2). Every measurement is
// taken on both paths back to back, the path that goes first alternating from round to round,
// so the rest of the machine's load hits both alike. Figures (docs/benchmarks.md has the
// method in full):
//   tcp      iperf3, 1 and 4 streams, both directions: Gbit/s, and CPU-seconds per gigabit
//            from the runtime of the switches, both iperf3 ends and ksoftirqd
//            (/proc/<pid>/stat), next to machine-wide /proc/stat kernel time;
//   pps      64-byte UDP payloads from udp_blast (sendmmsg, paced) counted at the receiver:
//            the highest offered rate with < 0.1 % loss, found by doubling then bisecting;
//   rtt      200 pings at 10 ms: p50 and p99 of every RTT;
//   first    the first ping to a destination the sender's switch has not cached (p50/p99
//            over --fresh destinations, pooled over the rounds);
//   tools    pipeline_bench and cache_update_bench, when built next to this binary;
//   kbackend dove-switch's kernel backend (hosts d1, d2 "dove-kernel", VMs da -> db): iperf3
//            1 and 4 streams against the kernel path (rows kernel_backend_tcp_*: the
//            dove-switch column is the kernel backend, the kernel column the static kernel
//            VXLAN, measured back to back in the same round);
//   miss     the kernel backend's miss -> installed entry: ARP requests from da for endpoints
//            d1 has never resolved, timed to the PERMANENT neighbour entry's RTM_NEWNEIGH seen
//            by a NeighListener in d1's namespace (kernel_backend_figures.h): p50/p99;
//   flood    10,000 misses/s from da for a few seconds: d1's control socket answers, a ping in
//            another network of d1 (dc -> dd), and the counters d1's switch reports;
//   packet   packet-socket ports (hosts p1, p2, VMs pa -> pb whose veths are the switches'
//            ports, port_kind PORT_KIND_PACKET) against the switch's own TAPs (a -> b):
//            iperf3 1 and 4 streams both ways, back to back (rows packet_port_tcp_*: the
//            dove-switch column is the packet ports, the kernel column the TAP ports).
// Output: "# " lines describe the machine and the method; every other line is one figure,
//   NAME  n=N  dove-switch V [LO-HI]  kernel V [LO-HI]  ratio R
// V is the median over rounds (n = rounds) with [LO-HI] their min and max, or for pooled
// figures (first_packet_*) the percentile over all n samples with [LO-HI] the smallest and
// largest sample; R = dove-switch / kernel, always the last field ("-" when there is none).
// Needs root, iproute2, tc, ping, iperf3, and the built dove-controller, dove-switch and
// udp_blast. Never run by ctest.
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_backend_figures.h"
#include "lab/command.h"
#include "lab/lab.h"
#include "lab/spec.h"

#ifndef DOVE_GIT_COMMIT
#define DOVE_GIT_COMMIT "unknown"
#endif
#ifndef DOVE_SOURCE_DIR
#define DOVE_SOURCE_DIR ""
#endif

namespace {

using dove::lab::Lab;
using dove::lab::VmInfo;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kFreshTargets = 5;        // per path: VMs whose endpoints come and go
constexpr double kLossLimit = 0.001;    // 0.1 %
constexpr double kPpsTrialSeconds = 1;  // one offered rate
constexpr int kSenderThreads = 2;       // one per core: on the kernel path the sender's own
                                        // syscalls carry the datagram all the way to the receiver
constexpr int kPingCount = 200;
constexpr int kMissTargets = 120;  // endpoints d1 resolves once each (p99 needs >= 100)
constexpr int kFloodRate = 10000;  // misses per second
constexpr int kFloodSeconds = 4;
constexpr const char* kPingInterval = "0.01";
constexpr int kPort = 9000;

const char* const kUsage =
    R"(dswitch_bench: dove-switch against the kernel's VXLAN in one dove-lab topology

Usage: dswitch_bench [--rounds N] [--seconds S] [--only LIST] [--fresh N]

Builds a lab (hosts h1, h2 with dove-switch, VMs a -> b; kernel-VXLAN hosts k1, k2, VMs
ka -> kb; target VMs f0..f4 and kf0..kf4 for first packets) and measures both paths back to
back, alternating which goes first, for N rounds. Prints one line per figure:
  NAME  n=N  dove-switch V [LO-HI]  kernel V [LO-HI]  ratio R
V: the median over the rounds, [LO-HI] their min and max (first_packet_*: the percentile
over all samples pooled, [LO-HI] the smallest and largest sample). R = dove-switch / kernel,
always last on the line ("-" where there is no kernel figure). Lines starting with "# "
describe the machine (kernel, offloads, MTUs, commit) and what is counted.

Flags:
  --rounds N    rounds of every measurement, 1..20 (default 5)
  --seconds S   length of each iperf3 run, 1..60 (default 5)
  --only LIST   comma-separated subset of tcp,pps,rtt,first,tools,kbackend,miss,flood,packet
                (default: all)
                  tcp    iperf3 1 and 4 streams both ways: Gbit/s and CPU-seconds per Gbit
                  pps    64-byte UDP payloads (udp_blast): highest rate with < 0.1 % loss
                  rtt    200 pings at 10 ms per round: p50 and p99
                  first  the first ping to a destination the switch has not cached
                  tools  pipeline_bench and cache_update_bench if built next to this binary
                  kbackend  dove-switch --backend kernel (hosts d1, d2; VMs da -> db): iperf3
                         1 and 4 streams, ratio against the static kernel VXLAN (k1 -> k2)
                  miss   the kernel backend's miss -> installed entry, p50/p99 over 120
                         endpoints resolved for the first time
                  flood  10,000 misses/s from da for 4 s: d1's control socket, another
                         network's ping, the switch's counters
                  packet packet-socket ports (hosts p1, p2; VMs pa -> pb on their own
                         veths) against TAP ports (a -> b): iperf3 1 and 4 streams both ways
  --fresh N     first packets per path, spread over the rounds, 1..1000 (default 100)
  -h, --help    this text (starts nothing)

Needs root (network namespaces; not for --only tools), iproute2, tc, ping, iperf3, and the
built dove-controller, dove-switch and udp_blast (found in the build tree). With the defaults
a run takes about 8 minutes on 2 cores. Exit 0 when every figure was measured, 1 when the lab could not be built
or a figure is missing, 2 for bad flags or without root.
)";

std::atomic<bool> g_interrupted{false};

void OnSignal(int /*signal*/) { g_interrupted.store(true); }

// ---------------------------------------------------------------------------------------------
// Flags.

struct Options {
  int rounds = 5;
  int seconds = 5;
  int fresh = 100;
  std::set<std::string> only = {"tcp",      "pps",  "rtt",   "first", "tools",
                                "kbackend", "miss", "flood", "packet"};
  bool help = false;
};

bool ParseInt(const std::string& text, int low, int high, int& out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || value < low || value > high) {
    return false;
  }
  out = static_cast<int>(value);
  return true;
}

// The options, or a one-sentence error.
std::optional<Options> ParseOptions(int argc, char** argv, std::string& error) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      options.help = true;
      continue;
    }
    if (flag != "--rounds" && flag != "--seconds" && flag != "--only" && flag != "--fresh") {
      error = "unknown flag " + flag;
      return std::nullopt;
    }
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    const std::string value = argv[++i];
    if (flag == "--rounds" && !ParseInt(value, 1, 20, options.rounds)) {
      error = "--rounds must be a whole number from 1 to 20, not " + value;
      return std::nullopt;
    }
    if (flag == "--seconds" && !ParseInt(value, 1, 60, options.seconds)) {
      error = "--seconds must be a whole number from 1 to 60, not " + value;
      return std::nullopt;
    }
    if (flag == "--fresh" && !ParseInt(value, 1, 1000, options.fresh)) {
      error = "--fresh must be a whole number from 1 to 1000, not " + value;
      return std::nullopt;
    }
    if (flag == "--only") {
      options.only.clear();
      std::istringstream items(value);
      for (std::string item; std::getline(items, item, ',');) {
        if (!Options().only.contains(item)) {
          error =
              "--only takes tcp, pps, rtt, first, tools, kbackend, miss, flood and packet, not \"" +
              item + "\"";
          return std::nullopt;
        }
        options.only.insert(item);
      }
      if (options.only.empty()) {
        error =
            "--only needs at least one of tcp, pps, rtt, first, tools, kbackend, miss, flood, "
            "packet";
        return std::nullopt;
      }
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Figures and their rows.

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double Median(const std::vector<double>& values) {
  if (values.empty()) return NAN;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

std::string Number(double value) {
  if (std::isnan(value)) return "-";
  char text[64];
  const double magnitude = std::fabs(value);
  const char* format = magnitude >= 1000 ? "%.0f"
                       : magnitude >= 10 ? "%.1f"
                       : magnitude >= 1  ? "%.2f"
                                         : "%.3f";
  std::snprintf(text, sizeof text, format, value);
  return text;
}

struct Row {
  std::string name;
  // Per-round values (the figure is their median), or samples (the figure is `percentile`).
  std::vector<double> dove;
  std::vector<double> kernel;
  double percentile = -1;  // < 0: median over rounds
  bool dove_only = false;  // the kernel has no such figure
};

class Table {
 public:
  Row& operator[](const std::string& name) {
    for (auto& row : rows_) {
      if (row.name == name) return row;
    }
    Row row;
    row.name = name;
    rows_.push_back(std::move(row));
    return rows_.back();
  }
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

std::string Cell(const std::vector<double>& values, double percentile) {
  if (values.empty()) return "-";
  const double value = percentile < 0 ? Median(values) : Percentile(values, percentile);
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return Number(value) + " [" + Number(*low) + "-" + Number(*high) + "]";
}

std::string FormatRow(const Row& row) {
  const size_t n = std::max(row.dove.size(), row.kernel.size());
  std::string ratio = "-";
  if (!row.dove_only && !row.dove.empty() && !row.kernel.empty()) {
    const double dove =
        row.percentile < 0 ? Median(row.dove) : Percentile(row.dove, row.percentile);
    const double kernel =
        row.percentile < 0 ? Median(row.kernel) : Percentile(row.kernel, row.percentile);
    if (kernel != 0 && !std::isnan(kernel) && !std::isnan(dove)) {
      char text[32];
      std::snprintf(text, sizeof text, "%.3f", dove / kernel);
      ratio = text;
    }
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-48s n=%-4zu dove-switch %-26s kernel %-26s ratio %s",
                row.name.c_str(), n, Cell(row.dove, row.percentile).c_str(),
                row.dove_only ? "-" : Cell(row.kernel, row.percentile).c_str(), ratio.c_str());
  return line;
}

// ---------------------------------------------------------------------------------------------
// The machine: kernel, commit, interfaces.

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

std::string Commit() {
  const std::string source = DOVE_SOURCE_DIR;
  std::string commit;
  if (!source.empty()) {
    auto head = dove::lab::RunCommand(
        {"git", "-c", "safe.directory=*", "-C", source, "rev-parse", "--short", "HEAD"},
        std::chrono::seconds(10));
    if (head.exit_code == 0) {
      commit = Trim(head.out);
      auto dirty = dove::lab::RunCommand({"git", "-c", "safe.directory=*", "-C", source, "status",
                                          "--porcelain", "--untracked-files=no"},
                                         std::chrono::seconds(10));
      if (dirty.exit_code == 0 && !Trim(dirty.out).empty()) commit += " (with uncommitted changes)";
    }
  }
  if (commit.empty()) commit = "unknown (no git)";
  return commit + ", built from " + DOVE_GIT_COMMIT + " at configure time";
}

// The ethtool feature names shown (the rest are not about the data path).
const std::vector<std::string>& InterestingFeatures() {
  static const std::vector<std::string> names = {"tx-checksum-ipv4",
                                                 "tx-checksum-ip-generic",
                                                 "tx-checksum-ipv6",
                                                 "tx-scatter-gather",
                                                 "tx-tcp-segmentation",
                                                 "tx-tcp6-segmentation",
                                                 "tx-udp-segmentation",
                                                 "tx-udp_tnl-segmentation",
                                                 "tx-udp_tnl-csum-segmentation",
                                                 "tx-generic-segmentation",
                                                 "rx-gro",
                                                 "rx-gro-list",
                                                 "rx-udp-gro-forwarding",
                                                 "rx-checksum",
                                                 "rx-lro"};
  return names;
}

// "mtu 1450; on: a b; off: c d" for `iface` in namespace `ns` (ethtool's ioctls from a thread
// that entered the namespace: no ethtool binary needed), or why it could not be read.
std::string DescribeInterface(const std::string& ns, const std::string& iface) {
  std::string result;
  std::thread reader([&] {
    const int ns_fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0 || ::setns(ns_fd, CLONE_NEWNET) != 0) {
      result = std::string("cannot enter the namespace: ") + std::strerror(errno);
      if (ns_fd >= 0) ::close(ns_fd);
      return;
    }
    ::close(ns_fd);
    const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    if (sock < 0 || ::ioctl(sock, SIOCGIFMTU, &request) != 0) {
      result = std::string("no such interface: ") + std::strerror(errno);
      if (sock >= 0) ::close(sock);
      return;
    }
    result = "mtu " + std::to_string(request.ifr_mtu);
    // How many features, their names, then which are active.
    alignas(8) unsigned char info_raw[sizeof(ethtool_sset_info) + sizeof(uint32_t)] = {};
    auto* info = reinterpret_cast<ethtool_sset_info*>(info_raw);
    info->cmd = ETHTOOL_GSSET_INFO;
    info->sset_mask = 1ULL << ETH_SS_FEATURES;
    request.ifr_data = reinterpret_cast<char*>(info);
    if (::ioctl(sock, SIOCETHTOOL, &request) != 0 || info->sset_mask == 0) {
      result += "; offloads unreadable: " + std::string(std::strerror(errno));
      ::close(sock);
      return;
    }
    uint32_t count = 0;
    std::memcpy(&count, info_raw + sizeof(ethtool_sset_info), sizeof count);
    std::vector<uint64_t> strings_raw(
        (sizeof(ethtool_gstrings) + size_t{count} * ETH_GSTRING_LEN) / sizeof(uint64_t) + 1);
    auto* strings = reinterpret_cast<ethtool_gstrings*>(strings_raw.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_FEATURES;
    strings->len = count;
    const uint32_t blocks = (count + 31) / 32;
    std::vector<uint64_t> features_raw(
        (sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block)) /
            sizeof(uint64_t) +
        1);
    auto* features = reinterpret_cast<ethtool_gfeatures*>(features_raw.data());
    features->cmd = ETHTOOL_GFEATURES;
    features->size = blocks;
    request.ifr_data = reinterpret_cast<char*>(strings);
    const bool named = ::ioctl(sock, SIOCETHTOOL, &request) == 0;
    request.ifr_data = reinterpret_cast<char*>(features);
    const bool got = named && ::ioctl(sock, SIOCETHTOOL, &request) == 0;
    ::close(sock);
    if (!got) {
      result += "; offloads unreadable: " + std::string(std::strerror(errno));
      return;
    }
    std::map<std::string, bool> active;
    for (uint32_t i = 0; i < count; ++i) {
      const char* name = reinterpret_cast<const char*>(strings->data) + size_t{i} * ETH_GSTRING_LEN;
      active[std::string(name, strnlen(name, ETH_GSTRING_LEN))] =
          (features->features[i / 32].active & (1U << (i % 32))) != 0;
    }
    std::string on;
    std::string off;
    for (const auto& name : InterestingFeatures()) {
      const auto found = active.find(name);
      if (found == active.end()) continue;
      (found->second ? on : off) += " " + name;
    }
    result += "; on:" + (on.empty() ? std::string(" -") : on) +
              "; off:" + (off.empty() ? std::string(" -") : off);
  });
  reader.join();
  return result;
}

void PrintMachine(const Lab& lab, const std::string& switch_binary) {
  utsname name{};
  ::uname(&name);
  std::printf("# kernel: %s %s %s\n", name.sysname, name.release, name.version);
  std::printf("# cpus: %u online; load average at start:", std::thread::hardware_concurrency());
  std::ifstream load("/proc/loadavg");
  std::string loadavg;
  std::getline(load, loadavg);
  std::printf(" %s\n", loadavg.c_str());
  std::printf("# commit: %s\n", Commit().c_str());
  std::printf("# dove-switch binary: %s\n", switch_binary.c_str());
  const auto& a = lab.Vm("a");
  const auto& ka = lab.Vm("ka");
  const std::vector<std::pair<std::string, std::string>> interfaces = {
      {a.ns, "eth0"},
      {a.host_ns, a.veth_peer},
      {a.host_ns, a.tap},
      {a.host_ns, "ul0"},
      {ka.ns, "eth0"},
      {ka.host_ns, ka.veth_peer},
      {ka.host_ns, "br" + std::to_string(lab.spec().NetworkIndexOf(*lab.spec().FindVm("ka")))},
      {ka.host_ns, "vx" + std::to_string(lab.spec().NetworkIndexOf(*lab.spec().FindVm("ka")))},
      {ka.host_ns, "ul0"},
      {lab.UnderlayNamespace(), "u-h1"},
      {lab.UnderlayNamespace(), "u-k1"},
      {lab.UnderlayNamespace(), dove::lab::kUnderlayBridge},
  };
  std::printf("# interfaces (the lab's names; b, kb, h2, k2 are wired alike):\n");
  for (const auto& [ns, iface] : interfaces) {
    std::string where = ns.substr(lab.prefix().size());
    where += "/";
    where += iface;
    std::printf("#   %-14s %s\n", where.c_str(), DescribeInterface(ns, iface).c_str());
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting.

// Whether this kernel accounts irq/softirq time apart from tasks (CONFIG_IRQ_TIME_ACCOUNTING):
// without it (tick accounting), softirq work done in a task's context is in that task's
// runtime (utime+stime), so the per-process sums below already hold it. nullopt: unknown.
std::optional<bool> IrqTimeAccounting() {
  const auto config = dove::lab::RunCommand({"sh", "-c", "zcat /proc/config.gz 2>/dev/null"});
  if (config.exit_code != 0 || config.out.empty()) return std::nullopt;
  if (config.out.find("CONFIG_IRQ_TIME_ACCOUNTING=y") != std::string::npos) return true;
  return false;
}

double ClockTick() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }

// The fields after "PID (COMM)" of a /proc/<pid>/stat line; tokens[0] is field 3 (state).
std::vector<std::string> StatFields(const std::string& line) {
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return {};
  std::istringstream fields(line.substr(paren + 1));
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(token);
  return tokens;
}

// utime+stime (fields 14, 15) of one process in seconds, 0 when it is gone.
double ProcessSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto tokens = StatFields(text);
  if (tokens.size() < 13) return 0;
  return (std::stod(tokens[11]) + std::stod(tokens[12])) / ClockTick();
}

// cutime+cstime (fields 16, 17: children waited for) from a stat line, in seconds.
double ChildrenSeconds(const std::string& line) {
  const auto tokens = StatFields(line);
  if (tokens.size() < 15) return NAN;
  return (std::stod(tokens[13]) + std::stod(tokens[14])) / ClockTick();
}

// The line of `text` holding "(sh) ", the wrapping shell's own stat line.
std::string ShellStatLine(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("(sh) ") != std::string::npos) return line;
  }
  return "";
}

struct CpuTimes {
  double stat_kernel = 0;   // /proc/stat, machine-wide: system + irq + softirq
  double stat_softirq = 0;  // /proc/stat, machine-wide: irq + softirq
  double switches = 0;      // utime+stime of the dove-switch processes
  double ksoftirqd = 0;     // utime+stime of the ksoftirqd/N threads
};

CpuTimes ReadCpu(const std::vector<pid_t>& switches, const std::vector<pid_t>& ksoftirqd) {
  CpuTimes times;
  std::ifstream in("/proc/stat");
  std::string label;
  double user = 0;
  double nice = 0;
  double system = 0;
  double idle = 0;
  double iowait = 0;
  double irq = 0;
  double softirq = 0;
  in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  times.stat_kernel = (system + irq + softirq) / ClockTick();
  times.stat_softirq = (irq + softirq) / ClockTick();
  for (const pid_t pid : switches) times.switches += ProcessSeconds(pid);
  for (const pid_t pid : ksoftirqd) times.ksoftirqd += ProcessSeconds(pid);
  return times;
}

CpuTimes operator-(const CpuTimes& after, const CpuTimes& before) {
  return {.stat_kernel = after.stat_kernel - before.stat_kernel,
          .stat_softirq = after.stat_softirq - before.stat_softirq,
          .switches = after.switches - before.switches,
          .ksoftirqd = after.ksoftirqd - before.ksoftirqd};
}

// The kernel's softirq threads (machine-wide: softirq work the kernel defers runs there).
std::vector<pid_t> KsoftirqdPids() {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string command;
    std::getline(comm, command);
    if (command.starts_with("ksoftirqd/")) pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

// The processes running in one of the lab's namespaces (the lab made them, so they are ours).
std::vector<pid_t> NamespacePids(const std::string& ns) {
  std::vector<pid_t> pids;
  const auto listed = dove::lab::RunCommand({"ip", "netns", "pids", ns});
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (!Trim(line).empty()) pids.push_back(static_cast<pid_t>(std::stol(line)));
  }
  return pids;
}

// The dove-switch processes in the lab's userspace DOVE hosts' namespaces (h1, h2; not the
// kernel backend's d1, d2).
std::vector<pid_t> SwitchPids(const Lab& lab) {
  std::vector<pid_t> pids;
  for (const auto& host : lab.hosts()) {
    // The CPU figures are the TAP path's (h1, h2); p1, p2 serve the packet ports.
    if (host.kernel || host.kernel_backend || host.name == "p1" || host.name == "p2") continue;
    for (const pid_t pid : NamespacePids(host.ns)) {
      std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
      std::string name;
      std::getline(comm, name);
      if (name == "dove-switch") pids.push_back(pid);
    }
  }
  return pids;
}

// ---------------------------------------------------------------------------------------------
// The two paths.

struct Path {
  std::string name;  // "dove-switch" or "kernel"
  bool dove = false;
  std::string client, server;      // VMs
  std::string source_host;         // the client's host (h1 / k1)
  std::string target_host;         // the server's host (h2 / k2)
  std::vector<std::string> fresh;  // first-packet targets, on target_host
};

std::vector<double>& Side(Row& row, const Path& path) { return path.dove ? row.dove : row.kernel; }

// ---- TCP ----

struct CpuPids {
  std::vector<pid_t> switches;
  std::vector<pid_t> ksoftirqd;
  bool irq_time_accounting = false;  // add /proc/stat's irq+softirq to the process sums
};

struct TcpRun {
  double gbps = NAN;
  double gigabits = 0;
  CpuTimes cpu;       // deltas over the run
  double iperf3 = 0;  // utime+stime of the iperf3 client and server
};

// One iperf3 run. Client and server each run under `sh -c '...; cat /proc/$$/stat'`, so the
// shell's cutime/cstime give the iperf3 process's own CPU time after it exited.
TcpRun Iperf(const Lab& lab, const Path& path, const CpuPids& pids, int streams, bool reverse,
             int seconds) {
  TcpRun result;
  const VmInfo& server = lab.Vm(path.server);
  const std::string server_ns = lab.VmNamespace(path.server);
  const CpuTimes before = ReadCpu(pids.switches, pids.ksoftirqd);
  dove::lab::CommandResult served;
  std::thread server_thread([&] {
    served = lab.Exec(server_ns, {"sh", "-c", "iperf3 -s -1 >/dev/null 2>&1; cat /proc/$$/stat"},
                      std::chrono::seconds(seconds + 40));
  });
  std::this_thread::sleep_for(milliseconds(400));  // the server listens
  std::string command = "iperf3 -c " + server.ip + " -t " + std::to_string(seconds) + " -P " +
                        std::to_string(streams) + " -J" + (reverse ? " -R" : "") +
                        "; status=$?; cat /proc/$$/stat >&2; exit $status";
  auto run = lab.Exec(lab.VmNamespace(path.client), {"sh", "-c", command},
                      std::chrono::seconds(seconds + 30));
  if (run.exit_code != 0) {
    // The server still waits for a client: end it (the lab's namespace, our processes).
    for (const pid_t pid : NamespacePids(server_ns)) ::kill(pid, SIGKILL);
  }
  server_thread.join();
  const CpuTimes after = ReadCpu(pids.switches, pids.ksoftirqd);
  auto doc = json::parse(run.out, nullptr, false);
  if (run.exit_code != 0 || doc.is_discarded() || !doc.contains("end") ||
      !doc["end"].contains("sum_received")) {
    std::cerr << "dswitch_bench: iperf3 " << path.client << " -> " << server.ip
              << " failed: " << run.err.substr(0, 300) << run.out.substr(0, 300) << "\n";
    return result;
  }
  const auto& received = doc["end"]["sum_received"];
  result.gbps = received.value("bits_per_second", 0.0) / 1e9;
  result.gigabits = received.value("bytes", 0.0) * 8 / 1e9;
  result.cpu = after - before;
  result.iperf3 =
      ChildrenSeconds(ShellStatLine(run.err)) + ChildrenSeconds(ShellStatLine(served.out));
  return result;
}

void MeasureTcp(const Lab& lab, const Path& path, const CpuPids& pids, int seconds, Table& table) {
  struct Case {
    std::string name;
    int streams;
    bool reverse;
  };
  const std::vector<Case> cases = {{"tcp_1_stream_a_to_b", 1, false},
                                   {"tcp_1_stream_b_to_a", 1, true},
                                   {"tcp_4_streams_a_to_b", 4, false},
                                   {"tcp_4_streams_b_to_a", 4, true}};
  for (const auto& test : cases) {
    if (g_interrupted) return;
    const TcpRun run = Iperf(lab, path, pids, test.streams, test.reverse, seconds);
    Side(table[test.name + "_gbps"], path).push_back(run.gbps);
    if (std::isnan(run.gbps) || run.gigabits <= 0) continue;
    const double switches = path.dove ? run.cpu.switches : 0;
    const double softirq = pids.irq_time_accounting ? run.cpu.stat_softirq : 0;
    const double total = switches + run.iperf3 + run.cpu.ksoftirqd + softirq;
    Side(table[test.name + "_cpu_total_s_per_gbit"], path).push_back(total / run.gigabits);
    Row& switch_row = table[test.name + "_cpu_switch_s_per_gbit"];
    switch_row.dove_only = true;
    if (path.dove) switch_row.dove.push_back(switches / run.gigabits);
    Side(table[test.name + "_cpu_iperf3_s_per_gbit"], path).push_back(run.iperf3 / run.gigabits);
    Side(table[test.name + "_cpu_stat_kernel_s_per_gbit"], path)
        .push_back(run.cpu.stat_kernel / run.gigabits);
  }
}

// ---- small-packet rate ----

struct PpsTrial {
  double rate = 0;     // asked of the generator
  double offered = 0;  // what it sent, per second
  double sent = 0;
  double received = 0;
  double loss = 1;
  bool kept_up = false;  // sent >= 97 % of rate * seconds
  long long if_tx = -1;  // the sender's eth0 tx_packets delta
  long long if_rx = -1;  // the receiver's eth0 rx_packets delta
  double wrong_size = 0;
};

std::string UdpBlast() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "udp_blast").string();
}

// One offered rate from `sender_ns` to `receiver_ns` at `ip`, counted at the receiver.
PpsTrial PpsRun(const Lab& lab, const std::string& sender_ns, const std::string& receiver_ns,
                const std::string& ip, double rate, int run_id) {
  PpsTrial trial;
  trial.rate = rate;
  const std::string blast = UdpBlast();
  dove::lab::CommandResult received;
  std::thread receiver([&] {
    received = lab.Exec(receiver_ns,
                        {blast, "receive", "--port", std::to_string(kPort), "--seconds",
                         std::to_string(kPpsTrialSeconds + 2.5), "--idle", "0.4", "--size", "64",
                         "--run", std::to_string(run_id), "--interface", "eth0"},
                        std::chrono::seconds(30));
  });
  std::this_thread::sleep_for(milliseconds(250));  // the receiver binds its socket
  auto sent =
      lab.Exec(sender_ns,
               {blast, "send", "--to", ip + ":" + std::to_string(kPort), "--rate",
                std::to_string(static_cast<long long>(rate)), "--seconds",
                std::to_string(kPpsTrialSeconds), "--size", "64", "--run", std::to_string(run_id),
                "--interface", "eth0", "--threads", std::to_string(kSenderThreads)},
               std::chrono::seconds(30));
  receiver.join();
  const auto out = json::parse(sent.out, nullptr, false);
  const auto in = json::parse(received.out, nullptr, false);
  if (sent.exit_code != 0 || received.exit_code != 0 || out.is_discarded() || in.is_discarded()) {
    std::cerr << "dswitch_bench: udp_blast to " << ip << " failed: " << sent.err << received.err
              << "\n";
    return trial;
  }
  trial.sent = out.value("sent", 0.0);
  trial.offered = out.value("pps", 0.0);
  trial.received = in.value("received", 0.0);
  trial.wrong_size = in.value("wrong_size", 0.0);
  trial.if_tx = out.value("if_tx_packets", -1LL);
  trial.if_rx = in.value("if_rx_packets", -1LL);
  trial.kept_up = trial.sent >= 0.97 * rate * kPpsTrialSeconds;
  trial.loss = trial.sent > 0 ? std::max(0.0, trial.sent - trial.received) / trial.sent : 1;
  return trial;
}

PpsTrial PpsRun(const Lab& lab, const Path& path, double rate, int run_id) {
  return PpsRun(lab, lab.VmNamespace(path.client), lab.VmNamespace(path.server),
                lab.Vm(path.server).ip, rate, run_id);
}

struct PpsSearch {
  PpsTrial best;  // the highest offered rate that passed (best.offered == 0: none did)
  bool generator_bound = false;
  int trials = 0;
};

// Doubling from `start` until a rate loses >= 0.1 % (or the generator cannot keep up), then
// bisecting between the last rate that passed and the first that did not, to within 5 %.
PpsSearch SearchPps(const Lab& lab, const Path& path, double start, int& run_id) {
  PpsSearch search;
  double good = 0;
  double bad = 0;
  const auto passes = [&](const PpsTrial& trial) {
    return trial.kept_up && trial.loss < kLossLimit;
  };
  const auto keep = [&](const PpsTrial& trial) {
    if (trial.offered > search.best.offered) search.best = trial;
  };
  double rate = start;
  while (search.trials < 10 && !g_interrupted) {
    const PpsTrial trial = PpsRun(lab, path, rate, ++run_id);
    ++search.trials;
    if (!trial.kept_up && trial.loss < kLossLimit && trial.sent > 0) {
      keep(trial);  // the path carried all the generator could offer
      search.generator_bound = true;
      return search;
    }
    if (passes(trial)) {
      keep(trial);
      good = rate;
      rate *= 2;
      continue;
    }
    bad = rate;
    if (good > 0 || rate <= 2000) break;
    rate /= 2;  // the first rate already lost: come down until one passes
  }
  for (int step = 0;
       step < 4 && good > 0 && bad > good && (bad - good) / good > 0.05 && !g_interrupted; ++step) {
    const double mid = (good + bad) / 2;
    const PpsTrial trial = PpsRun(lab, path, mid, ++run_id);
    ++search.trials;
    if (passes(trial)) {
      keep(trial);
      good = mid;
    } else {
      bad = mid;
    }
  }
  return search;
}

// ---- ping RTT ----

std::vector<double> PingTimes(const std::string& out) {
  std::vector<double> rtts;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("time=");
    if (at != std::string::npos) rtts.push_back(std::stod(line.substr(at + 5)));
  }
  return rtts;
}

void MeasureRtt(const Lab& lab, const Path& path, Table& table, std::string& notes) {
  const VmInfo& server = lab.Vm(path.server);
  const auto run = lab.Exec(
      lab.VmNamespace(path.client),
      {"ping", "-n", "-c", std::to_string(kPingCount), "-i", kPingInterval, "-W", "1", server.ip},
      std::chrono::seconds(60));
  const auto rtts = PingTimes(run.out);
  if (rtts.size() < static_cast<size_t>(kPingCount)) {
    notes += "# rtt on the " + path.name + " path: " + std::to_string(rtts.size()) + " of " +
             std::to_string(kPingCount) + " replies\n";
  }
  Side(table["ping_rtt_p50_ms"], path).push_back(Percentile(rtts, 0.50));
  Side(table["ping_rtt_p99_ms"], path).push_back(Percentile(rtts, 0.99));
}

// ---- first packet ----

// One command to a switch's control socket ("cache", "ports"), its JSON answer.
std::optional<json> AskSwitch(const std::string& socket_path, const std::string& command) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  std::string text;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    const std::string line = command + "\n";
    if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      char buffer[16384];
      for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) {
        text.append(buffer, static_cast<size_t>(got));
      }
    }
  }
  ::close(fd);
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

// Whether the switch's cache holds the endpoint (nullopt: the switch did not answer).
std::optional<bool> Cached(const Lab& lab, const std::string& host, const VmInfo& vm) {
  const auto cache = AskSwitch(lab.ControlSocket(host), "cache");
  if (!cache || !cache->contains("endpoints")) return std::nullopt;
  for (const auto& entry : (*cache)["endpoints"]) {
    if (entry.value("endpoint_id", "") == vm.endpoint_id || entry.value("mac", "") == vm.mac) {
      return true;
    }
  }
  return false;
}

// Whether the switch has the VM's port open (nullopt: the switch did not answer).
std::optional<bool> PortOpen(const Lab& lab, const std::string& host, const VmInfo& vm) {
  const auto ports = AskSwitch(lab.ControlSocket(host), "ports");
  if (!ports || !ports->contains("ports")) return std::nullopt;
  for (const auto& port : (*ports)["ports"]) {
    if (port.value("endpoint_id", "") == vm.endpoint_id) return port.value("open", false);
  }
  return false;
}

bool WaitFor(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return condition();
}

struct FirstStats {
  int measured = 0;
  int not_fresh = 0;    // the source switch still had the target cached: sample discarded
  int failed = 0;       // no reply, or the endpoint did not come back
  int resolved = 0;     // the source switch had the target cached after the ping
  std::string problem;  // the first failure, for the notes
};

// The RTT in ms of the first ping from the path's client to `target` once the destination is
// fresh (see docs/benchmarks.md), or NAN.
double FirstPacket(Lab& lab, const Path& path, const std::string& target, FirstStats& stats) {
  const VmInfo& vm = lab.Vm(target);
  const std::string client_ns = lab.VmNamespace(path.client);
  const auto fail = [&](const std::string& why) {
    ++stats.failed;
    if (stats.problem.empty()) stats.problem = why;
    return NAN;
  };
  if (path.dove) {
    // Forget the target: delete its endpoint, wait until the source switch dropped it from its
    // cache and the target's switch closed its port, create it again as it was, wait for the
    // port, and wire the new TAP to the VM.
    if (auto deleted = lab.DeleteEndpoint(target); !deleted) return fail(deleted.error());
    const bool gone = WaitFor(
        [&] {
          return Cached(lab, path.source_host, vm) == std::optional<bool>(false) &&
                 PortOpen(lab, path.target_host, vm) == std::optional<bool>(false);
        },
        milliseconds(3000));
    if (!gone) return fail("endpoint " + target + " was not forgotten within 3 s");
    json body = {{"id", vm.endpoint_id}, {"network_id", vm.network_id},
                 {"mac", vm.mac},        {"switch_name", vm.host},
                 {"port_name", vm.tap},  {"ips", json::array({vm.ip})}};
    if (auto created = lab.ControllerRest("POST", "/v1/endpoints", body); !created) {
      return fail(created.error());
    }
    if (!WaitFor([&] { return PortOpen(lab, path.target_host, vm) == std::optional<bool>(true); },
                 milliseconds(3000))) {
      return fail("the port of " + target + " did not open again within 3 s");
    }
    if (auto wired = lab.RewirePort(target); !wired) return fail(wired.error());
    // Let the switches' own follow-up (the Attach, the controller's updates) pass first.
    std::this_thread::sleep_for(milliseconds(100));
    if (Cached(lab, path.source_host, vm) != std::optional<bool>(false)) {
      ++stats.not_fresh;
      return NAN;
    }
  } else {
    // The kernel host's VXLAN entries are static; what it learns is its bridge's MAC table.
    const std::string bridge =
        "br" + std::to_string(lab.spec().NetworkIndexOf(*lab.spec().FindVm(target)));
    lab.Exec(lab.HostNamespace(path.source_host),
             {"ip", "link", "set", bridge, "type", "bridge", "fdb_flush"});
  }
  lab.Exec(client_ns, {"ip", "neigh", "flush", "to", vm.ip, "dev", "eth0"});
  auto ping = lab.Exec(client_ns, {"ping", "-n", "-c", "1", "-W", "2", vm.ip});
  const auto rtts = PingTimes(ping.out);
  if (rtts.empty()) return fail("no reply from " + target + " (" + vm.ip + ")");
  ++stats.measured;
  if (path.dove && Cached(lab, path.source_host, vm) == std::optional<bool>(true)) {
    ++stats.resolved;
  }
  return rtts.front();
}

// ---------------------------------------------------------------------------------------------
// The other benches: pipeline_bench (allocations per packet, packets/s) and cache_update_bench
// (apply time per change), run when built next to this binary; their "name: value [unit]" or
// "name value [unit]" lines become rows.

void RunSiblingBenches(Table& table, std::string& notes) {
  const auto dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  // "name ..... value [unit]", "name: value [unit]" or "name value [unit]": the name is what
  // comes before the run of spaces, dots, colons or '=' that precedes the last number.
  static const std::regex kFigure(
      R"(^\s*([A-Za-z].*?)[\s.:=]+(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z%/µ]+[A-Za-z0-9%/µ]*)?\s*$)");
  for (const std::string bench : {"pipeline_bench", "cache_update_bench"}) {
    const auto path = dir / bench;
    if (!std::filesystem::exists(path)) {
      notes += "# " + bench + ": not built next to dswitch_bench, skipped\n";
      continue;
    }
    std::cerr << "dswitch_bench: running " << bench << "\n";
    const auto run = dove::lab::RunCommand({path.string()}, std::chrono::seconds(600));
    if (run.exit_code != 0) {
      notes += "# " + bench + ": exit " + std::to_string(run.exit_code) + ": " +
               Trim(run.err).substr(0, 200) + "\n";
    }
    std::istringstream lines(run.out);
    int rows = 0;
    for (std::string line; std::getline(lines, line) && rows < 60;) {
      std::smatch match;
      if (!std::regex_match(line, match, kFigure)) continue;
      std::string name = bench + ".";
      bool gap = false;  // one '_' for each run of other characters
      for (const char c : Trim(match[1].str()) + (match[3].matched ? " " + match[3].str() : "")) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
          gap = true;
          continue;
        }
        if (gap && name.back() != '.') name += '_';
        gap = false;
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      Row& row = table[name];
      row.dove_only = true;
      row.dove.push_back(std::stod(match[2].str()));
      ++rows;
    }
    if (rows == 0) notes += "# " + bench + ": no \"name value\" lines in its output\n";
  }
}

// ---- the kernel backend's misses ----

// Creates kMissTargets endpoints of da's network on the static kernel host k2 (the controller
// knows them; nothing runs behind them: only d1's entries for them are measured), then times
// da's first ARP request for each to the PERMANENT neighbour entry in d1's namespace.
void MeasureMisses(Lab& lab, Table& table, std::string& notes) {
  const VmInfo& da = lab.Vm("da");
  std::vector<std::string> targets;
  for (int i = 0; i < kMissTargets; ++i) {
    const std::string ip = "10.30.0." + std::to_string(100 + i);
    char mac[32];
    std::snprintf(mac, sizeof mac, "02:00:00:aa:00:%02x", i);
    auto made = lab.ControllerRest("POST", "/v1/endpoints",
                                   {{"network_id", da.network_id},
                                    {"mac", mac},
                                    {"switch_name", "k2"},
                                    {"port_name", "m" + std::to_string(i)},
                                    {"ips", json::array({ip})}});
    if (!made) {
      notes += "# miss: creating endpoint " + ip + " failed: " + made.error() + "\n";
      continue;
    }
    targets.push_back(ip);
  }
  std::this_thread::sleep_for(milliseconds(1000));  // the controller has pushed what it pushes
  auto latency = dove::bench::MeasureMissToEntry(
      lab.Host("d1").ns, {lab.VmNamespace("da"), da.mac, da.ip}, targets, milliseconds(2000));
  if (!latency) {
    notes += "# miss: " + latency.error() + "\n";
    return;
  }
  for (const auto& [name, percentile] :
       std::vector<std::pair<std::string, double>>{{"kernel_backend_miss_to_entry_p50_ms", 0.50},
                                                   {"kernel_backend_miss_to_entry_p99_ms", 0.99}}) {
    Row& row = table[name];
    row.percentile = percentile;
    row.dove_only = true;
    row.dove = latency->ms;
  }
  notes += "# miss: " + std::to_string(latency->ms.size()) + " of " +
           std::to_string(targets.size()) + " targets got their entry within 2 s, " +
           std::to_string(latency->timed_out) + " timed out, listener overruns " +
           std::to_string(latency->listener_overruns) +
           "; timed by a NeighListener in d1's namespace (from just before the AF_PACKET send "
           "of the ARP request in da to the RTM_NEWNEIGH NUD_PERMANENT for its target), not by "
           "the switch\n";
}

// Every numeric counter of the switch's "counters" answer (counters and drops), flattened.
std::map<std::string, double> SwitchCounters(const Lab& lab, const std::string& host) {
  std::map<std::string, double> values;
  const auto doc = AskSwitch(lab.ControlSocket(host), "counters");
  if (!doc) return values;
  const std::function<void(const std::string&, const json&)> walk = [&](const std::string& prefix,
                                                                        const json& node) {
    if (node.is_number()) {
      values[prefix] = node.get<double>();
    } else if (node.is_object()) {
      for (const auto& [key, child] : node.items()) {
        std::string name = prefix;
        if (!name.empty()) name += ".";
        name += key;
        walk(name, child);
      }
    }
  };
  walk("", *doc);
  return values;
}

// kFloodRate misses/s from da for kFloodSeconds while d1's control socket is asked "show"
// every 100 ms and dc pings dd (another network, the same two hosts) 5 times a second.
void MeasureFlood(Lab& lab, Table& table, std::string& notes) {
  const VmInfo& da = lab.Vm("da");
  const auto before = SwitchCounters(lab, "d1");
  auto flood = dove::bench::MissFlood::Start({lab.VmNamespace("da"), da.mac, da.ip}, kFloodRate);
  if (!flood) {
    notes += "# flood: " + flood.error() + "\n";
    return;
  }
  const int pings = kFloodSeconds * 5;
  dove::lab::CommandResult pinged;
  std::thread pinger([&] {
    pinged =
        lab.Exec(lab.VmNamespace("dc"),
                 {"ping", "-c", std::to_string(pings), "-i", "0.2", "-W", "1", lab.Vm("dd").ip},
                 std::chrono::seconds(kFloodSeconds + 10));
  });
  int asked = 0;
  int answered = 0;
  double slowest_ms = 0;
  const auto end = Clock::now() + std::chrono::seconds(kFloodSeconds);
  while (Clock::now() < end && !g_interrupted) {
    const auto begin = Clock::now();
    const auto shown = AskSwitch(lab.ControlSocket("d1"), "show");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
    ++asked;
    if (shown) {
      ++answered;
      slowest_ms = std::max(slowest_ms, ms);
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  (*flood)->Stop();
  pinger.join();
  const double rate = static_cast<double>((*flood)->Sent()) / (*flood)->Seconds();
  std::smatch match;
  int replies = 0;
  if (std::regex_search(pinged.out, match, std::regex("([0-9]+) received"))) {
    replies = std::stoi(match[1].str());
  }
  std::this_thread::sleep_for(milliseconds(1000));  // what was queued is handled and counted
  const auto after = SwitchCounters(lab, "d1");
  const bool alive = AskSwitch(lab.ControlSocket("d1"), "show").has_value();
  const auto dove_row = [&](const std::string& name, double value) {
    Row& row = table[name];
    row.dove_only = true;
    row.dove.push_back(value);
  };
  dove_row("kernel_backend_flood_misses_sent_per_s", rate);
  dove_row("kernel_backend_flood_other_network_ping_replies_pct", 100.0 * replies / pings);
  dove_row("kernel_backend_flood_control_socket_answered_pct",
           asked == 0 ? NAN : 100.0 * answered / asked);
  dove_row("kernel_backend_flood_control_socket_slowest_ms", slowest_ms);
  char line[512];
  std::snprintf(line, sizeof line,
                "# flood: %llu ARP requests for distinct unknown IPs (10.200.x.y) from da in "
                "%.1f s (%.0f/s); d1's control socket answered %d of %d \"show\" (slowest "
                "%.1f ms); dc -> dd (kb/other) %d of %d pings answered; d1's switch %s after "
                "the flood\n",
                static_cast<unsigned long long>((*flood)->Sent()), (*flood)->Seconds(), rate,
                answered, asked, slowest_ms, replies, pings,
                alive ? "still answers" : "DOES NOT ANSWER");
  notes += line;
  std::string changed = "# flood: d1's counters that changed (after - before):";
  bool any = false;
  for (const auto& [name, value] : after) {
    const auto was = before.find(name);
    const double delta = value - (was == before.end() ? 0 : was->second);
    if (delta == 0) continue;
    changed += " " + name + "=" + Number(delta);
    any = true;
  }
  notes += changed + (any ? "" : " none (the switch reports no counter that moved)") + "\n";
}

int Run(int argc, char** argv) {
  std::string error;
  const auto parsed = ParseOptions(argc, argv, error);
  if (!parsed) {
    std::cerr << "dswitch_bench: " << error << " (see dswitch_bench --help)\n";
    return 2;
  }
  const Options& options = *parsed;
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const bool tcp = options.only.contains("tcp");
  const bool pps = options.only.contains("pps");
  const bool rtt = options.only.contains("rtt");
  const bool first = options.only.contains("first");
  const bool tools = options.only.contains("tools");
  const bool kbackend = options.only.contains("kbackend");
  const bool miss = options.only.contains("miss");
  const bool flood = options.only.contains("flood");
  const bool packet_ports = options.only.contains("packet");
  const bool kernel_backend = kbackend || miss || flood;
  const bool lab_needed = tcp || pps || rtt || first || kernel_backend || packet_ports;
  if (lab_needed && ::geteuid() != 0) {
    std::cerr << "dswitch_bench: needs root (it builds network namespaces); run it with sudo\n";
    return 2;
  }
  if ((tcp || kbackend || packet_ports) &&
      dove::lab::RunCommand({"iperf3", "--version"}).exit_code != 0) {
    std::cerr << "dswitch_bench: iperf3 is not installed (apt-get install iperf3), or leave "
                 "tcp out with --only\n";
    return 1;
  }
  if (pps && !std::filesystem::exists(UdpBlast())) {
    std::cerr << "dswitch_bench: " << UdpBlast()
              << " is missing (build the udp_blast target), or leave pps out with --only\n";
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const auto started = Clock::now();
  Table table;
  std::string notes;
  const bool irq_time_accounting = IrqTimeAccounting().value_or(false);

  if (lab_needed) {
    std::ostringstream spec_text;
    spec_text << "host h1\nhost h2\nhost k1 kernel\nhost k2 kernel\n"
              << "network dove/bench 10.10.0.0/24\nnetwork kern/bench 10.20.0.0/24\n"
              << "vm a h1 dove/bench 10.10.0.1\nvm b h2 dove/bench 10.10.0.2\n"
              << "vm ka k1 kern/bench 10.20.0.1\nvm kb k2 kern/bench 10.20.0.2\n";
    if (kernel_backend) {
      // dove-switch --backend kernel on d1, d2; kb/other is the flood's bystander network.
      spec_text << "host d1 dove-kernel\nhost d2 dove-kernel\n"
                << "network kb/bench 10.30.0.0/24\nnetwork kb/other 10.40.0.0/24\n"
                << "vm da d1 kb/bench 10.30.0.1\nvm db d2 kb/bench 10.30.0.2\n"
                << "vm dc d1 kb/other 10.40.0.1\nvm dd d2 kb/other 10.40.0.2\n"
                // kt/tracked, on hosts of its own: an allow starts in it, so its bridges
                // pass the IP hooks (br_netfilter on for them alone), routed arrivals are
                // tracked and d3, d4 keep connection state. d1 and d2 have no allow: no
                // conntrack hook runs there (RoutePlan::connection_state).
                << "host d3 dove-kernel\nhost d4 dove-kernel\n"
                << "network kt/tracked 10.50.0.0/24\nnetwork kt/other 10.60.0.0/24\n"
                << "vm ta d3 kt/tracked 10.50.0.1\nvm tb d4 kt/tracked 10.50.0.2\n"
                << "policy kt tracked other allow tcp 5201\n";
    }
    if (packet_ports) {
      // The switches of p1, p2 serve the VMs' veths themselves (no TAP, no redirect).
      spec_text << "host p1\nhost p2\nnetwork pk/bench 10.80.0.0/24\n"
                << "vm pa p1 pk/bench 10.80.0.1 packet\nvm pb p2 pk/bench 10.80.0.2 packet\n";
    }
    if (first) {
      for (int i = 0; i < kFreshTargets; ++i) {
        spec_text << "vm f" << i << " h2 dove/bench 10.10.0." << 10 + i << "\n";
        spec_text << "vm kf" << i << " k2 kern/bench 10.20.0." << 10 + i << "\n";
      }
    }
    auto spec = dove::lab::ParseSpec(spec_text.str());
    if (!spec) {
      std::cerr << "dswitch_bench: " << spec.error() << "\n";
      return 1;
    }
    if (auto cleaned = Lab::CleanLeftovers(); !cleaned) {
      std::cerr << "dswitch_bench: " << cleaned.error() << "\n";
    }
    const std::string bin_dir =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "src")
            .string();
    auto lab_or =
        Lab::Up(*spec, {.bin_dir = bin_dir, .progress = &std::cerr, .cancel = &g_interrupted});
    if (!lab_or) {
      std::cerr << "dswitch_bench: " << lab_or.error() << "\n";
      return 1;
    }
    Lab& lab = **lab_or;
    const CpuPids cpu_pids{.switches = SwitchPids(lab),
                           .ksoftirqd = KsoftirqdPids(),
                           .irq_time_accounting = irq_time_accounting};
    const auto& switches = cpu_pids.switches;
    PrintMachine(lab, dove::lab::FindBinaries(bin_dir).switch_binary);
    std::fflush(stdout);
    if (switches.size() != 2) {
      notes += "# found " + std::to_string(switches.size()) +
               " dove-switch processes (expected 2): CPU figures count only those\n";
    }

    Path dove_path{.name = "dove-switch",
                   .dove = true,
                   .client = "a",
                   .server = "b",
                   .source_host = "h1",
                   .target_host = "h2",
                   .fresh = {}};
    Path kernel_path{.name = "kernel",
                     .dove = false,
                     .client = "ka",
                     .server = "kb",
                     .source_host = "k1",
                     .target_host = "k2",
                     .fresh = {}};
    const Path backend_path{.name = "kernel-backend",
                            .dove = true,  // its figures go in the dove-switch column
                            .client = "da",
                            .server = "db",
                            .source_host = "d1",
                            .target_host = "d2",
                            .fresh = {}};
    if (first) {
      for (int i = 0; i < kFreshTargets; ++i) {
        dove_path.fresh.push_back("f" + std::to_string(i));
        kernel_path.fresh.push_back("kf" + std::to_string(i));
      }
    }
    const Path packet_path{.name = "packet-port",
                           .dove = true,  // its figures go in the dove-switch column
                           .client = "pa",
                           .server = "pb",
                           .source_host = "p1",
                           .target_host = "p2",
                           .fresh = {}};
    if (packet_ports) {
      lab.Ping("pa", lab.Vm("pb").ip, 2, std::chrono::seconds(1));
      lab.Ping("pb", lab.Vm("pa").ip, 2, std::chrono::seconds(1));
    }
    const Path tracked_path{.name = "kernel-backend-tracked",
                            .dove = true,
                            .client = "ta",
                            .server = "tb",
                            .source_host = "d3",
                            .target_host = "d4",
                            .fresh = {}};
    if (kernel_backend) {
      lab.Ping("ta", lab.Vm("tb").ip, 2, std::chrono::seconds(1));
      lab.Ping("tb", lab.Vm("ta").ip, 2, std::chrono::seconds(1));
      lab.Ping("da", lab.Vm("db").ip, 2, std::chrono::seconds(1));
      // What decides the kernel backend's cost: the host's br_netfilter switch, each
      // bridge's own (host_routing.h), and whether conntrack runs at all (the ruleset's
      // conntrack expressions; the host's connection entries after the pings above).
      for (const char* host : {"d1", "d3"}) {
        const auto shown = lab.Exec(
            lab.HostNamespace(host),
            {"sh", "-c",
             "echo bridge-nf-call-iptables=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables "
             "2>/dev/null || echo absent) conntrack_rules=$(nft list table inet dove | grep "
             "-cwE 'ct|notrack') conntrack_entries=$(cat "
             "/proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0) $(ip -d link "
             "show type bridge | grep -oE '^[0-9]+: [a-z0-9]+|nf_call_iptables [01]' | paste "
             "-sd' ')"});
        notes += std::string("# kbackend host ") + host + ": " + shown.out;
      }
      lab.Ping("db", lab.Vm("da").ip, 2, std::chrono::seconds(1));
      lab.Ping("dc", lab.Vm("dd").ip, 2, std::chrono::seconds(1));
    }
    // Warm both paths (ARP, resolves; the targets learn their sources' MACs once, so that a
    // target's reply never waits for its own ARP).
    for (const Path* path : {&dove_path, &kernel_path}) {
      lab.Ping(path->client, lab.Vm(path->server).ip, 2, std::chrono::seconds(1));
      lab.Ping(path->server, lab.Vm(path->client).ip, 2, std::chrono::seconds(1));
      for (const auto& target : path->fresh) {
        lab.Ping(path->client, lab.Vm(target).ip, 1, std::chrono::seconds(1));
      }
    }

    std::map<std::string, double> pps_start = {{"dove-switch", 50000}, {"kernel", 50000}};
    std::map<std::string, FirstStats> first_stats;
    std::map<std::string, std::vector<double>> first_samples;
    std::map<std::string, std::chrono::duration<double>> section_time;
    int run_id = static_cast<int>(::getpid() % 1000) * 1000;
    const int fresh_per_round = (options.fresh + options.rounds - 1) / options.rounds;
    int fresh_done = 0;
    for (int round = 0; round < options.rounds && !g_interrupted; ++round) {
      std::cerr << "dswitch_bench: round " << round + 1 << "/" << options.rounds << "\n";
      // Which path goes first alternates from round to round.
      const std::vector<const Path*> order =
          round % 2 == 0 ? std::vector<const Path*>{&dove_path, &kernel_path}
                         : std::vector<const Path*>{&kernel_path, &dove_path};
      const auto timed = [&](const std::string& section, const std::function<void()>& work) {
        const auto begin = Clock::now();
        work();
        section_time[section] += Clock::now() - begin;
      };
      if (tcp) {
        timed("tcp", [&] {
          for (const Path* path : order) MeasureTcp(lab, *path, cpu_pids, options.seconds, table);
        });
      }
      if (kbackend) {
        timed("kbackend", [&] {
          // The kernel backend (a network without allows, and kt/tracked) and the static
          // kernel VXLAN back to back, the order reversed every other round.
          const std::vector<const Path*> kb_order =
              round % 2 == 0 ? std::vector<const Path*>{&backend_path, &tracked_path, &kernel_path}
                             : std::vector<const Path*>{&kernel_path, &tracked_path, &backend_path};
          for (const int streams : {1, 4}) {
            const std::string suffix = streams == 1 ? "tcp_1_stream_gbps" : "tcp_4_streams_gbps";
            for (const Path* path : kb_order) {
              if (g_interrupted) break;
              const TcpRun run = Iperf(lab, *path, cpu_pids, streams, false, options.seconds);
              if (path == &tracked_path) {
                table["kernel_backend_tracked_" + suffix].dove.push_back(run.gbps);
              } else if (path == &kernel_path) {
                // The same reference for both rows.
                table["kernel_backend_" + suffix].kernel.push_back(run.gbps);
                table["kernel_backend_tracked_" + suffix].kernel.push_back(run.gbps);
              } else {
                table["kernel_backend_" + suffix].dove.push_back(run.gbps);
              }
            }
          }
        });
      }
      if (packet_ports) {
        timed("packet", [&] {
          // Packet-socket ports and TAP ports back to back, the order reversed every other
          // round; the TAP path (a -> b) is the reference.
          const std::vector<const Path*> packet_order =
              round % 2 == 0 ? std::vector<const Path*>{&packet_path, &dove_path}
                             : std::vector<const Path*>{&dove_path, &packet_path};
          for (const int streams : {1, 4}) {
            for (const bool reverse : {false, true}) {
              const std::string name = std::string("packet_port_tcp_") +
                                       (streams == 1 ? "1_stream" : "4_streams") +
                                       (reverse ? "_b_to_a" : "_a_to_b") + "_gbps";
              for (const Path* path : packet_order) {
                if (g_interrupted) break;
                const TcpRun run = Iperf(lab, *path, cpu_pids, streams, reverse, options.seconds);
                if (path == &packet_path) {
                  table[name].dove.push_back(run.gbps);
                } else {
                  table[name].kernel.push_back(run.gbps);
                }
              }
            }
          }
        });
      }
      if (pps) {
        timed("pps", [&] {
          // The generator's own ceiling right now: to 127.0.0.1 inside the kernel path's
          // sending VM, asked for more than it can do.
          const PpsTrial reference =
              PpsRun(lab, lab.VmNamespace(kernel_path.client), lab.VmNamespace(kernel_path.client),
                     "127.0.0.1", 5e6, ++run_id);
          char reference_line[300];
          std::snprintf(reference_line, sizeof reference_line,
                        "# pps round %d reference: udp_blast to 127.0.0.1 inside vm %s (no "
                        "VXLAN at all): %.0f/s sent, %.0f received\n",
                        round + 1, kernel_path.client.c_str(), reference.offered,
                        reference.received / kPpsTrialSeconds);
          notes += reference_line;
          for (const Path* path : order) {
            if (g_interrupted) break;
            const auto search = SearchPps(lab, *path, pps_start[path->name], run_id);
            Row& row = table["udp_64b_payload_pps_below_0.1pct_loss"];
            Side(row, *path).push_back(search.best.offered > 0 ? search.best.offered : NAN);
            if (search.best.offered > 0) pps_start[path->name] = search.best.offered / 2;
            char line[1024];
            std::snprintf(
                line, sizeof line,
                "# pps round %d %s: %.0f/s offered, %.0f sent, %.0f received (loss %.4f %%), "
                "sender eth0 tx %lld, receiver eth0 rx %lld, wrong-size datagrams %.0f; "
                "%d trials%s\n",
                round + 1, path->name.c_str(), search.best.offered, search.best.sent,
                search.best.received, search.best.loss * 100, search.best.if_tx, search.best.if_rx,
                search.best.wrong_size, search.trials,
                search.generator_bound
                    ? "; GENERATOR-BOUND: the senders could offer no more and the path lost "
                      "< 0.1 % of it, so the figure is a lower bound (on the kernel path the "
                      "sending syscall itself carries each datagram through the whole path in "
                      "softirq, so there this is also the path's CPU limit)"
                    : "");
            notes += line;
          }
        });
      }
      if (rtt) {
        timed("rtt", [&] {
          for (const Path* path : order) MeasureRtt(lab, *path, table, notes);
        });
      }
      if (first) {
        timed("first", [&] {
          const int count = std::min(fresh_per_round, options.fresh - fresh_done);
          for (int i = 0; i < count && !g_interrupted; ++i) {
            for (const Path* path : order) {
              const std::string& target =
                  path->fresh[static_cast<size_t>(fresh_done + i) % path->fresh.size()];
              const double ms = FirstPacket(lab, *path, target, first_stats[path->name]);
              if (!std::isnan(ms)) first_samples[path->name].push_back(ms);
            }
          }
          fresh_done += count;
        });
      }
    }
    if (first) {
      for (const auto& [name, percentile] : std::vector<std::pair<std::string, double>>{
               {"first_packet_p50_ms", 0.50}, {"first_packet_p99_ms", 0.99}}) {
        Row& row = table[name];
        row.percentile = percentile;
        row.dove = first_samples["dove-switch"];
        row.kernel = first_samples["kernel"];
      }
      for (const auto& [name, stats] : first_stats) {
        notes += "# first packet " + name + ": " + std::to_string(stats.measured) + " measured, " +
                 std::to_string(stats.not_fresh) + " discarded as not fresh, " +
                 std::to_string(stats.failed) + " failed" +
                 (name == "dove-switch"
                      ? ", " + std::to_string(stats.resolved) +
                            " cached by h1 after the ping (resolved through the controller)"
                      : std::string()) +
                 (stats.problem.empty() ? std::string() : "; first failure: " + stats.problem) +
                 "\n";
      }
    }
    if (miss && !g_interrupted) {
      const auto begin = Clock::now();
      MeasureMisses(lab, table, notes);
      section_time["miss"] += Clock::now() - begin;
    }
    if (flood && !g_interrupted) {
      const auto begin = Clock::now();
      MeasureFlood(lab, table, notes);
      section_time["flood"] += Clock::now() - begin;
    }
    std::string times = "# time per section over all rounds:";
    for (const auto& [section, seconds] : section_time) {
      char part[64];
      std::snprintf(part, sizeof part, " %s %.0f s", section.c_str(), seconds.count());
      times += part;
    }
    notes += times + "\n";
    std::cerr << "dswitch_bench: tearing the lab down\n";
    if (auto down = lab.Down(); !down) std::cerr << "dswitch_bench: " << down.error() << "\n";
  }
  if (tools && !g_interrupted) RunSiblingBenches(table, notes);

  std::printf(
      "# method (docs/benchmarks.md): %d round(s), each path measured back to back, "
      "the first path alternating\n",
      options.rounds);
  if (tcp) {
    std::printf(
        "# tcp: iperf3 -t %d, Gbit/s received (all streams). cpu_*_s_per_gbit: CPU-seconds "
        "from just before the iperf3 server starts until both ends exited, per gigabit "
        "received:\n"
        "#   cpu_total = utime+stime of both dove-switch processes (dove-switch path only) + "
        "the iperf3 client and server (both paths, the same programs) + the ksoftirqd "
        "threads%s.\n"
        "#   This kernel: %s.\n"
        "#   cpu_switch: the two dove-switch processes alone. cpu_iperf3: the two iperf3 "
        "processes (the VMs' TCP stacks and whatever softirq ran in their context).\n"
        "#   cpu_stat_kernel: machine-wide /proc/stat system+irq+softirq (tick-sampled): it "
        "holds both iperf3 ends' and the switches' kernel time, alike on both paths, and "
        "every other process's on the machine (noisy when it is shared); no user time.\n",
        options.seconds, irq_time_accounting ? " + /proc/stat irq+softirq" : "",
        irq_time_accounting
            ? "CONFIG_IRQ_TIME_ACCOUNTING=y: irq/softirq time is kept apart from tasks, so "
              "/proc/stat's irq+softirq is added"
            : "no CONFIG_IRQ_TIME_ACCOUNTING (tick accounting): softirq work is charged to "
              "the task it ran in, so on the kernel path the whole VXLAN path (bridge, vxlan, "
              "underlay, decapsulation, delivery) is inside the iperf3 processes and ksoftirqd, "
              "and on the dove-switch path the part the switches trigger is inside the "
              "switches");
  }
  if (pps) {
    std::printf(
        "# pps: UDP datagrams of 64 payload bytes (106-byte frames in the VM, 156 bytes on the "
        "underlay), sendmmsg paced from %d sender threads, %.0f s per offered rate; the highest "
        "rate the generator "
        "achieved with < 0.1 %% loss at the receiver's socket (doubling, then 4 bisections).\n"
        "#   Frames = datagrams: the sender uses no UDP_SEGMENT, the receiver's socket has no "
        "UDP_GRO and checks each datagram's length, and the VMs' eth0 counters are shown.\n",
        kSenderThreads, kPpsTrialSeconds);
  }
  if (rtt) {
    std::printf("# rtt: %d pings at %s s per round, p50/p99 of every RTT (nearest rank)\n",
                kPingCount, kPingInterval);
  }
  if (first) {
    std::printf(
        "# first: ping -c 1 to a target VM, pooled over the rounds. Fresh means: dove-switch: "
        "the target's endpoint was deleted through the REST API and created again (same MAC, "
        "IP, port), h1's cache checked (control socket) not to hold it, the source VM's "
        "neighbour entry flushed; kernel: the source VM's neighbour entry and k1's bridge's "
        "learned MACs flushed (the VXLAN entries are static: proxy ARP answers from them).\n"
        "#   The target VMs keep their neighbour entry for the source, so their reply does not "
        "ARP; %d target VMs per path take turns.\n",
        kFreshTargets);
  }
  if (kbackend) {
    std::printf(
        "# kbackend: iperf3 -t %d from da (d1) to db (d2), both hosts dove-switch --backend "
        "kernel, against ka (k1) -> kb (k2), the kernel's VXLAN with static entries, back to "
        "back in each round; rows kernel_backend_tcp_*: the dove-switch column is the kernel "
        "backend, the kernel column the static kernel VXLAN, ratio = backend / static; "
        "kernel_backend_tcp_* is network kb/bench on d1, d2 (no allow policy on those "
        "hosts: their bridges skip the IP hooks and no conntrack hook runs), "
        "kernel_backend_tracked_tcp_* VMs ta (d3) -> tb (d4) in kt/tracked, where an allow "
        "starts (br_netfilter on for its bridges, connections tracked on d3, d4), against "
        "the same static runs; "
        "*_round_ratio: the median of each round's own ratio (its runs were back to back).\n",
        options.seconds);
  }
  if (packet_ports) {
    std::printf(
        "# packet: iperf3 -t %d from pa (p1) to pb (p2), whose veths the switches serve through "
        "packet sockets (port_kind PORT_KIND_PACKET: TPACKET_V2 receive ring, PACKET_VNET_HDR, "
        "the port guard on the veth's ingress), against a (h1) -> b (h2) on the switches' own "
        "TAPs (each with the lab's tc redirect to the VM's veth), back to back in each round; "
        "rows packet_port_tcp_*: the dove-switch column is the packet ports, the kernel column "
        "the TAP ports, ratio = packet / TAP; *_round_ratio: the median of each round's own "
        "ratio.\n",
        options.seconds);
    for (const char* name :
         {"packet_port_tcp_1_stream_a_to_b_gbps", "packet_port_tcp_1_stream_b_to_a_gbps",
          "packet_port_tcp_4_streams_a_to_b_gbps", "packet_port_tcp_4_streams_b_to_a_gbps"}) {
      const Row rounds = table[name];
      Row& paired = table[std::string(name) + "_round_ratio"];
      paired.dove_only = true;
      for (size_t i = 0; i < rounds.dove.size() && i < rounds.kernel.size(); ++i) {
        if (rounds.kernel[i] > 0) paired.dove.push_back(rounds.dove[i] / rounds.kernel[i]);
      }
    }
  }
  if (kbackend) {
    // Each round's runs were back to back: the ratio within a round is steadier under the
    // machine's noise than the ratio of the medians (both printed).
    for (const char* name :
         {"kernel_backend_tcp_1_stream_gbps", "kernel_backend_tracked_tcp_1_stream_gbps",
          "kernel_backend_tcp_4_streams_gbps", "kernel_backend_tracked_tcp_4_streams_gbps"}) {
      const Row rounds = table[name];
      Row& paired = table[std::string(name) + "_round_ratio"];
      paired.dove_only = true;
      for (size_t i = 0; i < rounds.dove.size() && i < rounds.kernel.size(); ++i) {
        if (rounds.kernel[i] > 0) paired.dove.push_back(rounds.dove[i] / rounds.kernel[i]);
      }
    }
  }
  std::fputs(notes.c_str(), stdout);
  std::printf("# %-46s %-6s %-38s %-33s %s\n", "name", "n", "dove-switch median [min-max]",
              "kernel median [min-max]", "ratio dove/kernel");
  bool complete = !g_interrupted;
  for (const auto& row : table.rows()) {
    std::printf("%s\n", FormatRow(row).c_str());
    for (const double value : row.dove) complete = complete && !std::isnan(value);
    for (const double value : row.kernel) complete = complete && !std::isnan(value);
  }
  std::printf("# total run time %.0f s\n",
              std::chrono::duration<double>(Clock::now() - started).count());
  if (g_interrupted) {
    std::cerr << "dswitch_bench: interrupted\n";
    return 130;
  }
  return complete ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    // A lab built so far is torn down by its destructor during unwinding.
    std::cerr << "dswitch_bench: " << e.what() << "\n";
    return 1;
  }
}
