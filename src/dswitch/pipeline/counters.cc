#include "dswitch/pipeline/counters.h"

#include <numeric>
#include <string_view>

namespace dove::dswitch::pipeline {

namespace {

void PutNonZero(std::map<std::string, uint64_t>& out, std::string name, uint64_t value) {
  if (value != 0) out.emplace(std::move(name), value);
}

}  // namespace

void Counters::Drop(DropReason reason, const Frame& frame) {
  const auto i = static_cast<size_t>(reason);
  if (i < drops_.size()) drops_[i]++;
  if (frame.port != kNoPort) ports_[frame.port].dropped++;
  if (frame.vni != kNoVni) networks_[frame.vni].dropped++;
}

uint64_t Counters::total_drops() const {
  return std::accumulate(drops_.begin(), drops_.end(), uint64_t{0});
}

PortCounters Counters::port(PortId port) const {
  const auto it = ports_.find(port);
  return it == ports_.end() ? PortCounters{} : it->second;
}

NetworkCounters Counters::network(uint32_t vni) const {
  const auto it = networks_.find(vni);
  return it == networks_.end() ? NetworkCounters{} : it->second;
}

std::map<std::string, uint64_t> Counters::Dump() const {
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < drops_.size(); ++i) {
    PutNonZero(out, "drop." + std::string(DropReasonName(static_cast<DropReason>(i))), drops_[i]);
  }
  for (const auto& [id, c] : ports_) {
    const std::string prefix = "port." + std::to_string(id) + ".";
    PutNonZero(out, prefix + "received", c.received);
    PutNonZero(out, prefix + "sent", c.sent);
    PutNonZero(out, prefix + "dropped", c.dropped);
  }
  for (const auto& [vni, c] : networks_) {
    const std::string prefix = "network." + std::to_string(vni) + ".";
    PutNonZero(out, prefix + "to_tunnel", c.to_tunnel);
    PutNonZero(out, prefix + "from_tunnel", c.from_tunnel);
    PutNonZero(out, prefix + "dropped", c.dropped);
  }
  return out;
}

}  // namespace dove::dswitch::pipeline
