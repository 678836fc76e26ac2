// dove-switch: flag and config-file parsing only; the work is in switch_app.cc.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/log.h"
#include "base/log_level_flag.h"
#include "base/version.h"
#include "dswitch/app/switch_app.h"

namespace {

int Main(int argc, char** argv) {
  dove::base::InitLog("dove-switch");
  CLI::App app(
      "dove-switch: the DOVE switch of one host. Registers with the controller as NAME with\n"
      "VXLAN tunnel address A, owns the ports (TAP devices) of the endpoints the controller\n"
      "places on NAME, and carries their frames to other hosts in VXLAN (UDP 4789) until\n"
      "SIGTERM or SIGINT.\n\n"
      "Ports: an endpoint with a port_name gets the TAP of that name (attached when it exists,\n"
      "created otherwise); one without gets dv<its id>, and the switch records the name on the\n"
      "controller. TAPs are persistent: a restarted switch finds them again; an endpoint\n"
      "removed through the API takes its TAP with it. An endpoint of port_kind\n"
      "PORT_KIND_PACKET names an interface the switch does not own (a TAP QEMU/libvirt holds,\n"
      "a container's veth): the switch serves it through a packet socket, keeps the host's\n"
      "own stack off it (a tc ingress filter at priority 49152 that drops every frame), and\n"
      "never creates or deletes it; the filter goes when the endpoint leaves the switch.\n\n"
      "Southbound security: exactly one of --southbound-plaintext or --tls-ca, --tls-cert,\n"
      "--tls-key (the certificate's CN or a SAN must be NAME).\n\n"
      "Every option may also come from --config FILE, one `option = value` per line (TOML):\n"
      "  name = \"h1\"\n  tunnel-ip = \"192.0.2.11\"\n  controller = \"198.51.100.1:8741\"\n"
      "  southbound-plaintext = true\n"
      "Flags on the command line win over the file; a key that is no option is an error.\n\n"
      "DHCP and router advertisements: the switch answers its ports' DHCPv4 (the address the\n"
      "controller's IPAM gave the endpoint, the subnet's gateway, DNS and MTU) and IPv6 Router\n"
      "Solicitations (the network's IPv6 prefixes, autonomous only where the endpoint's\n"
      "address is its SLAAC address, and the MTU); neither crosses the underlay.\n\n"
      "MTU: see --underlay-mtu; `dovectl switch show` shows both MTUs.\n\n"
      "Look inside: dovectl switch show|ports|cache|counters --socket PATH; GET /metrics on\n"
      "--metrics-listen.\n\n"
      "Logs: to the journal with its fields (PRIORITY, DOVE_ENDPOINT, ...) when run by systemd,\n"
      "else one line each on stderr; --log-level says which. Sites a packet can reach write at\n"
      "most a few records per interval, then one saying how many were suppressed.\n\n"
      "Exit codes: 0 after SIGTERM/SIGINT; 1 when the underlay socket, the control socket or\n"
      "the metrics address cannot be opened; 2 on a usage error (an option of the other\n"
      "backend included: --kernel-* need --backend kernel, --poll-us the userspace one).",
      "dove-switch");
  app.set_version_flag("--version", dove::base::VersionLine("dove-switch"));
  app.set_config("--config", "", "Read options from this file (TOML: option = value)");
  // A key that is no option (a typo, an option of another program) is a usage error naming it.
  app.allow_config_extras(CLI::config_extras_mode::error);
  dove::dswitch::app::SwitchConfig config;
  std::string controllers;
  app.add_option("--name", config.name, "This switch's name (the endpoints' switch_name)")
      ->required();
  app.add_option("--tunnel-ip", config.tunnel_ip,
                 "IPv4 address of this host's VTEP on the underlay (VXLAN is sent from and "
                 "received on it)")
      ->required();
  app.add_option("--controller", controllers,
                 "ADDR:PORT[,ADDR:PORT...] of the controllers' southbound, tried in order")
      ->required();
  app.add_option("--backend", config.backend,
                 "Data plane: userspace (TAP ports + UDP socket, pipeline in this process) or "
                 "kernel (a bridge dvb<VNI> and a vxlan dvx<VNI> per network with the kernel's "
                 "DOVE options; ports are existing interfaces the switch enslaves)")
      ->capture_default_str()
      ->check(CLI::IsMember({"userspace", "kernel"}));
  app.add_flag("--kernel-keep-on-exit", config.kernel_keep_on_exit,
               "Backend kernel: on stop, leave the devices, entries and ports as they are (the "
               "next start adopts them); default: delete our devices and release the ports");
  app.add_option("--kernel-miss-rate", config.kernel_miss_rate,
                 "Backend kernel: misses asked of the controller per second at most (token "
                 "bucket); those over it are dropped and counted")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e7));
  app.add_option("--kernel-miss-burst", config.kernel_miss_burst,
                 "Backend kernel: misses asked at once after a quiet time (the bucket's size)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e7));
  app.add_flag("--southbound-plaintext", config.plaintext,
               "Talk to the controller without TLS (it must run --southbound-plaintext)");
  app.add_option("--tls-ca", config.tls.ca_file, "PEM CA that signed the controller's certificate");
  app.add_option("--tls-cert", config.tls.cert_file, "PEM certificate chain of this switch");
  app.add_option("--tls-key", config.tls.key_file, "PEM private key of --tls-cert");
  app.add_option("--tls-server-name", config.tls.server_name_override,
                 "Name to check the controller's certificate against (default: each address's "
                 "host)");
  config.control_socket = "/run/dove/dove-switch.sock";
  app.add_option("--control-socket", config.control_socket,
                 "Unix socket for dovectl switch ...; empty: none")
      ->capture_default_str();
  config.metrics_listen = "127.0.0.1:9741";
  app.add_option("--metrics-listen", config.metrics_listen,
                 "ADDR:PORT serving GET /metrics (Prometheus); empty: none")
      ->capture_default_str();
  app.add_option(
         "--vxlan-port", config.vxlan_port,
         "UDP port of VXLAN on the underlay: received on, and sent to on the other switches")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_flag("--kernel-udp-checksum", config.kernel_udp_checksum,
               "Backend kernel: the vxlan devices compute the outer UDP checksum (default: zero, "
               "as RFC 7348 says a sender SHOULD; receivers take both). The userspace backend's "
               "UDP sockets always checksum (offloaded where the device can)");
  int64_t poll_us = config.poll_after_traffic.count();
  app.add_option("--poll-us", poll_us,
                 "Microseconds the packet thread keeps polling after traffic before it sleeps "
                 "(answers arrive without a thread wakeup: lower latency; costs CPU only right "
                 "after traffic; while a resolve is unanswered, up to 2 ms after the last "
                 "traffic); 0: always sleep")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  app.add_option("--dhcp-lease-seconds", config.dhcp_lease_seconds,
                 "Lease time the switch's DHCP server gives its ports (the address is the "
                 "endpoint's for as long as it exists; clients renew at half of it)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{60}, uint32_t{0xfffffffe}));
  int64_t redirect_grace_ms = config.redirect_grace.count();
  app.add_option("--redirect-grace-ms", redirect_grace_ms,
                 "Backend userspace: after a VM moved to another switch, frames for it still "
                 "arriving here from peers that did not hear of the move yet are sent on to its "
                 "new switch for this many milliseconds (counter network.<vni>.redirected); 0: "
                 "dropped at once, as unknown")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  app.add_option("--underlay-mtu", config.underlay_mtu,
                 "MTU of the underlay (default: the MTU of the interface holding --tunnel-ip, "
                 "1500 when none does). The overlay MTU, the largest IP packet a VM may send to "
                 "another host, is 50 bytes less (VXLAN over IPv4): TAPs the switch creates get "
                 "it, DHCP and router advertisements hand it out, and a bigger packet gets ICMP "
                 "fragmentation needed (IPv4 with DF) or packet too big (IPv6)")
      ->check(CLI::Range(uint32_t{576}, uint32_t{65535}));
  std::string log_level = "info";
  dove::base::AddLogLevelFlag(app, log_level);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 says "INI was not able to parse KEY" for an unknown config key; say it plainly.
    constexpr std::string_view kExtra = "INI was not able to parse ";
    if (const std::string_view what = error.what(); what.starts_with(kExtra)) {
      DOVE_LOG(kError) << "--config: unknown key \"" << what.substr(kExtra.size())
                       << "\" (no option has that name)";
      return 2;
    }
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  dove::base::SetLogLevel(*dove::base::ParseLogLevel(log_level));
  // An option of the other backend would be ignored: refuse it instead, so a host is not run
  // with a setting its operator believes in.
  for (const char* name : {"--kernel-keep-on-exit", "--kernel-miss-rate", "--kernel-miss-burst",
                           "--kernel-udp-checksum"}) {
    if (config.backend != "kernel" && app.count(name) > 0) {
      DOVE_LOG(kError) << name << " applies only to --backend kernel";
      return 2;
    }
  }
  if (config.backend == "kernel" && app.count("--poll-us") > 0) {
    DOVE_LOG(kError) << "--poll-us applies only to --backend userspace (the kernel backend has "
                        "no packet thread)";
    return 2;
  }
  if (config.backend == "kernel" && app.count("--redirect-grace-ms") > 0) {
    DOVE_LOG(kError) << "--redirect-grace-ms applies only to --backend userspace (the kernel "
                        "backend keeps no redirects)";
    return 2;
  }
  config.poll_after_traffic = std::chrono::microseconds(poll_us);
  config.redirect_grace = std::chrono::milliseconds(redirect_grace_ms);
  std::string rest = controllers;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string address = rest.substr(0, comma);
    if (address.empty()) {
      DOVE_LOG(kError) << "--controller has an empty address";
      return 2;
    }
    config.controllers.push_back(std::move(address));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  const bool any_tls =
      !config.tls.ca_file.empty() || !config.tls.cert_file.empty() || !config.tls.key_file.empty();
  const bool all_tls =
      !config.tls.ca_file.empty() && !config.tls.cert_file.empty() && !config.tls.key_file.empty();
  if (config.plaintext == any_tls || (any_tls && !all_tls)) {
    DOVE_LOG(kError) << "choose exactly one of --southbound-plaintext or all of --tls-ca, "
                        "--tls-cert and --tls-key";
    return 2;
  }
  if (!config.control_socket.empty()) {
    // The default lives in /run/dove; make it if missing (root-only mode).
    const auto slash = config.control_socket.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      std::error_code ignored;
      std::filesystem::create_directories(config.control_socket.substr(0, slash), ignored);
    }
  }
  return dove::dswitch::app::RunSwitch(config);
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
