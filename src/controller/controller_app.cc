#include "controller/controller_app.h"

#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "base/log.h"
#include "base/systemd_notify.h"
#include "controller/event_hub.h"
#include "controller/http/http_server.h"
#include "controller/index_snapshot.h"
#include "controller/registry.h"
#include "controller/rest_api.h"
#include "model/json.h"
#include "store/sqlite_store.h"

namespace dove::controller {
namespace {

std::string StoreDescription(const ControllerConfig& config) {
  if (config.store == ControllerConfig::kEtcd) {
    return "etcd at " + config.etcd.endpoints + " (key prefix " + config.etcd.key_prefix + ")";
  }
  return config.data_dir.string();
}

}  // namespace

int RunController(const ControllerConfig& config) {
  // Block before any thread starts so that only the sigwait thread below takes these.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (config.token.empty() && !net::IsLoopback(config.listen.host)) {
    DOVE_LOG(kWarning)
        << "no API token is configured and the controller listens on " +
               net::FormatHostPort(config.listen.host, config.listen.port) +
               ", which is not loopback: ANYONE WHO CAN REACH THIS ADDRESS CAN READ AND CHANGE THE "
               "NETWORK. Set --token-file or DOVE_TOKEN, or listen on 127.0.0.1.";
  }

  const std::string where = StoreDescription(config);
  // How long each step of the start took, logged once serving: a slow start (a big store, a
  // busy etcd) says where its time went.
  using StartClock = std::chrono::steady_clock;
  const auto started_at = StartClock::now();
  auto seconds_since = [](StartClock::time_point from) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f",
                  std::chrono::duration<double>(StartClock::now() - from).count());
    return std::string(text);
  };
  std::string start_steps;
  std::unique_ptr<store::Store> store;
  IndexCache cache;
  std::unique_ptr<CacheDirLock> cache_lock;
  if (config.store == ControllerConfig::kEtcd) {
    if (!config.cache_dir.empty()) {
      auto locked = CacheDirLock::Acquire(config.cache_dir);
      if (!locked) {
        DOVE_LOG(kError) << "--cache-dir: " + locked.error();
        return 1;
      }
      cache_lock = std::move(*locked);
    }
    auto opened = store::EtcdStore::Open(config.etcd);
    if (!opened) {
      DOVE_LOG(kError) << "cannot open the store on " + where + ": " + opened.error().Describe();
      return 1;
    }
    if (cache_lock) {
      char cluster[24];
      std::snprintf(cluster, sizeof cluster, "%016llx",
                    static_cast<unsigned long long>((*opened)->cluster_id()));
      cache = IndexCache{.file = config.cache_dir / "index",
                         .identity = "etcd cluster " + std::string(cluster) + " key prefix " +
                                     config.etcd.key_prefix,
                         .interval = config.cache_interval};
    }
    store = std::move(*opened);
  } else {
    auto opened = store::SqliteStore::Open(config.data_dir);
    if (!opened) {
      if (opened.error().code == store::StoreError::kLocked) {
        DOVE_LOG(kError) << "the data directory " + config.data_dir.string() +
                                " is in use by another running controller (" +
                                opened.error().Describe() + ")";
      } else {
        DOVE_LOG(kError) << "cannot open the store in " + config.data_dir.string() + ": " +
                                opened.error().Describe();
      }
      return 1;
    }
    store = std::move(*opened);
  }
  start_steps += "store opened " + seconds_since(started_at) + " s";
  const auto loading_at = StartClock::now();
  auto registry = Registry::Open(store.get(), cache);
  if (!registry) {
    DOVE_LOG(kError) << "cannot load the registry from " + where + ": " + registry.error().code +
                            ": " + registry.error().message;
    return 1;
  }
  // Loading read the whole store at once; hand the transient buffers back to the system so
  // the resident size is what the registry holds, not the load's peak.
  ::malloc_trim(0);
  {
    const auto counts = (*registry)->Counts();
    start_steps += ", registry loaded " + seconds_since(loading_at) + " s (" +
                   std::to_string(counts.domains + counts.networks + counts.subnets +
                                  counts.endpoints + counts.switches + counts.policies) +
                   " objects)";
  }

  // GET /v1/events: destroyed after the server (its channels close with the connections)
  // and before the registry.
  auto events = std::make_unique<EventHub>(registry->get(), store.get(), config.events);
  RestApi api(registry->get(), config.token);
  LiveTraces live_traces;  // outlives the server and the southbound that use it
  api.SetEvents(events.get());
  http::HttpServerOptions options = config.http;
  options.limits.max_body = model::kMaxJsonBytes;
  auto bound = http::HttpServer::Bind(
      config.listen.host, config.listen.port, options,
      [&api](const http::HttpRequest& request, http::HttpResponse& response) {
        api.Serve(request, response);
      },
      [&api](const http::HttpRequest& request, std::string_view message,
             http::HttpResponse& response) { api.Refused(request, message, response); });
  if (!bound) {
    DOVE_LOG(kError) << "cannot listen on " +
                            net::FormatHostPort(config.listen.host, config.listen.port) + ": " +
                            bound.error() + " (address in use, not local, or not permitted)";
    return 1;
  }
  http::HttpServer& server = **bound;
  const int port = server.port();

  std::unique_ptr<SideService> southbound;
  if (config.southbound) {
    const auto southbound_at = StartClock::now();
    auto started = config.southbound(registry->get(), store.get());
    if (!started) {
      DOVE_LOG(kError) << "southbound: " + started.error();
      return 1;
    }
    southbound = std::move(*started);
    southbound->SetTraceSink(
        [&live_traces](TraceArrival arrival) { live_traces.Arrive(std::move(arrival)); });
    live_traces.SetSender(
        [side = southbound.get()](const std::string& source_switch, const v1::TraceOrder& order) {
          return side->SendTrace(source_switch, order);
        });
    api.SetLiveTraces(&live_traces);
    api.SetExtraMetrics(
        [side = southbound.get(), &server, hub = events.get()](base::MetricsPage& page) {
          server.AddMetrics(page);
          hub->AddMetrics(page);
          side->AddMetrics(page);
        });
    api.SetSwitchStats([side = southbound.get()] { return side->SwitchStats(); });
    events->SetStatsSource([side = southbound.get()] { return side->SwitchStats(); });
    ::malloc_trim(0);  // the southbound's own load (its directory) read every object again
    start_steps += ", southbound loaded " + seconds_since(southbound_at) + " s";
  }

  if (!southbound) {
    api.SetExtraMetrics([&server, hub = events.get()](base::MetricsPage& page) {
      server.AddMetrics(page);
      hub->AddMetrics(page);
    });
  }

  std::atomic<bool> serving_done{false};
  std::atomic<bool> signalled{false};
  std::thread signal_waiter([&] {
    const timespec poll_interval{0, 200L * 1000 * 1000};
    while (!serving_done.load()) {
      const int signal = sigtimedwait(&stop_signals, nullptr, &poll_interval);
      if (signal == SIGTERM || signal == SIGINT) {
        DOVE_LOG(kInfo) << (std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                            ", finishing in-flight requests");
        signalled = true;
        server.Stop();  // also when it comes before Run(): Run then returns at once
        return;
      }
    }
  });

  DOVE_LOG(kInfo) << "started in " + seconds_since(started_at) + " s: " + start_steps;
  const std::string address = net::FormatHostPort(config.listen.host, port);
  DOVE_LOG(kInfo) << ("serving " + where + " (store revision " +
                      std::to_string((*registry)->Revision()) + ") on " + address +
                      (config.http.tls ? " (https)" : "") +
                      (config.token.empty() ? " without authentication"
                                            : " with bearer token authentication"));
  if (southbound) {
    DOVE_LOG(kInfo) << "southbound (" + southbound->Protocol() + ") on " + southbound->address();
    std::printf("dove-controller: southbound on %s\n", southbound->address().c_str());
  }
  // The listening socket exists since bind_*; connections queue until the loop runs.
  std::printf("dove-controller: listening on %s\n", address.c_str());
  std::fflush(stdout);
  // Under systemd (Type=notify) the unit is started now: the API's socket accepts connections.
  if (auto notified = base::NotifySystemd("READY=1\nSTATUS=serving on " + address); !notified) {
    DOVE_LOG(kWarning) << "systemd readiness not sent: " + notified.error();
  }

  server.Run();
  serving_done = true;
  signal_waiter.join();
  api.SetExtraMetrics(nullptr);
  api.SetSwitchStats(nullptr);
  events->SetStatsSource(nullptr);
  bound->reset();
  live_traces.SetSender(nullptr);
  events.reset();  // its watch thread reads the registry
  southbound.reset();
  // The next start reads this copy and nothing else (a clean stop: nothing changes after it).
  if (auto written = (*registry)->WriteIndexCache(); !written) {
    DOVE_LOG(kWarning) << "index cache not written at the stop: " + written.error();
  }
  registry->reset();
  store->Close();
  DOVE_LOG(kInfo) << "stopped; store closed";
  return 0;
}

}  // namespace dove::controller
