// PluginConfig: dove-cni's network configuration, the JSON a runtime passes on stdin.
//
// Keys (docs/cni.md has an example conflist):
//   cniVersion   required; "0.4.0" or "1.0.0" (else code 1, incompatible version)
//   name, type   required, non-empty strings (the runtime's; type names this binary)
//   controller   required; the controller's REST URL as dovectl takes it ("ctl:8740",
//                "https://ctl:8740")
//   caFile       optional; https: the PEM CA certificate(s) the controller's certificate is
//                checked against (default: the system's trusted roots); only with https
//   token        optional; the API's bearer token. Or:
//   tokenFile    optional; a file holding it (read when a command runs). Not both.
//   network      required; "DOMAIN/NETWORK" (domain by name or id) or a network id
//   switch       optional; this host's switch name. Default: the name the local switch gives
//                on its control socket.
//   switchSocket optional; that control socket (default: dove-switch's,
//                /run/dove/dove-switch.sock, or DOVE_SWITCH_SOCKET)
//   mtu          optional; 68..65535, the container interface's MTU. Default: the subnets'
//                MTU, else the switch's overlay MTU, else the kernel's.
//   dataDir      optional; where ADD records what DEL must undo (default /var/lib/cni/dove)
//   portTimeout  optional; seconds ADD waits for the switch to serve the port, 0..300
//                (default 10; 0: does not wait)
// The runtime's own keys (prevResult, runtimeConfig, args, capabilities) are accepted and
// ignored; any other key is an error (a typo should not be silently ignored). Every error is
// code 7 (invalid network configuration) with one sentence naming the key, except a version
// this plugin does not speak (code 1) and text that is no JSON object (code 6).
//
//   auto config = ParseConfig(R"({"cniVersion":"1.0.0","name":"n","type":"dove-cni",
//                                 "controller":"ctl:8740","network":"acme/web"})");
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "cli/controller_url.h"
#include "cni/cni_error.h"

namespace dove::cni {

inline constexpr std::string_view kDefaultDataDir = "/var/lib/cni/dove";
inline constexpr std::chrono::seconds kDefaultPortTimeout{10};

struct PluginConfig {
  std::string cni_version;
  std::string name;
  std::string type;
  cli::ControllerUrl controller;
  std::string token;       // empty: none given (see token_file)
  std::string token_file;  // empty: none given
  std::string ca_file;     // empty: the system's trusted roots (https only)
  std::string network;
  std::string switch_name;    // empty: ask the local switch
  std::string switch_socket;  // empty: the default
  uint32_t mtu = 0;           // 0: not given
  std::string data_dir = std::string(kDefaultDataDir);
  std::chrono::seconds port_timeout = kDefaultPortTimeout;
};

Expected<PluginConfig, CniError> ParseConfig(std::string_view text);

// The "cniVersion" of `text` when it is a JSON object holding a string there; "" otherwise
// (for error replies before the config is known to be valid).
std::string ConfigVersion(std::string_view text);

}  // namespace dove::cni
