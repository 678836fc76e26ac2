// ParkingLot: unicast frames to a MAC nobody is known to have, held while the switch asks the
// controller where it is (DESIGN.md: an unknown unicast is resolved, not flooded).
//
// L2Forward parks them; the switch, once a resolve answers (or times out), takes the VNI's
// frames back and runs them through L2Forward again (found: forwarded; still unknown: parked
// again, or dropped by the switch when it gives up). Each VNI holds at most `per_vni` frames,
// so one network's scan of unknown addresses cannot take another's room; the frame that does
// not fit is refused and the caller counts it (park_overflow).
//
// Not thread-safe; owned by the pipeline's caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "dswitch/pipeline/frame.h"

namespace dove::dswitch::pipeline {

class ParkingLot {
 public:
  static constexpr size_t kDefaultPerVni = 64;

  explicit ParkingLot(size_t per_vni = kDefaultPerVni) : per_vni_(per_vni) {}

  // Moves `frame` (whose Frame::vni is set) in; false, and `frame` untouched, when its VNI's
  // lot is full.
  bool Park(Frame& frame);
  // Takes every frame parked for `vni`, in the order they came.
  Batch Take(uint32_t vni);
  size_t size(uint32_t vni) const;

 private:
  size_t per_vni_;
  std::unordered_map<uint32_t, std::vector<Frame>> lots_;
};

}  // namespace dove::dswitch::pipeline
