#include "dswitch/userspace/datapath.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <future>

#include "base/log.h"
#include "dswitch/pipeline/classify.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/neighbor_frames.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/icmpv6.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"

namespace dove::dswitch::userspace {
namespace {

using packet::Packet;
using packet::PacketBatch;
using packet::PortId;
using pipeline::DropReason;

// epoll keys besides port ids (which count up from 1).
constexpr uint64_t kWakeKey = 0xFFFF'FFFF'FFFF'FFF0ULL;
constexpr uint64_t kUnderlayKey = 0xFFFF'FFFF'FFFF'FFF1ULL;

// The address an ARP request or a neighbour solicitation asks for (the packet was classified
// by FromPort; LocalResponder handed it over as a miss, so it is one of the two).
std::optional<net::IpAddress> SolicitedAddress(const Packet& packet) {
  if (!packet.meta.parsed || packet.meta.l3_offset >= packet.size()) return std::nullopt;
  const net::ByteSpan l3 = packet.span().subspan(packet.meta.l3_offset);
  if (packet.meta.ether_type == net::ether_type::kArp) {
    auto arp = net::ParseArp(l3);
    if (!arp) return std::nullopt;
    return net::IpAddress(arp->target_ip);
  }
  if (packet.meta.ether_type != net::ether_type::kIpv6) return std::nullopt;
  auto ip = net::ParseIpv6(l3);
  if (!ip) return std::nullopt;
  auto icmp = net::ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  if (!icmp) return std::nullopt;
  auto ns = net::ParseNeighborSolicitation(*icmp);
  if (!ns) return std::nullopt;
  return net::IpAddress(ns->target);
}

// The key a port is known by in deltas: the endpoint's cache key.
std::string PortKey(const DesiredPort& port) {
  if (!port.key.empty()) return port.key;
  const auto& location = port.location;
  return location.endpoint_id().empty() ? std::to_string(location.vni()) + "/" + location.mac()
                                        : location.endpoint_id();
}

// What the port's name names (Location.port_kind; unset is a TAP).
io::PortKind KindOf(const DesiredPort& port) {
  return port.location.port_kind() == dove::v1::PORT_KIND_PACKET ? io::PortKind::kPacket
                                                                 : io::PortKind::kTap;
}

}  // namespace

Expected<std::unique_ptr<Datapath>, std::string> Datapath::Create(DatapathOptions options,
                                                                  io::Device& underlay,
                                                                  io::PortFactory& ports,
                                                                  Resolver& resolver) {
  io::FileDescriptor epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Unexpected(std::string("epoll_create1: ") + std::strerror(errno));
  io::FileDescriptor wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return Unexpected(std::string("eventfd: ") + std::strerror(errno));
  epoll_event wake_event{.events = EPOLLIN, .data = {.u64 = kWakeKey}};
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &wake_event) != 0) {
    return Unexpected(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  if (underlay.fd() >= 0) {
    epoll_event underlay_event{.events = EPOLLIN, .data = {.u64 = kUnderlayKey}};
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, underlay.fd(), &underlay_event) != 0) {
      return Unexpected(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }
  return std::unique_ptr<Datapath>(new Datapath(std::move(options), underlay, ports, resolver,
                                                std::move(epoll), std::move(wake)));
}

Datapath::Datapath(DatapathOptions options, io::Device& underlay, io::PortFactory& ports,
                   Resolver& resolver, io::FileDescriptor epoll, io::FileDescriptor wake)
    : options_(std::move(options)),
      underlay_(underlay),
      port_factory_(ports),
      resolver_(resolver),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      pool_(options_.pool),
      ports_by_id_(1, nullptr),
      unicast_parking_(options_.park_per_vni),
      solicit_parking_(options_.park_per_vni),
      routed_parking_(options_.park_per_vni),
      return_flows_(options_.return_flows, options_.return_flow_idle),
      policy_gate_(tables_, return_flows_, counters_),
      from_port_(tables_, counters_, pool_),
      responder_(tables_, remotes_, counters_, pool_),
      dhcp_(tables_, counters_, pool_,
            {.lease_seconds = options_.dhcp_lease_seconds,
             .overlay_mtu = options_.overlay_mtu,
             .log_decline =
                 [this](PortId port, const net::Ipv4Address& address) {
                   const Port* declined = port < ports_by_id_.size() ? ports_by_id_[port] : nullptr;
                   // A VM can send DECLINEs as fast as it likes: limited.
                   const std::string name =
                       declined != nullptr ? declined->name : std::to_string(port);
                   DOVE_LOG_LIMITED(kWarning, 5, std::chrono::seconds(10))
                           .With("PORT", name)
                           .With("ADDRESS", address.ToString())
                       << "port " << name << ": DHCP DECLINE of " << address.ToString()
                       << ": the VM says its address is in use";
                 }}),
      advertiser_(tables_, counters_, pool_, options_.overlay_mtu),
      l2_forward_(tables_, remotes_, unicast_parking_, counters_, pool_),
      mtu_guard_(tables_, counters_, pool_, options_.overlay_mtu),
      encap_(counters_, pool_),
      from_tunnel_(tables_, counters_, pool_, &policy_gate_, &redirects_),
      router_(tables_, remotes_, policy_gate_, counters_, pool_),
      coalescer_(pool_) {
  counters_.SetTraceSink(&traces_);
}

Datapath::~Datapath() {
  for (auto& [id, port] : ports_) ClosePort(port, /*remove=*/false);
  // Give every parked packet back before the pool goes.
  unicast_parking_.TakeAll(scratch_);
  solicit_parking_.TakeAll(scratch_);
  routed_parking_.TakeAll(scratch_);
  pool_.Free(scratch_);
}

void Datapath::Post(std::function<void()> command) {
  {
    std::lock_guard lock(commands_mu_);
    commands_.push_back(std::move(command));
  }
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable: the loop wakes anyway.
  [[maybe_unused]] auto written = write(wake_.get(), &one, sizeof(one));
}

void Datapath::Stop() {
  stopping_ = true;
  Post([] {});
}

void Datapath::Apply(DesiredState desired) {
  DesiredDelta all;
  all.reset = true;
  all.upserted_networks = std::move(desired.networks);
  all.upserted_ports = std::move(desired.ports);
  all.upserted_remotes = std::move(desired.remotes);
  ApplyDelta(std::move(all));
}

void Datapath::ApplyDelta(DesiredDelta delta) {
  auto shared = std::make_shared<DesiredDelta>(std::move(delta));
  Post([this, shared] { ApplyNow(*shared); });
}

void Datapath::SetPathMtu(const net::Ipv4Address& vtep, uint32_t path_mtu) {
  Post([this, vtep, path_mtu] { mtu_guard_.SetPathMtu(vtep, path_mtu); });
}

void Datapath::ApplyNow(DesiredDelta& change) {
  if (change.reset) {
    // Everything not in the delta goes: ports, networks, remotes.
    std::set<std::string> wanted_ports;
    for (const auto& port : change.upserted_ports) wanted_ports.insert(PortKey(port));
    std::set<uint32_t> wanted_vnis;
    for (const auto& network : change.upserted_networks) wanted_vnis.insert(network.vni);
    for (const auto& [key, port] : ports_) {
      if (wanted_ports.count(key) == 0) change.removed_ports.push_back(key);
    }
    for (const auto& [vni, network] : networks_) {
      if (wanted_vnis.count(vni) == 0) change.removed_networks.push_back(vni);
    }
    remotes_.Clear();
  }
  // The ports leaving: a redirect each, if the same delta makes the endpoint a remote (moved).
  struct Leaving {
    uint32_t vni = 0;
    net::MacAddress mac;
    std::vector<net::Ipv4Address> peers;
  };
  std::map<std::string, Leaving> leaving;
  if (options_.redirect_grace.count() > 0) {
    for (const auto& key : change.removed_ports) {
      const auto it = ports_.find(key);
      if (it == ports_.end()) continue;
      const uint32_t vni = it->second.desired.location.vni();
      const pipeline::NetworkTables* network = tables_.Network(vni);
      leaving[key] = {.vni = vni,
                      .mac = it->second.desired.mac,
                      .peers = network != nullptr ? network->flood_tunnel_ips
                                                  : std::vector<net::Ipv4Address>{}};
    }
  }
  // Networks before ports (a port needs its network), ports before network removals.
  for (const auto& network : change.upserted_networks) UpsertNetwork(network);
  for (const auto& key : change.removed_ports) RemovePort(key);
  for (auto& port : change.upserted_ports) {
    redirects_.Remove(port.location.vni(), port.mac);  // back here: delivered again
    UpsertPort(std::move(port));
  }
  for (uint32_t vni : change.removed_networks) RemoveNetwork(vni);
  for (const auto& key : change.removed_remotes) remotes_.Remove(key);
  const auto until = std::chrono::steady_clock::now() + options_.redirect_grace;
  for (const auto& remote : change.upserted_remotes) {
    UpsertRemote(remote);
    const auto moved = leaving.find(remote.key);
    if (moved == leaving.end() || remote.key.empty()) continue;
    redirects_.Upsert(
        moved->second.vni, moved->second.mac,
        {.tunnel_ip = remote.tunnel_ip, .until = until, .peers = moved->second.peers});
    DOVE_LOG(kInfo).With("ENDPOINT", remote.key).With("PEER", remote.tunnel_ip.ToString())
        << "endpoint " << remote.key << " moved to " << remote.tunnel_ip.ToString()
        << ": its frames are sent on there for " << options_.redirect_grace.count() << " ms";
  }
}

DatapathStatus Datapath::StatusNow() const {
  DatapathStatus status;
  for (const auto& [id, port] : ports_) {
    PortStatus shown{.name = port.name,
                     .kind = port.kind == io::PortKind::kPacket ? "packet" : "tap",
                     .endpoint_id = id,
                     .vni = port.desired.location.vni(),
                     .mac = port.desired.mac.ToString(),
                     .ips = {},
                     .open = port.device != nullptr,
                     .error = port.error,
                     .counters = counters_.port(port.id)};
    for (const auto& ip : port.desired.ips) shown.ips.push_back(ip.ToString());
    status.ports.push_back(std::move(shown));
  }
  std::sort(status.ports.begin(), status.ports.end(),
            [](const PortStatus& a, const PortStatus& b) { return a.name < b.name; });
  status.counters = counters_.Dump();
  for (const auto& [name, value] : io_counters_.Dump()) status.counters[name] = value;
  for (const auto& [name, value] : pool_.Dump()) status.counters[name] = value;
  const auto& gro = coalescer_.counters();
  status.counters["gro.merged_frames"] = gro.merged_frames;
  status.counters["gro.merged_segments"] = gro.merged_segments;
  status.counters["gro.bad_checksum"] = gro.bad_checksum;
  status.counters["gro.no_slot"] = gro.no_slot;
  for (const auto& [name, value] : dhcp_.counters().Dump()) status.counters[name] = value;
  for (const auto& [name, value] : mtu_guard_.counters().Dump()) status.counters[name] = value;
  for (const auto& [name, value] : advertiser_.counters().Dump()) status.counters[name] = value;
  status.overlay_mtu = mtu_guard_.overlay_mtu();
  for (size_t i = 0; i < pipeline::kDropReasonCount; ++i) {
    const auto reason = static_cast<DropReason>(i);
    status.drops[std::string(pipeline::DropReasonName(reason))] = counters_.drops(reason);
  }
  status.networks = networks_.size();
  status.parked = unicast_parking_.size() + solicit_parking_.size() + routed_parking_.size();
  status.resolving = resolving_macs_.size() + resolving_ips_.size();
  status.remotes = remotes_.size();
  status.redirects = redirects_.size();
  status.counters["announce.frames"] = announcements_;
  return status;
}

DatapathStatus Datapath::Status(std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<DatapathStatus>>();
  auto future = promise->get_future();
  Post([this, promise] { promise->set_value(StatusNow()); });
  if (future.wait_for(timeout) != std::future_status::ready) return {};
  return future.get();
}

void Datapath::RunCommands() {
  uint64_t count = 0;
  [[maybe_unused]] auto read_bytes = read(wake_.get(), &count, sizeof(count));
  std::deque<std::function<void()>> commands;
  {
    std::lock_guard lock(commands_mu_);
    commands.swap(commands_);
  }
  for (auto& command : commands) command();
}

void Datapath::Run() {
  using Clock = std::chrono::steady_clock;
  while (!stopping_) {
    // An open trace settles within TraceRecorder::kSettle: the loop wakes often enough to see.
    const std::chrono::milliseconds wait(traces_.active() ? 50 : 500);
    if (!Poll(wait) || options_.poll_after_traffic.count() <= 0) {
      continue;
    }
    // Work was found: poll on (epoll_wait with no timeout, yielding the CPU to anything
    // runnable in between) until a whole window passes without any; while a resolve this loop
    // asked is unanswered, up to poll_while_resolving after the last work (the answer is due
    // within a millisecond or so, and taking it without a wake-up shortens a first packet).
    auto quiet_until = Clock::now() + options_.poll_after_traffic;
    auto resolving_until = Clock::now() + options_.poll_while_resolving;
    while (!stopping_) {
      const auto now = Clock::now();
      const bool resolving = !resolving_macs_.empty() || !resolving_ips_.empty();
      if (now >= quiet_until && !(resolving && now < resolving_until)) break;
      if (Poll(std::chrono::milliseconds(0))) {
        quiet_until = Clock::now() + options_.poll_after_traffic;
        resolving_until = Clock::now() + options_.poll_while_resolving;
      } else {
        sched_yield();
      }
    }
  }
}

bool Datapath::Poll(std::chrono::milliseconds timeout) {
  std::array<epoll_event, 64> events{};
  const int ready = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) {
    DOVE_LOG(kError) << "epoll_wait: " << std::strerror(errno) << "; the data plane stops";
    stopping_ = true;
    return false;
  }
  policy_gate_.SetNow(std::chrono::steady_clock::now());  // the return-flow table's clock
  for (int i = 0; i < ready; ++i) {
    const uint64_t key = events[static_cast<size_t>(i)].data.u64;
    if (key == kWakeKey) {
      RunCommands();
    } else if (key == kUnderlayKey) {
      FromTunnelBatch();
    } else if (key < ports_by_id_.size() && ports_by_id_[key] != nullptr) {
      Port& port = *ports_by_id_[key];  // nullptr: closed in this round
      if (port.device) FromPortBatch(port);
    }
  }
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_port_retry_) RetryPorts();
  if (options_.path_mtu_of && now >= next_path_mtu_) RefreshPathMtus();
  if (!redirects_.empty()) redirects_.Expire(now);
  if (traces_.active()) [[unlikely]] {
    traces_.Expire(now);
    std::erase_if(injections_,
                  [this](const auto& entry) { return traces_.OrderOf(entry.first) == nullptr; });
  }
  return ready > 0;
}

// ---------------------------------------------------------------------------------------------
// The packet paths.

void Datapath::FromPortBatch(Port& port) {
  rx_.clear();
  port.device->Receive(pool_, rx_, io_counters_);
  if (rx_.empty()) return;
  for (Packet* packet : rx_) packet->meta.in_port = port.id;
  ProcessFromPort();
}

void Datapath::ProcessFromPort() {
  from_port_.Process(rx_);
  if (traces_.active()) [[unlikely]] {
    NotePassed("port_security", "from the port's own MAC and addresses");
  }
  responder_.Process(rx_, replies_, &misses_);
  dhcp_.Process(rx_, replies_);
  advertiser_.Process(rx_, replies_);
  SendToPorts(replies_);
  if (!misses_.empty()) {
    if (traces_.active()) [[unlikely]] {
      for (const Packet* packet : misses_) {
        if (packet->meta.trace == 0) continue;
        const auto ip = SolicitedAddress(*packet);
        traces_.Note(*packet, {.stage = "responder",
                               .verdict = "miss",
                               .detail = "the switch does not know " +
                                         (ip ? ip->ToString() : std::string("the address")) +
                                         ": it asks the controller"});
      }
    }
    ParkSolicits(misses_);
  }
  if (rx_.empty()) return;
  const uint32_t vni = rx_[0]->meta.vni;  // one port: one network
  // Frames to the network's router MAC go to the router, the rest to L2Forward.
  if (const pipeline::NetworkTables* network = tables_.Network(vni);
      network != nullptr && !network->router_mac.IsZero()) {
    const net::MacAddress router_mac = network->router_mac;
    rx_.Retain([&](Packet* packet) {
      if (pipeline::DestinationMac(*packet) != router_mac) return true;
      routed_.Push(packet);
      return false;
    });
    if (!routed_.empty()) Route(routed_);
  }
  if (!rx_.empty()) Forward(rx_, vni);
}

void Datapath::Route(PacketBatch& batch) {
  router_.Process(batch, {to_ports_, to_tunnels_, replies_, &routed_misses_});
  SendRouted();
  if (!routed_misses_.empty()) ParkRouted(routed_misses_);
}

void Datapath::SendRouted() {
  SendToTunnels(to_tunnels_);
  SendToPorts(to_ports_);
  SendToPorts(replies_);
}

void Datapath::Forward(PacketBatch& batch, uint32_t vni) {
  l2_forward_.Process(batch, to_ports_, to_tunnels_);
  SendToTunnels(to_tunnels_);
  SendToPorts(to_ports_);
  if (unicast_parking_.size(vni) > 0) ResolveParked(vni);
}

void Datapath::FromTunnelBatch() {
  rx_.clear();
  underlay_.Receive(pool_, rx_, io_counters_);
  if (rx_.empty()) return;
  if (traces_.active()) [[unlikely]]
    MarkTracedFromTunnel();
  from_tunnel_.Process(rx_, to_ports_, &to_tunnels_);
  coalescer_.Process(to_ports_);
  SendToPorts(to_ports_);
  SendToTunnels(to_tunnels_);  // redirected to endpoints that moved away
}

void Datapath::SendToPorts(PacketBatch& batch) {
  if (traces_.active()) [[unlikely]]
    InterceptTraced(batch);
  // Group by port, keeping each port's packets in order: one Send per port and round.
  while (!batch.empty()) {
    const PortId port_id = batch[0]->meta.out_port;
    send_.clear();
    batch.Retain([&](Packet* packet) {
      if (packet->meta.out_port != port_id) return true;
      send_.Push(packet);
      return false;
    });
    Port* port = port_id < ports_by_id_.size() ? ports_by_id_[port_id] : nullptr;
    if (port == nullptr || !port->device) {
      for (Packet* packet : send_) {
        pipeline::DropPacket(DropReason::kPortWriteFailed, packet, counters_, pool_);
      }
      send_.clear();
      continue;
    }
    const size_t count = send_.size();
    const size_t sent = port->device->Send(pool_, send_, io_counters_);
    counters_.Drops(DropReason::kPortWriteFailed, count - sent, port_id, packet::kNoVni);
  }
}

void Datapath::SendToTunnels(PacketBatch& batch) {
  if (batch.empty()) return;
  mtu_guard_.Process(batch, mtu_replies_);
  SendToPorts(mtu_replies_);
  if (batch.empty()) return;
  encap_.Process(batch);
  if (traces_.active()) [[unlikely]]
    NoteEncapsulated(batch);
  const size_t count = batch.size();
  const uint32_t vni = count > 0 ? batch[0]->meta.vni : packet::kNoVni;
  const size_t sent = underlay_.Send(pool_, batch, io_counters_);
  counters_.Drops(DropReason::kTunnelSendFailed, count - sent, packet::kNoPort, vni);
}

// ---------------------------------------------------------------------------------------------
// Misses.

void Datapath::ResolveParked(uint32_t vni) {
  scratch_.clear();
  unicast_parking_.Take(vni, scratch_);
  for (Packet* packet : scratch_) {
    if (const net::MacAddress mac = pipeline::DestinationMac(*packet);
        resolving_macs_.insert({vni, mac}).second) {
      resolver_.ResolveMac(vni, mac, [this, vni, mac] {
        Post([this, vni, mac] {
          resolving_macs_.erase({vni, mac});
          Resolved(vni);
        });
      });
    }
    unicast_parking_.Park(packet);  // just taken out: there is room
  }
  scratch_.clear();
}

void Datapath::ParkSolicits(PacketBatch& misses) {
  for (Packet* packet : misses) {
    auto ip = SolicitedAddress(*packet);
    if (!ip) {
      pipeline::DropPacket(DropReason::kArpTargetUnknown, packet, counters_, pool_);
      continue;
    }
    if (!solicit_parking_.Park(packet)) {
      pipeline::DropPacket(DropReason::kParkOverflow, packet, counters_, pool_);
      continue;
    }
    AskIp(packet->meta.vni, *ip);
  }
  misses.clear();
}

void Datapath::ParkRouted(PacketBatch& misses) {
  for (Packet* packet : misses) {
    const auto ip = pipeline::Router::DestinationIp(*packet);
    if (!ip) {
      router_.Unreachable(packet, replies_);
      continue;
    }
    if (!routed_parking_.Park(packet)) {
      pipeline::DropPacket(DropReason::kParkOverflow, packet, counters_, pool_);
      continue;
    }
    AskIp(packet->meta.vni, *ip);  // the sender's VNI: the controller resolves domain-wide
  }
  misses.clear();
  SendToPorts(replies_);
}

void Datapath::AskIp(uint32_t vni, const net::IpAddress& ip) {
  if (!resolving_ips_.insert({vni, ip}).second) return;
  resolver_.ResolveIp(vni, ip, [this, vni, ip] {
    Post([this, vni, ip] {
      resolving_ips_.erase({vni, ip});
      Resolved(vni);
    });
  });
}

void Datapath::Resolved(uint32_t vni) { Retry(vni); }

void Datapath::Retry(uint32_t vni) {
  // Solicitations first: their answers may let the unicast frames behind them go.
  scratch_.clear();
  solicit_parking_.Take(vni, scratch_);
  responder_.Process(scratch_, replies_, &misses_);
  SendToPorts(replies_);
  // The responder takes every ARP request and NS; anything left is not one (never in practice).
  for (Packet* packet : scratch_) {
    pipeline::DropPacket(DropReason::kResolveFailed, packet, counters_, pool_);
  }
  scratch_.clear();
  for (Packet* packet : misses_) {
    auto ip = SolicitedAddress(*packet);
    if (ip && resolving_ips_.count({vni, *ip}) != 0 && solicit_parking_.Park(packet)) {
      continue;  // still being asked (another address of the same VNI answered)
    }
    pipeline::DropPacket(ip ? DropReason::kResolveFailed : DropReason::kArpTargetUnknown, packet,
                         counters_, pool_);
  }
  misses_.clear();

  // Routed packets: the answer put the endpoint in the remote table (or did not).
  routed_parking_.Take(vni, scratch_);
  if (!scratch_.empty()) {
    router_.Process(scratch_, {to_ports_, to_tunnels_, replies_, &routed_misses_});
    for (Packet* packet : routed_misses_) {
      const auto ip = pipeline::Router::DestinationIp(*packet);
      if (ip && resolving_ips_.count({vni, *ip}) != 0 && routed_parking_.Park(packet)) continue;
      router_.Unreachable(packet, replies_);
    }
    routed_misses_.clear();
    SendRouted();
  }

  unicast_parking_.Take(vni, scratch_);
  if (scratch_.empty()) return;
  l2_forward_.Process(scratch_, to_ports_, to_tunnels_);
  SendToTunnels(to_tunnels_);
  SendToPorts(to_ports_);
  // Parked again: unknown still. Keep those whose MAC is still being asked, drop the rest.
  unicast_parking_.Take(vni, scratch_);
  for (Packet* packet : scratch_) {
    const net::MacAddress mac = pipeline::DestinationMac(*packet);
    if (resolving_macs_.count({vni, mac}) != 0 && unicast_parking_.Park(packet)) continue;
    pipeline::DropPacket(DropReason::kResolveFailed, packet, counters_, pool_);
  }
  scratch_.clear();
}

// ---------------------------------------------------------------------------------------------
// Ports, networks, remotes.

void Datapath::UpsertNetwork(const DesiredNetwork& network) {
  if (auto added = tables_.UpsertNetwork(network.Settings()); !added) {
    DOVE_LOG(kWarning).With("VNI", network.vni)
        << "network " << network.vni << ": " << added.error();
    return;
  }
  networks_[network.vni] = network;
  // Ports of this network waiting for it.
  for (auto& [id, port] : ports_) {
    if (port.desired.location.vni() == network.vni && tables_.Port(port.id) == nullptr) {
      InstallPort(port);
    }
  }
}

void Datapath::RemoveNetwork(uint32_t vni) {
  if (networks_.erase(vni) == 0) return;
  tables_.RemoveNetwork(vni);
  unicast_parking_.Take(vni, scratch_);
  solicit_parking_.Take(vni, scratch_);
  routed_parking_.Take(vni, scratch_);
  for (Packet* packet : scratch_) {
    pipeline::DropPacket(DropReason::kUnknownNetwork, packet, counters_, pool_);
  }
  scratch_.clear();
}

void Datapath::UpsertRemote(const DesiredRemote& remote) {
  remotes_.Upsert(remote.key, remote.vni, remote.mac, remote.tunnel_ip, remote.ips);
}

void Datapath::UpsertPort(DesiredPort desired) {
  const std::string endpoint_id = PortKey(desired);
  auto existing = ports_.find(endpoint_id);
  const io::PortKind kind = KindOf(desired);
  if (existing != ports_.end() &&
      (existing->second.name != desired.port_name || existing->second.kind != kind)) {
    RemovePort(endpoint_id);  // renamed: the old device goes, the new one is opened
    existing = ports_.end();
  }
  if (auto owner = port_owner_.find(desired.port_name);
      owner != port_owner_.end() && owner->second != endpoint_id) {
    DOVE_LOG(kWarning).With("ENDPOINT", endpoint_id).With("PORT", desired.port_name)
        << "endpoints " << owner->second << " and " << endpoint_id << " both name port "
        << desired.port_name << "; the second is ignored";
    return;
  }
  if (existing == ports_.end()) {
    existing = ports_.try_emplace(endpoint_id).first;
    Port& port = existing->second;
    if (!free_port_ids_.empty()) {
      port.id = free_port_ids_.back();
      free_port_ids_.pop_back();
    } else {
      port.id = static_cast<PortId>(ports_by_id_.size());
      ports_by_id_.push_back(nullptr);
    }
    ports_by_id_[port.id] = &port;
    counters_.AddPort(port.id);
    port.name = desired.port_name;
    port.kind = kind;
    port_owner_[port.name] = endpoint_id;
  }
  Port& port = existing->second;
  port.desired = std::move(desired);
  InstallPort(port);
  if (!port.device) {
    OpenPort(port);
  } else if (port.desired.location.port_name() != port.name) {
    // Open, but the controller has not recorded the name yet (the last Attach was lost).
    resolver_.PortOpened(port.desired.location, port.name);
  }
}

void Datapath::InstallPort(Port& port) {
  pipeline::LocalPort local{.id = port.id,
                            .vni = port.desired.location.vni(),
                            .mac = port.desired.mac,
                            .ips = port.desired.ips};
  if (auto added = tables_.UpsertPort(std::move(local)); !added) {
    tables_.RemovePort(port.id);
    if (port.error != added.error()) {
      DOVE_LOG(kWarning).With("PORT", port.name) << "port " << port.name << ": " << added.error();
    }
    port.error = added.error();
  } else if (port.device) {
    port.error.clear();
  }
}

void Datapath::RemovePort(const std::string& endpoint_id) {
  auto it = ports_.find(endpoint_id);
  if (it == ports_.end()) return;
  Port& port = it->second;
  DOVE_LOG(kInfo).With("PORT", port.name).With("ENDPOINT", endpoint_id)
      << "port " << port.name << " removed (endpoint " << endpoint_id << " gone)";
  ClosePort(port, /*remove=*/true);
  tables_.RemovePort(port.id);
  ports_by_id_[port.id] = nullptr;
  free_port_ids_.push_back(port.id);
  port_owner_.erase(port.name);
  ports_.erase(it);
}

void Datapath::OpenPort(Port& port) {
  auto device = port_factory_.OpenPort(port.name, port.kind, port.id);
  if (!device) {
    if (port.error != device.error()) {
      DOVE_LOG(kWarning).With("PORT", port.name) << "port " << port.name << ": " << device.error();
    }
    port.error = device.error();
    return;
  }
  epoll_event event{.events = EPOLLIN, .data = {.u64 = port.id}};
  if ((*device)->fd() >= 0 &&
      epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, (*device)->fd(), &event) != 0) {
    port.error = std::string("epoll_ctl: ") + std::strerror(errno);
    return;
  }
  port.device = std::move(*device);
  if (tables_.Port(port.id) != nullptr) {
    port.error.clear();
    // A VM that solicited before its port was open learns its prefixes now.
    if (advertiser_.Announce(port.id, replies_)) SendToPorts(replies_);
    AnnouncePort(port);
  }
  DOVE_LOG(kInfo).With("PORT", port.name).With("ENDPOINT", port.desired.location.endpoint_id())
      << "port " << port.name << " open for endpoint " << port.desired.location.endpoint_id();
  if (port.desired.location.port_name() != port.name) {
    resolver_.PortOpened(port.desired.location, port.name);
  }
}

void Datapath::AnnouncePort(const Port& port) {
  const uint32_t vni = port.desired.location.vni();
  const pipeline::NetworkTables* network = tables_.Network(vni);
  if (network == nullptr || network->ports.size() < 2) return;
  static constexpr std::array<uint8_t, 16> kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                        0,    0,    0, 0, 0, 0, 0, 1};
  for (const net::IpAddress& ip : port.desired.ips) {
    const std::vector<uint8_t> frame =
        ip.is_v4() ? pipeline::BuildArpReply(port.desired.mac, ip, net::MacAddress::Broadcast(), ip)
                   : pipeline::BuildNeighAdvert(port.desired.mac, ip,
                                                net::MacAddress::ForIpv6Multicast(kAllNodes));
    for (const PortId peer : network->ports) {
      if (peer == port.id) continue;
      Packet* packet = pool_.Alloc(frame.size());
      if (packet == nullptr || !packet->Assign(frame)) {
        if (packet != nullptr) pool_.Free(packet);
        counters_.Drops(DropReason::kPoolExhausted, 1, peer, vni);
        continue;
      }
      pipeline::Classify(*packet);
      packet->meta.out_port = peer;
      packet->meta.vni = vni;
      replies_.Push(packet);
      counters_.Sent(peer, packet->size());
      ++announcements_;
    }
  }
  SendToPorts(replies_);
}

void Datapath::ClosePort(Port& port, bool remove) {
  if (!port.device) return;  // never opened: nothing to close or remove
  if (port.device->fd() >= 0) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, port.device->fd(), nullptr);
  port.device.reset();
  if (!remove) return;
  if (auto removed = port_factory_.RemovePort(port.name, port.kind); !removed) {
    DOVE_LOG(kWarning).With("PORT", port.name) << "port " << port.name << ": " << removed.error();
  }
}

void Datapath::RefreshPathMtus() {
  next_path_mtu_ = std::chrono::steady_clock::now() + options_.path_mtu_every;
  std::unordered_set<net::Ipv4Address> vteps;
  for (const auto& [vni, network] : networks_) {
    vteps.insert(network.flood_tunnel_ips.begin(), network.flood_tunnel_ips.end());
    vteps.insert(network.domain_tunnel_ips.begin(), network.domain_tunnel_ips.end());
  }
  const uint32_t full = mtu_guard_.overlay_mtu() + pipeline::kVxlanOverhead;
  for (const net::Ipv4Address& vtep : vteps) {
    uint32_t path = options_.path_mtu_of(vtep);
    if (path >= full || path <= pipeline::kVxlanOverhead) path = 0;
    const auto known = path_mtus_.find(vtep);
    const uint32_t before = known == path_mtus_.end() ? 0 : known->second;
    if (path == before) continue;
    mtu_guard_.SetPathMtu(vtep, path);
    if (path == 0) {
      path_mtus_.erase(vtep);
      DOVE_LOG(kInfo).With("PEER", vtep.ToString())
          << "path MTU to " << vtep.ToString() << " is back to the link's";
    } else {
      path_mtus_[vtep] = path;
      DOVE_LOG(kInfo).With("PEER", vtep.ToString())
          << "path MTU to " << vtep.ToString() << " is " << path << ": what goes there is held to "
          << path - pipeline::kVxlanOverhead;
    }
  }
  // VTEPs no network names any more.
  for (auto it = path_mtus_.begin(); it != path_mtus_.end();) {
    if (vteps.count(it->first) != 0) {
      ++it;
      continue;
    }
    mtu_guard_.SetPathMtu(it->first, 0);
    it = path_mtus_.erase(it);
  }
}

void Datapath::RetryPorts() {
  next_port_retry_ = std::chrono::steady_clock::now() + options_.retry_ports_every;
  for (auto& [id, port] : ports_) {
    if (port.device && !port.device->Healthy()) {
      // An interface its owner deleted (a VM stopped): closed, and opened again once it is back.
      DOVE_LOG(kInfo).With("PORT", port.name)
          << "port " << port.name << ": its interface went away";
      ClosePort(port, /*remove=*/false);
      port.error = "no interface " + port.name;
    }
    if (!port.device) OpenPort(port);
  }
}

}  // namespace dove::dswitch::userspace
