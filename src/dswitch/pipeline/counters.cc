#include "dswitch/pipeline/counters.h"

#include <numeric>
#include <string_view>
#include <utility>

namespace dove::dswitch::pipeline {

namespace {

void PutNonZero(std::map<std::string, uint64_t>& out, std::string name, uint64_t value) {
  if (value != 0) out.emplace(std::move(name), value);
}

}  // namespace

void Counters::Drop(DropReason reason, const Packet& packet) {
  const auto i = static_cast<size_t>(reason);
  if (i < drops_.size()) drops_[i]++;
  const PortId port = packet.meta.out_port != kNoPort ? packet.meta.out_port : packet.meta.in_port;
  if (port != kNoPort) MutablePort(port).dropped++;
  if (packet.meta.vni != kNoVni) MutableNetwork(packet.meta.vni).dropped++;
  if (packet.meta.trace != 0) [[unlikely]] {
    Trace(packet, {.stage = "", .verdict = "drop", .detail = {}, .drop = reason});
  }
}

void Counters::Drops(DropReason reason, uint64_t count, PortId port, uint32_t vni) {
  if (count == 0) return;
  const auto i = static_cast<size_t>(reason);
  if (i < drops_.size()) drops_[i] += count;
  if (port != kNoPort) MutablePort(port).dropped += count;
  if (vni != kNoVni) MutableNetwork(vni).dropped += count;
}

PortCounters& Counters::GrowPorts(PortId port) {
  if (port >= kMaxPortId) {
    port_sink_ = {};
    return port_sink_;
  }
  ports_.resize(size_t{port} + 1);
  return ports_[port];
}

NetworkCounters& Counters::AddNetwork(uint32_t vni) {
  if ((vni >> 24) != 0) {
    network_sink_ = {};
    return network_sink_;
  }
  if (page_of_.empty()) page_of_.assign(kPages, 0);
  uint32_t& page = page_of_[vni >> kPageBits];
  if (page == 0) {
    slots_.resize(slots_.size() + kPageSize, 0);
    page = static_cast<uint32_t>(slots_.size() / kPageSize);
  }
  networks_.emplace_back();
  network_vnis_.push_back(vni);
  slots_[(page - 1) * kPageSize + (vni & (kPageSize - 1))] =
      static_cast<uint32_t>(networks_.size());
  return networks_.back();
}

uint64_t Counters::total_drops() const {
  return std::accumulate(drops_.begin(), drops_.end(), uint64_t{0});
}

PortCounters Counters::port(PortId port) const {
  return port < ports_.size() ? ports_[port] : PortCounters{};
}

NetworkCounters Counters::network(uint32_t vni) const {
  const uint32_t slot = Slot(vni);
  return slot == 0 ? NetworkCounters{} : networks_[slot - 1];
}

std::map<std::string, uint64_t> Counters::Dump() const {
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < drops_.size(); ++i) {
    PutNonZero(out, "drop." + std::string(DropReasonName(static_cast<DropReason>(i))), drops_[i]);
  }
  for (size_t id = 0; id < ports_.size(); ++id) {
    const PortCounters& c = ports_[id];
    const std::string prefix = "port." + std::to_string(id) + ".";
    PutNonZero(out, prefix + "received", c.received);
    PutNonZero(out, prefix + "sent", c.sent);
    PutNonZero(out, prefix + "dropped", c.dropped);
    PutNonZero(out, prefix + "received_bytes", c.received_bytes);
    PutNonZero(out, prefix + "sent_bytes", c.sent_bytes);
  }
  for (size_t slot = 0; slot < networks_.size(); ++slot) {
    const NetworkCounters& c = networks_[slot];
    const std::string prefix = "network." + std::to_string(network_vnis_[slot]) + ".";
    PutNonZero(out, prefix + "to_tunnel", c.to_tunnel);
    PutNonZero(out, prefix + "from_tunnel", c.from_tunnel);
    PutNonZero(out, prefix + "redirected", c.redirected);
    PutNonZero(out, prefix + "dropped", c.dropped);
    PutNonZero(out, prefix + "to_tunnel_bytes", c.to_tunnel_bytes);
    PutNonZero(out, prefix + "from_tunnel_bytes", c.from_tunnel_bytes);
  }
  PutNonZero(out, "router.routed", router_.routed);
  PutNonZero(out, "router.echo_replies", router_.echo_replies);
  PutNonZero(out, "router.icmp_errors", router_.icmp_errors);
  PutNonZero(out, "router.icmp_rate_limited", router_.icmp_rate_limited);
  PutNonZero(out, "router.return_flow_passed", router_.return_flow_passed);
  PutNonZero(out, "router.return_flows_full", router_.return_flows_full);
  for (const auto& [id, count] : policy_denied_) PutNonZero(out, "policy." + id + ".denied", count);
  return out;
}

void Counters::PolicyDenied(const std::string& id) {
  if (auto it = policy_denied_.find(id); it != policy_denied_.end()) {
    ++it->second;
  } else {
    policy_denied_.emplace(id, 1);
  }
}

uint64_t Counters::policy_denied(const std::string& id) const {
  const auto it = policy_denied_.find(id);
  return it == policy_denied_.end() ? 0 : it->second;
}

void DropPacket(DropReason reason, Packet* packet, Counters& counters, PacketPool& pool) {
  counters.Drop(reason, *packet);
  pool.Free(packet);
}

}  // namespace dove::dswitch::pipeline
