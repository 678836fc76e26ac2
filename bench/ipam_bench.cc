// IPAM cost by prefix length: the time of one endpoint create that needs an address, in the
// Registry over an in-memory store (so the figure is validation + IPAM + index, not fsync).
//
//   build/bench/ipam_bench [--ops 2000] [--fill 50000]
//
// For each subnet (/24, /16, /8, /1, IPv6 /64), in a fresh registry:
//   empty      --ops creates from an empty subnet;
//   churn      the subnet holds `fill` endpoints (--fill, or all but 5 addresses of a /24 or
//              /16: "nearly full"); then --ops times: delete the endpoint holding the LOWEST
//              address and create one (it gets that address back). This is the case where a
//              scan start must rewind and walk past every taken address again;
//   last       (/24 and /16 only) the creates that fill the last 5 free addresses, then one
//              more that is refused subnet_full.
// And VNIs: with --fill networks holding VNIs 1..fill, network creates that need a VNI.
// Each row prints the median, p99 and max time of the create alone, and beside it the
// reference: the same create with its IP given by the client (no IPAM). Figures are printed,
// never asserted.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "controller/registry.h"
#include "net/ip_address.h"
#include "store/memory_store.h"

namespace dove::bench {
namespace {

using Clock = std::chrono::steady_clock;
using controller::Registry;

struct Options {
  int ops = 2000;
  int fill = 50000;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ipam_bench: %s\n", message.c_str());
  std::exit(1);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      std::printf("usage: ipam_bench [--ops N] [--fill N]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) Die(flag + " needs a value (--help)");
    const int value = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    if (value <= 0) Die(flag + " needs a positive number");
    if (flag == "--ops") {
      options.ops = value;
    } else if (flag == "--fill") {
      options.fill = value;
    } else {
      Die("unknown flag " + flag + " (--help)");
    }
  }
  return options;
}

struct Stats {
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

Stats Summarise(std::vector<double> us) {
  if (us.empty()) return {};
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)], us.back()};
}

// A registry with domain d, network n and subnet s of `cidr`.
struct World {
  store::MemoryStore store;
  std::unique_ptr<Registry> registry;
  int next_id = 0;

  explicit World(const std::string& cidr) {
    auto opened = Registry::Open(&store);
    if (!opened) Die("open: " + opened.error().message);
    registry = std::move(*opened);
    v1::Domain d;
    d.set_id("d");
    d.set_name("d");
    v1::Network n;
    n.set_id("n");
    n.set_domain_id("d");
    n.set_name("n");
    v1::Subnet s;
    s.set_id("s");
    s.set_network_id("n");
    s.set_cidr(cidr);
    if (!registry->Create(d) || !registry->Create(n) || !registry->Create(s)) Die("setup");
  }

  // Creates an endpoint (with `ip` when given); returns its time in µs, or -1 when refused.
  double Create(const std::string& ip, std::string* got = nullptr) {
    v1::Endpoint e;
    e.set_id("e" + std::to_string(next_id++));
    e.set_network_id("n");
    if (!ip.empty()) e.add_ips(ip);
    const auto start = Clock::now();
    auto created = registry->Create(e);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!created) return -1;
    if (got != nullptr) *got = created->ips(0);
    return us;
  }
};

void Row(const char* prefix, const char* phase, long held, const Stats& ipam, const Stats& given) {
  std::printf("%-14s %-7s %9ld %10.2f %8.2f %9.1f %12.2f %8.2f\n", prefix, phase, held,
              ipam.median_us, ipam.p99_us, ipam.max_us, given.median_us, given.p99_us);
}

// The address `offset` above `first` (an offset below 2^32).
std::string AddressPlus(const std::string& first, uint32_t offset) {
  const auto ip = *net::IpAddress::Parse(first);
  if (ip.is_v4()) return net::Ipv4Address::FromUint32(ip.v4().ToUint32() + offset).ToString();
  std::array<uint8_t, 16> bytes = ip.v6().bytes();
  uint64_t carry = offset;
  for (int i = 15; i >= 0 && carry != 0; --i) {
    carry += bytes[i];
    bytes[i] = static_cast<uint8_t>(carry);
    carry >>= 8;
  }
  return net::Ipv6Address(bytes).ToString();
}

void Measure(const Options& options, const char* cidr, const std::string& first_host,
             long capacity) {
  // empty: --ops allocations, and the reference with explicit addresses far above them.
  {
    World world(cidr);
    std::vector<double> ipam;
    std::vector<double> given;
    const int ops =
        capacity > 0 ? static_cast<int>(std::min<long>(options.ops, capacity / 2)) : options.ops;
    ipam.resize(ops);
    given.resize(ops);
    for (int i = 0; i < ops; ++i) ipam[i] = world.Create("");
    for (int i = 0; i < ops; ++i) {
      given[i] = world.Create(AddressPlus(first_host, static_cast<uint32_t>(ops + i)));
    }
    if (std::find(ipam.begin(), ipam.end(), -1.0) != ipam.end() ||
        std::find(given.begin(), given.end(), -1.0) != given.end()) {
      Die(std::string("a create failed in ") + cidr);
    }
    Row(cidr, "empty", 0, Summarise(ipam), Summarise(given));
  }
  // churn: fill, then delete-lowest + create, --ops times.
  const bool nearly_full = capacity > 0 && capacity <= 65534;
  const long fill = nearly_full ? capacity - 5 : options.fill;
  {
    World world(cidr);
    for (long i = 0; i < fill; ++i) {
      if (world.Create("") < 0) Die(std::string("fill failed in ") + cidr);
    }
    std::vector<double> ipam;
    std::vector<double> given;
    ipam.reserve(options.ops);
    given.reserve(options.ops);
    for (int i = 0; i < options.ops; ++i) {
      // e0 holds the lowest address at first; each round's new endpoint takes it back.
      const std::string lowest = i == 0 ? "e0" : "e" + std::to_string(world.next_id - 1);
      if (!world.registry->Delete<v1::Endpoint>(lowest, false)) Die("delete " + lowest);
      std::string got;
      ipam.push_back(world.Create("", &got));
      if (got != first_host) Die("churn got " + got + ", not " + first_host);  // NOLINT
    }
    // Reference: the same delete + create with the address given.
    for (int i = 0; i < options.ops; ++i) {
      const std::string lowest = "e" + std::to_string(world.next_id - 1);
      if (!world.registry->Delete<v1::Endpoint>(lowest, false)) Die("delete " + lowest);
      given.push_back(world.Create(first_host));
    }
    Row(cidr, nearly_full ? "churn*" : "churn", fill, Summarise(ipam), Summarise(given));
    if (nearly_full) {
      std::vector<double> last;
      last.reserve(5);
      for (int i = 0; i < 5; ++i) last.push_back(world.Create(""));
      const double refused = world.Create("");
      if (refused >= 0) Die(std::string("a full ") + cidr + " allocated");
      Row(cidr, "last5", fill, Summarise(last), Stats{});
    }
  }
}

// VNIs: with `fill` networks holding VNIs 1..fill, the time of --ops network creates that
// need a VNI (each gets the lowest free one, above all the held ones), against creates with
// the VNI given.
void MeasureVnis(const Options& options) {
  World world("10.0.0.0/24");
  int next = 0;
  auto create = [&](uint32_t vni) {
    v1::Network n;
    n.set_id("n" + std::to_string(next++));
    n.set_domain_id("d");
    n.set_name(n.id());
    n.set_vni(vni);
    const auto start = Clock::now();
    auto created = world.registry->Create(n);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!created) Die("network create: " + created.error().message);
    return us;
  };
  for (int i = 0; i < options.fill; ++i) create(0);
  std::vector<double> allocated;
  std::vector<double> given;
  allocated.reserve(options.ops);
  given.reserve(options.ops);
  for (int i = 0; i < options.ops; ++i) allocated.push_back(create(0));
  for (int i = 0; i < options.ops; ++i)
    given.push_back(create(static_cast<uint32_t>(1u << 23) + i));
  Row("vni 1..2^24-1", "held", options.fill + 1, Summarise(allocated), Summarise(given));
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) {
  using dove::bench::Measure;
  const auto options = dove::bench::ParseOptions(argc, argv);
  std::printf(
      "ipam_bench: endpoint create needing an address, Registry over MemoryStore, "
      "--ops %d, --fill %d (churn* = nearly full: all but 5 addresses)\n",
      options.ops, options.fill);
  std::printf("%-14s %-7s %9s %10s %8s %9s %12s %8s\n", "subnet", "phase", "held", "median_us",
              "p99_us", "max_us", "given_med_us", "given_p99");
  Measure(options, "10.0.0.0/24", "10.0.0.1", 254);
  Measure(options, "10.0.0.0/16", "10.0.0.1", 65534);
  Measure(options, "10.0.0.0/8", "10.0.0.1", 16777214);
  Measure(options, "0.0.0.0/1", "0.0.0.1", 2147483646);
  Measure(options, "2001:db8::/64", "2001:db8::1", -1);
  dove::bench::MeasureVnis(options);
  return 0;
}
