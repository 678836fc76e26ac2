#include "dswitch/app/switch_app.h"

#include <httplib.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/log.h"
#include "base/systemd_notify.h"
#include "base/version.h"
#include "dswitch/agent/controller_client.h"
#include "dswitch/app/control_server.h"
#include "dswitch/app/metrics_text.h"
#include "dswitch/app/status_json.h"
#include "dswitch/io/interface_mtu.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/io/udp_tunnel.h"
#include "dswitch/kernel/kernel_backend.h"
#include "dswitch/kernel/rtnl_link_ops.h"
#include "dswitch/pipeline/mtu_guard.h"
#include "dswitch/userspace/datapath.h"
#include "dswitch/userspace/desired_state.h"
#include "net/listen_address.h"

namespace dove::dswitch::app {
namespace {

using Clock = std::chrono::steady_clock;

// The data plane's questions, asked through the agent.
class AgentResolver final : public userspace::Resolver {
 public:
  explicit AgentResolver(agent::ControllerClient& client) : client_(client) {}

  void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done done) override {
    client_.Resolve(vni, mac.ToString(),
                    [done = std::move(done)](const agent::ResolveResult&) { done(); });
  }
  void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done done) override {
    client_.ResolveIp(vni, ip.ToString(),
                      [done = std::move(done)](const agent::ResolveResult&) { done(); });
  }
  // Called on the packet thread: queued, and sent by the reporter thread (an Attach may wait
  // on the gRPC stream; the packet thread must not).
  void PortOpened(const dove::v1::Location& location, const std::string& port_name) override {
    {
      std::lock_guard lock(mu_);
      attaches_.push_back({location.endpoint_id(), port_name, location.version()});
    }
    if (wake_) wake_();
  }
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  // Sends the queued Attaches, each (endpoint, version) once per controller session. One that
  // cannot be sent (no controller) is asked for again by the data plane at the next change of
  // the cache, which a reconnect always brings.
  void SendAttaches() {
    std::vector<PortAttach> attaches;
    {
      std::lock_guard lock(mu_);
      attaches.swap(attaches_);
    }
    // A new session may not have seen what the last one was sent: forget what was sent.
    if (const uint64_t connections = client_.State().connections; connections != connections_) {
      connections_ = connections;
      sent_.clear();
    }
    // The ones not on their way yet, in one batch (after a reconnect: every port at once).
    std::vector<PortAttach> batch;
    std::map<std::string, uint32_t> before;  // what sent_ said of them, should the send fail
    for (auto& attach : attaches) {
      auto& sent_version = sent_[attach.endpoint_id];
      if (sent_version == attach.version) continue;  // already on its way
      before.try_emplace(attach.endpoint_id, sent_version);
      sent_version = attach.version;
      batch.push_back(std::move(attach));
    }
    if (batch.empty()) return;
    if (auto sent = client_.AttachAll(batch); !sent) {
      DOVE_LOG(kWarning).With("ENDPOINT", batch.front().endpoint_id).With("REASON", sent.error())
          << "attach " << batch.size() << " port(s), the first " << batch.front().endpoint_id
          << " as " << batch.front().port_name << ": " << sent.error();
      for (const auto& [endpoint_id, version] : before) sent_[endpoint_id] = version;
    }
  }

 private:
  using PortAttach = agent::ControllerClient::PortAttach;

  agent::ControllerClient& client_;
  std::function<void()> wake_;  // set before the data plane runs
  std::mutex mu_;
  std::vector<PortAttach> attaches_;
  // Reporter thread only: endpoint id -> version attached in controller session connections_.
  std::map<std::string, uint32_t> sent_;
  uint64_t connections_ = 0;
};

// Sends the Attaches the data plane queues and reports stats to the controller every
// stats_interval, on a thread of its own (both may wait on the gRPC stream; the packet thread
// and the agent's reader must not).
class Reporter {
 public:
  Reporter(const SwitchConfig& config, agent::ControllerClient& client,
           std::function<userspace::DatapathStatus()> status, AgentResolver& resolver)
      : config_(config), client_(client), status_(std::move(status)), resolver_(resolver) {}

  // Attaches are queued: send them.
  void AttachesQueued() {
    {
      std::lock_guard lock(mu_);
      attaches_ = true;
    }
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
  }

  void Run() {
    auto next_stats = Clock::now() + config_.stats_interval;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_until(lock, next_stats, [&] { return stopping_ || attaches_; });
      if (stopping_) break;
      if (attaches_) {
        attaches_ = false;
        lock.unlock();
        resolver_.SendAttaches();
        lock.lock();
      }
      if (Clock::now() >= next_stats) {
        next_stats = Clock::now() + config_.stats_interval;
        lock.unlock();
        ReportStats();
        lock.lock();
      }
    }
  }

 private:
  void ReportStats() {
    if (auto reported = client_.ReportStats(SummaryCounters(status_())); !reported) {
      // Without a controller there is nobody to tell; the next interval tries again.
    }
  }

  const SwitchConfig& config_;
  agent::ControllerClient& client_;
  std::function<userspace::DatapathStatus()> status_;
  AgentResolver& resolver_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool attaches_ = false;
  bool stopping_ = false;
};

// Turns the agent's cache changes into data-plane changes, on the agent's reader thread (cheap:
// a delta costs what changed). A change the pipeline cannot use is logged once.
class CacheFollower {
 public:
  using Sink = std::function<void(userspace::DesiredDelta)>;
  explicit CacheFollower(std::string switch_name) : switch_name_(std::move(switch_name)) {}

  // The backend's ApplyDelta; empty: stop following.
  void Attach(Sink sink) {
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
  }

  void Delta(const agent::EndpointCache& cache, const agent::CacheChanges& changes) {
    std::lock_guard lock(mu_);
    if (!sink_) return;
    auto delta = userspace::DeriveDelta(cache, changes, switch_name_);
    DOVE_LOG(kDebug) << "controller update" << (delta.reset ? " (everything again)" : "") << ": "
                     << delta.upserted_ports.size() << " port(s) set, "
                     << delta.removed_ports.size() << " removed; " << delta.upserted_remotes.size()
                     << " remote endpoint(s) set, " << delta.removed_remotes.size() << " removed; "
                     << delta.upserted_networks.size() << " network(s) set, "
                     << delta.removed_networks.size() << " removed";
    Report(delta.skipped);
    if (!delta.empty()) sink_(std::move(delta));
  }

 private:
  void Report(const std::vector<std::string>& skipped) {
    for (const auto& why : skipped) {
      if (reported_.insert(why).second) DOVE_LOG(kWarning) << "skipped: " << why;
    }
  }

  const std::string switch_name_;
  std::mutex mu_;
  Sink sink_;
  std::set<std::string> reported_;  // reader thread only
};

}  // namespace

int RunSwitch(const SwitchConfig& config) {
  const bool kernel_backend = config.backend == "kernel";
  if (config.backend != "userspace" && !kernel_backend) {
    DOVE_LOG(kError) << "backend '" << config.backend << "': one of userspace, kernel";
    return 2;
  }
  auto tunnel_ip = net::Ipv4Address::Parse(config.tunnel_ip);
  if (!tunnel_ip) {
    DOVE_LOG(kError) << "--tunnel-ip '" << config.tunnel_ip << "' is not an IPv4 address";
    return 2;
  }
  std::optional<net::ListenAddress> metrics_address;
  if (!config.metrics_listen.empty()) {
    auto parsed = net::ParseListenAddress(config.metrics_listen);
    if (!parsed) {
      DOVE_LOG(kError) << "--metrics-listen: " << parsed.error();
      return 2;
    }
    metrics_address = *parsed;
  }

  // Signals go to sigwait below, not to whichever thread the kernel picks.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CacheFollower follower(config.name);
  agent::ClientOptions options;
  options.controllers = config.controllers;
  options.switch_name = config.name;
  options.tunnel_ip = config.tunnel_ip;
  options.software_version = "dove-switch " + std::string(dove::base::Version());
  options.tls = config.tls;
  options.plaintext = config.plaintext;
  options.log = [](const std::string& line) {
    // The agent's lines are about the controller connection: made (info), or lost, refused,
    // unreachable (warning: it retries).
    const bool connected = line.starts_with("connected to");
    DOVE_LOG_AT(connected ? base::LogLevel::kInfo : base::LogLevel::kWarning) << line;
    // `systemctl status dove-switch` shows the controller connection's last change.
    if (connected || line.starts_with("disconnected from")) {
      if (auto notified = base::NotifySystemd("STATUS=" + line); !notified) {
        DOVE_LOG(kWarning) << "systemd status not sent: " << notified.error();
      }
    }
  };
  options.on_delta = [&](const agent::EndpointCache& cache, const agent::CacheChanges& changes) {
    follower.Delta(cache, changes);
  };
  // Live traces go to the datapath; the kernel backend has no pipeline of its own to run one
  // through (set before client.Start(), read only on the client's reader thread after).
  std::function<void(const dove::v1::TraceOrder&)> on_trace;
  options.on_trace = [&on_trace](const dove::v1::TraceOrder& order) { on_trace(order); };
  agent::ControllerClient client(options);
  AgentResolver resolver(client);
  // The underlay MTU: --underlay-mtu, else the tunnel IP's interface's.
  std::string underlay_interface;
  uint32_t underlay_mtu = config.underlay_mtu;
  if (auto found = io::InterfaceWithAddress(*tunnel_ip); found) {
    underlay_interface = found->name;
    if (underlay_mtu == 0) underlay_mtu = found->mtu;
  } else if (underlay_mtu == 0) {
    underlay_mtu = 1500;
    DOVE_LOG(kWarning) << "underlay MTU: " << found.error() << "; assuming 1500 (set "
                       << "--underlay-mtu)";
  }
  const uint32_t overlay_mtu = underlay_mtu - pipeline::kVxlanOverhead;
  DOVE_LOG(kInfo) << "underlay MTU " << underlay_mtu
                  << (underlay_interface.empty() ? "" : " (" + underlay_interface + ")")
                  << ", overlay MTU " << overlay_mtu;
  // The data plane: the userspace Datapath over TAPs and a UDP socket, or the kernel's.
  std::unique_ptr<io::UdpTunnel> tunnel;
  io::LinuxPortFactory ports(overlay_mtu);
  std::unique_ptr<userspace::Datapath> datapath;
  std::unique_ptr<kernel::RtnlLinkOps> links;
  std::unique_ptr<kernel::ListenerMissSource> misses;
  // Routing, policy and port security of the kernel backend (kernel/host_routing.h): declared
  // before the backend, which borrows them.
  std::unique_ptr<netlink::Rtnl> routing_rtnl;
  std::unique_ptr<kernel::RouteRules> routing_rules;
  std::unique_ptr<kernel::NftSession> routing_nft;
  std::unique_ptr<kernel::HostRouting> routing;
  std::unique_ptr<kernel::PacketFrameWriter> frames;
  std::unique_ptr<kernel::KernelBackend> kernel;
  if (kernel_backend) {
    auto opened_links = kernel::RtnlLinkOps::Open();
    auto opened_misses = kernel::ListenerMissSource::Open();
    if (!opened_links || !opened_misses) {
      DOVE_LOG(kError) << "rtnetlink: "
                       << (!opened_links ? opened_links.error() : opened_misses.error()).message;
      return 1;
    }
    links = std::move(*opened_links);
    misses = std::move(*opened_misses);
    kernel::KernelOptions kernel_options;
    kernel_options.tunnel_ip = *tunnel_ip;
    kernel_options.vxlan_port = config.vxlan_port;
    kernel_options.udp_checksum = config.kernel_udp_checksum;
    kernel_options.overlay_mtu = overlay_mtu;
    kernel_options.keep_on_exit = config.kernel_keep_on_exit;
    kernel_options.misses.rate_per_second = config.kernel_miss_rate;
    kernel_options.misses.burst = config.kernel_miss_burst;
    auto opened_rtnl = netlink::Rtnl::Open();
    auto opened_rules = kernel::RouteRules::Open();
    auto opened_nft = kernel::NftSession::Open();
    if (!opened_rtnl || !opened_rules || !opened_nft) {
      DOVE_LOG(kError) << "routing: "
                       << (!opened_rtnl    ? opened_rtnl.error().message
                           : !opened_rules ? opened_rules.error()
                                           : opened_nft.error());
      return 1;
    }
    routing_rtnl = std::move(*opened_rtnl);
    routing_rules = std::move(*opened_rules);
    routing_nft = std::move(*opened_nft);
    routing = std::make_unique<kernel::HostRouting>(*routing_rtnl, *routing_rules, *routing_nft);
    kernel_options.routing = routing.get();
    // Tells a VM at once what its missed ARP/ND was answered with (kernel/neigh_announcer.h);
    // without it the VM finds out at its next retry, about a second later.
    if (auto opened_frames = kernel::PacketFrameWriter::Open(); opened_frames) {
      frames = std::move(*opened_frames);
      kernel_options.frames = frames.get();
    } else {
      DOVE_LOG(kWarning) << "kernel: no announcements of answered misses: "
                         << opened_frames.error().message;
    }
    auto made = kernel::KernelBackend::Create(kernel_options, *links, *misses, resolver);
    if (!made) {
      DOVE_LOG(kError) << "data plane: " << made.error();
      return 1;
    }
    kernel = std::move(*made);
    follower.Attach(
        [&kernel](userspace::DesiredDelta delta) { kernel->ApplyDelta(std::move(delta)); });
  } else {
    auto opened = io::UdpTunnel::Open({.local_ip = *tunnel_ip, .port = config.vxlan_port});
    if (!opened) {
      DOVE_LOG(kError) << "underlay: " << opened.error();
      return 1;
    }
    tunnel = std::move(*opened);
    userspace::DatapathOptions datapath_options;
    datapath_options.overlay_mtu = overlay_mtu;
    datapath_options.path_mtu_of = io::KernelPathMtu;
    datapath_options.poll_after_traffic = config.poll_after_traffic;
    datapath_options.dhcp_lease_seconds = config.dhcp_lease_seconds;
    datapath_options.redirect_grace = config.redirect_grace;
    auto made = userspace::Datapath::Create(datapath_options, *tunnel, ports, resolver);
    if (!made) {
      DOVE_LOG(kError) << "data plane: " << made.error();
      return 1;
    }
    datapath = std::move(*made);
    follower.Attach(
        [&datapath](userspace::DesiredDelta delta) { datapath->ApplyDelta(std::move(delta)); });
  }
  on_trace = [&](const dove::v1::TraceOrder& order) {
    if (datapath) {
      datapath->Trace(order, [&client](const dove::v1::TraceReport& report) {
        if (auto sent = client.ReportTrace(report); !sent) {
          DOVE_LOG(kWarning).With("TRACE", report.trace_id())
              << "trace " << report.trace_id() << ": " << sent.error();
        }
      });
      return;
    }
    // Nothing crosses a pipeline of this switch's own, to inject into or to watch.
    dove::v1::TraceReport report;
    report.set_trace_id(order.trace_id());
    report.set_source(order.inject());
    report.set_armed(!order.inject());
    report.set_error(
        "the kernel backend switches in the kernel: no userspace pipeline to run a traced packet "
        "through (live traces need --backend userspace)");
    (void)client.ReportTrace(report);
  };
  const std::function<userspace::DatapathStatus()> status = [&] {
    return kernel ? kernel->Status() : datapath->Status();
  };
  Reporter reporter(config, client, status, resolver);
  resolver.SetWake([&reporter] { reporter.AttachesQueued(); });

  const auto started = Clock::now();
  const SwitchIdentity identity_base{config.name, config.tunnel_ip,   config.backend,
                                     {},          underlay_interface, underlay_mtu};
  const auto identity = [&] {
    SwitchIdentity now = identity_base;
    now.uptime = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);
    return now;
  };
  std::unique_ptr<ControlServer> control;
  if (!config.control_socket.empty()) {
    auto server = ControlServer::Start(config.control_socket, [&](std::string_view command) {
      if (command == "show") return ShowJson(identity(), client.State(), status());
      if (command == "ports") return PortsJson(status());
      if (command == "cache") return CacheJson(client.DumpCache());
      if (command == "counters") return CountersJson(status());
      return ErrorJson("invalid_value", "unknown command '" + std::string(command) +
                                            "': one of show, ports, cache, counters");
    });
    if (!server) {
      DOVE_LOG(kError) << server.error();
      return 1;
    }
    control = std::move(*server);
  }
  httplib::Server metrics;
  std::thread metrics_thread;
  if (metrics_address) {
    metrics.Get("/metrics", [&](const httplib::Request&, httplib::Response& response) {
      response.set_content(MetricsText(config.name, client.State(), status()),
                           "text/plain; version=0.0.4");
    });
    if (!metrics.bind_to_port(metrics_address->host, metrics_address->port)) {
      DOVE_LOG(kError) << "--metrics-listen " << config.metrics_listen << ": cannot bind";
      return 1;
    }
    metrics_thread = std::thread([&] { metrics.listen_after_bind(); });
  }

  std::thread packets([&] {
    if (kernel) {
      kernel->Run();
    } else {
      datapath->Run();
    }
  });
  std::thread report([&] { reporter.Run(); });
  client.Start();
  {
    std::string controllers;
    for (const auto& address : config.controllers) controllers += " " + address;
    DOVE_LOG(kInfo).With("SWITCH", config.name).With("TUNNEL_IP", config.tunnel_ip)
        << config.name << " up: tunnel " << config.tunnel_ip << ", controllers" << controllers
        << (control ? ", control socket " + config.control_socket : "")
        << (metrics_address ? ", metrics " + config.metrics_listen : "");
  }
  // Under systemd (Type=notify) the unit is started now: the data plane, the control socket and
  // the metrics serve; the controller connection follows (STATUS says when it is up).
  if (auto notified = base::NotifySystemd("READY=1\nSTATUS=up, connecting to the controller");
      !notified) {
    DOVE_LOG(kWarning) << "systemd readiness not sent: " << notified.error();
  }
  malloc_trim(0);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  DOVE_LOG(kInfo) << "signal " << signal_number << ", stopping";
  client.Stop();
  follower.Attach(nullptr);
  reporter.Stop();
  report.join();
  if (kernel) {
    kernel->Stop();
    packets.join();
    kernel->Shutdown();
  } else {
    datapath->Stop();
    packets.join();
  }
  if (control) control->Stop();
  if (metrics_thread.joinable()) {
    metrics.stop();
    metrics_thread.join();
  }
  return 0;
}

}  // namespace dove::dswitch::app
