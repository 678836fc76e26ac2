#include "dswitch/pipeline/parking_lot.h"

namespace dove::dswitch::pipeline {

bool ParkingLot::Park(Packet* packet) {
  auto [it, added] = lots_.try_emplace(packet->meta.vni);
  std::vector<Packet*>& lot = it->second;
  if (added) lot.reserve(per_vni_);
  if (lot.size() >= per_vni_) return false;
  lot.push_back(packet);
  ++total_;
  return true;
}

void ParkingLot::Take(uint32_t vni, PacketBatch& out) {
  const auto it = lots_.find(vni);
  if (it == lots_.end()) return;
  for (Packet* packet : it->second) out.Push(packet);
  total_ -= it->second.size();
  it->second.clear();  // keeps its capacity for the next park
}

void ParkingLot::TakeAll(PacketBatch& out) {
  for (auto& [vni, lot] : lots_) {
    for (Packet* packet : lot) out.Push(packet);
    lot.clear();
  }
  total_ = 0;
}

size_t ParkingLot::size(uint32_t vni) const {
  const auto it = lots_.find(vni);
  return it == lots_.end() ? 0 : it->second.size();
}

}  // namespace dove::dswitch::pipeline
