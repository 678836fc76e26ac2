#include "sim_fill.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "say.h"

namespace dove::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The first error of a step (any client thread); the others stop at their next request.
class FirstError {
 public:
  void Set(std::string text) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = std::move(text);
    failed_ = true;
  }
  bool failed() const { return failed_.load(); }
  std::string Take() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::string error_;
  std::atomic<bool> failed_{false};
};

// POST that must be answered 201: the answer's body, or nothing (the error recorded).
std::optional<std::string> Post(httplib::Client* client, const std::string& path,
                                const std::string& body, FirstError* error) {
  auto response = client->Post(path, body, "application/json");
  if (!response) {
    error->Set("POST " + path + ": " + httplib::to_string(response.error()));
    return std::nullopt;
  }
  if (response->status != 201) {
    error->Set("POST " + path + ": " + std::to_string(response->status) + " " + response->body);
    return std::nullopt;
  }
  return std::move(response->body);
}

// The value of `"field":N` in a JSON body (N possibly quoted), or -1.
int64_t NumberField(const std::string& body, const std::string& field) {
  const std::string key = "\"" + field + "\":";
  const size_t at = body.find(key);
  if (at == std::string::npos) return -1;
  size_t from = at + key.size();
  if (from < body.size() && body[from] == '"') ++from;
  return std::strtoll(body.c_str() + from, nullptr, 10);
}

// Runs job(client, i) for i in [0, count) over `clients` keep-alive connections (client c to
// ports[c % size]), printing progress every few seconds. Returns the elapsed time.
template <typename Job>
Clock::duration ForAll(const std::vector<int>& ports, int count, int clients, const char* what,
                       FirstError* error, Job job) {
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(clients));
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", ports[static_cast<size_t>(c) % ports.size()]);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle + delayed ACK stall every keep-alive request
      // A controller paused (a debugger taking stack samples) is slow, not gone.
      client.set_read_timeout(std::chrono::seconds(120));
      for (int i = c; i < count && !error->failed(); i += clients) {
        job(&client, i);
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  auto next_report = start + std::chrono::seconds(5);
  while (done.load() < count && !error->failed()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() >= next_report) {
      const int now_done = done.load();
      Say("  fill: %d/%d %s (%.0f/s)\n", now_done, count, what,
          now_done / Seconds(Clock::now() - start));
      next_report += std::chrono::seconds(5);
    }
  }
  for (auto& thread : threads) thread.join();
  return Clock::now() - start;
}

// The revision replica `port`'s index reflects (/healthz), -1 when it does not answer.
int64_t RevisionOf(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(30));
  auto response = client.Get("/healthz");
  if (!response || response->status != 200) return -1;
  return NumberField(response->body, "revision");
}

// dove_registry_write_retries_total summed over the replicas (writes that lost a race to
// another replica and were made again), -1 when one does not say.
int64_t WriteRetries(const std::vector<int>& ports) {
  int64_t sum = 0;
  for (int port : ports) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(std::chrono::seconds(30));
    auto response = client.Get("/metrics");
    if (!response || response->status != 200) return -1;
    const std::string name = "\ndove_registry_write_retries_total ";
    const size_t at = response->body.find(name);
    if (at == std::string::npos) return -1;
    sum += std::strtoll(response->body.c_str() + at + name.size(), nullptr, 10);
  }
  return sum;
}

// Waits until every replica's index reflects the highest revision one of them reports (so each
// knows what was written through the others). Nothing to wait for with one.
Expected<void, std::string> Converge(const std::vector<int>& ports) {
  if (ports.size() < 2) return {};
  int64_t target = -1;
  for (int port : ports) target = std::max(target, RevisionOf(port));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int port : ports) {
    int64_t revision = RevisionOf(port);
    while (revision < target) {
      if (Clock::now() > deadline) {
        return Unexpected("the replica with API port " + std::to_string(port) +
                          " reflects revision " + std::to_string(revision) + ", not " +
                          std::to_string(target) + ", after 60 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      revision = RevisionOf(port);
    }
  }
  return {};
}

}  // namespace

Expected<std::vector<uint32_t>, std::string> Fill(const std::vector<int>& api_ports,
                                                  const Layout& layout, int clients) {
  FirstError error;
  {
    httplib::Client client("127.0.0.1", api_ports.front());
    for (int d = 0; d < layout.domains; ++d) {
      std::string body = R"({"id":")";
      body += DomainId(d);
      body += R"(","name":")";
      body += DomainId(d);
      body += "\"}";
      if (!Post(&client, "/v1/domains", body, &error)) {
        return Unexpected(error.Take());
      }
    }
  }
  if (auto converged = Converge(api_ports); !converged) return Unexpected(converged.error());
  const std::string spread =
      api_ports.size() > 1 ? ", over " + std::to_string(api_ports.size()) + " replicas" : "";
  const int networks = layout.Networks();
  std::vector<uint32_t> vnis(static_cast<size_t>(networks));
  const auto net_time =
      ForAll(api_ports, networks, clients, "networks", &error, [&](httplib::Client* c, int n) {
        const std::string id = NetworkId(n);
        auto created = Post(c, "/v1/networks",
                            R"({"id":")" + id + R"(","domain_id":")" +
                                DomainId(layout.DomainOf(n)) + R"(","name":")" + id + "\"}",
                            &error);
        if (!created) return;
        const int64_t vni = NumberField(*created, "vni");
        if (vni <= 0) {
          error.Set("no vni in the network: " + *created);
          return;
        }
        vnis[static_cast<size_t>(n)] = static_cast<uint32_t>(vni);
        const std::string prefix = SubnetPrefix(n);
        Post(c, "/v1/subnets",
             R"({"id":"sub-)" + std::to_string(n) + R"(","network_id":")" + id + R"(","cidr":")" +
                 prefix + R"(0/24","gateway":")" + prefix + "1\"}",
             &error);
      });
  if (error.failed()) return Unexpected(error.Take());
  Say("fill: %d networks with a subnet each in %.1f s\n", networks, Seconds(net_time));
  if (auto converged = Converge(api_ports); !converged) return Unexpected(converged.error());
  const auto ep_time = ForAll(
      api_ports, layout.Endpoints(), clients, "endpoints", &error, [&](httplib::Client* c, int e) {
        Post(c, "/v1/endpoints",
             R"({"id":")" + EndpointId(e) + R"(","network_id":")" + NetworkId(layout.NetworkOf(e)) +
                 R"(","switch_name":")" + SwitchName(layout.HomeSwitch(e)) + R"(","port_name":")" +
                 PortName(e) + R"(","mac":")" + Mac(e) + R"(","ips":[")" + Ip(layout, e) + "\"]}",
             &error);
      });
  if (error.failed()) return Unexpected(error.Take());
  Say("fill: %d endpoints in %.1f s (%.0f creates/s, %d clients%s)\n", layout.Endpoints(),
      Seconds(ep_time), layout.Endpoints() / Seconds(ep_time), clients, spread.c_str());
  // The unplaced ones (no switch_name): a switch serving the network claims each with an Attach.
  if (layout.attaches > 0) {
    const auto unplaced_time =
        ForAll(api_ports, layout.attaches, clients, "unplaced endpoints", &error,
               [&](httplib::Client* c, int a) {
                 const int e = layout.Endpoints() + a;
                 Post(c, "/v1/endpoints",
                      R"({"id":")" + EndpointId(e) + R"(","network_id":")" +
                          NetworkId(layout.NetworkOfAny(e)) + R"(","mac":")" + Mac(e) +
                          R"(","ips":[")" + Ip(layout, e) + "\"]}",
                      &error);
               });
    if (error.failed()) return Unexpected(error.Take());
    Say("fill: %d unplaced endpoints in %.1f s\n", layout.attaches, Seconds(unplaced_time));
  }
  // Every replica serves what the others were told before the switches come.
  if (auto converged = Converge(api_ports); !converged) return Unexpected(converged.error());
  if (api_ports.size() > 1) {
    Say("fill: %lld writes retried after losing a race to another replica\n",
        static_cast<long long>(WriteRetries(api_ports)));
  }
  return vnis;
}

}  // namespace dove::bench
