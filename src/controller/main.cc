// dove-controller: flag parsing and wiring only; the work is in controller_app.cc.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/log.h"
#include "base/log_level_flag.h"
#include "base/version.h"
#include "controller/bearer_token.h"
#include "controller/controller_app.h"
#include "controller/etcd_password.h"
#include "controller/southbound/switch_service.h"
#include "net/listen_address.h"
#include "store/etcd_store.h"

namespace {

int Main(int argc, char** argv) {
  namespace controller = dove::controller;
  dove::base::InitLog("dove-controller");
  CLI::App app(
      "dove-controller: the DOVE controller. Stores the network objects (domains, networks,\n"
      "subnets, endpoints, switches, policies) and serves the REST API (docs/rest-api.md) on\n"
      "ADDR:PORT until SIGTERM or SIGINT.\n\n"
      "Store: choose one of\n"
      "  --store sqlite --data-dir DIR   (the default) SQLite in DIR, locked by this process:\n"
      "      one controller, nothing else to run.\n"
      "  --store etcd --etcd-endpoints URL[,URL...]   an etcd v3 cluster (3.4 or later), under\n"
      "      --etcd-prefix; https:// URLs take --etcd-cacert and, for etcd's client certificate\n"
      "      authentication, --etcd-cert and --etcd-key. An etcd with user authentication\n"
      "      enabled takes --etcd-user and the password from --etcd-password-file (or\n"
      "      DOVE_ETCD_PASSWORD). The cluster must be reachable with a quorum when the\n"
      "      controller starts; a write it cannot commit is refused (503). With --cache-dir DIR\n"
      "      it keeps a copy of its index in DIR and restarts from it, reading from etcd only\n"
      "      what changed since (one directory per controller).\n\n"
      "Environment:\n"
      "  DOVE_TOKEN  the API bearer token, used when --token-file is not given. Without a\n"
      "      token the API is open to anyone who can connect: keep it on loopback.\n"
      "  DOVE_ETCD_PASSWORD  the password of --etcd-user, used when --etcd-password-file is\n"
      "      not given (a password is never a flag's value: `ps` would show it).\n\n"
      "Southbound: switches connect to --southbound ADDR:PORT (gRPC SwitchService). Choose\n"
      "exactly one of:\n"
      "  --tls-cert FILE --tls-key FILE --tls-client-ca FILE\n"
      "      TLS with client certificates: the controller presents the --tls-cert chain and its\n"
      "      key, and accepts only switches whose certificate --tls-client-ca signed. A switch\n"
      "      may call itself NAME in its Hello only when NAME is its certificate's CN or one of\n"
      "      its subject alternative names; otherwise it is refused (permission_denied).\n"
      "  --southbound-plaintext\n"
      "      no TLS: any client may claim any switch name. Keep it on a trusted network.\n"
      "Making the certificates with openssl: docs/architecture.md, \"Southbound security\".\n\n"
      "REST API over https: --api-tls-cert FILE --api-tls-key FILE (both or neither) make\n"
      "the --listen address serve https only (TLS 1.2 or later; plain HTTP sent to it is\n"
      "answered 426). The files are read at start: a new certificate takes a restart. The\n"
      "bearer token stays the authentication; clients need the CA (dovectl --cacert).\n"
      "Making a certificate with openssl: docs/rest-api.md, \"HTTPS\".\n\n"
      "Every option may also come from --config FILE, one `option = value` per line (TOML):\n"
      "  data-dir = \"/var/lib/dove\"\n  listen = \"127.0.0.1:8740\"\n"
      "  token-file = \"/etc/dove/token\"\n  southbound-plaintext = true\n"
      "  api-tls-cert = \"/etc/dove/api.crt\"\n  api-tls-key = \"/etc/dove/api.key\"\n"
      "Flags on the command line win over the file; a key that is no option is an error.\n\n"
      "Logs: to the journal with its fields (PRIORITY, DOVE_STATUS, ...) when run by systemd,\n"
      "else one line each on stderr; --log-level says which.\n\n"
      "Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT); 1 on a runtime error (data dir\n"
      "in use by another controller, unreadable or corrupt store, etcd unreachable or without\n"
      "quorum, etcd refusing the user or password, bad --listen, unreadable or empty token or\n"
      "etcd password file, address not bindable); 2 on a usage error (including a missing or\n"
      "mixed store or southbound security choice, bad etcd URLs or prefix, --etcd-user\n"
      "without a password or a password without --etcd-user, unreadable TLS files, and an\n"
      "--api-tls-cert without --api-tls-key or whose key does not match it).",
      "dove-controller");
  app.set_version_flag("--version", dove::base::VersionLine("dove-controller"));
  app.set_config("--config", "", "Read options from this file (TOML: option = value)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  std::string store_kind = "sqlite";
  std::string data_dir;
  dove::store::EtcdStore::Options etcd;
  int etcd_timeout_ms = static_cast<int>(etcd.deadline.count());
  std::string listen = "127.0.0.1:8740";
  std::string token_file;
  std::string southbound = "127.0.0.1:8741";
  int dead_after_ms = 3000;
  int heartbeat_ms = 1000;
  int64_t history_revisions = 100000;
  std::string cache_dir;
  int cache_interval_s = 30;
  dove::controller::http::HttpServerOptions http;
  int http_read_timeout_ms = static_cast<int>(http.request_timeout.count());
  int http_idle_timeout_ms = static_cast<int>(http.idle_timeout.count());
  app.add_option("--store", store_kind, "Where the objects live: sqlite or etcd")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "etcd"}));
  app.add_option("--data-dir", data_dir,
                 "With --store sqlite (required there): directory of the store (created if "
                 "missing; locked while the controller runs)");
  auto* etcd_endpoints =
      app.add_option("--etcd-endpoints", etcd.endpoints,
                     "With --store etcd: the members' client URLs, comma-separated, all http:// "
                     "or all https://")
          ->capture_default_str();
  auto* etcd_prefix = app.add_option("--etcd-prefix", etcd.key_prefix,
                                     "With --store etcd: key prefix of this deployment (starts "
                                     "and ends with /); controllers sharing it share the state")
                          ->capture_default_str();
  auto* etcd_ca = app.add_option("--etcd-cacert", etcd.ca_file,
                                 "With https:// endpoints: PEM CA that signs etcd's certificates "
                                 "(default: the system's roots)");
  auto* etcd_cert = app.add_option("--etcd-cert", etcd.cert_file,
                                   "With https:// endpoints: PEM client certificate for etcd "
                                   "(with --etcd-key)");
  auto* etcd_key = app.add_option("--etcd-key", etcd.key_file, "PEM private key of --etcd-cert");
  std::string etcd_password_file;
  auto* etcd_user = app.add_option("--etcd-user", etcd.user,
                                   "With --store etcd: etcd user to authenticate as (etcd's "
                                   "user/password authentication; with --etcd-password-file or "
                                   "DOVE_ETCD_PASSWORD)");
  auto* etcd_password = app.add_option("--etcd-password-file", etcd_password_file,
                                       "File whose first line is the password of --etcd-user "
                                       "(overrides DOVE_ETCD_PASSWORD)");
  auto* etcd_timeout = app.add_option("--etcd-timeout-ms", etcd_timeout_ms,
                                      "With --store etcd: deadline of every etcd request")
                           ->capture_default_str()
                           ->check(CLI::Range(50, 600000));
  auto* cache_dir_option =
      app.add_option("--cache-dir", cache_dir,
                     "With --store etcd: directory (created if missing, locked while the "
                     "controller runs: one per controller) where it keeps a copy of its index, "
                     "rewritten every --cache-interval-s when something changed and at a clean "
                     "stop. A start reads it and then only etcd's changes since, instead of every "
                     "object from etcd; a copy of another etcd cluster or prefix, a damaged one, "
                     "or one older than the history etcd still has, is set aside (logged) and "
                     "etcd read whole. Default: none, every start reads etcd whole");
  auto* cache_interval = app.add_option("--cache-interval-s", cache_interval_s,
                                        "With --cache-dir: seconds between two copies of the "
                                        "index (each costs ~140 ms of index updates waiting at "
                                        "100,000 endpoints)")
                             ->capture_default_str()
                             ->check(CLI::Range(1, 86400));
  app.add_option("--listen", listen,
                 "ADDR:PORT to serve the API on; IPv6 as [::1]:8740; port 0 picks a free port "
                 "(printed on stdout)")
      ->capture_default_str();
  app.add_option("--token-file", token_file,
                 "File holding the API bearer token (surrounding whitespace stripped); "
                 "overrides DOVE_TOKEN");
  app.add_option("--southbound", southbound,
                 "ADDR:PORT of the southbound gRPC service switches connect to; port 0 picks a "
                 "free port (printed on stdout)")
      ->capture_default_str();
  dove::controller::southbound::SouthboundFlags security;
  app.add_option("--tls-cert", security.cert_file,
                 "PEM certificate chain the southbound presents to switches (with --tls-key "
                 "and --tls-client-ca)");
  app.add_option("--tls-key", security.key_file, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", security.client_ca_file,
                 "PEM CA certificate(s) that sign switch certificates; switches without one are "
                 "refused");
  app.add_flag("--southbound-plaintext", security.plaintext,
               "Serve the southbound without TLS (explicit opt-in; not with the --tls-* flags)");
  std::string api_tls_cert;
  std::string api_tls_key;
  app.add_option("--api-tls-cert", api_tls_cert,
                 "PEM certificate chain (server first) the REST API presents: with "
                 "--api-tls-key, --listen serves https only");
  app.add_option("--api-tls-key", api_tls_key, "PEM private key of --api-tls-cert");
  app.add_option("--heartbeat-ms", heartbeat_ms, "Heartbeat interval told to switches")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_option("--switch-dead-after-ms", dead_after_ms,
                 "A switch missing heartbeats this long is marked DOWN")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_option("--history-revisions", history_revisions,
                 "Store revisions of history kept for reconnecting switches (older history is "
                 "compacted; a switch further behind gets a full snapshot); 0 keeps everything")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--http-max-connections", http.max_connections,
                 "REST API connections served at once; the next " +
                     std::to_string(http.reserved_connections) +
                     " are a reserve that answers only /healthz and /metrics, others get 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--http-read-timeout-ms", http_read_timeout_ms,
                 "Time a REST request's head and body have to arrive, from its first byte "
                 "(then 408 and the connection closed)")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_option("--http-idle-timeout-ms", http_idle_timeout_ms,
                 "An idle keep-alive REST connection is closed after this long")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  controller::EventHubOptions events;
  app.add_option("--event-buffer-bytes", events.client_buffer_bytes,
                 "Bytes a GET /v1/events client may fall behind before it is dropped (counted in "
                 "dove_http_streams_dropped_total)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  std::string log_level = "info";
  dove::base::AddLogLevelFlag(app, log_level);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 says "INI was not able to parse KEY" for an unknown config key; say it plainly, as
    // dove-switch does.
    constexpr std::string_view kExtra = "INI was not able to parse ";
    if (const std::string_view what = error.what(); what.starts_with(kExtra)) {
      DOVE_LOG(kError) << "--config: unknown key \"" << what.substr(kExtra.size())
                       << "\" (no option has that name)";
      return 2;
    }
    // app.exit prints the help or the usage error; CLI11's own codes (106, ...) say nothing a
    // script can rely on, so every usage error is 2.
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  dove::base::SetLogLevel(*dove::base::ParseLogLevel(log_level));
  if (store_kind == "sqlite") {
    if (data_dir.empty()) {
      DOVE_LOG(kError) << "--data-dir is required with --store sqlite";
      return 2;
    }
    for (const auto* etcd_only :
         {etcd_endpoints, etcd_prefix, etcd_ca, etcd_cert, etcd_key, etcd_user, etcd_password,
          etcd_timeout, cache_dir_option, cache_interval}) {
      if (etcd_only->count() > 0) {
        DOVE_LOG(kError) << etcd_only->get_name() << " is for --store etcd";
        return 2;
      }
    }
  } else if (!data_dir.empty()) {
    DOVE_LOG(kError) << "--data-dir is for --store sqlite (etcd keeps the state)";
    return 2;
  }
  etcd.deadline = std::chrono::milliseconds(etcd_timeout_ms);
  if (store_kind == "etcd") {
    const char* env_password = std::getenv(controller::kEtcdPasswordEnvVar);
    if (etcd_password->count() > 0 && etcd.user.empty()) {
      DOVE_LOG(kError) << "--etcd-password-file needs --etcd-user (the user the password is of)";
      return 2;
    }
    if (!etcd.user.empty() && etcd_password->count() == 0 && env_password == nullptr) {
      DOVE_LOG(kError) << "--etcd-user needs a password: --etcd-password-file FILE or the "
                          "environment variable "
                       << controller::kEtcdPasswordEnvVar;
      return 2;
    }
    if (!etcd.user.empty()) {
      if (etcd_password->count() > 0) {
        auto read = controller::ReadEtcdPasswordFile(etcd_password_file);
        if (!read) {
          DOVE_LOG(kError) << read.error();
          return 1;
        }
        etcd.password = std::move(*read);
      } else {
        etcd.password = env_password;
        if (etcd.password.empty()) {
          DOVE_LOG(kError) << controller::kEtcdPasswordEnvVar << " is set but empty";
          return 1;
        }
      }
    }
    if (auto valid = dove::store::EtcdStore::ValidateOptions(etcd); !valid) {
      DOVE_LOG(kError) << valid.error().message;
      return 2;
    }
  }
  auto tls = dove::controller::southbound::SouthboundTlsFromFlags(security);
  if (!tls) {
    DOVE_LOG(kError) << tls.error();
    return 2;
  }

  if (api_tls_cert.empty() != api_tls_key.empty()) {
    std::fprintf(stderr,
                 "dove-controller: error: --api-tls-cert and --api-tls-key go together (https "
                 "needs both the certificate and its key)\n");
    return 2;
  }
  if (!api_tls_cert.empty()) {
    auto api_tls = controller::http::TlsContext::Load(api_tls_cert, api_tls_key);
    if (!api_tls) {
      std::fprintf(stderr, "dove-controller: error: %s\n", api_tls.error().c_str());
      return 2;
    }
    http.tls = std::move(*api_tls);
  }

  auto address = dove::net::ParseListenAddress(listen);
  if (!address) {
    DOVE_LOG(kError) << address.error();
    return 1;
  }
  auto southbound_address = dove::net::ParseListenAddress(southbound);
  if (!southbound_address) {
    DOVE_LOG(kError) << "--southbound: " << southbound_address.error();
    return 1;
  }
  std::string token;
  if (!token_file.empty()) {
    auto read = controller::ReadTokenFile(token_file);
    if (!read) {
      DOVE_LOG(kError) << read.error();
      return 1;
    }
    token = *read;
  } else if (const char* env = std::getenv(controller::kTokenEnvVar); env != nullptr) {
    token = env;
    if (token.empty()) {
      DOVE_LOG(kError) << controller::kTokenEnvVar << " is set but empty";
      return 1;
    }
  }
  dove::controller::southbound::SouthboundOptions options;
  options.directory.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
  options.directory.dead_after = std::chrono::milliseconds(dead_after_ms);
  options.history_revisions = history_revisions;
  options.tls = std::move(*tls);
  auto start_southbound = [host = southbound_address->host, port = southbound_address->port,
                           options](controller::Registry* registry, dove::store::Store* store)
      -> dove::Expected<std::unique_ptr<controller::SideService>, std::string> {
    auto server =
        dove::controller::southbound::SouthboundServer::Start(registry, store, host, port, options);
    if (!server) return dove::Unexpected<std::string>(server.error());
    return std::unique_ptr<controller::SideService>(std::move(*server));
  };
  http.request_timeout = std::chrono::milliseconds(http_read_timeout_ms);
  http.idle_timeout = std::chrono::milliseconds(http_idle_timeout_ms);
  return controller::RunController({.store = store_kind == "etcd"
                                                 ? controller::ControllerConfig::kEtcd
                                                 : controller::ControllerConfig::kSqlite,
                                    .data_dir = data_dir,
                                    .etcd = etcd,
                                    .cache_dir = cache_dir,
                                    .cache_interval = std::chrono::seconds(cache_interval_s),
                                    .listen = *address,
                                    .token = token,
                                    .southbound = start_southbound,
                                    .http = http,
                                    .events = events});
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's mutexes are absl's, which (as Debian builds absl) track the order of every lock taken
  // to detect deadlocks: a few percent of the CPU per southbound message, for a check meant
  // for debugging.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    DOVE_LOG(kError) << e.what();
    return 1;
  }
}
