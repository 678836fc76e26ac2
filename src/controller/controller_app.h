// RunController: dove-controller from parsed flags to exit code (main.cc only parses flags).
//
// Opens the store: SqliteStore in the data directory (which it creates and locks) by default,
// or EtcdStore on an etcd cluster (config.store == kEtcd; the cluster must be reachable and
// have a quorum), loads the Registry, serves the REST API (rest_api.h) on the listen address,
// prints the one stdout line "dove-controller: listening on HOST:PORT" (actual port) once
// connections are accepted (preceded by "dove-controller: southbound on HOST:PORT" when
// config.southbound), and runs until SIGTERM or SIGINT. Then it stops accepting, lets in-flight
// requests finish, closes the store and returns 0. Every failure is one line on stderr and a return
// of 1: data directory locked by another controller, store unreadable or corrupt, etcd unreachable,
// address not bindable. With no token on a non-loopback address it warns loudly on stderr.
//
// Call once per process, from the main thread, before any other thread exists: it blocks
// SIGTERM and SIGINT in the calling thread (so every thread inherits the mask) and takes them
// with sigwait on a thread of its own.
//
//   ControllerConfig config{.data_dir = "/var/lib/dove", .listen = *address, .token = ""};
//   return RunController(config);
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "base/expected.h"
#include "controller/event_hub.h"
#include "controller/http/http_server.h"
#include "controller/side_service.h"
#include "net/listen_address.h"
#include "store/etcd_store.h"
#include "store/store.h"

namespace dove::controller {

struct ControllerConfig {
  enum StoreKind : uint8_t { kSqlite, kEtcd };
  StoreKind store = kSqlite;
  std::filesystem::path data_dir;  // kSqlite: the store's directory
  store::EtcdStore::Options etcd;  // kEtcd: the cluster, key prefix, TLS and deadline
  // kEtcd: the index cache's directory (Registry's IndexCache; locked while running), or empty.
  std::filesystem::path cache_dir;
  std::chrono::seconds cache_interval{30};
  net::ListenAddress listen;
  std::string token;  // empty: no authentication
  // Empty: no southbound. Started once the REST address is bound; RunController prints
  // "dove-controller: southbound on HOST:PORT" before the "listening on" line.
  SideServiceFactory southbound{};
  // The REST server's connection cap, read and idle times (http/http_server.h); the body
  // limit is always model::kMaxJsonBytes.
  http::HttpServerOptions http{};
  // GET /v1/events: subscribers, per-client buffer, stats polls (event_hub.h).
  EventHubOptions events{};
};

int RunController(const ControllerConfig& config);

}  // namespace dove::controller
