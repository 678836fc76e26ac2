#include "dswitch/pipeline/parking_lot.h"

#include <utility>

namespace dove::dswitch::pipeline {

bool ParkingLot::Park(Frame& frame) {
  std::vector<Frame>& lot = lots_[frame.vni];
  if (lot.size() >= per_vni_) return false;
  lot.push_back(std::move(frame));
  return true;
}

Batch ParkingLot::Take(uint32_t vni) {
  Batch batch;
  const auto it = lots_.find(vni);
  if (it == lots_.end()) return batch;
  for (Frame& frame : it->second) batch.Push(std::move(frame));
  lots_.erase(it);
  return batch;
}

size_t ParkingLot::size(uint32_t vni) const {
  const auto it = lots_.find(vni);
  return it == lots_.end() ? 0 : it->second.size();
}

}  // namespace dove::dswitch::pipeline
