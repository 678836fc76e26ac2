// Endpoint creates per second through the store alone, the Registry in process, and the REST
// API of a real dove-controller; and the controller's memory per stored endpoint.
//
//   build/bench/controller_bench [--creates 2000] [--clients 4] [--repeat 3]
//                                [--endpoints 100000]
//
// Rates: each phase creates --creates endpoints, --repeat times on fresh data directories, and
// the median is printed with its ratio to the reference, the store alone (one SqliteStore txn
// per endpoint, shaped as the Registry's: a create-if-absent put of the encoded endpoint).
// Every acknowledged create costs one fsync (WAL, synchronous=FULL), so the store sets the
// ceiling; the ratios say what the Registry's validation and the HTTP layer add to it.
//
// Memory: a dove-controller is filled with --endpoints endpoints through the API (with their
// MACs and IPs given, so IPAM's scan is not what is measured), then restarted so that the
// figure is the steady state after loading from the store, not allocator slack from the
// create burst. Per endpoint = (RSS loaded - RSS of the same controller holding only the
// domain, network and subnet) / endpoints. The reference printed beside it is the endpoint's
// encoded size (what the store holds).
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "controller/registry.h"
#include "store/sqlite_store.h"
#include "support/controller_process.h"
#include "support/temp_dir.h"

namespace dove::bench {
namespace {

using Clock = std::chrono::steady_clock;
using test_support::ControllerProcess;
using test_support::TempDir;

struct Options {
  int creates = 2000;
  int clients = 4;
  int repeat = 3;
  int endpoints = 100000;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "controller_bench: %s\n", message.c_str());
  std::exit(1);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() {
      if (i + 1 >= argc) Die(std::string(arg) + " needs a value");
      const int parsed = std::atoi(argv[++i]);
      if (parsed <= 0) Die(std::string(arg) + " needs a positive number");
      return parsed;
    };
    if (arg == "--creates") {
      options.creates = value();
    } else if (arg == "--clients") {
      options.clients = value();
    } else if (arg == "--repeat") {
      options.repeat = value();
    } else if (arg == "--endpoints") {
      options.endpoints = value();
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: controller_bench [--creates N] [--clients N] [--repeat N] [--endpoints N]\n"
          "  --creates    endpoints created per rate run (default 2000)\n"
          "  --clients    concurrent HTTP clients in the API run (default 4)\n"
          "  --repeat     runs per rate phase; the median is reported (default 3)\n"
          "  --endpoints  endpoints stored for the memory figure (default 100000)\n");
      std::exit(0);
    } else {
      Die("unknown argument " + std::string(arg) + " (see --help)");
    }
  }
  return options;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The i-th endpoint of the benchmark network: a distinct MAC and an IP in 10.0.0.0/8.
v1::Endpoint MakeEndpoint(int i, bool with_addresses) {
  v1::Endpoint endpoint;
  endpoint.set_id("ep" + std::to_string(i));
  endpoint.set_network_id("net");
  endpoint.set_switch_name("host" + std::to_string(i % 1000));
  endpoint.set_port_name("tap" + std::to_string(i));
  if (with_addresses) {
    const auto n = static_cast<unsigned>(i) + 2;
    char mac[18];
    std::snprintf(mac, sizeof(mac), "02:00:00:%02x:%02x:%02x", (n >> 16) & 0xff, (n >> 8) & 0xff,
                  n & 0xff);
    endpoint.set_mac(mac);
    endpoint.add_ips("10." + std::to_string((n >> 16) & 0xff) + "." +
                     std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff));
  }
  return endpoint;
}

std::string EndpointJson(int i, bool with_addresses) {
  const v1::Endpoint endpoint = MakeEndpoint(i, with_addresses);
  std::string json = R"({"id":")" + endpoint.id() + R"(","network_id":"net","switch_name":")" +
                     endpoint.switch_name() + R"(","port_name":")" + endpoint.port_name() + "\"";
  if (with_addresses) {
    json += R"(,"mac":")" + endpoint.mac() + R"(","ips":[")" + endpoint.ips(0) + "\"]";
  }
  return json + "}";
}

double StoreRate(const Options& options) {
  TempDir dir("dove-bench-store");
  auto store = store::SqliteStore::Open(dir.path());
  if (!store) Die(store.error().Describe());
  const auto start = Clock::now();
  for (int i = 0; i < options.creates; ++i) {
    v1::Endpoint endpoint = MakeEndpoint(i, true);
    endpoint.set_version(1);
    auto response =
        (*store)->PutIfAbsent("/dove/v1/endpoints/" + endpoint.id(), endpoint.SerializeAsString());
    if (!response || !response->succeeded) Die("store put failed");
  }
  return options.creates / std::chrono::duration<double>(Clock::now() - start).count();
}

template <typename T>
void MustCreate(controller::Registry* registry, T object) {
  if (auto created = registry->Create(std::move(object)); !created) {
    Die("registry create failed: " + created.error().message);
  }
}

void AddNetwork(controller::Registry* registry) {
  v1::Domain domain;
  domain.set_id("acme");
  domain.set_name("acme");
  MustCreate(registry, domain);
  v1::Network network;
  network.set_id("net");
  network.set_domain_id("acme");
  network.set_name("web");
  MustCreate(registry, network);
  v1::Subnet subnet;
  subnet.set_id("sub");
  subnet.set_network_id("net");
  subnet.set_cidr("10.0.0.0/8");
  subnet.set_gateway("10.0.0.1");
  MustCreate(registry, subnet);
}

// Creates through the Registry with IPAM choosing the addresses, as a client that gives none.
double RegistryRate(const Options& options) {
  TempDir dir("dove-bench-registry");
  auto store = store::SqliteStore::Open(dir.path());
  if (!store) Die(store.error().Describe());
  auto registry = controller::Registry::Open(store->get());
  if (!registry) Die(registry.error().message);
  AddNetwork(registry->get());
  const auto start = Clock::now();
  for (int i = 0; i < options.creates; ++i) MustCreate(registry->get(), MakeEndpoint(i, false));
  return options.creates / std::chrono::duration<double>(Clock::now() - start).count();
}

void Post(httplib::Client* client, const std::string& path, const std::string& body) {
  auto response = client->Post(path, body, "application/json");
  if (!response) Die("POST " + path + ": " + httplib::to_string(response.error()));
  if (response->status != 201) {
    Die("POST " + path + ": " + std::to_string(response->status) + " " + response->body);
  }
}

void PostNetwork(int port) {
  httplib::Client client("127.0.0.1", port);
  Post(&client, "/v1/domains", R"({"id":"acme","name":"acme"})");
  Post(&client, "/v1/networks", R"({"id":"net","domain_id":"acme","name":"web"})");
  Post(&client, "/v1/subnets",
       R"({"id":"sub","network_id":"net","cidr":"10.0.0.0/8","gateway":"10.0.0.1"})");
}

// Endpoints [first, first + count) through `clients` keep-alive connections at once.
double PostEndpoints(int port, int first, int count, int clients, bool with_addresses) {
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([=] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle + delayed ACK stall every keep-alive request
      for (int i = first + c; i < first + count; i += clients) {
        Post(&client, "/v1/endpoints", EndpointJson(i, with_addresses));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return count / std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<ControllerProcess> StartController(const std::filesystem::path& data_dir) {
  auto controller = ControllerProcess::Start({"--data-dir", data_dir.string()});
  if (!controller) Die(controller.error());
  return std::move(*controller);
}

double ApiRate(const Options& options) {
  TempDir dir("dove-bench-api");
  auto controller = StartController(dir.path() / "data");
  PostNetwork(controller->port());
  return PostEndpoints(controller->port(), 0, options.creates, options.clients, false);
}

long RssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  Die("no VmRSS for pid " + std::to_string(pid));
}

// Stops the controller cleanly and starts it again on the same data directory.
std::unique_ptr<ControllerProcess> Restart(std::unique_ptr<ControllerProcess> controller,
                                           const std::filesystem::path& data_dir) {
  controller->Signal(SIGTERM);
  if (!controller->WaitForExit(std::chrono::seconds(60))) Die("controller did not stop");
  controller.reset();
  return StartController(data_dir);
}

void Memory(const Options& options) {
  TempDir dir("dove-bench-memory");
  const auto data_dir = dir.path() / "data";
  auto controller = StartController(data_dir);
  PostNetwork(controller->port());
  controller = Restart(std::move(controller), data_dir);
  const long empty_kib = RssKib(controller->pid());

  std::printf("filling %d endpoints through the API ...\n", options.endpoints);
  std::fflush(stdout);
  const double rate =
      PostEndpoints(controller->port(), 0, options.endpoints, options.clients, true);
  const long filled_kib = RssKib(controller->pid());
  controller = Restart(std::move(controller), data_dir);
  const long loaded_kib = RssKib(controller->pid());

  size_t disk_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    if (entry.is_regular_file()) disk_bytes += entry.file_size();
  }
  v1::Endpoint sample = MakeEndpoint(options.endpoints / 2, true);
  sample.set_version(1);
  const double per_endpoint =
      static_cast<double>(loaded_kib - empty_kib) * 1024.0 / options.endpoints;
  std::printf("memory at %d endpoints (fill rate %.0f creates/s, %d clients):\n", options.endpoints,
              rate, options.clients);
  std::printf("  RSS holding only the network  %8ld KiB\n", empty_kib);
  std::printf("  RSS right after the creates   %8ld KiB\n", filled_kib);
  std::printf("  RSS after restart and load    %8ld KiB\n", loaded_kib);
  std::printf(
      "  per endpoint (loaded - empty) %8.0f bytes   reference: encoded endpoint %zu "
      "bytes (ratio %.1f)\n",
      per_endpoint, sample.ByteSizeLong(),
      per_endpoint / static_cast<double>(sample.ByteSizeLong()));
  std::printf("  data directory on disk        %8.0f bytes per endpoint\n",
              static_cast<double>(disk_bytes) / options.endpoints);
}

int Run(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  std::vector<double> store_rates;
  std::vector<double> registry_rates;
  std::vector<double> api_rates;
  for (int r = 0; r < options.repeat; ++r) {
    store_rates.push_back(StoreRate(options));
    registry_rates.push_back(RegistryRate(options));
    api_rates.push_back(ApiRate(options));
    std::printf("run %d: store %.0f/s  registry %.0f/s  api %.0f/s\n", r + 1, store_rates.back(),
                registry_rates.back(), api_rates.back());
    std::fflush(stdout);
  }
  const double store = Median(store_rates);
  const double registry = Median(registry_rates);
  const double api = Median(api_rates);
  std::printf("endpoint creates per second, median of %d runs of %d (SQLite, fsync per create):\n",
              options.repeat, options.creates);
  std::printf("  store alone (reference)  %8.0f /s\n", store);
  std::printf("  registry in process      %8.0f /s   ratio %.2f\n", registry, registry / store);
  std::printf("  REST API, %d clients      %8.0f /s   ratio %.2f\n", options.clients, api,
              api / store);
  std::fflush(stdout);
  Memory(options);
  return 0;
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) { return dove::bench::Run(argc, argv); }
