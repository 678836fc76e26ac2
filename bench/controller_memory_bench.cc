// controller_memory_bench: the controller's heap per endpoint, by structure, without gRPC.
//
// Builds switch_sim's layout (one domain, networks of 100 endpoints with a /24 each, 100
// endpoints per switch, a network spread over 10 switches) in a MemoryStore, then measures the
// heap in use (glibc's mallinfo2: the bytes of allocated blocks, their headers included) after
// each step: the Registry loaded from the store, the southbound Directory built over it, every
// switch's Hello (a session each), and cache records (each switch's Hello listing C endpoints
// of the networks it serves, as a reconnecting switch does). Prints bytes per endpoint (per
// record for the caches) and, as the reference measured in the same run, what the store's own
// copy of the same objects costs per endpoint. The registry's and directory's own figures are
// what `switch_sim` counts in "loaded - empty"; gRPC's per-connection memory is not here.
//
// Then the index cache (--cache-dir, registry.h): the time to write the registry's index to its
// file and the heap that writing adds (it streams: ~nothing), and the time of a Registry::Open
// from the file against an Open reading the same MemoryStore whole (the reference, in the same
// run; from etcd a full read also waits for etcd to serve every key, which this leaves out: it
// compares the decoding alone). Medians of 5 (write) and 3 (opens); the file is in $TMPDIR
// (the page cache: the fsync's cost is the disk's).
//
//   build/bench/controller_memory_bench [--switches 1000] [--endpoints 100] [--cached 96]
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controller/registry.h"
#include "controller/southbound/directory.h"
#include "sim_layout.h"
#include "store/memory_store.h"

namespace dove::bench {
namespace {

size_t HeapInUse() {
  ::malloc_trim(0);
  return ::mallinfo2().uordblks;
}

std::string Number(const char* prefix, int n) { return prefix + std::to_string(n); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

template <typename F>
double Seconds(F&& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The index cache's figures (see the top): returns false when a step fails.
bool MeasureIndexCache(store::Store* store, double endpoints) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("dove-index-cache-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const controller::IndexCache cache{.file = dir / "index", .identity = "bench"};
  auto registry = controller::Registry::Open(store, cache);
  if (!registry) return false;
  std::vector<double> writes;
  size_t heap_before = HeapInUse();
  size_t heap_grew = 0;
  for (int i = 0; i < 5; ++i) {
    bool ok = true;
    writes.push_back(Seconds([&] { ok = (*registry)->WriteIndexCache().has_value(); }));
    if (!ok) return false;
    heap_grew = std::max(heap_grew, HeapInUse() - std::min(HeapInUse(), heap_before));
  }
  registry->reset();
  std::vector<double> from_cache;
  std::vector<double> from_store;
  for (int i = 0; i < 3; ++i) {
    bool cached = false;
    from_cache.push_back(Seconds([&] {
      auto opened = controller::Registry::Open(store, cache);
      cached = opened && (*opened)->Stats().loaded_from_cache;
    }));
    if (!cached) return false;
    from_store.push_back(Seconds([&] { (void)controller::Registry::Open(store); }));
  }
  std::error_code ignored;
  const auto bytes = std::filesystem::file_size(cache.file, ignored);
  std::filesystem::remove_all(dir, ignored);
  std::printf(
      "  index cache: %.1f MB (%.0f bytes per endpoint), written in %.0f ms (median of 5,\n"
      "    fsync included; heap after a write %zu bytes above before it)\n",
      static_cast<double>(bytes) / 1e6, static_cast<double>(bytes) / endpoints,
      Median(writes) * 1e3, heap_grew);
  std::printf(
      "  Registry::Open from the index cache %.0f ms, from the MemoryStore whole %.0f ms\n"
      "    (reference; medians of 3): ratio %.2f\n",
      Median(from_cache) * 1e3, Median(from_store) * 1e3, Median(from_cache) / Median(from_store));
  return true;
}

int Main(int argc, char** argv) {
  Layout layout{.switches = 1000, .per_switch = 100, .per_network = 100, .spread = 10};
  int cached = 96;  // endpoints each switch caches
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const int value = static_cast<int>(std::strtol(argv[i + 1], nullptr, 10));
    if (flag == "--switches") layout.switches = value;
    if (flag == "--endpoints") layout.per_switch = value;
    if (flag == "--cached") cached = value;
  }
  const auto endpoints = static_cast<double>(layout.Endpoints());
  store::MemoryStore store;
  {
    auto registry = controller::Registry::Open(&store);
    if (!registry) return 1;
    v1::Domain domain;
    domain.set_id("sim");
    domain.set_name("sim");
    (void)(*registry)->Create(domain);
    const int networks = layout.Endpoints() / layout.per_network;
    for (int n = 0; n < networks; ++n) {
      v1::Network network;
      network.set_id(Number("net-", n));
      network.set_domain_id("sim");
      network.set_name(network.id());
      (void)(*registry)->Create(network);
      v1::Subnet subnet;
      subnet.set_id(Number("sub-", n));
      subnet.set_network_id(network.id());
      subnet.set_cidr(SubnetPrefix(n) + "0/24");
      (void)(*registry)->Create(subnet);
    }
    std::vector<int> in_network(static_cast<size_t>(networks), 0);
    for (int e = 0; e < layout.Endpoints(); ++e) {
      const int n = layout.NetworkOf(e);
      v1::Endpoint endpoint;
      endpoint.set_id(Number("ep-", e));
      endpoint.set_network_id(Number("net-", n));
      endpoint.set_mac(Mac(e));
      endpoint.add_ips(SubnetPrefix(n) + std::to_string(2 + in_network[static_cast<size_t>(n)]++));
      endpoint.set_switch_name(Number("sw-", e / layout.per_switch));
      endpoint.set_port_name(Number("tap-", e));
      if (auto made = (*registry)->Create(endpoint); !made) {
        std::fprintf(stderr, "create: %s\n", made.error().message.c_str());
        return 1;
      }
    }
  }
  const size_t empty = HeapInUse();
  auto registry = controller::Registry::Open(&store);
  if (!registry) return 1;
  const size_t loaded = HeapInUse();
  auto directory = std::make_unique<controller::southbound::Directory>(
      registry->get(), nullptr, controller::southbound::DirectoryOptions{});
  const size_t with_directory = HeapInUse();
  const auto now = controller::southbound::Clock::now();
  for (int s = 0; s < layout.switches; ++s) {
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name(Number("sw-", s));
    hello.mutable_hello()->set_tunnel_ip("10.255." + std::to_string((s + 1) >> 8) + "." +
                                         std::to_string((s + 1) & 0xff));
    // A new switch: its record is written before the Hello is answered (SwitchService does it
    // off its lock).
    const auto greeted =
        directory->OnMessage(static_cast<controller::southbound::SessionId>(s) + 1, hello, now);
    for (const auto& registration : greeted.registrations) {
      (void)directory->OnRegistered(
          registration, controller::southbound::PerformRegistration(**registry, registration), now);
    }
  }
  const size_t with_sessions = HeapInUse();
  // Reconnect each switch listing `cached` endpoints of its own networks (the other switches of
  // its block hold them): the directory records each as a cache record.
  for (int s = 0; s < layout.switches; ++s) {
    const auto session = static_cast<controller::southbound::SessionId>(layout.switches) +
                         static_cast<controller::southbound::SessionId>(s) + 1;
    (void)directory->OnDisconnect(static_cast<controller::southbound::SessionId>(s) + 1, now);
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name(Number("sw-", s));
    hello.mutable_hello()->set_tunnel_ip("10.255." + std::to_string((s + 1) >> 8) + "." +
                                         std::to_string((s + 1) & 0xff));
    const int first = layout.BlockFirst(s);
    int listed = 0;
    for (int e = first * layout.per_switch;
         listed < cached && e < (first + layout.BlockSize(s)) * layout.per_switch &&
         e < layout.Endpoints();
         ++e) {
      if (e / layout.per_switch == s) continue;
      if (layout.NetworkOf(e) != layout.NetworkOf(s * layout.per_switch)) continue;
      hello.mutable_hello()->add_cached_endpoint_ids(Number("ep-", e));
      ++listed;
    }
    (void)directory->OnMessage(session, hello, now);
  }
  const size_t with_caches = HeapInUse();
  const auto records = static_cast<double>(directory->CacheRecords());
  std::printf("controller_memory_bench: %d switches x %d endpoints (heap in use, mallinfo2)\n",
              layout.switches, layout.per_switch);
  std::printf("  store's own copy (reference)   %8.0f bytes per endpoint\n",
              static_cast<double>(empty) / endpoints);
  std::printf("  registry (index) loaded        %8.0f bytes per endpoint\n",
              static_cast<double>(loaded - empty) / endpoints);
  std::printf("  directory built                %8.0f bytes per endpoint\n",
              static_cast<double>(with_directory - loaded) / endpoints);
  std::printf("  sessions (a Hello per switch)  %8.0f bytes per switch\n",
              static_cast<double>(with_sessions - with_directory) / layout.switches);
  std::printf("  cache records (%.0f)          %8.0f bytes per record\n", records,
              records > 0 ? static_cast<double>(with_caches - with_sessions) / records : 0.0);
  std::printf("  ratio registry+directory / store copy  %.2f\n",
              static_cast<double>(with_directory - empty) / static_cast<double>(empty));
  directory.reset();
  registry->reset();
  if (!MeasureIndexCache(&store, endpoints)) {
    std::fprintf(stderr, "controller_memory_bench: the index cache's measurement failed\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) { return dove::bench::Main(argc, argv); }
