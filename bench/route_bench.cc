// route_bench: the figures of issue 14 in one dove-lab topology: routed against switched TCP
// throughput, the time from a policy API call returning to the switch enforcing it, and the
// time a stock DHCP client takes from its DISCOVER to its lease.
//
// Lab: dove-switch hosts h1, h2; tenant b with networks web (10.1.0.0/24) and db (10.2.0.0/24),
// gateways .1. VM a (web, h1) sends; s (web, h2) is the switched peer, r (db, h2) the routed
// peer, p (db, h2) the policy probes' target, c (web, h2) a busybox udhcpc client. Policies:
// web -> db TCP 5201 (iperf3) allowed; UDP 7777 (the probes) toggled by the benchmark.
//
// Figures (one line each: NAME n=N V [LO .. HI] UNIT; "# " lines say what is measured):
//   tcp     iperf3 a -> s (switched) and a -> r (routed), both h1 -> h2, one stream, the two
//           back to back per round, the order alternating; Gbit/s medians over rounds with
//           min/max, and the routed/switched ratio per round (median [min-max]);
//   policy  a sends a UDP probe to p every 1 ms on a fixed schedule (python, CLOCK_MONOTONIC
//           send times in the payload); p logs each arrival. An allow of UDP 7777 web -> db is
//           created, then deleted, alternately. allow: the latency is the scheduled send time
//           of the first probe to arrive that was sent after the POST started, minus the time
//           the POST returned (<= 0: enforced before the API answered); delete: the send time of
//           the last probe that arrived, minus the time the DELETE returned (<= 0: the first
//           probe sent after the answer was already dropped). p50/p99/max over every change;
//           resolution 1 ms (the probe interval);
//   dhcp    c's client is restarted (busybox udhcpc, a new DISCOVER) repeatedly; a capture on
//           c's eth0 gives, per transaction, the time from its first DISCOVER to the ACK on the
//           wire (the client's own processing after the ACK not included), and the switch's
//           share: DISCOVER -> OFFER and REQUEST -> ACK. p50 with min/max.
// Prints figures, never judges them. Needs root, iproute2, tc, iperf3, tcpdump, tshark,
// busybox, python3, and the built dove-controller and dove-switch. Never run by ctest.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lab/command.h"
#include "lab/lab.h"
#include "lab/spec.h"

namespace {

using dove::lab::Lab;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* const kUsage =
    R"(route_bench: routed vs switched TCP, policy change to enforcement, DHCP lease time

Usage: route_bench [--rounds N] [--seconds S] [--changes N] [--leases N] [--only LIST]

Builds one dove-lab topology (hosts h1, h2; tenant b's networks web and db with gateways; VMs
a (web, h1), s (web, h2), r (db, h2), p (db, h2), c (web, h2, DHCP)) and prints one line per
figure, "NAME n=N V [LO .. HI] UNIT": V the median (or the percentile the name says), [LO .. HI]
the smallest and largest value. Lines starting with "# " say what is measured.

  tcp     iperf3, one stream, a -> s (switched: same network) and a -> r (routed: web -> db),
          both h1 -> h2, back to back per round, alternating which goes first: Gbit/s, and
          routed/switched per round (goal >= 0.95)
  policy  a probes p (UDP 7777) every 1 ms on a fixed schedule while an allow web -> db is
          created and deleted alternately: from the API call returning to the first probe
          passing (create) / the last probe passing (delete), by the probes' scheduled send
          times; p50, p99, max (goal p99 <= 100 ms)
  dhcp    busybox udhcpc in c, restarted: its first DISCOVER to the ACK, on c's wire, and the
          switch's share (DISCOVER -> OFFER, REQUEST -> ACK); p50 with min/max

Flags:
  --rounds N    TCP rounds, 1..20 (default 5)
  --seconds S   length of each iperf3 run, 1..60 (default 5)
  --changes N   policy changes (creates + deletes), 2..1000 (default 60)
  --leases N    DHCP leases, 1..200 (default 20)
  --only LIST   comma-separated subset of tcp,policy,dhcp (default: all)
  -h, --help    this text (starts nothing)

Needs root, iperf3, tcpdump, tshark, busybox, python3 and the built dove-controller and
dove-switch (found in the build tree next to this binary's ../src). Exit 0 when every figure
was measured, 1 when the lab could not be built or a figure is missing, 2 for bad flags.
)";

constexpr const char* kSpec = R"(
host h1
host h2
network b/web 10.1.0.0/24 gateway 10.1.0.1
network b/db 10.2.0.0/24 gateway 10.2.0.1
policy b web db allow tcp 5201
vm a h1 b/web 10.1.0.11
vm s h2 b/web 10.1.0.12
vm r h2 b/db 10.2.0.21
vm p h2 b/db 10.2.0.22
vm c h2 b/web dhcp
)";

constexpr int kProbePort = 7777;

std::atomic<bool> g_interrupted{false};
void OnSignal(int /*signal*/) { g_interrupted.store(true); }

struct Options {
  int rounds = 5;
  int seconds = 5;
  int changes = 60;
  int leases = 20;
  std::set<std::string> only = {"tcp", "policy", "dhcp"};
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

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string Fixed(double value, int digits) {
  if (std::isnan(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

// NAME n=N V [LO .. HI] UNIT
void PrintFigure(const std::string& name, const std::vector<double>& values, double percentile,
                 const std::string& unit, int digits) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  std::cout << name << "  n=" << values.size() << "  "
            << Fixed(Percentile(values, percentile), digits) << " ["
            << (values.empty() ? "-" : Fixed(*lo, digits)) << " .. "
            << (values.empty() ? "-" : Fixed(*hi, digits)) << "] " << unit << std::endl;
}

double Monotonic() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// ---- TCP ----

double Iperf(const Lab& lab, const std::string& client, const std::string& server, int seconds) {
  dove::lab::CommandResult served;
  std::thread server_thread([&] {
    served = lab.Exec(lab.VmNamespace(server), {"iperf3", "-s", "-1"},
                      std::chrono::seconds(seconds + 40));
  });
  std::this_thread::sleep_for(milliseconds(400));
  const auto run =
      lab.Exec(lab.VmNamespace(client),
               {"iperf3", "-c", lab.Vm(server).ip, "-t", std::to_string(seconds), "-J"},
               std::chrono::seconds(seconds + 30));
  if (run.exit_code != 0) {
    // The server still waits for a client: connect once to end it.
    lab.Exec(lab.VmNamespace(server), {"sh", "-c", "iperf3 -c 127.0.0.1 -t 1 >/dev/null 2>&1"},
             std::chrono::seconds(10));
  }
  server_thread.join();
  const auto doc = nlohmann::json::parse(run.out, nullptr, false);
  if (run.exit_code != 0 || doc.is_discarded() || !doc.contains("end") ||
      !doc["end"].contains("sum_received")) {
    std::cerr << "route_bench: iperf3 " << client << " -> " << server
              << " failed: " << run.err.substr(0, 300) << run.out.substr(0, 300) << "\n";
    return NAN;
  }
  return doc["end"]["sum_received"].value("bits_per_second", 0.0) / 1e9;
}

bool MeasureTcp(const Lab& lab, const Options& options) {
  std::cout << "# tcp: iperf3 -t " << options.seconds
            << ", 1 stream, a (h1) -> s (h2, same network) and a -> r (h2, routed web -> db), "
               "back to back, alternating\n";
  std::vector<double> switched;
  std::vector<double> routed;
  std::vector<double> ratios;
  for (int round = 0; round < options.rounds && !g_interrupted; ++round) {
    double s = NAN;
    double r = NAN;
    if (round % 2 == 0) {
      s = Iperf(lab, "a", "s", options.seconds);
      r = Iperf(lab, "a", "r", options.seconds);
    } else {
      r = Iperf(lab, "a", "r", options.seconds);
      s = Iperf(lab, "a", "s", options.seconds);
    }
    if (!std::isnan(s)) switched.push_back(s);
    if (!std::isnan(r)) routed.push_back(r);
    if (!std::isnan(s) && !std::isnan(r) && s > 0) ratios.push_back(r / s);
  }
  PrintFigure("tcp_switched_gbps", switched, 50, "Gbit/s", 2);
  PrintFigure("tcp_routed_gbps", routed, 50, "Gbit/s", 2);
  PrintFigure("tcp_routed_over_switched", ratios, 50, "(goal >= 0.95)", 3);
  return !ratios.empty() && static_cast<int>(ratios.size()) == options.rounds;
}

// ---- policy ----

// argv: destination IP, port, seconds, stop file. A datagram every 1 ms on a fixed schedule;
// each carries its scheduled CLOCK_MONOTONIC send time. Ends early once the stop file exists.
constexpr const char* kProbeSender = R"(import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = (sys.argv[1], int(sys.argv[2]))
start = time.monotonic()
end = start + float(sys.argv[3])
i = 0
while True:
  at = start + i * 0.001
  if at > end or (i % 100 == 0 and os.path.exists(sys.argv[4])):
    break
  now = time.monotonic()
  if at > now:
    time.sleep(at - now)
  try:
    s.sendto(('%.6f' % at).encode(), dst)
  except OSError:
    pass
  i += 1
)";

// argv: port, log file, seconds, stop file. Appends "ARRIVAL SENT" per datagram
// (CLOCK_MONOTONIC). Ends early once the stop file exists.
constexpr const char* kProbeReceiver = R"(import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.settimeout(0.5)
end = time.monotonic() + float(sys.argv[3])
with open(sys.argv[2], 'w', buffering=1) as log:
  while time.monotonic() < end and not os.path.exists(sys.argv[4]):
    try:
      data = s.recv(64)
    except socket.timeout:
      continue
    log.write('%.6f %s\n' % (time.monotonic(), data.decode()))
)";

// The send times of the probes that arrived, read incrementally from the receiver's log.
class ArrivalLog {
 public:
  explicit ArrivalLog(std::string path) : path_(std::move(path)) {}
  // Appends what arrived since the last call to `sent` (send times, arrival order).
  void Read(std::vector<double>& sent) {
    std::ifstream in(path_);
    in.seekg(offset_);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a partial last line: read it next time
      offset_ += static_cast<std::streamoff>(line.size() + 1);
      std::istringstream fields(line);
      double arrival = 0;
      double send = 0;
      if (fields >> arrival >> send) sent.push_back(send);
    }
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
};

bool MeasurePolicy(Lab& lab, const Options& options) {
  std::cout << "# policy: UDP probes a -> p:" << kProbePort
            << " every 1 ms (scheduled send times); allow web -> db udp " << kProbePort
            << " created and deleted alternately, " << options.changes << " changes\n";
  const double seconds = options.changes * 1.5 + 30;
  const std::string log = (lab.temp_dir() / "probes.log").string();
  const std::string stop = (lab.temp_dir() / "probes.stop").string();
  std::thread receiver([&] {
    lab.Exec(lab.VmNamespace("p"),
             {"/usr/bin/python3", "-c", kProbeReceiver, std::to_string(kProbePort), log,
              std::to_string(seconds + 5), stop},
             std::chrono::seconds(static_cast<int>(seconds) + 30));
  });
  std::this_thread::sleep_for(milliseconds(500));
  std::thread sender([&] {
    lab.Exec(lab.VmNamespace("a"),
             {"/usr/bin/python3", "-c", kProbeSender, lab.Vm("p").ip, std::to_string(kProbePort),
              std::to_string(seconds), stop},
             std::chrono::seconds(static_cast<int>(seconds) + 30));
  });
  ArrivalLog arrivals(log);
  std::vector<double> sent;
  std::vector<double> create_ms;
  std::vector<double> delete_ms;
  int timeouts = 0;
  auto policy =
      dove::lab::ParsePolicy(lab.spec(), "policy b web db allow udp " + std::to_string(kProbePort));
  if (!policy) {
    std::cerr << "route_bench: " << policy.error() << "\n";
    return false;
  }
  std::this_thread::sleep_for(milliseconds(1000));  // probes flow (and are denied)
  arrivals.Read(sent);
  if (!sent.empty()) {
    std::cerr << "route_bench: " << sent.size() << " probes arrived before any allow\n";
  }
  for (int change = 0; change < options.changes / 2 && !g_interrupted; ++change) {
    // Create: wait for the first probe sent after the call started.
    const double started = Monotonic();
    auto id = lab.CreatePolicy(*policy);
    const double returned = Monotonic();
    if (!id) {
      std::cerr << "route_bench: " << id.error() << "\n";
      break;
    }
    double first = NAN;
    while (std::isnan(first) && Monotonic() - returned < 2.0) {
      std::this_thread::sleep_for(milliseconds(2));
      sent.clear();
      arrivals.Read(sent);
      for (const double at : sent) {
        if (at >= started && (std::isnan(first) || at < first)) first = at;
      }
    }
    if (std::isnan(first)) {
      ++timeouts;
    } else {
      create_ms.push_back((first - returned) * 1000);
    }
    std::this_thread::sleep_for(milliseconds(200));
    // Delete: the last probe to arrive, once 300 ms pass without one.
    auto deleted = lab.DeletePolicy(*id);
    const double gone = Monotonic();
    if (!deleted) {
      std::cerr << "route_bench: " << deleted.error() << "\n";
      break;
    }
    double last = NAN;
    double quiet_since = Monotonic();
    while (Monotonic() - quiet_since < 0.3 && Monotonic() - gone < 2.0) {
      std::this_thread::sleep_for(milliseconds(2));
      sent.clear();
      arrivals.Read(sent);
      if (!sent.empty()) quiet_since = Monotonic();
      for (const double at : sent) {
        if (std::isnan(last) || at > last) last = at;
      }
    }
    if (Monotonic() - gone >= 2.0) {
      ++timeouts;
    } else {
      delete_ms.push_back(std::isnan(last) ? 0.0 : (last - gone) * 1000);
    }
  }
  std::ofstream{stop}.put('\n');
  sender.join();
  receiver.join();
  std::vector<double> all = create_ms;
  all.insert(all.end(), delete_ms.begin(), delete_ms.end());
  PrintFigure("policy_allow_enforced_ms_p50", create_ms, 50, "ms", 1);
  PrintFigure("policy_allow_enforced_ms_p99", create_ms, 99, "ms", 1);
  PrintFigure("policy_delete_enforced_ms_p50", delete_ms, 50, "ms", 1);
  PrintFigure("policy_delete_enforced_ms_p99", delete_ms, 99, "ms", 1);
  PrintFigure("policy_any_change_enforced_ms_p99", all, 99, "ms (goal <= 100)", 1);
  if (timeouts > 0) std::cout << "# policy: " << timeouts << " change(s) not seen within 2 s\n";
  return timeouts == 0 && static_cast<int>(all.size()) >= options.changes - 1;
}

// ---- DHCP ----

bool MeasureDhcp(Lab& lab, const Options& options) {
  std::cout << "# dhcp: busybox udhcpc in c restarted " << options.leases
            << " times; per transaction, its first DISCOVER to the ACK on c's eth0\n";
  auto first = lab.WaitDhcpEvent("c", "bound", 1, std::chrono::seconds(30));
  if (!first) {
    std::cerr << "route_bench: " << first.error() << "\n";
    return false;
  }
  const std::string pcap = (lab.temp_dir() / "dhcp.pcap").string();
  if (auto ok = lab.StartCapture(lab.VmNamespace("c"), "eth0", pcap); !ok) {
    std::cerr << "route_bench: " << ok.error() << "\n";
    return false;
  }
  size_t bound = 1;
  for (int lease = 0; lease < options.leases && !g_interrupted; ++lease) {
    if (auto ok = lab.RestartDhcp("c"); !ok) {
      std::cerr << "route_bench: " << ok.error() << "\n";
      break;
    }
    auto got = lab.WaitDhcpEvent("c", "bound", ++bound, std::chrono::seconds(20));
    if (!got) {
      std::cerr << "route_bench: " << got.error() << "\n";
      break;
    }
  }
  std::this_thread::sleep_for(milliseconds(200));
  lab.StopAllCaptures();
  const auto read =
      dove::lab::RunCommand({"tshark", "-n", "-r", pcap, "-Y", "dhcp", "-T", "fields", "-e",
                             "frame.time_epoch", "-e", "dhcp.id", "-e", "dhcp.option.dhcp"});
  // Per transaction id: the first DISCOVER, the first OFFER, the last REQUEST before the ACK.
  struct Transaction {
    double discover = NAN;
    double offer = NAN;
    double request = NAN;
  };
  std::map<std::string, Transaction> open;
  std::vector<double> ms;
  std::vector<double> offer_ms;  // the switch's answer to a DISCOVER
  std::vector<double> ack_ms;    // the switch's answer to a REQUEST
  std::istringstream lines(read.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    double at = 0;
    std::string xid;
    int type = 0;
    if (!(fields >> at >> xid >> type)) continue;
    Transaction& transaction = open[xid];
    if (type == 1 && std::isnan(transaction.discover)) transaction.discover = at;
    if (type == 2 && std::isnan(transaction.offer)) transaction.offer = at;
    if (type == 3) transaction.request = at;
    if (type == 5 && !std::isnan(transaction.discover)) {
      ms.push_back((at - transaction.discover) * 1000);
      if (!std::isnan(transaction.offer)) {
        offer_ms.push_back((transaction.offer - transaction.discover) * 1000);
      }
      if (!std::isnan(transaction.request)) {
        ack_ms.push_back((at - transaction.request) * 1000);
      }
      open.erase(xid);
    }
  }
  PrintFigure("dhcp_discover_to_ack_ms_p50", ms, 50, "ms", 2);
  PrintFigure("dhcp_discover_to_offer_ms_p50", offer_ms, 50, "ms (the switch)", 2);
  PrintFigure("dhcp_request_to_ack_ms_p50", ack_ms, 50, "ms (the switch)", 2);
  return static_cast<int>(ms.size()) >= options.leases;
}

int Run(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&](int low, int high, int& out) {
      if (i + 1 >= argc || !ParseInt(argv[i + 1], low, high, out)) {
        std::cerr << "route_bench: " << flag << " needs a number in " << low << ".." << high
                  << "\n";
        return false;
      }
      ++i;
      return true;
    };
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (flag == "--rounds") {
      if (!value(1, 20, options.rounds)) return 2;
    } else if (flag == "--seconds") {
      if (!value(1, 60, options.seconds)) return 2;
    } else if (flag == "--changes") {
      if (!value(2, 1000, options.changes)) return 2;
    } else if (flag == "--leases") {
      if (!value(1, 200, options.leases)) return 2;
    } else if (flag == "--only" && i + 1 < argc) {
      options.only.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) {
        if (item != "tcp" && item != "policy" && item != "dhcp") {
          std::cerr << "route_bench: --only takes tcp, policy, dhcp; not \"" << item << "\"\n";
          return 2;
        }
        options.only.insert(item);
      }
    } else {
      std::cerr << "route_bench: unknown flag " << flag << " (see --help)\n";
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::cerr << "route_bench: needs root (network namespaces)\n";
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto spec = dove::lab::ParseSpec(kSpec);
  if (!spec) {
    std::cerr << "route_bench: " << spec.error() << "\n";
    return 1;
  }
  const auto exe = std::filesystem::read_symlink("/proc/self/exe");
  auto lab = Lab::Up(*spec, {.bin_dir = (exe.parent_path().parent_path() / "src").string()});
  if (!lab) {
    std::cerr << "route_bench: " << lab.error() << "\n";
    return 1;
  }
  std::cout << "# route_bench: lab " << (*lab)->prefix() << ", 2 dove-switch hosts, "
            << std::thread::hardware_concurrency() << " CPUs\n";
  bool all = true;
  if (options.only.count("tcp") != 0) all &= MeasureTcp(**lab, options);
  if (options.only.count("policy") != 0 && !g_interrupted) all &= MeasurePolicy(**lab, options);
  if (options.only.count("dhcp") != 0 && !g_interrupted) all &= MeasureDhcp(**lab, options);
  return all ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    // A lab built so far is torn down by its destructor during unwinding.
    std::cerr << "route_bench: " << e.what() << "\n";
    return 1;
  }
}
