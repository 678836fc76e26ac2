// How long one controller change takes to become a data-plane delta on a switch that caches
// many endpoints (issue 12: "100,000 cached endpoints, one change in under 1 ms").
//
//   build/bench/cache_update_bench [--endpoints 100000] [--networks 10] [--changes 1000]
//                                  [--reference 5] [--seed 1]
//
// The cache is filled with --endpoints remote endpoints (LocationUpdates spread over --networks
// networks, on 64 other switches) and one NetworkConfig per network listing 20 endpoints on this
// switch ("h1"). Then --changes single changes are timed one by one, a quarter of each kind:
// a remote endpoint moving to another tunnel IP, a new endpoint, an Invalidate of a cached one,
// and a resolve answer (FOUND) for one not cached. Each is what the switch does per change
// now: EndpointCache::Apply with a change report, userspace::DeriveDelta, then the data plane
// applies the delta to its tables (Datapath::ApplyDelta, posted to its loop, and the loop's
// round that runs it: the same path as in dove-switch, over MemoryDevices, so the ports' open
// and the tables' upserts are real). The reference is the old way for
// --reference changes: Apply, then a full dump of the cache and DeriveDesiredState of all of it.
//
// Warm code, cold data: 100 untimed changes run first; every timed change touches an endpoint
// no earlier change touched, so its cache entries are not in the CPU caches (the maps are far
// larger than L2). No root, no network; one thread.
//
// Output: one row per figure, `name ... value unit`, the value last but for its unit.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/agent/endpoint_cache.h"
#include "dswitch/io/memory_device.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/userspace/datapath.h"
#include "dswitch/userspace/desired_state.h"

namespace dove::bench {
namespace {

using dove::v1::ControllerMessage;
using dove::v1::Location;
using Clock = std::chrono::steady_clock;
namespace agent = dove::dswitch::agent;
namespace userspace = dove::dswitch::userspace;

constexpr std::string_view kSwitchName = "h1";
constexpr int kLocalsPerNetwork = 20;
constexpr int kOtherSwitches = 64;
constexpr int kWarmUp = 100;

struct Options {
  int endpoints = 100000;
  int networks = 10;
  int changes = 1000;
  int reference = 5;
  unsigned seed = 1;
};

void Usage() {
  std::printf(
      "usage: cache_update_bench [--endpoints N] [--networks N] [--changes N] [--reference N]\n"
      "                          [--seed N]\n"
      "Fills an EndpointCache with N remote endpoints, then times single changes applied the\n"
      "incremental way (Apply with change report + DeriveDelta) and, for --reference changes,\n"
      "the full way (Apply + Dump + DeriveDesiredState). No root needed.\n");
}

bool Parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      Usage();
      std::exit(0);
    }
    if (i + 1 >= argc) return false;
    const long value = std::strtol(argv[++i], nullptr, 10);
    if (value < 0) return false;
    if (flag == "--endpoints") {
      options.endpoints = static_cast<int>(value);
    } else if (flag == "--networks") {
      options.networks = static_cast<int>(std::max(1L, value));
    } else if (flag == "--changes") {
      options.changes = static_cast<int>(value);
    } else if (flag == "--reference") {
      options.reference = static_cast<int>(value);
    } else if (flag == "--seed") {
      options.seed = static_cast<unsigned>(value);
    } else {
      return false;
    }
  }
  return true;
}

uint32_t VniOf(int n, const Options& options) {
  return 1000 + static_cast<uint32_t>(n % options.networks);
}

std::string Mac(int n) {
  char mac[18];
  std::snprintf(mac, sizeof(mac), "52:54:%02x:%02x:%02x:%02x", (n >> 24) & 0xff, (n >> 16) & 0xff,
                (n >> 8) & 0xff, n & 0xff);
  return mac;
}

std::string Ip(int n) {
  return "10." + std::to_string((n >> 16) & 0xff) + "." + std::to_string((n >> 8) & 0xff) + "." +
         std::to_string(n & 0xff);
}

std::string Tunnel(int switch_index) { return "192.0.2." + std::to_string(1 + switch_index); }

// Endpoint n of the world, on another switch (`host` picks which), at `version`.
Location Remote(int n, int host, uint32_t version, const Options& options) {
  Location l;
  l.set_endpoint_id("ep-" + std::to_string(n));
  l.set_vni(VniOf(n, options));
  l.set_mac(Mac(n));
  l.add_ips(Ip(n));
  l.set_switch_name("h" + std::to_string(2 + host));
  l.set_tunnel_ip(Tunnel(host));
  l.set_version(version);
  return l;
}

// The data plane the changes go to: a Datapath over MemoryDevices; nobody is asked anything.
class NoResolver final : public userspace::Resolver {
 public:
  void ResolveMac(uint32_t, const net::MacAddress&, Done done) override { done(); }
  void ResolveIp(uint32_t, const net::IpAddress&, Done done) override { done(); }
  void PortOpened(const dove::v1::Location&, const std::string&) override {}
};

struct DataPlane {
  dswitch::io::MemoryDevice tunnel{{.name = "underlay",
                                    .kind = dswitch::io::MemoryDevice::Kind::kTunnel,
                                    .port = dswitch::packet::kNoPort,
                                    .caps = dswitch::io::MemoryDevice::kTapCaps,
                                    .on_destroy = {}}};
  dswitch::io::MemoryPortFactory ports;
  NoResolver resolver;
  std::unique_ptr<userspace::Datapath> datapath;

  // Runs what was posted (one loop round per command queue).
  void Settle() const {
    while (datapath->Poll(std::chrono::milliseconds(0))) {
    }
  }
};

// One change as the switch handles it: the cache applies it and says what changed, the data
// plane's delta is derived from that, and the data plane applies it to its tables.
size_t ApplyOneChange(agent::EndpointCache& cache, const ControllerMessage& message,
                      DataPlane& plane) {
  agent::CacheChanges changes;
  cache.Apply(message, &changes);
  userspace::DesiredDelta delta = userspace::DeriveDelta(cache, changes, kSwitchName);
  const size_t entries = delta.upserted_remotes.size() + delta.removed_remotes.size();
  plane.datapath->ApplyDelta(std::move(delta));
  plane.Settle();
  return entries;
}

// The old way, for reference: every change rebuilt the desired state from a full copy.
userspace::DesiredState ApplyOneChangeTheOldWay(agent::EndpointCache& cache,
                                                const ControllerMessage& message) {
  cache.Apply(message);
  return userspace::DeriveDesiredState(cache.Dump(), kSwitchName);
}

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};

Percentiles Of(std::vector<double> samples) {
  Percentiles out;
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    const auto index =
        static_cast<size_t>(std::lround(q * static_cast<double>(samples.size() - 1)));
    return samples[std::min(index, samples.size() - 1)];
  };
  out.p50 = at(0.50);
  out.p99 = at(0.99);
  out.max = samples.back();
  return out;
}

void Row(const std::string& name, double value, const char* unit) {
  std::string padded = name + " ";
  if (padded.size() < 62) padded.append(62 - padded.size(), '.');
  std::printf("%s %12.1f%s%s\n", padded.c_str(), value, *unit != '\0' ? " " : "", unit);
}

void Rows(const std::string& name, const Percentiles& p) {
  Row(name + " p50", p.p50, "us");
  Row(name + " p99", p.p99, "us");
  Row(name + " max", p.max, "us");
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// This thread's CPU time: beside the wall clock, it tells a slow change from a preempted one
// (the machine may be shared).
double ThreadCpuMicros() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

int Run(const Options& options) {
  agent::EndpointCache cache;
  int64_t revision = 0;
  std::mt19937 random(options.seed);

  // Fill: the configs (with this switch's ports), then the remote endpoints.
  const auto fill_start = Clock::now();
  for (int v = 0; v < options.networks; ++v) {
    ControllerMessage m;
    m.set_revision(++revision);
    auto* config = m.mutable_network_config();
    const uint32_t vni = 1000 + static_cast<uint32_t>(v);
    config->mutable_network()->set_vni(vni);
    config->mutable_network()->set_id("net-" + std::to_string(vni));
    config->set_router_mac("02:00:00:00:00:01");
    for (int s = 0; s < 8; ++s) config->add_flood_tunnel_ips(Tunnel(s));
    for (int p = 0; p < kLocalsPerNetwork; ++p) {
      const int n = 0x7f000000 + v * kLocalsPerNetwork + p;  // apart from the remotes
      Location local;
      local.set_endpoint_id("local-" + std::to_string(n));
      local.set_vni(vni);
      local.set_mac(Mac(n));
      local.add_ips(Ip(n));
      local.set_switch_name(std::string(kSwitchName));
      local.set_port_name("tap" + std::to_string(v * kLocalsPerNetwork + p));
      local.set_version(1);
      *config->add_local_endpoints() = local;
    }
    cache.Apply(m);
  }
  for (int n = 0; n < options.endpoints; ++n) {
    ControllerMessage m;
    m.set_revision(++revision);
    *m.mutable_location_update()->mutable_location() = Remote(n, n % kOtherSwitches, 1, options);
    cache.Apply(m);
  }
  const double fill_ms = Micros(Clock::now() - fill_start) / 1000.0;

  // The data plane starts from the whole cache, as after a snapshot.
  DataPlane plane;
  auto datapath = userspace::Datapath::Create({}, plane.tunnel, plane.ports, plane.resolver);
  if (!datapath) {
    std::fprintf(stderr, "cache_update_bench: %s\n", datapath.error().c_str());
    return 1;
  }
  plane.datapath = std::move(*datapath);
  const auto load_start = Clock::now();
  plane.datapath->Apply(userspace::DeriveDesiredState(cache.Dump(), kSwitchName));
  plane.Settle();
  const double load_ms = Micros(Clock::now() - load_start) / 1000.0;

  // The changes: each on an endpoint no other change touches.
  std::vector<int> cached(static_cast<size_t>(options.endpoints));
  for (int n = 0; n < options.endpoints; ++n) cached[static_cast<size_t>(n)] = n;
  std::shuffle(cached.begin(), cached.end(), random);
  size_t next_cached = 0;
  int next_new = options.endpoints;
  enum Kind { kMove, kNew, kInvalidate, kResolved, kKinds };
  const char* const kKindNames[kKinds] = {"move of a remote endpoint", "new endpoint", "invalidate",
                                          "resolve answer"};
  const auto make = [&](int kind) {
    ControllerMessage m;
    m.set_revision(++revision);
    switch (kind) {
      case kMove: {
        const int n = cached[next_cached++ % cached.size()];
        *m.mutable_location_update()->mutable_location() =
            Remote(n, (n + 1) % kOtherSwitches, 2, options);
        break;
      }
      case kNew:
        *m.mutable_location_update()->mutable_location() =
            Remote(next_new, next_new % kOtherSwitches, 1, options);
        ++next_new;
        break;
      case kInvalidate:
        m.mutable_invalidate()->set_endpoint_id(
            "ep-" + std::to_string(cached[next_cached++ % cached.size()]));
        break;
      default: {
        auto* reply = m.mutable_resolve_reply();
        reply->set_query_id(static_cast<uint64_t>(revision));
        reply->set_status(dove::v1::ResolveReply::STATUS_FOUND);
        *reply->mutable_location() = Remote(next_new, next_new % kOtherSwitches, 1, options);
        ++next_new;
      }
    }
    return m;
  };

  size_t sink = 0;  // what the deltas held, so that nothing is optimized away
  for (int i = 0; i < kWarmUp; ++i) {
    sink += ApplyOneChange(cache, make(i % kKinds), plane);
  }
  std::vector<double> all;
  std::vector<double> cpu;
  std::vector<double> by_kind[kKinds];
  for (int i = 0; i < options.changes; ++i) {
    const int kind = i % kKinds;
    const ControllerMessage message = make(kind);
    const double cpu_start = ThreadCpuMicros();
    const auto start = Clock::now();
    sink += ApplyOneChange(cache, message, plane);
    const double took = Micros(Clock::now() - start);
    cpu.push_back(ThreadCpuMicros() - cpu_start);
    all.push_back(took);
    by_kind[kind].push_back(took);
  }

  std::vector<double> reference;
  for (int i = 0; i < options.reference; ++i) {
    const ControllerMessage message = make(kMove);
    const auto start = Clock::now();
    const userspace::DesiredState state = ApplyOneChangeTheOldWay(cache, message);
    reference.push_back(Micros(Clock::now() - start));
    sink += state.remotes.size();
  }

  std::printf(
      "cache_update_bench: %d remote endpoints in %d networks, %d ports on this switch; %d "
      "single changes timed after %d untimed (warm code, cold entries: each change touches an "
      "endpoint no earlier change did); reference: %d changes the old way\n",
      options.endpoints, options.networks, options.networks * kLocalsPerNetwork, options.changes,
      kWarmUp, options.reference);
  Row("fill (LocationUpdates + NetworkConfigs, no change reports)", fill_ms, "ms");
  Row("data plane loaded from the whole cache (Apply of a full state)", load_ms, "ms");
  Row("cached endpoints after the changes", static_cast<double>(cache.size()), "");
  const auto status = plane.datapath->StatusNow();
  Row("data plane: remote endpoints after the changes", static_cast<double>(status.remotes), "");
  Row("data plane: ports after the changes", static_cast<double>(status.ports.size()), "");
  const Percentiles delta = Of(all);
  Rows("one change: Apply with report + DeriveDelta + data plane apply", delta);
  Rows("  the same, thread CPU time", Of(cpu));
  Row("  changes over 1000 us (wall clock)",
      static_cast<double>(
          std::count_if(all.begin(), all.end(), [](double us) { return us > 1000; })),
      "");
  for (int kind = 0; kind < kKinds; ++kind) {
    Rows(std::string("  ") + kKindNames[kind], Of(by_kind[kind]));
  }
  const Percentiles full = Of(reference);
  if (!reference.empty()) {
    Rows("reference: Apply + Dump + DeriveDesiredState", full);
    if (delta.p50 > 0) Row("ratio reference / delta (p50)", full.p50 / delta.p50, "x");
  }
  Row("goal: one change p99 under 1000 us (1 = met)", delta.p99 < 1000.0 ? 1.0 : 0.0, "");
  Row("entries derived (all deltas; keeps the work)", static_cast<double>(sink), "");
  return 0;
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) {
  dove::bench::Options options;
  if (!dove::bench::Parse(argc, argv, options)) {
    dove::bench::Usage();
    return 2;
  }
  return dove::bench::Run(options);
}
