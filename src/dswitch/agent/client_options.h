// ClientOptions: how a ControllerClient finds and greets the controller (see
// controller_client.h). Defaults fit production; tests shorten the durations.
//
//   ClientOptions options{.controllers = {"ctl-a:8741", "ctl-b:8741"},
//                         .switch_name = "host-17", .tunnel_ip = "192.0.2.17"};
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "dswitch/agent/backoff.h"

namespace dove::dswitch::agent {

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
};

}  // namespace dove::dswitch::agent
