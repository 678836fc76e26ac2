#include "dswitch/userspace/datapath.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "dswitch/pipeline/drop_reason.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"

namespace dove::dswitch::userspace {
namespace {

using pipeline::Batch;
using pipeline::Frame;

// epoll keys besides port ids (which count up from 1).
constexpr uint64_t kWakeKey = 0xFFFF'FFFF'FFFF'FFF0ULL;
constexpr uint64_t kUnderlayKey = 0xFFFF'FFFF'FFFF'FFF1ULL;

std::string Key(uint32_t vni, const std::string& address) {
  return std::to_string(vni) + "/" + address;
}

// The address an ARP request or a neighbour solicitation asks for.
std::optional<net::IpAddress> SolicitedAddress(const Frame& frame) {
  auto ethernet = net::ParseEthernet(frame.span());
  if (!ethernet) return std::nullopt;
  if (ethernet->ether_type == net::ether_type::kArp) {
    auto arp = net::ParseArp(ethernet->payload);
    if (!arp) return std::nullopt;
    return net::IpAddress(arp->target_ip);
  }
  if (ethernet->ether_type != net::ether_type::kIpv6) return std::nullopt;
  auto ip = net::ParseIpv6(ethernet->payload);
  if (!ip) return std::nullopt;
  auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  if (!icmp) return std::nullopt;
  auto ns = net::ParseNeighborSolicitation(*icmp);
  if (!ns) return std::nullopt;
  return net::IpAddress(ns->target);
}

std::optional<net::MacAddress> DestinationMac(const Frame& frame) {
  auto ethernet = net::ParseEthernet(frame.span());
  if (!ethernet) return std::nullopt;
  return ethernet->destination;
}

}  // namespace

Expected<std::unique_ptr<Datapath>, std::string> Datapath::Open(DatapathOptions options,
                                                                Resolver& resolver) {
  auto socket = io::UnderlaySocket::Open(options.tunnel_ip, options.vxlan_port);
  if (!socket) return Unexpected(socket.error());
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Unexpected(std::string("epoll_create1: ") + std::strerror(errno));
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    close(epoll_fd);
    return Unexpected(std::string("eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<Datapath> datapath(
      new Datapath(options, resolver, std::move(*socket), epoll_fd, wake_fd));
  epoll_event wake{.events = EPOLLIN, .data = {.u64 = kWakeKey}};
  epoll_event underlay{.events = EPOLLIN, .data = {.u64 = kUnderlayKey}};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, datapath->socket_.fd(), &underlay) != 0) {
    return Unexpected(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return datapath;
}

Datapath::Datapath(DatapathOptions options, Resolver& resolver, io::UnderlaySocket socket,
                   int epoll_fd, int wake_fd)
    : options_(options),
      resolver_(resolver),
      socket_(std::move(socket)),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      from_port_(tables_, counters_),
      responder_(tables_, remotes_, counters_),
      l2_forward_(tables_, remotes_, unicast_parking_, counters_),
      encap_(
          pipeline::Underlay{
              .local_ip = options.tunnel_ip, .local_mac = {}, .next_hop_mac = {}, .ttl = 64},
          counters_),
      from_tunnel_(tables_, options.tunnel_ip, counters_) {}

Datapath::~Datapath() {
  for (auto& [name, port] : ports_) ClosePort(port, /*remove=*/false);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Datapath::Post(std::function<void()> command) {
  {
    std::lock_guard lock(commands_mu_);
    commands_.push_back(std::move(command));
  }
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable: the loop wakes anyway.
  [[maybe_unused]] auto written = write(wake_fd_, &one, sizeof(one));
}

void Datapath::Stop() {
  stopping_ = true;
  Post([] {});
}

void Datapath::Apply(DesiredState desired) {
  auto shared = std::make_shared<DesiredState>(std::move(desired));
  Post([this, shared] { ApplyNow(std::move(*shared)); });
}

DatapathStatus Datapath::Status(std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<DatapathStatus>>();
  auto future = promise->get_future();
  Post([this, promise] {
    DatapathStatus status;
    for (const auto& [name, port] : ports_) {
      PortStatus shown{.name = name,
                       .endpoint_id = port.desired.location.endpoint_id(),
                       .vni = port.desired.location.vni(),
                       .mac = port.desired.mac.ToString(),
                       .ips = {},
                       .open = port.tap.has_value(),
                       .error = port.error,
                       .counters = counters_.port(port.id)};
      for (const auto& ip : port.desired.ips) shown.ips.push_back(ip.ToString());
      status.ports.push_back(std::move(shown));
    }
    status.counters = counters_.Dump();
    for (const auto& [name, value] : io_counters_.Dump()) status.counters[name] = value;
    for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
      const auto reason = static_cast<pipeline::DropReason>(i);
      status.drops[std::string(pipeline::DropReasonName(reason))] = counters_.drops(reason);
    }
    status.networks = networks_.size();
    for (const auto& network : networks_) {
      status.parked += unicast_parking_.size(network.vni) + solicit_parking_.size(network.vni);
    }
    status.resolving = resolving_.size();
    status.remotes = remote_count_;
    promise->set_value(std::move(status));
  });
  if (future.wait_for(timeout) != std::future_status::ready) return {};
  return future.get();
}

void Datapath::RunCommands() {
  uint64_t count = 0;
  [[maybe_unused]] auto read_bytes = read(wake_fd_, &count, sizeof(count));
  std::deque<std::function<void()>> commands;
  {
    std::lock_guard lock(commands_mu_);
    commands.swap(commands_);
  }
  for (auto& command : commands) command();
}

void Datapath::Run() {
  std::array<epoll_event, 64> events{};
  Batch batch;
  while (!stopping_) {
    const int ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 500);
    if (ready < 0 && errno != EINTR) {
      std::cerr << "dove-switch: epoll_wait: " << std::strerror(errno) << "\n";
      return;
    }
    for (int i = 0; i < ready; ++i) {
      const uint64_t key = events[static_cast<size_t>(i)].data.u64;
      if (key == kWakeKey) {
        RunCommands();
      } else if (key == kUnderlayKey) {
        batch.clear();
        socket_.ReceiveBatch(batch, io_counters_);
        if (!batch.empty()) FromTunnelBatch(batch);
      } else {
        auto name = port_names_.find(static_cast<pipeline::PortId>(key));
        if (name == port_names_.end()) continue;  // closed in this round
        Port& port = ports_.at(name->second);
        if (!port.tap) continue;
        batch.clear();
        port.tap->ReadBatch(batch, port.id, io_counters_);
        if (!batch.empty()) FromPortBatch(batch);
      }
    }
    if (std::chrono::steady_clock::now() >= next_port_retry_) RetryPorts();
  }
}

void Datapath::FromPortBatch(Batch& batch) {
  from_port_.Process(batch);
  Batch replies;
  Batch misses;
  responder_.Process(batch, replies, &misses);
  SendToPorts(replies);
  if (!misses.empty()) ResolveSolicited(misses);
  Forward(batch);
}

void Datapath::Forward(Batch& batch) {
  if (batch.empty()) return;
  // A batch comes from one port, so all its frames are in that port's network.
  const uint32_t vni = batch[0].vni;
  Batch to_ports;
  Batch to_tunnels;
  l2_forward_.Process(batch, to_ports, to_tunnels);
  SendToTunnels(to_tunnels);
  SendToPorts(to_ports);
  if (unicast_parking_.size(vni) > 0) ResolveParked(vni);
}

void Datapath::FromTunnelBatch(Batch& batch) {
  Batch to_ports;
  from_tunnel_.Process(batch, to_ports);
  SendToPorts(to_ports);
}

void Datapath::SendToPorts(Batch& batch) {
  for (const Frame& frame : batch) {
    auto name = port_names_.find(frame.port);
    Port* port = name == port_names_.end() ? nullptr : &ports_.at(name->second);
    if (port == nullptr || !port->tap || !port->tap->Write(frame.span(), io_counters_)) {
      counters_.Drop(pipeline::DropReason::kPortWriteFailed, frame);
    }
  }
  batch.clear();
}

void Datapath::SendToTunnels(Batch& batch) {
  if (batch.empty()) return;
  encap_.Process(batch);
  const size_t sent = socket_.SendBatch(batch, io_counters_);
  for (size_t i = sent; i < batch.size(); ++i) {
    counters_.Drop(pipeline::DropReason::kTunnelSendFailed, batch[i]);
  }
  batch.clear();
}

void Datapath::ResolveParked(uint32_t vni) {
  Batch parked = unicast_parking_.Take(vni);
  for (Frame& frame : parked) {
    if (auto mac = DestinationMac(frame); mac) {
      const std::string key = Key(vni, mac->ToString());
      if (resolving_.insert(key).second) {
        resolver_.ResolveMac(vni, *mac, [this, vni, key](std::optional<DesiredRemote> found) {
          Post([this, vni, key, found = std::move(found)]() mutable {
            Resolved(vni, key, std::move(found));
          });
        });
      }
    }
    unicast_parking_.Park(frame);  // just taken out: there is room
  }
}

void Datapath::ResolveSolicited(Batch& misses) {
  for (Frame& frame : misses) {
    auto ip = SolicitedAddress(frame);
    if (!ip || !solicit_parking_.Park(frame)) {
      counters_.Drop(
          ip ? pipeline::DropReason::kParkOverflow : pipeline::DropReason::kArpTargetUnknown,
          frame);
      continue;
    }
    const uint32_t vni = frame.vni;
    const std::string key = Key(vni, ip->ToString());
    if (!resolving_.insert(key).second) continue;
    resolver_.ResolveIp(vni, *ip, [this, vni, key](std::optional<DesiredRemote> found) {
      Post([this, vni, key, found = std::move(found)]() mutable {
        Resolved(vni, key, std::move(found));
      });
    });
  }
  misses.clear();
}

void Datapath::Resolved(uint32_t vni, const std::string& key, std::optional<DesiredRemote> found) {
  resolving_.erase(key);
  if (found && found->vni == vni) {
    remotes_.Add(vni, found->mac, found->tunnel_ip, {});
    for (const auto& ip : found->ips) remotes_.Add(vni, found->mac, found->tunnel_ip, {ip});
  }
  Retry(vni);
}

void Datapath::Retry(uint32_t vni) {
  // Solicitations first: their answers may let the unicast frames behind them go.
  Batch solicits = solicit_parking_.Take(vni);
  Batch replies;
  Batch misses;
  responder_.Process(solicits, replies, &misses);
  SendToPorts(replies);
  for (Frame& frame : misses) {
    auto ip = SolicitedAddress(frame);
    if (ip && resolving_.count(Key(vni, ip->ToString())) != 0 && solicit_parking_.Park(frame)) {
      continue;  // still being asked (another address of the same VNI answered)
    }
    counters_.Drop(
        ip ? pipeline::DropReason::kResolveFailed : pipeline::DropReason::kArpTargetUnknown, frame);
  }
  Batch unicast = unicast_parking_.Take(vni);
  if (unicast.empty()) return;
  Batch to_ports;
  Batch to_tunnels;
  l2_forward_.Process(unicast, to_ports, to_tunnels);
  SendToTunnels(to_tunnels);
  SendToPorts(to_ports);
  // Parked again: unknown still. Keep those whose MAC is still being asked, drop the rest.
  Batch again = unicast_parking_.Take(vni);
  for (Frame& frame : again) {
    auto mac = DestinationMac(frame);
    if (mac && resolving_.count(Key(vni, mac->ToString())) != 0 && unicast_parking_.Park(frame)) {
      continue;
    }
    counters_.Drop(pipeline::DropReason::kResolveFailed, frame);
  }
}

void Datapath::ApplyNow(DesiredState desired) {
  networks_ = std::move(desired.networks);
  // Ports: keep the open ones still wanted, open the new ones, remove the ones gone.
  std::map<std::string, DesiredPort> wanted;
  for (auto& port : desired.ports) {
    auto name = port.port_name;
    if (!wanted.emplace(name, std::move(port)).second) {
      std::cerr << "dove-switch: two endpoints name port " << name << "; the second is ignored\n";
    }
  }
  for (auto it = ports_.begin(); it != ports_.end();) {
    if (wanted.count(it->first) == 0) {
      std::cerr << "dove-switch: port " << it->first << " removed (endpoint "
                << it->second.desired.location.endpoint_id() << " gone)\n";
      ClosePort(it->second, /*remove=*/true);
      port_names_.erase(it->second.id);
      it = ports_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [name, port_desired] : wanted) {
    auto [it, inserted] = ports_.try_emplace(name);
    Port& port = it->second;
    port.desired = std::move(port_desired);
    if (inserted) {
      port.id = next_port_id_++;
      port_names_[port.id] = name;
    }
    if (!port.tap) {
      OpenPort(port);
    } else if (port.desired.location.port_name() != port.desired.port_name) {
      // Open, but the controller has not recorded the name yet (the last Attach was lost).
      resolver_.PortOpened(port.desired.location, port.desired.port_name);
    }
  }
  // Remote endpoints: the cache's view; resolve answers since are in it now.
  // (A resolve answered since the dump was taken is in the cache and comes with the next.)
  remotes_ = pipeline::MapRemoteLookup();
  remote_count_ = desired.remotes.size();
  for (const auto& remote : desired.remotes) {
    remotes_.Add(remote.vni, remote.mac, remote.tunnel_ip, {});
    for (const auto& ip : remote.ips) remotes_.Add(remote.vni, remote.mac, remote.tunnel_ip, {ip});
  }
  RebuildTables();
}

void Datapath::RebuildTables() {
  tables_ = pipeline::Tables();
  for (const auto& network : networks_) {
    if (auto added = tables_.AddNetwork(network.vni, network.router_mac, network.flood_tunnel_ips);
        !added) {
      std::cerr << "dove-switch: network " << network.vni << ": " << added.error() << "\n";
    }
  }
  for (auto& [name, port] : ports_) {
    pipeline::LocalPort local{.id = port.id,
                              .vni = port.desired.location.vni(),
                              .mac = port.desired.mac,
                              .ips = port.desired.ips};
    if (auto added = tables_.AddPort(std::move(local)); !added) {
      port.error = added.error();
      std::cerr << "dove-switch: port " << name << ": " << added.error() << "\n";
    }
  }
}

void Datapath::OpenPort(Port& port) {
  auto tap = io::TapDevice::Open(port.desired.port_name, /*create=*/true);
  if (!tap) {
    if (port.error != tap.error()) {
      std::cerr << "dove-switch: port " << port.desired.port_name << ": " << tap.error() << "\n";
    }
    port.error = tap.error();
    return;
  }
  if (auto persistent = tap->SetPersistent(true); !persistent) {
    std::cerr << "dove-switch: port " << port.desired.port_name << ": " << persistent.error()
              << "\n";
  }
  epoll_event event{.events = EPOLLIN, .data = {.u64 = port.id}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tap->fd(), &event) != 0) {
    port.error = std::string("epoll_ctl: ") + std::strerror(errno);
    return;
  }
  port.tap = std::move(*tap);
  port.error.clear();
  std::cerr << "dove-switch: port " << port.desired.port_name << " open for endpoint "
            << port.desired.location.endpoint_id() << "\n";
  if (port.desired.location.port_name() != port.desired.port_name) {
    resolver_.PortOpened(port.desired.location, port.desired.port_name);
  }
}

void Datapath::ClosePort(Port& port, bool remove) {
  if (!port.tap) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, port.tap->fd(), nullptr);
  if (remove) {
    if (auto removed = port.tap->Remove(); !removed) {
      std::cerr << "dove-switch: port " << port.desired.port_name << ": " << removed.error()
                << "\n";
    }
  }
  port.tap.reset();
}

void Datapath::RetryPorts() {
  next_port_retry_ = std::chrono::steady_clock::now() + options_.retry_ports_every;
  for (auto& [name, port] : ports_) {
    if (!port.tap) OpenPort(port);
  }
}

}  // namespace dove::dswitch::userspace
