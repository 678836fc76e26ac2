#include "controller/controller_app.h"

#include <httplib.h>
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <thread>

#include "controller/registry.h"
#include "controller/rest_api.h"
#include "store/sqlite_store.h"

namespace dove::controller {
namespace {

void Log(const std::string& line) {
  std::fprintf(stderr, "dove-controller: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

int RunController(const ControllerConfig& config) {
  // Block before any thread starts so that only the sigwait thread below takes these.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (config.token.empty() && !IsLoopback(config.listen.host)) {
    Log("WARNING: no API token is configured and the controller listens on " +
        FormatHostPort(config.listen.host, config.listen.port) +
        ", which is not loopback: ANYONE WHO CAN REACH THIS ADDRESS CAN READ AND CHANGE THE "
        "NETWORK. Set --token-file or DOVE_TOKEN, or listen on 127.0.0.1.");
  }

  auto store = store::SqliteStore::Open(config.data_dir);
  if (!store) {
    if (store.error().code == store::StoreError::kLocked) {
      Log("error: the data directory " + config.data_dir.string() +
          " is in use by another running controller (" + store.error().Describe() + ")");
    } else {
      Log("error: cannot open the store in " + config.data_dir.string() + ": " +
          store.error().Describe());
    }
    return 1;
  }
  auto registry = Registry::Open(store->get());
  if (!registry) {
    Log("error: cannot load the registry from " + config.data_dir.string() + ": " +
        registry.error().code + ": " + registry.error().message);
    return 1;
  }
  // Loading read the whole store at once; hand the transient buffers back to the system so
  // the resident size is what the registry holds, not the load's peak.
  ::malloc_trim(0);

  RestApi api(registry->get(), config.token);
  httplib::Server server;
  api.Install(&server);
  // httplib writes a response's headers and body in separate sends: with Nagle on, a
  // keep-alive client's delayed ACK can stall the body ~40 ms. (Clients need the same on their
  // side: bench/controller_bench went from 64 to ~1700 creates/s with both.) Accepted sockets
  // inherit the option from the listening one.
  server.set_tcp_nodelay(true);

  int port = config.listen.port;
  if (port == 0) {
    port = server.bind_to_any_port(config.listen.host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(config.listen.host, port)) {
    port = 0;
  }
  if (port == 0) {
    Log("error: cannot listen on " + FormatHostPort(config.listen.host, config.listen.port) +
        " (address in use, not local, or not permitted)");
    return 1;
  }

  std::unique_ptr<SideService> southbound;
  if (config.southbound) {
    auto started = config.southbound(registry->get(), store->get());
    if (!started) {
      Log("error: southbound: " + started.error());
      return 1;
    }
    southbound = std::move(*started);
    api.SetExtraMetrics([side = southbound.get()] { return side->MetricsText(); });
    ::malloc_trim(0);  // the southbound's own load (its directory) read every object again
  }

  std::atomic<bool> serving_done{false};
  std::atomic<bool> signalled{false};
  std::thread signal_waiter([&] {
    const timespec poll_interval{0, 200L * 1000 * 1000};
    while (!serving_done.load()) {
      const int signal = sigtimedwait(&stop_signals, nullptr, &poll_interval);
      if (signal == SIGTERM || signal == SIGINT) {
        Log(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
            ", finishing in-flight requests");
        signalled = true;
        // stop() may come before listen_after_bind() runs; the loop below repeats it.
        while (!serving_done.load()) {
          server.stop();
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return;
      }
    }
  });

  const std::string address = FormatHostPort(config.listen.host, port);
  Log("serving " + config.data_dir.string() + " (store revision " +
      std::to_string((*registry)->Revision()) + ") on " + address +
      (config.token.empty() ? " without authentication" : " with bearer token authentication"));
  if (southbound) {
    Log("southbound (" + southbound->Protocol() + ") on " + southbound->address());
    std::printf("dove-controller: southbound on %s\n", southbound->address().c_str());
  }
  // The listening socket exists since bind_*; connections queue until the loop runs.
  std::printf("dove-controller: listening on %s\n", address.c_str());
  std::fflush(stdout);

  const bool served = server.listen_after_bind();
  serving_done = true;
  signal_waiter.join();
  api.SetExtraMetrics(nullptr);
  southbound.reset();
  registry->reset();
  (*store)->Close();
  if (!signalled.load() && !served) {
    Log("error: the HTTP server stopped unexpectedly");
    return 1;
  }
  Log("stopped; store closed");
  return 0;
}

}  // namespace dove::controller
