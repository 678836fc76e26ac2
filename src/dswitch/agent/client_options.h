// ClientOptions: how a ControllerClient finds and greets the controller (see
// controller_client.h). Defaults fit production; tests shorten the durations.
//
// Security: TLS unless `plaintext` is set (an explicit choice, as on the controller). With TLS
// the switch verifies the controller's certificate against tls.ca_file and presents
// tls.cert_file / tls.key_file, whose CN or a subject alternative name must be switch_name
// (the controller refuses the Hello otherwise).
//
//   ClientOptions options{.controllers = {"ctl-a:8741", "ctl-b:8741"},
//                         .switch_name = "host-17", .tunnel_ip = "192.0.2.17",
//                         .tls = {.ca_file = "/etc/dove/ca.pem",
//                                 .cert_file = "/etc/dove/host-17.pem",
//                                 .key_file = "/etc/dove/host-17.key"}};
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/agent/backoff.h"

namespace dove::dswitch::agent {

class EndpointCache;
struct CacheChanges;

// PEM files of the switch's TLS identity; read once, when the ControllerClient is made.
// (The `{}` initializers let designated initializers leave members out without a warning.)
struct ClientTls {
  std::string ca_file{};    // the CA that signed the controller's certificate
  std::string cert_file{};  // this switch's certificate chain
  std::string key_file{};   // its private key
  // Checked against the controller's certificate instead of the address's host (tests, or an
  // address that is not a name of the certificate). Empty: the host of each address.
  std::string server_name_override{};
};

struct ClientOptions {
  // "host:port", tried in order on every round; the first that connects and welcomes wins.
  std::vector<std::string> controllers;
  std::string switch_name;       // Hello.switch_name
  std::string tunnel_ip;         // Hello.tunnel_ip
  std::string software_version;  // Hello.software_version
  BackoffPolicy backoff;         // between rounds that ended without a working stream
  // How long one address may take to connect (TCP + HTTP/2), and then to answer Hello with
  // Welcome, before the next one is tried.
  std::chrono::milliseconds connect_timeout{1000};
  // How long a Resolve that went to the controller waits for its answer.
  std::chrono::milliseconds resolve_timeout{1000};
  // Heartbeat period until a Welcome says otherwise (and when it says 0).
  std::chrono::milliseconds default_heartbeat_interval{1000};
  ClientTls tls{};         // used unless plaintext
  bool plaintext = false;  // true: no TLS (the controller must run --southbound-plaintext)
  // Called on the stream's reader thread after a message changed the cache (a Welcome with
  // snapshot, a location, a config...), outside the client's lock; it must not block (the
  // switch only wakes its reconcile thread). Before the resolve callbacks of the same message.
  std::function<void()> on_change{};
  // The switch's incremental path (userspace::DeriveDelta). Called on the reader thread WITH
  // the client's lock held, so the cache cannot change under it: it may read `cache` (only
  // during the call) and must not call the client (deadlock) nor block; it should derive the
  // delta and post it. Outside a catch-up: after every message that changed the cache, with
  // what it changed. During a catch-up (Welcome .. SyncDone, also across a stream cut before
  // SyncDone) the changes accumulate and come as one call at SyncDone; when the catch-up began
  // with a snapshot (the cache was cleared) that call has changes.reset set: the whole state is
  // to be derived again (DeriveDelta does, and the data plane drops what is not in it). Nothing
  // is called for a catch-up that changed nothing. It runs before on_change and before the
  // message's resolve callbacks, so a resolve answer's delta is posted before the answer.
  std::function<void(const EndpointCache& cache, const CacheChanges& changes)> on_delta{};
  // One line per event worth a log (no prefix, no newline), on the client's threads without
  // its lock: "connected to ADDR ...", "disconnected from ADDR: why", "refused by ADDR: code:
  // message" (a Refusal that answers no resolve: the Hello's, an attach's...), "controller
  // unreachable: ADDR: why" (repeated only when the reason changes, or after a connection).
  std::function<void(const std::string& line)> log{};
  // A live trace's order (v1::TraceOrder, checked: ControllerClient::CheckTraceOrder), on the
  // reader thread without the client's lock; it must not block (the switch posts it to the
  // datapath). The switch answers with ReportTrace. Unset: orders are answered with an error.
  std::function<void(const dove::v1::TraceOrder& order)> on_trace{};
};

}  // namespace dove::dswitch::agent
